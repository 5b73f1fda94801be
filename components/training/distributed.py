"""Distributed training on the spot pools: KubeRay's ``RayJob`` running Ray Train (issue 11, capability 2).

Cloud-neutral renderers (pure functions, so tests and the smoke run read exactly what the plan holds); the
component that registers them is ``components/training/kuberay.py``.

Why Ray (KubeRay + Ray Train) and not Kubeflow Trainer: Ray Train's fault tolerance is the part this
capability is about (a worker group restarted from the latest checkpoint after losing a node,
``FailureConfig.max_failures``; checkpoints written to object storage by every worker), it runs on CPU and
GPU pools alike, and the same code runs on a local multi-node Ray cluster on 127.0.0.1, which is how the
smoke environment proves the rendered settings (Kubeflow Trainer's runtimes are PyTorch images whose
PyPI wheels pull several GB of CUDA libraries; no cluster runs here to host its controller).

Resume, end to end (docs/training.md, "Distributed training on spot"):

1. A spot node gets its notice; the node is drained (AWS: Karpenter on the interruption queue's warning;
   GCP: the kubelet's graceful node shutdown; Azure: only when something drains the node in its 30 s).
2. The worker pod's PID 1 is ``ray start --block``: on SIGTERM Ray drains its node with reason PREEMPTION
   and a deadline of ``drain_seconds`` (``RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S``); Ray Train's preemption
   watcher sees the drain, ``ray.train.get_preemption_info()`` turns non-empty on every worker at the same
   step, and the loop writes a checkpoint at once. ``terminationGracePeriodSeconds`` is the cloud's budget.
3. Ray Train loses a worker, restarts the worker group (up to ``maxFailures`` times) on the nodes it
   has, the autoscaler brings a replacement spot node, and every worker resumes from the latest checkpoint
   in the object store; without a notice (Azure), from the last periodic one (``checkpointEvery`` steps).
4. If the job still fails (head lost, failures exhausted), KubeRay resubmits it on a new cluster
   (``backoffLimit``), and Ray Train resumes the same run name from the same storage path.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from components.k8s import (GPU_TAINT_KEY, MLFLOW_NAME, MLFLOW_PORT, POOL_LABEL, PLATFORM_NAMESPACE,
                            PRIORITY_TRAINING, RAY_TRAINING_APP, TRACKING_URL, TRAINING_NAMESPACE,
                            TRAINING_SERVICE_ACCOUNT, SecretKeyRef)
from components.k8s._common import InvalidInput, container_security_context, secret_env, tcp_ports
from components.training import Taint

# Pinned versions: the operator chart and the Ray version its RayJobs run (the image's Ray must be this).
KUBERAY_CHART = "kuberay-operator"
KUBERAY_CHART_VERSION = "1.7.0"
KUBERAY_CHART_REPOSITORY = "https://ray-project.github.io/kuberay-helm/"
KUBERAY_NAMESPACE = "kuberay"
RAY_VERSION = "2.60.0"
# The rayproject/ray images run as the image's user "ray" (uid 1000, gid 100).
RAY_UID = 1000

MAX_RAYJOB_NAME = 47  # MaxRayJobNameLength in KubeRay v1.7.0 (ray-operator/controllers/ray/utils/constant.go)
APP_LABEL = "app.kubernetes.io/name"
APP = RAY_TRAINING_APP
ROLE_LABEL = "mlops.dev/ray-role"
CHECKPOINT_PREFIX = "checkpoints"
# The training jobs' own MLflow user (never the admin): its generated password sits in this Secret in the
# training namespace (keys username, password); MlflowServer seeds the user (components/k8s/service_users.py).
MLFLOW_USER_SECRET = "mlflow-training"
MLFLOW_USERNAME = "svc-training"
# Pool label of the on-demand nodes of platform services (components/cluster; on Azure the `platform` User pool,
# the AKS System pool being for critical add-ons only): the head never runs on spot.
SYSTEM_POOL = "system"

# Every port Ray listens on, fixed (Ray picks random ones otherwise), so the NetworkPolicy can name them.
HEAD_PORTS = {"port": 6379, "dashboard-port": 8265, "ray-client-server-port": 10001}
NODE_PORTS = {"node-manager-port": 6380, "object-manager-port": 6381, "dashboard-agent-grpc-port": 6382,
              "runtime-env-agent-port": 6383, "dashboard-agent-listen-port": 52365, "metrics-export-port": 8080}
WORKER_PORT_RANGE = (10002, 10101)
STOP_SECONDS = 10  # what the grace period leaves `ray start` to stop its processes after the drain window
PREEMPTION_POLL_SECONDS = 2  # Ray Train's drain-state poll (default 5 s): a 25 s Azure window needs it shorter
# The container port names KubeRay looks for (its head Service and the submitter's dashboard address).
HEAD_CONTAINER_PORTS = {"gcs-server": 6379, "dashboard": 8265, "client": 10001, "metrics": 8080}
WORKER_CONTAINER_PORTS = {"metrics": 8080}  # one per Ray worker process (train workers, actors, tasks) on a node


@dataclass(frozen=True)
class InterruptionNotice:
    """How a cloud warns before taking a spot node back, and the grace a training pod gets."""

    cloud: str
    notice_seconds: int      # the cloud's warning before the VM is reclaimed
    grace_seconds: int       # the pod's terminationGracePeriodSeconds
    signal_path: str         # who turns the notice into a SIGTERM on the pod

    @property
    def drain_seconds(self) -> int:
        """The drain deadline Ray gets on SIGTERM (the checkpoint's window) before it stops its processes:
        the grace minus ``STOP_SECONDS`` (at least 5 s)."""
        return max(5, self.grace_seconds - STOP_SECONDS)


def interruption_notice(cloud: str, gke_pod_shutdown_seconds: Optional[int] = None) -> InterruptionNotice:
    """The notice per cloud. GKE: the pod budget of graceful node shutdown on the pool (105 s on GKE >= 1.35
    spot pools, ``components/training/gcp.py``; otherwise GKE's default of 15 s for non-system pods)."""
    if cloud == "aws":
        # 2 min warning; Karpenter reads it from the interruption queue within seconds, taints and drains
        # the node; 30 s are left for the queue delay and the instance's own shutdown.
        return InterruptionNotice("aws", 120, 90, "Karpenter (SQS interruption queue) drains the node")
    if cloud == "azure":
        # 30 s Scheduled Events "Preempt"; nothing in AKS drains the node on it by default, so the pod may
        # get no SIGTERM at all: the periodic checkpoint bounds the loss.
        return InterruptionNotice("azure", 30, 25, "a Scheduled Events handler, if one drains the node")
    if cloud == "gcp":
        budget = gke_pod_shutdown_seconds or 15
        return InterruptionNotice("gcp", 30, budget, "the kubelet's graceful node shutdown")
    raise InvalidInput(f"cloud {cloud!r} must be aws, azure or gcp")


@dataclass(frozen=True)
class RayJobArgs:
    """One RayJob on one training pool (``mlops:training`` + the pool's labels and taints)."""

    pool: str
    gpu: bool
    taints: Sequence[Taint]
    image: Any                      # pulumi.Input[str]: the training image (pipelines/Dockerfile.ray)
    notice: InterruptionNotice
    features: str                   # the offline-store parquet (s3://, gs://, abfs:// or a path)
    label: str
    entity: str
    workers: int = 2
    worker_cpu: int = 4
    worker_memory_gi: int = 16
    steps: int = 2000
    checkpoint_every: int = 50
    max_failures: int = 5
    keep_checkpoints: int = 2
    backoff_limit: int = 2
    active_deadline_seconds: int = 86400
    experiment: str = "distributed-training"
    env: Mapping[str, Any] = field(default_factory=dict)  # e.g. AWS_REGION
    pod_labels: Mapping[str, str] = field(default_factory=dict)  # e.g. Azure's azure.workload.identity/use
    # The Secret (keys username, password) of the MLflow user the training code logs as; None: no tracking
    # (pipelines/distributed.py logs nothing without MLFLOW_TRACKING_URI).
    mlflow_secret: Optional[str] = None

    @property
    def name(self) -> str:
        """KubeRay v1.7.0 refuses RayJob names over 47 characters (its cluster name + a 6-character suffix)."""
        return f"train-{self.pool}"[:MAX_RAYJOB_NAME].rstrip("-")


def _start_params(ports: Mapping[str, int], extra: Mapping[str, str]) -> dict[str, str]:
    params = {key: str(value) for key, value in ports.items()}
    params.update({"min-worker-port": str(WORKER_PORT_RANGE[0]), "max-worker-port": str(WORKER_PORT_RANGE[1])})
    params.update(extra)
    return params


def _pod(args: RayJobArgs, role: str, container: dict[str, Any], node_selector: Mapping[str, str],
         tolerations: list[dict[str, Any]], grace: int) -> dict[str, Any]:
    return {
        "metadata": {"labels": {**args.pod_labels, APP_LABEL: APP, ROLE_LABEL: role, "mlops.dev/ray-job": args.name},
                     # KubeRay leaves the command alone and hands its `ray start` line over in
                     # $KUBERAY_GEN_RAY_START_CMD, which node_command() execs.
                     "annotations": {"ray.io/overwrite-container-cmd": "true"} if role != "submitter" else {}},
        "spec": {
            "serviceAccountName": TRAINING_SERVICE_ACCOUNT,
            # No pod talks to the Kubernetes API (the submitter reaches the head's job API); the cloud identity
            # comes from the projected token (IRSA, Entra) or the metadata server (GKE), not this token.
            "automountServiceAccountToken": False,
            "priorityClassName": PRIORITY_TRAINING,
            "nodeSelector": dict(node_selector),
            "tolerations": tolerations,
            "terminationGracePeriodSeconds": grace,
            "securityContext": {"runAsNonRoot": True, "runAsUser": RAY_UID, "runAsGroup": 100, "fsGroup": 100,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "20Gi"}},
                        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "4Gi"}}],
            **({"restartPolicy": "Never"} if role == "submitter" else {}),
        },
    }


