"""The retraining ``WorkflowTemplate`` and its ``CronWorkflow`` as plain manifests (camelCase dicts, the
Argo CRD schema), so the plan, the policy pack and the CRD validation see the same text.

The DAG is [features ->] train -> register -> evaluate -> promote (promote only when evaluate's verdict is
true). Each task but ``features`` runs ``python -m pipelines --outputs /tmp/outputs <step> ...`` in the step
image; output parameters are the files that flag writes. With a Feast source, ``features`` runs
``pipelines/feast_features.py`` (its text, ``python -c``) in the platform's Feast image, with no MLflow
credential, and hands the training frame to ``train`` as an Argo artifact (through the artifact store). Pods are non-root, read-only root file system, no privilege escalation,
all capabilities dropped, with requests and limits; a failed step is retried with backoff (the steps
are idempotent up to a new run/version), and the whole workflow has a deadline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.k8s._common import (WORKLOAD_UID, InvalidInput, check_no_literal_credentials,
                                    container_security_context, literal_env, pod_security_context, require_pinned_image)
from components.pipelines import OUTPUTS_DIR, STEP_SERVICE_ACCOUNT, TEMPLATE_NAME, RetrainingArgs

FEAST_STEP_SOURCE = Path(__file__).resolve().parents[2] / "pipelines" / "feast_features.py"
TRAINING_FRAME = "training-frame"
INPUTS_DIR = "/tmp/inputs"

API_VERSION = "argoproj.io/v1alpha1"
LABELS = {"app.kubernetes.io/name": "retraining", "app.kubernetes.io/component": "pipelines",
          "app.kubernetes.io/part-of": "mlops-platform"}
WORKFLOW_DEADLINE_SECONDS = 4 * 3600
KEEP_FINISHED_SECONDS = 7 * 24 * 3600


def _param(name: str) -> str:
    return "{{workflow.parameters." + name + "}}"


def _step(args: RetrainingArgs, name: str, argv: list[str], inputs: list[str], outputs: list[str]) -> dict[str, Any]:
    env = [{"name": "MLFLOW_TRACKING_URI", "value": args.mlflow_url}, *literal_env(args.extra_env)]
    env += [{"name": f"MLFLOW_TRACKING_{key.upper()}",
             "valueFrom": {"secretKeyRef": {"name": args.mlflow_credentials_secret, "key": key}}}
            for key in ("username", "password")]
    return _template(args, name, args.image, ["--outputs", OUTPUTS_DIR, name, *argv], env, inputs, outputs)


def _template(args: RetrainingArgs, name: str, image: str, container_args: list[Any], env: list[dict[str, Any]],
              inputs: list[str], outputs: list[str], command: list[str] | None = None) -> dict[str, Any]:
    b = args.budget
    template: dict[str, Any] = {
        "name": name,
        "retryStrategy": {"limit": "2", "retryPolicy": "Always",
                          "backoff": {"duration": "30s", "factor": "2", "maxDuration": "10m"}},
        "container": {
            "image": image,
            **({"command": command} if command else {}),
            "args": container_args,
            "env": env,
            "resources": {"requests": {"cpu": b.cpu_request, "memory": b.memory_request},
                          "limits": {"cpu": b.cpu_limit, "memory": b.memory_limit}},
            "securityContext": container_security_context(),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        },
    }
    if inputs:
        template["inputs"] = {"parameters": [{"name": p} for p in inputs]}
    if outputs:
        template["outputs"] = {"parameters": [{"name": p, "valueFrom": {"path": f"{OUTPUTS_DIR}/{p}"}}
                                              for p in outputs]}
    return template


def _features_step(args: RetrainingArgs) -> dict[str, Any]:
    """Feast's point-in-time join in the Feast image; no MLflow credential, only the object store."""
    feast = args.feast
    assert feast is not None
    require_pinned_image(feast.image, "pipelines features (Feast)")
    argv: list[Any] = ["--outputs", OUTPUTS_DIR, "--project", feast.project, "--registry", feast.registry,
                       "--provider", feast.provider, "--feature-view", feast.feature_view,
                       "--entities", _param("features"), "--entity", _param("entity"), "--label", _param("label"),
                       "--output", f"{OUTPUTS_DIR}/training.parquet"]
    if feast.registry_store_type:
        argv[argv.index("--provider"):argv.index("--provider")] = ["--registry-store-type", feast.registry_store_type]
    template = _template(args, "features", feast.image, argv, literal_env(args.extra_env), [], ["rows"],
                         command=["python", "-c", FEAST_STEP_SOURCE.read_text()])
    template["outputs"]["artifacts"] = [{"name": TRAINING_FRAME, "path": f"{OUTPUTS_DIR}/training.parquet"}]
    return template


