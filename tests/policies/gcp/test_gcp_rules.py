"""Every GCP rule: a hardened resource passes, each insecure spelling fails, unknowns are advisory."""
import json

import pytest

from mlops_gcp_policies.container import cluster_legacy_abac as gke_abac
from mlops_gcp_policies.container import cluster_private_nodes as gke_private
from mlops_gcp_policies.container import cluster_secrets_encryption as gke_secrets
from mlops_gcp_policies.container import cluster_shielded_nodes as gke_shielded
from mlops_gcp_policies.container import cluster_workload_identity as gke_wi
from mlops_gcp_policies.container import node_pool_secure_boot as gke_secure_boot
from mlops_gcp_policies.iam import primitive_roles as primitive
from mlops_gcp_policies.iam import project_service_account_roles as sa_roles
from mlops_gcp_policies.sql import database_instance_cmek_encryption as sql_cmek
from mlops_gcp_policies.sql import database_instance_open_networks as sql_open
from mlops_gcp_policies.sql import database_instance_public_ip as sql_public
from mlops_gcp_policies.sql import database_instance_ssl as sql_ssl
from mlops_gcp_policies.storage import bucket_cmek_encryption as bucket_cmek
from mlops_gcp_policies.storage import bucket_public_access_prevention as bucket_pap
from mlops_gcp_policies.storage import bucket_uniform_access as bucket_uniform
from tests.policies.cloud_policy_harness import (
    UNKNOWN, assert_hardened_passes_and_variant_fails, case_ids, check_resource, variant,
)

PROJECT = "mlops-prod-4711"
KEY_RING = f"projects/{PROJECT}/locations/europe-west4/keyRings/mlops"
KEY = f"{KEY_RING}/cryptoKeys/data"
BUCKET = "gcp:storage/bucket:Bucket"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"

HARDENED_BUCKET = {"location": "EUROPE-WEST4", "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced",
                   "encryption": {"defaultKmsKeyName": KEY}, "versioning": {"enabled": True}}
