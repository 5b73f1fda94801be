"""The pull-request plan diff: adds, deletes, changes with property paths, replacement flags."""

import json

from mlops_tools.review.diff import diff_plans
from tests.cli_inprocess import run_cli

PROVIDER = "urn:pulumi:dev::p::pulumi:providers:aws::primary"


def res(name, type_="aws:s3/bucket:Bucket", inputs=None, provider=PROVIDER + "::id", **kw):
    return {"urn": f"urn:pulumi:dev::p::{type_}::{name}", "type": type_, "name": name, "custom": True, "parent": None,
            "provider": provider, "inputs": inputs or {}, "dependencies": [], "protect": False, **kw}


def plan(*resources, region="us-east-1", violations=()):
    provider = {"urn": PROVIDER, "type": "pulumi:providers:aws", "name": "primary", "custom": True, "parent": None,
                "provider": None, "inputs": {"region": region}, "dependencies": [], "protect": False}
    return {"project": "p", "stack": "dev", "cloud": "aws", "resources": [provider, *resources], "outputs": {},
            "policy": {"packs": [{"name": "aws", "version": "1.0.0", "policies": 30}], "violations": list(violations), "waived": []}}


def test_identical_plans_have_no_changes():
    p = plan(res("a"))
    assert diff_plans(p, p) == "### Stack `dev`: no resource changes (policy: 0 mandatory, 0 advisory, 0 waived)\n"


def test_added_deleted_and_changed_with_paths():
    old = plan(res("gone"), res("db", "aws:rds/instance:Instance", {"allocatedStorage": 20, "tags": {"a": "1"}}))
    new = plan(res("new"), res("db", "aws:rds/instance:Instance", {"allocatedStorage": 50, "tags": {"a": "1", "b": "2"}}))
    report = diff_plans(old, new)
    assert report.startswith("### Stack `dev`: 1 to add, 1 to change (0 replacements), 1 to delete")
    assert "| `new` | `aws:s3/bucket:Bucket` |" in report and "| `gone` |" in report
    assert "  - `allocatedStorage`: `20` → `50`" in report
    assert "  - `tags.b`: `null` → `2`" in report
    assert "replacement" not in report.split("**Changed**")[1].split("\n")[2]


def test_replacing_property_and_region_change_are_flagged():
    old = plan(res("db", "aws:rds/instance:Instance", {"kmsKeyId": "arn:a"}))
    new = plan(res("db", "aws:rds/instance:Instance", {"kmsKeyId": "arn:b"}), region="us-west-2")
    report = diff_plans(old, new)
    assert ":warning: replacement (`kmsKeyId`, `provider region`)" in report
    assert "`(provider region)`: `us-east-1` → `us-west-2`" in report


def test_rename_without_alias_is_a_replacement():
    report = diff_plans(plan(res("old-name", inputs={"x": 1})), plan(res("new-name", inputs={"x": 1})))
    assert "`old-name` → `new-name` :warning: replacement" in report


def test_secrets_stay_masked_in_the_diff():
    old = plan(res("s", "aws:secretsmanager/secretVersion:SecretVersion", {"secretString": "[secret]", "secretId": "a"}))
    new = plan(res("s", "aws:secretsmanager/secretVersion:SecretVersion", {"secretString": "[secret]", "secretId": "b"}))
    report = diff_plans(old, new)
    assert "secretString" not in report and "`secretId`: `a` → `b`" in report


def test_policy_results_at_new_state_are_listed():
    v = {"pack": "aws", "policy": "aws-s3-bucket-block-public-access", "severity": "high", "enforcement": "mandatory",
         "urn": "urn:pulumi:dev::p::aws:s3/bucket:Bucket::a", "message": "all four flags must be true"}
    report = diff_plans(plan(res("a")), plan(res("a"), violations=[v]))
    assert "**Policy at the new state**: 1 mandatory, 0 advisory, 0 waived (aws 1.0.0)" in report
    assert "- mandatory `aws-s3-bucket-block-public-access` on `a`: all four flags must be true" in report


def test_diff_of_two_plan_files_through_the_cli(tmp_path, capsys):
    (tmp_path / "old.json").write_text(json.dumps(plan(res("a"))))
    (tmp_path / "new.json").write_text(json.dumps(plan(res("a"), res("b"))))
    run = run_cli(capsys, "diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"))
    assert run.returncode == 0, run.stderr
    assert "1 to add, 0 to change (0 replacements), 0 to delete" in run.stdout


def test_diff_of_a_missing_plan_file_is_one_line(tmp_path, capsys):
    run = run_cli(capsys, "diff", str(tmp_path / "nope.json"), str(tmp_path / "nope.json"))
    assert run.returncode == 2 and run.stderr.strip() == f"error: no plan file at {tmp_path / 'nope.json'}"


def test_json_documents_in_string_properties_diff_by_statement():
    doc = lambda actions: json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "arn:aws:s3:::b/*"}]})
    old = plan(res("p", "aws:iam/rolePolicy:RolePolicy", {"policy": doc(["s3:GetObject"])}))
    new = plan(res("p", "aws:iam/rolePolicy:RolePolicy", {"policy": doc(["s3:GetObject", "s3:PutObject"])}))
    report = diff_plans(old, new)
    assert "  - `policy.Statement[0].Action[1]`: `null` → `s3:PutObject`" in report
