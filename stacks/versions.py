"""Pinned versions with a support window, checked against today's date when the config is validated.

The table (product -> version -> the date the cloud stops creating it, with its source) lives in
``policies/common/mlops_policy/support_windows.json`` and is read by ``mlops_policy/support.py``;
the policy packs check the same table in every preview (``*-supported-version`` rules). This module
loads that file by path: the program does not install the policy library.
"""
from __future__ import annotations

import datetime as dt
from types import ModuleType
from typing import Any

from stacks.policy_data import policy_data_module


def support() -> ModuleType:
    return policy_data_module("support")


def today_utc() -> dt.date:
    """The program's today (stacks.clock): MLOPS_TODAY when the preview's --today sets it, else the UTC date."""
    from stacks.clock import today

    return today()


def database_version(cloud: str, engine_version: str) -> str:
    """What the cloud is asked for: RDS takes the version as written; Cloud SQL and Azure take the major."""
    return engine_version if cloud == "aws" else engine_version.split(".")[0]


def version_problems(cfg: Any, today: dt.date) -> list[tuple[tuple[Any, ...], Any, str]]:
    """(key path, value, what is allowed) for each pinned version the cloud no longer creates on `today`."""
    problems = []
    checks = (
        (("tracking", "dbEngineVersion"), cfg.tracking.db_engine_version, f"{cfg.cloud}-postgres",
         database_version(cfg.cloud, cfg.tracking.db_engine_version)),
        (("cluster", "version"), cfg.cluster.version, f"{cfg.cloud}-kubernetes", cfg.cluster.version),
    )
    for loc, value, product, asked in checks:
        problem = support().support_problem(product, asked, today)
        if problem:
            problems.append((loc, value, problem))
    return problems
