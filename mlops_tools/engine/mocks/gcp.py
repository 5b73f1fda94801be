"""GCP answers for the offline preview: resource outputs (`OUTPUTS`, self links and numbers) and invokes.

Where these answers still differ from the real APIs in a way that changes what the program builds
(checked against pulumi-gcp 10.2.0 and the Compute Engine, GKE and Cloud SQL docs):

- ``compute.getZones``: real zone letters only for the regions the stacks use (``ZONE_LETTERS``:
  europe-west4 a/b/c, europe-west1 b/c/d); any other region answers a/b/c, and no zone is ever DOWN.
  The real answer decides the cluster's zones, the DR Bigtable cluster's zone and which zones a GPU
  pool may use.
- ``organizations.getProject``: project number 123456789012 for every project; the real number names
  every Google service agent the key grants go to, and the budget's project filter.
- Nothing is refused: an API that is still disabled, a machine type a zone does not offer, a retired
  GKE or Cloud SQL version, a quota or an organisation policy (e.g. CMEK or external-IP constraints),
  a bucket name taken elsewhere, or a Cloud SQL name reused within a week of its deletion all fail only
  for real. The first three are caught offline by the GCP pack (API dependencies, supported versions)
  and the config check (GPU zones, support windows); the rest are not.
- Server-assigned values have the real shape but not the real value: the GKE endpoint (a 10.x address;
  really an address in the control-plane range, or public in dev), Cloud SQL's private IP (really one
  from the private services range; the tracking database's DNS record carries it), notification
  channel and alert policy numbers, transfer job names.
- Cloud Identity lookups (Google sign-in's pipeline rules): each group has one person
  ``member.<id>@example.com`` and one nested group; really the members are your directory's.
- Budgets are accepted under any credentials; really, user credentials need a quota project (the
  program's billing provider sets it).
"""

from __future__ import annotations

import base64
import json
from typing import Any, Callable

from mlops_tools.engine.mocks.common import GCP_PROJECT, MockContext, Outputs, stable_hex

def _gcp_resource(ctx: MockContext) -> Outputs:
    module, kind = ctx.type.split(":")[1].split("/")
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    project = ctx.inputs.get("project") or ctx.provider_inputs.get("project") or GCP_PROJECT
    path = f"projects/{project}/locations/{ctx.inputs.get('location', ctx.region)}/{kind}s/{name}"
    return path, {"name": name, "project": project, "selfLink": f"https://www.googleapis.com/{module}/v1/{path}"}


def _gcp_project(ctx: MockContext) -> str:
    return str(ctx.inputs.get("project") or ctx.provider_inputs.get("project") or GCP_PROJECT)


def _gcp_key_ring(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    key_ring = f"projects/{_gcp_project(ctx)}/locations/{ctx.inputs.get('location', ctx.region)}/keyRings/{name}"
    return key_ring, {"name": name, "project": _gcp_project(ctx)}


def _gcp_crypto_key(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    return f"{ctx.inputs.get('keyRing', 'projects/p/locations/l/keyRings/r')}/cryptoKeys/{name}", {"name": name}


def _gcp_network(ctx: MockContext) -> Outputs:
    name, project = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}"), _gcp_project(ctx)
    path = f"projects/{project}/global/networks/{name}"
    return path, {"name": name, "project": project, "selfLink": f"https://www.googleapis.com/compute/v1/{path}"}


def _gcp_subnetwork(ctx: MockContext) -> Outputs:
    name, project = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}"), _gcp_project(ctx)
    path = f"projects/{project}/regions/{ctx.inputs.get('region') or ctx.region}/subnetworks/{name}"
    return path, {"name": name, "project": project, "selfLink": f"https://www.googleapis.com/compute/v1/{path}"}


