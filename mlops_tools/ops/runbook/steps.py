"""The runbook's safety steps, whatever the cloud: waiting for slow transitions, asking before destructive
steps, and the RPO/RTO verdict printed at the end of a failover.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

from mlops_tools.ops.common import OpsError, configure_logging

log = configure_logging("mlops.dr")


@dataclass
class Wait:
    """Polling for slow cloud transitions (a database promotion or rename takes minutes)."""

    poll_seconds: float
    timeout_seconds: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def until(self, description: str, done: Callable[[], bool], on_timeout: Union[str, Callable[[], str]]) -> None:
        """Poll `done` until it is true; past the timeout raise OpsError(on_timeout), which may be a callable
        so the message can say what the last poll saw."""
        deadline = self.clock() + self.timeout_seconds
        while True:
            if done():
                return
            if self.clock() >= deadline:
                raise OpsError(on_timeout() if callable(on_timeout) else on_timeout)
            log.info("waiting: %s", description)
            self.sleep(self.poll_seconds)


def confirm(question: str, expected: str, assume_yes: bool) -> None:
    """Destructive steps need the operator to type the stack name, or --yes in automation."""
    if assume_yes:
        log.info("confirmed by --yes: %s", question)
        return
    if not sys.stdin or not sys.stdin.isatty():
        raise OpsError(f"refusing to {question} without confirmation: re-run with --yes (ARGS=--yes)")
    sys.stderr.write(f"{question}? Type the stack name '{expected}' to continue: ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip()
    if answer != expected:
        raise OpsError(f"not confirmed (got {answer!r}); nothing was changed by this step")


# --------------------------------------------------------------------------- failover


def print_objectives(target: Any, measured_rpo: str, elapsed: float) -> None:
    """The two numbers a DR drill is judged by: data lost (RPO) and time to recover (RTO), against the targets."""
    print(f"  measured RPO (replica lag at promotion): {measured_rpo}; target {target.rpo_seconds} s")
    rto_verdict = "met" if elapsed <= target.rto_seconds else "MISSED"
    print(f"  elapsed: {elapsed:.1f} s; RTO target {target.rto_seconds} s: {rto_verdict}")


def bound_lag(name: str, lag: Optional[float], limit: float, purpose: str, accept_data_loss: bool,
              metric: str = "replication-lag") -> Optional[float]:
    """Promote only a replica whose data loss is known and within `limit` (the RPO, or the switch-back limit),
    unless the operator accepts the loss (--accept-data-loss); `metric` is the cloud's name for the lag."""
    log.info("%s of %s: %s", metric, name, "no data" if lag is None else f"{lag:g} s")
    problem = None
    if lag is None:
        problem = f"no {metric} datapoint for {name} in the last 10 minutes: data loss cannot be bounded"
    elif lag < 0:
        problem = f"{name} reports {metric} {lag:g}: replication is stopped"
    elif lag > limit:
        problem = f"replica {name} lags {lag:g} s, beyond the {purpose} of {limit:g} s"
    if problem:
        if not accept_data_loss:
            raise OpsError(f"{problem}; re-run with --accept-data-loss to promote anyway")
        log.warning("proceeding despite: %s (--accept-data-loss)", problem)
    return lag
