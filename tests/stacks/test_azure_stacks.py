"""The real Azure stack files preview to the complete platform and export the fixed outputs (the checks every
stack file must pass, packs and manifests among them, are in test_stack_matrix.py)."""

import pytest

from components.cluster.azure import CLIENT_ID_ANNOTATION

from stacks.config_delivery import PLATFORM_POOL_DEFAULTS
from tests.stacks.matrix import check_distributed_training, stack_for
from tests.stacks.scheduling import placements, pools_admitting, unschedulable
# AWS names where the meaning is the same; alertActionGroupId replaces alertTopicArn, plus the group and Redis host.
OUTPUTS = {"cloud", "environment", "region", "resourceGroup", "trackingUrl", "artifactBucket", "modelImageRepositoryUrl",
           "trainingImageRepositoryUrl", "featureRegistryPath", "featureOfflineStorePath", "onlineStoreTable",
           "onlineStoreHost", "clusterName", "kubeconfig", "alertActionGroupId", "trackingDbInstanceId",
           "trackingDbEndpointRecord", "dr"}
CAPABILITIES = ["mlops:keys:Keys", "mlops:network:Network", "mlops:cluster:Cluster", "mlops:tracking:TrackingServer",
                "mlops:registry:ModelRegistry", "mlops:features:FeatureStore", "mlops:monitoring:Monitoring",
                "mlops:k8s:PlatformWorkloads"]


STACKS = ["azure-dev", "azure-prod"]


@pytest.fixture(scope="module", params=STACKS)
def stack(request):
    return stack_for(request.param)


def test_every_capability_is_a_component_with_children(stack):
    assert stack.capability_problems(CAPABILITIES, exactly_one=False) == []
    pools = stack.result.by_type("mlops:training:TrainingPool")
    assert sorted(p["name"] for p in pools) == sorted(f"training-{p.name}" for p in stack.cfg.training_pools)
    agent_pools = stack.result.by_type("azure-native:containerservice:AgentPool")
    # one per training-pool VM size, and the platform pool the platform's services run on
    assert len(agent_pools) == 1 + sum(min(len(p.instance_types), p.max_nodes) for p in stack.cfg.training_pools)


def test_every_pod_has_a_pool_and_the_platform_stays_off_the_system_pool(stack):
    """The System pool is tainted CriticalAddonsOnly (CKV_AZURE_232): every rendered pod (Deployments, DaemonSets,
    RayJobs, Argo templates, Helm chart pods) must still fit some pool, and no platform pod may fit the System pool."""
    plan = stack.plan()
    assert unschedulable(plan) == []
    found = dict(placements(plan))
    for where in ("Deployment platform-mlflow spec.template.spec", "Deployment platform-feast spec.template.spec",
                  "Release platform-monitoring (chart pods without placement values)",
                  "RayJob distributed-training-train-cpu-spot spec.rayClusterSpec.headGroupSpec.template.spec"):
        assert pools_admitting(plan, found[where]) == ["platform"], where
    on_system = [w for w, p in found.items() if "system" in pools_admitting(plan, p)]
    # only what tolerates every taint (the GPU node agents) could run there, and they select GPU nodes anyway
    assert all("tolerations" in found[w] and {"operator": "Exists"} in found[w]["tolerations"] for w in on_system), on_system


def test_node_agents_quota_counts_the_platform_pool(stack):
    """node-exporter runs on every node: the node-agents quota admits one per node of every pool at its maximum."""
    [quota] = [r for r in stack.result.by_type("kubernetes:core/v1:ResourceQuota") if r["name"] == "node-agents-quota"]
    nodes = stack.cfg.cluster.system_node_count + PLATFORM_POOL_DEFAULTS[stack.cfg.environment][1] + sum(
        p.max_nodes for p in stack.cfg.training_pools)
    gpu_nodes = sum(p.max_nodes for p in stack.cfg.training_pools if p.accelerator == "nvidia-gpu")
    assert int(quota["inputs"]["spec"]["hard"]["pods"]) == nodes + 2 * gpu_nodes + 5


def test_platform_pool_is_sized_per_environment_and_priced(stack):
    [pool] = [p for p in stack.result.by_type("azure-native:containerservice:AgentPool") if p["name"] == "cluster-platform"]
    low, high = PLATFORM_POOL_DEFAULTS[stack.cfg.environment]
    assert (pool["inputs"]["minCount"], pool["inputs"]["maxCount"], pool["inputs"]["vmSize"]) == (
        low, high, stack.cfg.system_node_instance_type)
    [item] = [i for i in stack.cost()["items"] if i["name"] == "cluster-platform"]
    node_hours = item["charges"][0]
    assert node_hours["priceKey"].endswith(f"/vm/{stack.cfg.system_node_instance_type}/on-demand")
    assert (node_hours["quantity"]["idle"], node_hours["quantity"]["max"]) == (low * 730, high * 730)


