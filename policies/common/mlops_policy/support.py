"""Support windows: is a pinned engine or cluster version still creatable today?

Standard library only, so the stack program (stacks/versions.py) can load this file by path
without installing the policy library, and the packs import it as ``mlops_policy.support``:
one table (``support_windows.json``), one reading of it.
"""
from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Optional

TABLE = Path(__file__).with_name("support_windows.json")


@lru_cache(maxsize=1)
def table() -> dict:
    return json.loads(TABLE.read_text())


def creatable(product: str) -> dict:
    """version -> row for one product (e.g. "aws-postgres")."""
    return table()["products"][product]["versions"]


def allowed_on(product: str, today: dt.date) -> list:
    """The versions of ``product`` that can still be created on ``today``, oldest first."""
    rows = creatable(product)
    ok = [v for v, row in rows.items() if row["creationEnd"] is None or dt.date.fromisoformat(row["creationEnd"]) > today]
    return sorted(ok, key=lambda v: tuple(int(p) for p in v.split(".")))


def support_problem(product: str, version: str, today: dt.date) -> Optional[str]:
    """Why ``version`` cannot be created on ``today`` (None when it can)."""
    rows = creatable(product)
    row = rows.get(version)
    allowed = ", ".join(allowed_on(product, today))
    if row is None:
        return (f"is not in the support-window table for {product} (mlops_policy/support_windows.json, checked "
                f"{table()['checkedOn']}); use one of: {allowed}, or add the version with its creation end date and source")
    end = row["creationEnd"]
    if end is not None and dt.date.fromisoformat(end) <= today:
        return f"can no longer be created since {end} ({row['source']}); use one of: {allowed}"
    return None


AS_OF_SCHEMA = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$",
                "description": "Judge support windows as of this date (YYYY-MM-DD) instead of today (UTC)."}


def as_of(config) -> dt.date:
    value = (config or {}).get("asOf")
    return dt.date.fromisoformat(value) if value else dt.datetime.now(dt.timezone.utc).date()


def version_findings(product: str, field: str, value, config, normalize=lambda v: v):
    """Findings (plain strings, or ("unknown", field)) for one pinned version of a resource."""
    if value is None or value == "":
        return []  # unpinned: the cloud creates its current default, which is never past its window
    if not isinstance(value, str):
        return [("unknown", field)]
    problem = support_problem(product, normalize(value), as_of(config))
    return [f"{field} {value!r} {problem}"] if problem else []
