"""Azure helpers every Azure component shares: built-in role ids and least-privilege role assignments.

Built-in roles are named by their GUID (the same in every tenant; learn.microsoft.com/azure/role-based-
access-control/built-in-roles). Owner, Contributor and the access-administration roles are never used.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_azure_native as azure

KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"  # wrap/unwrap with a key (CMK)
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"  # encrypt/decrypt (AKS KMS plugin)
KEY_VAULT_CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"  # vault management plane, no data access
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"  # join a subnet, manage load balancers in it
PRIVATE_DNS_ZONE_CONTRIBUTOR = "b12aa53e-6015-4669-85d0-8515ebb3ae7f"  # records in one private zone


def subscription_id() -> pulumi.Output[str]:
    return azure.authorization.get_client_config_output().subscription_id


def tenant_id() -> pulumi.Output[str]:
    return azure.authorization.get_client_config_output().tenant_id


def role_definition_id(role_guid: str) -> pulumi.Output[str]:
    """The role definition's full id, as role assignments need it."""
    return subscription_id().apply(
        lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}")


def assign_role(resource_name: str, role_guid: str, scope: pulumi.Input[str], principal_id: pulumi.Input[str],
                opts: Optional[pulumi.ResourceOptions] = None, description: str = "") -> azure.authorization.RoleAssignment:
    """Grant `role_guid` to a service principal (a managed identity) at `scope`, the narrowest that works."""
    return azure.authorization.RoleAssignment(
        resource_name, principal_id=principal_id, principal_type="ServicePrincipal",
        role_definition_id=role_definition_id(role_guid), scope=scope, description=description or None, opts=opts)
