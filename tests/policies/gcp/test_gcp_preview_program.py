"""A Pulumi program built with the real pulumi-gcp SDK, previewed offline and checked by the GCP pack.

Each rule meets one hardened and one insecure resource; the pack must report EXACTLY the
insecure ones (no misses, no noise), correlating data stores with their CMEK keys as a real preview would.
"""
import json
from pathlib import Path

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from mlops_tools.engine.preview import preview_program
from mlops_tools.policy.runner import run_policy_packs
from stacks.gcp_apis import enable_apis, wait_for_apis

PACK = Path(__file__).resolve().parents[3] / "policies" / "gcp"
PROJECT = "mlops-prod-4711"
REGION = "europe-west4"
SHIELDED = {"enable_secure_boot": True, "enable_integrity_monitoring": True}
PROJECT_NUMBER = "123456789012"
AGENTS = {"storage": f"service-{PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com",
          "sql": f"service-{PROJECT_NUMBER}@gcp-sa-cloud-sql.iam.gserviceaccount.com",
          "gke": f"service-{PROJECT_NUMBER}@container-engine-robot.iam.gserviceaccount.com",
          "registry": f"service-{PROJECT_NUMBER}@gcp-sa-artifactregistry.iam.gserviceaccount.com",
          "bigtable": f"service-{PROJECT_NUMBER}@gcp-sa-bigtable.iam.gserviceaccount.com"}
HARDENED_CLUSTER = dict(
    datapath_provider="ADVANCED_DATAPATH", networking_mode="VPC_NATIVE", enable_intranode_visibility=True,
    ip_allocation_policy={"cluster_secondary_range_name": "pods", "services_secondary_range_name": "services"},
    master_authorized_networks_config={"cidr_blocks": [{"cidr_block": "10.50.0.0/16"}]},
    release_channel={"channel": "REGULAR"}, resource_labels={"owner": "ml-platform"})
MANAGED = {"auto_repair": True, "auto_upgrade": True}


def key_grants(key, name):
    """The service agents' encrypter/decrypter grants on `key`; stores wait for them."""
    return {service: gcp.kms.CryptoKeyIAMMember(f"{name}-{service}", crypto_key_id=key.id,
                                                role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
                                                member=f"serviceAccount:{agent}")
            for service, agent in AGENTS.items()}


