"""Tracking on Azure: PostgreSQL flexible server (private, CMK, TLS, HA/geo backups in prod), the
mlflow database, the artifact storage account and MLflow's workload identity and DB Secret."""

import pulumi
import pytest

from components.storage.azure import STORAGE_BLOB_DATA_CONTRIBUTOR
from components.tracking import TrackingArgs
from components.tracking.azure import AzureTrackingInputs, EntraAdmin, TrackingServer, sku_tier, storage_size_gb

from .service_inputs import NAME, PRIMARY, component_grants, key_grant_urn, preview, role_guid, services

SERVER = "azure-native:dbforpostgresql:Server"
OPERATORS = EntraAdmin("55555555-5555-4555-8555-555555555555", "mlops-db-operators", "group")


def tracking_args(prod: bool) -> TrackingArgs:
    return TrackingArgs(name=NAME, environment="prod" if prod else "dev", db_instance_class="Standard_D2ds_v5",
                        db_allocated_storage_gb=20, db_engine_version="16.6", multi_az=prod,
                        backup_retention_days=14 if prod else 7, deletion_protection=prod, performance_insights=prod,
                        tags={"environment": "test"})


def program(prod: bool):
    def run():
        built = services()
        tracking = TrackingServer("tracking", tracking_args(prod), AzureTrackingInputs(
            resource_group_name=built.resource_group.name, location=PRIMARY,
            postgres_subnet_id=built.postgres_subnet_id, postgres_dns_zone_id=built.postgres_dns_zone_id,
            private_endpoints=built.endpoints, database_key=built.keys["database"],
            artifacts_key=built.keys["artifacts"], workload_identity=built.workload_identity,
            tenant_id="tenant", entra_admin=OPERATORS, geo_backup_key=built.keys["database-geo"] if prod else None,
            zone_redundant_storage=prod, k8s_provider=built.k8s_provider))
        pulumi.export("artifactRoot", tracking.artifact_root)
        pulumi.export("account", tracking.artifact_bucket)
        pulumi.export("mlflowPrincipal", tracking.mlflow_identity.principal_id)
        pulumi.export("containerId", tracking.artifact_container_id)
        pulumi.export("postgresSubnet", built.postgres_subnet_id)
        pulumi.export("postgresZone", built.postgres_dns_zone_id)
    return run


@pytest.fixture(scope="module")
def prod():
    return preview(program(prod=True))


@pytest.fixture(scope="module")
def dev():
    return preview(program(prod=False))


def server(result):
    (only,) = result.by_type(SERVER)
    return only


def test_server_is_private_in_the_delegated_subnet(dev):
    network = server(dev)["inputs"]["network"]
    assert network == {"delegatedSubnetResourceId": dev.outputs["postgresSubnet"],
                       "privateDnsZoneArmResourceId": dev.outputs["postgresZone"], "publicNetworkAccess": "Disabled"}


def test_server_data_is_encrypted_with_the_database_key_through_its_identity(dev):
    inputs = server(dev)["inputs"]
    assert inputs["dataEncryption"] == {"type": "AzureKeyVault", "primaryKeyURI": dev.outputs["keyUri:database"],
                                        "primaryUserAssignedIdentityId": dev.outputs["identity:database"]}
    assert inputs["identity"] == {"type": "UserAssigned",
                                  "userAssignedIdentities": {dev.outputs["identity:database"]: {}}}


def test_tls_is_required_by_a_declared_server_parameter(dev):
    (config,) = dev.by_type("azure-native:dbforpostgresql:Configuration")
    assert config["inputs"]["configurationName"] == "require_secure_transport"
    assert config["inputs"]["value"] == "ON"
    assert config["inputs"]["serverName"] == server(dev)["inputs"]["serverName"]


def test_entra_and_password_auth_and_the_password_is_generated(dev):
    inputs = server(dev)["inputs"]
    assert inputs["authConfig"]["activeDirectoryAuth"] == "Enabled"
    assert inputs["authConfig"]["passwordAuth"] == "Enabled"
    (password,) = dev.by_type("random:index/randomPassword:RandomPassword")
    assert password["inputs"]["length"] == 32 and password["inputs"]["special"] is True
    assert len(inputs["administratorLoginPassword"]) == 32
    (masked,) = [r for r in dev.masked_resources() if r["type"] == SERVER]
    assert masked["inputs"]["administratorLoginPassword"] == "[secret]"


def test_operators_sign_in_with_entra_through_the_configured_administrator(dev):
    """Entra authentication alone lets nobody in: the server gets the configured Entra administrator."""
    (admin,) = dev.by_type("azure-native:dbforpostgresql:AdministratorsMicrosoftEntra")
    assert admin["inputs"] == {"resourceGroupName": f"{NAME}-rg", "serverName": f"{NAME}-tracking",
                               "objectId": OPERATORS.object_id, "principalName": "mlops-db-operators",
                               "principalType": "group", "tenantId": "tenant"}
    assert server(dev)["urn"] in admin["dependencies"]


def test_entra_authentication_without_an_administrator_is_refused():
    from mlops_tools.engine.preview import PreviewError

    def run():
        built = services()
        TrackingServer("tracking", tracking_args(False), AzureTrackingInputs(
            resource_group_name=built.resource_group.name, location=PRIMARY,
            postgres_subnet_id=built.postgres_subnet_id, postgres_dns_zone_id=built.postgres_dns_zone_id,
            private_endpoints=built.endpoints, database_key=built.keys["database"],
            artifacts_key=built.keys["artifacts"], workload_identity=built.workload_identity, tenant_id="tenant"))
    with pytest.raises(PreviewError, match="needs an Entra administrator"):
        preview(run)


