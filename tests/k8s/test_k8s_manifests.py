"""`python -m mlops_tools.validate.manifests`: every Kubernetes object of a plan rendered and validated."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from mlops_tools.validate import manifests
from mlops_tools.engine.plan import build_plan, write_plan
from mlops_tools.engine.preview import UNKNOWN


@pytest.fixture(scope="module")
def plan(prod):
    return build_plan(prod, "aws")


def run(tmp_path: Path, plan: dict, *extra: str, stack: str = "prod") -> tuple[int, Path]:
    plan_file = tmp_path / "plan" / f"{stack}.json"
    write_plan(plan, plan_file)
    code = manifests.main(["--stack", stack, "--plan", str(plan_file), "--out", str(tmp_path / "out"), *extra])
    return code, tmp_path / "out" / stack


def test_every_kubernetes_object_is_rendered_and_valid(tmp_path, plan, capsys):
    code, out = run(tmp_path, plan, "--kubernetes-version", "1.35")
    assert code == 0, capsys.readouterr().err
    objects = [r for r in plan["resources"] if r["type"].startswith("kubernetes:") and r["custom"]
               and r["type"] != "kubernetes:helm.sh/v3:Release"]
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == len(objects) + 1  # + the Helm values file
    deployment = yaml.safe_load((out / "deployment-mlops-mlflow.yaml").read_text())
    assert deployment["apiVersion"] == "apps/v1" and deployment["kind"] == "Deployment"
    assert "priorityclass-cluster-serving-critical.yaml" in files
    values = (out / "helmrelease-monitoring-kube-prometheus-stack.values.yaml").read_text()
    assert "# chart: kube-prometheus-stack " in values and "existingSecret: grafana-admin" in values
    summary = capsys.readouterr().out
    assert f"{len(objects)} manifests validated against the Kubernetes 1.35 schemas (strict)" in summary


def test_secrets_stay_masked_and_are_noted_not_failed(tmp_path, plan, capsys):
    code, out = run(tmp_path, plan, "--kubernetes-version", "1.35")
    assert code == 0
    text = (out / "secret-mlops-mlflow-admin.yaml").read_text()
    assert text.startswith("# placeholder: stringData is a secret (masked in the plan): not checked")
    assert all(len(v) < 32 for v in (yaml.safe_load(text).get("stringData") or {}).values())


def test_an_invalid_manifest_fails_with_one_line_naming_file_and_field(tmp_path, plan, capsys):
    broken = copy.deepcopy(plan)
    deployment = next(r for r in broken["resources"] if r["type"] == "kubernetes:apps/v1:Deployment"
                      and r["inputs"]["metadata"]["name"] == "feast")
    deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsRoot"] = True
    code, _ = run(tmp_path, broken, "--kubernetes-version", "1.35")
    errors = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert errors == [f"invalid: {tmp_path / 'out' / 'prod'}/deployment-mlops-feast.yaml: "
                      "spec.template.spec.containers[0].securityContext: Additional properties are not allowed "
                      "('runAsRoot' was unexpected)"]


def test_unknown_values_are_noted_not_errors(tmp_path, plan, capsys):
    unknown = copy.deepcopy(plan)
    deployment = next(r for r in unknown["resources"] if r["type"] == "kubernetes:apps/v1:Deployment")
    deployment["inputs"]["spec"]["replicas"] = UNKNOWN
    code, _ = run(tmp_path, unknown, "--kubernetes-version", "1.35")
    assert code == 0
    assert "spec.replicas is unknown until apply: not checked" in capsys.readouterr().out


def _with(plan: dict, inputs: dict, name: str = "gpu") -> dict:
    changed = copy.deepcopy(plan)
    type_token = f"kubernetes:{inputs['apiVersion']}:{inputs['kind']}"
    changed["resources"].append({"urn": f"urn:pulumi:prod::mlops-platform::{type_token}::{name}", "type": type_token,
                                 "name": name, "custom": True, "inputs": inputs})
    return changed


NODEPOOL = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "gpu"},
            "spec": {"limits": {"cpu": "64"}, "template": {"spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
                "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}]}}}}


def test_custom_resources_validate_against_their_pinned_crds(tmp_path, plan, capsys):
    code, out = run(tmp_path, _with(plan, NODEPOOL), "--kubernetes-version", "1.35")
    assert code == 0, capsys.readouterr().err
    assert (out / "nodepool-cluster-gpu.yaml").exists()
    assert "0 custom resources without a schema" in capsys.readouterr().out


@pytest.mark.parametrize("change, message", [
    (lambda np: np["spec"]["template"]["spec"]["requirements"][0].update(operator="Equals"),
     "spec.template.spec.requirements[0].operator: 'Equals' is not one of"),
    (lambda np: np["spec"].update(disruptionn={}), "Additional properties are not allowed ('disruptionn' was unexpected)"),
    (lambda np: np["spec"]["template"]["spec"].pop("nodeClassRef"), "'nodeClassRef' is a required property"),
])
def test_a_custom_resource_that_breaks_its_crd_schema_is_invalid(tmp_path, plan, capsys, change, message):
    broken = copy.deepcopy(NODEPOOL)
    change(broken)
    code, _ = run(tmp_path, _with(plan, broken), "--kubernetes-version", "1.35")
    err = capsys.readouterr().err
    assert code == 1 and "nodepool-cluster-gpu.yaml" in err and message in err, err


def test_a_custom_kind_without_a_pinned_crd_is_invalid(tmp_path, plan, capsys):
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}}
    code, _ = run(tmp_path, _with(plan, unknown, "w"), "--kubernetes-version", "1.35")
    assert code == 1 and "example.com/v1 Widget has no pinned CRD" in capsys.readouterr().err


def test_chart_made_servicemonitors_validate_against_the_crd(tmp_path, plan, capsys):
    broken = copy.deepcopy(plan)
    release = next(r for r in broken["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release"
                   and r["inputs"]["chart"] == "kube-prometheus-stack")
    release["inputs"]["values"]["prometheus"]["additionalServiceMonitors"][0]["endpoints"][0]["basicAuth"] = {
        "username": {"name": "mlflow-scrape"}, "passwd": {"name": "mlflow-scrape", "key": "password"}}
    code, _ = run(tmp_path, broken, "--kubernetes-version", "1.35")
    err = capsys.readouterr().err
    assert code == 1 and "values prometheus.additionalServiceMonitors[0] (ServiceMonitor mlflow)" in err, err
    assert "'passwd' was unexpected" in err and "'key' is a required property" in err


def test_an_unpinned_chart_is_invalid(tmp_path, plan, capsys):
    floating = copy.deepcopy(plan)
    next(r for r in floating["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release")["inputs"]["version"] = "77.x"
    code, _ = run(tmp_path, floating, "--kubernetes-version", "1.35")
    assert code == 1 and "chart version '77.x' is not pinned" in capsys.readouterr().err


@pytest.mark.parametrize("cluster, schema, noted", [("1.35", "1.35", False), ("1.24", "1.25", True), ("1.40", "1.37", True)])
def test_cluster_version_maps_to_the_nearest_supported_schema(cluster, schema, noted):
    version, note = manifests.schema_version_for(cluster)
    assert version == schema and bool(note) == noted
    if note:
        assert f"validated against the nearest, {schema}" in note


def test_version_comes_from_the_stack_config(tmp_path, plan, capsys, monkeypatch):
    import datetime as dt
    monkeypatch.setattr("stacks.config.today_utc", lambda: dt.date(2026, 6, 1))  # EKS 1.34 was still in standard support
    (tmp_path / "Pulumi.yaml").write_text("name: mlops-platform\nruntime: python\n")
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": {
        "mlops:cloud": "aws", "mlops:region": "eu-west-1", "mlops:environment": "dev", "mlops:cluster": {"version": "1.34"}}}))
    code, _ = run(tmp_path, plan, "--root", str(tmp_path))
    assert code == 0 and "Kubernetes 1.34 schemas" in capsys.readouterr().out


def test_missing_plan_is_one_line_and_exit_2(tmp_path, capsys):
    code = manifests.main(["--stack", "nope", "--plan", str(tmp_path / "none.json"), "--kubernetes-version", "1.35"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no plan file" in err and "make preview" in err


def test_rerun_replaces_the_directory(tmp_path, plan):
    _, out = run(tmp_path, plan, "--kubernetes-version", "1.35")
    (out / "stale.yaml").write_text("kind: Stale\n")
    run(tmp_path, plan, "--kubernetes-version", "1.35")
    assert not (out / "stale.yaml").exists()
    assert json.loads(json.dumps(sorted(p.name for p in out.iterdir())))  # still populated


def test_cached_validator_agrees_with_kubernetes_validate(prod):
    import kubernetes_validate

    deployment = manifests.manifest_of(next(r for r in prod.resources if r["type"] == "kubernetes:apps/v1:Deployment"))
    checked, errors, _, has_schema = manifests.validate_manifest(deployment, "1.35")
    assert has_schema and errors == []
    kubernetes_validate.validate(checked, "1.35", strict=True)
    deployment["spec"]["replicas"] = "two"
    _, errors, _, _ = manifests.validate_manifest(deployment, "1.35")
    assert errors == ["spec.replicas: 'two' is not of type 'integer', 'null'"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.35", strict=True)
