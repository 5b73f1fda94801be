"""The plan diff as a reviewer reads it: lists by identity, what a replacement drags along, rename
candidates with the alias that avoids them, folding, warnings, and failures that are never silent."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from mlops_tools.review.changes import element_labels, flatten
from mlops_tools.review.diff import FOLD_AT, diff_plans
from tests.cli_inprocess import run_cli
from tests.review.test_plan_diff import plan, res

ROOT = Path(__file__).resolve().parents[2]


def dashboard(titles):
    body = {"widgets": [{"type": "metric", "properties": {"title": t, "metrics": [["AWS/EC2", t]]}} for t in titles]}
    return res("dash", "aws:cloudwatch/dashboard:Dashboard", {"dashboardBody": json.dumps(body)})


def test_inserting_one_widget_reads_as_one_added_widget_not_an_index_shift():
    titles = [f"panel {i}" for i in range(30)]
    report = diff_plans(plan(dashboard(titles)), plan(dashboard(["new panel", *titles])))
    changed = [line for line in report.splitlines() if line.startswith("  - `")]
    assert all("[properties.title=new panel]" in line for line in changed), changed
    assert len(changed) == 4  # type, title and the metric's two fields of the one new widget


def test_list_without_a_shared_identity_keeps_positions():
    assert element_labels(["a", "b"]) == ["[0]", "[1]"]
    assert element_labels([{"name": "a"}, {"name": "a"}]) == ["[0]", "[1]"]
    assert list(flatten({"containers": [{"name": "mlflow", "image": "x"}, {"name": "proxy", "image": "y"}]})) == [
        "containers[name=mlflow].image", "containers[name=mlflow].name", "containers[name=proxy].image", "containers[name=proxy].name"]


def test_replacement_lists_what_depends_on_it():
    vpc_urn = "urn:pulumi:dev::p::aws:ec2/vpc:Vpc::vpc"
    subnet = res("subnet-a", "aws:ec2/subnet:Subnet", {"cidrBlock": "10.0.1.0/24"}, dependencies=[vpc_urn])
    subnet_urn = subnet["urn"]
    cluster = res("cluster", "aws:eks/cluster:Cluster", {"name": "c"}, dependencies=[subnet_urn])
    db = res("db", "aws:rds/instance:Instance", {"engine": "postgres"}, dependencies=[subnet_urn])
    new_subnet = {**subnet, "inputs": {"cidrBlock": "10.1.1.0/24"}}
    report = diff_plans(plan(subnet, cluster, db), plan(new_subnet, cluster, db))
    assert ":warning: replacement (`cidrBlock`)" in report
    assert "  - depends on it (updated or replaced with it): `cluster`, `db`" in report


def test_renamed_pool_is_a_rename_candidate_with_the_alias_that_keeps_it():
    old = res("training-cpu", "aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["m6i.large"], "scalingConfig": {"maxSize": 4},
                                                             "labels": {"pool": "cpu"}, "diskSize": 100, "amiType": "AL2023"})
    new = {**old, "urn": old["urn"].replace("training-cpu", "training-general"), "name": "training-general",
           "inputs": {**old["inputs"], "labels": {"pool": "general"}}}
    report = diff_plans(plan(old), plan(new))
    assert "`training-cpu` → `training-general` :warning: replacement unless aliased (80% of inputs equal)" in report
    assert 'opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="training-cpu")])' in report


def test_stack_with_no_change_is_one_line():
    p = plan(res("a", inputs={"x": 1}))
    assert len(diff_plans(p, p).splitlines()) == 1


def test_long_sections_fold_for_the_pr_comment():
    old = plan()
    new = plan(*[res(f"bucket-{i:02}", inputs={"x": i}) for i in range(FOLD_AT + 5)])
    report = diff_plans(old, new)
    assert "<details>\n<summary><b>Added</b>" in report and report.count("</details>") == 1


def test_plans_of_different_stacks_warn(tmp_path, capsys):
    prod = {**plan(res("a")), "stack": "prod"}
    assert ":warning: the two plans are of different stacks (stack 'dev' vs 'prod')" in diff_plans(plan(res("a")), prod)
    (tmp_path / "a.json").write_text(json.dumps(plan(res("a"))))
    (tmp_path / "b.json").write_text(json.dumps(prod))
    out = tmp_path / "diff.md"
    out.write_text("an earlier report")
    run = run_cli(capsys, "diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert "warning: the two plans are of different stacks" in run.stderr
    assert f"the earlier report is kept as {out}.previous" in run.stderr
    assert (tmp_path / "diff.md.previous").read_text() == "an earlier report"


def test_a_stack_that_cannot_be_previewed_fails_the_diff_with_its_error(tmp_path):
    """A broken stack file in the working tree: exit 2, the preview's own error in the report."""
    repo = tmp_path / "repo"
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for command in (["init", "--quiet"], ["add", "-A"], ["commit", "--quiet", "-m", "base"]):
        subprocess.run([*git, *command], cwd=repo, check=True, capture_output=True)
    (repo / "Pulumi.dev.yaml").write_text((repo / "Pulumi.dev.yaml").read_text() + "  mlops:region: nowhere-1\n")
    env_path = f"{repo}:{repo / 'policies' / 'common'}"
    run = subprocess.run([sys.executable, "-m", "mlops_tools", "diff", "--base", "HEAD", "--stack", "dev",
                          "--out", str(tmp_path / "diff.md")],
                         cwd=repo, capture_output=True, text=True, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert run.returncode == 2, run.stdout + run.stderr
    report = (tmp_path / "diff.md").read_text()
    assert ":x: **1 stack(s) could not be previewed: dev**" in report
    assert "key 'mlops:region' appears twice" in report
    assert "[1/1] dev: FAILED" in run.stderr


def test_a_working_tree_that_cannot_be_previewed_is_reported_without_previewing_the_base(tmp_path, monkeypatch):
    """The base's plan would go unused: the diff previews the working tree first and stops there."""
    from mlops_tools.review import diff

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Pulumi.dev.yaml").write_text("config: {}\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for command in (["init", "--quiet"], ["add", "-A"], ["commit", "--quiet", "-m", "base"]):
        subprocess.run([*git, *command], cwd=repo, check=True, capture_output=True)
    previewed = []

    def preview_into(checkout, stack, out_dir):
        previewed.append("working tree" if checkout == repo else "base")
        return (None, "the working tree's error") if checkout == repo else ({"stack": stack, "resources": []}, "")

    monkeypatch.setattr(diff, "_preview_into", preview_into)
    result = diff.diff_against_ref(repo, "HEAD", ["dev"])
    assert previewed == ["working tree"] and result.failed == ["dev"]
    assert "the working tree's error" in result.report