def program():
    # Registered before the APIs' Services and the transformation that makes resources wait for them.
    gcp.storage.Bucket("artifacts-insecure", location=REGION)
    wait_for_apis(enable_apis(PROJECT, pulumi.ResourceOptions()))
    ring = gcp.kms.KeyRing("keys", location=REGION, project=PROJECT)
    protected = pulumi.ResourceOptions(protect=True)
    rotating = gcp.kms.CryptoKey("data-key", key_ring=ring.id, rotation_period="7776000s", opts=protected)
    static = gcp.kms.CryptoKey("static-key", key_ring=ring.id)
    gcp.kms.CryptoKey("signing-key", key_ring=ring.id, purpose="ASYMMETRIC_SIGN",
                      version_template={"algorithm": "EC_SIGN_P256_SHA256"}, opts=protected)  # cannot rotate automatically: no finding

    grants, static_grants = key_grants(rotating, "data-key"), key_grants(static, "static-key")
    hardened_bucket = {"location": REGION, "uniform_bucket_level_access": True, "public_access_prevention": "enforced",
                       "versioning": {"enabled": True}}
    # The region's usage-log bucket (the one bucket that does not log) and the log writer's grant on it.
    logs = gcp.storage.Bucket("access-logs", name="mlops-access-logs", encryption={"default_kms_key_name": rotating.id},
                              **hardened_bucket, opts=pulumi.ResourceOptions(depends_on=[grants["storage"]]))
    gcp.storage.BucketIAMMember("access-logs-writer", bucket=logs.name, role="roles/storage.objectCreator",
                                member="group:cloud-storage-analytics@google.com")
    hardened_bucket["logging"] = {"log_bucket": "mlops-access-logs"}  # by name: no dependency on the log bucket
    gcp.storage.Bucket("artifacts-hardened", encryption={"default_kms_key_name": rotating.id}, **hardened_bucket,
                       opts=pulumi.ResourceOptions(depends_on=[grants["storage"]]))
    gcp.storage.Bucket("reports", encryption={"default_kms_key_name": static.id}, **hardened_bucket,
                       opts=pulumi.ResourceOptions(depends_on=[static_grants["storage"]]))
    # Hardened, but created in parallel with the storage agent's grant on its key.
    gcp.storage.Bucket("artifacts-racing", encryption={"default_kms_key_name": rotating.id}, **hardened_bucket)
    gcp.storage.BucketIAMMember("reports-for-the-team", bucket="reports", role="roles/storage.objectViewer",
                                member="group:ml@example.com")
    gcp.storage.BucketIAMMember("reports-for-everyone", bucket="reports", role="roles/storage.objectViewer",
                                member="allUsers")

    gcp.sql.DatabaseInstance(
        "tracking-db-hardened", region=REGION, database_version="POSTGRES_16", encryption_key_name=rotating.id,
        settings={"tier": "db-custom-2-7680", "ip_configuration": {
            "ipv4_enabled": False, "private_network": f"projects/{PROJECT}/global/networks/mlops",
            "ssl_mode": "ENCRYPTED_ONLY"}, "backup_configuration": {"enabled": True},
            "database_flags": [{"name": f, "value": "on"} for f in (
                "log_checkpoints", "log_connections", "log_disconnections", "log_lock_waits", "log_hostname",
                "cloudsql.enable_pgaudit")] + [{"name": "pgaudit.log", "value": "ddl,role"}]},
        opts=pulumi.ResourceOptions(depends_on=[grants["sql"]]))
    # The step that creates pgaudit in the hardened instance's database (MLflow's migrate init container).
    k8s.apps.v1.Deployment("mlflow", metadata={"name": "mlflow", "namespace": "mlops"}, spec={
        "selector": {"matchLabels": {"app": "mlflow"}}, "template": {
            "metadata": {"labels": {"app": "mlflow"}}, "spec": {
                "initContainers": [{"name": "migrate", "image": "ghcr.io/mlflow/mlflow:v3.10.1-full",
                                    "env": [{"name": "MLOPS_DB_EXTENSIONS", "value": "pgaudit"}]}],
                "containers": [{"name": "mlflow", "image": "ghcr.io/mlflow/mlflow:v3.10.1-full"}]}}})
    gcp.sql.DatabaseInstance(
        "tracking-db-insecure", region=REGION, database_version="POSTGRES_14",  # standard support ended 2026-11-12
        settings={"tier": "db-custom-2-7680", "ip_configuration": {
            "authorized_networks": [{"name": "anywhere", "value": "0.0.0.0/0"}]}})

    cluster = gcp.container.Cluster(
        "gke-hardened", location=REGION, remove_default_node_pool=True, initial_node_count=1,
        workload_identity_config={"workload_pool": f"{PROJECT}.svc.id.goog"},
        database_encryption={"state": "ENCRYPTED", "key_name": rotating.id},
        private_cluster_config={"enable_private_nodes": True, "enable_private_endpoint": True,
                                "master_ipv4_cidr_block": "172.16.0.0/28"}, **HARDENED_CLUSTER,
        opts=pulumi.ResourceOptions(depends_on=[grants["gke"]]))
    gcp.container.Cluster(
        "gke-insecure", location=REGION, initial_node_count=1, enable_shielded_nodes=False, enable_legacy_abac=True,
        min_master_version="1.33",  # GKE standard support ended 2026-06-30
        enable_kubernetes_alpha=True, logging_service="none", monitoring_service="none",
        master_auth={"client_certificate_config": {"issue_client_certificate": True}},
        node_config={"machine_type": "e2-standard-4"})
    gcp.container.NodePool("cpu-hardened", cluster=cluster.name, location=REGION, management=MANAGED, node_config={
        "machine_type": "e2-standard-8", "shielded_instance_config": SHIELDED,
        "workload_metadata_config": {"mode": "GKE_METADATA"}})
    gcp.container.NodePool("gpu-insecure", cluster=cluster.name, location=REGION,
                           network_config={"enable_private_nodes": False},
                           node_config={"machine_type": "g2-standard-8", "image_type": "UBUNTU_CONTAINERD",
                                        "workload_metadata_config": {"mode": "GCE_METADATA"}})

    network_and_stores(grants)
    gcp.billing.Budget("budget-hardened", billing_account="01ABCD-2345EF-6789AB", amount={"specified_amount": {
        "currency_code": "USD", "units": "100"}}, budget_filter={"calendar_period": "MONTH"})
    gcp.billing.Budget("budget-stale", billing_account="01ABCD-2345EF-6789AB", amount={"specified_amount": {
        "currency_code": "USD", "units": "100"}}, budget_filter={"custom_period": {"start_date": {"year": 2026, "month": 11, "day": 1}}})
    trainer = gcp.serviceaccount.Account("trainer", account_id="trainer", project=PROJECT)
    gcp.projects.IAMMember("trainer-reads-artifacts", project=PROJECT, role="roles/storage.objectViewer",
                           member=trainer.member)
    gcp.projects.IAMMember("ada-owner", project=PROJECT, role="roles/owner", member="user:ada@example.com")
    gcp.folder.IAMPolicy("platform-folder", folder="folders/1234", policy_data=gcp.organizations.get_iam_policy(bindings=[
        {"role": "roles/viewer", "members": ["group:ml@example.com"]},
        {"role": "roles/editor", "members": ["group:ml@example.com"]}]).policy_data)
    gcp.projects.IAMPolicy("project-policy", project=PROJECT, policy_data=json.dumps({"bindings": [
        {"role": "roles/storage.objectViewer", "members": ["group:ml@example.com"]}]}))
    gcp.serviceaccount.IAMMember("ci-acts-as-trainer", service_account_id=trainer.name,
                                 role="roles/iam.serviceAccountUser", member="serviceAccount:ci@example.iam.gserviceaccount.com")
    gcp.projects.IAMBinding("ci-acts-as-anyone", project=PROJECT, role="roles/iam.serviceAccountUser",
                            members=["serviceAccount:ci@example.iam.gserviceaccount.com"])



