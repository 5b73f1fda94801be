"""Tracking on GCP: Cloud SQL private and TLS-only with the database key, HA/backups/protection in prod,
the MLflow user's generated password kept secret into the cluster Secret, a hardened artifact bucket,
and an MLflow identity that can reach that bucket only."""

import pytest

from components.storage import BucketArgs
from components.storage.gcp import bucket_name, gcp_labels, lifecycle_rules
from components.tracking import TrackingArgs

from .data_platform import NAME, PROJECT, dev, inputs, prod, urn_of

INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
BUCKET = "gcp:storage/bucket:Bucket"


def db(result):
    return inputs(result, INSTANCE, "tracking-db")


def test_database_is_reachable_only_over_private_ip_with_tls(prod, dev):
    for result in (prod, dev):
        ip = db(result)["settings"]["ipConfiguration"]
        assert ip["ipv4Enabled"] is False
        assert ip["privateNetwork"] == result.outputs["networkId"]
        assert ip["sslMode"] == "ENCRYPTED_ONLY"
        assert "authorizedNetworks" not in ip


def test_database_waits_for_private_services_access(prod):
    instance = prod.one(INSTANCE, "tracking-db")
    assert urn_of(prod, "gcp:servicenetworking/connection:Connection", "peering") in instance["dependencies"]


def test_database_is_encrypted_with_the_database_key(prod, dev):
    for result in (prod, dev):
        assert db(result)["encryptionKeyName"] == result.outputs["key:database"]


def test_prod_database_is_regional_protected_and_keeps_14_backups(prod):
    instance, settings = db(prod), db(prod)["settings"]
    assert settings["availabilityType"] == "REGIONAL"
    assert instance["deletionProtection"] is True and settings["deletionProtectionEnabled"] is True
    assert prod.one(INSTANCE, "tracking-db")["protect"] is True
    assert settings["backupConfiguration"]["backupRetentionSettings"] == {"retainedBackups": 14, "retentionUnit": "COUNT"}


def test_dev_database_is_zonal_unprotected_but_still_backed_up_with_pitr(dev):
    settings = db(dev)["settings"]
    assert settings["availabilityType"] == "ZONAL"
    assert dev.one(INSTANCE, "tracking-db")["protect"] is False
    backups = settings["backupConfiguration"]
    assert backups["enabled"] is True and backups["pointInTimeRecoveryEnabled"] is True
    assert backups["backupRetentionSettings"]["retainedBackups"] == 7


def test_database_has_iam_auth_query_insights_and_the_enterprise_edition(dev):
    instance = db(dev)
    assert instance["databaseVersion"] == "POSTGRES_16"
    settings = instance["settings"]
    assert {"name": "cloudsql.iam_authentication", "value": "on"} in settings["databaseFlags"]
    for flag in ("log_checkpoints", "log_connections", "log_disconnections", "log_lock_waits", "log_hostname"):
        assert {"name": flag, "value": "on"} in settings["databaseFlags"]  # session logging (CIS GCP 6.2.x)
    assert settings["insightsConfig"]["queryInsightsEnabled"] is True
    assert settings["edition"] == "ENTERPRISE"  # db-custom tiers; PostgreSQL 16 would default to Enterprise Plus
    assert settings["diskAutoresize"] is True and settings["diskAutoresizeLimit"] == 80


def test_mlflow_database_and_user_with_a_secret_generated_password(prod):
    assert inputs(prod, "gcp:sql/database:Database", "tracking-db-mlflow")["name"] == "mlflow"
    user = prod.one("gcp:sql/user:User", "tracking-db-mlflow-user")
    assert user["inputs"]["name"] == "mlflow" and user["inputs"]["type"] == "BUILT_IN"
    assert prod.is_secret(user["urn"], "password")
    password = inputs(prod, "random:index/randomPassword:RandomPassword", "tracking-db-password")
    assert password["length"] >= 32 and password["special"] is False  # URI-safe


def test_cluster_secret_holds_the_private_ip_uri_and_is_secret(prod):
    secret = prod.one("kubernetes:core/v1:Secret", "tracking-db-uri")
    assert secret["inputs"]["metadata"]["name"] == "mlflow-database"
    assert secret["inputs"]["metadata"]["namespace"] == "mlops"
    uri = secret["inputs"]["stringData"]["uri"]
    assert uri.startswith("postgresql+psycopg2://mlflow:") and uri.endswith("@tracking-db.prod.mlops.internal:5432/mlflow?sslmode=require")
    assert prod.is_secret(secret["urn"], "stringData")
    assert prod.masked_outputs()["dbUri"] == "[secret]"
    # MLflow must not find the Secret before its database user and name exist.
    assert urn_of(prod, "gcp:sql/user:User", "tracking-db-mlflow-user") in secret["dependencies"]
    assert urn_of(prod, "gcp:dns/recordSet:RecordSet", "tracking-db") in secret["dependencies"]


