"""Disaster-recovery runbook for GCP stacks: status, failover, failback (the same commands as AWS).

    python -m mlops_tools.ops.gcp.dr status   --stack gcp-prod [--outputs-file F] [--json]
    python -m mlops_tools.ops.gcp.dr failover --stack gcp-prod [--dry-run] [--yes] [--accept-data-loss]
    python -m mlops_tools.ops.gcp.dr failback --stack gcp-prod [--dry-run] [--yes]

What the stack builds (components/dr/gcp.py): a cross-region Cloud SQL read replica, the private record
MLflow connects to, Storage Transfer replication jobs into DR buckets, a Bigtable DR cluster, and DR image
repositories. This package holds only GCP's calls; the frame is the engine in `mlops_tools.ops.runbook`.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
import warnings
from typing import Any, Callable, Optional, Sequence

# google.api_core warns on every start about a Python end of life two years out; not the operator's concern.
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.api_core\.")

from mlops_tools.ops.common import run_main
from mlops_tools.ops.gcp.dr.calls import GcpCalls, describe_failure
from mlops_tools.ops.gcp.dr.failover import GcpRunbook
from mlops_tools.ops.gcp.dr.status import GOOGLE_ERRORS, collect_status
from mlops_tools.ops.gcp.dr.target import GcpTarget, parse_target
from mlops_tools.ops.runbook import Check, Wait, cli


class GcpDr:
    """The GCP `CloudRunbook`. `sleep` is what throttled requests wait with (the tests record it instead)."""

    prog = "python -m mlops_tools.ops.gcp.dr"
    description = "DR runbook for GCP stacks."
    endpoint_help = "base URL for every Google API the runbook calls (a local server in tests)"
    supports_dry_run = True

    def __init__(self, sleep: Callable[[float], None] = time.sleep):
        self.sleep = sleep

    def parse_target(self, outputs: dict[str, Any], stack: str, where: str) -> GcpTarget:
        return parse_target(outputs, stack, where)

    def connect(self, target: GcpTarget, endpoint_url: Optional[str], now: Callable[[], dt.datetime]) -> GcpCalls:
        return GcpCalls(target, endpoint_url, now, self.sleep)

    def checks(self, calls: GcpCalls) -> list[Check]:
        return collect_status(calls)

    def failover(self, calls: GcpCalls, wait: Wait, *, assume_yes: bool, accept_data_loss: bool,
                 dry_run: bool = False) -> int:
        return GcpRunbook(calls, wait, assume_yes, accept_data_loss=accept_data_loss, dry_run=dry_run).failover()

    def failback(self, calls: GcpCalls, wait: Wait, *, assume_yes: bool, max_switch_lag_seconds: float,
                 dry_run: bool = False) -> int:
        return GcpRunbook(calls, wait, assume_yes, max_switch_lag_seconds=max_switch_lag_seconds,
                          dry_run=dry_run).failback()

    def run_main(self, logger: logging.Logger, body: Callable[[], int]) -> int:
        return run_main(logger, body, GOOGLE_ERRORS, describe_failure)


def main(argv: Optional[Sequence[str]] = None, now: Callable[[], dt.datetime] | None = None) -> int:
    return cli.main(argv, GcpDr(), now)


if __name__ == "__main__":
    sys.exit(main())
