"""The committed price snapshot: one JSON file per cloud under snapshot/, every price with its source and date.

The preview reads only this (offline, deterministic); `make prices` rewrites it from the clouds' price APIs.
A key is `<region>/<service>/<item>`, e.g. `us-east-1/ec2/t3.large/on-demand`. A missing key is not an error:
the estimate lists that charge as unpriced and names the key, so `make prices` knows what to fetch.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from mlops_tools.review.cost.model import Price

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshot"
CLOUDS = ("aws", "azure", "gcp")
REQUIRED = ("usd", "unit", "source", "date")


class SnapshotError(Exception):
    """A snapshot file that cannot be read; the message names the file, the key and what is wrong."""


class Snapshot:
    def __init__(self, clouds: dict[str, dict[str, Any]]):
        self._clouds = clouds

    def price(self, cloud: str, key: str) -> Optional[Price]:
        entry = self._clouds.get(cloud, {}).get("prices", {}).get(key)
        if entry is None:
            return None
        return Price(key, float(entry["usd"]), entry["unit"], entry["source"], entry["date"], entry.get("attributes", {}))

    def date(self, cloud: str) -> Optional[str]:
        return self._clouds.get(cloud, {}).get("date")

    def keys(self, cloud: str) -> list[str]:
        return sorted(self._clouds.get(cloud, {}).get("prices", {}))


def read_snapshot_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"prices": {}}
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("prices"), dict):
        raise SnapshotError(f"{path}: expected an object with a 'prices' object")
    for key, entry in data["prices"].items():
        missing = [f for f in REQUIRED if not isinstance(entry, dict) or f not in entry]
        if missing:
            raise SnapshotError(f"{path}: price {key!r} lacks {', '.join(missing)} (every price needs usd, unit, source, date)")
        if not isinstance(entry["usd"], (int, float)) or entry["usd"] < 0:
            raise SnapshotError(f"{path}: price {key!r} has usd={entry['usd']!r}; allowed: a number >= 0")
    return data


def load_snapshot(directory: Path = SNAPSHOT_DIR) -> Snapshot:
    return _load(str(directory))


@lru_cache(maxsize=4)
def _load(directory: str) -> Snapshot:
    return Snapshot({cloud: read_snapshot_file(Path(directory) / f"{cloud}.json") for cloud in CLOUDS})


def write_snapshot_file(path: Path, data: dict[str, Any]) -> None:
    """Sorted keys and a trailing newline: a refresh that changes nothing changes no byte."""
    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    _load.cache_clear()
