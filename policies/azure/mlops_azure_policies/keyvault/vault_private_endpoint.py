"""Every key vault has a private endpoint, so clients inside the VNet reach it without a public path.

With public access disabled (azure-keyvault-vault-disallow-public-network-access) a vault without a
private endpoint is reachable only by trusted Azure services: the CSI secret store, External
Secrets and operators' tooling inside the VNet cannot use it. Matched by the endpoint's
privateLinkServiceId (literal vault name) or the engine's dependency on the vault.
"""
from mlops_policy import CIS_AZURE, ISO27001, SOC2, StackRule, cannot_check, correlate, is_unknown, violation

from .._azure import azure_types, of_types

VAULT = "azure-native:keyvault:Vault"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"


def check(stack, config):
    vaults = of_types(stack.resources, azure_types(VAULT))
    served, undecided = set(), False
    for endpoint in of_types(stack.resources, azure_types(PRIVATE_ENDPOINT)):
        for connection in (endpoint.props.get("privateLinkServiceConnections") or []) + \
                (endpoint.props.get("manualPrivateLinkServiceConnections") or []):
            if is_unknown(connection):
                undecided = True
                continue
            target = (connection or {}).get("privateLinkServiceId")
            if "vault" not in [str(g).lower() for g in (connection or {}).get("groupIds") or []]:
                continue
            found = correlate(endpoint, "privateLinkServiceConnections", vaults,
                              lambda v, value: isinstance(v.props.get("vaultName"), str) and
                              value.lower().endswith(f"/vaults/{v.props['vaultName'].lower()}"), value=target)
            served.update(v.urn for v in found.matches)
            undecided = undecided or not found.decided
    for vault in vaults:
        if vault.urn in served:
            continue
        if undecided:
            yield cannot_check("PrivateEndpoint privateLinkServiceId", vault)
        else:
            yield violation(f"key vault {vault.name} has no private endpoint: clients in the VNet have no private "
                            "path to it.", vault)


RULE = StackRule(
    name="azure-keyvault-vault-require-private-endpoint",
    description="Key vaults must have a private endpoint (group id 'vault').",
    severity="medium",
    remediation="Add azure_native.network.PrivateEndpoint with private_link_service_connections=[{'group_ids': ['vault'], "
                "'private_link_service_id': vault.id}] and a privatelink.vaultcore.azure.net DNS zone group.",
    frameworks=CIS_AZURE("8.7") + SOC2("CC6.6") + ISO27001("A.8.20"),
    enforcement="mandatory",
    tags=("keyvault", "network"),
    resource_types=azure_types(VAULT, PRIVATE_ENDPOINT),
    check=check,
)
