"""Load one of the policy library's standard-library-only modules by path (support windows, GCP API table).

The program does not install the policy library (``policies/common``); these modules hold the tables
both the program and the packs must read the same way, so the program loads them from the file.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from types import ModuleType

POLICY_LIBRARY = Path(__file__).resolve().parents[1] / "policies" / "common" / "mlops_policy"


@lru_cache(maxsize=None)
def policy_data_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"mlops_policy_data_{name}", POLICY_LIBRARY / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
