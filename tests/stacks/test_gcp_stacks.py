"""The GCP stack files preview to the complete platform and export the fixed outputs (the checks every stack
file must pass, packs and manifests among them, are in test_stack_matrix.py)."""

import json

import pytest

from mlops_tools.engine.preview import PreviewError, preview_program, preview_stack
from tests.stacks.matrix import check_distributed_training, ROOT, stack_for

OUTPUTS = {"cloud", "environment", "region", "project", "trackingUrl", "artifactBucket", "modelImageRepositoryUrl",
           "trainingImageRepositoryUrl", "featureRegistryPath", "featureOfflineStorePath", "onlineStoreInstance",
           "clusterName", "kubeconfig", "alertNotificationChannels", "trackingDbInstanceId",
           "trackingDbConnectionName", "trackingDbEndpointRecord", "dr"}
DR_OUTPUTS = {"enabled", "region", "rpoMinutes", "rtoMinutes", "dbReplicaId", "dbReplicaArn", "artifactReplicaBucket",
              "featureReplicaBucket", "onlineStoreReplicaRegion", "imageReplicaRegion",
              # GCP runbook extras (components/dr/gcp.py RUNBOOK_OUTPUTS)
              "imageRepositoryUrls", "dbReplicaPrivateIp", "onlineStoreReplicaZone", "transferJobs"}
CAPABILITIES = ["mlops:keys:Keys", "mlops:network:Network", "mlops:cluster:Cluster",
                "mlops:training:TrainingJobIdentity", "mlops:tracking:TrackingServer",
                "mlops:registry:ModelRegistry", "mlops:features:FeatureStore", "mlops:monitoring:Monitoring",
                "mlops:k8s:PlatformWorkloads"]


STACKS = ["gcp-dev", "gcp-prod"]


@pytest.fixture(scope="module", params=STACKS)
def stack(request):
    return stack_for(request.param)


def test_every_capability_is_a_component_with_children(stack):
    assert stack.capability_problems(CAPABILITIES) == []
    pools = {p["name"]: p for p in stack.result.by_type("mlops:training:TrainingPool")}
    assert sorted(pools) == sorted(f"training-{p.name}" for p in stack.cfg.training_pools)
    for pool in stack.cfg.training_pools:  # one GKE node pool per machine type
        children = stack.result.children(pools[f"training-{pool.name}"]["urn"])
        assert sorted(c["inputs"]["nodeConfig"]["machineType"] for c in children) == sorted(pool.instance_types)


def test_fixed_outputs(stack):
    outputs = stack.result.outputs
    google = {"mlflowGroupsReaderAccount"} if stack.cfg.access.issuer == "google" else set()  # docs/access.md
    assert set(outputs) == OUTPUTS | google and set(outputs["dr"]) == DR_OUTPUTS
    assert outputs["cloud"] == "gcp" and outputs["region"] == stack.cfg.region
    assert outputs["clusterName"] == f"mlops-{stack.result.stack}"
    assert stack.result.masked_outputs()["kubeconfig"] == "[secret]"
    dr = outputs["dr"]
    replicas = [dr[k] for k in DR_OUTPUTS - {"enabled", "region", "rpoMinutes", "rtoMinutes"}]
    if stack.cfg.dr.enabled:
        assert dr["region"] == stack.cfg.dr.replica_region and all(replicas)
    else:
        assert dr["region"] is None and not any(replicas)


def test_every_cloud_resource_uses_an_explicit_provider_in_the_configured_project(stack):
    primary = stack.result.one("pulumi:providers:gcp", "primary")["inputs"]
    assert primary["region"] == stack.cfg.region and primary["project"] == stack.result.outputs["project"]
    assert stack.unbound_resources("gcp") == []


