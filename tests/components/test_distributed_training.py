"""Distributed training on spot (issue 11, capability 2): the RayJob as rendered for each cloud's notice,
checked against KubeRay's pinned CRD, the pools' scheduling, hardening, the exact Ray ports, and that the
rendered command line is one the step CLI accepts."""

import shlex

import pytest

from components.k8s import GPU_TAINT_KEY, POOL_LABEL, PRIORITY_TRAINING, TRAINING_SERVICE_ACCOUNT
from components.k8s._common import InvalidInput
from components.training import Taint
from components.training.distributed import (HEAD_PORTS, NODE_PORTS, WORKER_PORT_RANGE, RayJobArgs,
                                             interruption_notice, network_policies, rayjob_manifest)
from mlops_tools.validate.custom_resources import crd_validator
from pipelines.__main__ import parser

SPOT = Taint("mlops.dev/capacity-type", "spot")
GPU = Taint(GPU_TAINT_KEY, "true")
STORAGE = "s3://artifacts/checkpoints"


def job(cloud="aws", gpu=False, **overrides):
    args = dict(pool="gpu-spot" if gpu else "cpu-spot", gpu=gpu, taints=(GPU, SPOT) if gpu else (SPOT,),
                image="registry.example/training:ray-2.60.0-1", notice=interruption_notice(cloud),
                features="s3://features/offline/churn.parquet", label="churned", entity="customer_id")
    args.update(overrides)
    return RayJobArgs(**args)


