"""The canary rollout: a ``WorkflowTemplate`` (Argo, in the pipelines namespace) and the RBAC it needs.

DAG ``rollout`` (parameters ``model-name``, ``version``):

1. ``target``: ``python -m pipelines target`` -> the version's storage URI (the object store, not MLflow's proxy).
2. ``create``: create the InferenceService serving that version, rendered by ``inference.inference_service``
   (the same rendering the program uses when the config names a first version). When it exists already
   (every rollout after the first) the API server answers AlreadyExists, the task fails and the DAG
   continues (``continueOn.failed``): the first promoted version needs no ``storageUri`` in the config.
   Argo sets no owner reference (``setOwnerReference`` is off), so deleting the Workflow keeps the service.
   A first version has no previous revision: its analysis is a health check (a rollback removes the
   ``production`` alias, and the service keeps answering with that version until a better one is promoted).
3. ``deploy``: merge patch of the InferenceService: ``storageUri``, the version label, and
   ``canaryTrafficPercent`` (e.g. 10). KServe creates a new Knative revision and sends that share to it;
   the previous revision keeps the rest.
4. ``analyze``: ``python -m pipelines canary`` -> promote or rollback from Prometheus (error ratio, p95,
   request count of that version over the window). A canary that never gets ready gets no traffic and is
   rolled back for want of requests, so no separate readiness wait is needed.
5. ``finish``: merge patch ``canaryTrafficPercent`` to 100 (promote: the new revision takes all traffic) or
   0 (roll back: all traffic to the previous revision, KServe's documented rollback); the analysis step has
   already moved MLflow's ``production`` alias back on a rollback.

The retraining DAG calls it after ``promote`` with ``retraining_canary_task`` (a ``templateRef``, so the
retraining template's owner adds one task; the rollout's pods carry their own labels and NetworkPolicy).
Resource steps use the step ServiceAccount's token (``executor.serviceAccountName``); the Role lets that
account get and patch this one InferenceService, and create InferenceServices in the serving namespace
(Kubernetes cannot limit ``create`` to a name: the request has none when it is authorized).
"""

from __future__ import annotations

import json
from typing import Any

from components.k8s._common import (WORKLOAD_UID, InvalidInput, container_security_context, pod_security_context,
                                    require_pinned_image)
from components.serving import VERSION_LABEL, CanaryObjectives, RolloutArgs, ServingArgs
from components.serving.inference import inference_service
from components.serving.network import ROLLOUT_LABELS

API_VERSION = "argoproj.io/v1alpha1"
TEMPLATE_NAME = "canary-rollout"
ENTRYPOINT = "rollout"
OUTPUTS_DIR = "/tmp/outputs"
LABELS = {**ROLLOUT_LABELS, "app.kubernetes.io/component": "serving", "app.kubernetes.io/part-of": "mlops-platform"}


def _in(name: str) -> str:
    return "{{inputs.parameters." + name + "}}"


def _step(rollout: RolloutArgs, name: str, argv: list[str], inputs: list[str], outputs: list[str],
          command: str = "") -> dict[str, Any]:
    """A container step running ``python -m pipelines <command or name> ...`` with the MLflow credentials."""
    env = [{"name": "MLFLOW_TRACKING_URI", "value": rollout.mlflow_url}]
    env += [{"name": f"MLFLOW_TRACKING_{key.upper()}",
             "valueFrom": {"secretKeyRef": {"name": rollout.mlflow_credentials_secret, "key": key}}}
            for key in ("username", "password")]
    return {
        "name": name,
        "inputs": {"parameters": [{"name": p} for p in inputs]},
        "outputs": {"parameters": [{"name": p, "valueFrom": {"path": f"{OUTPUTS_DIR}/{p}"}} for p in outputs]},
        "retryStrategy": {"limit": "2", "retryPolicy": "OnError",
                          "backoff": {"duration": "30s", "factor": "2", "maxDuration": "5m"}},
        "container": {
            "image": rollout.image, "args": ["--outputs", OUTPUTS_DIR, command or name, *argv], "env": env,
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            "securityContext": container_security_context(),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        },
    }


def _patch(name: str, serving: ServingArgs, predictor_yaml: str, inputs: list[str]) -> dict[str, Any]:
    manifest = (f"apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n"
                f"  name: {serving.inference_service}\n  namespace: {serving.namespace}\n"
                f"spec:\n  predictor:\n{predictor_yaml}")
    return {"name": name, "inputs": {"parameters": [{"name": p} for p in inputs]},
            "resource": {"action": "patch", "mergeStrategy": "merge", "manifest": manifest}}


def _create(serving: ServingArgs) -> dict[str, Any]:
    """Create the InferenceService with the rolled-out version (JSON is YAML: the manifest string Argo takes)."""
    manifest = inference_service(serving, storage_uri=_in("storage_uri"), model_version=_in("version"))
    return {"name": "create", "inputs": {"parameters": [{"name": "version"}, {"name": "storage_uri"}]},
            "resource": {"action": "create", "setOwnerReference": False,
                         "manifest": json.dumps(manifest, sort_keys=True, indent=1)}}


def _task(name: str, depends: str | None, parameters: dict[str, str]) -> dict[str, Any]:
    task: dict[str, Any] = {"name": name, "template": name,
                            "arguments": {"parameters": [{"name": k, "value": v} for k, v in parameters.items()]}}
    if depends:
        task["dependencies"] = [depends]
    return task


