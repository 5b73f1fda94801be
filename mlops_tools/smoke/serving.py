"""The serving smoke run's pieces: the rendered ServingRuntime and PodMonitor, run with the real MLServer and
the real Prometheus on 127.0.0.1.

- ``render_serving_plan``: the stack previewed with ``mlops:serving`` on (the CLI, ``--config``, its own plan
  directory, no policy packs): the same objects a ``pulumi up`` would create.
- ``mlserver_process``: MLServer started exactly as the rendered ServingRuntime's container (command and
  environment), with what only a pod provides replaced: ``/mnt/models`` (where KServe's storage initializer
  puts the model) by a local directory, ``{{.Name}}`` by the InferenceService name, the fixed ports by free
  ones, ``/tmp`` by a scratch directory. The rendered values are checked before they are replaced.
- ``scrape_job``: a Prometheus job from the rendered PodMonitor endpoint: its path, and its relabelings
  applied to the pod labels KServe puts on the predictor (``__meta_kubernetes_pod_label_*`` as Kubernetes
  service discovery names them), so the canary analysis queries exactly the labels a cluster would have.
- ``infer``: one V2 (open inference protocol) request with a pandas-encoded table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Mapping

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.plan import REPO, Plan
from mlops_tools.smoke.procs import HOST, Proc, Processes, free_port

MODEL_DIR = "/mnt/models"
RENDERED_PORTS = {"MLSERVER_HTTP_PORT": "8080", "MLSERVER_GRPC_PORT": "9000", "MLSERVER_METRICS_PORT": "8082"}


def render_serving_plan(stack: str, serving: Mapping[str, Any], out: Path) -> Plan:
    out.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([sys.executable, "-m", "mlops_tools", "preview", "--stack", stack, "--no-policy", "--quiet",
                             "--out", str(out), "--config", f"mlops:serving={json.dumps(dict(serving))}"],
                            cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SmokeFailure(f"preview of {stack} with serving on failed:\n{result.stdout}{result.stderr}")
    path = out / f"{stack}.json"
    return Plan(json.loads(path.read_text()), source=str(path))


def runtime_container(plan: Plan) -> dict[str, Any]:
    (runtime,) = plan.k8s_objects("ServingRuntime")
    (container,) = runtime["spec"]["containers"]
    return container


def mlserver_process(procs: Processes, plan: Plan, bin_dir: Path, model_dir: Path, service: str,
                     name: str) -> tuple[Proc, int, int]:
    """Start MLServer as the rendered runtime runs it; (process, HTTP port, metrics port)."""
    container = runtime_container(plan)
    env = {e["name"]: e["value"] for e in container["env"]}
    for key, port in RENDERED_PORTS.items():
        if env.get(key) != port:
            raise SmokeFailure(f"rendered ServingRuntime sets {key}={env.get(key)!r}, expected {port}")
    if env.get("MLSERVER_MODEL_URI") != MODEL_DIR or container["command"][-1] != MODEL_DIR:
        raise SmokeFailure(f"rendered ServingRuntime does not serve {MODEL_DIR}: {container['command']} {env}")
    scratch = procs.temp_dir(f"mlserver-{name}")
    http, grpc, metrics = free_port(), free_port(), free_port()
    local = {"MLSERVER_HTTP_PORT": str(http), "MLSERVER_GRPC_PORT": str(grpc), "MLSERVER_METRICS_PORT": str(metrics),
             "MLSERVER_HOST": HOST, "MLSERVER_MODEL_URI": str(model_dir), "MODELS_DIR": str(model_dir),
             "HOME": str(scratch), "MLSERVER_METRICS_DIR": str(scratch / "metrics"),
             "MLSERVER_MODEL_NAME": service if env["MLSERVER_MODEL_NAME"] == "{{.Name}}" else env["MLSERVER_MODEL_NAME"]}
    # The console script run by the venv's own Python: a venv copied from where it was built keeps a
    # shebang naming the old place (the shared prebuilt mlserver venv's does).
    argv = [str(bin_dir / "python"), str(bin_dir / container["command"][0]), *container["command"][1:-1], str(model_dir)]
    proc = procs.start(f"mlserver-{name}", argv, env={**env, **local, "PATH": str(bin_dir)}, cwd=scratch)
    procs.wait_url(proc, f"http://{HOST}:{http}/v2/models/{local['MLSERVER_MODEL_NAME']}/ready", timeout=180,
                   ready=lambda status: status == 200)
    return proc, http, metrics


def scrape_job(plan: Plan, job: str, targets: list[tuple[int, Mapping[str, str]]], interval: str = "2s") -> dict[str, Any]:
    """A scrape job from the rendered PodMonitor; ``targets`` are (metrics port, pod labels)."""
    (monitor,) = plan.k8s_objects("PodMonitor")
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    relabel = [{"source_labels": r["sourceLabels"], "target_label": r["targetLabel"], "action": r.get("action", "replace")}
               for r in endpoint["relabelings"]]

    def meta(labels: Mapping[str, str]) -> dict[str, str]:
        return {"__meta_kubernetes_pod_label_" + "".join(c if c.isalnum() else "_" for c in k): v
                for k, v in labels.items()}
    return {"job_name": job, "scrape_interval": interval, "metrics_path": endpoint["path"],
            "static_configs": [{"targets": [f"{HOST}:{port}"], "labels": meta(labels)} for port, labels in targets],
            "relabel_configs": relabel}


def infer(http_port: int, service: str, columns: Mapping[str, list]) -> tuple[int, dict[str, Any]]:
    """POST a V2 inference request (a pandas table, one input per column); (HTTP status, body)."""
    inputs = [{"name": name, "shape": [len(values)],
               "datatype": "INT64" if all(isinstance(v, int) for v in values) else "FP64", "data": values}
              for name, values in columns.items()]
    body = json.dumps({"parameters": {"content_type": "pd"}, "inputs": inputs}).encode()
    request = urllib.request.Request(f"http://{HOST}:{http_port}/v2/models/{service}/infer", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            return error.code, json.loads(text or "{}")
        except ValueError:  # MLServer answers an exception in predict with a plain-text traceback
            return error.code, {"error": text[-500:]}
