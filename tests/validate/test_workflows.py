"""Workflow lint: the repository's workflows pass, and every rule catches what it is for."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_tools.validate import workflows

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
AWS_CREDS = "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3"
SARIF = "github/codeql-action/upload-sarif@8aad20d150bbac5944a9f9d289da16a4b0d87c1e # v4.36.2"

GOOD = f"""\
name: ci
on:
  pull_request:
    branches: [main]
permissions: {{}}
jobs:
  preview:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      id-token: write
      security-events: write
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - uses: {AWS_CREDS}
        with:
          role-to-assume: ${{{{ vars.ROLE_ARN }}}}
          aws-region: us-east-1
      - env:
          STACK: ${{{{ github.head_ref }}}}
        run: make preview STACK="$STACK" FORMAT=sarif
      - uses: {SARIF}
        with:
          sarif_file: build/reports
"""


def lint(tmp_path: Path, workflow: str, makefile: str = "preview:\n\techo\ntest diff: x\n") -> list[str]:
    (tmp_path / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(workflow)
    (tmp_path / "Makefile").write_text(makefile)
    return [f.message for f in workflows.Linter(tmp_path).run()]


def test_repository_workflows_pass(capsys):
    code = workflows.main(["--root", str(REPO_ROOT)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.strip().endswith("workflow file(s) OK")


def test_repository_has_the_three_required_workflows():
    names = {p.name for p in (REPO_ROOT / ".github" / "workflows").glob("*.yml")}
    assert {"pull-request.yml", "deploy.yml", "drift.yml"} <= names


def test_a_clean_workflow_has_no_findings(tmp_path):
    assert lint(tmp_path, GOOD) == []


@pytest.mark.parametrize("old, new, expected", [
    (CHECKOUT, "actions/checkout@v7", "actions/checkout@v7 is not pinned to a full commit SHA"),
    (CHECKOUT, CHECKOUT.split(" #")[0], "add the version as a comment"),
    ("permissions: {}\n", "", "set `permissions: {}` at the top"),
    ("      security-events: write\n", "", "upload-sarif needs security-events: write"),
    ("      id-token: write\n", "", "aws-actions/configure-aws-credentials needs id-token: write"),
    ("      contents: read\n", "      contents: write\n", "contents: write is granted but no step needs it"),
    ("    permissions:\n      contents: read\n      id-token: write\n      security-events: write\n",
     "    permissions: write-all\n", "permissions: write-all is not least privilege"),
    ("    permissions:\n      contents: read\n      id-token: write\n      security-events: write\n", "",
     "no permissions: block"),
    ("role-to-assume: ${{ vars.ROLE_ARN }}",
     "aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}",
     "secrets.AWS_ACCESS_KEY_ID: no long-lived secrets"),
    ("role-to-assume: ${{ vars.ROLE_ARN }}", "aws-region: eu-west-1",
     "configure-aws-credentials without role-to-assume"),
    ("make preview", "make previews", "`make previews`: no such target in the Makefile"),
    ('STACK="$STACK"', "STACK=${{ github.head_ref }}", "expands ${{ github.head_ref }} directly"),
    ("  pull_request:\n", "  pull_request_target:\n", "pull_request_target runs with a write token"),
    ("          persist-credentials: false\n", "          fetch-depth: 0\n", "must set persist-credentials: false"),
    ("    runs-on: ubuntu-24.04\n", "    runs-on: ubuntu-24.04\n    timeout: 5\n", "Additional properties are not allowed"),
])
def test_each_rule_catches_its_problem(tmp_path, old, new, expected):
    assert old in GOOD
    findings = lint(tmp_path, GOOD.replace(old, new, 1))
    assert any(expected in finding for finding in findings), findings


def test_make_calls_inside_composite_actions_and_multi_target_rules(tmp_path):
    action = tmp_path / ".github" / "actions" / "env" / "action.yml"
    action.parent.mkdir(parents=True)
    action.write_text("name: env\ndescription: d\nruns:\n  using: composite\n  steps:\n"
                      "    - shell: bash\n      run: make venv && make test -j2\n")
    findings = lint(tmp_path, GOOD)
    assert findings == ["`make venv`: no such target in the Makefile"]
    assert lint(tmp_path, GOOD, makefile="venv test: x\n\ttrue\npreview:\n") == []


def test_reusable_workflow_calls_must_grant_what_the_callee_declares(tmp_path):
    callee = tmp_path / ".github" / "workflows" / "callee.yml"
    callee.parent.mkdir(parents=True)
    callee.write_text(GOOD.replace("  pull_request:\n    branches: [main]\n", "  workflow_call:\n"))
    caller = ("name: caller\non: push\npermissions: {}\njobs:\n  call:\n    permissions:\n      contents: read\n"
              "    uses: ./.github/workflows/callee.yml\n")
    findings = lint(tmp_path, caller)
    assert any("needs exactly" in f for f in findings), findings


def test_missing_workflows_directory_is_a_usage_error(tmp_path, capsys):
    assert workflows.main(["--root", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: no workflows in")


def test_pushing_to_ghcr_needs_and_justifies_packages_write(tmp_path):
    job = ("permissions: {}\non: push\njobs:\n  image:\n    runs-on: ubuntu-24.04\n    permissions:\n"
           "      contents: read\n      packages: write\n    steps:\n      - run: |\n"
           "          echo \"$TOKEN\" | docker login ghcr.io --username me --password-stdin\n"
           "          docker push \"$IMAGE\"\n")
    assert lint(tmp_path, job) == []
    assert any("packages: write is granted but no step needs it" in finding
               for finding in lint(tmp_path, job.replace("docker push", "docker pull")))

def lint_where(tmp_path: Path, workflow: str) -> list[str]:
    lint(tmp_path, workflow)
    return [f"{f.where}: {f.message}" for f in workflows.Linter(tmp_path).run()]


def test_every_schema_error_of_a_job_is_reported_not_only_the_first(tmp_path):
    bad = GOOD.replace("runs-on: ubuntu-24.04", "runs-on: 5\n    timeout-minutes: [1]")
    found = lint_where(tmp_path, bad)
    assert any("schema at jobs/preview/runs-on" in line for line in found), found
    assert any("schema at jobs/preview/timeout-minutes" in line for line in found), found


def test_needs_must_name_a_job_of_the_workflow(tmp_path):
    bad = GOOD.replace("    runs-on: ubuntu-24.04", "    needs: [build]\n    runs-on: ubuntu-24.04", 1)
    found = lint_where(tmp_path, bad)
    assert any("job preview: needs: 'build' is not a job in this workflow (jobs: preview)" in line for line in found), found
