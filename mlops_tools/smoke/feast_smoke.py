"""Feast with a stack's rendered config: ``feast apply``, ``materialize-incremental``, ``get_online_features``
and ``feast serve`` answering ``/health`` and ``/get-online-features``.

What comes from the plan, unchanged: ``feature_store.yaml`` (the ConfigMap's bytes), the server's
command and arguments (only ``--host``/``--port`` are moved to 127.0.0.1 and a free port), and its
environment (secret values are the run's own). What the test makes: a one-view feature repo next to
that file (the view is the first online view the stack declares, so its online table is the one the
platform created), a few rows of offline data, and the cloud's emulators (see ``feast_<cloud>.py``).

Feast runs in ``build/smoke/venv/feast``, installed from ``images/feast-feature-server/requirements.txt``,
the file the feature server image is built from.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import yaml

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.envs import venv
from mlops_tools.smoke.plan import Plan, Workload
from mlops_tools.smoke.procs import HOST, Processes, free_port

FEAST_NAMESPACE, FEAST_NAME, CONFIG_MAP = "mlops", "feast", "feast-config"
CLIENT = Path(__file__).resolve().parent / "clients" / "feast_client.py"
SITE = Path(__file__).resolve().parent / "feast_site"  # sitecustomize of the Feast processes
ENTITY = "driver_id"
ROWS = [  # two drivers; materialization must keep the latest row of each
    {ENTITY: 1001, "conv_rate": 0.25, "event_timestamp": "2026-01-01T00:00:00Z"},
    {ENTITY: 1001, "conv_rate": 0.5, "event_timestamp": "2026-01-02T00:00:00Z"},
    {ENTITY: 1002, "conv_rate": 0.75, "event_timestamp": "2026-01-02T00:00:00Z"},
]
EXPECTED = {1001: 0.5, 1002: 0.75}


@dataclass
class RenderedFeast:
    """The Feast pieces of one stack's plan."""

    plan: Plan
    workload: Workload
    feature_store_yaml: str
    config: dict
    argv: list[str]
    view: str

    @property
    def component(self) -> str:
        return f"{self.plan.stack}: Feast (ConfigMap {FEAST_NAMESPACE}/{CONFIG_MAP})"

    def setting(self, *path: str) -> object:
        value: object = self.config
        for key in path:
            if not isinstance(value, dict) or key not in value:
                raise SmokeFailure(f"{self.component}: feature_store.yaml has no {'.'.join(path)}")
            value = value[key]
        return value


TIMINGS = Path(__file__).resolve().parents[2] / "build" / "smoke" / "timings"


def stacks(cloud: str) -> list[str]:
    """The stacks of ``cloud`` among ``SMOKE_STACKS`` (stack files are named <cloud>-<env>, AWS's <env>)."""
    def cloud_of(name: str) -> str:
        return name.split("-", 1)[0] if name.startswith(("azure-", "gcp-")) else "aws"
    return [n for n in os.environ.get("SMOKE_STACKS", "dev azure-dev gcp-dev").split() if cloud_of(n) == cloud]


def record(feast: "RenderedFeast", result: "FeastResult", started: float) -> None:
    """Seconds per step of one stack's Feast smoke: build/smoke/timings/, and a line in the stack's report
    (build/smoke/reports/<stack>.txt, which make smoke prints)."""
    timings = {**result.timings, "total": round(time.monotonic() - started, 2)}
    TIMINGS.mkdir(parents=True, exist_ok=True)
    (TIMINGS / f"feast-{feast.plan.stack}.json").write_text(json.dumps(timings, indent=1))
    reports = TIMINGS.parent / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    with open(reports / f"{feast.plan.stack}.txt", "a") as handle:
        handle.write(f"[{feast.plan.stack}] Feast: " + ", ".join(f"{k} {v:.0f}s" for k, v in timings.items()) + "\n")


def require(feast: "RenderedFeast", schemes: tuple[str, ...], store_type: str, cloud: str) -> str:
    """The registry path, after checking it and the online store are the kind this cloud's stacks render."""
    registry = str(feast.setting("registry", "path"))
    if not registry.startswith(schemes):
        raise SmokeFailure(f"{feast.component}: registry.path {registry!r} is not a {' or '.join(schemes)} URI")
    if feast.setting("online_store", "type") != store_type:
        raise SmokeFailure(f"{feast.component}: online_store.type is {feast.setting('online_store', 'type')!r}, "
                           f"the {cloud} stacks serve from {store_type}")
    return registry


def rendered(plan: Plan) -> RenderedFeast:
    text = plan.k8s_object("ConfigMap", CONFIG_MAP, FEAST_NAMESPACE)["data"]["feature_store.yaml"]
    workload = plan.workload(FEAST_NAME, FEAST_NAMESPACE)
    views = plan.data["outputs"].get("onlineStoreTable")
    feature_store = [r for r in plan.resources("mlops:features:FeatureStore")]
    if not feature_store:
        raise SmokeFailure(f"{plan.stack}: no mlops:features:FeatureStore in {plan.source}")
    config = yaml.safe_load(text)
    return RenderedFeast(plan, workload, text, config, workload.container(FEAST_NAME).argv,
                         view=online_view(plan, config["project"], views))


