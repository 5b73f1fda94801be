"""One real stack file, previewed with every policy pack and its waivers applied (what a stack test checks)."""

import datetime as dt
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Optional

from mlops_tools.validate import manifests
from mlops_tools.engine.plan import build_plan
from mlops_tools.policy.runner import PolicyPacks
from mlops_tools.engine.preview import load_stack_config, policy_view
from mlops_tools.policy.waivers import apply_waivers
from mlops_tools.review.cost import cost_section, estimate_items
from stacks.config import load_config
from tests.shared import shared, stack_clouds, stack_names, stack_preview

ROOT = Path(__file__).resolve().parents[2]


def stack_for(name: str, overrides: tuple[str, ...] = ()) -> "Stack":
    """The run's one `Stack(name, overrides)` (tests/shared.py): every module and worker asking gets that one."""
    return shared("stack", [name, list(overrides)], lambda: Stack(name, tuple(overrides)))


# Where each cloud's first model to serve lives (the MLflow artifact store's layout).
MODEL_STORAGE = {"aws": "s3://mlops-artifacts/mlflow/1/models/m-1/artifacts",
                 "azure": "https://mlopsartifacts.blob.core.windows.net/mlflow/1/models/m-1/artifacts",
                 "gcp": "gs://mlops-artifacts/mlflow/1/models/m-1/artifacts"}
CLOUD = {"dev": "aws", "prod": "aws", "azure-dev": "azure", "azure-prod": "azure", "gcp-dev": "gcp", "gcp-prod": "gcp"}


def serving_stack_for(name: str) -> "Stack":
    """The stack file as shipped (serving on, its pipelines and drift job) plus a first model to serve
    (`mlops:serving.storageUri`), so the plan holds the InferenceService, its identity and the request log's
    consumers. Every serving module asks for this one variant: one Stack (preview, packs, manifests) per stack
    file per run, not one per module (each was ~2 s CPU)."""
    return stack_for(name, (f"mlops:serving.storageUri={MODEL_STORAGE[CLOUD[name]]}",))