def test_mlflow_reaches_the_database_by_a_private_name_the_runbook_can_repoint(prod):
    zone = inputs(prod, "gcp:dns/managedZone:ManagedZone", "tracking-internal")
    assert zone["dnsName"] == "prod.mlops.internal." and zone["visibility"] == "private"
    assert zone["privateVisibilityConfig"] == {"networks": [{"networkUrl": prod.outputs["networkId"]}]}
    record = inputs(prod, "gcp:dns/recordSet:RecordSet", "tracking-db")
    assert (record["name"], record["type"], record["ttl"]) == ("tracking-db.prod.mlops.internal.", "A", 60)
    assert record["rrdatas"] == [prod.outputs["dbPrivateIp"]] and record["managedZone"] == zone["name"]
    assert prod.outputs["dbRecord"] == {"zone_id": zone["name"], "name": "tracking-db.prod.mlops.internal"}


def test_artifact_bucket_is_cmek_only_uniform_private_versioned_and_soft_deleting(prod):
    bucket = inputs(prod, BUCKET, "tracking-artifacts")
    assert bucket["name"] == prod.outputs["artifactBucket"] == f"{NAME}-artifacts-{PROJECT}"
    assert bucket["encryption"]["defaultKmsKeyName"] == prod.outputs["key:artifacts"]
    assert bucket["encryption"]["googleManagedEncryptionEnforcementConfig"] == {"restrictionMode": "FullyRestricted"}
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["softDeletePolicy"]["retentionDurationSeconds"] >= 7 * 24 * 3600
    assert bucket["location"] == "europe-west1"
    assert prod.outputs["artifactRoot"] == f"gs://{bucket['name']}/mlflow"


def test_artifact_bucket_is_protected_in_prod_and_disposable_in_dev(prod, dev):
    assert prod.one(BUCKET, "tracking-artifacts")["protect"] is True
    assert inputs(prod, BUCKET, "tracking-artifacts")["forceDestroy"] is False
    assert dev.one(BUCKET, "tracking-artifacts")["protect"] is False


def test_artifact_lifecycle_expires_noncurrent_versions_aborts_uploads_and_tiers_down():
    rules = lifecycle_rules(BucketArgs(name="mlops-x-artifacts", tier_down_prefix="offline/"))
    by_action = {rule["action"]["type"] + rule["action"].get("storage_class", ""): rule["condition"] for rule in rules}
    assert by_action["Delete"] == {"days_since_noncurrent_time": 90, "with_state": "ARCHIVED"}
    assert by_action["AbortIncompleteMultipartUpload"] == {"age": 7}
    assert by_action["SetStorageClassNEARLINE"]["age"] == 30
    assert by_action["SetStorageClassCOLDLINE"]["age"] == 180
    assert by_action["SetStorageClassNEARLINE"]["matches_prefixes"] == ["offline/"]


def test_bucket_names_stay_within_63_characters():
    assert bucket_name("mlops-dev-artifacts", "p" * 30) == "mlops-dev-artifacts-" + "p" * 30
    long_name = bucket_name("mlops-a-very-long-stack-name-artifacts", "project-with-a-long-id-12345")
    assert len(long_name) <= 63 and long_name.startswith("mlops-a-very-long-stack-name-artifacts-")


def test_mlflow_identity_reaches_only_the_artifact_bucket(prod):
    member = f"serviceAccount:{prod.outputs['mlflowSa']}"
    grants = [r["inputs"] for r in prod.resources if r["inputs"].get("member") == member]
    assert grants == [{"bucket": prod.outputs["artifactBucket"], "role": "roles/storage.objectUser", "member": member}]
    binding = inputs(prod, "gcp:serviceaccount/iAMMember:IAMMember", "tracking-mlflow-wi")
    assert binding["member"] == f"serviceAccount:{PROJECT}.svc.id.goog[mlops/mlflow]"


def test_bad_engine_version_is_refused_in_one_line():
    with pytest.raises(ValueError, match="engine version 'sixteen'"):
        TrackingArgs(name="x", environment="dev", db_instance_class="db-custom-2-7680", db_allocated_storage_gb=20,
                     db_engine_version="sixteen", multi_az=False, backup_retention_days=7, deletion_protection=False,
                     performance_insights=False)


def test_tags_become_valid_gcp_labels():
    assert gcp_labels({"Owner": "ML.Platform@acme", "cost-center": "R&D 42", "9lives": "x"}) == {
        "owner": "ml-platform-acme", "cost-center": "r-d-42"}
