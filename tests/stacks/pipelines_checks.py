"""What every stack with ``mlops:pipelines.enabled`` must show, whatever the cloud (called from the per-cloud
stack tests, which add their identity's checks): the steps log in to MLflow as their own user, which MLflow
creates with EDIT on the pipeline's model only; MLflow admits the pipelines namespace; the namespace has a
quota and limit range; the WorkflowTemplate and CronWorkflow are in the plan's manifests and validate
against the pinned Argo CRDs (and a broken one is reported)."""

from __future__ import annotations

import copy
import json

from mlops_tools.validate import manifests
from tests.stacks.matrix import Stack

SECRET = "mlflow-pipelines"


def _named(stack: Stack, kind: str, name: str, namespace: str) -> dict:
    [found] = [o for o in stack.k8s_objects(kind) if o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace]
    return found


def mlflow_user_problems(stack: Stack) -> list[str]:
    problems = []
    model = stack.cfg.pipelines.model_name
    for namespace in ("pipelines", "mlops"):
        secret = _named(stack, "Secret", SECRET, namespace)
        if secret["stringData"]["username"] != "svc-pipelines":
            problems.append(f"Secret {namespace}/{SECRET} username {secret['stringData']['username']!r}")
    deployment = _named(stack, "Deployment", "mlflow", "mlops")["spec"]["template"]["spec"]
    seeders = ["migrate", "oidc-config"] if stack.cfg.access.issuer else ["migrate"]
    if [c["name"] for c in deployment["initContainers"] if c["name"] in ("migrate", "oidc-config")] != seeders:
        problems.append(f"MLflow's init containers {[c['name'] for c in deployment['initContainers']]}, expected {seeders}")
    for container in (c for c in deployment["initContainers"] if c["name"] in seeders):
        env = {e["name"]: e for e in container["env"]}
        listing = json.loads(env.get("MLFLOW_SERVICE_USERS", {}).get("value", "[]"))
        # The pipelines' user comes first; the distributed training jobs' user (READ) follows when training is on.
        if listing[:1] != [{"env": "MLFLOW_SERVICE_USER_0", "model": model, "permission": "EDIT"}]:
            problems.append(f"init container {container['name']}: service users {listing}")
        refs = {env[f"MLFLOW_SERVICE_USER_0_{k}"]["valueFrom"]["secretKeyRef"]["name"] for k in ("USERNAME", "PASSWORD")
                if f"MLFLOW_SERVICE_USER_0_{k}" in env}
        if refs != {SECRET}:
            problems.append(f"init container {container['name']}: the user's credentials come from {refs}")
    # (serving adds the canary-rollout template beside it)
    [template] = [o for o in stack.k8s_objects("WorkflowTemplate")
                  if o["metadata"]["namespace"] == "pipelines" and o["metadata"]["name"] == "retraining"]
    for step in (t for t in template["spec"]["templates"] if "container" in t):
        refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in step["container"]["env"] if "valueFrom" in e}
        if refs != (set() if step["name"] == "features" else {SECRET}):  # Feast's step never talks to MLflow
            problems.append(f"step {step['name']} reads MLflow credentials from {refs}")
    if stack.cfg.pipelines.feature_view:
        [features] = [t for t in template["spec"]["templates"] if t["name"] == "features"]
        args = features["container"]["args"]
        if args[args.index("--feature-view") + 1] != stack.cfg.pipelines.feature_view or \
                features["container"]["image"] != stack.cfg.features.feast_image:
            problems.append(f"features step {features['container']['image']} {args}")
    policy = _named(stack, "NetworkPolicy", "mlflow", "mlops")["spec"]
    callers = {peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                for rule in policy["ingress"] for peer in rule.get("from", [])}
    if "pipelines" not in callers:
        problems.append(f"MLflow's NetworkPolicy admits {sorted(c for c in callers if c)}, not pipelines")
    quota = _named(stack, "ResourceQuota", "platform-quota", "pipelines")["spec"]["hard"]
    limits = _named(stack, "LimitRange", "container-defaults", "pipelines")["spec"]["limits"][0]
    if not {"requests.cpu", "limits.memory", "pods"} <= set(quota) or "default" not in limits:
        problems.append(f"pipelines quota {quota} / limits {limits}")
    return problems