def online_view(plan: Plan, project: str, table: object) -> str:
    """The first online view the stack declares: ``<project>.<view>`` on AWS, else from the stack config."""
    if isinstance(table, str) and table.startswith(f"{project}."):
        return table.split(".", 1)[1]
    for resource in plan.resources("aws:dynamodb/table:Table"):
        return resource["inputs"]["name"].split(".", 1)[1]
    return "default"  # FeaturesConfig.online_feature_views' default; Bigtable/Redis stores are per instance


def write_repo(directory: Path, feast: RenderedFeast, source_uri: str, endpoint_override: str | None) -> Path:
    """``feature_store.yaml`` byte for byte, plus the test's one-view feature repo."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "feature_store.yaml").write_bytes(feast.feature_store_yaml.encode())
    override = f", s3_endpoint_override={endpoint_override!r}" if endpoint_override else ""
    (directory / "smoke_features.py").write_text(f'''from datetime import timedelta

from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float32, Int64

driver = Entity(name="driver", join_keys=["{ENTITY}"])
source = FileSource(name="smoke_source", path={source_uri!r}, timestamp_field="event_timestamp"{override})
view = FeatureView(name={feast.view!r}, entities=[driver], ttl=timedelta(days=3650),
                   schema=[Field(name="{ENTITY}", dtype=Int64), Field(name="conv_rate", dtype=Float32)], online=True, source=source)
''')
    return directory


@dataclass
class FeastResult:
    timings: dict[str, float] = field(default_factory=dict)


def _timed(result: FeastResult, step: str):
    class _Timer:
        def __enter__(self):
            self.start = time.monotonic()

        def __exit__(self, *exc):
            result.timings[step] = round(time.monotonic() - self.start, 2)
    return _Timer()


def server_argv(feast: RenderedFeast, bin_dir: Path, repo: Path, port: int) -> list[str]:
    """The rendered command with the repo directory, host and port moved for this machine."""
    argv = list(feast.argv)
    if argv[:1] != ["feast"] or "serve" not in argv:
        raise SmokeFailure(f"{feast.workload.component}: command {argv} is not `feast ... serve`")
    argv[0] = str(bin_dir / "feast")
    for flag, value in (("--chdir", str(repo)), ("--host", HOST), ("--port", str(port))):
        if flag not in argv:
            raise SmokeFailure(f"{feast.workload.component}: command has no {flag}")
        argv[argv.index(flag) + 1] = value
    return argv


def run(procs: Processes, feast: RenderedFeast, repo: Path, env: Mapping[str, str], offline_uri: str,
        metrics_port: int | None = None) -> FeastResult:
    """offline rows (apply reads their schema), apply, materialize-incremental, get_online_features, then serve and query it."""
    bin_dir = venv("feast")
    result = FeastResult()
    env = {**env, "PYTHONPATH": str(SITE), "SMOKE_METRICS_PORT": str(metrics_port or free_port())}
    tag = feast.plan.stack
    rows = repo / "rows.json"
    rows.write_text(json.dumps(ROWS))
    with _timed(result, "offline-write"):
        procs.run(f"feast-offline-{tag}", [str(bin_dir / "python"), str(CLIENT), "write-offline", offline_uri, str(rows)],
                  env, timeout=120)
    with _timed(result, "apply"):
        procs.run(f"feast-apply-{tag}", [str(bin_dir / "feast"), "--chdir", str(repo), "apply"], env, timeout=180)
    with _timed(result, "materialize"):
        procs.run(f"feast-materialize-{tag}", [str(bin_dir / "feast"), "--chdir", str(repo), "materialize-incremental",
                                               "2026-06-01T00:00:00"], env, timeout=300)
    entities = repo / "entities.json"
    entities.write_text(json.dumps([{ENTITY: key} for key in EXPECTED]))
    with _timed(result, "get-online-features"):
        output = procs.run(f"feast-online-{tag}", [str(bin_dir / "python"), str(CLIENT), "online", str(repo), feast.view,
                                                   str(entities)], env, timeout=120)
    check_features(feast, json.loads(output.strip().splitlines()[-1]), "get_online_features")

    port = free_port()
    with _timed(result, "serve"):
        server = procs.start(f"feast-serve-{tag}", server_argv(feast, bin_dir, repo, port), env)
        procs.wait_url(server, f"http://{HOST}:{port}/health", timeout=120, ready=lambda status: status == 200)
        body = json.dumps({"features": [f"{feast.view}:conv_rate"], "entities": {ENTITY: list(EXPECTED)}}).encode()
        request = urllib.request.Request(f"http://{HOST}:{port}/get-online-features", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise server.failure(f"/get-online-features answered HTTP {error.code}: {error.read()[:500]!r}")
        check_served(feast, answer)
    return result


def check_features(feast: RenderedFeast, result: dict, how: str) -> None:
    got = dict(zip(result.get(ENTITY, []), result.get("conv_rate", [])))
    wrong = {key: got.get(key) for key, value in EXPECTED.items() if got.get(key) is None or abs(got[key] - value) > 1e-6}
    if wrong:
        raise SmokeFailure(f"{feast.component}: {how} returned {got}, expected the latest rows {EXPECTED}")


def check_served(feast: RenderedFeast, answer: dict) -> None:
    names = answer.get("metadata", {}).get("feature_names", [])
    columns = {name: column.get("values", []) for name, column in zip(names, answer.get("results", []))}
    check_features(feast, {ENTITY: columns.get(ENTITY, []), "conv_rate": columns.get("conv_rate", [])},
                   "feast serve /get-online-features")
