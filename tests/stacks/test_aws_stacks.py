"""The real AWS stack files preview to the complete platform and export the fixed outputs (the checks every
stack file must pass, packs and manifests among them, are in test_stack_matrix.py)."""

import json

import pytest

from mlops_tools.engine.preview import PreviewError, preview_stack
from tests.stacks.matrix import check_distributed_training, ROOT, stack_for

OUTPUTS = {"cloud", "environment", "region", "trackingUrl", "artifactBucket", "modelImageRepositoryUrl",
           "trainingImageRepositoryUrl", "featureRegistryPath", "featureOfflineStorePath", "onlineStoreTable",
           "clusterName", "kubeconfig", "alertTopicArn", "trackingDbInstanceId", "trackingDbEndpointRecord", "dr"}
DR_OUTPUTS = {"enabled", "region", "rpoMinutes", "rtoMinutes", "dbReplicaId", "dbReplicaArn", "artifactReplicaBucket",
              "featureReplicaBucket", "onlineStoreReplicaRegion", "imageReplicaRegion"}
CAPABILITIES = ["mlops:keys:Keys", "mlops:network:Network", "mlops:cluster:Cluster", "mlops:training:SpotInterruptionHandling",
                "mlops:training:Karpenter", "mlops:training:TrainingJobIdentity", "mlops:tracking:TrackingServer",
                "mlops:registry:ModelRegistry", "mlops:features:FeatureStore", "mlops:monitoring:Monitoring",
                "mlops:k8s:PlatformWorkloads"]


STACKS = ["dev", "prod"]


@pytest.fixture(scope="module", params=STACKS)
def stack(request):
    return stack_for(request.param)


def test_every_capability_is_a_component_with_children(stack):
    assert stack.capability_problems(CAPABILITIES) == []
    pools = stack.result.by_type("mlops:training:TrainingPool")
    assert sorted(p["name"] for p in pools) == sorted(f"training-{p.name}" for p in stack.cfg.training_pools)
    assert all(len(stack.result.children(p["urn"])) == 2 for p in pools)  # EC2NodeClass + NodePool


def test_fixed_outputs(stack):
    outputs = stack.result.outputs
    assert set(outputs) == OUTPUTS and set(outputs["dr"]) == DR_OUTPUTS
    assert outputs["cloud"] == "aws" and outputs["region"] == stack.cfg.region
    assert outputs["environment"] == stack.cfg.environment
    assert outputs["clusterName"] == f"mlops-{stack.cfg.environment}"
    assert stack.result.masked_outputs()["kubeconfig"] == "[secret]"
    assert set(outputs["trackingDbEndpointRecord"]) == {"zoneId", "name"}
    dr = outputs["dr"]
    assert dr["enabled"] is stack.cfg.dr.enabled
    assert (dr["rpoMinutes"], dr["rtoMinutes"]) == (stack.cfg.dr.rpo_minutes, stack.cfg.dr.rto_minutes)
    replicas = [dr[k] for k in DR_OUTPUTS - {"enabled", "region", "rpoMinutes", "rtoMinutes"}]
    if stack.cfg.dr.enabled:
        assert dr["region"] == stack.cfg.dr.replica_region and all(replicas)
    else:
        assert dr["region"] is None and not any(replicas)


def test_every_cloud_resource_uses_an_explicit_provider(stack):
    providers = {r["urn"]: r for r in stack.result.by_type("pulumi:providers:aws")}
    kubernetes = stack.result.one("pulumi:providers:kubernetes")["urn"]
    assert stack.result.one("pulumi:providers:aws", "primary")["inputs"]["region"] == stack.cfg.region
    for resource in stack.result.resources:
        if not resource["custom"] or resource["type"].startswith("pulumi:"):
            continue
        reference = (resource["provider"] or "").rsplit("::", 1)[0]
        if resource["type"].startswith("aws:"):
            assert reference in providers, f"{resource['name']} uses the default aws provider"
        elif resource["type"].startswith("kubernetes:"):
            assert reference == kubernetes, f"{resource['name']} is not bound to the cluster's kubernetes provider"


def test_dr_region_resources_are_bound_to_the_dr_provider(stack):
    if not stack.cfg.dr.enabled:
        assert not any(r["name"] == "dr" for r in stack.result.by_type("pulumi:providers:aws"))
        return
    dr = stack.result.one("pulumi:providers:aws", "dr")
    assert dr["inputs"]["region"] == stack.cfg.dr.replica_region
    replicas = stack.result.by_type("aws:kms/replicaKey:ReplicaKey")
    assert len(replicas) == 5 and all(r["provider"].startswith(dr["urn"] + "::") for r in replicas)


def test_taggable_resources_carry_the_cost_allocation_tags(stack):
    missing, checked = [], 0
    for resource in stack.result.resources:
        tags = resource["inputs"].get("tags")
        if resource["type"].startswith("aws:") and isinstance(tags, dict):
            checked += 1
            absent = {"environment", "owner", "component"} - set(tags)
            if absent:
                missing.append(f"{resource['type']} {resource['name']}: {sorted(absent)}")
    assert checked > 50 and missing == []


def test_mlflow_database_secret_waits_for_the_platform_namespace(stack):
    secret = stack.result.one("kubernetes:external-secrets.io/v1:ExternalSecret")
    namespace = [n for n in stack.result.by_type("kubernetes:core/v1:Namespace") if n["inputs"]["metadata"]["name"] == "mlops"]
    assert secret["inputs"]["metadata"]["namespace"] == "mlops" and namespace
    assert namespace[0]["urn"] in secret["dependencies"]


