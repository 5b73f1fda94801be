"""The drift alert path on the real software: Pushgateway, Prometheus, Alertmanager (Debian packages), with
the rendered config, and Argo Events' Sensor semantics evaluated against the real webhook payload.

- The plan: the stack's, which renders ``mlops:pipelines:DriftMonitoring`` (``DRIFT_COMPONENT``) when
  ``mlops:pipelines.drift.enabled`` (every shipped stack file); this layer reads plans, never runs the engine.
- ``start_pushgateway`` / ``start_alertmanager``: the programs with the rendered arguments/config, only the
  listen addresses and in-cluster URLs swapped for this run's 127.0.0.1 ports.
- ``WebhookReceiver``: a local HTTP server standing in for the EventSource's Service; it records bodies and
  the ``Authorization`` header each request carried (the real check is Argo Events' Go code, which cannot
  run here: the receiver records what Alertmanager sent so the test can compare it with the token).
- ``gjson`` / ``passes_filters`` / ``apply_parameters``: the Sensor's data filter and parameter rules as
  Argo Events v1.9.10 applies them (pkg/sensors/dependencies/filter.go: string values are Go regular
  expressions matched anywhere in the value, every filter must pass; parameters: the gjson ``dataKey``'s
  string at ``dest``), for the path forms the program renders (keys and array indices); any other gjson
  syntax is refused rather than guessed.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, Mapping

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.envs import system_program
from mlops_tools.smoke.plan import Plan
from mlops_tools.smoke.procs import HOST, Processes, free_port

DRIFT_COMPONENT = "mlops:pipelines:DriftMonitoring"


def drift_step_argv(plan: Plan, model: str, recent: str, pushgateway: str, outputs: str) -> list[str]:
    """The drift CronWorkflow's container arguments with the workflow parameter, the input file and the
    Pushgateway address resolved for this run."""
    [cron] = [o for o in plan.k8s_objects("CronWorkflow") if o["metadata"]["name"] == "drift"]
    spec = cron["spec"]["workflowSpec"]
    [template] = [t for t in spec["templates"] if t["name"] == spec["entrypoint"]]
    argv = list(template["container"]["args"])
    argv = [a.replace("{{workflow.parameters.model-name}}", model) for a in argv]
    argv[argv.index("--recent") + 1] = recent
    argv[argv.index("--pushgateway") + 1] = pushgateway
    argv[argv.index("--outputs") + 1] = outputs
    argv[argv.index("--output") + 1] = f"{outputs}/drift.prom"
    return argv


@dataclass
class Server:
    url: str
    port: int


def start_pushgateway(procs: Processes, plan: Plan) -> Server:
    workload = plan.workload("pushgateway", "pipelines")
    [container] = workload.containers
    port = free_port()
    argv = [a for a in container.argv if not a.startswith("--web.listen-address")]
    # Memory only, as the upstream image runs the rendered Deployment: Debian's build defaults
    # --persistence.file to the machine-wide /var/lib/prometheus/pushgateway.data, which would hand one run's
    # (or another user's) pushed drift verdicts to the next run's Pushgateway.
    if any(a.startswith("--persistence.file") for a in container.argv):
        raise SmokeFailure("the rendered Pushgateway sets --persistence.file; the smoke run models memory only")
    argv.append("--persistence.file=")
    proc = procs.start("pushgateway", [system_program("prometheus-pushgateway"), *argv,
                                       f"--web.listen-address={HOST}:{port}"], env={})
    url = f"http://{HOST}:{port}"
    procs.wait_url(proc, f"{url}{container.spec['readinessProbe']['httpGet']['path']}", timeout=30,
                   ready=lambda status: status == 200)
    return Server(url, port)


def localised_alertmanager_config(config: Mapping[str, Any], webhooks: Mapping[str, str],
                                  files: Mapping[str, str] = {}) -> dict[str, Any]:
    """The rendered config with in-cluster webhook URLs replaced by this run's ({rendered: local}), and the
    mounted Secret files its webhooks read (``http_config.authorization.credentials_file``) by this run's
    files ({rendered path: local path})."""
    local = copy.deepcopy(dict(config))
    for receiver in local.get("receivers", []):
        for hook in receiver.get("webhook_configs", []):
            if hook["url"] not in webhooks:
                raise SmokeFailure(f"receiver {receiver['name']}: webhook {hook['url']} has no local stand-in")
            hook["url"] = webhooks[hook["url"]]
            authorization = hook.get("http_config", {}).get("authorization", {})
            if "credentials_file" in authorization:
                if authorization["credentials_file"] not in files:
                    raise SmokeFailure(f"receiver {receiver['name']}: credentials file "
                                       f"{authorization['credentials_file']} has no local stand-in")
                authorization["credentials_file"] = files[authorization["credentials_file"]]
    return local


def start_alertmanager(procs: Processes, config: Mapping[str, Any]) -> Server:
    program = system_program("prometheus-alertmanager")
    base = procs.temp_dir("alertmanager")
    path = base / "alertmanager.yml"
    path.write_text(json.dumps(config))
    port = free_port()
    proc = procs.start("alertmanager", [program, f"--config.file={path}", f"--storage.path={base / 'data'}",
                                        f"--web.listen-address={HOST}:{port}", "--cluster.listen-address="],
                       env={}, cwd=base)
    url = f"http://{HOST}:{port}"
    procs.wait_url(proc, f"{url}/-/ready", timeout=30, ready=lambda status: status == 200)
    return Server(url, port)


@dataclass
class WebhookReceiver:
    """Records every POST body (JSON) it receives, with the request path; ``authorizations`` holds each
    request's ``Authorization`` header (None when absent), in the same order."""

    received: list[tuple[str, Any]] = field(default_factory=list)
    authorizations: list[Any] = field(default_factory=list)

    def __enter__(self) -> "WebhookReceiver":
        received, authorizations, lock = self.received, self.authorizations, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    received.append((self.path, json.loads(body)))
                    authorizations.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"


