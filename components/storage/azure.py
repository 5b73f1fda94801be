"""Azure implementation of the hardened bucket: one storage account per purpose, private and CMK-encrypted.

An Azure "bucket" is a storage account plus blob containers; the account is where every guarantee
of ``components/storage`` is set, so this helper owns the account and its containers:

- encrypted with a named Key Vault key (versionless: the account follows the key's rotation)
  through a user-assigned identity, plus infrastructure (double) encryption; queues and tables
  use the account key too, so nothing in the account falls back to Microsoft-managed keys;
- HTTPS only, TLS 1.2 minimum, no anonymous blob access, no shared-key (account key / SAS)
  access, no SFTP or local users: every request is an Entra ID identity with an RBAC role;
- public network access disabled and a private endpoint for the blob service in the platform's
  private-endpoint subnet, registered in ``privatelink.blob.core.windows.net``;
- blob versioning, change feed (object replication to the DR region needs both), soft delete of
  blobs and containers;
- lifecycle: current blobs tier to Cool, then Cold (both online: MLflow and Feast read them
  directly; Archive would need hours of rehydration), noncurrent versions expire.
  Uncommitted blocks (Azure's abandoned multipart uploads) are discarded by the service after 7 days.

Names: storage account names are global, 3-24 lowercase letters and digits. The name is the
platform prefix squeezed to letters/digits plus a ``random.RandomString`` suffix, so it is unique,
readable and stable across runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_azure_native as azure
import pulumi_random as random

from components.storage import BucketArgs

ACCOUNT_NAME_MAX = 24
SUFFIX_LENGTH = 6
SOFT_DELETE_DAYS = 14
BLOB_PRIVATE_DNS_ZONE = "privatelink.blob.core.windows.net"

# Built-in role definitions (ids are the same in every tenant).
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"  # read/write/delete blobs
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"  # read blobs


def role_definition_id(scope_id: pulumi.Input[str], role_guid: str) -> pulumi.Output[str]:
    """The subscription-qualified id of a built-in role, from any resource id in that subscription."""
    return pulumi.Output.from_input(scope_id).apply(
        lambda rid: f"/subscriptions/{rid.split('/')[2]}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}")


def account_name_prefix(name: str) -> str:
    """'mlops-dev-artifacts' -> 'mlopsdevartifacts', cut so the random suffix still fits in 24."""
    squeezed = re.sub(r"[^a-z0-9]", "", name.lower())
    if not squeezed or not squeezed[0].isalpha():
        raise ValueError(f"storage account prefix {name!r} must start with a letter")
    return squeezed[: ACCOUNT_NAME_MAX - SUFFIX_LENGTH]


@dataclass(frozen=True)
class CustomerManagedKey:
    """A Key Vault key and the user-assigned identity allowed to wrap/unwrap with it.

    ``key_uri`` is versionless (services that accept it follow rotation automatically);
    ``key_uri_with_version`` is for services that only take a versioned URI.
    """

    vault_uri: pulumi.Input[str]
    key_name: pulumi.Input[str]
    key_uri: pulumi.Input[str]
    identity_id: pulumi.Input[str]  # the user-assigned identity's ARM id
    identity_client_id: pulumi.Input[str]
    key_uri_with_version: Optional[pulumi.Input[str]] = None
    # The role assignment that lets the identity use the key. Azure checks key access when a store is
    # created, so every store built with this key depends on it (``depends_on_grant``).
    grant: Optional[pulumi.Resource] = None

    def depends_on_grant(self) -> list[pulumi.Resource]:
        return [self.grant] if self.grant is not None else []


@dataclass(frozen=True)
class PrivateEndpointTarget:
    """Where a service's private endpoint goes: the subnet and the private DNS zone it registers in."""

    subnet_id: pulumi.Input[str]
    dns_zone_id: pulumi.Input[str]


def private_endpoint(name: str, *, resource_group_name: pulumi.Input[str], location: Optional[pulumi.Input[str]],
                     service_id: pulumi.Input[str], group_id: str, target: PrivateEndpointTarget,
                     tags: Mapping[str, str], opts: pulumi.ResourceOptions) -> azure.network.PrivateEndpoint:
    """A private endpoint for one sub-resource (`group_id`: blob, registry, redisEnterprise...) and its DNS record."""
    endpoint = azure.network.PrivateEndpoint(
        f"{name}-pe", resource_group_name=resource_group_name, location=location,
        subnet={"id": target.subnet_id},
        private_link_service_connections=[{"name": f"{name}-{group_id}", "private_link_service_id": service_id,
                                           "group_ids": [group_id]}],
        tags=dict(tags), opts=opts)
    azure.network.PrivateDnsZoneGroup(
        f"{name}-pe-dns", resource_group_name=resource_group_name, private_endpoint_name=endpoint.name,
        private_dns_zone_group_name="default",
        private_dns_zone_configs=[{"name": group_id, "private_dns_zone_id": target.dns_zone_id}],
        opts=opts)
    return endpoint


def _lifecycle_rules(args: BucketArgs, containers: Sequence[str]) -> list[dict]:
    prefix = [f"{container}/{args.tier_down_prefix}" for container in containers]
    base_blob: dict = {}
    if args.infrequent_access_after_days is not None:
        base_blob["tier_to_cool"] = {"days_after_modification_greater_than": args.infrequent_access_after_days}
    if args.archive_after_days is not None:
        base_blob["tier_to_cold"] = {"days_after_modification_greater_than": args.archive_after_days}
    rules = [{
        "name": "expire-noncurrent-versions", "type": "Lifecycle", "enabled": True,
        "definition": {"filters": {"blob_types": ["blockBlob"]},
                       "actions": {"version": {"delete": {
                           "days_after_creation_greater_than": args.noncurrent_version_expiry_days}}}},
    }]
    if base_blob:
        rules.append({
            "name": "tier-down-old-blobs", "type": "Lifecycle", "enabled": True,
            "definition": {"filters": {"blob_types": ["blockBlob"], "prefix_match": prefix},
                           "actions": {"base_blob": base_blob}},
        })
    return rules


