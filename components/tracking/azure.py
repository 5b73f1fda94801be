"""Azure tracking backend: PostgreSQL flexible server + blob artifacts + MLflow workload identity,
and the database URI written into the cluster.

Why this shape:
- The server lives in the Postgres-delegated subnet (VNet integration) and resolves through the
  private DNS zone the network provides: it never has a public endpoint. Data is encrypted with the
  database Key Vault key through a user-assigned identity; ``require_secure_transport=ON`` is
  declared so every ``pulumi up`` restores it. Prod: zone-redundant HA, backups >= 14 days,
  geo-redundant backups (encrypted with a key in the paired region, which Azure requires).
- Entra ID authentication is on, with an Entra administrator (``entra_admin``: a group, user or
  service principal; the stack defaults to the deploying identity), so operators log in with their
  Entra identity (docs/first-deploy.md). MLflow itself uses the password login: its SQLAlchemy
  engine cannot refresh Entra tokens. The password is
  generated (``random.RandomPassword``), kept secret in state, and written straight into the
  ``mlflow-database`` Kubernetes Secret. No External Secrets / Key Vault CSI driver: the value
  already sits in Pulumi's encrypted state, so syncing it through Key Vault would add an operator,
  an identity and a second copy without removing the first; a password rotation is a
  ``pulumi up`` (replace the RandomPassword) that updates server and Secret together.
- Artifacts: a storage account from the shared hardened helper; MLflow's workload identity has
  Storage Blob Data Contributor on the artifact container only (not the account).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import pulumi
import pulumi_azure_native as azure
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.storage import BucketArgs
from components.storage.azure import (STORAGE_BLOB_DATA_CONTRIBUTOR, CustomerManagedKey, PrivateEndpointTarget,
                                      SecureStorageAccount, grant)
from components.tracking import (MLFLOW_DB_SECRET, MLFLOW_DB_SECRET_KEY, TrackingArgs, database_uri, postgres_major,
                                 tracking_url)

POSTGRES_PORT = 5432
# Flexible server storage comes in fixed sizes (GiB); the configured size is rounded up to one.
STORAGE_SIZES_GB = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767)
# Characters the generated password may use besides letters and digits: URI-safe, so the
# SQLAlchemy URI needs no escaping.
PASSWORD_SPECIALS = "-_."

# (name, namespace, service account, opts) -> a user-assigned identity federated with that
# Kubernetes service account (the cluster's workload-identity helper).
WorkloadIdentityFactory = Callable[[str, str, str, pulumi.ResourceOptions], azure.managedidentity.UserAssignedIdentity]


def writer_endpoint_host(virtual_endpoint_name: str) -> str:
    """The host name of a flexible-server replication set's read-write virtual endpoint."""
    return f"{virtual_endpoint_name}.writer.postgres.database.azure.com"


def sku_tier(sku_name: str) -> str:
    """Standard_B* -> Burstable, Standard_E* -> MemoryOptimized, other Standard_* -> GeneralPurpose."""
    if not sku_name.startswith("Standard_") or len(sku_name) < 10:
        raise ValueError(f"database SKU {sku_name!r} is not an Azure size like Standard_D2ds_v5")
    family = sku_name[len("Standard_")].upper()
    return {"B": "Burstable", "E": "MemoryOptimized"}.get(family, "GeneralPurpose")


def storage_size_gb(requested: int) -> int:
    """The smallest flexible-server storage size that holds `requested` GiB."""
    for size in STORAGE_SIZES_GB:
        if size >= requested:
            return size
    raise ValueError(f"{requested} GiB is larger than the largest flexible-server storage ({STORAGE_SIZES_GB[-1]} GiB)")


@dataclass(frozen=True)
class EntraAdmin:
    """The server's Microsoft Entra administrator: its PostgreSQL role is ``principal_name``, mapped to
    ``object_id``; members of a group administrator sign in as the group's name."""

    object_id: pulumi.Input[str]
    principal_name: pulumi.Input[str]
    principal_type: str  # "group" | "user" | "servicePrincipal" (dbforpostgresql.PrincipalType)


