"""DR on Azure: PostgreSQL cross-region replica (DR key, DR subnet, TLS), object replication into
hardened DR accounts, ACR geo-replication, Managed Redis geo-replica, and the runbook outputs."""

import pulumi
import pytest

from components.dr import DrArgs
from components.dr.azure import AzureDrInputs, DisasterRecovery, redis_geo_group
from components.features import FeaturesArgs
from components.features.azure import AzureFeaturesInputs, FeatureStore
from components.registry import RegistryArgs
from components.registry.azure import AzureRegistryInputs, ModelRegistry
from components.storage.azure import PrivateEndpointTarget
from components.tracking.azure import AzureTrackingInputs, TrackingServer

from .service_inputs import DR, NAME, PRIMARY, key_grant_urn, preview, services
from .test_tracking import OPERATORS, tracking_args

SKU = "Balanced_B3"


def program():
    def run():
        built = services()
        dr_group = pulumi.Output.from_input(
            "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/mlops-test-dr")
        dr_subnet = dr_group.apply(lambda g: f"{g}/providers/Microsoft.Network/virtualNetworks/dr/subnets/postgres")
        dr_endpoints = dr_group.apply(lambda g: f"{g}/providers/Microsoft.Network/virtualNetworks/dr/subnets/endpoints")
        group = redis_geo_group(f"{NAME}-features", (built.resource_group.id, f"{NAME}-features"),
                                (dr_group, f"{NAME}-features-dr"))
        rg = built.resource_group.name
        tracking = TrackingServer("tracking", tracking_args(prod=True), AzureTrackingInputs(
            resource_group_name=rg, location=PRIMARY, postgres_subnet_id=built.postgres_subnet_id,
            postgres_dns_zone_id=built.postgres_dns_zone_id, private_endpoints=built.endpoints,
            database_key=built.keys["database"], artifacts_key=built.keys["artifacts"],
            workload_identity=built.workload_identity, tenant_id="tenant", entra_admin=OPERATORS, geo_backup_key=built.keys["database-geo"],
            writer_endpoint=True))
        features = FeatureStore("features", FeaturesArgs(name=NAME, feast_project="mlops_test",
                                                         online_feature_views=("default",)),
                                AzureFeaturesInputs(resource_group_name=rg, location=PRIMARY,
                                                    features_key=built.keys["features"], blob_endpoints=built.endpoints,
                                                    redis_endpoints=built.redis_endpoints,
                                                    workload_identity=built.workload_identity, redis_sku=SKU,
                                                    geo_replication=group))
        registry = ModelRegistry("registry", RegistryArgs(name=NAME), AzureRegistryInputs(
            resource_group_name=rg, location=PRIMARY, registry_key=built.keys["registry"],
            private_endpoints=built.registry_endpoints))
        dr = DisasterRecovery("dr", DrArgs(name=NAME, primary_region=PRIMARY, replica_region=DR, rpo_minutes=15,
                                           rto_minutes=60, network_cidr="10.41.0.0/16", deletion_protection=True),
                              AzureDrInputs(resource_group_name="mlops-test-dr", location=DR,
                                            postgres_subnet_id=dr_subnet,
                                            postgres_dns_zone_id=built.postgres_dns_zone_id,
                                            blob_endpoints=PrivateEndpointTarget(dr_endpoints, built.endpoints.dns_zone_id),
                                            redis_endpoints=PrivateEndpointTarget(dr_endpoints,
                                                                                  built.redis_endpoints.dns_zone_id),
                                            database_key=built.keys["dr"], artifacts_key=built.keys["dr"],
                                            features_key=built.keys["dr"], tracking=tracking, features=features,
                                            registry=registry))
        pulumi.export("primaryServerId", tracking.db_instance_arn)
        pulumi.export("drSubnet", dr_subnet)
        pulumi.export("artifactAccountId", tracking.artifacts.account_id)
        pulumi.export("artifactReplica", dr.artifact_replica_bucket)
        pulumi.export("featureReplica", dr.feature_replica_bucket)
        pulumi.export("replicaId", dr.db_replica_arn)
        pulumi.export("registryName", registry.registry_name)
        pulumi.export("dbUri", tracking.db_uri)
    return run


@pytest.fixture(scope="module")
def result():
    return preview(program())


def servers(result):
    return {s["inputs"]["serverName"]: s for s in result.by_type("azure-native:dbforpostgresql:Server")}


