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


def nat_charges(hour_key: str, gb_key: str) -> list:
    """A NAT gateway on any cloud: the gateway-hours and the data it processes (traffic assumption)."""
    from mlops_tools.review.cost.model import hourly, monthly

    return [hourly("NAT gateway", hour_key, 1, "one gateway, 730 h"),
            monthly("data processed", gb_key, traffic(NAT_GB), f"{NAT_GB} GB a month when busy, 0 idle (assumption: docs/cost.md)")]


def held_storage(what: str, key: str, gb: float, note: str = ""):
    """Data held in a bucket, account or registry: the same GB in every scenario (assumption: docs/cost.md)."""
    from mlops_tools.review.cost.model import monthly

    return monthly(what, key, held(gb), HELD.format(gb) + note)


def pool_notes(nodes: dict, instance_type: str, spot: bool, on_demand: "float | None", spot_price: "float | None") -> dict:
    """What a reviewer reads about a node pool: sizes, the busy node-hour, spot vs on-demand and the saving."""
    notes: dict = {"nodes": nodes, "instanceType": instance_type}
    busy = spot_price if spot else on_demand
    if busy is not None:
        notes["busyNodeHourUsd"] = busy
    if spot:
        notes["spot"] = {"onDemandHourlyUsd": on_demand, "spotHourlyUsd": spot_price,
                         "savingPercent": round(100 * (1 - spot_price / on_demand), 1) if on_demand and spot_price else None}
    return notes