def test_fixed_outputs(stack):
    outputs = stack.result.outputs
    assert set(outputs) == OUTPUTS
    assert (outputs["cloud"], outputs["region"], outputs["environment"]) == ("azure", stack.cfg.region, stack.cfg.environment)
    assert outputs["clusterName"] == f"mlops-azure-{stack.cfg.environment}"
    assert outputs["resourceGroup"] == f"mlops-azure-{stack.cfg.environment}-rg"
    assert stack.result.masked_outputs()["kubeconfig"] == "[secret]"
    assert "/providers/Microsoft.Insights/actionGroups/" in outputs["alertActionGroupId"]
    assert outputs["artifactBucket"] and outputs["modelImageRepositoryUrl"].split("/")[0].endswith(".azurecr.io")
    dr = outputs["dr"]
    assert dr["enabled"] is stack.cfg.dr.enabled
    if stack.cfg.dr.enabled:
        assert dr["region"] == stack.cfg.dr.replica_region
        assert f"/resourceGroups/mlops-azure-{stack.cfg.environment}-dr-rg/" in dr["dbReplicaArn"]
        assert dr["imageReplicaRegion"] == dr["onlineStoreReplicaRegion"] == stack.cfg.dr.replica_region
    else:
        assert dr["region"] is None and dr["dbReplicaId"] is None


def test_every_azure_resource_names_its_location_inside_the_stacks_groups(stack):
    allowed = {stack.cfg.region, "global"} | ({stack.cfg.dr.replica_region} if stack.cfg.dr.enabled else set())
    groups = {f"mlops-azure-{stack.cfg.environment}-rg", f"mlops-azure-{stack.cfg.environment}-dr-rg"}
    for resource in stack.result.resources:
        inputs = resource["inputs"]
        if resource["type"].startswith("azure-native:") and "location" in inputs:
            assert inputs["location"] in allowed, resource["name"]
        if resource["type"].startswith("azure-native:") and "resourceGroupName" in inputs:
            assert inputs["resourceGroupName"] in groups, resource["name"]
    if stack.cfg.dr.enabled:  # group, vault, network, database replica all in the DR location
        dr_located = {r["name"] for r in stack.result.resources if r["inputs"].get("location") == stack.cfg.dr.replica_region}
        assert {"dr-resource-group", "keys-dr-vault", "dr-network", "dr-db"} <= dr_located


def test_taggable_resources_carry_the_cost_allocation_tags(stack):
    missing, checked = [], 0
    for resource in stack.result.resources:
        tags = resource["inputs"].get("tags")
        if resource["type"].startswith("azure-native:") and isinstance(tags, dict):
            checked += 1
            if {"environment", "owner", "managed-by"} - set(tags):
                missing.append(resource["name"])
    assert checked > 40 and missing == []


def test_in_cluster_workloads_get_their_workload_identities(stack):
    accounts = {(a["inputs"]["metadata"]["namespace"], a["inputs"]["metadata"]["name"]): a["inputs"]["metadata"].get("annotations", {})
                for a in stack.result.by_type("kubernetes:core/v1:ServiceAccount")}
    credentials = {c["inputs"]["subject"] for c in stack.result.by_type("azure-native:managedidentity:FederatedIdentityCredential")}
    for namespace, account in (("mlops", "mlflow"), ("mlops", "feast"), ("training", "trainer")):
        assert accounts[(namespace, account)][CLIENT_ID_ANNOTATION], account
        assert f"system:serviceaccount:{namespace}:{account}" in credentials
    secrets = [s for s in stack.result.by_type("kubernetes:core/v1:Secret") if s["inputs"]["metadata"]["name"] == "mlflow-database"]
    namespace = [n for n in stack.result.by_type("kubernetes:core/v1:Namespace") if n["inputs"]["metadata"]["name"] == "mlops"]
    assert len(secrets) == 1 and namespace and namespace[0]["urn"] in secrets[0]["dependencies"]


