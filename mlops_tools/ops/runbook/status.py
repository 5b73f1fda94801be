"""The DR status report, whatever the cloud: checks with OK / AT RISK / FAIL, one overall verdict, text or JSON.

AT RISK (`WARN`) means the copy exists and replicates but the RPO is not proven: lag unknown or past half the
RPO, replication catching up, an object not copied yet but still within the RPO.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Callable

from mlops_tools.cmdline import EXIT_FAILED, EXIT_OK
from mlops_tools.ops.runbook.steps import log

OK, WARN, FAIL = "OK", "AT RISK", "FAIL"
AT_RISK = WARN


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
            print(f"  {check.status:<7} {check.area:<13} {check.detail}")
        print(f"overall: {verdict}")
    log.info("overall: %s", verdict)
    return EXIT_FAILED if verdict == "UNHEALTHY" else EXIT_OK


def lag_check(area: str, subject: str, lag: float | None, rpo_seconds: int) -> Check:
    """The verdict on one measured replication lag against the RPO: past it FAIL, past half of it or unknown
    AT RISK (the next spike would breach it, or it cannot be bounded), else OK."""
    if lag is None:
        return Check(area, WARN, f"{subject}: no replication-lag datapoint in the last 10 minutes; "
                                 "data loss cannot be bounded")
    if lag < 0:
        return Check(area, FAIL, f"{subject}: reports lag {lag:g}: replication is stopped")
    if lag > rpo_seconds:
        return Check(area, FAIL, f"{subject}: lag {lag:g} s exceeds the RPO of {rpo_seconds} s")
    if lag > rpo_seconds / 2:
        return Check(area, WARN, f"{subject}: lag {lag:g} s, over half the RPO of {rpo_seconds} s")
    return Check(area, OK, f"{subject}: lag {lag:g} s (RPO {rpo_seconds} s)")
