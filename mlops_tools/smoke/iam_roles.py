"""Least privilege on GCP and Azure, where no emulator enforces IAM: each permission Feast's calls need is
looked up in the roles the plan grants Feast's identity, from the clouds' published role definitions
(``roles/gcp.json``, ``roles/azure.json``: source and date inside), with the bindings' scopes and IAM
conditions applied.

Feast's calls: on GCP the GCS calls are recorded from the GCS emulator's request log of a real Feast run
(``recorded_gcs_needs``); the Bigtable calls are those of Feast 0.50.0's Bigtable online store
(``update``: Table.exists, create, list_column_families, column_family.create; ``online_write_batch``:
mutate_rows; ``online_read``: read_rows), since the emulator keeps no log. Azure's are those of Feast's
Azure registry store (blob exists/download, upload with overwrite) and the offline store's adlfs
(list, read, write), by Azure's data actions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

ROLES = Path(__file__).resolve().parent / "roles"


@dataclass(frozen=True)
class Need:
    step: str
    call: str
    permission: str
    resource: str  # the full resource name the permission is checked on


def role_data(cloud: str) -> dict[str, Any]:
    return json.loads((ROLES / f"{cloud}.json").read_text())


# ---------------------------------------------------------------------------------------------- GCP

_GCS_REQUEST = re.compile(r'"(GET|POST|PUT|PATCH|DELETE) (/(?:download/|upload/)?storage/v1/b/([^/?" ]+)(/o(?:/([^?" ]+))?)?)')


def recorded_gcs_needs(log_text: str) -> list[Need]:
    """GCS JSON API requests from gcp-storage-emulator's log, as the IAM permissions they need."""
    from urllib.parse import unquote

    needs: set[Need] = set()
    for method, path, bucket, objects, name in _GCS_REQUEST.findall(log_text):
        bucket_name = f"projects/_/buckets/{bucket}"
        if not objects:
            if method == "GET":
                needs.add(Need("gcs", f"{method} {path}", "storage.buckets.get", bucket_name))
            continue
        if not name and method == "GET":
            needs.add(Need("gcs", f"{method} {path}", "storage.objects.list", bucket_name))
        elif name and method == "GET":
            needs.add(Need("gcs", f"{method} {path}", "storage.objects.get", f"{bucket_name}/objects/{unquote(name)}"))
        elif name and method == "DELETE":
            needs.add(Need("gcs", f"{method} {path}", "storage.objects.delete", f"{bucket_name}/objects/{unquote(name)}"))
    # Uploads name their object in the upload id the emulator logs ("upload_id=<bucket>:<object>:<time>").
    writes: dict[str, set[str]] = {}
    for upload_id in set(re.findall(r"upload_id=([^&\s\"]+)", log_text)):
        bucket, object_name, _ = unquote(upload_id.replace("+", " ")).split(":", 2)
        writes.setdefault(f"projects/_/buckets/{bucket}/objects/{object_name}", set()).add(upload_id)
    for resource, ids in writes.items():
        needs.add(Need("gcs", "upload", "storage.objects.create", resource))
        if len(ids) > 1:  # writing over an existing object (the registry on every commit) also needs delete
            needs.add(Need("gcs", "upload over an existing object", "storage.objects.delete", resource))
    return sorted(needs, key=lambda n: (n.permission, n.resource))


def bigtable_needs(instance: str) -> list[Need]:
    return [Need(step, call, permission, instance) for step, call, permission in (
        ("apply", "GetTable (Table.exists, list_column_families)", "bigtable.tables.get"),
        ("apply", "CreateTable", "bigtable.tables.create"),
        ("apply", "ModifyColumnFamilies", "bigtable.tables.update"),
        ("materialize", "MutateRows", "bigtable.tables.mutateRows"),
        ("serve", "ReadRows", "bigtable.tables.readRows"),
    )]


_CLAUSE = re.compile(r'^resource\.name(?: == "([^"]+)"|\.startsWith\("([^"]+)"\))$')


def condition_holds(expression: Optional[str], resource: str) -> bool:
    """The IAM condition forms the plan writes: ``resource.name == "..."`` / ``.startsWith("...")`` joined by ||."""
    if not expression:
        return True
    for clause in (part.strip() for part in expression.split("||")):
        match = _CLAUSE.match(clause)
        if not match:
            raise ValueError(f"IAM condition clause {clause!r} is not modelled by the smoke check")
        equals, prefix = match.groups()
        if (equals is not None and resource == equals) or (prefix is not None and resource.startswith(prefix)):
            return True
    return False