def mlflow_env(secret: str) -> list[dict[str, Any]]:
    """What MLflow's client reads: the in-cluster tracking URL and the user's basic-auth credentials, from
    the Secret (never a literal in the spec)."""
    return [{"name": "MLFLOW_TRACKING_URI", "value": TRACKING_URL},
            secret_env("MLFLOW_TRACKING_USERNAME", SecretKeyRef(secret, "username")),
            secret_env("MLFLOW_TRACKING_PASSWORD", SecretKeyRef(secret, "password"))]


def _container(args: RayJobArgs, name: str, cpu: str, memory: str, gpus: int = 0,
               command: Optional[list[str]] = None, ports: Mapping[str, int] = {}, tracking: bool = False) -> dict[str, Any]:
    limits = {"cpu": cpu, "memory": memory, **({"nvidia.com/gpu": str(gpus)} if gpus else {})}
    env = [{"name": key, "value": value} for key, value in sorted(args.env.items())]
    if tracking and args.mlflow_secret:
        # Ray's driver (the job's entrypoint, on the head) and its train workers inherit the env of
        # `ray start`; both log to MLflow (pipelines/distributed.py).
        env += mlflow_env(args.mlflow_secret)
    # On SIGTERM `ray start --block` drains its node with reason PREEMPTION and this deadline, then stops;
    # Ray Train's preemption watcher (polling every RAY_TRAIN_PREEMPTION_POLL_INTERVAL_S on the head)
    # tells the training loop, which checkpoints at once.
    env.append({"name": "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S", "value": str(args.notice.drain_seconds)})
    env.append({"name": "RAY_TRAIN_PREEMPTION_POLL_INTERVAL_S", "value": str(PREEMPTION_POLL_SECONDS)})
    container: dict[str, Any] = {
        "name": name, "image": args.image, "imagePullPolicy": "IfNotPresent",
        "resources": {"requests": dict(limits), "limits": limits},
        "securityContext": container_security_context(uid=RAY_UID),
        "env": env,
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, {"name": "shm", "mountPath": "/dev/shm"}],
    }
    if command:
        container["command"] = command
    if ports:
        container["ports"] = [{"name": key, "containerPort": port, "protocol": "TCP"}
                              for key, port in sorted(ports.items(), key=lambda item: item[1])]
    return container


