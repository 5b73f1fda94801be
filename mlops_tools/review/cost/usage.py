"""Usage the plan cannot know, stated once and quoted in every charge that rests on it (docs/cost.md lists them).

Held data (objects, images, logs) is counted in every scenario: it stays billed while the platform idles.
Traffic (NAT bytes, online-store requests) is 0 when idle and the stated volume otherwise.
"""

from __future__ import annotations

from mlops_tools.review.cost.model import scenarios

OBJECT_STORAGE_GB = 100          # per bucket / storage account: artifacts, Feast registry and offline store
IMAGES_GB = 20                   # per container repository
LOG_INGEST_GB = 5                # per log group / workspace / cluster log stream, each month
NAT_GB = 100                     # through each NAT gateway, each month
ONLINE_STORE_GB = 1              # features held in the online store
ONLINE_REQUESTS_MILLION = 1      # reads and writes each, each month

HELD = "{:g} GB held (assumption: docs/cost.md)"


def held(gb: float) -> dict[str, float]:
    return scenarios(gb, gb, gb)


def traffic(amount: float) -> dict[str, float]:
    return scenarios(0, amount, amount)