def test_dr_keys_and_replicas_are_bound_to_the_dr_provider(stack):
    if not stack.cfg.dr.enabled:
        assert not any(r["name"] == "dr" for r in stack.result.by_type("pulumi:providers:gcp"))
        return
    dr = stack.result.one("pulumi:providers:gcp", "dr")
    assert dr["inputs"]["region"] == stack.cfg.dr.replica_region
    twins = [k for k in stack.result.by_type("gcp:kms/cryptoKey:CryptoKey")
             if f"/locations/{stack.cfg.dr.replica_region}/" in k["inputs"]["keyRing"]]
    assert len(twins) == 5 and all(k["provider"].startswith(dr["urn"] + "::") for k in twins)
    replica = stack.result.one("gcp:sql/databaseInstance:DatabaseInstance", "dr-db")
    assert replica["provider"].startswith(dr["urn"] + "::")


def test_resources_carry_the_cost_allocation_labels_through_the_provider(stack):
    labels = stack.result.one("pulumi:providers:gcp", "primary")["inputs"]["defaultLabels"]
    labels = json.loads(labels) if isinstance(labels, str) else labels
    assert {"environment": stack.cfg.environment, "owner": "ml-platform", "managed-by": "pulumi"}.items() <= labels.items()


def test_in_cluster_workloads_get_their_google_service_accounts(stack):
    accounts = {(a["inputs"]["metadata"]["namespace"], a["inputs"]["metadata"]["name"]):
                a["inputs"]["metadata"].get("annotations", {}) for a in stack.result.by_type("kubernetes:core/v1:ServiceAccount")}
    bindings = {b["inputs"]["member"] for b in stack.result.by_type("gcp:serviceaccount/iAMMember:IAMMember")
                if b["inputs"]["role"] == "roles/iam.workloadIdentityUser"}
    project = stack.result.outputs["project"]
    for namespace, name in [("mlops", "mlflow"), ("mlops", "feast"), ("training", "trainer")]:
        assert accounts[(namespace, name)]["iam.gke.io/gcp-service-account"].endswith(f"@{project}.iam.gserviceaccount.com")
        assert f"serviceAccount:{project}.svc.id.goog[{namespace}/{name}]" in bindings


def test_gpu_pools_get_gke_managed_gpu_metrics_instead_of_platform_gpu_agents(stack):
    assert not stack.result.by_type("mlops:k8s:GpuNodeAgents")  # GKE runs the device plugin and DCGM itself
    monitoring = stack.result.one("gcp:container/cluster:Cluster")["inputs"]["monitoringConfig"]
    has_gpus = any(pool.accelerator == "nvidia-gpu" for pool in stack.cfg.training_pools)
    assert ("DCGM" in monitoring["enableComponents"]) is has_gpus
    assert monitoring["managedPrometheus"]["enabled"] is has_gpus  # the DCGM package needs it


def test_a_stack_without_gcp_project_stops_with_one_line():
    from stacks.gcp import project_id

    with pytest.raises(PreviewError) as error:
        preview_program(project_id, stack="gcp-dev", config={"mlops:cloud": "gcp", "mlops:region": "europe-west4"})
    assert "Pulumi.gcp-dev.yaml: gcp:project is required for gcp stacks" in str(error.value)
    assert "Traceback" not in str(error.value)


def test_an_unknown_gpu_machine_type_stops_with_one_line():
    pools = ('mlops:trainingPools=[{"name": "gpu", "accelerator": "nvidia-gpu", '
             '"instanceTypes": ["g2-standard-7", "g2-standard-8"], "maxNodes": 1}]')
    with pytest.raises(PreviewError) as error:
        preview_stack(ROOT, "gcp-dev", [pools])
    assert ('Pulumi.gcp-dev.yaml: mlops:trainingPools[0].instanceTypes[0] = "g2-standard-7": '
            'is not a gcp machine size') in str(error.value)
    assert "Traceback" not in str(error.value)


def test_the_dr_runbook_reads_what_the_stack_exports(stack):
    """The runbook's tests use the gcp-prod outputs; here they must be what the stack really exports."""
    from mlops_tools.ops.gcp.dr.target import parse_target
    from tests.ops.gcp.gcp_fake import prod_outputs
    from tests.stacks.matrix import check_runbook_reads_the_outputs

    check_runbook_reads_the_outputs(stack, parse_target, prod_outputs)


