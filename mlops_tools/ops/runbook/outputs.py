"""Stack outputs for a runbook: read them from a file or the Pulumi CLI, and pick typed values with clear errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from mlops_tools.ops.common import UsageError
from mlops_tools.ops.runbook.steps import log


def read_stack_outputs(stack: str, outputs_file: Optional[str]) -> dict[str, Any]:
    """Outputs from a file, or from `pulumi stack output --json --stack <s>` (no secrets needed)."""
    if outputs_file:
        path = Path(outputs_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot read outputs file {outputs_file}: {error.strerror}") from None
        try:
            outputs = json.loads(text)
        except json.JSONDecodeError as error:
            raise UsageError(
                f"outputs file {outputs_file} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
            ) from None
        source = f"outputs file {outputs_file}"
    else:
        pulumi = shutil.which("pulumi")
        if pulumi is None:
            raise UsageError("the pulumi CLI is not on PATH: install it, or pass --outputs-file with the stack outputs")
        log.info("reading outputs: pulumi stack output --json --stack %s", stack)
        try:
            completed = subprocess.run(
                [pulumi, "stack", "output", "--json", "--stack", stack],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise UsageError(f"pulumi stack output --stack {stack} did not answer within 300 s") from None
        if completed.returncode != 0:
            detail = (completed.stderr.strip().splitlines() or ["no error output"])[-1]
            raise UsageError(f"pulumi stack output --stack {stack} failed: {detail}")
        try:
            outputs = json.loads(completed.stdout)
        except json.JSONDecodeError:
            raise UsageError(f"pulumi stack output --stack {stack} did not print JSON") from None
        source = f"outputs of stack {stack}"
    if not isinstance(outputs, dict):
        raise UsageError(f"{source}: expected a JSON object of stack outputs")
    return outputs


def require(mapping: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = mapping.get(key)
    if value is None:
        raise UsageError(f"{where}: missing output {key!r}")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise UsageError(f"{where}: output {key!r} should be a {kind.__name__}, got {value!r}")
    if kind is str and not value.strip():
        raise UsageError(f"{where}: output {key!r} is empty")
    return value


def optional_str(mapping: dict[str, Any], key: str, where: str) -> Optional[str]:
    value = mapping.get(key)
    if value is not None and not isinstance(value, str):
        raise UsageError(f"{where}: output {key!r} should be a string, got {value!r}")
    return value or None


class Objectives:
    """The RPO and RTO in seconds, for a target dataclass with `rpo_minutes` and `rto_minutes`."""

    rpo_minutes: int
    rto_minutes: int

    @property
    def rpo_seconds(self) -> int:
        return self.rpo_minutes * 60

    @property
    def rto_seconds(self) -> int:
        return self.rto_minutes * 60


@dataclass(frozen=True)
class DrOutputs:
    """What every cloud's runbook reads first from the stack outputs: where, and the objectives."""

    region: str
    dr: dict[str, Any]  # the stack's `dr` output
    dr_where: str  # how an error names it
    dr_region: str
    rpo_minutes: int
    rto_minutes: int


def dr_outputs(outputs: dict[str, Any], stack: str, where: str, cloud: str,
               check_region: Callable[[str, str], str] = lambda region, _where: region) -> DrOutputs:
    """The cloud, the two regions and the objectives, validated once; `check_region` is the cloud's own check."""
    if outputs.get("cloud") != cloud:
        raise UsageError(f"{where}: this is the {cloud} DR runbook; this stack's cloud is {outputs.get('cloud')!r}")
    region = check_region(require(outputs, "region", str, where), f"{where}: region")
    dr = require(outputs, "dr", dict, where)
    if dr.get("enabled") is not True:
        raise UsageError(f"{where}: DR is not enabled for stack {stack} (set mlops:dr.enabled and deploy first)")
    dr_where = f"{where} (dr)"
    dr_region = check_region(require(dr, "region", str, dr_where), f"{dr_where}: region")
    if dr_region == region:
        raise UsageError(f"{where}: the DR region {dr_region} is the primary region; DR needs a second region")
    rpo, rto = require(dr, "rpoMinutes", int, dr_where), require(dr, "rtoMinutes", int, dr_where)
    if rpo <= 0 or rto <= 0:
        raise UsageError(f"{dr_where}: rpoMinutes and rtoMinutes must be positive, got {rpo} and {rto}")
    return DrOutputs(region, dr, dr_where, dr_region, rpo, rto)
