"""`python -m mlops_tools ARGS` run in the test's own process, with what the subprocess gave: exit code,
stdout, stderr.

Why (issue 18): each subprocess exec'd a new interpreter that imported the tooling again (~0.2-0.4 s CPU per
call, ~4 s per run), for tests that check what a command prints and returns. They call the same entry
(`mlops_tools.cli.main`, which hands delegated commands to their module's `main`). The interpreter's own
start, `python -m mlops_tools` through its __main__.py in a fresh process, keeps subprocess tests of its own
(tests/test_cli.py: an old module path, a delegated command's exit code; tests/review: the diff of a copied
repository; tests/ops/aws/test_dr_server.py: the DR runbook against a real endpoint)."""

from __future__ import annotations

import subprocess

import pytest

from mlops_tools import cli


def run_cli(capsys: pytest.CaptureFixture, *args: str) -> subprocess.CompletedProcess:
    """Run the one command line with `args`; what the test printed before is not part of the result."""
    capsys.readouterr()
    try:
        code = cli.main(list(args))
    except SystemExit as stop:  # argparse: --help (0) and usage errors (2)
        code = stop.code
    out, err = capsys.readouterr()
    if isinstance(code, str):  # as the interpreter does with sys.exit("message")
        code, err = 1, err + code + "\n"
    return subprocess.CompletedProcess(["python", "-m", "mlops_tools", *args], code or 0, out, err)
