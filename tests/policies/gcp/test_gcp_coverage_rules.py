"""The GCP rules that close Checkov's coverage gaps (issue 13): the platform's hardened resource passes,
each insecure spelling fails with exactly one finding, and unknowns are advisory."""
import pytest

from mlops_gcp_policies.artifactregistry import repository_cmek_encryption as ar_cmek
from mlops_gcp_policies.bigtable import instance_cmek_encryption as bt_cmek
from mlops_gcp_policies.bigtable import instance_deletion_protection as bt_protection
from mlops_gcp_policies.compute import firewall_open_ingress as open_ingress
from mlops_gcp_policies.compute import network_custom_mode as custom_mode
from mlops_gcp_policies.compute import subnetwork_flow_logs as flow_logs
from mlops_gcp_policies.compute import subnetwork_private_google_access as pga
from mlops_gcp_policies.container import cluster_client_certificate as client_cert
from mlops_gcp_policies.container import cluster_intranode_visibility as intranode
from mlops_gcp_policies.container import cluster_kubernetes_alpha as alpha
from mlops_gcp_policies.container import cluster_labels as labels
from mlops_gcp_policies.container import cluster_logging as logging
from mlops_gcp_policies.container import cluster_master_authorized_networks as authorized_networks
from mlops_gcp_policies.container import cluster_monitoring as monitoring
from mlops_gcp_policies.container import cluster_network_policy as network_policy
from mlops_gcp_policies.container import cluster_release_channel as release_channel
from mlops_gcp_policies.container import cluster_vpc_native as vpc_native
from mlops_gcp_policies.container import node_pool_auto_management as auto_management
from mlops_gcp_policies.container import node_pool_cos_image as cos_image
from mlops_gcp_policies.iam import default_service_accounts as default_sa
from mlops_gcp_policies.kms import crypto_key_protect as key_protect
from mlops_gcp_policies.sql import database_instance_backups as backups
from mlops_gcp_policies.sql import database_instance_log_flags as log_flags
from mlops_gcp_policies.storage import bucket_versioning as versioning
from tests.policies.cloud_policy_harness import (
    UNKNOWN, assert_hardened_passes_and_variant_fails, case_ids, check_resource, variant,
)

PROJECT = "acme-ml-prod"
KEY = f"projects/{PROJECT}/locations/europe-west4/keyRings/mlops/cryptoKeys/data"
NETWORK = f"projects/{PROJECT}/global/networks/mlops"
FIREWALL = "gcp:compute/firewall:Firewall"
VPC = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
BIGTABLE = "gcp:bigtable/instance:Instance"
BUCKET = "gcp:storage/bucket:Bucket"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"

# The shapes the platform's components write (build/plan/gcp-prod.json).
HEALTH_CHECKS = {"allows": [{"protocol": "tcp"}], "direction": "INGRESS", "network": NETWORK,
                 "sourceRanges": ["35.191.0.0/16", "130.211.0.0/22"], "targetTags": ["mlops-node"]}
HARDENED_VPC = {"name": "mlops", "autoCreateSubnetworks": False, "routingMode": "REGIONAL"}
HARDENED_SUBNET = {"ipCidrRange": "10.50.128.0/20", "network": NETWORK, "privateIpGoogleAccess": True, "logConfig": {
    "aggregationInterval": "INTERVAL_5_SEC", "flowSampling": 0.5, "metadata": "INCLUDE_ALL_METADATA"}}
HARDENED_CLUSTER = {
    "location": "europe-west4", "removeDefaultNodePool": True, "initialNodeCount": 1,
    "datapathProvider": "ADVANCED_DATAPATH", "networkingMode": "VPC_NATIVE", "enableIntranodeVisibility": True,
    "ipAllocationPolicy": {"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"},
    "loggingConfig": {"enableComponents": ["SYSTEM_COMPONENTS", "WORKLOADS", "APISERVER"]},
    "monitoringConfig": {"enableComponents": ["SYSTEM_COMPONENTS", "DCGM"], "managedPrometheus": {"enabled": True}},
    "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
    "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.50.0.0/16", "displayName": "platform VPC"}],
                                       "gcpPublicCidrsAccessEnabled": False},
    "releaseChannel": {"channel": "REGULAR"}, "resourceLabels": {"component": "cluster", "owner": "ml-platform"},
}
HARDENED_POOL = {"cluster": "mlops", "management": {"autoRepair": True, "autoUpgrade": True},
                 "nodeConfig": {"imageType": "COS_CONTAINERD", "machineType": "n2-standard-4"}}