def test_budget_starts_in_the_month_of_the_run_and_the_preview_date_is_reproducible(tmp_path):
    """Azure refuses a budget that starts before the current month: the start follows the run's date
    (``--today`` / MLOPS_TODAY in previews), and the same date gives the same plan bytes."""
    import datetime as dt
    import json

    from mlops_tools.cli import ROOT, run_preview

    def budget_start(today, out):
        assert run_preview(ROOT, "azure-dev", [], policies=False, today=today, out_dir=out, quiet=True) == 0
        plan = json.loads((out / "azure-dev.json").read_text())
        (budget,) = [r for r in plan["resources"] if r["type"] == "azure-native:consumption:Budget"]
        return budget["inputs"]["timePeriod"]["startDate"], (out / "azure-dev.json").read_bytes()

    feb, feb_bytes = budget_start(dt.date(2027, 2, 17), tmp_path / "a")
    again, again_bytes = budget_start(dt.date(2027, 2, 3), tmp_path / "b")
    later, _ = budget_start(dt.date(2027, 3, 30), tmp_path / "c")  # (AKS 1.35 can be created until 2027-03-31)
    assert (feb, later) == ("2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z")
    assert again_bytes == feb_bytes  # another day of the same month: the same plan


def test_the_provider_signs_in_without_a_prompt_as_a_cluster_admin(stack):
    """AKS hands out a device-code kubeconfig; the provider gets the configured non-interactive login, and the
    deployer's cluster-admin role exists before the provider (so before every Kubernetes object)."""
    import yaml

    (provider,) = [p for p in stack.result.by_type("pulumi:providers:kubernetes") if p["name"] == "cluster-k8s"]
    [user] = yaml.safe_load(provider["inputs"]["kubeconfig"])["users"]
    args = user["user"]["exec"]["args"]
    assert args[:3] == ["get-token", "--login", stack.cfg.azure.kubelogin_mode] and "devicecode" not in args
    (admin,) = [r for r in stack.result.by_type("azure-native:authorization:RoleAssignment")
                if r["name"] == "cluster-deployer-admin"]
    assert admin["urn"] in provider["dependencies"]
    (entra_admin,) = stack.result.by_type("azure-native:dbforpostgresql:AdministratorsMicrosoftEntra")
    assert entra_admin["inputs"]["principalName"] == f"mlops-azure-{stack.cfg.environment}-deployer"


def test_the_dr_runbook_reads_what_the_stack_exports(stack):
    """The runbook's tests use the azure-prod outputs; here they must be what the stack really exports."""
    from mlops_tools.ops.azure.dr.target import parse_target
    from tests.ops.azure.arm_fake import prod_outputs
    from tests.stacks.matrix import check_runbook_reads_the_outputs

    check_runbook_reads_the_outputs(stack, parse_target, prod_outputs)


# docs/cost.md "Hand check: azure-dev and gcp-dev": ACR Premium $1.667/day, NAT gateway $0.045/h (idle: no data),
# private endpoint $0.01/h.
HAND_CHECK_DEV = {
    "registry": 1.667 * 730 / 24,          # Premium registry, 30.42 days
    "network": 0.045 * 730,                # NAT gateway
}


def test_dev_estimate_matches_the_hand_check_for_its_largest_items(stack):
    if stack.name != "azure-dev":
        pytest.skip("the hand check is documented for azure-dev")
    items = sorted(stack.cost()["items"], key=lambda i: -i["monthlyUsd"]["idle"])[:2]
    assert [item["name"] for item in items] == ["registry", "network"]
    for item in items:
        expected = HAND_CHECK_DEV[item["name"]]
        assert abs(item["monthlyUsd"]["idle"] - expected) <= 0.10 * expected, (item["name"], item["monthlyUsd"], expected)


def test_mlflow_waits_for_its_database_secret_and_the_dr_writer_endpoint(stack):
    """azure-prod: the URI names the replication set's writer endpoint, which exists only once the replica does."""
    names = {r["urn"]: r["name"] for r in stack.result.resources}
    server = stack.result.one("mlops:k8s:MlflowServer")
    waits = {names[d] for d in server["dependencies"]}
    assert {"tracking-db-mlflow", "tracking-db-uri"} <= waits
    assert ("dr-db-writer" in waits) == stack.cfg.dr.enabled
    assert [v for v in stack.policy.active if v["policy"] == "kubernetes-workload-pod-require-source-dependency"] == []