def test_dev_is_single_zone_prod_is_zone_redundant_with_geo_backups(dev, prod):
    assert server(dev)["inputs"]["highAvailability"] == {"mode": "Disabled"}
    assert server(dev)["inputs"]["backup"] == {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"}
    inputs = server(prod)["inputs"]
    assert inputs["highAvailability"] == {"mode": "ZoneRedundant"}
    assert inputs["backup"] == {"backupRetentionDays": 14, "geoRedundantBackup": "Enabled"}
    assert inputs["dataEncryption"]["geoBackupKeyURI"] == prod.outputs["keyUri:database-geo"]
    assert inputs["dataEncryption"]["geoBackupUserAssignedIdentityId"] == prod.outputs["identity:database-geo"]
    assert prod.outputs["identity:database-geo"] in inputs["identity"]["userAssignedIdentities"]
    assert server(prod)["protect"] and not server(dev)["protect"]


def test_mlflow_database_exists_on_the_server(dev):
    (database,) = dev.by_type("azure-native:dbforpostgresql:Database")
    assert database["inputs"]["databaseName"] == "mlflow"
    assert database["inputs"]["serverName"] == f"{NAME}-tracking"


def test_mlflow_database_secret_holds_a_tls_uri_to_the_server_and_is_secret(dev):
    (secret,) = dev.by_type("kubernetes:core/v1:Secret")
    assert secret["inputs"]["metadata"]["name"] == "mlflow-database"
    assert secret["inputs"]["metadata"]["namespace"] == "mlops"
    uri = secret["inputs"]["stringData"]["uri"]
    password = server(dev)["inputs"]["administratorLoginPassword"]
    assert uri == f"postgresql+psycopg2://mlflow:{password}@{NAME}-tracking.postgres.database.azure.com:5432/mlflow?sslmode=require"
    (masked,) = [r for r in dev.masked_resources() if r["type"] == "kubernetes:core/v1:Secret"]
    assert masked["inputs"]["stringData"] in ("[secret]", {"uri": "[secret]"})


def test_artifact_account_is_hardened_and_encrypted_with_the_artifacts_key(dev):
    (account,) = dev.by_type("azure-native:storage:StorageAccount")
    inputs = account["inputs"]
    assert inputs["encryption"]["keySource"] == "Microsoft.Keyvault"
    assert inputs["encryption"]["keyVaultProperties"]["keyName"] == dev.outputs["keyName:artifacts"]
    assert inputs["encryption"]["encryptionIdentity"] == {"encryptionUserAssignedIdentity": dev.outputs["identity:artifacts"]}
    assert (inputs["enableHttpsTrafficOnly"], inputs["minimumTlsVersion"], inputs["allowBlobPublicAccess"],
            inputs["allowSharedKeyAccess"], inputs["publicNetworkAccess"]) == (True, "TLS1_2", False, False, "Disabled")
    assert dev.outputs["artifactRoot"] == f"wasbs://mlflow@{dev.outputs['account']}.blob.core.windows.net/"
    (endpoint,) = dev.by_type("azure-native:network:PrivateEndpoint")
    assert endpoint["inputs"]["privateLinkServiceConnections"][0]["groupIds"] == ["blob"]
    (blob,) = dev.by_type("azure-native:storage:BlobServiceProperties")
    assert blob["inputs"]["isVersioningEnabled"] is True
    assert blob["inputs"]["deleteRetentionPolicy"]["enabled"] is True
    (lifecycle,) = dev.by_type("azure-native:storage:ManagementPolicy")
    assert {r["name"] for r in lifecycle["inputs"]["policy"]["rules"]} == {"expire-noncurrent-versions", "tier-down-old-blobs"}


def test_mlflow_identity_is_federated_and_scoped_to_the_artifact_container(dev):
    (credential,) = [c for c in dev.by_type("azure-native:managedidentity:FederatedIdentityCredential")]
    assert credential["inputs"]["subject"] == "system:serviceaccount:mlops:mlflow"
    (assignment,) = component_grants(dev)
    assert role_guid(assignment) == STORAGE_BLOB_DATA_CONTRIBUTOR
    assert assignment["inputs"]["scope"] == dev.outputs["containerId"]
    assert assignment["inputs"]["scope"].endswith("/blobServices/default/containers/mlflow")
    assert assignment["inputs"]["principalId"] == dev.outputs["mlflowPrincipal"]


def test_sizes_map_to_azure_tiers_and_storage_steps():
    assert (sku_tier("Standard_B2s"), sku_tier("Standard_D2ds_v5"), sku_tier("Standard_E4ds_v5")) == \
        ("Burstable", "GeneralPurpose", "MemoryOptimized")
    assert (storage_size_gb(20), storage_size_gb(32), storage_size_gb(100)) == (32, 32, 128)
    with pytest.raises(ValueError, match="not an Azure size"):
        sku_tier("db.t4g.medium")


def test_server_and_artifact_account_are_created_after_their_key_grants(dev, prod):
    """Azure checks key access when it creates a CMK store: each depends on its identity's grant on the key."""
    assert key_grant_urn(dev, "database") in server(dev)["dependencies"]
    assert {key_grant_urn(prod, "database"), key_grant_urn(prod, "database-geo")} <= set(server(prod)["dependencies"])
    (account,) = dev.by_type("azure-native:storage:StorageAccount")
    assert key_grant_urn(dev, "artifacts") in account["dependencies"]
