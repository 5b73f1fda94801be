"""The canary steps: where a model version's files are for KServe, and whether a canary stays.

``target``: the storage URI KServe's storage initializer downloads a version from. MLflow behind
``--artifacts-destination`` hands out proxied ``mlflow-artifacts:/<path>`` URIs; the storage initializer
cannot read those, so they are mapped onto the destination (the platform's object store), and Azure's
``wasbs://container@account.blob.core.windows.net/path`` becomes the ``https://account.blob.core.windows.net/
container/path`` form KServe reads with the pod's workload identity.

``canary``: Prometheus' view of the canary (the series of MLServer's REST metrics whose ``model_version``
label is the canary's version, a label the PodMonitor copies from the predictor pod) over the analysis
window: request count, 5xx ratio on the inference path and the p95 latency from the duration histogram.
The verdict is promote when enough requests were seen and both objectives hold; anything else rolls back
(a canary nobody called has proven nothing). Polled every ``interval`` seconds: a breach with enough
requests rolls back at once. The verdict and the numbers are tagged on the MLflow version
(``mlops.canary``); a rollback moves the ``production`` alias back to the version recorded in
``mlops.previous_production`` by ``promote``.

The judging (``judge``) and the queries are plain Python so ``make test`` covers them; the Prometheus
client is the standard library's urllib.
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Callable, Optional

from pipelines import PRODUCTION_ALIAS, StepError

CANARY_TAG = "mlops.canary"
PREVIOUS_TAG = "mlops.previous_production"
VERSION_LABEL = "model_version"
SERVICE_LABEL = "inference_service"
SERVER_ERRORS = 'status_code=~"5.."'
INFER_PATH = ".*/infer"
_WINDOW = re.compile(r"^[1-9][0-9]*[smh]$")
_WASBS = re.compile(r"^wasbs?://(?P<container>[^@/]+)@(?P<host>[^/]+\.blob\.core\.windows\.net)(?P<path>/.*)?$")


@dataclass(frozen=True)
class Objectives:
    max_error_ratio: float = 0.01
    max_p95_seconds: float = 0.5
    min_requests: int = 100


@dataclass(frozen=True)
class Measurement:
    requests: float
    error_ratio: Optional[float]   # None: no request in the window
    p95_seconds: Optional[float]


def _selector(service: str, version: str, extra: str = "") -> str:
    for value, flag in ((service, "--service"), (version, "--version")):
        if not re.fullmatch(r"[A-Za-z0-9._-]+", value):
            raise StepError(f"canary: {flag} {value!r} must be letters, digits, '.', '_' or '-'")
    labels = [f'{SERVICE_LABEL}="{service}"', f'{VERSION_LABEL}="{version}"', f'path=~"{INFER_PATH}"']
    return "{" + ",".join(labels + ([extra] if extra else [])) + "}"


def queries(metric_prefix: str, service: str, version: str, window: str) -> dict[str, str]:
    """PromQL for the canary's requests, 5xx ratio and p95 latency over ``window`` (e.g. ``5m``)."""
    if not _WINDOW.fullmatch(window):
        raise StepError(f"canary: --window {window!r} must be a Prometheus duration like 30s, 5m or 1h")
    total = f"sum(increase({metric_prefix}_requests_total{_selector(service, version)}[{window}]))"
    errors = f"sum(increase({metric_prefix}_requests_total{_selector(service, version, SERVER_ERRORS)}[{window}]))"
    buckets = f"{metric_prefix}_request_duration_seconds_bucket{_selector(service, version)}"
    return {"requests": total, "errors": errors,
            "p95_seconds": f"histogram_quantile(0.95, sum by (le) (rate({buckets}[{window}])))"}


def prometheus_value(base_url: str, promql: str, timeout: float = 10.0) -> Optional[float]:
    """The scalar value of an instant query (the first series), or None when it has none or is NaN."""
    url = base_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise RuntimeError(f"Prometheus at {base_url} did not answer the query: {error}") from None
    if body.get("status") != "success":
        raise RuntimeError(f"Prometheus refused the query: {body.get('error', body)}")
    result = body["data"]["result"]
    if not result:
        return None
    value = float(result[0]["value"][1])
    return None if math.isnan(value) or math.isinf(value) else value


def measure(query: Callable[[str], Optional[float]], promql: dict[str, str]) -> Measurement:
    requests = query(promql["requests"]) or 0.0
    errors = query(promql["errors"]) or 0.0
    # increase() extrapolates each series on its own, so errors/requests can exceed 1 by a rounding hair.
    return Measurement(requests=requests, error_ratio=min(1.0, errors / requests) if requests > 0 else None,
                       p95_seconds=query(promql["p95_seconds"]))