def test_database_replica_follows_the_primary_in_the_dr_region_with_the_dr_key(result):
    replica = servers(result)[f"{NAME}-tracking-dr"]
    inputs = replica["inputs"]
    assert (inputs["createMode"], inputs["location"]) == ("Replica", DR)
    assert inputs["sourceServerResourceId"] == result.outputs["primaryServerId"]
    assert inputs["network"]["delegatedSubnetResourceId"] == result.outputs["drSubnet"]
    assert inputs["network"]["publicNetworkAccess"] == "Disabled"
    assert inputs["dataEncryption"] == {"type": "AzureKeyVault", "primaryKeyURI": result.outputs["keyUri:dr"],
                                        "primaryUserAssignedIdentityId": result.outputs["identity:dr"]}
    assert replica["protect"]


def test_mlflow_connects_through_the_writer_endpoint_that_follows_promotion(result):
    (endpoint,) = result.by_type("azure-native:dbforpostgresql:VirtualEndpoint")
    inputs = endpoint["inputs"]
    assert (inputs["endpointType"], inputs["serverName"]) == ("ReadWrite", f"{NAME}-tracking")
    assert inputs["members"] == [f"{NAME}-tracking-dr"]
    host = f"{inputs['virtualEndpointName']}.writer.postgres.database.azure.com"
    assert f"@{host}:5432/mlflow?sslmode=require" in result.outputs["dbUri"]


def test_every_server_requires_tls(result):
    configured = {c["inputs"]["serverName"] for c in result.by_type("azure-native:dbforpostgresql:Configuration")
                  if c["inputs"]["configurationName"] == "require_secure_transport" and c["inputs"]["value"] == "ON"}
    assert configured == set(servers(result))


def test_artifacts_and_features_replicate_into_hardened_dr_accounts(result):
    accounts = {a["inputs"]["location"]: [] for a in result.by_type("azure-native:storage:StorageAccount")}
    for account in result.by_type("azure-native:storage:StorageAccount"):
        accounts[account["inputs"]["location"]].append(account["inputs"])
    assert len(accounts[DR]) == 2
    for account in accounts[DR]:
        assert account["encryption"]["keyVaultProperties"]["keyName"] == result.outputs["keyName:dr"]
        assert (account["publicNetworkAccess"], account["allowSharedKeyAccess"]) == ("Disabled", False)
    policies = result.by_type("azure-native:storage:ObjectReplicationPolicy")
    inbound = {p["inputs"]["accountName"]: p for p in policies if p["inputs"]["objectReplicationPolicyId"] == "default"}
    assert set(inbound) == {result.outputs["artifactReplica"], result.outputs["featureReplica"]}
    artifacts_in = inbound[result.outputs["artifactReplica"]]["inputs"]
    assert artifacts_in["sourceAccount"] == result.outputs["artifactAccountId"]
    assert artifacts_in["rules"] == [{"sourceContainer": "mlflow", "destinationContainer": "mlflow"}]
    outbound = [p["inputs"] for p in policies if p["inputs"]["objectReplicationPolicyId"] != "default"]
    assert len(outbound) == 2
    for policy in outbound:
        assert all(rule["ruleId"] for rule in policy["rules"])


def test_registry_is_geo_replicated_to_the_dr_region(result):
    (replication,) = result.by_type("azure-native:containerregistry:Replication")
    assert replication["inputs"]["location"] == DR
    assert replication["inputs"]["registryName"] == result.outputs["registryName"]


def test_online_store_has_a_geo_replica_in_the_dr_region(result):
    clusters = {c["inputs"]["location"]: c["inputs"] for c in result.by_type("azure-native:redisenterprise:RedisEnterprise")}
    assert set(clusters) == {PRIMARY, DR}
    assert clusters[DR]["encryption"]["customerManagedKeyEncryption"]["keyEncryptionKeyUrl"].startswith(
        result.outputs["keyUri:dr"] + "/")
    groups = [d["inputs"]["geoReplication"] for d in result.by_type("azure-native:redisenterprise:Database")]
    assert len(groups) == 2 and groups[0] == groups[1]


def test_every_dr_store_is_created_after_the_dr_key_grant(result):
    grant_urn = key_grant_urn(result, "dr")
    replicas = [r for r in result.resources if r["name"].startswith("dr-") and r["type"] in (
        "azure-native:dbforpostgresql:Server", "azure-native:storage:StorageAccount",
        "azure-native:redisenterprise:RedisEnterprise")]
    assert len(replicas) == 4  # database replica, two storage accounts, Redis geo-replica
    assert all(grant_urn in r["dependencies"] for r in replicas)