def manifest_problems(stack: Stack, tmp_path) -> list[str]:
    """The plan's Argo objects are among the manifests validated against their CRDs, and a WorkflowTemplate
    with a field Argo does not know is reported."""
    plan = stack.plan()
    report = stack.manifest_report()
    problems = [line for line in report.invalid]
    for name in ("workflowtemplate-pipelines-retraining.yaml", "cronworkflow-pipelines-retraining.yaml"):
        if name not in report.validated:
            problems.append(f"{name} not validated against a schema ({sorted(report.validated)[:5]}...)")
    # The broken template alone: the rest of the plan is the report above (rendering it again was ~0.6 s).
    [template] = [copy.deepcopy(r) for r in plan["resources"] if r["type"].endswith(":WorkflowTemplate")
                  and r["inputs"]["metadata"]["name"] == "retraining"]
    template["inputs"]["spec"]["templates"][1]["container"]["imagePullPolicyy"] = "Always"
    bad = manifests.render({**plan, "resources": [template]}, stack.cfg.cluster.version, tmp_path / "bad")
    if not any(line.startswith("workflowtemplate-pipelines-retraining.yaml") and "imagePullPolicyy" in line
               for line in bad.invalid):
        problems.append(f"a broken WorkflowTemplate was not reported: {bad.invalid}")
    return problems


def _monitoring_values(stack: Stack) -> dict:
    (release,) = [r for r in stack.result.by_type("kubernetes:helm.sh/v3:Release")
                  if r["inputs"]["chart"] == "kube-prometheus-stack"]
    return release["inputs"]["values"]


def drift_problems(stack: Stack) -> list[str]:
    """``mlops:pipelines.drift`` on (every shipped stack): the drift CronWorkflow runs the stack's model on
    ``recentPath`` under its offline store with the steps' own pod labels and env (their cloud identity and
    region); the EventSource and Sensor are in ``pipelines``; Prometheus scrapes the Pushgateway keeping the
    pushed labels; Alertmanager routes ModelDriftDetected to ``retrain`` (the EventSource's webhook) before
    any other route, and still sends everything else to the people's receiver."""
    problems = []
    drift = stack.cfg.pipelines.drift
    cron = _named(stack, "CronWorkflow", "drift", "pipelines")["spec"]
    spec = cron["workflowSpec"]
    [step] = spec["templates"]
    args = step["container"]["args"]
    recent = args[args.index("--recent") + 1]
    if not (recent.startswith(("s3://", "gs://", "abfs://")) and recent.endswith(f"/offline/{drift.recent_path}")):
        problems.append(f"drift --recent {recent!r} is not {drift.recent_path!r} under the offline store")
    if spec["arguments"]["parameters"] != [{"name": "model-name", "value": stack.cfg.pipelines.model_name}]:
        problems.append(f"drift parameters {spec['arguments']['parameters']}")
    if cron["schedules"] != [drift.schedule]:
        problems.append(f"drift schedules {cron['schedules']}")
    retraining = _named(stack, "WorkflowTemplate", "retraining", "pipelines")["spec"]
    # The cloud's labels (Azure's workload-identity opt-in), not the app.kubernetes.io/* naming ones.
    if any(spec["podMetadata"]["labels"].get(k) != v for k, v in retraining["podMetadata"]["labels"].items()
           if not k.startswith("app.kubernetes.io/")):
        problems.append(f"drift pod labels {spec['podMetadata']['labels']} lack the steps' {retraining['podMetadata']['labels']}")
    [train] = [t for t in retraining["templates"] if t["name"] == "train"]
    plain = lambda c: {e["name"]: e.get("value") for e in c.get("env", []) if "value" in e}  # noqa: E731
    if plain(step["container"]) != plain(train["container"]):
        problems.append(f"drift env {plain(step['container'])} != the train step's {plain(train['container'])}")
    source = _named(stack, "EventSource", "drift-alerts", "pipelines")["spec"]["webhook"]["drift"]
    sensor = _named(stack, "Sensor", "drift-retraining", "pipelines")["spec"]
    if sensor["triggers"][0]["template"]["k8s"]["operation"] != "create":
        problems.append(f"Sensor trigger {sensor['triggers'][0]['template']['k8s']}")
    values = _monitoring_values(stack)
    monitors = [m for m in values["prometheus"]["additionalServiceMonitors"] if m["name"] == "pushgateway"]
    if [m["endpoints"][0].get("honorLabels") for m in monitors] != [True]:
        problems.append(f"Pushgateway ServiceMonitors {monitors}")
    config = values["alertmanager"]["config"]
    routes = config["route"]["routes"]
    first = routes[1] if len(routes) > 1 else {}  # [0] is the chart's Watchdog sink
    if (first.get("receiver"), first.get("matchers"), first.get("continue")) != \
            ("retrain", ['alertname="ModelDriftDetected"'], True):
        problems.append(f"Alertmanager's first route {first} does not send ModelDriftDetected to retrain")
    [retrain] = [r for r in config["receivers"] if r["name"] == "retrain"] or [{}]
    urls = [h["url"] for h in retrain.get("webhook_configs", [])]
    if urls != [f"http://drift-alerts-eventsource-svc.pipelines.svc.cluster.local:{source['port']}{source['endpoint']}"]:
        problems.append(f"retrain receiver posts to {urls}, not the EventSource {source}")
    if config["route"]["receiver"] != "platform-alerts":
        problems.append(f"Alertmanager's default receiver is {config['route']['receiver']}")
    return problems