LOG_FLAGS = [{"name": f, "value": "on"} for f in
             ("log_checkpoints", "log_connections", "log_disconnections", "log_lock_waits", "log_hostname")]
HARDENED_SQL = {"databaseVersion": "POSTGRES_16", "settings": {"tier": "db-custom-4-16384", "backupConfiguration": {
    "enabled": True, "pointInTimeRecoveryEnabled": True}, "databaseFlags": [
        {"name": "cloudsql.iam_authentication", "value": "on"}, *LOG_FLAGS]}}
HARDENED_REPOSITORY = {"format": "DOCKER", "repositoryId": "models", "kmsKeyName": KEY}
HARDENED_BIGTABLE = {"name": "features", "deletionProtection": True, "clusters": [
    {"clusterId": "features-p1", "zone": "europe-west4-a", "kmsKeyName": KEY},
    {"clusterId": "features-dr", "zone": "europe-west1-b", "kmsKeyName": KEY.replace("europe-west4", "europe-west1")}]}
HARDENED_BUCKET = {"location": "europe-west4", "versioning": {"enabled": True}}
NODE_GRANT = {"project": PROJECT, "role": "roles/container.defaultNodeServiceAccount",
              "member": f"serviceAccount:mlops-nodes@{PROJECT}.iam.gserviceaccount.com"}

