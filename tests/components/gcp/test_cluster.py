"""GKE: private nodes and endpoint, CMEK secrets and disks, Workload Identity, node identity, kubeconfig."""

import json

import pytest

from components.cluster.gcp import NODE_ROLES, STORAGE_CLASS, account_id

from .foundation import NAME, PROJECT, PUBLIC_CIDR, dev, prod

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"


@pytest.fixture(scope="module")
def gke_dev():
    return dev().one(CLUSTER)["inputs"]


@pytest.fixture(scope="module")
def gke_prod():
    return prod().one(CLUSTER)["inputs"]


def test_nodes_are_private_and_the_endpoint_is_private_unless_dev_lists_cidrs(gke_dev, gke_prod):
    for gke in (gke_dev, gke_prod):
        assert gke["privateClusterConfig"]["enablePrivateNodes"] is True
        assert gke["masterAuthorizedNetworksConfig"]["gcpPublicCidrsAccessEnabled"] is False
    assert gke_prod["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert [b["cidrBlock"] for b in gke_prod["masterAuthorizedNetworksConfig"]["cidrBlocks"]] == ["10.40.0.0/16"]
    assert gke_dev["privateClusterConfig"]["enablePrivateEndpoint"] is False
    assert [b["cidrBlock"] for b in gke_dev["masterAuthorizedNetworksConfig"]["cidrBlocks"]] == ["10.40.0.0/16", PUBLIC_CIDR]


def test_secrets_are_encrypted_with_the_cluster_key_after_the_agents_may_use_it(gke_dev):
    result = dev()
    assert gke_dev["databaseEncryption"] == {"state": "ENCRYPTED", "keyName": result.outputs["key:cluster"]}
    grants = {g["urn"] for g in result.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
              if g["inputs"]["cryptoKeyId"] == result.outputs["key:cluster"]}
    assert len(grants) == 2 and grants <= set(result.one(CLUSTER)["dependencies"])


def test_hardening_workload_identity_dataplane_v2_no_abac_no_client_cert(gke_dev):
    assert gke_dev["workloadIdentityConfig"] == {"workloadPool": f"{PROJECT}.svc.id.goog"}
    assert gke_dev["enableShieldedNodes"] is True and gke_dev["enableLegacyAbac"] is False
    assert gke_dev["datapathProvider"] == "ADVANCED_DATAPATH"
    assert gke_dev["enableIntranodeVisibility"] is True  # same-node pod traffic reaches the VPC flow logs
    assert gke_dev["releaseChannel"] == {"channel": "REGULAR"} and gke_dev["minMasterVersion"] == "1.35"
    assert gke_dev["masterAuth"]["clientCertificateConfig"]["issueClientCertificate"] is False
    assert gke_dev["removeDefaultNodePool"] is True


def test_system_pool_on_demand_with_cmek_disks_secure_boot_and_its_own_service_account(gke_dev):
    result = dev()
    [system] = [p for p in result.by_type(NODE_POOL) if p["inputs"]["name"] == "system"]
    node = system["inputs"]["nodeConfig"]
    assert node["spot"] is False and node["labels"]["mlops.dev/capacity-type"] == "on-demand"
    assert node["bootDiskKmsKey"] == result.outputs["key:cluster"]
    assert node["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
    assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert node["serviceAccount"] == result.outputs["nodeServiceAccount"]
    assert node["kubeletConfig"] == {"insecureKubeletReadonlyPortEnabled": "FALSE"}
    assert system["inputs"]["autoscaling"]["totalMinNodeCount"] == 2
    # The temporary default pool is just as locked down.
    assert gke_dev["nodeConfig"]["serviceAccount"] == result.outputs["nodeServiceAccount"]
    assert gke_dev["nodeConfig"]["bootDiskKmsKey"] == result.outputs["key:cluster"]


def test_node_service_account_has_only_the_minimal_node_role():
    result = dev()
    grants = [g["inputs"] for g in result.by_type("gcp:projects/iAMMember:IAMMember")]
    member = f"serviceAccount:{result.outputs['nodeServiceAccount']}"
    assert sorted(g["role"] for g in grants if g["member"] == member) == sorted(NODE_ROLES)


def test_workload_identity_binds_one_kubernetes_service_account_to_one_google_service_account():
    result = dev()
    [binding] = [b for b in result.by_type("gcp:serviceaccount/iAMMember:IAMMember")
                 if b["name"] == "mlflow-identity-workload-identity"]
    gsa = next(a for a in result.by_type("gcp:serviceaccount/account:Account") if a["name"] == "mlflow-identity")
    assert binding["inputs"]["role"] == "roles/iam.workloadIdentityUser"
    assert binding["inputs"]["member"] == f"serviceAccount:{PROJECT}.svc.id.goog[mlops/mlflow]"
    assert gsa["urn"] in binding["dependencies"]  # granted on this GSA only
    email = f"{NAME}-mlflow@{PROJECT}.iam.gserviceaccount.com"
    assert result.outputs["mlflowAnnotations"] == {"iam.gke.io/gcp-service-account": email}


def test_service_account_ids_fit_gcp_limits_and_stay_deterministic():
    assert account_id("mlops-dev", "nodes") == "mlops-dev-nodes"
    long_id = account_id("mlops-a-very-long-stack-name-for-testing", "trainer")
    assert len(long_id) <= 30 and long_id == account_id("mlops-a-very-long-stack-name-for-testing", "trainer")
    assert long_id != account_id("mlops-a-very-long-stack-name-for-testing", "mlflow")


def test_kubeconfig_is_secret_and_uses_the_gke_auth_plugin():
    result = dev()
    provider = result.one("pulumi:providers:kubernetes")
    assert result.is_secret(provider["urn"], "kubeconfig")
    assert result.masked_outputs()["kubeconfig"] == "[secret]"
    config = json.loads(result.outputs["kubeconfig"])
    [user] = config["users"]
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert config["clusters"][0]["cluster"]["certificate-authority-data"]


def test_default_storage_class_encrypts_disks_with_the_cluster_key():
    result = dev()
    storage_class = result.one("kubernetes:storage.k8s.io/v1:StorageClass")["inputs"]
    assert storage_class["metadata"]["name"] == STORAGE_CLASS
    assert storage_class["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert storage_class["parameters"]["disk-encryption-kms-key"] == result.outputs["key:cluster"]


def test_prod_cluster_is_protected_from_deletion():
    cluster = prod().one(CLUSTER)
    assert cluster["protect"] is True and cluster["inputs"]["deletionProtection"] is True