def node_command() -> list[str]:
    """KubeRay's generated ``ray start --block`` as the container's PID 1 (``exec``), so the pod's SIGTERM
    reaches Ray, which drains the node as a preemption (``RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S``). KubeRay's
    own command runs it under ``bash -c 'ulimit ...; ray start ...'``, where bash may stay PID 1 and
    swallow the signal."""
    return ["/bin/bash", "-c", 'ulimit -n 65536; eval "exec $KUBERAY_GEN_RAY_START_CMD"']


def entrypoint(args: RayJobArgs, storage_uri: str) -> str:
    """The job's command (run by the submitter against the head): the fault-tolerance settings are flags,
    so the smoke run reads the same values from the plan."""
    argv = ["python", "-m", "pipelines", "train-distributed", "--run-name", args.name,
            "--storage", storage_uri, "--experiment", args.experiment, "--features", args.features,
            "--label", args.label, "--entity", args.entity,
            "--workers", str(args.workers), "--worker-cpus", str(args.worker_cpu),
            "--steps", str(args.steps), "--checkpoint-every", str(args.checkpoint_every),
            "--max-failures", str(args.max_failures), "--keep-checkpoints", str(args.keep_checkpoints)]
    if args.gpu:
        argv.append("--gpu")
    return shlex.join(argv)