class SecureStorageAccount(pulumi.ComponentResource):
    """A private, CMK-encrypted, versioned StorageV2 account with blob containers and lifecycle rules.

    Attributes: ``account`` (the StorageAccount), ``account_name``, ``account_id``, ``containers``
    (name -> BlobContainer), ``container_ids`` (name -> ARM id, the scope for RBAC), ``blob_endpoint``,
    ``blob_service`` (object replication must wait for versioning and change feed).
    """

    def __init__(self, name: str, args: BucketArgs, *, resource_group_name: pulumi.Input[str],
                 key: CustomerManagedKey, containers: Sequence[str],
                 private_endpoint_target: PrivateEndpointTarget, location: Optional[pulumi.Input[str]] = None,
                 zone_redundant: bool = False, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:storage:SecureStorageAccount", name, None, opts)
        if not containers:
            raise ValueError(f"{name}: at least one container is needed")
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        suffix = random.RandomString(f"{name}-suffix", length=SUFFIX_LENGTH, upper=False, special=False,
                                     numeric=True, lower=True, opts=child)
        self.account = azure.storage.StorageAccount(
            name,
            account_name=pulumi.Output.concat(account_name_prefix(args.name), suffix.result),
            resource_group_name=resource_group_name,
            location=location,
            kind="StorageV2",
            sku={"name": "Standard_ZRS" if zone_redundant else "Standard_LRS"},
            access_tier="Hot",
            identity={"type": "UserAssigned", "user_assigned_identities": [key.identity_id]},
            encryption={
                "key_source": "Microsoft.Keyvault",
                "key_vault_properties": {"key_name": key.key_name, "key_vault_uri": key.vault_uri},
                "encryption_identity": {"encryption_user_assigned_identity": key.identity_id},
                "require_infrastructure_encryption": True,
                "services": {service: {"enabled": True, "key_type": "Account"}
                             for service in ("blob", "file", "queue", "table")},
            },
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            is_local_user_enabled=False,
            is_sftp_enabled=False,
            public_network_access="Disabled",
            network_rule_set={"default_action": "Deny", "bypass": "None"},
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=key.depends_on_grant()))
        self.account_name = self.account.name
        self.account_id = self.account.id
        self.blob_endpoint = pulumi.Output.concat("https://", self.account.name, ".blob.core.windows.net/")

        self.blob_service = azure.storage.BlobServiceProperties(
            f"{name}-blob", account_name=self.account.name, resource_group_name=resource_group_name,
            blob_services_name="default",
            is_versioning_enabled=True,
            change_feed={"enabled": True, "retention_in_days": args.noncurrent_version_expiry_days},
            delete_retention_policy={"enabled": True, "days": SOFT_DELETE_DAYS},
            container_delete_retention_policy={"enabled": True, "days": SOFT_DELETE_DAYS},
            opts=child)
        self.containers: dict[str, azure.storage.BlobContainer] = {}
        for container in containers:
            self.containers[container] = azure.storage.BlobContainer(
                f"{name}-{container}", account_name=self.account.name, resource_group_name=resource_group_name,
                container_name=container, public_access="None",
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=[self.blob_service]))
        self.container_ids = {c: r.id for c, r in self.containers.items()}
        self.lifecycle = azure.storage.ManagementPolicy(
            f"{name}-lifecycle", account_name=self.account.name, resource_group_name=resource_group_name,
            management_policy_name="default", policy={"rules": _lifecycle_rules(args, containers)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.blob_service]))
        self.private_endpoint = private_endpoint(
            name, resource_group_name=resource_group_name, location=location, service_id=self.account.id,
            group_id="blob", target=private_endpoint_target, tags=tags, opts=child)

        self.register_outputs({"accountName": self.account_name, "accountId": self.account_id,
                               "containerIds": self.container_ids})


def grant(name: str, *, scope: pulumi.Input[str], role_guid: str, principal_id: pulumi.Input[str],
          opts: pulumi.ResourceOptions, description: str, condition: Optional[str] = None) -> azure.authorization.RoleAssignment:
    """One role assignment to a managed identity's service principal at `scope` (never wider); `condition`
    narrows it further (an Azure ABAC condition, version 2.0)."""
    return azure.authorization.RoleAssignment(
        name, scope=scope, role_definition_id=role_definition_id(scope, role_guid),
        principal_id=principal_id, principal_type="ServicePrincipal", description=description,
        condition=condition, condition_version="2.0" if condition else None, opts=opts)


_BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"


def blob_prefix_condition(prefix: str) -> str:
    """ABAC: reading (except listing, which names blobs only), writing, deleting and moving (renaming, on
    hierarchical-namespace accounts) blobs only under ``prefix/`` of the container: every data action of
    Storage Blob Data Contributor is confined (Azure's documented path-prefix pattern; evaluated by Azure,
    not offline)."""
    actions = [f"!(ActionMatches{{'{_BLOBS}/read'}} AND NOT SubOperationMatches{{'Blob.List'}})",
               *(f"!(ActionMatches{{'{_BLOBS}/{action}'}})" for action in ("write", "add/action", "delete",
                                                                             "move/action"))]
    return (f"(({' AND '.join(actions)}) OR "
            f"(@Resource[{_BLOBS}:path] StringStartsWith '{prefix}/'))")
