"""Features on GCP: the Feast bucket from the hardened helper with the features key, a Bigtable online store
encrypted per cluster (second zone in prod, DR-region cluster with the DR key), and a Feast identity limited
to this bucket's prefixes and this instance's rows."""

import pytest

from components.features import FeaturesArgs
from components.features.gcp import FeatureStore, GcpFeaturesInputs

from .data_platform import NAME, PROJECT, PROJECT_NUMBER, dev, inputs, prod, urn_of, workload_identity

INSTANCE = "gcp:bigtable/instance:Instance"
KEY_GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
BIGTABLE_AGENT = f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-bigtable.iam.gserviceaccount.com"


def test_feast_bucket_is_the_hardened_bucket_with_the_features_key(dev):
    bucket = inputs(dev, "gcp:storage/bucket:Bucket", "features-store")
    assert bucket["name"] == dev.outputs["featureBucket"]
    assert bucket["encryption"]["defaultKmsKeyName"] == dev.outputs["key:features"]
    assert bucket["uniformBucketLevelAccess"] is True and bucket["publicAccessPrevention"] == "enforced"
    tiering = [rule for rule in bucket["lifecycleRules"] if rule["action"]["type"] == "SetStorageClass"]
    assert tiering and all(rule["condition"]["matchesPrefixes"] == ["offline/"] for rule in tiering)
    assert dev.outputs["registryPath"] == f"gs://{bucket['name']}/registry/registry.db"
    assert dev.outputs["offlineStorePath"] == f"gs://{bucket['name']}/offline"


def test_dev_online_store_is_one_autoscaled_cluster_with_the_features_key(dev):
    instance = inputs(dev, INSTANCE, "features-online")
    [cluster] = instance["clusters"]
    assert cluster["zone"] == "europe-west1-b" and cluster["kmsKeyName"] == dev.outputs["key:features"]
    assert cluster["autoscalingConfig"]["minNodes"] == 1
    assert instance["deletionProtection"] is False
    assert dev.outputs["onlineStore"] == {"type": "bigtable", "project_id": PROJECT, "instance": f"{NAME}-features"}


def test_prod_online_store_spans_two_zones_and_the_dr_region_with_its_keys(prod):
    instance = inputs(prod, INSTANCE, "features-online")
    clusters = {cluster["zone"]: cluster["kmsKeyName"] for cluster in instance["clusters"]}
    assert clusters == {"europe-west1-b": prod.outputs["key:features"], "europe-west1-c": prod.outputs["key:features"],
                        "europe-west4-b": prod.outputs["drKey:features"]}
    assert instance["deletionProtection"] is True and prod.one(INSTANCE, "features-online")["protect"] is True


def test_bigtable_agent_is_created_and_may_use_every_cluster_key_before_the_instance_exists(prod):
    agent = prod.one("gcp:projects/serviceIdentity:ServiceIdentity", "features-bigtable-agent")
    assert agent["inputs"]["service"] == "bigtableadmin.googleapis.com"
    grants = {g["inputs"]["cryptoKeyId"]: g for g in prod.by_type(KEY_GRANT) if g["inputs"]["member"] == BIGTABLE_AGENT}
    assert set(grants) == {prod.outputs["key:features"], prod.outputs["drKey:features"]}
    assert all(g["inputs"]["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter" for g in grants.values())
    instance = prod.one(INSTANCE, "features-online")
    assert {g["urn"] for g in grants.values()} <= set(instance["dependencies"])
    assert all(agent["urn"] in g["dependencies"] for g in grants.values())
    # The DR key lives in the DR region: its grant goes through the DR provider.
    dr_grant = grants[prod.outputs["drKey:features"]]
    assert "pulumi:providers:gcp::dr::" in dr_grant["provider"]


def test_feast_identity_reads_the_bucket_writes_only_registry_and_offline_and_uses_only_this_instance(prod):
    member = f"serviceAccount:{prod.outputs['feastSa']}"
    grants = {r["inputs"]["role"]: r["inputs"] for r in prod.resources if r["inputs"].get("member") == member}
    tables_role = f"projects/{PROJECT}/roles/{NAME.replace('-', '_')}_feast_tables"
    assert set(grants) == {"roles/storage.objectViewer", "roles/storage.legacyBucketReader",
                           "roles/storage.objectUser", "roles/bigtable.user", tables_role}
    assert grants[tables_role]["instance"] == f"{NAME}-features"
    [custom] = [r["inputs"] for r in prod.resources if r["type"] == "gcp:projects/iAMCustomRole:IAMCustomRole"]
    assert sorted(custom["permissions"]) == ["bigtable.tables.create", "bigtable.tables.update"]
    bucket = prod.outputs["featureBucket"]
    assert grants["roles/storage.objectViewer"]["bucket"] == bucket
    assert grants["roles/storage.objectUser"]["condition"]["expression"] == (
        f'resource.name == "projects/_/buckets/{bucket}/objects/registry/registry.db" || '
        f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/offline/")')
    assert grants["roles/bigtable.user"]["instance"] == f"{NAME}-features"
    binding = inputs(prod, "gcp:serviceaccount/iAMMember:IAMMember", "features-feature-server-wi")
    assert binding["member"] == f"serviceAccount:{PROJECT}.svc.id.goog[mlops/feast]"


def test_feast_registry_store_may_get_the_bucket(prod):
    """Feast's GCS registry store calls get_bucket (storage.buckets.get) before reading or writing the registry."""
    member = f"serviceAccount:{prod.outputs['feastSa']}"
    [grant] = [r["inputs"] for r in prod.resources
               if r["inputs"].get("member") == member and r["inputs"].get("role") == "roles/storage.legacyBucketReader"]
    assert grant["bucket"] == prod.outputs["featureBucket"] and "condition" not in grant


def test_high_availability_without_a_second_zone_is_refused_in_one_line():
    with pytest.raises(ValueError, match="high availability needs two zones"):
        FeatureStore("features",
                              FeaturesArgs(name=NAME, feast_project="mlops_prod", online_feature_views=("default",)),
                              GcpFeaturesInputs(project=PROJECT, region="europe-west1",
                                                zones=("europe-west1-b",), features_key_id="k",
                                                workload_identity=workload_identity, high_availability=True))