class Stack:
    def __init__(self, name: str, overrides: tuple[str, ...] = ()):
        """`overrides` are `--config`-style `key=value` settings on top of the stack file (an opt-in feature)."""
        self.name = name
        self.cfg = load_config(name, load_stack_config(ROOT, name, overrides)[1].values)
        # As the CLI does: the stack's cloud pack and kubernetes boot while the program runs
        # (PolicyPacks.for_stack), another pack only if the plan needs it; the packs selection.py picks
        # analyse the plan. (Booting all four for every stack was 10 s of the suite's CPU; issue 18.)
        # The preview is the run's shared one (tests/shared.py): other modules preview the same stack file.
        with PolicyPacks.for_stack(ROOT, name) as packs:
            self.result = stack_preview(name, overrides)
            self.packs, found = packs.analyze(self.result.resources, all_packs=False,
                                                  property_structs=self.result.property_structs)
        self.policy = apply_waivers([v.to_dict() for v in found], self.cfg.waivers, dt.date.today())
        self._manifest_report = None

    def k8s_objects(self, kind: str) -> list[dict]:
        """The inputs of every Kubernetes object of ``kind`` (e.g. ``Deployment``, ``CronWorkflow``) in the plan."""
        # The matching records only, each revealed afresh (`resources` reveals every record: ~4 ms a call).
        return [policy_view(r)["inputs"] for r in self.result.records
                if r["type"].startswith("kubernetes:") and r["type"].endswith(f":{kind}")]

    def manifest_report(self) -> manifests.Report:
        """Every Kubernetes manifest of the plan, rendered and validated for the cluster version exactly as
        `make manifests` does from the plan file; rendered once per Stack (into a directory of its own,
        removed with it) for the tests that read the report."""
        if self._manifest_report is None:
            target = tempfile.mkdtemp(prefix=f"mlops-manifests-{self.name}-")
            weakref.finalize(self, shutil.rmtree, target, True)
            self._manifest_report = manifests.render(self.plan(), self.cfg.cluster.version, Path(target) / "manifests")
        return self._manifest_report

    def alertmanager_default_receiver(self) -> dict:
        """The receiver Alertmanager's default route sends to, as the monitoring chart gets it."""
        (release,) = [r for r in self.result.by_type("kubernetes:helm.sh/v3:Release")
                      if r["inputs"]["chart"] == "kube-prometheus-stack"]
        config = release["inputs"]["values"]["alertmanager"]["config"]
        (receiver,) = [r for r in config["receivers"] if r["name"] == config["route"]["receiver"]]
        return receiver

    def capability_problems(self, capabilities: list[str], exactly_one: bool = True) -> list[str]:
        """Each capability (plus DR when enabled) must be a top-level component with children."""
        expected = capabilities + (["mlops:dr:DisasterRecovery"] if self.cfg.dr.enabled else [])
        # Types, names and parents only: read from the records in one pass, not through `by_type`/`children`,
        # which reveal every record's inputs on each call (~300 calls per run, 1.2 s).
        records = self.result.records
        [root] = [r["urn"] for r in records if r["type"] == "pulumi:pulumi:Stack"]
        parents = {r["parent"] for r in records}
        problems = []
        for token in expected:
            components = [c for c in records if c["type"] == token and c["parent"] == root]
            if not components or (exactly_one and len(components) != 1):
                problems.append(f"{token}: {len(components)} top-level components")
            problems += [f"{token} {c['name']} has no children" for c in components if c["urn"] not in parents]
        return problems

    def unprotected_stateful(self, stateful_types: list[str]) -> tuple[list[str], list[str]]:
        """(all stateful resource names, the unprotected ones) for the given types."""
        stateful = [r for token in stateful_types for r in self.result.by_type(token)]
        return sorted(r["name"] for r in stateful), sorted(r["name"] for r in stateful if not r["protect"])

    def plan(self) -> dict:
        return build_plan(self.result, self.cfg.cloud, violations=self.policy.active, waived=self.policy.waived)

    def cost(self) -> dict:
        """The plan's cost section, as the preview joins it (budget from the stack's config)."""
        return cost_section(self.plan(), budget_usd=self.cfg.monitoring.monthly_budget_usd)

    def cost_problems(self) -> list[str]:
        """Resources the estimate cannot account for: a type with no pricing rule (neither priced nor free),
        or a charge/free verdict without its reason. Unpriced-with-reason (a price missing from the snapshot)
        is allowed: the estimate lists it and `make prices` fetches it."""
        problems = []
        for item in estimate_items(self.plan()):
            if item.status == "free" and not item.free_reason:
                problems.append(f"{item.type} {item.name}: free without a reason")
            elif not item.charges and item.status != "free":
                problems.append(f"{item.type} {item.name}: no pricing rule")
            problems += [f"{item.type} {item.name}: {c.what} unpriced without a reason"
                         for c in item.charges if not c.priced and not c.reason]
            problems += [f"{item.type} {item.name}: {c.what} has no assumption" for c in item.charges if not c.assumption]
        return problems

    def mandatory_violations(self) -> list[str]:
        """Unwaived mandatory findings, one line each (empty for a stack that may ship)."""
        return [f"{v['pack']}/{v['policy']}: {v['urn'].rsplit('::', 1)[1]}: {v['message']}"
                for v in self.policy.active if v["enforcement"] == "mandatory"]

    def unbound_resources(self, package: str) -> list[str]:
        """Resources that miss their explicit provider: `package` resources registered with the default
        provider instead of one of the stack's own, Kubernetes resources not bound to the cluster's provider."""
        own = {r["urn"] for r in self.result.by_type(f"pulumi:providers:{package}")}
        kubernetes = {r["urn"] for r in self.result.by_type("pulumi:providers:kubernetes")}
        unbound = []
        for resource in self.result.resources:
            if not resource["custom"] or resource["type"].startswith("pulumi:"):
                continue
            reference = (resource["provider"] or "").rsplit("::", 1)[0]
            if resource["type"].startswith(f"{package}:") and reference not in own:
                unbound.append(f"{resource['name']} uses the default {package} provider")
            elif resource["type"].startswith("kubernetes:") and reference not in kubernetes:
                unbound.append(f"{resource['name']} is not bound to the cluster's kubernetes provider")
        return unbound