def network_and_stores(grants):
    """The VPC, its subnet and firewall rules, a repository and a Bigtable instance: hardened and insecure."""
    vpc = gcp.compute.Network("vpc-hardened", name="mlops", auto_create_subnetworks=False)
    gcp.compute.Network("vpc-insecure", name="legacy")  # auto-mode, and no deny-all firewall of its own
    gcp.compute.Firewall("deny-all-ingress", network=vpc.id, direction="INGRESS", denies=[{"protocol": "all"}],
                         source_ranges=["0.0.0.0/0"], priority=65534, log_config={"metadata": "INCLUDE_ALL_METADATA"})
    gcp.compute.Firewall("ssh-from-anywhere", network=vpc.id, allows=[{"protocol": "tcp", "ports": ["22"]}],
                         source_ranges=["0.0.0.0/0"])
    gcp.compute.Subnetwork("nodes-hardened", network=vpc.id, ip_cidr_range="10.50.128.0/20", region=REGION,
                           private_ip_google_access=True, log_config={"aggregation_interval": "INTERVAL_5_SEC"})
    gcp.compute.Subnetwork("nodes-insecure", network=vpc.id, ip_cidr_range="10.50.144.0/20", region=REGION)
    key = grants["registry"].crypto_key_id
    gcp.artifactregistry.Repository("images-hardened", format="DOCKER", repository_id="models", location=REGION,
                                    kms_key_name=key, opts=pulumi.ResourceOptions(depends_on=[grants["registry"]]))
    gcp.artifactregistry.Repository("images-insecure", format="DOCKER", repository_id="scratch", location=REGION)
    gcp.bigtable.Instance("online-hardened", clusters=[{"cluster_id": "p1", "zone": f"{REGION}-a", "kms_key_name": key}],
                          opts=pulumi.ResourceOptions(depends_on=[grants["bigtable"]]))
    gcp.bigtable.Instance("online-insecure", deletion_protection=False, clusters=[{"cluster_id": "p1", "zone": f"{REGION}-a"}])
    gcp.projects.IAMMember("default-sa-reads", project=PROJECT, role="roles/storage.objectViewer",
                           member=f"serviceAccount:{PROJECT_NUMBER}-compute@developer.gserviceaccount.com")