def judge(m: Measurement, objectives: Objectives, final: bool) -> Optional[tuple[str, list[str]]]:
    """("promote" | "rollback", reasons), or None while the window is open and nothing is decided yet."""
    breaches = []
    if m.requests >= objectives.min_requests:
        if m.error_ratio is not None and m.error_ratio > objectives.max_error_ratio:
            breaches.append(f"error ratio {m.error_ratio:.4f} > {objectives.max_error_ratio}")
        if m.p95_seconds is not None and m.p95_seconds > objectives.max_p95_seconds:
            breaches.append(f"p95 latency {m.p95_seconds:.3f}s > {objectives.max_p95_seconds}s")
        if breaches:
            return "rollback", breaches
        if final:
            return "promote", [f"{m.requests:.0f} requests, error ratio {m.error_ratio or 0:.4f}, p95 "
                               f"{m.p95_seconds if m.p95_seconds is not None else float('nan'):.3f}s within objectives"]
        return None
    if final:
        return "rollback", [f"only {m.requests:.0f} requests in the window, fewer than {objectives.min_requests}"]
    return None


def analyze(query: Callable[[str], Optional[float]], promql: dict[str, str], objectives: Objectives,
            analysis_seconds: float, interval: float, clock=time.monotonic, sleep=time.sleep) -> tuple[str, list[str], Measurement]:
    deadline = clock() + analysis_seconds
    while True:
        final = clock() >= deadline
        m = measure(query, promql)
        verdict = judge(m, objectives, final)
        if verdict is not None:
            return verdict[0], verdict[1], m
        sleep(max(0.0, min(interval, deadline - clock())))


def storage_uri(download_uri: str, artifacts_destination: str = "") -> str:
    """The URI KServe's storage initializer reads for an MLflow artifact location."""
    uri = download_uri
    if uri.startswith("mlflow-artifacts:"):
        if not artifacts_destination:
            raise StepError("target: MLflow serves artifacts through its proxy (mlflow-artifacts:); pass "
                            "--artifacts-destination (the server's --artifacts-destination) to map them")
        path = re.sub(r"^mlflow-artifacts:(//[^/]*)?", "", uri).lstrip("/")
        uri = artifacts_destination.rstrip("/") + "/" + path
    match = _WASBS.match(uri)
    if match:
        uri = f"https://{match['host']}/{match['container']}{match['path'] or ''}"
    if not uri.startswith(("s3://", "gs://", "https://", "file://", "/")):
        raise StepError(f"target: artifact location {download_uri!r} is not in an object store KServe can read "
                        "(s3://, gs://, https://<account>.blob.core.windows.net/)")
    return uri


def target(model_name: str, version: str, artifacts_destination: str = "") -> dict:
    from mlflow import MlflowClient

    uri = MlflowClient().get_model_version_download_uri(model_name, str(version))
    return {"model_name": model_name, "version": str(version), "storage_uri": storage_uri(uri, artifacts_destination)}


def run(model_name: str, version: str, prometheus_url: str, service: str, objectives: Objectives, window: str,
        analysis_seconds: float, interval: float, metric_prefix: str = "rest_server") -> dict:
    """Judge the canary from Prometheus, record the verdict on the version, roll the alias back on failure."""
    if not prometheus_url.startswith(("http://", "https://")):
        raise StepError(f"canary: --prometheus {prometheus_url!r} must be an http(s) URL")
    promql = queries(metric_prefix, service, version, window)
    decision, reasons, m = analyze(lambda q: prometheus_value(prometheus_url, q), promql, objectives,
                                   analysis_seconds, interval)
    result = {"model_name": model_name, "version": str(version), "decision": decision,
              "promote": decision == "promote", "reasons": reasons, "requests": m.requests,
              "error_ratio": m.error_ratio, "p95_seconds": m.p95_seconds,
              "traffic_percent": 100 if decision == "promote" else 0}
    result["production_version"] = _record(model_name, str(version), result)
    return result


def _record(model_name: str, version: str, result: dict) -> Optional[str]:
    from pipelines.registry import _client, production_version

    client = _client()
    mv = client.get_model_version(model_name, version)
    client.set_model_version_tag(model_name, version, CANARY_TAG, json.dumps(
        {k: result[k] for k in ("decision", "reasons", "requests", "error_ratio", "p95_seconds")}, sort_keys=True))
    current = production_version(client, model_name)
    if result["decision"] == "rollback" and current is not None and current.version == version:
        previous = mv.tags.get(PREVIOUS_TAG)
        if previous:
            client.set_registered_model_alias(model_name, PRODUCTION_ALIAS, previous)
            return previous
        client.delete_registered_model_alias(model_name, PRODUCTION_ALIAS)
        return None
    return None if current is None else current.version
