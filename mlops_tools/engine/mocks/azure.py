"""Azure answers for the offline preview: resource outputs (`OUTPUTS`, ARM ids and the identity block) and invokes.

Answered as Azure answers (a real answer changes what the program builds): ARM ids from the names the
program gives (user-assigned identities by ``resourceName``), the ``identity`` block's user-assigned map,
Key Vault key URIs with and without version, AKS FQDNs, OIDC issuer and node resource group, and
``listManagedClusterUserCredentials(format=exec)`` with kubelogin's interactive ``--login devicecode``.

Where the mocks still differ from the real API (what an offline preview cannot show):
- Values Azure assigns at creation are known here (ids, principal/client ids, FQDNs, key versions); a
  real ``pulumi preview`` shows them as unknown, so policies decide more offline than under the CLI
  (stack rules fall back on property dependencies for that reason).
- No server-side validation or defaults: a versionless disk-encryption-set key URL, a budget starting
  before the current month, an unknown role definition or principal, a SKU or version Azure no longer
  offers are all accepted; defaulted properties (provisioning state, network defaults) are not filled in.
- No creation-time checks: CMK stores do not check key access, so ordering against key grants is checked
  by the packs' stack rules; Key Vault's firewall is not enforced (ACR with a user-assigned identity
  against a private vault, docs/first-deploy.md); role assignments propagate instantly.
- ``listManagedClusterUserCredentials``: the server is the public ``hcp.westeurope`` FQDN for every cluster
  (real: the private FQDN for private clusters, the cluster's region), with a dummy CA.
- ``getClientConfig``: fixed client/object ids; it says nothing about whether the deployer is a user or a
  service principal (neither does Azure's answer).
- ``listDatabaseKeys`` (Managed Redis): keys derived from the names, stable across runs (real: random).
- Resources without a name input get ``<logical name><8 hex>``; collection names not in
  ``AZURE_COLLECTIONS`` are guessed as ``<kind>s``.
"""

from __future__ import annotations

import base64
from typing import Any, Callable

from mlops_tools.engine.mocks.common import (
    AZURE_SUBSCRIPTION_ID,
    AZURE_TENANT_ID,
    MockContext,
    Outputs,
    stable_hex,
    stable_uuid,
)

# Resource-provider namespaces and collections whose spelling the generic rule below cannot guess.
AZURE_NAMESPACES = {"keyvault": "Microsoft.KeyVault", "dbforpostgresql": "Microsoft.DBforPostgreSQL",
                    "containerservice": "Microsoft.ContainerService", "managedidentity": "Microsoft.ManagedIdentity",
                    "machinelearningservices": "Microsoft.MachineLearningServices",
                    "operationalinsights": "Microsoft.OperationalInsights", "containerregistry": "Microsoft.ContainerRegistry",
                    "redisenterprise": "Microsoft.Cache", "insights": "Microsoft.Insights", "monitor": "Microsoft.Insights",
                    "privatedns": "Microsoft.Network"}
AZURE_COLLECTIONS = {"dbforpostgresql:Server": "flexibleServers",
                     "managedidentity:UserAssignedIdentity": "userAssignedIdentities",
                     "compute:DiskEncryptionSet": "diskEncryptionSets",
                     "redisenterprise:RedisEnterprise": "redisEnterprise",
                     "network:PublicIPAddress": "publicIPAddresses", "privatedns:PrivateZone": "privateDnsZones"}


def _azure_resource(ctx: MockContext) -> Outputs:
    """azure-native ids: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.<Module>/<kind>s/<name>."""
    module, kind = ctx.type.split(":")[1:3]
    name_key = next((k for k in ctx.inputs if k.endswith("Name") and k != "resourceGroupName"
                     and k[: -len("Name")].lower() == kind.lower()), None)
    name = str(ctx.inputs.get(name_key)) if name_key else f"{ctx.name}{ctx.hex(8)}"
    if kind == "ResourceGroup":
        name = str(ctx.inputs.get("resourceGroupName") or name)
        return f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/resourceGroups/{name}", {"name": name, "location": ctx.region}
    group = ctx.inputs.get("resourceGroupName", "rg")
    namespace = AZURE_NAMESPACES.get(module, "Microsoft." + module[0].upper() + module[1:])
    collection = AZURE_COLLECTIONS.get(f"{module}:{kind}", kind[0].lower() + kind[1:] + "s")
    resource_id = f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/resourceGroups/{group}/providers/{namespace}/{collection}/{name}"
    return resource_id, {"name": name, "location": ctx.inputs.get("location", ctx.region)}


