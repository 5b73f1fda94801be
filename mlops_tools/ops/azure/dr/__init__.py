"""Disaster-recovery runbook for Azure stacks: status, failover, failback (the same commands as AWS).

    python -m mlops_tools.ops.azure.dr status   --stack azure-prod [--outputs-file F] [--json]
    python -m mlops_tools.ops.azure.dr failover --stack azure-prod [--dry-run] [--yes] [--accept-data-loss]
    python -m mlops_tools.ops.azure.dr failback --stack azure-prod [--dry-run] [--yes]

What the stack builds (components/dr/azure.py): a cross-region flexible-server replica behind the writer
virtual endpoint MLflow uses, object replication into DR storage accounts, ACR geo-replication, and a
Managed Redis active geo-replication group. This package holds only Azure's calls (`target`, `calls`,
`status`, `failover`); the frame is the cloud-neutral engine in `mlops_tools.ops.runbook`.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any, Callable, Optional, Sequence

from azure.core.exceptions import AzureError

from mlops_tools.ops.azure.dr.calls import AzureCalls
from mlops_tools.ops.azure.dr.errors import describe_failure
from mlops_tools.ops.azure.dr.failover import AzureRunbook
from mlops_tools.ops.azure.dr.status import collect_status
from mlops_tools.ops.azure.dr.target import AzureTarget, parse_target
from mlops_tools.ops.common import run_main
from mlops_tools.ops.runbook import Check, Wait, cli


class AzureDr:
    """The Azure `CloudRunbook`. `transport` replaces the SDK's HTTP transport (the tests' fake sleep)."""

    prog = "python -m mlops_tools.ops.azure.dr"
    description = "DR runbook for Azure stacks."
    endpoint_help = "Azure Resource Manager endpoint (default: the public cloud's; a local server in tests)"
    supports_dry_run = True

    def __init__(self, transport: Any = None):
        self.transport = transport

    def parse_target(self, outputs: dict[str, Any], stack: str, where: str) -> AzureTarget:
        return parse_target(outputs, stack, where)

    def connect(self, target: AzureTarget, endpoint_url: Optional[str], now: Callable[[], dt.datetime]) -> AzureCalls:
        return AzureCalls(target, endpoint_url, now, self.transport)

    def checks(self, calls: AzureCalls) -> list[Check]:
        return collect_status(calls)

    def failover(self, calls: AzureCalls, wait: Wait, *, assume_yes: bool, accept_data_loss: bool,
                 dry_run: bool = False) -> int:
        return AzureRunbook(calls, wait, assume_yes, accept_data_loss=accept_data_loss, dry_run=dry_run).failover()

    def failback(self, calls: AzureCalls, wait: Wait, *, assume_yes: bool, max_switch_lag_seconds: float,
                 dry_run: bool = False) -> int:
        return AzureRunbook(calls, wait, assume_yes, max_switch_lag_seconds=max_switch_lag_seconds,
                            dry_run=dry_run).failback()

    def run_main(self, logger: logging.Logger, body: Callable[[], int]) -> int:
        return run_main(logger, body, (AzureError,), describe_failure)


def main(argv: Optional[Sequence[str]] = None, now: Callable[[], dt.datetime] | None = None) -> int:
    return cli.main(argv, AzureDr(), now)


if __name__ == "__main__":
    sys.exit(main())
