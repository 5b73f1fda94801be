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