def _azure_child(parent_module: str, parent_kind: str, parent_key: str, collection: str, name_key: str):
    """Sub-resources (a vault's keys, a server's configurations): <parent id>/<collection>/<name>."""
    def outputs(ctx: MockContext) -> Outputs:
        parent_id, _ = _azure_resource(MockContext(f"azure-native:{parent_module}:{parent_kind}", ctx.name, ctx.urn,
                                                   {"resourceGroupName": ctx.inputs.get("resourceGroupName", "rg"),
                                                    parent_key: ctx.inputs.get(parent_key, "parent")},
                                                   ctx.region, ctx.provider_inputs))
        if ctx.inputs.get(parent_key):  # the parent's name as given, whatever its name property is called
            parent_id = parent_id.rsplit("/", 1)[0] + f"/{ctx.inputs[parent_key]}"
        name = str(ctx.inputs.get(name_key) or f"{ctx.name}{ctx.hex(8)}")
        return f"{parent_id}/{collection}/{name}", {"name": name}
    return outputs


def _key_vault(ctx: MockContext) -> Outputs:
    resource_id, extra = _azure_resource(ctx)
    properties = dict(ctx.inputs.get("properties") or {})
    properties["vaultUri"] = f"https://{extra['name']}.vault.azure.net/"
    return resource_id, {**extra, "properties": properties}


def _key_vault_key(ctx: MockContext) -> Outputs:
    resource_id, extra = _azure_child("keyvault", "Vault", "vaultName", "keys", "keyName")(ctx)
    uri = f"https://{ctx.inputs.get('vaultName', 'vault')}.vault.azure.net/keys/{extra['name']}"
    return resource_id, {**extra, "keyUri": uri, "keyUriWithVersion": f"{uri}/{ctx.hex(32)}"}


def _user_assigned_identity(ctx: MockContext) -> Outputs:
    """Named by its ``resourceName`` input (``resource_name_`` in Python), as Azure names it."""
    resource_id, extra = _azure_named("resourceName")(ctx)
    return resource_id, {**extra, "principalId": stable_uuid(ctx.urn + "principal"),
                         "clientId": stable_uuid(ctx.urn + "client"), "tenantId": AZURE_TENANT_ID}


def _role_assignment(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("roleAssignmentName") or stable_uuid(ctx.urn))
    scope = str(ctx.inputs.get("scope") or f"/subscriptions/{AZURE_SUBSCRIPTION_ID}")
    return f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name}", {"name": name}


def _azure_identity(ctx: MockContext) -> dict[str, Any]:
    """A managed identity block as Azure returns it: user-assigned ids given as a list come back as a map."""
    identity = ctx.inputs.get("identity")
    if not isinstance(identity, dict) or not isinstance(identity.get("userAssignedIdentities"), list):
        return {}
    assigned = {str(i): {"principalId": stable_uuid(f"{i}principal"), "clientId": stable_uuid(f"{i}client")}
                for i in identity["userAssignedIdentities"]}
    return {"identity": {**identity, "userAssignedIdentities": assigned}}


def _azure_named(name_key: str, **fields: str):
    """A top-level resource named by `name_key`, with outputs derived from its name and location
    (templates use {name} and {location}), e.g. a PostgreSQL server's FQDN."""
    def outputs(ctx: MockContext) -> Outputs:
        resource_id, extra = _azure_resource(ctx)
        given = ctx.inputs.get(name_key)
        if given:
            resource_id = resource_id.rsplit("/", 1)[0] + f"/{given}"
            extra["name"] = str(given)
        values = {"name": extra["name"], "location": str(extra.get("location") or ctx.region).replace(" ", "").lower()}
        return resource_id, {**extra, **{k: v.format(**values) for k, v in fields.items()}}
    return outputs


