"""Checkov second opinion: waivers like ours (reason, owner, expiry), SARIF merged with our packs' run.

Checkov itself runs in `make checkov` (its own venv); here a stand-in executable prints a report in the
shape Checkov 3.3.30 prints with `--output json` (one object per framework), so the scan's decisions
are tested without the network-installed tool.
"""
import datetime as dt
import json
import sys
import textwrap
from pathlib import Path

import pytest

from mlops_tools.policy import checkov as checkov_scan
from mlops_tools.policy.checkov import CheckovError, load_waivers, scan

TODAY = dt.date(2026, 12, 5)


def _failed(check, resource, file_path, line=1):
    return {"check_id": check, "check_name": f"{check} check", "resource": resource, "file_path": f"/{file_path}",
            "file_line_range": [line, line + 5], "guideline": f"https://docs.example/{check}"}


def _fake_checkov(tmp_path: Path, by_framework: dict) -> Path:
    """An executable answering like Checkov: the report of the --framework it is asked for."""
    reports = {fw: {"check_type": fw, "results": {"failed_checks": failed},
                    "summary": {"passed": 10, "failed": len(failed), "checkov_version": "3.3.30"}}
               for fw, failed in by_framework.items()}
    data = tmp_path / "reports.json"
    data.write_text(json.dumps(reports))
    script = tmp_path / "checkov"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, sys
        framework = sys.argv[sys.argv.index("--framework") + 1]
        print(json.dumps(json.load(open({str(data)!r}))[framework]))
    """))
    script.chmod(0o755)
    return script


@pytest.fixture
def project(tmp_path):
    (tmp_path / "build" / "manifests" / "prod").mkdir(parents=True)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    return tmp_path


def _waivers(tmp_path, text):
    path = tmp_path / "waivers.yaml"
    path.write_text(textwrap.dedent(text))
    return path


DIGEST_WAIVER = """\
    waivers:
      - check: CKV_K8S_43
        resource: "Deployment.mlops.*"
        reason: exact tags in immutable repositories
        owner: ml-platform
        expires: 2027-03-31
"""
FINDINGS = {
    "kubernetes": [_failed("CKV_K8S_43", "Deployment.mlops.mlflow", "build/manifests/prod/deployment-mlops-mlflow.yaml")],
    "github_actions": [_failed("CKV_GHA_7", "on(pull request)", ".github/workflows/pull-request.yml", 12)],
}


def _scan(project, checkov, waivers):
    return scan("prod", project, checkov, waivers, project / "build" / "manifests", project / "build" / "reports", TODAY)


def test_unwaived_finding_fails_and_waived_one_is_suppressed_in_the_merged_sarif(project):
    reports = project / "build" / "reports"
    reports.mkdir(parents=True)
    ours = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "mlops-platform CrossGuard policies"}}, "results": []},
                                         {"tool": {"driver": {"name": "Checkov"}}, "results": ["stale"]}]}
    (reports / "prod.sarif").write_text(json.dumps(ours))

    code, lines = _scan(project, _fake_checkov(project, FINDINGS), _waivers(project, DIGEST_WAIVER))

    assert code == 1
    assert any("CKV_GHA_7 on(pull request) (.github/workflows/pull-request.yml)" in line for line in lines)
    log = json.loads((reports / "prod.sarif").read_text())
    assert [r["tool"]["driver"]["name"] for r in log["runs"]] == ["mlops-platform CrossGuard policies", "Checkov"]
    results = {r["ruleId"]: r for r in log["runs"][1]["results"]}
    assert results["CKV_K8S_43"]["suppressions"][0]["justification"] == \
        "exact tags in immutable repositories (owner ml-platform, expires 2027-03-31)"
    # a rendered manifest is build output: the finding points at the stack file it comes from
    assert results["CKV_K8S_43"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Pulumi.prod.yaml"
    workflow = results["CKV_GHA_7"]["locations"][0]["physicalLocation"]
    assert workflow["artifactLocation"]["uri"] == ".github/workflows/pull-request.yml" and workflow["region"]["startLine"] == 12
    assert "suppressions" not in results["CKV_GHA_7"]


def test_every_finding_waived_passes(project):
    checkov = _fake_checkov(project, {"kubernetes": FINDINGS["kubernetes"], "github_actions": []})
    code, lines = _scan(project, checkov, _waivers(project, DIGEST_WAIVER))
    assert code == 0 and lines[0].startswith("checkov 3.3.30 on prod: 0 finding(s), 1 waived")


def test_expired_waiver_fails(project):
    checkov = _fake_checkov(project, {"kubernetes": FINDINGS["kubernetes"], "github_actions": []})
    code, lines = _scan(project, checkov, _waivers(project, DIGEST_WAIVER.replace("2027-03-31", "2026-12-01")))
    assert code == 1 and any("expired on 2026-12-01" in line for line in lines)


PLAN_LEVEL_WAIVER = DIGEST_WAIVER + """\
      - check: CKV_GCP_79
        resource: "google_sql_database_instance.*"
        reason: the major the smoke proves
        owner: ml-platform
        expires: 2027-06-30