# docs/cost.md "Hand check: azure-dev and gcp-dev": europe-west4 E2 $0.02401 per vCPU-hour and $0.00322 per GB-hour,
# GKE fee $0.10/h, Cloud NAT $0.0014 per VM-hour (idle: no data).
HAND_CHECK_DEV = {
    "cluster-system": 2 * 730 * (4 * 0.02401 + 16 * 0.00322),   # two e2-standard-4 system nodes (boot disks unpriced)
    "cluster-gke": 0.10 * 730,                                  # regional cluster management fee
    "network-nat": 2 * 730 * 0.0014,                            # the two system nodes use the gateway
}


def test_dev_estimate_matches_the_hand_check_for_its_largest_items(stack):
    if stack.name != "gcp-dev":
        pytest.skip("the hand check is documented for gcp-dev")
    items = sorted(stack.cost()["items"], key=lambda i: -i["monthlyUsd"]["idle"])[:3]
    assert {item["name"] for item in items} == set(HAND_CHECK_DEV)
    for item in items:
        expected = HAND_CHECK_DEV[item["name"]]
        assert abs(item["monthlyUsd"]["idle"] - expected) <= 0.10 * expected, (item["name"], item["monthlyUsd"], expected)


def test_workload_identity_namespaces_reach_the_gke_metadata_server_of_dataplane_v2(stack):
    """Default-deny egress would otherwise leave MLflow, Feast, training jobs and the retraining steps without
    Google tokens."""
    [cluster] = stack.result.by_type("gcp:container/cluster:Cluster")
    assert cluster["inputs"]["datapathProvider"] == "ADVANCED_DATAPATH"  # so: 169.254.169.254:80, not .252:988
    opened = {p["inputs"]["metadata"]["namespace"]: p["inputs"]["spec"]
              for p in stack.result.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
              if p["inputs"]["metadata"]["name"] == "allow-workload-identity"}
    assert sorted(opened) == ["mlops", "pipelines", "serving", "training"]
    for spec in opened.values():
        assert spec["podSelector"] == {} and spec["egress"] == [
            {"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}], "ports": [{"protocol": "TCP", "port": 80}]}]
    assert [v for v in stack.policy.active if v["policy"] == "kubernetes-networkpolicy-workload-allow-required-egress"] == []


def test_every_gcp_resource_waits_for_the_service_enabling_its_api(stack):
    """Key rings and keys, agents' key grants, Bigtable and its agent, channels, alerts, the budget, everything."""
    services = {r["urn"]: r["inputs"]["service"] for r in stack.result.by_type("gcp:projects/service:Service")}
    waits = {}
    for r in stack.result.resources:
        if r["custom"] and r["type"].startswith("gcp:") and r["type"] != "gcp:projects/service:Service":
            waits.setdefault(r["type"], set()).update(services[d] for d in r["dependencies"] if d in services)
    assert "cloudkms.googleapis.com" in waits["gcp:kms/keyRing:KeyRing"] & waits["gcp:kms/cryptoKey:CryptoKey"] \
        & waits["gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"]
    assert "bigtableadmin.googleapis.com" in waits["gcp:bigtable/instance:Instance"]
    assert waits["gcp:monitoring/notificationChannel:NotificationChannel"] == {"monitoring.googleapis.com"}
    assert waits["gcp:monitoring/alertPolicy:AlertPolicy"] == {"monitoring.googleapis.com"}
    assert waits["gcp:billing/budget:Budget"] == {"billingbudgets.googleapis.com"}
    agents = stack.result.by_type("gcp:projects/serviceIdentity:ServiceIdentity")
    assert all(any(services.get(d) == a["inputs"]["service"] for d in a["dependencies"]) for a in agents)
    assert [v for v in stack.policy.active if v["policy"] == "gcp-serviceusage-resource-require-api-dependency"] == []


def test_the_budget_is_created_through_a_provider_with_a_quota_project(stack):
    """Under user credentials the Billing Budgets API answers 403 without billing_project + user_project_override."""
    [budget] = stack.result.by_type("gcp:billing/budget:Budget")
    provider = stack.result.one("pulumi:providers:gcp", "billing")
    assert budget["provider"].startswith(provider["urn"] + "::")
    project = stack.result.outputs["project"]
    assert (provider["inputs"]["billingProject"], provider["inputs"]["userProjectOverride"]) == (project, "true")


def test_gpu_node_pools_are_placed_only_in_zones_offering_their_machine_type(stack):
    from components.training.gcp import gpu_zone_table

    series = gpu_zone_table()["series"]
    for pool in stack.result.by_type("gcp:container/nodePool:NodePool"):
        machine = pool["inputs"]["nodeConfig"]["machineType"]
        if pool["inputs"]["nodeConfig"].get("guestAccelerators"):
            offered = next(zones for prefix, zones in series.items() if machine.startswith(prefix))[stack.cfg.region]
            assert pool["inputs"]["nodeLocations"] and set(pool["inputs"]["nodeLocations"]) <= set(offered), machine
        else:
            assert "nodeLocations" not in pool["inputs"]  # CPU pools use every cluster zone
    if stack.result.stack == "gcp-prod":
        locations = {p["inputs"]["nodeConfig"]["machineType"]: p["inputs"]["nodeLocations"]
                     for p in stack.result.by_type("gcp:container/nodePool:NodePool") if "nodeLocations" in p["inputs"]}
        assert locations["a2-highgpu-8g"] == ["europe-west4-a", "europe-west4-b"]
        assert locations["a3-highgpu-8g"] == ["europe-west4-b", "europe-west4-c"]


def test_a_gpu_type_no_cluster_zone_offers_stops_with_one_line():
    pools = ('mlops:trainingPools=[{"name": "gpu", "accelerator": "nvidia-gpu", '
             '"instanceTypes": ["a2-highgpu-8g", "a2-ultragpu-8g"], "maxNodes": 1}]')
    with pytest.raises(PreviewError) as error:
        preview_stack(ROOT, "gcp-dev", [pools, "mlops:region=europe-west1"])
    assert ('Pulumi.gcp-dev.yaml: mlops:trainingPools[0].instanceTypes[0] = "a2-highgpu-8g": a2-highgpu-8g is offered '
            'in europe-west1 only in zones: none') in str(error.value)
    assert "Traceback" not in str(error.value)


def test_zones_are_the_regions_real_ones_so_the_dr_online_replica_lands_in_a_zone_that_exists(stack):
    """europe-west1 has zones b, c, d (no a): the preview's zone lookup answers as Compute Engine does."""
    [instance] = stack.result.by_type("gcp:bigtable/instance:Instance")
    zones = sorted(c["zone"] for c in instance["inputs"]["clusters"])
    primary = [z for z in zones if z.startswith(stack.cfg.region + "-")]
    assert primary and all(z[-1] in "abc" for z in primary)
    if stack.cfg.dr.enabled:
        assert [z for z in zones if z.startswith(stack.cfg.dr.replica_region + "-")] == ["europe-west1-b"]


def test_every_bucket_logs_its_access_to_the_usage_log_bucket_of_its_region(stack):
    """CKV_GCP_62: usage logs land in a CMEK, uniform-access log bucket per region that Cloud Storage's log
    writer may write to; the log bucket is the one bucket that does not log."""
    buckets = {b["inputs"]["name"]: b for b in stack.result.by_type("gcp:storage/bucket:Bucket")}
    log_buckets = {n: b for n, b in buckets.items() if "access-logs" in n}
    regions = {stack.cfg.region, *([stack.cfg.dr.replica_region] if stack.cfg.dr.enabled else [])}
    assert sorted(b["inputs"]["location"] for b in log_buckets.values()) == sorted(regions)
    writers = {(g["inputs"]["bucket"], g["inputs"]["role"], g["inputs"]["member"])
               for g in stack.result.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")}
    for name, log_bucket in log_buckets.items():
        inputs = log_bucket["inputs"]
        assert "logging" not in inputs
        assert inputs["uniformBucketLevelAccess"] is True and inputs["encryption"]["defaultKmsKeyName"]
        assert (name, "roles/storage.objectCreator", "group:cloud-storage-analytics@google.com") in writers
    for name, bucket in buckets.items():
        if name in log_buckets:
            continue
        target = log_buckets[bucket["inputs"]["logging"]["logBucket"]]
        assert target["inputs"]["location"] == bucket["inputs"]["location"], name


def test_pipeline_steps_service_account_has_its_bucket_grants_only(stack):
    [release] = [r for r in stack.result.by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "argo-workflows"]
    values = release["inputs"]["values"]
    email = values["workflow"]["serviceAccount"]["annotations"]["iam.gke.io/gcp-service-account"]
    grants = {r["inputs"]["role"]: r["inputs"] for r in stack.result.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")
              if r["inputs"]["member"] == f"serviceAccount:{email}"}
    assert set(grants) == {"roles/storage.objectUser", "roles/storage.objectViewer", "roles/storage.legacyBucketReader"}
    assert grants["roles/storage.legacyBucketReader"]["bucket"] == grants["roles/storage.objectViewer"]["bucket"]
    artifacts = grants["roles/storage.objectUser"]
    assert artifacts["bucket"] == values["artifactRepository"]["gcs"]["bucket"]
    assert f'startsWith("projects/_/buckets/{artifacts["bucket"]}/objects/argo/")' in artifacts["condition"]["expression"]
    [binding] = [r for r in stack.result.by_type("gcp:serviceaccount/iAMMember:IAMMember")
                 if r["inputs"]["member"].endswith("[pipelines/pipeline-steps]")]
    assert binding["inputs"]["role"] == "roles/iam.workloadIdentityUser"


def test_distributed_training_on_the_spot_pools_checkpoints_to_the_artifacts_bucket(stack):
    bucket = stack.result.outputs["artifactBucket"]
    check_distributed_training(stack, 105, f"gs://{bucket}/")  # GKE >= 1.35: graceful node shutdown's pod budget
    (binding,) = [b["inputs"] for b in stack.result.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")
                  if b["inputs"].get("condition", {}).get("title") == "training-checkpoints"]
    assert binding["role"] == "roles/storage.objectUser" and binding["bucket"] == bucket
    assert f'startsWith("projects/_/buckets/{bucket}/objects/checkpoints/")' in binding["condition"]["expression"]


def test_the_tracking_database_and_its_replica_audit_ddl_and_role_changes_and_mlflow_creates_pgaudit(stack):
    """CKV_GCP_110: pgAudit loaded and auditing DDL and role statements on the primary and the DR replica (a
    promoted replica keeps the audit trail), and the MLflow migrate step creates the extension."""
    instances = stack.result.by_type("gcp:sql/databaseInstance:DatabaseInstance")
    assert len(instances) == (2 if stack.cfg.dr.enabled else 1)
    for instance in instances:
        flags = {f["name"]: f["value"] for f in instance["inputs"]["settings"]["databaseFlags"]}
        assert (flags["cloudsql.enable_pgaudit"], flags["pgaudit.log"]) == ("on", "ddl,role"), instance["name"]
    mlflow = next(d for d in stack.result.by_type("kubernetes:apps/v1:Deployment")
                  if d["inputs"]["metadata"]["name"] == "mlflow")
    migrate = next(c for c in mlflow["inputs"]["spec"]["template"]["spec"]["initContainers"] if c["name"] == "migrate")
    assert {"name": "MLOPS_DB_EXTENSIONS", "value": "pgaudit"} in migrate["env"]
