"""Disaster-recovery runbook as code for the AWS prod stack: status, failover, failback.

The stack replicates every data store to a second region (RDS cross-region read replica,
S3 replication, DynamoDB global table replica, ECR registry replication). This module is
the tested procedure around those replicas:

    python -m mlops_tools.ops.aws.dr status   --stack prod [--outputs-file F] [--endpoint-url U] [--json]
    python -m mlops_tools.ops.aws.dr failover --stack prod [--outputs-file F] [--endpoint-url U] [--yes]
    python -m mlops_tools.ops.aws.dr failback --stack prod [--outputs-file F] [--endpoint-url U] [--yes]

Why it is shaped like this:
- Failover calls only the DR region (RDS, CloudWatch) and Route 53: during a regional outage
  the primary region's APIs may not answer, and the procedure must not depend on them.
- Every command inspects the real state first and acts only on what is not done yet, so a
  re-run after an interruption continues, and a re-run after success changes nothing.
- The tracking server reaches its database through a Route 53 private CNAME (stack output
  `trackingDbEndpointRecord`); repointing that record is the whole application switch.

This package holds only AWS's part (`target`, `calls`, `status`, `steps`, `failover`, `failback`); the
frame — outputs, confirmation, waiting, status report, RPO/RTO verdicts, command line — is the
cloud-neutral engine in `mlops_tools.ops.runbook`, which `AwsDr` below plugs into.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any, Callable, Optional, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from mlops_tools.ops.aws.clients import Clients, describe_failure
from mlops_tools.ops.aws.dr.calls import Aws, endpoint_address, replication_source, same_instance, tags_of
from mlops_tools.ops.aws.dr.failback import Failback
from mlops_tools.ops.aws.dr.failover import Failover
from mlops_tools.ops.aws.dr.status import collect_status
from mlops_tools.ops.aws.dr.target import (
    LAG_WINDOW,
    RECORD_TTL_SECONDS,
    REPLICATION_METRIC_WINDOW,
    RETIRED_SUFFIX,
    TAG_LAG_AT_PROMOTION,
    TAG_PROMOTED_AT,
    DrTarget,
    arn_region,
    parse_target,
)
from mlops_tools.ops.common import OpsError, UsageError, run_main
from mlops_tools.ops.runbook import FAIL, OK, WARN, Check, Wait, cli, confirm, log
from mlops_tools.ops.runbook.outputs import read_stack_outputs

__all__ = ["FAIL", "LAG_WINDOW", "OK", "RECORD_TTL_SECONDS", "REPLICATION_METRIC_WINDOW", "RETIRED_SUFFIX",
           "TAG_LAG_AT_PROMOTION", "TAG_PROMOTED_AT", "WARN", "Aws", "AwsDr", "Check", "DrTarget", "OpsError",
           "Runbook", "UsageError", "Wait", "arn_region", "build_parser", "collect_status", "confirm",
           "endpoint_address", "log", "main", "parse_target", "read_stack_outputs", "replication_source",
           "same_instance", "tags_of"]


class Runbook(Failover, Failback):
    """One run of the AWS procedure: the shared RDS steps plus `failover()` and `failback()`."""


class AwsDr:
    """The AWS `CloudRunbook`: what the cloud-neutral engine needs from AWS, and nothing else."""

    prog = "python -m mlops_tools.ops.aws.dr"
    description = "DR runbook for the AWS stack."
    endpoint_help = "AWS-compatible endpoint (e.g. a local emulator)"
    supports_dry_run = True

    def parse_target(self, outputs: dict[str, Any], stack: str, where: str) -> DrTarget:
        return parse_target(outputs, stack, where)

    def connect(self, target: DrTarget, endpoint_url: Optional[str], now: Callable[[], dt.datetime]) -> Aws:
        return Aws(target, Clients(endpoint_url), now)

    def checks(self, calls: Aws) -> list[Check]:
        return collect_status(calls)

    def failover(self, calls: Aws, wait: Wait, *, assume_yes: bool, accept_data_loss: bool,
                 dry_run: bool = False) -> int:
        return Runbook(calls, wait, assume_yes=assume_yes, accept_data_loss=accept_data_loss,
                       dry_run=dry_run).failover()

    def failback(self, calls: Aws, wait: Wait, *, assume_yes: bool, max_switch_lag_seconds: float,
                 dry_run: bool = False) -> int:
        return Runbook(calls, wait, assume_yes=assume_yes, max_switch_lag_seconds=max_switch_lag_seconds,
                       dry_run=dry_run).failback()

    def run_main(self, logger: logging.Logger, body: Callable[[], int]) -> int:
        return run_main(logger, body, (ClientError, BotoCoreError), describe_failure)


def build_parser():
    return cli.build_parser(AwsDr.prog, AwsDr.description, AwsDr.endpoint_help)


def main(argv: Optional[Sequence[str]] = None, now: Callable[[], dt.datetime] | None = None) -> int:
    return cli.main(argv, AwsDr(), now)


if __name__ == "__main__":
    sys.exit(main())
