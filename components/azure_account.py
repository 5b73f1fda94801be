"""Azure facts the foundation components share: built-in role GUIDs and the deploying tenant.

Built-in roles are named by their GUID (the same in every tenant; learn.microsoft.com/azure/role-based-
access-control/built-in-roles). Owner, Contributor and the access-administration roles are never used;
assignments go through ``components.storage.azure.grant`` at the narrowest scope.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"  # wrap/unwrap with a key (CMK)
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"  # encrypt/decrypt (AKS KMS plugin)
KEY_VAULT_CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"  # vault management plane, no data access
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"  # join a subnet, manage load balancers in it
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"  # read one resource (AKS: its disk encryption set)
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"  # assign one identity (AKS: the kubelet's)


def tenant_id() -> pulumi.Output[str]:
    """The Entra tenant of the deploying identity (Key Vault and AKS Entra integration need it)."""
    return azure.authorization.get_client_config_output().tenant_id


def deployer() -> pulumi.Output:
    """The identity running the program (``client_id``, ``object_id``, ``tenant_id``): what the provider signed in as."""
    return azure.authorization.get_client_config_output()