@dataclass(frozen=True)
class AzureTrackingInputs:
    """Azure-only inputs: where the server and account live, their keys, and the cluster."""

    resource_group_name: pulumi.Input[str]
    location: str
    postgres_subnet_id: pulumi.Input[str]  # delegated to Microsoft.DBforPostgreSQL/flexibleServers
    postgres_dns_zone_id: pulumi.Input[str]  # a private zone ending in .postgres.database.azure.com, linked to the VNet
    private_endpoints: PrivateEndpointTarget  # subnet + privatelink.blob.core.windows.net zone
    database_key: CustomerManagedKey
    artifacts_key: CustomerManagedKey
    workload_identity: WorkloadIdentityFactory
    tenant_id: pulumi.Input[str]
    # Entra authentication is on, and only an Entra administrator can create the first Entra roles:
    # without one, no operator could sign in with Entra at all.
    entra_admin: Optional[EntraAdmin] = None
    # Geo-redundant backups (prod): Azure encrypts the geo copy with a key in the paired region.
    geo_backup_key: Optional[CustomerManagedKey] = None
    zone_redundant_storage: bool = False  # ZRS artifacts (prod)
    # DR on: MLflow connects through the replication set's writer virtual endpoint (created by the
    # DR component), which follows "promote to primary", so a failover never touches MLflow's Secret.
    writer_endpoint: bool = False
    k8s_provider: Optional[k8s.Provider] = None
    mlflow_namespace: Optional[pulumi.Input[str]] = None  # the namespace as created by the k8s layer
    # More containers in the artifacts account, same guarantees (the retraining pipeline's "argo").
    extra_containers: Sequence[str] = ()