def _gcs_bucket(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    return name, {"name": name, "project": _gcp_project(ctx), "url": f"gs://{name}",
                  "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}"}


def _cloud_sql_instance(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    project, region = _gcp_project(ctx), ctx.inputs.get("region", ctx.region)
    return name, {"name": name, "project": project, "connectionName": f"{project}:{region}:{name}",
                  "privateIpAddress": f"10.{int(ctx.hex(2), 16)}.0.3",
                  "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{project}/instances/{name}"}


def _gke_cluster(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    project, location = _gcp_project(ctx), ctx.inputs.get("location", ctx.region)
    return f"projects/{project}/locations/{location}/clusters/{name}", {
        "name": name, "project": project, "endpoint": f"10.{int(ctx.hex(2), 16)}.0.2",
        "masterAuth": {**(ctx.inputs.get("masterAuth") or {}),
                       "clusterCaCertificate": base64.b64encode(f"ca of {name}".encode()).decode()},
        "selfLink": f"https://container.googleapis.com/v1/projects/{project}/locations/{location}/clusters/{name}"}


def _gcp_service_account(ctx: MockContext) -> Outputs:
    project = _gcp_project(ctx)
    email = f"{ctx.inputs.get('accountId') or ctx.name}@{project}.iam.gserviceaccount.com"
    name = f"projects/{project}/serviceAccounts/{email}"
    return name, {"name": name, "email": email, "member": f"serviceAccount:{email}", "project": project,
                  "uniqueId": str(int(ctx.hex(15), 16))}


def _gcp_iam_grant(ctx: MockContext) -> Outputs:
    return f"{ctx.name}-{ctx.hex(7)}", {"etag": "BwY" + ctx.hex(9)}


def _gcp_numbered(collection: str) -> Callable[[MockContext], Outputs]:
    """Resources the API names with a server-assigned number: projects/<p>/<collection>/<number>."""
    def answer(ctx: MockContext) -> Outputs:
        name = f"projects/{_gcp_project(ctx)}/{collection}/{int(ctx.hex(12), 16)}"
        return name, {"name": name, "project": _gcp_project(ctx)}
    return answer


# Service agents `gcloud beta services identity create` makes: service-<project number>@<domain>.
SERVICE_AGENT_DOMAINS = {"bigtableadmin.googleapis.com": "gcp-sa-bigtable.iam.gserviceaccount.com"}


def _service_identity(ctx: MockContext) -> Outputs:
    service = str(ctx.inputs.get("service"))
    domain = SERVICE_AGENT_DOMAINS.get(service, f"gcp-sa-{service.split('.')[0]}.iam.gserviceaccount.com")
    email = f"service-123456789012@{domain}"
    return f"projects/{_gcp_project(ctx)}/services/{service}", {"email": email, "member": f"serviceAccount:{email}"}


def _transfer_job(ctx: MockContext) -> Outputs:
    """Storage Transfer assigns replication jobs their name (custom names are refused)."""
    name = str(ctx.inputs.get("name") or f"transferJobs/{int(ctx.hex(15), 16)}")
    return name, {"name": name, "project": _gcp_project(ctx)}


OUTPUTS: dict[str, Callable[[MockContext], Outputs]] = {
    "gcp:monitoring/notificationChannel:NotificationChannel": _gcp_numbered("notificationChannels"),
    "gcp:monitoring/alertPolicy:AlertPolicy": _gcp_numbered("alertPolicies"),
    "gcp:storage/transferJob:TransferJob": _transfer_job,
    "gcp:projects/serviceIdentity:ServiceIdentity": _service_identity,
    "gcp:kms/keyRing:KeyRing": _gcp_key_ring,
    "gcp:kms/cryptoKey:CryptoKey": _gcp_crypto_key,
    "gcp:storage/bucket:Bucket": _gcs_bucket,
    "gcp:compute/network:Network": _gcp_network,
    "gcp:compute/subnetwork:Subnetwork": _gcp_subnetwork,
    "gcp:sql/databaseInstance:DatabaseInstance": _cloud_sql_instance,
    "gcp:container/cluster:Cluster": _gke_cluster,
    "gcp:serviceaccount/account:Account": _gcp_service_account,
}
for _scope in ("projects", "folder", "organizations"):
    for _shape in ("Member", "Binding", "Policy"):
        OUTPUTS[f"gcp:{_scope}/iAM{_shape}:IAM{_shape}"] = _gcp_iam_grant


def _render_gcp_iam_policy(args: dict[str, Any]) -> dict[str, Any]:
    """gcp.organizations.getIAMPolicy: policyData as the provider renders it (bindings by role, members sorted)."""
    bindings = []
    for binding in args.get("bindings") or []:
        rendered: dict[str, Any] = {"role": binding["role"], "members": sorted(binding.get("members") or [])}
        if binding.get("condition"):
            rendered["condition"] = binding["condition"]
        bindings.append(rendered)
    policy: dict[str, Any] = {"bindings": sorted(bindings, key=lambda b: b["role"])}
    if args.get("auditConfigs"):
        policy["auditConfigs"] = args["auditConfigs"]
    data = json.dumps(policy, separators=(",", ":"))
    return {"policyData": data, "id": stable_hex(data, 10), "bindings": args.get("bindings") or [],
            "auditConfigs": args.get("auditConfigs") or []}



def answer(ctx: MockContext) -> Outputs:
    return OUTPUTS.get(ctx.type, _gcp_resource)(ctx)


# Zones per region as Compute Engine lists them (cloud.google.com/compute/docs/regions-zones), for the
# regions the stacks use; europe-west1 has no zone a.
ZONE_LETTERS = {"europe-west4": "abc", "europe-west1": "bcd"}


def _zones(args: dict[str, Any], region: str) -> dict[str, Any]:
    """The region's zones (ZONE_LETTERS; a, b, c for regions not listed)."""
    zone_region = args.get("region") or region
    letters = ZONE_LETTERS.get(zone_region, "abc")
    return {"names": [f"{zone_region}-{letter}" for letter in letters], "region": zone_region,
            "project": args.get("project") or GCP_PROJECT, "id": zone_region}


def _transfer_service_account(args: dict[str, Any], region: str) -> dict[str, Any]:
    email = "project-123456789012@storage-transfer-service.iam.gserviceaccount.com"
    return {"email": email, "member": f"serviceAccount:{email}", "subjectId": "108234567890123456789",
            "project": args.get("project") or GCP_PROJECT, "id": email}


def _group_lookup(args: dict[str, Any], region: str) -> dict[str, Any]:
    """Cloud Identity ``groups.lookup``: the group's resource name ``groups/<id>`` (a stable hex id here)."""
    email = str((args.get("groupKey") or {}).get("id", ""))
    return {"name": f"groups/{stable_hex(email, 15)}", "groupKey": {"id": email}, "id": email}


def _transitive_members(args: dict[str, Any], region: str) -> dict[str, Any]:
    """``searchTransitiveMemberships`` of a group: one person (``users/<number>``) and one nested group, in the
    API's shape, so that a program that keeps only people is checked (``members.<group id>@example.com``)."""
    group = str(args.get("group", ""))
    suffix = group.split("/")[-1]
    return {"group": group, "id": group, "memberships": [
        {"member": f"users/1{int(suffix[:8] or '0', 16):011d}", "relationType": "DIRECT",
         "preferredMemberKeys": [{"id": f"member.{suffix[:6]}@example.com", "namespace": ""}],
         "roles": [{"role": "MEMBER", "expiryDetails": [], "restrictionEvaluations": []}]},
        {"member": f"groups/{suffix[::-1]}", "relationType": "DIRECT",
         "preferredMemberKeys": [{"id": f"nested.{suffix[:6]}@example.com", "namespace": ""}],
         "roles": [{"role": "MEMBER", "expiryDetails": [], "restrictionEvaluations": []}]}]}


INVOKES: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "gcp:cloudidentity/getGroupLookup:getGroupLookup": _group_lookup,
    "gcp:cloudidentity/getGroupTransitiveMemberships:getGroupTransitiveMemberships": _transitive_members,
    "gcp:organizations/getProject:getProject": lambda args, region: {
        "projectId": GCP_PROJECT, "number": "123456789012", "name": GCP_PROJECT},
    "gcp:compute/getZones:getZones": _zones,
    "gcp:organizations/getIAMPolicy:getIAMPolicy": lambda args, region: _render_gcp_iam_policy(args),
    "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount": _transfer_service_account,
}
