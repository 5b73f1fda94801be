"""The one command line reaches every job, and the old module paths still work for one release (CHANGELOG.md)."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_tools import cli
from tests.cli_inprocess import run_cli

ROOT = Path(__file__).resolve().parents[1]

OLD_TO_NEW = {
    "awsops": "mlops_tools.ops.aws.clients", "bench": "mlops_tools.review.bench",
    "bootstrap": "mlops_tools.ops.aws.bootstrap", "diff": "mlops_tools.review.diff", "dr": "mlops_tools.ops.aws.dr",
    "drift": "mlops_tools.ops.drift", "lint_workflows": "mlops_tools.validate.workflows",
    "manifests": "mlops_tools.validate.manifests", "mocks": "mlops_tools.engine.mocks", "plan": "mlops_tools.engine.plan",
    "policy_runner": "mlops_tools.policy.runner", "preview": "mlops_tools.engine.preview",
    "reports": "mlops_tools.policy.reports", "waivers": "mlops_tools.policy.waivers",
}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("old", sorted(OLD_TO_NEW))
def test_old_module_path_is_the_new_module(old):
    assert importlib.import_module(f"mlops_tools.{old}") is importlib.import_module(OLD_TO_NEW[old])


def test_python_dash_m_on_an_old_path_runs_the_new_command(tmp_path):
    digest = tmp_path / "refresh.json"
    digest.write_text('{"steps": [], "changeSummary": {"same": 3}}')
    old, new = run("mlops_tools.drift", "--stack", "prod", str(digest)), run("mlops_tools", "drift", "--stack", "prod", str(digest))
    assert old.returncode == new.returncode == 0, old.stderr + new.stderr
    assert old.stdout == new.stdout and "prod" in old.stdout


@pytest.mark.parametrize("command", sorted(cli.DELEGATED))
def test_every_job_is_reachable_from_the_one_cli(command, capsys):
    """In this process (tests/cli_inprocess.py): the one command line's dispatch; `python -m mlops_tools` itself
    is run by the subprocess tests around this one."""
    module = importlib.import_module(cli.DELEGATED[command][0])
    completed = run_cli(capsys, command, "--help")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: python -m mlops_tools"), completed.stdout
    assert callable(module.main)


def test_delegated_command_gets_its_own_arguments_and_exit_code():
    completed = run("mlops_tools", "dr", "status", "--stack", "prod", "--outputs-file", "/nonexistent/outputs.json")
    assert completed.returncode == 2
    assert "error: cannot read outputs file /nonexistent/outputs.json" in completed.stderr
    assert "Traceback" not in completed.stderr