def test_pipeline_steps_identity_is_scoped_to_the_argo_and_feast_containers(stack):
    """Contributor on the artifacts account's argo container, Reader on the Feast container, nothing wider;
    the chart's step ServiceAccount names that identity and the step pods carry the webhook's label."""
    [identity] = [r for r in stack.result.by_type("azure-native:managedidentity:UserAssignedIdentity")
                  if r["name"] == "pipelines-identity-steps"]
    [federated] = [r for r in stack.result.by_type("azure-native:managedidentity:FederatedIdentityCredential")
                   if r["parent"] == identity["urn"]]
    assert federated["inputs"]["subject"] == "system:serviceaccount:pipelines:pipeline-steps"
    grants = {r["inputs"]["roleDefinitionId"].rsplit("/", 1)[1]: r["inputs"]["scope"]
              for r in stack.result.by_type("azure-native:authorization:RoleAssignment")
              if r["name"].startswith("pipelines-identity-")}
    assert set(grants) == {"ba92f5b4-2d11-453d-a403-e96b0029c9fe", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"}
    assert grants["ba92f5b4-2d11-453d-a403-e96b0029c9fe"].endswith("/blobServices/default/containers/argo")
    assert grants["2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"].endswith("/blobServices/default/containers/feast")
    [container] = [r for r in stack.result.by_type("azure-native:storage:BlobContainer")
                   if r["inputs"]["containerName"] == "argo"]
    assert container["inputs"]["publicAccess"] == "None"
    [release] = [r for r in stack.result.by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "argo-workflows"]
    values = release["inputs"]["values"]
    assert CLIENT_ID_ANNOTATION in values["workflow"]["serviceAccount"]["annotations"]
    account = grants["ba92f5b4-2d11-453d-a403-e96b0029c9fe"].split("/storageAccounts/")[1].split("/")[0]
    assert values["artifactRepository"]["azure"]["endpoint"] == f"https://{account}.blob.core.windows.net"
    assert values["artifactRepository"]["azure"]["container"] == "argo"
    [template] = [t for t in stack.result.by_type("kubernetes:argoproj.io/v1alpha1:WorkflowTemplate")
                  if t["inputs"]["metadata"]["name"] == "retraining"]
    assert template["inputs"]["spec"]["podMetadata"]["labels"]["azure.workload.identity/use"] == "true"


def test_distributed_training_on_the_spot_pools_checkpoints_to_the_artifacts_container(stack):
    account = stack.result.outputs["artifactBucket"]
    jobs = check_distributed_training(stack, 25, f"abfs://mlflow@{account}.dfs.core.windows.net/")
    pod = jobs["train-cpu-spot"]["rayClusterSpec"]["workerGroupSpecs"][0]["template"]
    assert ("kubernetes.azure.com/scalesetpriority", "spot") in {(t["key"], t["value"]) for t in pod["spec"]["tolerations"]}
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    (assignment,) = [r["inputs"] for r in stack.result.by_type("azure-native:authorization:RoleAssignment")
                     if r["name"] == "training-jobs-checkpoints"]
    assert assignment["conditionVersion"] == "2.0" and "StringStartsWith 'checkpoints/'" in assignment["condition"]


def test_defender_for_containers_is_on_and_its_vcores_are_this_stacks_nodes(stack):
    """CKV_AZURE_163 on by default; the estimate bills the plan per vCore-hour of every pool the stack declares."""
    [plan] = stack.result.by_type("azure-native:security:Pricing")
    assert (plan["inputs"]["pricingName"], plan["inputs"]["pricingTier"]) == ("Containers", "Standard")
    pools = [p["inputs"] for p in stack.result.by_type("azure-native:containerservice:AgentPool")]
    system = stack.result.by_type("azure-native:containerservice:ManagedCluster")[0]["inputs"]["agentPoolProfiles"]
    size = {"Standard_D4s_v5": 4, "Standard_D8s_v5": 8, "Standard_D8as_v5": 8, "Standard_D8ds_v5": 8,
            "Standard_D16s_v5": 16, "Standard_D16as_v5": 16, "Standard_D16ds_v5": 16,
            "Standard_NC4as_T4_v3": 4, "Standard_NC8as_T4_v3": 8, "Standard_NC16as_T4_v3": 16}
    at_max = sum(size[p["vmSize"]] * p.get("maxCount", p["count"]) for p in pools + system)
    idle = sum(size[p["vmSize"]] * p.get("minCount", p["count"]) for p in pools + system)
    [item] = [i for i in stack.cost()["items"] if i["type"] == "azure-native:security:Pricing"]
    [charge] = item["charges"]
    assert charge["priceKey"].endswith("/defender/containers-vcore-hour")
    assert (charge["quantity"]["idle"], charge["quantity"]["max"]) == (idle * 730, at_max * 730)