class TrackingServer(pulumi.ComponentResource):
    """MLflow's backend store (PostgreSQL flexible server), artifact store (blob) and identities."""

    db_extensions: tuple[str, ...] = ()  # no database setting here needs an extension created

    def __init__(self, name: str, args: TrackingArgs, azure_inputs: AzureTrackingInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:tracking:TrackingServer", name, None, opts)
        self.args = args
        tier = sku_tier(args.db_instance_class)
        if azure_inputs.entra_admin is None:
            raise ValueError("tracking: Entra authentication is on, so the server needs an Entra administrator "
                             "(AzureTrackingInputs.entra_admin)")
        if azure_inputs.entra_admin.principal_type not in ("group", "user", "servicePrincipal"):
            raise ValueError(f"tracking: Entra administrator type {azure_inputs.entra_admin.principal_type!r} is not "
                             "group, user or servicePrincipal")
        if args.multi_az and tier == "Burstable":
            raise ValueError(f"{args.db_instance_class}: zone-redundant high availability needs a "
                             "GeneralPurpose or MemoryOptimized size (Standard_D*/Standard_E*)")
        tags = {**args.tags, "component": "tracking"}
        child = pulumi.ResourceOptions(parent=self)
        rg, inputs = azure_inputs.resource_group_name, azure_inputs

        self.artifacts = SecureStorageAccount(
            f"{name}-artifacts", BucketArgs(name=f"{args.name}-artifacts", tags=tags, protect=args.deletion_protection),
            resource_group_name=rg, location=inputs.location, key=inputs.artifacts_key,
            containers=[args.artifact_prefix, *inputs.extra_containers], private_endpoint_target=inputs.private_endpoints,
            zone_redundant=inputs.zone_redundant_storage, opts=child)
        self.artifact_account = self.artifacts.account_name
        self.artifact_bucket = self.artifacts.account_name
        self.artifact_container_id = self.artifacts.container_ids[args.artifact_prefix]
        # MLflow's Azure artifact repository: wasbs://<container>@<account>.blob.core.windows.net/<path>
        self.artifact_root = pulumi.Output.format("wasbs://{0}@{1}.blob.core.windows.net/", args.artifact_prefix,
                                                  self.artifacts.account_name)

        self.admin_password = random.RandomPassword(
            f"{name}-db-admin", length=32, special=True, override_special=PASSWORD_SPECIALS,
            min_upper=2, min_lower=2, min_numeric=2, min_special=1, opts=child)
        self._server(name, args, inputs, tags, tier)
        self.db_database = azure.dbforpostgresql.Database(
            f"{name}-db-{args.db_name}", resource_group_name=rg, server_name=self.db.name,
            database_name=args.db_name, charset="UTF8", collation="en_US.utf8",
            opts=pulumi.ResourceOptions(parent=self, protect=args.deletion_protection))

        self.mlflow_identity = inputs.workload_identity(f"{name}-mlflow", args.namespace, args.service_account, child)
        self.artifact_access = grant(
            f"{name}-mlflow-artifacts", scope=self.artifact_container_id, role_guid=STORAGE_BLOB_DATA_CONTRIBUTOR,
            principal_id=self.mlflow_identity.principal_id, opts=child,
            description=f"{args.name}: MLflow reads and writes artifacts in its container only")
        self.service_account_role = self.mlflow_identity.client_id
        self.tracking_url = tracking_url(namespace=args.namespace)
        self.db_connection_secret = {"name": MLFLOW_DB_SECRET, "key": MLFLOW_DB_SECRET_KEY, "namespace": args.namespace}
        self.db_uri = pulumi.Output.secret(pulumi.Output.all(
            args.db_username, self.admin_password.result, self.db_host, POSTGRES_PORT, args.db_name,
        ).apply(lambda parts: database_uri(*parts)))
        self.db_secret = None
        if inputs.k8s_provider is not None:
            namespace = inputs.mlflow_namespace if inputs.mlflow_namespace is not None else args.namespace
            self.db_secret = k8s.core.v1.Secret(
                f"{name}-db-uri",
                metadata={"name": MLFLOW_DB_SECRET, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "mlops"}},
                type="Opaque", string_data={MLFLOW_DB_SECRET_KEY: self.db_uri},
                opts=pulumi.ResourceOptions(parent=self, provider=inputs.k8s_provider,
                                            additional_secret_outputs=["stringData", "data"],
                                            depends_on=[self.db_database]))

        self.register_outputs({
            "trackingUrl": self.tracking_url, "artifactBucket": self.artifact_bucket, "artifactRoot": self.artifact_root,
            "dbInstanceId": self.db_instance_id, "dbInstanceArn": self.db_instance_arn,
            "dbEndpointRecord": self.db_endpoint_record, "serviceAccountRole": self.service_account_role,
        })

    def _server(self, name: str, args: TrackingArgs, inputs: AzureTrackingInputs, tags: dict, tier: str) -> None:
        rg = inputs.resource_group_name
        identities = [inputs.database_key.identity_id]
        encryption = {"type": "AzureKeyVault", "primary_key_uri": inputs.database_key.key_uri,
                      "primary_user_assigned_identity_id": inputs.database_key.identity_id}
        geo = inputs.geo_backup_key
        if geo is not None:
            identities.append(geo.identity_id)
            encryption.update(geo_backup_key_uri=geo.key_uri, geo_backup_user_assigned_identity_id=geo.identity_id)
        self.db_server_name = f"{args.name}-tracking"
        self.db = azure.dbforpostgresql.Server(
            f"{name}-db",
            server_name=self.db_server_name,
            resource_group_name=rg,
            location=inputs.location,
            version=postgres_major(args.db_engine_version),
            sku={"name": args.db_instance_class, "tier": tier},
            storage={"storage_size_gb": storage_size_gb(args.db_allocated_storage_gb), "auto_grow": "Enabled"},
            backup={"backup_retention_days": args.backup_retention_days,
                    "geo_redundant_backup": "Enabled" if geo is not None else "Disabled"},
            high_availability={"mode": "ZoneRedundant" if args.multi_az else "Disabled"},
            network={"delegated_subnet_resource_id": inputs.postgres_subnet_id,
                     "private_dns_zone_arm_resource_id": inputs.postgres_dns_zone_id,
                     "public_network_access": "Disabled"},
            identity=pulumi.Output.all(*identities).apply(
                lambda ids: {"type": "UserAssigned", "user_assigned_identities": {i: {} for i in ids}}),
            data_encryption=encryption,
            auth_config={"active_directory_auth": "Enabled", "password_auth": "Enabled", "tenant_id": inputs.tenant_id},
            administrator_login=args.db_username,
            administrator_login_password=pulumi.Output.secret(self.admin_password.result),
            maintenance_window={"custom_window": "Enabled", "day_of_week": 0, "start_hour": 4, "start_minute": 30},
            create_mode="Create",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.deletion_protection,
                                        additional_secret_outputs=["administratorLoginPassword"],
                                        ignore_changes=["createMode"],
                                        # Azure checks both keys when it creates the server.
                                        depends_on=inputs.database_key.depends_on_grant()
                                        + (geo.depends_on_grant() if geo is not None else [])))
        admin = inputs.entra_admin
        self.db_entra_admin = azure.dbforpostgresql.AdministratorsMicrosoftEntra(
            f"{name}-db-entra-admin", resource_group_name=rg, server_name=self.db.name, object_id=admin.object_id,
            principal_name=admin.principal_name, principal_type=admin.principal_type, tenant_id=inputs.tenant_id,
            opts=pulumi.ResourceOptions(parent=self))
        self.db_tls = azure.dbforpostgresql.Configuration(
            f"{name}-db-require-tls", resource_group_name=rg, server_name=self.db.name,
            configuration_name="require_secure_transport", value="ON", source="user-override",
            opts=pulumi.ResourceOptions(parent=self))
        self.db_instance_id = self.db.name
        self.db_instance_arn = self.db.id
        # MLflow reaches the server by its FQDN (or, DR on, the writer virtual endpoint), which the
        # Postgres private DNS zone resolves inside the VNet.
        self.db_writer_endpoint_name: Optional[str] = None
        self.db_host = self.db.fully_qualified_domain_name
        if inputs.writer_endpoint:
            self.db_writer_endpoint_name = f"{args.name}-tracking-db"
            self.db_host = pulumi.Output.from_input(writer_endpoint_host(self.db_writer_endpoint_name))
        self.db_endpoint_record = {"zone_id": inputs.postgres_dns_zone_id, "name": self.db_host}