def workflow_template(serving: ServingArgs, rollout: RolloutArgs, artifacts_destination: str) -> dict[str, Any]:
    require_pinned_image(rollout.image, "canary rollout")
    if not rollout.prometheus_url.startswith(("http://", "https://")):
        raise InvalidInput(f"RolloutArgs.prometheus_url {rollout.prometheus_url!r} must be an http(s) URL")
    c: CanaryObjectives = serving.canary
    if not 1 <= c.traffic_percent <= 99:
        raise InvalidInput(f"canary traffic percent {c.traffic_percent} must be between 1 and 99")
    # The entry template takes its inputs (from the workflow's arguments when submitted on its own, from the
    # calling task when the retraining DAG references it), so nothing here reads workflow.parameters.
    model, version = "{{inputs.parameters.model-name}}", "{{inputs.parameters.version}}"
    window = f"{max(1, c.analysis_seconds // 60)}m"
    templates = [
        {"name": ENTRYPOINT, "inputs": {"parameters": [{"name": "model-name"}, {"name": "version"}]},
         "dag": {"tasks": [
            _task("target", None, {"model-name": model, "version": version}),
            {**_task("create", "target", {"version": version,
                                          "storage_uri": "{{tasks.target.outputs.parameters.storage_uri}}"}),
             "continueOn": {"failed": True}},  # AlreadyExists after the first rollout
            _task("deploy", "create", {"version": version,
                                       "storage_uri": "{{tasks.target.outputs.parameters.storage_uri}}"}),
            _task("analyze", "deploy", {"model-name": model, "version": version}),
            _task("finish", "analyze", {"traffic_percent": "{{tasks.analyze.outputs.parameters.traffic_percent}}"}),
        ]}},
        _step(rollout, "target", ["--model-name", _in("model-name"), "--version", _in("version"),
                                  "--artifacts-destination", artifacts_destination], ["model-name", "version"],
              ["storage_uri"]),
        _create(serving),
        _patch("deploy", serving, f"    canaryTrafficPercent: {c.traffic_percent}\n    labels:\n"
                                  f"      {VERSION_LABEL}: \"{_in('version')}\"\n"
                                  f"    model:\n      storageUri: \"{_in('storage_uri')}\"\n", ["version", "storage_uri"]),
        _step(rollout, "analyze", ["--model-name", _in("model-name"), "--version", _in("version"),
                                   "--service", serving.inference_service, "--prometheus", rollout.prometheus_url,
                                   "--max-error-ratio", repr(float(c.max_error_ratio)),
                                   "--max-p95-seconds", repr(float(c.max_p95_seconds)),
                                   "--min-requests", str(c.min_requests), "--window", window,
                                   "--analysis-seconds", str(c.analysis_seconds), "--interval", "30"],
              ["model-name", "version"], ["decision", "traffic_percent"], command="canary"),
        _patch("finish", serving, f"    canaryTrafficPercent: {_in('traffic_percent')}\n", ["traffic_percent"]),
    ]
    return {
        "apiVersion": API_VERSION, "kind": "WorkflowTemplate",
        "metadata": {"name": TEMPLATE_NAME, "namespace": rollout.pipelines_namespace, "labels": dict(LABELS)},
        "spec": {
            "entrypoint": ENTRYPOINT,
            "arguments": {"parameters": [{"name": "model-name", "value": serving.model_name}, {"name": "version"}]},
            "serviceAccountName": rollout.step_service_account,
            "automountServiceAccountToken": False,
            "executor": {"serviceAccountName": rollout.step_service_account},
            "securityContext": pod_security_context(WORKLOAD_UID),
            "podMetadata": {"labels": dict(LABELS)},
            "activeDeadlineSeconds": c.analysis_seconds + 3600,
            "ttlStrategy": {"secondsAfterCompletion": 7 * 24 * 3600},
            "podGC": {"strategy": "OnPodSuccess"},
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
            "templates": templates,
        },
    }


def retraining_canary_task(promote_task: str = "promote", evaluate_task: str = "evaluate") -> dict[str, Any]:
    """The task the retraining DAG adds after ``promote``: roll the promoted version out as a canary. Same
    condition as ``promote`` (a skipped promote satisfies ``dependencies`` and skips this one too)."""
    return {"name": "canary", "dependencies": [promote_task],
            "when": "{{tasks." + evaluate_task + ".outputs.parameters.promote}} == true",
            "templateRef": {"name": TEMPLATE_NAME, "template": ENTRYPOINT},
            "arguments": {"parameters": [{"name": "model-name", "value": "{{workflow.parameters.model-name}}"},
                                         {"name": "version", "value": "{{tasks.register.outputs.parameters.version}}"}]}}


def rbac(serving: ServingArgs, rollout: RolloutArgs) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Role, RoleBinding) in the serving namespace: the step account may get and patch this service, and
    create the first one (``create`` carries no name to restrict when it is authorized)."""
    meta = {"name": TEMPLATE_NAME, "namespace": serving.namespace, "labels": dict(LABELS)}
    role = {"metadata": meta, "rules": [
        {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices"],
         "resourceNames": [serving.inference_service], "verbs": ["get", "patch"]},
        {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices"], "verbs": ["create"]}]}
    binding = {"metadata": meta, "role_ref": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": TEMPLATE_NAME},
               "subjects": [{"kind": "ServiceAccount", "name": rollout.step_service_account,
                             "namespace": rollout.pipelines_namespace}]}
    return role, binding