CASES = [
    # CKV_GCP_2/3/75/77/88/106, CKV2_GCP_12: one control, any port open to the internet
    (open_ingress, FIREWALL, HEALTH_CHECKS, {"sourceRanges": ["0.0.0.0/0"], "allows": [{"protocol": "tcp", "ports": ["22"]}]},
     "tcp 22 from 0.0.0.0/0"),
    (open_ingress, FIREWALL, HEALTH_CHECKS, {"sourceRanges": ["::/0"], "allows": [{"protocol": "all"}]}, "all (all ports)"),
    (open_ingress, FIREWALL, HEALTH_CHECKS, {"sourceRanges": ..., "targetTags": ...}, "no source (which means 0.0.0.0/0)"),
    (custom_mode, VPC, HARDENED_VPC, {"autoCreateSubnetworks": True}, "creates a subnet in every region"),
    (custom_mode, VPC, HARDENED_VPC, {"autoCreateSubnetworks": ...}, "the default is true"),
    (flow_logs, SUBNET, HARDENED_SUBNET, {"logConfig": ...}, "not recorded in VPC flow logs"),
    (pga, SUBNET, HARDENED_SUBNET, {"privateIpGoogleAccess": False}, "only through NAT"),
    (pga, SUBNET, HARDENED_SUBNET, {"privateIpGoogleAccess": ...}, "only through NAT"),
    (logging, CLUSTER, HARDENED_CLUSTER, {"loggingService": "none"}, "not collected"),
    (logging, CLUSTER, HARDENED_CLUSTER, {"loggingConfig__enableComponents": []}, "lacks SYSTEM_COMPONENTS"),
    (monitoring, CLUSTER, HARDENED_CLUSTER, {"monitoringService": "none"}, "metrics"),
    (monitoring, CLUSTER, HARDENED_CLUSTER, {"monitoringConfig__enableComponents": ["DCGM"]}, "lacks SYSTEM_COMPONENTS"),
    (auto_management, NODE_POOL, HARDENED_POOL, {"management__autoRepair": False}, "autoRepair is not true"),
    (auto_management, NODE_POOL, HARDENED_POOL, {"management": {"autoUpgrade": True}}, "autoRepair is not true"),
    (auto_management, NODE_POOL, HARDENED_POOL, {"management__autoUpgrade": False}, "security patches"),
    (auto_management, CLUSTER, HARDENED_CLUSTER, {"nodePools": [{"name": "cpu", "management": {"autoRepair": True}}]},
     "nodePools[0] (cpu): management.autoUpgrade"),
    (network_policy, CLUSTER, HARDENED_CLUSTER, {"datapathProvider": ...}, "silently ignored"),
    (network_policy, CLUSTER, HARDENED_CLUSTER, {"datapathProvider": "LEGACY_DATAPATH", "networkPolicy": {"enabled": False}},
     "silently ignored"),
    (client_cert, CLUSTER, HARDENED_CLUSTER, {"masterAuth__clientCertificateConfig__issueClientCertificate": True},
     "cannot be revoked"),
    (authorized_networks, CLUSTER, HARDENED_CLUSTER, {"masterAuthorizedNetworksConfig": ...}, "any address"),
    (authorized_networks, CLUSTER, HARDENED_CLUSTER,
     {"masterAuthorizedNetworksConfig__cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]}, "authorizes 0.0.0.0/0"),
    (authorized_networks, CLUSTER, HARDENED_CLUSTER, {"masterAuthorizedNetworksConfig__gcpPublicCidrsAccessEnabled": True},
     "any customer's VM"),
    (labels, CLUSTER, HARDENED_CLUSTER, {"resourceLabels": ...}, "no resourceLabels"),
    (cos_image, NODE_POOL, HARDENED_POOL, {"nodeConfig__imageType": "UBUNTU_CONTAINERD"}, "UBUNTU_CONTAINERD"),
    (cos_image, CLUSTER, HARDENED_CLUSTER, {"nodePools": [{"name": "gpu", "nodeConfig": {"imageType": "WINDOWS_LTSC"}}]},
     "nodePools[0] (gpu): imageType is WINDOWS_LTSC"),
    (vpc_native, CLUSTER, HARDENED_CLUSTER, {"networkingMode": "ROUTES"}, "routes-based"),
    (vpc_native, CLUSTER, HARDENED_CLUSTER, {"ipAllocationPolicy": ...}, "routes-based"),
    (release_channel, CLUSTER, HARDENED_CLUSTER, {"releaseChannel": ...}, "static version path"),
    (release_channel, CLUSTER, HARDENED_CLUSTER, {"releaseChannel__channel": "UNSPECIFIED"}, "static version path"),
    (alpha, CLUSTER, HARDENED_CLUSTER, {"enableKubernetesAlpha": True}, "deleted after 30 days"),
    (intranode, CLUSTER, HARDENED_CLUSTER, {"enableIntranodeVisibility": ...}, "invisible to VPC flow logs"),
    (intranode, CLUSTER, HARDENED_CLUSTER, {"enableIntranodeVisibility": False}, "invisible to VPC flow logs"),
    (backups, SQL, HARDENED_SQL, {"settings__backupConfiguration__enabled": False}, "no automated backups"),
    (backups, SQL, HARDENED_SQL, {"settings__backupConfiguration": ...}, "no automated backups"),
    (log_flags, SQL, HARDENED_SQL, {"settings__databaseFlags": LOG_FLAGS[1:]}, "do not set log_checkpoints to on"),
    (log_flags, SQL, HARDENED_SQL, {"settings__databaseFlags": [{"name": "log_connections", "value": "off"}]},
     "log_checkpoints, log_connections, log_disconnections, log_lock_waits, log_hostname"),
    (default_sa, PROJECT_MEMBER, NODE_GRANT, {"member": "serviceAccount:123456789012-compute@developer.gserviceaccount.com"},
     "default service account"),
    (default_sa, PROJECT_MEMBER, NODE_GRANT, {"member": f"serviceAccount:{PROJECT}@appspot.gserviceaccount.com"},
     "default service account"),
    (ar_cmek, REPOSITORY, HARDENED_REPOSITORY, {"kmsKeyName": ...}, "Google-managed keys"),
    (bt_cmek, BIGTABLE, HARDENED_BIGTABLE, {"clusters": [{"clusterId": "features-p1", "zone": "europe-west4-a"}]},
     "clusters[0] (features-p1): kmsKeyName is not set"),
    (bt_protection, BIGTABLE, HARDENED_BIGTABLE, {"deletionProtection": False}, "deletes the instance"),
    (versioning, BUCKET, HARDENED_BUCKET, {"versioning": ...}, "gone for good"),
    (versioning, BUCKET, HARDENED_BUCKET, {"versioning__enabled": False}, "gone for good"),
]


@pytest.mark.parametrize("module,type_,base,changes,expected", CASES, ids=case_ids(CASES))
def test_hardened_passes_and_insecure_variant_fails(module, type_, base, changes, expected):
    assert_hardened_passes_and_variant_fails(module, type_, base, changes, expected)


def test_deny_rules_disabled_rules_and_egress_rules_open_to_the_internet_pass():
    deny_all = {"denies": [{"protocol": "all"}], "direction": "INGRESS", "sourceRanges": ["0.0.0.0/0"]}
    for props in (deny_all, variant(HEALTH_CHECKS, sourceRanges=["0.0.0.0/0"], disabled=True),
                  variant(HEALTH_CHECKS, sourceRanges=..., direction="EGRESS", destinationRanges=["0.0.0.0/0"]),
                  variant(HEALTH_CHECKS, sourceRanges=..., sourceTags=["bastion"])):
        assert check_resource(open_ingress.RULE, FIREWALL, props).passed, props


def test_secure_defaults_pass_when_left_out():
    cluster = variant(HARDENED_CLUSTER, masterAuth=..., loggingConfig=..., monitoringConfig=...)
    for module in (client_cert, logging, monitoring, alpha):
        assert check_resource(module.RULE, CLUSTER, cluster).passed, module.RULE.name
    assert check_resource(cos_image.RULE, NODE_POOL, variant(HARDENED_POOL, nodeConfig__imageType=...)).passed
    assert check_resource(bt_protection.RULE, BIGTABLE, variant(HARDENED_BIGTABLE, deletionProtection=...)).passed


def test_a_read_replica_needs_no_backups_of_its_own():
    replica = variant(HARDENED_SQL, masterInstanceName="tracking", settings__backupConfiguration__enabled=False)
    assert check_resource(backups.RULE, SQL, replica).passed


def test_proxy_only_subnets_are_out_of_scope():
    proxy = {"ipCidrRange": "10.60.0.0/23", "network": NETWORK, "purpose": "REGIONAL_MANAGED_PROXY", "role": "ACTIVE"}
    assert check_resource(flow_logs.RULE, SUBNET, proxy).passed and check_resource(pga.RULE, SUBNET, proxy).passed


def test_cluster_labels_may_come_from_the_provider_default_labels():
    unlabelled = variant(HARDENED_CLUSTER, resourceLabels=...)
    assert check_resource(labels.RULE, CLUSTER, unlabelled, provider_props={"defaultLabels": {"owner": "ml"}}).passed
    outcome = check_resource(labels.RULE, CLUSTER, HARDENED_CLUSTER, config={"requiredLabels": ["environment"]})
    assert outcome.messages == ["resourceLabels lack environment."]


def test_logging_components_the_config_requires():
    cluster = variant(HARDENED_CLUSTER, loggingConfig__enableComponents=["SYSTEM_COMPONENTS", "WORKLOADS"])
    outcome = check_resource(logging.RULE, CLUSTER, cluster, config={"requiredComponents": ["SYSTEM_COMPONENTS", "APISERVER"]})
    assert len(outcome.violations) == 1 and "lacks APISERVER" in outcome.messages[0]


@pytest.mark.parametrize("module,type_,props", [
    (open_ingress, FIREWALL, variant(HEALTH_CHECKS, sourceRanges=UNKNOWN)),
    (network_policy, CLUSTER, variant(HARDENED_CLUSTER, datapathProvider=UNKNOWN)),
    (authorized_networks, CLUSTER, variant(HARDENED_CLUSTER, masterAuthorizedNetworksConfig=UNKNOWN)),
    (backups, SQL, variant(HARDENED_SQL, masterInstanceName=UNKNOWN)),
    (bt_cmek, BIGTABLE, variant(HARDENED_BIGTABLE, clusters=UNKNOWN)),
    (default_sa, PROJECT_MEMBER, variant(NODE_GRANT, member=UNKNOWN)),
], ids=lambda v: getattr(getattr(v, "RULE", None), "name", None) or "")
def test_unknown_deciding_values_are_advisory_cannot_check(module, type_, props):
    outcome = check_resource(module.RULE, type_, props)
    assert outcome.violations == [] and "cannot check during preview" in outcome.cannot_check


def test_an_unknown_key_is_still_a_customer_managed_key():
    assert check_resource(ar_cmek.RULE, REPOSITORY, variant(HARDENED_REPOSITORY, kmsKeyName=UNKNOWN)).passed


def test_session_logging_applies_to_postgres_only_and_follows_the_config():
    mysql = variant(HARDENED_SQL, databaseVersion="MYSQL_8_0", settings__databaseFlags=[])
    assert check_resource(log_flags.RULE, SQL, mysql).passed
    fewer = variant(HARDENED_SQL, settings__databaseFlags=LOG_FLAGS[1:3])
    assert check_resource(log_flags.RULE, SQL, fewer, config={"requiredFlags": ["log_connections"]}).passed


def test_a_key_passes_only_when_the_program_protects_it():
    key = {"keyRing": "projects/p/locations/europe-west4/keyRings/mlops", "name": "data", "rotationPeriod": "7776000s"}
    assert check_resource(key_protect.RULE, "gcp:kms/cryptoKey:CryptoKey", key, protect=True).passed
    outcome = check_resource(key_protect.RULE, "gcp:kms/cryptoKey:CryptoKey", key)
    assert len(outcome.violations) == 1 and "not protected (Pulumi protect)" in outcome.messages[0]


def test_autopilot_clusters_have_intranode_visibility_always():
    autopilot = {"location": "europe-west4", "enableAutopilot": True}
    assert check_resource(intranode.RULE, CLUSTER, autopilot).passed