def worker_pod(manifest):
    return manifest["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]


@pytest.mark.parametrize("cloud, shutdown, notice, grace, drain", [
    ("aws", None, 120, 90, 80), ("azure", None, 30, 25, 15), ("gcp", 105, 30, 105, 95), ("gcp", None, 30, 15, 5)])
def test_interruption_notice_per_cloud(cloud, shutdown, notice, grace, drain):
    n = interruption_notice(cloud, shutdown)
    assert (n.notice_seconds, n.grace_seconds, n.drain_seconds) == (notice, grace, drain)
    assert n.drain_seconds < n.grace_seconds  # Ray stops its processes before the kubelet's SIGKILL


def test_driver_and_workers_log_to_mlflow_with_the_secrets_credentials_and_the_submitter_gets_none():
    """pipelines/distributed.py logs only when MLFLOW_TRACKING_URI is set; MLflow's client reads the user and
    password from MLFLOW_TRACKING_USERNAME/PASSWORD. The driver runs on the head, the train loop on the
    workers; the submitter only calls the job API."""
    from components.k8s import TRACKING_URL

    spec = rayjob_manifest(job(mlflow_secret="mlflow-training"), STORAGE)["spec"]
    env = {role: {e["name"]: e for e in pod["spec"]["containers"][0]["env"]} for role, pod in (
        ("head", spec["rayClusterSpec"]["headGroupSpec"]["template"]),
        ("worker", spec["rayClusterSpec"]["workerGroupSpecs"][0]["template"]),
        ("submitter", spec["submitterPodTemplate"]))}
    for role in ("head", "worker"):
        assert env[role]["MLFLOW_TRACKING_URI"] == {"name": "MLFLOW_TRACKING_URI", "value": TRACKING_URL}
        for key in ("username", "password"):
            assert env[role][f"MLFLOW_TRACKING_{key.upper()}"]["valueFrom"] == {
                "secretKeyRef": {"name": "mlflow-training", "key": key}}
    assert not [name for name in env["submitter"] if name.startswith("MLFLOW_")]
    untracked = rayjob_manifest(job(), STORAGE)["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]
    assert not [e for e in untracked["spec"]["containers"][0]["env"] if e["name"].startswith("MLFLOW_")]


def test_unknown_cloud_is_refused():
    with pytest.raises(InvalidInput, match="aws, azure or gcp"):
        interruption_notice("oci")


@pytest.mark.parametrize("gpu", [False, True])
def test_rayjob_validates_against_the_pinned_crd(gpu):
    manifest = rayjob_manifest(job(gpu=gpu, mlflow_secret="mlflow-training"), STORAGE)
    validator = crd_validator("RayJob", "ray.io/v1")
    assert validator is not None, "ray.io_rayjobs.yaml missing from mlops_tools/validate/crd_schemas"
    assert [e.message for e in validator.iter_errors(manifest)] == []
    manifest["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["maxReplica"] = 2  # a typo the API server prunes
    assert any("maxReplica" in e.message for e in validator.iter_errors(manifest))


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_workers_land_on_their_spot_pool_and_get_the_clouds_grace(cloud):
    args = job(cloud, gpu=True)
    pod = worker_pod(rayjob_manifest(args, STORAGE))
    assert pod["nodeSelector"] == {POOL_LABEL: "gpu-spot"}
    assert {(t["key"], t["value"], t["effect"]) for t in pod["tolerations"]} == {
        (GPU_TAINT_KEY, "true", "NoSchedule"), ("mlops.dev/capacity-type", "spot", "NoSchedule")}
    assert pod["priorityClassName"] == PRIORITY_TRAINING and pod["serviceAccountName"] == TRAINING_SERVICE_ACCOUNT
    assert pod["terminationGracePeriodSeconds"] == args.notice.grace_seconds
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S"] == str(args.notice.drain_seconds)
    assert container["resources"]["limits"] == container["resources"]["requests"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    # ray start is PID 1 (exec), so the pod's SIGTERM reaches Ray and becomes a preemption drain.
    assert container["command"][-1].startswith("ulimit -n 65536; eval \"exec $KUBERAY_GEN_RAY_START_CMD")


def test_every_ray_container_is_hardened_and_the_head_stays_off_spot():
    spec = rayjob_manifest(job(), STORAGE)["spec"]
    head = spec["rayClusterSpec"]["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0" and head["template"]["spec"]["nodeSelector"] == {POOL_LABEL: "system"}
    assert head["template"]["spec"]["tolerations"] == []
    pods = [head["template"]["spec"], worker_pod({"spec": spec}), spec["submitterPodTemplate"]["spec"]]
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] and pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
            assert context["capabilities"] == {"drop": ["ALL"]} and context["runAsNonRoot"] is True
            assert container["resources"]["limits"]["cpu"] and container["resources"]["limits"]["memory"]
    assert spec["suspend"] is True and spec["shutdownAfterJobFinishes"] is True


def test_restart_and_checkpoint_settings_reach_the_job():
    args = job(checkpoint_every=25, max_failures=7, keep_checkpoints=3, backoff_limit=4, workers=3)
    spec = rayjob_manifest(args, STORAGE)["spec"]
    flags = parser().parse_args(shlex.split(spec["entrypoint"])[3:])  # after "python -m pipelines"
    assert flags.step == "train-distributed"
    assert (flags.checkpoint_every, flags.max_failures, flags.keep_checkpoints, flags.workers, flags.storage) == (
        25, 7, 3, 3, STORAGE)
    assert (flags.features, flags.label, flags.entity, flags.run_name) == (args.features, "churned", "customer_id", "train-cpu-spot")
    assert spec["backoffLimit"] == 4
    group = spec["rayClusterSpec"]["workerGroupSpecs"][0]
    assert group["replicas"] == group["minReplicas"] == group["maxReplicas"] == 3


def test_checkpoint_interval_longer_than_the_run_is_refused():
    with pytest.raises(InvalidInput, match="checkpoint_every"):
        rayjob_manifest(job(steps=10, checkpoint_every=20), STORAGE)


def test_network_policy_opens_exactly_the_ports_ray_listens_on():
    spec = rayjob_manifest(job(), STORAGE)["spec"]["rayClusterSpec"]
    listened, worker_ports = set(), set()
    for params in (spec["headGroupSpec"]["rayStartParams"], spec["workerGroupSpecs"][0]["rayStartParams"]):
        listened |= {int(v) for k, v in params.items() if k.endswith("port") and "worker-port" not in k}
        worker_ports.add((int(params["min-worker-port"]), int(params["max-worker-port"])))
    cluster, submitter = network_policies()
    (peers, from_submitter) = cluster["spec"]["ingress"]
    single = {p["port"] for p in peers["ports"] if "endPort" not in p}
    ranges = [(p["port"], p["endPort"]) for p in peers["ports"] if "endPort" in p]
    assert single == listened == set(HEAD_PORTS.values()) | set(NODE_PORTS.values())
    assert ranges == [WORKER_PORT_RANGE] and worker_ports == {WORKER_PORT_RANGE}
    assert cluster["spec"]["egress"][0]["ports"] == peers["ports"]
    assert [p["port"] for p in from_submitter["ports"]] == [HEAD_PORTS["dashboard-port"]]
    assert [p["port"] for p in submitter["spec"]["egress"][0]["ports"]] == [HEAD_PORTS["dashboard-port"]]
    assert submitter["spec"]["ingress"] == []


def test_what_the_operator_itself_refuses_is_never_rendered():
    """KubeRay v1.7.0's own spec checks (ray-operator/controllers/ray/utils/validation.go), which no CRD
    schema carries: name length, suspend only with shutdownAfterJobFinishes, replicas bounds, no resources
    in rayStartParams next to container resources, a positive deadline."""
    manifest = rayjob_manifest(job(pool="p" * 60), STORAGE)
    spec = manifest["spec"]
    assert len(manifest["metadata"]["name"]) <= 47
    assert not spec["suspend"] or spec["shutdownAfterJobFinishes"]
    assert spec["activeDeadlineSeconds"] > 0 and spec["backoffLimit"] >= 0 and spec["ttlSecondsAfterFinished"] >= 0
    for group in spec["rayClusterSpec"]["workerGroupSpecs"]:
        assert 0 <= group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
        assert not {"num-cpus", "num-gpus", "memory", "resources", "labels"} & set(group["rayStartParams"])
    assert "labels" not in spec["rayClusterSpec"]["headGroupSpec"]["rayStartParams"]