_UNSUPPORTED_GJSON = re.compile(r"[*?\\@#|!]")


def gjson(data: Any, path: str) -> Any:
    """gjson's value at ``path`` (dot-separated keys; a number indexes an array); ``KeyError`` when absent."""
    if _UNSUPPORTED_GJSON.search(path):
        raise SmokeFailure(f"gjson path {path!r}: only keys and array indices are evaluated here")
    value = data
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(path)
    return value


def _gjson_string(value: Any) -> str:
    """gjson's ``Result.String()``: strings as they are, everything else as its JSON text."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def passes_filters(dependency: Mapping[str, Any], event_data: Any) -> bool:
    filters = dependency.get("filters", {})
    if set(filters) - {"data", "dataLogicalOperator"} or filters.get("dataLogicalOperator", "and") not in ("and", ""):
        raise SmokeFailure(f"dependency {dependency['name']}: filters {sorted(filters)} are not evaluated here")
    for item in filters.get("data", []):
        if item["type"] != "string" or item.get("comparator") or item.get("template"):
            raise SmokeFailure(f"dependency {dependency['name']}: only string data filters are evaluated here: {item}")
        try:
            value = _gjson_string(gjson(event_data, item["path"]))
        except KeyError:
            return False
        if not any(re.search(pattern, value) for pattern in item["value"]):
            return False
    return True


def _set(document: Any, path: str, value: str) -> None:
    parts = path.split(".")
    target = document
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


def apply_parameters(trigger: Mapping[str, Any], events: Mapping[str, Any]) -> dict[str, Any]:
    """The k8s trigger's resource with its parameters resolved from ``events`` ({dependency: event data})."""
    k8s = trigger["template"]["k8s"]
    resource = copy.deepcopy(k8s["source"]["resource"])
    for parameter in k8s.get("parameters", []):
        source = parameter["src"]
        try:
            value = _gjson_string(gjson(events[source["dependencyName"]], source["dataKey"]))
        except KeyError:
            if "value" not in source:
                raise SmokeFailure(f"parameter {source['dataKey']}: not in the event and no default") from None
            value = source["value"]
        _set(resource, parameter["dest"], value)
    return resource


def webhook_event(body: Any) -> dict[str, Any]:
    """The event data an Argo Events webhook EventSource publishes for a JSON request: its header and
    body (pkg/eventsources/events/event-data.go, ``WebhookEventData``)."""
    return {"header": {"Content-Type": ["application/json"]}, "body": body}


def wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
    """Poll ``check`` each second until it returns something truthy; SmokeFailure naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{what}: not within {timeout:.0f}s")
        time.sleep(1)


@dataclass
class AlertPath:
    """The drift alert path of a plan running on 127.0.0.1: push here, the alert fires in Prometheus, and
    Alertmanager's webhook lands in ``receiver`` (a stand-in of the EventSource at its rendered path)."""

    gateway: Server
    prometheus_url: str
    receiver: WebhookReceiver
    endpoint: Mapping[str, Any]    # the EventSource's rendered webhook (port, endpoint)
    scrape_job: Mapping[str, Any]  # the Pushgateway job built from the rendered ServiceMonitor
    alertmanager: Server
    token: str                     # this run's webhook bearer token (the plan hides the generated one)

    def _ours(self) -> list[int]:
        # This run's Alertmanager names its port in ``externalURL``: on a shared machine another run's
        # Alertmanager may still retry to a port this receiver now holds.
        return [i for i, (_, body) in enumerate(self.receiver.received)
                if str(body.get("externalURL", "")).rstrip("/").endswith(f":{self.alertmanager.port}")]

    def deliveries(self) -> list[tuple[str, Any]]:
        """(path, body) of the webhooks this run's Alertmanager sent."""
        return [self.receiver.received[i] for i in self._ours()]

    def authorizations(self) -> list[Any]:
        """The ``Authorization`` header of each of this run's webhooks, in the order of ``deliveries()``."""
        return [self.receiver.authorizations[i] for i in self._ours()]


@contextmanager
def alert_path(procs: Processes, plan: Plan) -> Iterator[AlertPath]:
    """Pushgateway (rendered arguments), Prometheus (the rendered ServiceMonitor's scrape settings and every
    rendered rule) and Alertmanager (the rendered routing, webhook URL swapped for the stand-in's)."""
    from mlops_tools.smoke import monitoring
    from mlops_tools.smoke.services import start_prometheus

    am_config = next(iter(monitoring.alertmanager_configs(plan).values()))
    [source] = plan.k8s_objects("EventSource")
    [hook] = [h for r in am_config["receivers"] if r["name"] == "retrain" for h in r["webhook_configs"]]
    endpoint = source["spec"]["webhook"]["drift"]
    if not hook["url"].endswith(f":{endpoint['port']}{endpoint['endpoint']}"):
        raise SmokeFailure(f"Alertmanager's retrain webhook {hook['url']} is not the EventSource's {endpoint}")
    # The token file Alertmanager reads is the monitoring stack's mounted Secret; the EventSource checks the
    # same value from its authSecret. The plan hides both ([secret]): this run makes its own token.
    credentials = hook.get("http_config", {}).get("authorization", {})
    if credentials.get("type") != "Bearer" or not endpoint.get("authSecret", {}).get("name"):
        raise SmokeFailure(f"the retrain webhook sends no bearer token ({credentials}) or the EventSource checks "
                           f"none ({endpoint.get('authSecret')})")
    token = secrets.token_urlsafe(36)
    token_file = procs.temp_dir("alertmanager-files") / "token"
    token_file.write_text(token + "\n")  # a Secret file may end in a newline; Alertmanager trims it
    with WebhookReceiver() as receiver:
        gateway = start_pushgateway(procs, plan)
        monitors = {m["name"]: m for m in monitoring.service_monitors(plan)}
        job, files = monitoring.scrape_config(plan, monitors["pushgateway"],
                                              monitoring.LocalTarget("pushgateway", gateway.port, {}))
        alertmanager = start_alertmanager(procs, localised_alertmanager_config(
            am_config, {hook["url"]: receiver.url(endpoint["endpoint"])},
            {credentials["credentials_file"]: str(token_file)}))
        prometheus = start_prometheus(procs, {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "scrape_configs": [job],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager.url.split("//")[1]]}]}]}},
            monitoring.rule_groups(plan), files)
        yield AlertPath(gateway, prometheus.url, receiver, endpoint, job, alertmanager, token)


def sensor_workflow(plan: Plan, body: Any) -> tuple[bool, dict[str, Any]]:
    """(whether the rendered Sensor's filters pass the webhook ``body``, the Workflow its trigger would create)."""
    [sensor] = plan.k8s_objects("Sensor")
    [dependency] = sensor["spec"]["dependencies"]
    [trigger] = sensor["spec"]["triggers"]
    event = webhook_event(body)
    return passes_filters(dependency, event), apply_parameters(trigger, {dependency["name"]: event})
