"""The DR status report, whatever the cloud: checks with OK/WARN/FAIL, one overall verdict, text or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Callable

from mlops_tools.cmdline import EXIT_FAILED, EXIT_OK
from mlops_tools.ops.runbook.steps import log

OK, WARN, FAIL = "OK", "WARN", "FAIL"


@dataclass
class Check:
    area: str
    status: str
    detail: str


def guarded(area: str, check: Callable[[], list[Check]], cloud_errors: tuple[type[BaseException], ...],
            describe: Callable[[Any], str]) -> list[Check]:
    """One unreachable service must not hide the others: its failure becomes a FAIL line."""
    try:
        return check()
    except cloud_errors as error:
        return [Check(area, FAIL, describe(error))]


def overall(checks: list[Check]) -> str:
    if any(check.status == FAIL for check in checks):
        return "UNHEALTHY"
    if any(check.status == WARN for check in checks):
        return "DEGRADED"
    return "HEALTHY"


def report(target: Any, checks: list[Check], as_json: bool) -> int:
    """Print the report for `target` (stack, region, dr_region, rpo_minutes, rto_minutes); exit 1 if UNHEALTHY."""
    verdict = overall(checks)
    if as_json:
        print(json.dumps({
            "stack": target.stack, "region": target.region, "drRegion": target.dr_region,
            "rpoMinutes": target.rpo_minutes, "rtoMinutes": target.rto_minutes,
            "overall": verdict, "checks": [asdict(check) for check in checks],
        }, indent=2, sort_keys=True))
    else:
        print(f"DR status for stack {target.stack}: {target.region} -> {target.dr_region} "
              f"(RPO {target.rpo_minutes} min, RTO {target.rto_minutes} min)")
        for check in checks:
            print(f"  {check.status:<5} {check.area:<13} {check.detail}")
        print(f"overall: {verdict}")
    log.info("overall: %s", verdict)
    return EXIT_FAILED if verdict == "UNHEALTHY" else EXIT_OK