HARDENED_SQL = {
    "databaseVersion": "POSTGRES_16", "region": "europe-west4", "encryptionKeyName": KEY,
    "settings": {"tier": "db-custom-2-7680", "ipConfiguration": {
        "ipv4Enabled": False, "privateNetwork": f"projects/{PROJECT}/global/networks/mlops", "sslMode": "ENCRYPTED_ONLY",
        "authorizedNetworks": [{"name": "office", "value": "203.0.113.0/24"}]}},
}
SHIELDED = {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
HARDENED_CLUSTER = {
    "location": "europe-west4", "removeDefaultNodePool": True, "initialNodeCount": 1,
    "enableShieldedNodes": True, "enableLegacyAbac": False,
    "workloadIdentityConfig": {"workloadPool": f"{PROJECT}.svc.id.goog"},
    "databaseEncryption": {"state": "ENCRYPTED", "keyName": KEY},
    "privateClusterConfig": {"enablePrivateNodes": True, "enablePrivateEndpoint": True, "masterIpv4CidrBlock": "172.16.0.0/28"},
}
HARDENED_POOL = {"cluster": "mlops", "nodeConfig": {"shieldedInstanceConfig": dict(SHIELDED),
                                                    "workloadMetadataConfig": {"mode": "GKE_METADATA"}}}




CASES = [
    (bucket_uniform, BUCKET, HARDENED_BUCKET, {"uniformBucketLevelAccess": False}, "object ACLs"),
    (bucket_uniform, BUCKET, HARDENED_BUCKET, {"uniformBucketLevelAccess": ...}, "object ACLs"),
    (bucket_pap, BUCKET, HARDENED_BUCKET, {"publicAccessPrevention": "inherited"}, "can be made public"),
    (bucket_pap, BUCKET, HARDENED_BUCKET, {"publicAccessPrevention": ...}, "not set (inherited)"),
    (bucket_cmek, BUCKET, HARDENED_BUCKET, {"encryption": ...}, "Google-managed keys"),
    (bucket_cmek, BUCKET, HARDENED_BUCKET, {"encryption": {"defaultKmsKeyName": ""}}, "Google-managed keys"),
    (sql_public, SQL, HARDENED_SQL, {"settings__ipConfiguration__ipv4Enabled": True}, "has a public IP"),
    (sql_public, SQL, HARDENED_SQL, {"settings__ipConfiguration__ipv4Enabled": ...}, "defaults to true"),
    (sql_public, SQL, HARDENED_SQL, {"settings": {"tier": "db-f1-micro"}}, "defaults to true"),
    (sql_open, SQL, HARDENED_SQL, {"settings__ipConfiguration__authorizedNetworks": [{"value": "0.0.0.0/0"}]}, "any address"),
    (sql_open, SQL, HARDENED_SQL, {"settings__ipConfiguration__authorizedNetworks": [{"name": "x", "value": "10.1.2.3/0"}]},
     "any address"),
    (sql_ssl, SQL, HARDENED_SQL, {"settings__ipConfiguration__sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}, "without TLS"),
    (sql_ssl, SQL, HARDENED_SQL, {"settings__ipConfiguration__sslMode": ...}, "allows unencrypted"),
    (sql_ssl, SQL, HARDENED_SQL, {"settings__ipConfiguration__sslMode": ..., "settings__ipConfiguration__requireSsl": False},
     "allows unencrypted"),
    (sql_cmek, SQL, HARDENED_SQL, {"encryptionKeyName": ...}, "Google-managed keys"),
    (gke_wi, CLUSTER, HARDENED_CLUSTER, {"workloadIdentityConfig": ...}, "node's service account"),
    (gke_wi, CLUSTER, HARDENED_CLUSTER, {"nodePools": [{"name": "cpu", "nodeConfig": {"workloadMetadataConfig": {"mode": "GCE_METADATA"}}}]},
     "nodePools[0] (cpu): workloadMetadataConfig.mode is GCE_METADATA"),
    (gke_wi, NODE_POOL, HARDENED_POOL, {"nodeConfig__workloadMetadataConfig__mode": "GCE_METADATA"}, "GCE_METADATA"),
    (gke_shielded, CLUSTER, HARDENED_CLUSTER, {"enableShieldedNodes": False}, "verifiable identity"),
    (gke_secure_boot, NODE_POOL, HARDENED_POOL, {"nodeConfig__shieldedInstanceConfig__enableSecureBoot": False}, "unsigned boot"),
    (gke_secure_boot, NODE_POOL, HARDENED_POOL, {"nodeConfig": ...}, "unsigned boot"),
    (gke_secure_boot, NODE_POOL, HARDENED_POOL, {"nodeConfig__shieldedInstanceConfig__enableIntegrityMonitoring": False},
     "enableIntegrityMonitoring is false"),
    (gke_secure_boot, CLUSTER, HARDENED_CLUSTER, {"removeDefaultNodePool": ...}, "nodeConfig (default node pool)"),
    (gke_secure_boot, CLUSTER, HARDENED_CLUSTER, {"nodePools": [{"name": "gpu", "nodeConfig": {"machineType": "g2-standard-8"}}]},
     "nodePools[0] (gpu)"),
    (gke_secure_boot, CLUSTER, HARDENED_CLUSTER, {"clusterAutoscaling": {"enabled": True, "autoProvisioningDefaults": {}}},
     "clusterAutoscaling.autoProvisioningDefaults"),
    (gke_private, CLUSTER, HARDENED_CLUSTER, {"privateClusterConfig": ...}, "public IP addresses"),
    (gke_private, CLUSTER, HARDENED_CLUSTER, {"privateClusterConfig__enablePrivateNodes": False}, "public IP addresses"),
    (gke_private, CLUSTER, HARDENED_CLUSTER, {"nodePools": [{"name": "edge", "networkConfig": {"enablePrivateNodes": False}}]},
     "nodePools[0] (edge)"),
    (gke_private, NODE_POOL, HARDENED_POOL, {"networkConfig": {"enablePrivateNodes": False}}, "public IP addresses"),
    (gke_secrets, CLUSTER, HARDENED_CLUSTER, {"databaseEncryption": ...}, "default encryption only"),
    (gke_secrets, CLUSTER, HARDENED_CLUSTER, {"databaseEncryption": {"state": "DECRYPTED"}}, "DECRYPTED"),
    (gke_secrets, CLUSTER, HARDENED_CLUSTER, {"databaseEncryption__keyName": ...}, "keyName is not set"),
    (gke_abac, CLUSTER, HARDENED_CLUSTER, {"enableLegacyAbac": True}, "outside Kubernetes RBAC"),
]


@pytest.mark.parametrize("module,type_,base,changes,expected", CASES, ids=case_ids(CASES))
def test_hardened_passes_and_insecure_variant_fails(module, type_, base, changes, expected):
    assert_hardened_passes_and_variant_fails(module, type_, base, changes, expected)


def test_secure_defaults_pass_when_left_out():
    cluster = variant(HARDENED_CLUSTER, enableShieldedNodes=..., enableLegacyAbac=...)
    assert check_resource(gke_shielded.RULE, CLUSTER, cluster).passed
    assert check_resource(gke_abac.RULE, CLUSTER, cluster).passed


def test_legacy_require_ssl_counts_when_ssl_mode_is_absent():
    legacy = variant(HARDENED_SQL, settings__ipConfiguration__sslMode=..., settings__ipConfiguration__requireSsl=True)
    assert check_resource(sql_ssl.RULE, SQL, legacy).passed


def test_client_certificate_mode_passes():
    strict = variant(HARDENED_SQL, settings__ipConfiguration__sslMode="TRUSTED_CLIENT_CERTIFICATE_REQUIRED")
    assert check_resource(sql_ssl.RULE, SQL, strict).passed


def test_one_finding_per_open_network():
    networks = [{"value": "0.0.0.0/0"}, {"value": "10.0.0.0/8"}, {"value": "0.0.0.0/0"}]
    outcome = check_resource(sql_open.RULE, SQL, variant(HARDENED_SQL, settings__ipConfiguration__authorizedNetworks=networks))
    assert [m.split(" is ")[0] for m in outcome.messages] == [
        "settings.ipConfiguration.authorizedNetworks[0]", "settings.ipConfiguration.authorizedNetworks[2]"]


class TestAutopilot:
    autopilot = {"location": "europe-west4", "enableAutopilot": True,
                 "databaseEncryption": {"state": "ENCRYPTED", "keyName": KEY},
                 "privateClusterConfig": {"enablePrivateNodes": True}}

    @pytest.mark.parametrize("module", [gke_wi, gke_secure_boot, gke_shielded, gke_abac, gke_private, gke_secrets])
    def test_autopilot_hardens_nodes_itself(self, module):
        assert check_resource(module.RULE, CLUSTER, self.autopilot).passed

    def test_autopilot_still_needs_private_nodes(self):
        assert not check_resource(gke_private.RULE, CLUSTER, variant(self.autopilot, privateClusterConfig=...)).passed


@pytest.mark.parametrize("module,type_,base,path,fragment", [
    (bucket_pap, BUCKET, HARDENED_BUCKET, "publicAccessPrevention", "publicAccessPrevention"),
    (sql_public, SQL, HARDENED_SQL, "settings__ipConfiguration__ipv4Enabled", "ipv4Enabled"),
    (sql_ssl, SQL, HARDENED_SQL, "settings__ipConfiguration__sslMode", "sslMode"),
    (gke_secrets, CLUSTER, HARDENED_CLUSTER, "databaseEncryption__state", "databaseEncryption.state"),
    (gke_wi, CLUSTER, HARDENED_CLUSTER, "enableAutopilot", "enableAutopilot"),
])
def test_unknown_deciding_value_is_reported_as_cannot_check(module, type_, base, path, fragment):
    outcome = check_resource(module.RULE, type_, variant(base, **{path: UNKNOWN}))
    assert outcome.violations == []
    assert "cannot check during preview" in outcome.cannot_check and fragment in outcome.cannot_check


def test_key_names_unknown_at_preview_count_as_set():
    assert check_resource(bucket_cmek.RULE, BUCKET, variant(HARDENED_BUCKET, encryption__defaultKmsKeyName=UNKNOWN)).passed
    assert check_resource(sql_cmek.RULE, SQL, variant(HARDENED_SQL, encryptionKeyName=UNKNOWN)).passed
    assert check_resource(gke_secrets.RULE, CLUSTER, variant(HARDENED_CLUSTER, databaseEncryption__keyName=UNKNOWN)).passed


# --- IAM: every resource shape ---------------------------------------------------------------------

def policy_data(*bindings):
    return json.dumps({"bindings": [{"role": r, "members": m} for r, m in bindings]})


PRIMITIVE_GRANTS = [
    ("gcp:projects/iAMMember:IAMMember", {"project": PROJECT, "role": "roles/owner", "member": "user:ada@example.com"}),
    ("gcp:projects/iAMBinding:IAMBinding", {"project": PROJECT, "role": "roles/editor", "members": ["group:ml@example.com"]}),
    ("gcp:projects/iAMPolicy:IAMPolicy", {"project": PROJECT, "policyData": policy_data(
        ("roles/viewer", ["group:all@example.com"]), ("roles/owner", ["user:ada@example.com"]))}),
    ("gcp:folder/iAMMember:IAMMember", {"folder": "folders/123", "role": "roles/editor", "member": "user:ada@example.com"}),
    ("gcp:organizations/iAMBinding:IAMBinding", {"orgId": "456", "role": "roles/owner", "members": ["user:ada@example.com"]}),
    ("gcp:organizations/iAMPolicy:IAMPolicy", {"orgId": "456", "policyData": policy_data(("roles/editor", ["domain:example.com"]))}),
    ("gcp:storage/bucketIAMMember:BucketIAMMember", {"bucket": "mlops-artifacts", "role": "roles/owner", "member": "allUsers"}),
    ("gcp:serviceaccount/iAMBinding:IAMBinding", {"serviceAccountId": "sa", "role": "roles/editor", "members": ["user:ada@example.com"]}),
    ("gcp:secretmanager/secretIamPolicy:SecretIamPolicy", {"secretId": "db", "policyData": policy_data(("roles/owner", ["user:x@example.com"]))}),
]


@pytest.mark.parametrize("type_,props", PRIMITIVE_GRANTS, ids=[t.split(":")[1] for t, _ in PRIMITIVE_GRANTS])
def test_primitive_role_fails_in_every_iam_shape(type_, props):
    outcome = check_resource(primitive.RULE, type_, props)
    assert len(outcome.violations) == 1 and "primitive role roles/" in outcome.messages[0]


@pytest.mark.parametrize("type_,props", [
    ("gcp:projects/iAMMember:IAMMember", {"project": PROJECT, "role": "roles/storage.objectViewer", "member": "user:a@example.com"}),
    ("gcp:projects/iAMBinding:IAMBinding", {"project": PROJECT, "role": "roles/owner", "members": []}),
    ("gcp:projects/iAMPolicy:IAMPolicy", {"project": PROJECT, "policyData": policy_data(("roles/viewer", ["user:a@example.com"]))}),
    ("gcp:projects/iAMMember:IAMMember", {"project": PROJECT, "role": f"projects/{PROJECT}/roles/owner", "member": "user:a@example.com"}),
    ("gcp:projects/iAMAuditConfig:IAMAuditConfig", {"project": PROJECT, "service": "allServices"}),
])
def test_narrow_roles_and_role_removal_pass(type_, props):
    assert check_resource(primitive.RULE, type_, props).passed


def test_malformed_policy_data_fails_closed():
    outcome = check_resource(primitive.RULE, "gcp:projects/iAMPolicy:IAMPolicy", {"project": PROJECT, "policyData": "{not json"})
    assert "cannot verify" in outcome.messages[0]


def test_unknown_policy_data_and_roles_are_cannot_check():
    assert check_resource(primitive.RULE, "gcp:projects/iAMPolicy:IAMPolicy", {"policyData": UNKNOWN}).cannot_check
    assert check_resource(primitive.RULE, "gcp:projects/iAMMember:IAMMember", {"role": UNKNOWN, "member": "user:a@x"}).cannot_check
    members_unknown = check_resource(primitive.RULE, "gcp:projects/iAMBinding:IAMBinding", {"role": "roles/owner", "members": UNKNOWN})
    assert members_unknown.cannot_check and not members_unknown.violations


@pytest.mark.parametrize("type_,props,level", [
    ("gcp:projects/iAMMember:IAMMember", {"project": PROJECT, "role": "roles/iam.serviceAccountUser", "member": "group:ml@example.com"}, "project"),
    ("gcp:projects/iAMBinding:IAMBinding", {"project": PROJECT, "role": "roles/iam.serviceAccountTokenCreator", "members": ["user:a@example.com"]}, "project"),
    ("gcp:projects/iAMPolicy:IAMPolicy", {"project": PROJECT, "policyData": policy_data(("roles/iam.serviceAccountAdmin", ["user:a@example.com"]))}, "project"),
    ("gcp:folder/iAMMember:IAMMember", {"folder": "folders/1", "role": "roles/iam.serviceAccountUser", "member": "user:a@example.com"}, "folder"),
    ("gcp:organizations/iAMMember:IAMMember", {"orgId": "456", "role": "roles/iam.serviceAccountTokenCreator", "member": "user:a@example.com"}, "organization"),
])
def test_service_account_roles_at_project_folder_org_level_fail(type_, props, level):
    outcome = check_resource(sa_roles.RULE, type_, props)
    assert len(outcome.violations) == 1 and f"at {level} level" in outcome.messages[0]


def test_service_account_roles_on_one_service_account_pass():
    grant = {"serviceAccountId": f"projects/{PROJECT}/serviceAccounts/trainer@{PROJECT}.iam.gserviceaccount.com",
             "role": "roles/iam.serviceAccountUser", "member": "serviceAccount:ci@example.iam.gserviceaccount.com"}
    assert check_resource(sa_roles.RULE, "gcp:serviceaccount/iAMMember:IAMMember", grant).passed
    assert check_resource(sa_roles.RULE, "gcp:projects/iAMMember:IAMMember",
                          {"project": PROJECT, "role": "roles/iam.serviceAccountViewer", "member": "user:a@example.com"}).passed