def gcp_bindings(plan: Any, member: str) -> list[dict[str, Any]]:
    """(role permissions, scope, condition) of every binding the plan gives ``member``."""
    data = role_data("gcp")["roles"]
    custom = {f"{r['inputs']['roleId']}": r["inputs"]["permissions"]
              for r in plan.resources("gcp:projects/iAMCustomRole:IAMCustomRole")}
    bindings = []
    for resource in plan.resources("gcp:"):
        inputs = resource["inputs"]
        if inputs.get("member") != member or "role" not in inputs:
            continue
        role = inputs["role"]
        if role.startswith("projects/") and "/roles/" in role:
            permissions = custom.get(role.rsplit("/", 1)[1])
        else:
            permissions = data.get(role)
        if permissions is None:
            raise ValueError(f"{plan.stack}: {resource['name']} grants {role}, which roles/gcp.json does not define")
        if "bucket" in inputs:
            scope = f"projects/_/buckets/{inputs['bucket']}"
        elif "instance" in inputs:
            scope = f"instance:{inputs['instance']}"
        else:
            scope = resource["type"]
        bindings.append({"role": role, "permissions": set(permissions), "scope": scope,
                         "condition": (inputs.get("condition") or {}).get("expression"), "name": resource["name"]})
    return bindings


def gcp_missing(bindings: Iterable[dict[str, Any]], needs: Iterable[Need]) -> list[str]:
    """Every need no binding satisfies, said as "<permission> on <resource> (<call>)"."""
    bindings = list(bindings)
    missing = []
    for need in needs:
        if not any(need.permission in b["permissions"] and need.resource.startswith(b["scope"])
                   and condition_holds(b["condition"], need.resource) for b in bindings):
            missing.append(f"{need.permission} on {need.resource} ({need.step}: {need.call})")
    return missing


# -------------------------------------------------------------------------------------------- Azure

BLOB = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"


def azure_feast_needs(account: str, container: str) -> list[Need]:
    scope = f"/storageAccounts/{account}/blobServices/default/containers/{container}"
    return [Need(step, call, f"{BLOB}/{action}", scope) for step, call, action in (
        ("registry", "Get Blob Properties (BlobClient.exists)", "read"),
        ("registry", "Get Blob (download_blob)", "read"),
        ("registry", "Put Blob with overwrite (upload_blob)", "write"),
        ("offline", "List Blobs / Get Blob (adlfs)", "read"),
        ("offline", "Put Blob / Put Block List (adlfs)", "write"),
    )]


_ABAC_ACTION = re.compile(r"ActionMatches\{'([^']+)'\}")
_ABAC_PATH = re.compile(r"^\(\((.*)\) OR \(@Resource\[" + re.escape(BLOB) + r":path\] StringStartsWith '([^']*)'\)\)$")


def abac_allows(condition: Optional[str], permission: str, resource: str) -> bool:
    """The ABAC condition form the plan writes (components/storage/azure.py ``blob_prefix_condition``): the
    listed blob actions only on blobs whose path starts with the prefix; listing (read with sub-operation
    Blob.List, a need on the container itself) is exempt when the condition says so. Other forms stop."""
    if not condition:
        return True
    match = _ABAC_PATH.match(condition)
    if not match:
        raise ValueError(f"ABAC condition {condition!r} is not modelled by the smoke check")
    guarded, prefix = set(_ABAC_ACTION.findall(match.group(1))), match.group(2)
    if permission not in guarded:
        return True
    if "/blobs/" not in resource:  # a need on the container: listing
        return permission == f"{BLOB}/read" and "NOT SubOperationMatches{'Blob.List'}" in match.group(1)
    return resource.split("/blobs/", 1)[1].startswith(prefix)


def azure_missing(plan: Any, parent_type: str, needs: Iterable[Need]) -> list[str]:
    """``parent_type``: the component type whose role assignments count, or a resource name (``name:<x>``)."""
    data = role_data("azure")["roles"]
    grants = []
    for resource in plan.resources("azure-native:authorization:RoleAssignment"):
        if parent_type.startswith("name:"):
            if resource["name"] != parent_type[5:]:
                continue
        elif f"{parent_type}::" not in (resource.get("parent") or ""):
            continue
        guid = resource["inputs"]["roleDefinitionId"].rsplit("/", 1)[1]
        role = data.get(guid)
        if role is None:
            continue  # not a storage data role (e.g. the key's crypto role)
        scope = resource["inputs"]["scope"]
        grants.append((set(role["dataActions"]), scope[scope.find("/storageAccounts/"):],
                       resource["inputs"].get("condition")))
    missing = []
    for need in needs:  # a grant on the container or on its account covers the container's blobs
        if not any(need.permission in actions and need.resource.startswith(scope)
                   and abac_allows(condition, need.permission, need.resource) for actions, scope, condition in grants):
            missing.append(f"{need.permission} on {need.resource} ({need.step}: {need.call})")
    return missing