"""


def test_a_waiver_of_a_check_on_cloud_resources_is_not_noted_unused_but_still_expires(project):
    """Checkov scans manifests and workflows, not the plan: a CKV_GCP_* waiver (coverage.yaml `waived`) can match
    nothing here and must not be reported as stale on every stack; when it expires the scan fails all the same."""
    checkov = _fake_checkov(project, {"kubernetes": FINDINGS["kubernetes"], "github_actions": []})
    code, lines = _scan(project, checkov, _waivers(project, PLAN_LEVEL_WAIVER))
    assert code == 0 and not any("CKV_GCP_79" in line for line in lines)
    code, lines = _scan(project, checkov, _waivers(project, PLAN_LEVEL_WAIVER.replace("2027-06-30", "2026-12-01")))
    assert code == 1 and any("CKV_GCP_79" in line and "expired on 2026-12-01" in line for line in lines)


@pytest.mark.parametrize("text,expected", [
    ("waivers: nope\n", "key 'waivers' must be a list"),
    ("waivers:\n  - check: CKV_K8S_43\n    resource: x\n    owner: me\n    expires: 2027-01-01\n", "missing ['reason']"),
    ("waivers:\n  - {check: CKV_K8S_43, resource: x, reason: r, owner: me, expires: soon}\n", "expires is 'soon'"),
    ("waivers:\n  - {check: K8S_43, resource: x, reason: r, owner: me, expires: 2027-01-01}\n", "check is 'K8S_43'"),
])
def test_malformed_waivers_name_file_key_and_value(tmp_path, text, expected):
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    with pytest.raises(CheckovError) as error:
        load_waivers(path)
    assert str(path) in str(error.value) and expected in str(error.value)


def test_missing_checkov_or_manifests_is_one_line_and_exit_2(project, capsys):
    assert checkov_scan.main(["--stack", "prod", "--root", str(project), "--waivers", "w.yaml"]) == 2
    assert "w.yaml: cannot read the waivers" in capsys.readouterr().err
    _waivers(project, DIGEST_WAIVER).rename(project / "w.yaml")
    assert checkov_scan.main(["--stack", "prod", "--root", str(project), "--checkov", "nowhere/checkov",
                              "--waivers", "w.yaml"]) == 2
    assert "Checkov is not installed there" in capsys.readouterr().err
    assert checkov_scan.main(["--stack", "gcp-dev", "--root", str(project), "--waivers", "w.yaml"]) == 2
    assert "no rendered manifests" in capsys.readouterr().err


def test_committed_waivers_are_valid_and_each_names_an_owner_and_a_future_review():
    waivers = load_waivers(Path(__file__).resolve().parents[2] / "policies" / "checkov" / "waivers.yaml")
    assert waivers and all(w.owner and w.reason and w.expires > TODAY for w in waivers)


from tests.policy.test_reports import sarif_schema  # noqa: E402,F401  (the pinned OASIS schema fixture)


def test_merged_log_is_valid_sarif_2_1_0(project, sarif_schema):  # noqa: F811
    import jsonschema

    checkov = _fake_checkov(project, FINDINGS)
    _scan(project, checkov, _waivers(project, DIGEST_WAIVER))
    log = json.loads((project / "build" / "reports" / "prod.sarif").read_text())
    jsonschema.Draft4Validator(sarif_schema).validate(log)
