"""The runbook's command line, whatever the cloud: `status`, `failover`, `failback` with the same options.

A cloud's runbook module calls `main(argv, cloud, now)` with a `CloudRunbook` (see `ops/runbook/__init__.py`).
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from mlops_tools.cmdline import parse_args
from mlops_tools.ops.common import UsageError
from mlops_tools.ops.runbook.outputs import read_stack_outputs
from mlops_tools.ops.runbook.status import report
from mlops_tools.ops.runbook.steps import Wait, log

if TYPE_CHECKING:
    from mlops_tools.ops.runbook import CloudRunbook


def build_parser(prog: str, description: str, endpoint_help: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("status", "report replication health against the RPO target"),
        ("failover", "promote the DR database replica and repoint the tracking server"),
        ("failback", "return to the primary region, one safe step per run"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--stack", required=True, help="Pulumi stack name, e.g. prod")
        command.add_argument("--outputs-file", help="JSON of `pulumi stack output --json` (default: ask pulumi)")
        command.add_argument("--endpoint-url", help=endpoint_help)
        if name == "status":
            command.add_argument("--json", action="store_true", help="machine-readable report on stdout")
        else:
            command.add_argument("--yes", action="store_true", help="do not ask for confirmation")
            command.add_argument("--dry-run", action="store_true",
                                 help="print the plan of actions for the current state and change nothing")
            command.add_argument("--poll-seconds", type=float, default=15.0, help="seconds between state polls")
            command.add_argument("--timeout-seconds", type=float,
                                 help="give up waiting after this long (default: the stack's RTO)")
        if name == "failover":
            command.add_argument("--accept-data-loss", action="store_true",
                                 help="promote even when the replica lags beyond the RPO or its lag is unknown")
        if name == "failback":
            command.add_argument("--max-switch-lag-seconds", type=float, default=60.0,
                                 help="largest replica lag at which the switch back may start")
    return parser


def main(argv: Optional[Sequence[str]], cloud: CloudRunbook, now: Callable[[], dt.datetime] | None = None) -> int:
    args = parse_args(build_parser(cloud.prog, cloud.description, cloud.endpoint_help), argv)
    if isinstance(args, int):
        return args
    clock = now or (lambda: dt.datetime.now(dt.timezone.utc))

    def body() -> int:
        where = f"outputs file {args.outputs_file}" if args.outputs_file else f"stack {args.stack}"
        target = cloud.parse_target(read_stack_outputs(args.stack, args.outputs_file), args.stack, where)
        calls = cloud.connect(target, args.endpoint_url, clock)
        if args.command == "status":
            log.info("checking replication health of stack %s: %s -> %s", target.stack, target.region, target.dr_region)
            return report(target, cloud.checks(calls), args.json)
        if args.poll_seconds < 0 or (args.timeout_seconds is not None and args.timeout_seconds < 0):
            raise UsageError("--poll-seconds and --timeout-seconds must not be negative")
        wait = Wait(args.poll_seconds, target.rto_seconds if args.timeout_seconds is None else args.timeout_seconds)
        extra = {}
        if args.dry_run:
            if not getattr(cloud, "supports_dry_run", False):
                raise UsageError(f"--dry-run is not available for {cloud.prog} yet")
            extra["dry_run"] = True
        if args.command == "failover":
            return cloud.failover(calls, wait, assume_yes=args.yes, accept_data_loss=args.accept_data_loss, **extra)
        return cloud.failback(calls, wait, assume_yes=args.yes, max_switch_lag_seconds=args.max_switch_lag_seconds,
                              **extra)

    return cloud.run_main(log, body)
