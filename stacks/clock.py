"""Today's date for the program, injectable so previews and plans stay reproducible.

Anything dated in the program (a budget that must start in the current month, a version whose
support window ends) reads ``today()``. Under ``pulumi up`` that is the UTC date of the run. The
offline preview's ``--today YYYY-MM-DD`` (and anyone reproducing a plan) sets ``MLOPS_TODAY``, so
the same code, config and date give the same plan bytes whatever the wall clock says.
"""
from __future__ import annotations

import datetime as dt
import os

TODAY_ENV = "MLOPS_TODAY"


class ClockError(ValueError):
    """``MLOPS_TODAY`` is set but is not a date."""


def today() -> dt.date:
    """``MLOPS_TODAY`` when set (YYYY-MM-DD), else the current UTC date."""
    value = os.environ.get(TODAY_ENV, "").strip()
    if not value:
        return dt.datetime.now(dt.timezone.utc).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ClockError(f"environment variable {TODAY_ENV}={value!r} is not a date (YYYY-MM-DD)") from None


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)
