"""Features on Azure: hardened blob account for the Feast registry/offline store, Managed Redis online
store (CMK, TLS only, private, geo-replication when DR), the Feast identity on its container only."""

import pulumi
import pytest

from components.features import FeaturesArgs
from components.features.azure import AzureFeaturesInputs, FeatureStore, GeoReplicationGroup, redis_sku
from components.storage.azure import STORAGE_BLOB_DATA_CONTRIBUTOR

from .service_inputs import NAME, PRIMARY, component_grants, key_grant_urn, preview, role_guid, services

DR_GROUP = "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/mlops-test-dr"


def program(geo: bool, sku: str = "Balanced_B3"):
    def run():
        built = services()
        group = GeoReplicationGroup(nickname=f"{NAME}-features",
                                    members=((built.resource_group.id, f"{NAME}-features"),
                                             (DR_GROUP, f"{NAME}-features-dr"))) if geo else None
        features = FeatureStore("features", FeaturesArgs(name=NAME, feast_project="mlops_test",
                                                         online_feature_views=("default", "users"),
                                                         tags={"environment": "test"}),
                                AzureFeaturesInputs(resource_group_name=built.resource_group.name, location=PRIMARY,
                                                    features_key=built.keys["features"], blob_endpoints=built.endpoints,
                                                    redis_endpoints=built.redis_endpoints,
                                                    workload_identity=built.workload_identity, redis_sku=sku,
                                                    geo_replication=group, k8s_provider=built.k8s_provider))
        pulumi.export("registryPath", features.registry_path)
        pulumi.export("offlinePath", features.offline_store_path)
        pulumi.export("account", features.bucket_name)
        pulumi.export("containerId", features.store.container_ids["feast"])
        pulumi.export("principal", features.feature_server_identity.principal_id)
        pulumi.export("host", features.online_store_host)
        pulumi.export("tables", features.online_tables)
        pulumi.export("rgId", built.resource_group.id)
    return run


@pytest.fixture(scope="module")
def plain():
    return preview(program(geo=False))


@pytest.fixture(scope="module")
def geo():
    return preview(program(geo=True))


def test_registry_and_offline_store_live_in_the_hardened_features_account(plain):
    (account,) = plain.by_type("azure-native:storage:StorageAccount")
    inputs = account["inputs"]
    assert inputs["encryption"]["keyVaultProperties"]["keyName"] == plain.outputs["keyName:features"]
    assert (inputs["allowSharedKeyAccess"], inputs["publicNetworkAccess"]) == (False, "Disabled")
    acct = plain.outputs["account"]
    assert plain.outputs["registryPath"] == f"https://{acct}.blob.core.windows.net/feast/registry/registry.db"
    assert plain.outputs["offlinePath"] == f"abfs://feast@{acct}.dfs.core.windows.net/offline"
    (lifecycle,) = plain.by_type("azure-native:storage:ManagementPolicy")
    tier = [r for r in lifecycle["inputs"]["policy"]["rules"] if r["name"] == "tier-down-old-blobs"][0]
    assert tier["definition"]["filters"]["prefixMatch"] == ["feast/offline/"]


def test_redis_is_private_tls_only_and_encrypted_with_the_features_key(plain):
    (cluster,) = plain.by_type("azure-native:redisenterprise:RedisEnterprise")
    inputs = cluster["inputs"]
    assert (inputs["minimumTlsVersion"], inputs["publicNetworkAccess"]) == ("1.2", "Disabled")
    cmk = inputs["encryption"]["customerManagedKeyEncryption"]
    assert cmk["keyEncryptionKeyUrl"].startswith(plain.outputs["keyUri:features"] + "/")
    assert cmk["keyEncryptionKeyIdentity"]["userAssignedIdentityResourceId"] == plain.outputs["identity:features"]
    (database,) = plain.by_type("azure-native:redisenterprise:Database")
    assert database["inputs"]["clientProtocol"] == "Encrypted"
    assert "geoReplication" not in database["inputs"]
    groups = {e["inputs"]["privateLinkServiceConnections"][0]["groupIds"][0]
              for e in plain.by_type("azure-native:network:PrivateEndpoint")}
    assert groups == {"blob", "redisEnterprise"}


def test_feast_reads_redis_through_a_secret_connection_string(plain):
    (secret,) = plain.by_type("kubernetes:core/v1:Secret")
    assert secret["inputs"]["metadata"] == {"name": "feast-online-store", "namespace": "mlops"}
    value = secret["inputs"]["stringData"]["connection_string"]
    assert value.startswith(f"{plain.outputs['host']}:10000,ssl=true,password=")
    (masked,) = [r for r in plain.masked_resources() if r["type"] == "kubernetes:core/v1:Secret"]
    assert masked["inputs"]["stringData"] in ("[secret]", {"connection_string": "[secret]"})


def test_every_online_view_maps_to_the_redis_database(plain):
    (database,) = plain.by_type("azure-native:redisenterprise:Database")
    assert set(plain.outputs["tables"]) == {"default", "users"}
    assert set(plain.outputs["tables"].values()) == {plain.outputs["tables"]["default"]}
    assert plain.outputs["tables"]["default"].endswith(f"/redisEnterprise/{NAME}-features/databases/default")


def test_feast_identity_is_federated_and_scoped_to_the_feast_container(plain):
    (credential,) = plain.by_type("azure-native:managedidentity:FederatedIdentityCredential")
    assert credential["inputs"]["subject"] == "system:serviceaccount:mlops:feast"
    (assignment,) = component_grants(plain)
    assert role_guid(assignment) == STORAGE_BLOB_DATA_CONTRIBUTOR
    assert assignment["inputs"]["scope"] == plain.outputs["containerId"]
    assert assignment["inputs"]["principalId"] == plain.outputs["principal"]


def test_dr_links_the_database_into_a_geo_replication_group(geo):
    (database,) = geo.by_type("azure-native:redisenterprise:Database")
    group = database["inputs"]["geoReplication"]
    rg = geo.outputs["rgId"]
    assert group["groupNickname"] == f"{NAME}-features"
    assert [d["id"] for d in group["linkedDatabases"]] == [
        f"{rg}/providers/Microsoft.Cache/redisEnterprise/{NAME}-features/databases/default",
        f"{DR_GROUP}/providers/Microsoft.Cache/redisEnterprise/{NAME}-features-dr/databases/default"]


def test_redis_size_defaults_to_the_smallest_that_can_geo_replicate():
    assert (redis_sku(None, False), redis_sku(None, True), redis_sku("Balanced_B5", True)) == \
        ("Balanced_B0", "Balanced_B3", "Balanced_B5")
    with pytest.raises(ValueError, match="has no active geo-replication"):
        redis_sku("Balanced_B1", True)


def test_redis_and_the_store_account_are_created_after_the_features_key_grant(plain):
    grant_urn = key_grant_urn(plain, "features")
    (redis,) = plain.by_type("azure-native:redisenterprise:RedisEnterprise")
    (account,) = plain.by_type("azure-native:storage:StorageAccount")
    assert grant_urn in redis["dependencies"] and grant_urn in account["dependencies"]