def _managed_cluster(ctx: MockContext) -> Outputs:
    """AKS: public and private FQDNs, the OIDC issuer URL and the node resource group, as Azure returns them."""
    resource_id, extra = _azure_resource(ctx)
    if ctx.inputs.get("resourceName"):  # the cluster's name property
        extra["name"] = str(ctx.inputs["resourceName"])
        resource_id = resource_id.rsplit("/", 1)[0] + "/" + extra["name"]
    location = str(ctx.inputs.get("location") or ctx.region)
    prefix = ctx.inputs.get("dnsPrefix") or extra["name"]
    oidc = dict(ctx.inputs.get("oidcIssuerProfile") or {})
    if oidc.get("enabled"):
        oidc["issuerURL"] = f"https://{location}.oic.prod-aks.azure.com/{AZURE_TENANT_ID}/{stable_uuid(ctx.urn + 'oidc')}/"
    return resource_id, {**extra, "fqdn": f"{prefix}-{ctx.hex(8)}.hcp.{location}.azmk8s.io",
                         "privateFQDN": f"{prefix}-{ctx.hex(8)}.{stable_uuid(ctx.urn + 'dns')}.privatelink.{location}.azmk8s.io",
                         "oidcIssuerProfile": oidc,
                         "nodeResourceGroup": ctx.inputs.get("nodeResourceGroup") or f"MC_{extra['name']}_{location}"}


def _public_ip(ctx: MockContext) -> Outputs:
    resource_id, extra = _azure_resource(ctx)
    digest = bytes.fromhex(ctx.hex(6))
    return resource_id, {**extra, "ipAddress": f"20.{digest[0]}.{digest[1]}.{digest[2] or 1}"}


# The AKS AAD server application (--server-id) and the Azure CLI client app AKS puts in user kubeconfigs.
AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
AKS_AAD_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"


def _aks_user_kubeconfig(args: dict[str, Any]) -> dict[str, Any]:
    """listManagedClusterUserCredentials(format=exec) as AKS answers it for a managed-Entra cluster:
    a kubelogin exec that signs in with the interactive device-code flow (``--login devicecode``)."""
    name = str(args.get("resourceName") or "aks")
    group = str(args.get("resourceGroupName") or "rg")
    server = f"https://{name}.hcp.westeurope.azmk8s.io:443"
    user = f"clusterUser_{group}_{name}"
    token_args = ["get-token", "--environment", "AzurePublicCloud", "--server-id", AKS_AAD_SERVER_ID,
                  "--client-id", AKS_AAD_CLIENT_ID, "--tenant-id", AZURE_TENANT_ID, "--login", "devicecode"]
    config = (f"apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n"
              f"    certificate-authority-data: {base64.b64encode(b'offline-ca').decode()}\n"
              f"contexts:\n- name: {name}\n  context: {{cluster: {name}, user: {user}}}\n"
              f"current-context: {name}\nusers:\n- name: {user}\n  user:\n    exec:\n"
              f"      apiVersion: client.authentication.k8s.io/v1beta1\n      command: kubelogin\n"
              f"      args: [{', '.join(token_args)}]\n      env: null\n"
              f"      interactiveMode: IfAvailable\n      provideClusterInfo: false\n")
    return {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(config.encode()).decode()}]}


def _object_replication_policy(ctx: MockContext) -> Outputs:
    """Azure assigns the policy id and rule ids on the destination account ("default" asks for new ones);
    the source account's policy repeats them."""
    given = str(ctx.inputs.get("objectReplicationPolicyId") or "default")
    policy_id = stable_uuid(ctx.urn + "policy") if given == "default" else given
    resource_id, _ = _azure_child("storage", "StorageAccount", "accountName", "objectReplicationPolicies",
                                  "objectReplicationPolicyId")(MockContext(
                                      ctx.type, ctx.name, ctx.urn, {**ctx.inputs, "objectReplicationPolicyId": policy_id},
                                      ctx.region, ctx.provider_inputs))
    rules = [{**rule, "ruleId": rule.get("ruleId") or stable_uuid(f"{ctx.urn}rule{index}")}
             for index, rule in enumerate(ctx.inputs.get("rules") or [])]
    return resource_id, {"name": policy_id, "policyId": policy_id, "rules": rules}