# Per cloud: the resource types that hold state (protected in prod, tests/stacks/test_stack_matrix.py).
STATEFUL = {
    "aws": ["aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey", "aws:rds/instance:Instance", "aws:dynamodb/table:Table",
            "aws:ecr/repository:Repository", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
    "azure": ["azure-native:keyvault:Vault", "azure-native:keyvault:Key", "azure-native:dbforpostgresql:Server",
              "azure-native:storage:StorageAccount", "azure-native:containerregistry:Registry",
              "azure-native:redisenterprise:RedisEnterprise", "azure-native:containerservice:ManagedCluster",
              "azure-native:resources:ResourceGroup"],
    "gcp": ["gcp:kms/cryptoKey:CryptoKey", "gcp:kms/keyRing:KeyRing", "gcp:sql/databaseInstance:DatabaseInstance",
            "gcp:storage/bucket:Bucket", "gcp:artifactregistry/repository:Repository", "gcp:bigtable/instance:Instance",
            "gcp:container/cluster:Cluster"],
}
# Clouds whose Alertmanager mails alertEmails itself through the configured relay (AWS sends to its SNS topic).
IN_CLUSTER_MAIL = ("azure", "gcp")


def stack_files(cloud: Optional[str] = None) -> list[str]:
    """The stack names of every Pulumi.<stack>.yaml, or of those whose `mlops:cloud` is `cloud`."""
    return [name for name in stack_names() if cloud is None or stack_clouds()[name] == cloud]


def check_runbook_reads_the_outputs(stack: Stack, parse_target, prod_outputs) -> None:
    """A cloud's DR runbook tests use `prod_outputs()`; they must be what the prod stack really exports, and a
    stack without DR must be refused with the reason."""
    import pytest

    from mlops_tools.ops.common import UsageError

    if not stack.cfg.dr.enabled:
        with pytest.raises(UsageError, match="DR is not enabled for stack s"):
            parse_target(stack.result.outputs, "s", "x")
        return
    assert parse_target(stack.result.outputs, "s", "x") == parse_target(prod_outputs(), "s", "x")


def check_distributed_training(stack: Stack, grace_seconds: int, storage_prefix: str) -> dict:
    """mlops:training on: one stopped RayJob per spot pool, scheduled on that pool with tolerations for its
    taints (the cloud's own included), the cloud's grace period, checkpoints under ``storage_prefix``."""
    import shlex

    pools = {p["name"].removeprefix("training-"): p for p in stack.result.by_type("mlops:training:TrainingPool")}
    jobs = {r["inputs"]["metadata"]["name"]: r["inputs"]["spec"] for r in stack.result.by_type("kubernetes:ray.io/v1:RayJob")}
    spot = [p.name for p in stack.cfg.training_pools if p.spot]
    assert spot and sorted(jobs) == sorted(f"train-{name}" for name in spot)
    (release,) = [r for r in stack.result.by_type("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "kuberay-operator"]
    assert release["inputs"]["version"] == "1.7.0" and release["inputs"]["values"]["watchNamespace"] == ["training"]
    for name in spot:
        spec = jobs[f"train-{name}"]
        pod = spec["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]
        assert spec["suspend"] is True and pod["nodeSelector"] == {"mlops.dev/pool": name}
        assert pod["terminationGracePeriodSeconds"] == grace_seconds
        argv = shlex.split(spec["entrypoint"])
        assert argv[argv.index("--storage") + 1].startswith(storage_prefix) and argv[argv.index("--storage") + 1].endswith("/checkpoints")
    problems = training_mlflow_problems(stack)
    assert problems == [], problems
    return jobs


def training_mlflow_problems(stack: Stack) -> list[str]:
    """The RayJobs log to MLflow as ``svc-training``: the head and workers (where the driver and the train
    workers run) get the in-cluster tracking URL and the user's credentials from Secret ``mlflow-training``
    (the submitter none), every RayJob waits for that Secret, MLflow seeds the user with READ on the model,
    and no password is in the plan."""
    import json

    from components.k8s import TRACKING_URL

    problems = []
    secrets = {(r["inputs"]["metadata"].get("namespace"), r["inputs"]["metadata"]["name"]): r
               for r in stack.result.by_type("kubernetes:core/v1:Secret")}
    for namespace in ("training", "mlops"):
        secret = secrets.get((namespace, "mlflow-training"))
        if secret is None or secret["inputs"]["stringData"]["username"] != "svc-training" or \
                not stack.result.is_secret(secret["urn"], "stringData", "password"):
            problems.append(f"Secret {namespace}/mlflow-training is missing, not svc-training's or not held as a secret")
    revealed = [r["inputs"]["stringData"]["password"] for r in stack.result.by_type("kubernetes:core/v1:Secret")
                if r["inputs"]["metadata"]["name"] == "mlflow-training"]
    plan = json.dumps([stack.result.masked_resources(), stack.result.masked_outputs()], default=str)
    if not revealed or any(len(p) < 16 or p in plan for p in revealed):
        problems.append("svc-training's password is missing, short, or in clear text in the plan")
    passwords = [r for r in stack.result.by_type("random:index/randomPassword:RandomPassword")
                 if r["name"] == "distributed-training-mlflow-password"]
    if len(passwords) != 1:
        problems.append(f"{len(passwords)} generated passwords for svc-training")
    expected = [{"name": "MLFLOW_TRACKING_URI", "value": TRACKING_URL}] + [
        {"name": f"MLFLOW_TRACKING_{key.upper()}", "valueFrom": {"secretKeyRef": {"name": "mlflow-training", "key": key}}}
        for key in ("username", "password")]
    training_secret = secrets.get(("training", "mlflow-training"), {}).get("urn")
    for job in stack.result.by_type("kubernetes:ray.io/v1:RayJob"):
        name, spec = job["inputs"]["metadata"]["name"], job["inputs"]["spec"]
        pods = {"head": spec["rayClusterSpec"]["headGroupSpec"]["template"],
                "worker": spec["rayClusterSpec"]["workerGroupSpecs"][0]["template"],
                "submitter": spec["submitterPodTemplate"]}
        for role, pod in pods.items():
            env = [e for e in pod["spec"]["containers"][0]["env"] if e["name"].startswith("MLFLOW_")]
            if env != ([] if role == "submitter" else expected):
                problems.append(f"RayJob {name} {role}: MLflow env {env}")
        if training_secret is None or training_secret not in job["dependencies"]:
            problems.append(f"RayJob {name} does not wait for Secret training/mlflow-training")
    [ray_policy] = [r["inputs"]["spec"] for r in stack.result.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                    if r["inputs"]["metadata"]["name"] == "ray-cluster" and r["inputs"]["metadata"]["namespace"] == "training"]
    to_mlflow = [rule for rule in ray_policy["egress"] if {"protocol": "TCP", "port": 5000} in rule.get("ports", [])
                 and any(peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "mlops"
                         for peer in rule["to"])]
    if not to_mlflow:
        problems.append("the Ray pods' NetworkPolicy does not let them reach MLflow on 5000")
    [deployment] = [r["inputs"] for r in stack.result.by_type("kubernetes:apps/v1:Deployment")
                    if r["inputs"]["metadata"]["name"] == "mlflow" and r["inputs"]["metadata"].get("namespace") == "mlops"]
    for container in deployment["spec"]["template"]["spec"]["initContainers"]:
        env = {e["name"]: e for e in container.get("env", [])}
        if "MLFLOW_SERVICE_USERS" not in env:
            continue
        listing = json.loads(env["MLFLOW_SERVICE_USERS"]["value"])
        mine = [u for u in listing if env[u["env"] + "_USERNAME"]["valueFrom"]["secretKeyRef"]["name"] == "mlflow-training"]
        if [{k: u[k] for k in ("model", "permission")} for u in mine] != [
                {"model": stack.cfg.pipelines.model_name, "permission": "READ"}]:
            problems.append(f"MLflow init container {container['name']} seeds {mine} for svc-training")
    return problems