EXPECTED = {
    ("gcp-iam-binding-disallow-public-members", "reports-for-everyone", "mandatory"),
    ("gcp-kms-cryptokey-enable-key-rotation", "static-key", "mandatory"),
    ("gcp-kms-cryptokey-enable-deletion-protection", "static-key", "advisory"),
    ("gcp-serviceusage-resource-require-api-dependency", "artifacts-insecure", "mandatory"),
    ("gcp-sql-databaseinstance-require-supported-version", "tracking-db-insecure", "mandatory"),
    ("gcp-container-cluster-require-supported-version", "gke-insecure", "mandatory"),
    ("gcp-billing-budget-require-current-period", "budget-stale", "mandatory"),
    ("gcp-storage-bucket-enable-uniform-access", "artifacts-insecure", "mandatory"),
    ("gcp-storage-bucket-enforce-public-access-prevention", "artifacts-insecure", "mandatory"),
    ("gcp-storage-bucket-enable-cmek-encryption", "artifacts-insecure", "mandatory"),
    ("gcp-sql-databaseinstance-disallow-public-ip", "tracking-db-insecure", "mandatory"),
    ("gcp-sql-databaseinstance-disallow-open-authorized-networks", "tracking-db-insecure", "mandatory"),
    ("gcp-sql-databaseinstance-require-ssl", "tracking-db-insecure", "mandatory"),
    ("gcp-sql-databaseinstance-enable-cmek-encryption", "tracking-db-insecure", "mandatory"),
    ("gcp-container-cluster-enable-workload-identity", "gke-insecure", "mandatory"),
    ("gcp-container-cluster-enable-shielded-nodes", "gke-insecure", "mandatory"),
    ("gcp-container-cluster-enable-secrets-encryption", "gke-insecure", "mandatory"),
    ("gcp-container-cluster-enable-private-nodes", "gke-insecure", "mandatory"),
    ("gcp-container-cluster-disable-legacy-abac", "gke-insecure", "mandatory"),
    ("gcp-container-nodepool-enable-secure-boot", "gke-insecure", "advisory"),
    ("gcp-container-nodepool-enable-secure-boot", "gpu-insecure", "advisory"),
    ("gcp-container-cluster-enable-workload-identity", "gpu-insecure", "mandatory"),
    ("gcp-container-cluster-enable-private-nodes", "gpu-insecure", "mandatory"),
    ("gcp-iam-binding-disallow-primitive-roles", "ada-owner", "mandatory"),
    ("gcp-iam-binding-disallow-primitive-roles", "platform-folder", "mandatory"),
    ("gcp-iam-binding-disallow-project-service-account-roles", "ci-acts-as-anyone", "mandatory"),
    ("gcp-kms-cmek-store-require-key-grant-first", "artifacts-racing", "mandatory"),
    ("gcp-storage-bucket-enable-access-logging", "artifacts-insecure", "mandatory"),
    ("gcp-storage-bucket-enable-versioning", "artifacts-insecure", "mandatory"),
    ("gcp-sql-databaseinstance-enable-backups", "tracking-db-insecure", "mandatory"),
    ("gcp-sql-databaseinstance-enable-session-logging", "tracking-db-insecure", "mandatory"),
    ("gcp-sql-databaseinstance-enable-pgaudit", "tracking-db-insecure", "mandatory"),
    ("gcp-container-cluster-enable-cloud-logging", "gke-insecure", "mandatory"),
    ("gcp-container-cluster-enable-cloud-monitoring", "gke-insecure", "advisory"),
    ("gcp-container-cluster-enable-network-policy", "gke-insecure", "mandatory"),
    ("gcp-container-cluster-disable-client-certificate", "gke-insecure", "mandatory"),
    ("gcp-container-cluster-enable-master-authorized-networks", "gke-insecure", "mandatory"),
    ("gcp-container-cluster-require-resource-labels", "gke-insecure", "advisory"),
    ("gcp-container-cluster-enable-vpc-native", "gke-insecure", "advisory"),
    ("gcp-container-cluster-require-release-channel", "gke-insecure", "advisory"),
    ("gcp-container-cluster-disable-kubernetes-alpha", "gke-insecure", "mandatory"),
    ("gcp-container-cluster-enable-intranode-visibility", "gke-insecure", "advisory"),
    ("gcp-container-nodepool-enable-auto-repair-upgrade", "gpu-insecure", "advisory"),
    ("gcp-container-nodepool-require-cos-image", "gpu-insecure", "advisory"),
    ("gcp-compute-network-require-custom-mode", "vpc-insecure", "advisory"),
    ("gcp-compute-network-require-deny-ingress-firewall", "vpc-insecure", "advisory"),
    ("gcp-compute-firewall-disallow-open-ingress", "ssh-from-anywhere", "mandatory"),
    ("gcp-compute-subnetwork-enable-flow-logs", "nodes-insecure", "mandatory"),
    ("gcp-compute-subnetwork-enable-private-google-access", "nodes-insecure", "advisory"),
    ("gcp-artifactregistry-repository-enable-cmek-encryption", "images-insecure", "mandatory"),
    ("gcp-bigtable-instance-enable-cmek-encryption", "online-insecure", "mandatory"),
    ("gcp-bigtable-instance-enable-deletion-protection", "online-insecure", "advisory"),
    ("gcp-iam-binding-disallow-default-service-accounts", "default-sa-reads", "mandatory"),
}


def test_pack_reports_exactly_the_insecure_resources():
    result = preview_program(program, project="mlops-platform", stack="gcp-prod",
                             config={"mlops:cloud": "gcp", "mlops:region": REGION, "gcp:project": PROJECT})
    packs, violations = run_policy_packs(result.resources, [PACK])

    names = {r["urn"]: r["name"] for r in result.resources}
    found = {(v.policy, names.get(v.urn), v.enforcement) for v in violations}
    assert found == EXPECTED
    assert len(violations) == len(EXPECTED)  # one finding per rule and resource, no duplicates
    every_rule = {p.name for p in packs[0].policies}
    assert every_rule == {policy for policy, _, _ in EXPECTED}  # each rule met an insecure resource
    rotation = next(v for v in violations if v.policy == "gcp-kms-cryptokey-enable-key-rotation")
    assert rotation.message.startswith("key static-key (encrypts reports): ")  # the stack correlates key and bucket
