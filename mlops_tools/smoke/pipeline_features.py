"""Issue 11, features through Feast's API on the real software: the rendered WorkflowTemplate's ``features`` step
(its command and arguments exactly as rendered, the pinned Feast venv = the Feast image's requirements)
against the stack's real Feast registry on moto's S3 with IAM enforced, as the steps' own IRSA role.

What it makes, as a feature team would: the offline rows of the feature view the stack names (with an older
and a future state per customer, so a point-in-time join is told apart from a latest-row read), the labels
file at the configured path, and ``feast apply`` of that view as the feature server's role. AWS stacks (the
registry on S3). Used by tests/smoke/test_pipeline_features.py and the chained loop (test_retraining_loop.py).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from components.pipelines import TEMPLATE_NAME
from mlops_tools.smoke import SmokeFailure, feast_aws, feast_smoke
from mlops_tools.smoke.envs import venv
from mlops_tools.smoke.iam_aws import AwsIamServer, role_policy, service_account_role
from mlops_tools.smoke.mlflow import CLIENTS
from mlops_tools.smoke.plan import Plan
from mlops_tools.smoke.procs import Processes

STEPS = "system:serviceaccount:pipelines:pipeline-steps"


def _template(plan) -> dict:
    template = plan.k8s_object("WorkflowTemplate", TEMPLATE_NAME)  # serving renders its canary-rollout too
    return template


def _substitute(value: str, parameters: dict[str, str], outputs: str) -> str:
    value = re.sub(r"\{\{workflow\.parameters\.([\w-]+)\}\}", lambda m: parameters[m.group(1)], value)
    return value.replace("/tmp/outputs", outputs)


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def write_repo(directory, feast, view: str, source_uri: str, endpoint: str):
    """The rendered feature_store.yaml, byte for byte, and the team's view over the offline file."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "feature_store.yaml").write_bytes(feast.feature_store_yaml.encode())
    (directory / "churn_features.py").write_text(f'''from datetime import timedelta

from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float64, Int64

customer = Entity(name="customer", join_keys=["customer_id"])
source = FileSource(name="{view}_source", path={source_uri!r}, timestamp_field="event_timestamp",
                    s3_endpoint_override={endpoint!r})
view = FeatureView(name={view!r}, entities=[customer], ttl=timedelta(days=3650), online=False, source=source,
                   schema=[Field(name="age", dtype=Float64), Field(name="spend", dtype=Float64),
                           Field(name="visits", dtype=Int64)])
''')
    return directory


@dataclass
class FeaturesRun:
    result: dict          # the step's JSON line
    frame: Path           # the training frame it wrote (outputs/training.parquet)
    table: Path           # the generated source table (to check the join against)
    parameters: dict      # the WorkflowTemplate's parameters (label, entity, model-name, ...)
    view: str


def run_features_step(plan: Plan, data: Path, seed: int = 7) -> FeaturesRun:
    """The rendered ``features`` step on moto with IAM enforced (SmokeFailure on any refused call)."""
    data.mkdir(parents=True, exist_ok=True)
    template = _template(plan)
    parameters = {p["name"]: p["value"] for p in template["spec"]["arguments"]["parameters"]}
    [step] = [t for t in template["spec"]["templates"] if t["name"] == "features"]
    container = step["container"]
    args = container["args"]
    view = args[args.index("--feature-view") + 1]
    entities_uri = parameters["features"]
    source_uri = entities_uri.rsplit("/", 1)[0] + f"/{view}.parquet"
    table, features_file, labels_file = data / "table.parquet", data / "features.parquet", data / "labels.parquet"
    subprocess.run([str(venv("mlflow") / "python"), str(CLIENTS / "pipeline_data.py"), "clean", str(table), str(seed)],
                   check=True, timeout=120)
    subprocess.run([str(venv("feast") / "python"), str(CLIENTS / "pipeline_feast_data.py"), str(table),
                    str(features_file), str(labels_file)], check=True, timeout=120)

    feast = feast_smoke.rendered(plan)
    server = AwsIamServer(region=str(feast.setting("online_store", "region")))
    with server, Processes(data / "logs") as procs:
        feast_env, _ = feast_aws.prepare(server, feast)  # the features bucket, tables, the feature server's role
        admin = server.client("s3")
        admin.upload_file(str(features_file), *_split(source_uri))
        admin.upload_file(str(labels_file), *_split(entities_uri))
        steps = server.role_credentials("steps", role_policy(plan, service_account_role(plan, STEPS)))
        repo = write_repo(data / "repo", feast, view, source_uri, server.endpoint)
        server.enforce()
        procs.run("feast-apply", [str(venv("feast") / "feast"), "--chdir", str(repo), "apply"], feast_env, timeout=300)

        outputs = data / "outputs"
        assert container["command"][:2] == ["python", "-c"]
        argv = [str(venv("feast") / "python"), *container["command"][1:],
                *(_substitute(a, parameters, str(outputs)) for a in args)]
        env = {**{e["name"]: e["value"] for e in container.get("env", []) if "value" in e},
               **server.environment(steps), "PATH": "/usr/bin:/bin", "HOME": str(data)}
        result = json.loads(procs.run("features-step", argv, env, timeout=600).strip().splitlines()[-1])
        if server.refused("steps"):
            raise SmokeFailure("features step refused: " + ", ".join(d.describe() for d in server.refused("steps")))
        if not {action for action, _ in server.calls("steps")} >= {"s3:GetObject", "s3:ListBucket"}:
            raise SmokeFailure(f"features step: expected S3 reads as the steps' role, saw {server.calls('steps')}")

    return FeaturesRun(result, outputs / "training.parquet", table, parameters, view)