def _pricing(ctx: MockContext) -> Outputs:
    """A Defender for Cloud plan at its scope (the subscription): <scope>/providers/Microsoft.Security/pricings/<plan>."""
    name = str(ctx.inputs.get("pricingName") or ctx.name)
    scope = str(ctx.inputs.get("scopeId") or f"/subscriptions/{AZURE_SUBSCRIPTION_ID}")
    return f"/{scope.strip('/')}/providers/Microsoft.Security/pricings/{name}", {"name": name}


OUTPUTS: dict[str, Callable[[MockContext], Outputs]] = {
    "azure-native:security:Pricing": _pricing,
    "azure-native:containerservice:ManagedCluster": _managed_cluster,
    "azure-native:network:PublicIPAddress": _public_ip,
    "azure-native:keyvault:Vault": _key_vault,
    "azure-native:keyvault:Key": _key_vault_key,
    "azure-native:managedidentity:UserAssignedIdentity": _user_assigned_identity,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azure-native:dbforpostgresql:Configuration": _azure_child("dbforpostgresql", "Server", "serverName",
                                                               "configurations", "configurationName"),
    "azure-native:storage:EncryptionScope": _azure_child("storage", "StorageAccount", "accountName",
                                                         "encryptionScopes", "encryptionScopeName"),
    "azure-native:network:Subnet": _azure_child("network", "VirtualNetwork", "virtualNetworkName", "subnets", "subnetName"),
    "azure-native:network:PrivateDnsZoneGroup": _azure_child("network", "PrivateEndpoint", "privateEndpointName",
                                                             "privateDnsZoneGroups", "privateDnsZoneGroupName"),
    "azure-native:privatedns:VirtualNetworkLink": _azure_child("privatedns", "PrivateZone", "privateZoneName",
                                                               "virtualNetworkLinks", "virtualNetworkLinkName"),
    "azure-native:containerservice:AgentPool": _azure_child("containerservice", "ManagedCluster", "resourceName",
                                                            "agentPools", "agentPoolName"),
    "azure-native:managedidentity:FederatedIdentityCredential": _azure_child(
        "managedidentity", "UserAssignedIdentity", "resourceName", "federatedIdentityCredentials",
        "federatedIdentityCredentialResourceName"),
    "azure-native:storage:StorageAccount": _azure_named("accountName"),
    "azure-native:storage:ObjectReplicationPolicy": _object_replication_policy,
    "azure-native:storage:BlobContainer": _azure_child("storage", "StorageAccount", "accountName",
                                                       "blobServices/default/containers", "containerName"),
    "azure-native:dbforpostgresql:Server": _azure_named("serverName",
                                                        fullyQualifiedDomainName="{name}.postgres.database.azure.com"),
    "azure-native:dbforpostgresql:Database": _azure_child("dbforpostgresql", "Server", "serverName",
                                                          "databases", "databaseName"),
    "azure-native:containerregistry:Registry": _azure_named("registryName", loginServer="{name}.azurecr.io"),
    "azure-native:containerregistry:Replication": _azure_child("containerregistry", "Registry", "registryName",
                                                               "replications", "replicationName"),
    "azure-native:redisenterprise:RedisEnterprise": _azure_named("clusterName",
                                                                 hostName="{name}.{location}.redis.azure.net"),
    "azure-native:redisenterprise:Database": _azure_child("redisenterprise", "RedisEnterprise", "clusterName",
                                                          "databases", "databaseName"),
}



def answer(ctx: MockContext) -> Outputs:
    physical_id, extra = OUTPUTS.get(ctx.type, _azure_resource)(ctx)
    return physical_id, {**_azure_identity(ctx), **extra}


def _redis_database_keys(args: dict[str, Any], region: str) -> dict[str, Any]:
    seed = f"{args.get('resourceGroupName')}/{args.get('clusterName')}/{args.get('databaseName')}"
    return {"primaryKey": stable_hex(seed + "primary", 44), "secondaryKey": stable_hex(seed + "secondary", 44)}


INVOKES: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "azure-native:containerservice:listManagedClusterUserCredentials": lambda args, region: _aks_user_kubeconfig(args),
    "azure-native:authorization:getClientConfig": lambda args, region: {
        "clientId": stable_uuid("client"), "objectId": stable_uuid("object"),
        "subscriptionId": AZURE_SUBSCRIPTION_ID, "tenantId": AZURE_TENANT_ID},
    "azure-native:redisenterprise:listDatabaseKeys": _redis_database_keys,
}