def tolerations(taints: Sequence[Taint]) -> list[dict[str, Any]]:
    return [{"key": t.key, "operator": "Equal", "value": t.value, "effect": t.effect} for t in taints]


def rayjob_spec(args: RayJobArgs, storage_uri: Any) -> dict[str, Any]:
    """``spec`` of the RayJob (``storage_uri`` may be a resolved string or an Output applied by the caller)."""
    if args.checkpoint_every > args.steps:
        raise InvalidInput(f"checkpoint_every {args.checkpoint_every} must be <= steps {args.steps}")
    head_container = _container(args, "ray-head", "1", "4Gi", ports=HEAD_CONTAINER_PORTS,
                                command=node_command(), tracking=True)
    worker_container = _container(args, "ray-worker", str(args.worker_cpu), f"{args.worker_memory_gi}Gi",
                                  gpus=1 if args.gpu else 0, ports=WORKER_CONTAINER_PORTS, command=node_command(),
                                  tracking=True)
    # The submitter only calls the head's job API: it runs no training code and gets no MLflow credential.
    submitter = _container(args, "ray-job-submitter", "500m", "512Mi")
    worker_tolerations = tolerations(args.taints)
    if args.gpu and not any(t.key == GPU_TAINT_KEY for t in args.taints):
        raise InvalidInput(f"pool {args.pool}: a GPU pool must carry the {GPU_TAINT_KEY} taint")
    return {
        # Created stopped: `kubectl -n training patch rayjob <name> --type merge -p '{"spec":{"suspend":false}}'`
        # starts it (docs/training.md); a deploy never starts training by itself.
        "suspend": True,
        "entrypoint": entrypoint(args, storage_uri),
        "submissionMode": "K8sJobMode",
        "submitterPodTemplate": _pod(args, "submitter", submitter, {POOL_LABEL: SYSTEM_POOL}, [], 30),
        "submitterConfig": {"backoffLimit": 2},
        # Whole-job resubmissions on a new Ray cluster (Ray Train resumes the run from storage).
        "backoffLimit": args.backoff_limit,
        "activeDeadlineSeconds": args.active_deadline_seconds,
        "shutdownAfterJobFinishes": True,
        "ttlSecondsAfterFinished": 600,
        "rayClusterSpec": {
            "rayVersion": RAY_VERSION,
            "enableInTreeAutoscaling": False,
            "headGroupSpec": {
                # The head schedules nothing (num-cpus 0) and runs on the on-demand system nodes: losing it
                # loses the cluster, so it never sits on spot.
                "rayStartParams": _start_params({**HEAD_PORTS, **NODE_PORTS},
                                                {"num-cpus": "0", "dashboard-host": "0.0.0.0"}),
                "template": _pod(args, "head", head_container, {POOL_LABEL: SYSTEM_POOL}, [], args.notice.grace_seconds),
            },
            "workerGroupSpecs": [{
                "groupName": args.pool[:63],
                "replicas": args.workers, "minReplicas": args.workers, "maxReplicas": args.workers,
                "rayStartParams": _start_params(NODE_PORTS, {}),
                "template": _pod(args, "worker", worker_container, {POOL_LABEL: args.pool}, worker_tolerations,
                                 args.notice.grace_seconds),
            }],
        },
    }


