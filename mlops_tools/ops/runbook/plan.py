"""A run's plan of actions, whatever the cloud: the changes a command would make, printed by `--dry-run`
and carried out in order otherwise.

Why a plan and not calls sprinkled through the procedure: a cloud inspects the real state first and turns
what is not done yet into `Action`s; the same list is what `--dry-run` prints and what a real run executes,
so the dry run cannot drift from the run. Each action re-checks its own state when it runs (a re-run after a
crash skips what already happened), and the destructive ones ask first (`confirm`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from mlops_tools.ops.common import OpsError
from mlops_tools.ops.runbook.steps import Wait, bound_lag, confirm, log


@dataclass(frozen=True)
class Action:
    description: str  # what it changes, in the operator's words ("promote X in R to primary")
    run: Callable[[], None]  # does it, then waits until the cloud reports it done
    question: Optional[str] = None  # asked (type the stack name, or --yes) before a destructive action


def execute(actions: Sequence[Action], *, stack: str, dry_run: bool, assume_yes: bool) -> bool:
    """Print the plan (dry run; returns False) or carry it out in order (returns True)."""
    if dry_run:
        print(f"plan for stack {stack} (dry run, nothing changed):" if actions else
              f"plan for stack {stack} (dry run): nothing to change")
        for number, action in enumerate(actions, 1):
            print(f"  {number}. {action.description}" + ("  [asks first]" if action.question else ""))
        return False
    for action in actions:
        if action.question:
            confirm(action.question, stack, assume_yes)
        log.info("step: %s", action.description)
        action.run()
        log.info("done: %s", action.description)
    return True


@dataclass
class Run:
    """One failover or failback run, whatever the cloud: the cloud's calls, the engine's waiting, the operator's
    options, the start time the RTO is measured from, and the guard every promotion passes (`bounded_lag`)."""

    calls: Any
    wait: Wait
    assume_yes: bool
    accept_data_loss: bool = False
    max_switch_lag_seconds: float = 60.0
    dry_run: bool = False
    started: Optional[float] = field(default=None)

    def __post_init__(self) -> None:
        self.started = self.wait.clock() if self.started is None else self.started

    def elapsed(self) -> float:
        return self.wait.clock() - (self.started or 0.0)

    def carry_out(self, actions: Sequence[Action], stack: str) -> bool:
        return execute(actions, stack=stack, dry_run=self.dry_run, assume_yes=self.assume_yes)

    def bounded_lag(self, name: str, lag: Optional[float], limit: float, purpose: str) -> Optional[float]:
        """Promote only a replica whose data loss is known and within `limit`, unless --accept-data-loss."""
        return bound_lag(name, lag, limit, purpose, self.accept_data_loss)

    def refuse_while_behind(self, name: str, lag: Optional[float]) -> None:
        """Failback switches only to a replica caught up within --max-switch-lag-seconds; then writes must stop."""
        if lag is None or lag < 0 or lag > self.max_switch_lag_seconds:
            raise OpsError(f"{name} is still behind (lag {'unknown' if lag is None else f'{lag:g} s'}, the switch "
                           f"needs <= {self.max_switch_lag_seconds:g} s): refusing to fail back; re-run later")
        print("manual step before the switch: stop writes to the tracking server "
              "(`kubectl -n mlops scale deployment/mlflow --replicas=0`)", file=sys.stderr)
