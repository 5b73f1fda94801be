"""Azure keys: one Key Vault key per data domain, a managed identity per domain to use it, DR twins.

The vault authorizes with Azure RBAC (no access policies), keeps soft delete and purge protection on,
and has public network access disabled: clients reach it through a private endpoint in the VNet,
and the Azure services that wrap data keys with it (Storage, PostgreSQL, disk encryption sets, AKS
KMS) come in as trusted services (``bypass: AzureServices``).

Each domain key (RSA 2048, the size every consumer here accepts, AKS KMS included) rotates every 90
days through its rotation policy. No version expiry is set: consumers that pin a key version (the
AKS KMS plugin) must keep working after a rotation; the others reference the key without a version
and follow rotations on their own.

Services reach their key through ``identities[domain]``, a user-assigned managed identity holding
"Key Vault Crypto Service Encryption User" on that one key (not the vault): a storage account or
Postgres server configured with that identity can wrap/unwrap with its domain's key and nothing else.

Outputs (contract in components.keys, Azure spelling):
- ``keys[domain]`` (``keyvault.Key``; also ``.artifacts``, ``.database``...), ``key_arns[domain]``:
  the versionless key URI (``https://<vault>.vault.azure.net/keys/<name>``) data stores take;
  ``key_ids[domain]``: the key's ARM id (role-assignment scope); ``key_versioned_uris[domain]``.
- ``identities[domain]`` (``managedidentity.UserAssignedIdentity``): ``.id``, ``.client_id``, ``.principal_id``;
  ``grants[domain]``: its role assignment on the key (depend on it before using the key).
- ``vault``, ``vault_id``, ``vault_uri``, ``vault_name``.
- DR (``dr_enabled``): ``dr_vault``, ``dr_replicas[domain]``, ``dr_key_arns[domain]`` (URIs), ``dr_key_ids``,
  ``dr_identities[domain]``: identities in the DR region holding the same role on the DR twins (Azure
  wants the identity of a geo-redundant backup or a DR-region store in that region).
- ``cmk(domain)`` / ``dr_cmk(domain)``: a ``components.storage.azure.CustomerManagedKey`` (vault URI,
  key name and URIs, identity id and client id, and the identity's grant on the key, which every store
  built with it depends on: Azure checks key access when the store is created) for the data-store components.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import pulumi
import pulumi_azure_native as azure
import pulumi_random as random

from components.azure_account import KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, tenant_id
from components.keys import DOMAINS, KeysArgs
from components.storage.azure import CustomerManagedKey, PrivateEndpointTarget, grant, private_endpoint

ROTATE_AFTER = "P90D"


@dataclass(frozen=True)
class AzureKeysInputs:
    """Azure-only inputs."""

    location: str
    resource_group_name: pulumi.Input[str]
    endpoint_subnet_id: pulumi.Input[str]  # the network's private-endpoint subnet
    keyvault_dns_zone_id: pulumi.Input[str]  # privatelink.vaultcore.azure.net, linked to the VNet
    dr_location: Optional[str] = None
    dr_resource_group_name: Optional[pulumi.Input[str]] = None
    # The DR network's endpoint subnet, when there is one; without it the DR vault is reachable only
    # by trusted Azure services (which is all a key twin needs until a failover).
    dr_endpoint_subnet_id: Optional[pulumi.Input[str]] = None


def rotation_policy() -> azure.keyvault.RotationPolicyArgs:
    return azure.keyvault.RotationPolicyArgs(lifetime_actions=[
        azure.keyvault.LifetimeActionArgs(action=azure.keyvault.ActionArgs(type="rotate"),
                                          trigger=azure.keyvault.TriggerArgs(time_after_create=ROTATE_AFTER))])


class Keys(pulumi.ComponentResource):
    """Key Vault, one rotating key and one managed identity per domain, DR twins (outputs: see module doc)."""

    def __init__(self, name: str, args: KeysArgs, azure_inputs: AzureKeysInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:keys:Keys", name, None, opts)
        self._tags = {**args.tags, "component": "keys"}
        self._protect = args.protect
        child = pulumi.ResourceOptions(parent=self)

        self.vault = self._vault(f"{name}-vault", args, azure_inputs.location, azure_inputs.resource_group_name,
                                 azure_inputs.endpoint_subnet_id, azure_inputs.keyvault_dns_zone_id)
        self.vault_id, self.vault_name = self.vault.id, self.vault.name
        self.vault_uri = self.vault.properties.apply(lambda p: p.vault_uri)
        self.keys = {domain: self._key(f"{name}-{domain}", domain, self.vault, azure_inputs.resource_group_name)
                     for domain in DOMAINS}

        self.identities: dict[str, azure.managedidentity.UserAssignedIdentity] = {}
        # Consumers that check their key access when created (disk encryption sets, storage, Postgres)
        # depend on these, not only on the identity.
        self.grants: dict[str, azure.authorization.RoleAssignment] = {}
        for domain in DOMAINS:
            identity = azure.managedidentity.UserAssignedIdentity(
                f"{name}-{domain}", resource_group_name=azure_inputs.resource_group_name,
                location=azure_inputs.location, resource_name_=f"{args.name}-{domain}-cmk", tags=self._tags, opts=child)
            self.identities[domain] = identity
            self.grants[domain] = grant(
                f"{name}-{domain}-crypto", scope=self.keys[domain].id, role_guid=KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
                principal_id=identity.principal_id, opts=child, description=f"{args.name}: use the {domain} key (CMK)")

        self.dr_vault: Optional[azure.keyvault.Vault] = None
        self.dr_replicas: dict[str, azure.keyvault.Key] = {}
        self.dr_identities: dict[str, azure.managedidentity.UserAssignedIdentity] = {}
        self.dr_grants: dict[str, azure.authorization.RoleAssignment] = {}
        if args.dr_enabled:
            if not azure_inputs.dr_location or azure_inputs.dr_resource_group_name is None:
                raise ValueError("keys: dr_enabled needs dr_location and dr_resource_group_name")
            self.dr_vault = self._vault(f"{name}-dr-vault", args, azure_inputs.dr_location,
                                        azure_inputs.dr_resource_group_name, azure_inputs.dr_endpoint_subnet_id,
                                        azure_inputs.keyvault_dns_zone_id)
            for domain in DOMAINS:
                twin = self._key(f"{name}-dr-{domain}", domain, self.dr_vault, azure_inputs.dr_resource_group_name)
                self.dr_replicas[domain] = twin
                # Services in the DR region (and geo-redundant backups) need an identity in that region.
                identity = azure.managedidentity.UserAssignedIdentity(
                    f"{name}-dr-{domain}", resource_group_name=azure_inputs.dr_resource_group_name,
                    location=azure_inputs.dr_location, resource_name_=f"{args.name}-{domain}-cmk-dr",
                    tags=self._tags, opts=child)
                self.dr_identities[domain] = identity
                self.dr_grants[domain] = grant(f"{name}-dr-{domain}-crypto", scope=twin.id, role_guid=KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
                      principal_id=identity.principal_id, opts=child,
                      description=f"{args.name}: use the {domain} key's DR twin (CMK)")

        self.key_arns = {domain: key.key_uri for domain, key in self.keys.items()}
        self.key_ids = {domain: key.id for domain, key in self.keys.items()}
        self.key_versioned_uris = {domain: key.key_uri_with_version for domain, key in self.keys.items()}
        self.dr_key_arns = {domain: key.key_uri for domain, key in self.dr_replicas.items()}
        self.dr_key_ids = {domain: key.id for domain, key in self.dr_replicas.items()}
        self.register_outputs({"vault_id": self.vault_id, "key_arns": self.key_arns, "dr_key_arns": self.dr_key_arns})

    def _vault(self, name: str, args: KeysArgs, location: str, group: pulumi.Input[str],
               endpoint_subnet_id: Optional[pulumi.Input[str]], dns_zone_id: pulumi.Input[str]) -> azure.keyvault.Vault:
        # Vault names are global and stay reserved while soft-deleted (purge protection: for the whole
        # retention), so a random suffix lets a destroyed stack be created again.
        suffix = random.RandomString(f"{name}-suffix", length=6, special=False, upper=False,
                                     opts=pulumi.ResourceOptions(parent=self))
        vault = azure.keyvault.Vault(
            name, resource_group_name=group, location=location,
            vault_name=suffix.result.apply(lambda s: f"{args.name[:15]}-{s}"),
            properties=azure.keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id(), sku=azure.keyvault.SkuArgs(family="A", name="standard"),
                enable_rbac_authorization=True, enable_soft_delete=True, enable_purge_protection=True,
                soft_delete_retention_in_days=max(7, min(90, args.deletion_window_days)),
                public_network_access="Disabled",
                network_acls=azure.keyvault.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices"),
                enabled_for_disk_encryption=False, enabled_for_deployment=False, enabled_for_template_deployment=False),
            tags=self._tags, opts=pulumi.ResourceOptions(parent=self, protect=self._protect))
        if endpoint_subnet_id is not None:
            private_endpoint(name, resource_group_name=group, location=location, service_id=vault.id, group_id="vault",
                             target=PrivateEndpointTarget(endpoint_subnet_id, dns_zone_id), tags=self._tags,
                             opts=pulumi.ResourceOptions(parent=self))
        return vault

    def _key(self, name: str, domain: str, vault: azure.keyvault.Vault, group: pulumi.Input[str]) -> azure.keyvault.Key:
        return azure.keyvault.Key(
            name, resource_group_name=group, vault_name=vault.name, key_name=domain,
            properties=azure.keyvault.KeyPropertiesArgs(
                kty="RSA", key_size=2048, key_ops=["wrapKey", "unwrapKey", "encrypt", "decrypt"],
                attributes=azure.keyvault.KeyAttributesArgs(enabled=True), rotation_policy=rotation_policy()),
            tags={**self._tags, "data-domain": domain},
            opts=pulumi.ResourceOptions(parent=self, protect=self._protect))

    def cmk(self, domain: str) -> CustomerManagedKey:
        """The `domain` key and the identity that may use it, as the data-store components take them."""
        return self._cmk(self.vault, self.keys[domain], self.identities[domain], self.grants[domain])

    def dr_cmk(self, domain: str) -> CustomerManagedKey:
        """The DR twin of the `domain` key and its DR-region identity (DR on only)."""
        return self._cmk(self.dr_vault, self.dr_replicas[domain], self.dr_identities[domain], self.dr_grants[domain])

    @staticmethod
    def _cmk(vault: azure.keyvault.Vault, key: azure.keyvault.Key,
             identity: azure.managedidentity.UserAssignedIdentity,
             key_grant: azure.authorization.RoleAssignment) -> CustomerManagedKey:
        return CustomerManagedKey(vault_uri=vault.properties.apply(lambda p: p.vault_uri), key_name=key.name,
                                  key_uri=key.key_uri, key_uri_with_version=key.key_uri_with_version,
                                  identity_id=identity.id, identity_client_id=identity.client_id, grant=key_grant)

    @property
    def artifacts(self) -> azure.keyvault.Key:
        return self.keys["artifacts"]

    @property
    def database(self) -> azure.keyvault.Key:
        return self.keys["database"]

    @property
    def cluster(self) -> azure.keyvault.Key:
        return self.keys["cluster"]

    @property
    def features(self) -> azure.keyvault.Key:
        return self.keys["features"]

    @property
    def notifications(self) -> azure.keyvault.Key:
        return self.keys["notifications"]


def domain_identity_ids(keys: Keys) -> Mapping[str, pulumi.Output[str]]:
    """Resource ids of the per-domain identities (what ``identity.userAssignedIdentities`` lists)."""
    return {domain: identity.id for domain, identity in keys.identities.items()}