def rayjob_metadata(args: RayJobArgs) -> dict[str, Any]:
    return {"name": args.name, "namespace": TRAINING_NAMESPACE,
            "labels": {"app.kubernetes.io/part-of": "mlops-platform", APP_LABEL: APP, POOL_LABEL: args.pool}}


def rayjob_manifest(args: RayJobArgs, storage_uri: str) -> dict[str, Any]:
    return {"apiVersion": "ray.io/v1", "kind": "RayJob", "metadata": rayjob_metadata(args),
            "spec": rayjob_spec(args, storage_uri)}


def ray_ports() -> list[int]:
    return sorted({*HEAD_PORTS.values(), *NODE_PORTS.values()})


def network_policies(namespace: str = TRAINING_NAMESPACE) -> list[dict[str, Any]]:
    """Between the Ray pods of the training namespace: exactly Ray's fixed ports (and the worker-port
    range); the head and workers reach MLflow (5000: the driver and train loop log there); the submitter
    reaches the head's dashboard (job API) only. Feast, HTTPS and the scrape come from the namespace's
    baseline ``workloads`` policy."""
    ray_pods = {"podSelector": {"matchLabels": {APP_LABEL: APP},
                                "matchExpressions": [{"key": ROLE_LABEL, "operator": "In", "values": ["head", "worker"]}]}}
    submitters = {"podSelector": {"matchLabels": {APP_LABEL: APP, ROLE_LABEL: "submitter"}}}
    ports = tcp_ports(ray_ports()) + [{"protocol": "TCP", "port": WORKER_PORT_RANGE[0], "endPort": WORKER_PORT_RANGE[1]}]
    labels = {"app.kubernetes.io/part-of": "mlops-platform"}
    dashboard = tcp_ports([HEAD_PORTS["dashboard-port"]])
    mlflow = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": PLATFORM_NAMESPACE}},
                      "podSelector": {"matchLabels": {APP_LABEL: MLFLOW_NAME}}}], "ports": tcp_ports([MLFLOW_PORT])}
    return [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "ray-cluster", "namespace": namespace, "labels": labels},
         "spec": {"podSelector": ray_pods["podSelector"], "policyTypes": ["Ingress", "Egress"],
                  "ingress": [{"from": [ray_pods], "ports": ports},
                              {"from": [submitters], "ports": dashboard}],
                  "egress": [{"to": [ray_pods], "ports": ports}, mlflow]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "ray-job-submitter", "namespace": namespace, "labels": labels},
         "spec": {"podSelector": submitters["podSelector"], "policyTypes": ["Ingress", "Egress"], "ingress": [],
                  "egress": [{"to": [{"podSelector": {"matchLabels": {APP_LABEL: APP, ROLE_LABEL: "head"}}}],
                              "ports": dashboard}]}},
    ]


def operator_values() -> dict[str, Any]:
    """Chart values of kuberay-operator 1.7.0 (keys checked against the chart's values.yaml at v1.7.0):
    watches the training namespace only, hardened, with requests and limits, on the system nodes."""
    return {
        "image": {"tag": f"v{KUBERAY_CHART_VERSION}"},
        "singleNamespaceInstall": False,
        "watchNamespace": [TRAINING_NAMESPACE],
        "nodeSelector": {POOL_LABEL: SYSTEM_POOL},
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "securityContext": container_security_context(uid=65532),
        "podSecurityContext": {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
        "batchScheduler": {"enabled": False},
    }
