"""A run's plan of actions, whatever the cloud: the changes a command would make, printed by `--dry-run`
and carried out in order otherwise.

Why a plan and not calls sprinkled through the procedure: a cloud inspects the real state first and turns
what is not done yet into `Action`s; the same list is what `--dry-run` prints and what a real run executes,
so the dry run cannot drift from the run. Each action re-checks its own state when it runs (a re-run after a
crash skips what already happened), and the destructive ones ask first (`confirm`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from mlops_tools.ops.runbook.steps import confirm, log


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