def test_in_cluster_workloads_get_the_aws_identities(stack):
    accounts = {(a["inputs"]["metadata"]["namespace"], a["inputs"]["metadata"]["name"]): a["inputs"]["metadata"].get("annotations", {})
                for a in stack.result.by_type("kubernetes:core/v1:ServiceAccount")}
    roles = {r["name"]: r for r in stack.result.by_type("aws:iam/role:Role")}
    expected = {("mlops", "mlflow"): "tracking-mlflow", ("mlops", "feast"): "features-feature-server",
                ("training", "trainer"): "training-jobs-trainer"}
    for account, role in expected.items():
        arn = accounts[account]["eks.amazonaws.com/role-arn"]
        assert arn.startswith("arn:aws:iam::123456789012:role/" + role + "-"), account
        assert role in roles


def test_a_failing_component_is_reported_not_waited_for():
    """The deferred MLflow namespace is resolved even when a later component raises. (A wait that never ended
    would be the engine's deadline error, MLOPS_PREVIEW_DEADLINE, whose message fails the match.)"""
    with pytest.raises(PreviewError) as error:
        preview_stack(ROOT, "dev", ['mlops:tracking={"mlflowImage": "ghcr.io/mlflow/mlflow:v2.22.1"}'])
    assert "MLflow image 'ghcr.io/mlflow/mlflow:v2.22.1' cannot run this server" in str(error.value)


# docs/cost.md "Hand check": the five largest idle items of dev, priced by hand from the AWS pricing pages
# (t3.large $0.0832/h, gp3 $0.08/GB-month, EKS $0.10/h, db.t4g.medium $0.065/h, RDS gp3 $0.115/GB-month,
# NAT gateway $0.045/h, interface endpoint $0.01/AZ-hour), 730 hours a month.
HAND_CHECK_DEV = {
    "cluster-system": 2 * 0.0832 * 730 + 2 * 50 * 0.08,   # two t3.large system nodes + their 50 GB gp3 roots
    "cluster": 0.10 * 730,                                 # EKS control plane, standard support
    "tracking-db": 0.065 * 730 + 20 * 0.115,               # db.t4g.medium single-AZ + 20 GB gp3
    "network-us-east-1a": 0.045 * 730,                     # NAT gateway (idle: no data processed)
    "network-ecr-api": 2 * 0.01 * 730, "network-ecr-dkr": 2 * 0.01 * 730,  # interface endpoints in 2 AZs
    "network-logs": 2 * 0.01 * 730, "network-sts": 2 * 0.01 * 730,
}


def test_dev_estimate_is_within_ten_percent_of_the_hand_check_for_its_five_largest_items(stack):
    if stack.name != "dev":
        pytest.skip("the hand check is documented for dev")
    items = sorted(stack.cost()["items"], key=lambda i: -i["monthlyUsd"]["idle"])[:5]
    for item in items:
        assert item["name"] in HAND_CHECK_DEV, f"{item['name']} is among the five largest but has no hand check"
        expected = HAND_CHECK_DEV[item["name"]]
        assert abs(item["monthlyUsd"]["idle"] - expected) <= 0.10 * expected, (item["name"], item["monthlyUsd"], expected)


def test_pipeline_steps_get_their_irsa_role_and_argo_encrypts_with_the_artifacts_key(stack):
    """The chart's step ServiceAccount carries the role that trusts pipelines/pipeline-steps; Argo uploads with
    SSE-KMS and the artifacts bucket's own key (a bare enableEncryption would send SSE-S3, which the bucket
    policy's DenyNonKmsEncryption refuses)."""
    [release] = [r for r in stack.result.by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "argo-workflows"]
    values = release["inputs"]["values"]
    [role] = [r for r in stack.result.by_type("aws:iam/role:Role")
              if "system:serviceaccount:pipelines:pipeline-steps" in str(r["inputs"]["assumeRolePolicy"])]
    # The mock names a role as Pulumi would: its resource name plus a random suffix.
    assert values["workflow"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"].startswith(
        f"arn:aws:iam::123456789012:role/{role['name']}-")
    s3 = values["artifactRepository"]["s3"]
    [sse] = [r for r in stack.result.by_type("aws:s3/bucketServerSideEncryptionConfiguration:"
                                             "BucketServerSideEncryptionConfiguration")
             if r["inputs"]["bucket"] == s3["bucket"]]
    key = sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    assert s3["encryptionOptions"] == {"enableEncryption": True, "kmsKeyId": key}
    assert s3["keyFormat"].startswith("argo/") and s3["useSDKCreds"] is True


def test_distributed_training_on_the_spot_pools_checkpoints_to_the_artifacts_bucket(stack):
    bucket = stack.result.outputs["artifactBucket"]
    jobs = check_distributed_training(stack, 90, f"s3://{bucket}/")
    tolerated = {(t["key"], t["value"]) for t in jobs["train-gpu-spot"]["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]["tolerations"]}
    assert tolerated == {("nvidia.com/gpu", "true"), ("mlops.dev/capacity-type", "spot")}
    (policy,) = [json.loads(r["inputs"]["policy"]) for r in stack.result.by_type("aws:iam/rolePolicy:RolePolicy")
                 if r["name"] == "training-jobs-trainer"]
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ReadWriteCheckpoints"]["Resource"] == f"arn:aws:s3:::{bucket}/checkpoints/*"
    assert statements["ListCheckpoints"]["Condition"]["StringLike"]["s3:prefix"] == ["checkpoints", "checkpoints/*"]
