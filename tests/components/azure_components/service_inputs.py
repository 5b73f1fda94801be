"""Stand-in Azure foundation for the data-service component tests (tracking, registry, features,
monitoring, DR): a resource group, subnets, private DNS zones, Key Vault keys with a user-assigned
identity per domain, and a workload-identity factory, built from plain azure-native resources so
these tests do not depend on how the network, keys and cluster components are wired.

Exports what tests compare against (key URIs, identity ids), because the plan records inputs
and the mocks derive every output from the resource's URN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pulumi
import pulumi_azure_native as azure
import pulumi_kubernetes as k8s

from components.azure_account import KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER
from components.storage.azure import CustomerManagedKey, PrivateEndpointTarget, grant
from mlops_tools.engine.mocks import AZURE_TENANT_ID
from mlops_tools.engine.preview import PreviewResult, preview_program

PRIMARY, DR = "westeurope", "northeurope"
NAME = "mlops-test"
DOMAINS = ("database", "artifacts", "features", "registry", "database-geo", "dr")
OIDC_ISSUER = "https://westeurope.oic.prod-aks.azure.com/tenant/issuer/"


@dataclass
class Services:
    resource_group: azure.resources.ResourceGroup
    keys: dict[str, CustomerManagedKey]
    endpoints: PrivateEndpointTarget
    registry_endpoints: PrivateEndpointTarget
    redis_endpoints: PrivateEndpointTarget
    postgres_subnet_id: pulumi.Output[str]
    postgres_dns_zone_id: pulumi.Output[str]
    workload_identity: Callable[..., azure.managedidentity.UserAssignedIdentity]
    k8s_provider: k8s.Provider


def services() -> Services:
    rg = azure.resources.ResourceGroup("rg", resource_group_name=f"{NAME}-rg", location=PRIMARY)
    vault = azure.keyvault.Vault("vault", resource_group_name=rg.name, vault_name="mlopstestkv",
                                 properties={"tenant_id": AZURE_TENANT_ID, "sku": {"family": "A", "name": "premium"},
                                             "enable_rbac_authorization": True, "enable_purge_protection": True})
    keys = {}
    for domain in DOMAINS:
        key = azure.keyvault.Key(f"key-{domain}", resource_group_name=rg.name, vault_name=vault.name,
                                 key_name=domain, properties={"kty": "RSA", "key_size": 3072, "rotation_policy": {
                                     "attributes": {"expiry_time": "P2Y"},
                                     "lifetime_actions": [{"action": {"type": "rotate"},
                                                           "trigger": {"time_after_create": "P11M"}}]}})
        identity = azure.managedidentity.UserAssignedIdentity(f"id-{domain}", resource_group_name=rg.name,
                                                              resource_name_=f"{NAME}-{domain}")
        key_grant = grant(f"grant-{domain}", scope=key.id, role_guid=KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
                          principal_id=identity.principal_id, opts=pulumi.ResourceOptions(),
                          description=f"use the {domain} key")
        keys[domain] = CustomerManagedKey(vault_uri=vault.properties.vault_uri, key_name=key.name, key_uri=key.key_uri,
                                          key_uri_with_version=key.key_uri_with_version,
                                          identity_id=identity.id, identity_client_id=identity.client_id,
                                          grant=key_grant)
        pulumi.export(f"keyUri:{domain}", key.key_uri)
        pulumi.export(f"keyName:{domain}", key.name)
        pulumi.export(f"identity:{domain}", identity.id)

    def subnet(name: str) -> pulumi.Output[str]:
        return rg.id.apply(lambda i: f"{i}/providers/Microsoft.Network/virtualNetworks/{NAME}-vnet/subnets/{name}")

    def zone(name: str) -> pulumi.Output[str]:
        return rg.id.apply(lambda i: f"{i}/providers/Microsoft.Network/privateDnsZones/{name}")

    def workload_identity(name: str, namespace: str, service_account: str, opts: pulumi.ResourceOptions):
        identity = azure.managedidentity.UserAssignedIdentity(name, resource_group_name=rg.name,
                                                              resource_name_=name, opts=opts)
        azure.managedidentity.FederatedIdentityCredential(
            name, resource_group_name=rg.name, resource_name_=identity.name, issuer=OIDC_ISSUER,
            subject=f"system:serviceaccount:{namespace}:{service_account}", audiences=["api://AzureADTokenExchange"],
            opts=opts)
        return identity

    endpoints = PrivateEndpointTarget(subnet("private-endpoints"), zone("privatelink.blob.core.windows.net"))
    return Services(
        resource_group=rg, keys=keys, endpoints=endpoints,
        registry_endpoints=PrivateEndpointTarget(subnet("private-endpoints"), zone("privatelink.azurecr.io")),
        redis_endpoints=PrivateEndpointTarget(subnet("private-endpoints"), zone("privatelink.redis.azure.net")),
        postgres_subnet_id=subnet("postgres"),
        postgres_dns_zone_id=zone(f"{NAME}.private.postgres.database.azure.com"),
        workload_identity=workload_identity,
        k8s_provider=k8s.Provider("k8s", kubeconfig="{}"))


def preview(program: Callable[[], Any]) -> PreviewResult:
    return preview_program(program, project="mlops-platform", stack="test",
                           config={"mlops:cloud": "azure", "mlops:region": PRIMARY})


def role_guid(assignment: dict[str, Any]) -> str:
    return assignment["inputs"]["roleDefinitionId"].rsplit("/", 1)[1]


def key_grant_urn(result: PreviewResult, domain: str) -> str:
    """The URN of the stand-in grant that lets the `domain` key's identity use the key."""
    [assignment] = [r for r in result.by_type("azure-native:authorization:RoleAssignment") if r["name"] == f"grant-{domain}"]
    return assignment["urn"]


def component_grants(result: PreviewResult) -> list[dict[str, Any]]:
    """The role assignments the component under test made (not the stand-in key grants above)."""
    return [r for r in result.by_type("azure-native:authorization:RoleAssignment") if not r["name"].startswith("grant-")]
