"""The cloud-neutral DR runbook engine: what every cloud's `status` / `failover` / `failback` shares.

The engine owns the procedure's frame: reading the stack outputs (`outputs`), the safety steps —
waiting with a timeout, confirmation before destructive steps, the RPO/RTO verdict (`steps`) —, the status
report with its OK / AT RISK / FAIL checks and overall verdict (`status`), and the command line (`cli`).
Every cloud step must be idempotent: each command inspects the real state first and acts only on what
is not done yet, so a re-run after an interruption continues and a re-run after success changes nothing.

The seam: a cloud supplies only its calls, as one `CloudRunbook` object (`ops/aws/dr`, `ops/azure/dr`,
`ops/gcp/dr`), and calls `cli.main(argv, TheirCloud(), now)`. A cloud that turns the state it finds into a
plan of `Action`s (`plan`) gets `--dry-run` for free (`supports_dry_run = True`; all three do).
`dispatch` picks the cloud from the stack file's `mlops:cloud`, so `make dr-status STACK=<any stack>` works.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable, Protocol

from mlops_tools.ops.runbook.plan import Action, Run, execute
from mlops_tools.ops.runbook.status import AT_RISK, FAIL, OK, WARN, Check, guarded, lag_check, overall, report
from mlops_tools.ops.runbook.steps import Wait, confirm, log, print_objectives

__all__ = ["AT_RISK", "FAIL", "OK", "WARN", "Action", "Check", "Run", "execute", "CloudRunbook", "Wait", "confirm", "guarded", "lag_check", "log", "overall",
           "print_objectives", "report"]


class CloudRunbook(Protocol):
    """What one cloud supplies to the engine. `target` has at least stack, region, dr_region, rpo_minutes,
    rto_minutes, rpo_seconds and rto_seconds; `calls` is whatever object the cloud's steps use."""

    prog: str  # e.g. "python -m mlops_tools.ops.aws.dr"
    description: str
    endpoint_help: str  # what --endpoint-url means for this cloud

    def parse_target(self, outputs: dict[str, Any], stack: str, where: str) -> Any:
        """Validate the stack outputs once; raise UsageError naming `where` and the key."""

    def connect(self, target: Any, endpoint_url: str | None, now: Callable[[], dt.datetime]) -> Any:
        """The cloud's calls for this target (clients pointed at `endpoint_url` when given)."""

    def checks(self, calls: Any) -> list[Check]:
        """Replication health, one Check per store; a failing service becomes a FAIL check (see `guarded`)."""

    def failover(self, calls: Any, wait: Wait, *, assume_yes: bool, accept_data_loss: bool, **options: Any) -> int:
        """Promote the DR copies and switch the application; idempotent; prints `print_objectives` at the end.
        `options` may hold `dry_run=True` (only passed to a cloud with `supports_dry_run`)."""

    def failback(self, calls: Any, wait: Wait, *, assume_yes: bool, max_switch_lag_seconds: float,
                 **options: Any) -> int:
        """Return to the primary region after re-sync; refuses while replication is behind; idempotent."""

    def run_main(self, logger: logging.Logger, body: Callable[[], int]) -> int:
        """`ops.common.run_main` with this cloud's SDK errors."""
