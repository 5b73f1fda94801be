"""`python -m mlops_tools dr ...` (what `make dr-status STACK=...` runs) picks the runbook from the stack file's
`mlops:cloud` and prints the same report shape on every cloud."""

from __future__ import annotations

import re

import pytest

from mlops_tools.ops import dr
from tests.cli_inprocess import run_cli
from tests.ops.azure.arm_fake import Arm
from tests.ops.azure.arm_fake import prod_outputs as azure_outputs
from tests.ops.gcp.gcp_fake import Google
from tests.ops.gcp.gcp_fake import prod_outputs as gcp_outputs
from tests.ops.local_http import serving, write_outputs

# The report every cloud prints (the AWS runbook's, tests/ops/aws): header, one line per store, verdict.
HEADER = re.compile(r"^DR status for stack \S+: \S+ -> \S+ \(RPO \d+ min, RTO \d+ min\)$")
LINE = re.compile(r"^  (OK     |AT RISK|FAIL   ) (database|artifacts|features|online-store|images) +\S.*$")
AWS_AREAS = {"database", "artifacts", "features", "online-store", "images"}


@pytest.mark.parametrize("stack, state, outputs", [("azure-prod", Arm, azure_outputs), ("gcp-prod", Google, gcp_outputs)])
def test_make_dr_status_dispatches_by_the_stack_files_cloud(tmp_path, capsys, stack, state, outputs):
    path = write_outputs(tmp_path / "outputs.json", outputs())
    with serving(state()) as api:  # the command in this process (tests/cli_inprocess.py)
        completed = run_cli(capsys, "dr", "status", "--stack", stack, "--outputs-file", str(path), "--endpoint-url", api.url)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert HEADER.match(lines[0]) and lines[-1] == "overall: HEALTHY"
    assert all(LINE.match(line) for line in lines[1:-1]), lines
    assert {line.split()[1] for line in lines[1:-1]} == AWS_AREAS


def test_the_cloud_comes_from_the_stack_file(tmp_path):
    assert [dr.stack_cloud(s, None) for s in ("prod", "azure-prod", "gcp-dev")] == ["aws", "azure", "gcp"]
    (tmp_path / "Pulumi.odd.yaml").write_text("config:\n  mlops:cloud: oracle\n")
    with pytest.raises(Exception, match=r"Pulumi.odd.yaml: mlops:cloud is 'oracle'; the DR runbook drives aws, azure, gcp"):
        dr.stack_cloud("odd", None, tmp_path)


def test_an_unknown_stack_names_the_stacks_there(capsys):
    assert dr.main(["status", "--stack", "nope"]) == 2
    assert "no stack file Pulumi.nope.yaml (stacks here: " in capsys.readouterr().err
