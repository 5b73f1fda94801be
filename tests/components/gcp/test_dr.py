"""DR on GCP: a private, TLS-only Cloud SQL replica in the DR region with the DR key; replica buckets with
the DR keys fed by cross-bucket replication whose agent reaches only those buckets; DR image repositories;
the online store's DR cluster; bad wiring refused in one line."""

import pytest

from components.dr import DrArgs
from components.dr.gcp import DisasterRecovery, GcpDrInputs

from .data_platform import DR, NAME, PROJECT, PROJECT_NUMBER, inputs, prod, provider_of

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
BUCKET = "gcp:storage/bucket:Bucket"
JOB = "gcp:storage/transferJob:TransferJob"
AGENT = f"serviceAccount:project-{PROJECT_NUMBER}@storage-transfer-service.iam.gserviceaccount.com"


def test_database_replica_follows_the_primary_in_the_dr_region_with_the_dr_key(prod):
    replica = prod.one(INSTANCE, "dr-db")
    props = replica["inputs"]
    assert provider_of(prod, replica) == "dr" and props["region"] == DR
    assert props["masterInstanceName"] == prod.outputs["dbName"]
    assert props["encryptionKeyName"] == prod.outputs["drKey:database"]
    assert props["databaseVersion"] == "POSTGRES_16"
    assert replica["protect"] is True and props["settings"]["deletionProtectionEnabled"] is True
    assert prod.outputs["dr"]["dbReplicaId"] == f"{NAME}-tracking-dr"


def test_database_replica_is_private_and_tls_only_like_the_primary(prod):
    ip = inputs(prod, INSTANCE, "dr-db")["settings"]["ipConfiguration"]
    assert ip == inputs(prod, INSTANCE, "tracking-db")["settings"]["ipConfiguration"]
    assert ip["ipv4Enabled"] is False and ip["sslMode"] == "ENCRYPTED_ONLY"


def test_replica_buckets_live_in_the_dr_region_with_the_dr_keys(prod):
    for kind, output in (("artifacts", "artifactReplicaBucket"), ("features", "featureReplicaBucket")):
        resource = prod.one(BUCKET, f"dr-{kind}-replica")
        bucket = resource["inputs"]
        assert bucket["name"] == prod.outputs["dr"][output]
        assert bucket["location"] == DR and provider_of(prod, resource) == "dr"
        assert bucket["encryption"]["defaultKmsKeyName"] == prod.outputs[f"drKey:{kind}"]
        assert bucket["versioning"] == {"enabled": True} and bucket["publicAccessPrevention"] == "enforced"


def test_cross_bucket_replication_copies_each_primary_bucket_into_its_replica(prod):
    pairs = {(job["inputs"]["replicationSpec"]["gcsDataSource"]["bucketName"],
              job["inputs"]["replicationSpec"]["gcsDataSink"]["bucketName"]) for job in prod.by_type(JOB)}
    assert pairs == {(prod.outputs["artifactBucket"], prod.outputs["dr"]["artifactReplicaBucket"]),
                     (prod.outputs["featureBucket"], prod.outputs["dr"]["featureReplicaBucket"])}
    for job in prod.by_type(JOB):
        options = job["inputs"]["replicationSpec"]["transferOptions"]
        assert options["deleteObjectsFromSourceAfterTransfer"] is False and options["deleteObjectsUniqueInSink"] is False


def test_transfer_agent_has_roles_on_the_sources_and_replicas_only(prod):
    grants = {(r["inputs"]["bucket"], r["inputs"]["role"]) for r in prod.resources if r["inputs"].get("member") == AGENT}
    sources = (prod.outputs["artifactBucket"], prod.outputs["featureBucket"])
    replicas = (prod.outputs["dr"]["artifactReplicaBucket"], prod.outputs["dr"]["featureReplicaBucket"])
    assert grants == {*((b, r) for b in sources for r in ("roles/storage.legacyBucketOwner", "roles/storage.objectViewer")),
                      *((b, "roles/storage.legacyBucketWriter") for b in replicas)}


def test_dr_image_repositories_are_immutable_and_use_the_dr_artifacts_key(prod):
    for kind in ("model-serving", "training"):
        resource = prod.one("gcp:artifactregistry/repository:Repository", f"dr-{kind}")
        repository = resource["inputs"]
        assert repository["location"] == DR and provider_of(prod, resource) == "dr"
        assert repository["kmsKeyName"] == prod.outputs["drKey:artifacts"]
        assert repository["dockerConfig"] == {"immutableTags": True}
        assert repository["repositoryId"] == f"{NAME}-{kind}"


def test_dr_without_the_feature_store_dr_cluster_is_refused_in_one_line():
    class Features:
        online_store_clusters = {"p1": "europe-west1-b"}

    with pytest.raises(ValueError, match="feature store has no DR cluster"):
        DisasterRecovery("dr", DrArgs(name=NAME, primary_region="europe-west1", replica_region=DR, rpo_minutes=15,
                                      rto_minutes=60, network_cidr="10.41.0.0/16"),
                         GcpDrInputs(project=PROJECT, dr_provider=None, tracking=None,
                                     features=Features(), registry=None,
                                     dr_key_ids={"artifacts": "a", "database": "d", "features": "f"}))


def test_dr_without_dr_keys_is_refused_in_one_line():
    with pytest.raises(ValueError, match="no DR-region key for database, features"):
        DisasterRecovery("dr", DrArgs(name=NAME, primary_region="europe-west1", replica_region=DR, rpo_minutes=15,
                                      rto_minutes=60, network_cidr="10.41.0.0/16"),
                         GcpDrInputs(project=PROJECT, dr_provider=None, tracking=None,
                                     features=None, registry=None, dr_key_ids={"artifacts": "a"}))


def test_runbook_outputs_name_the_dr_images_replica_address_and_online_cluster(prod):
    dr = prod.outputs["dr"]
    assert dr["imageRepositoryUrls"] == {kind: f"{DR}-docker.pkg.dev/{PROJECT}/{NAME}-{kind}"
                                         for kind in ("model-serving", "training")}
    assert dr["dbReplicaPrivateIp"].startswith("10.")
    assert dr["onlineStoreReplicaZone"] == f"{DR}-b"
    assert set(dr["transferJobs"]) == {"artifacts", "features"}