def _task(name: str, depends_on: str | None = None, parameters: dict[str, str] | None = None,
          when: str | None = None, artifacts: dict[str, str] | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {"name": name, "template": name}
    if depends_on:
        task["dependencies"] = [depends_on]
    if parameters or artifacts:
        task["arguments"] = {}
    if parameters:
        task["arguments"]["parameters"] = [{"name": k, "value": v} for k, v in parameters.items()]
    if artifacts:
        task["arguments"]["artifacts"] = [{"name": k, "from": v} for k, v in artifacts.items()]
    if when:
        task["when"] = when
    return task


def workflow_template(args: RetrainingArgs) -> dict[str, Any]:
    require_pinned_image(args.image, "pipelines")
    check_no_literal_credentials(args.extra_env, "RetrainingArgs.extra_env")
    if not args.mlflow_url.startswith(("http://", "https://")):
        raise InvalidInput(f"RetrainingArgs.mlflow_url {args.mlflow_url!r} must be an http(s) URL")
    parameters = {"features": args.features_path, "label": args.label, "entity": args.entity,
                  "model-name": args.model_name, "metric": args.metric,
                  "min-improvement": repr(float(args.min_improvement))}
    model = _param("model-name")
    features = f"{INPUTS_DIR}/training.parquet" if args.feast else _param("features")
    train = _step(args, "train", ["--features", features, "--label", _param("label"), "--entity", _param("entity"),
                                  "--experiment", model + "-retraining"], [], ["run_id"])
    tasks = [
        _task("train", "features" if args.feast else None,
              artifacts={TRAINING_FRAME: "{{tasks.features.outputs.artifacts." + TRAINING_FRAME + "}}"} if args.feast else None),
        _task("register", "train", {"run_id": "{{tasks.train.outputs.parameters.run_id}}"}),
        _task("evaluate", "register", {"version": "{{tasks.register.outputs.parameters.version}}"}),
        _task("promote", "evaluate", {"version": "{{tasks.register.outputs.parameters.version}}"},
              when="{{tasks.evaluate.outputs.parameters.promote}} == true"),
    ]
    tasks += [dict(task) for task in args.after_promote]
    steps = [train]
    if args.feast:
        tasks.insert(0, _task("features"))
        steps.insert(0, _features_step(args))
        train["inputs"] = {"artifacts": [{"name": TRAINING_FRAME, "path": features}]}
    templates = [
        {"name": "retrain", "dag": {"tasks": tasks}},
        *steps,
        _step(args, "register", ["--run-id", "{{inputs.parameters.run_id}}", "--model-name", model],
              ["run_id"], ["version"]),
        _step(args, "evaluate", ["--model-name", model, "--version", "{{inputs.parameters.version}}",
                                 "--metric", _param("metric"), "--min-improvement", _param("min-improvement")],
              ["version"], ["promote"]),
        _step(args, "promote", ["--model-name", model, "--version", "{{inputs.parameters.version}}"],
              ["version"], ["production_version"]),
    ]
    return {
        "apiVersion": API_VERSION, "kind": "WorkflowTemplate",
        "metadata": {"name": TEMPLATE_NAME, "namespace": args.namespace, "labels": dict(LABELS)},
        "spec": {
            "entrypoint": "retrain",
            "serviceAccountName": STEP_SERVICE_ACCOUNT,
            "automountServiceAccountToken": False,
            "executor": {"serviceAccountName": STEP_SERVICE_ACCOUNT},
            "arguments": {"parameters": [{"name": k, "value": v} for k, v in parameters.items()]},
            "securityContext": pod_security_context(WORKLOAD_UID),
            "podMetadata": {"labels": {**LABELS, **args.pod_labels}},
            "activeDeadlineSeconds": WORKFLOW_DEADLINE_SECONDS,
            "ttlStrategy": {"secondsAfterCompletion": KEEP_FINISHED_SECONDS},
            "podGC": {"strategy": "OnPodSuccess"},
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}}],
            "templates": templates,
        },
    }


def cron_workflow(args: RetrainingArgs) -> dict[str, Any]:
    """Runs the template on the schedule; never two retrainings at once (Forbid), a missed run is started
    up to an hour late, and the last few runs are kept for the UI."""
    return {
        "apiVersion": API_VERSION, "kind": "CronWorkflow",
        "metadata": {"name": TEMPLATE_NAME, "namespace": args.namespace, "labels": dict(LABELS)},
        "spec": {
            "schedules": [args.schedule],
            "timezone": args.timezone,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "workflowMetadata": {"labels": dict(LABELS)},
            "workflowSpec": {"workflowTemplateRef": {"name": TEMPLATE_NAME}},
        },
    }
