"""`make prices`: refresh the committed price snapshot from the clouds' price APIs.

    python -m mlops_tools prices [--plans build/plan] [--cloud aws|azure|gcp ...] [--date YYYY-MM-DD]

Which prices: every key the plans in --plans need (the stacks' regions, instance types, SKUs), plus the keys
already in the snapshot, plus the on-demand twin of every spot key and every Karpenter candidate type (to show
the spot saving and pick the cheapest). Each fetched price replaces the seeded one with the API's answer, its
source and today's date; a key the API cannot answer keeps its previous entry and is reported. Exit 1 when a
needed key is still unpriced, 2 when no plan can be read or a whole cloud's API is unreachable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any, Callable, Optional

from mlops_tools.engine.plan import read_plan
from mlops_tools.review.cost.estimate import price_keys
from mlops_tools.review.cost.snapshot import CLOUDS, SNAPSHOT_DIR, load_snapshot, read_snapshot_file, write_snapshot_file

ROOT = Path(__file__).resolve().parents[3]


def wanted_keys(plans: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Per cloud, the snapshot keys the plans need (priced or not) and their companions."""
    keys: dict[str, set[str]] = {cloud: set() for cloud in CLOUDS}
    for cloud, key in price_keys(plans, load_snapshot()):
        keys.setdefault(cloud, set()).add(key)
    for plan in plans:
        for pool in (r for r in plan.get("resources", []) if r["type"] == "kubernetes:karpenter.sh/v1:NodePool"):
            from mlops_tools.review.cost import aws
            from mlops_tools.review.cost.estimate import Context

            region = aws.default_region(Context(plan, load_snapshot()))
            requirements = pool["inputs"].get("spec", {}).get("template", {}).get("spec", {}).get("requirements", [])
            for requirement in requirements:
                if requirement.get("key") == "node.kubernetes.io/instance-type":
                    for instance_type in requirement.get("values", []):
                        keys["aws"] |= {aws.instance_key(region, instance_type, c) for c in ("spot", "on-demand")}
    for cloud in keys:
        keys[cloud] |= {k[: -len("/spot")] + "/on-demand" for k in keys[cloud] if k.endswith("/spot")}
    return keys


def client_for(cloud: str) -> Any:
    if cloud == "aws":
        from mlops_tools.review.cost.api.aws import AwsPrices
        return AwsPrices()
    if cloud == "azure":
        from mlops_tools.review.cost.api.azure import AzurePrices
        return AzurePrices()
    from mlops_tools.review.cost.api.gcp import GcpPrices
    return GcpPrices()


def refresh(keys: dict[str, set[str]], snapshot_dir: Path = SNAPSHOT_DIR, today: Optional[dt.date] = None,
            clients: Optional[Callable[[str], Any]] = None, out: Any = sys.stdout) -> tuple[int, int]:
    """Fetch every key; write each cloud's file. Returns (prices fetched, keys still unpriced)."""
    today = today or dt.date.today()
    fetched = missing = 0
    for cloud in sorted(keys):
        if not keys[cloud]:
            continue
        path = snapshot_dir / f"{cloud}.json"
        data = read_snapshot_file(path)
        prices = dict(data.get("prices", {}))
        client = (clients or client_for)(cloud)
        got = 0
        for key in sorted(keys[cloud] | set(prices)):
            try:
                prices[key] = client.fetch(key)
                got += 1
            except LookupError as error:
                state = "kept the previous price" if key in prices else "still unpriced"
                missing += key not in prices
                print(f"{cloud}: {error} ({state})", file=out)
            except Exception as error:  # noqa: BLE001 - network/auth failures: one line, the cloud is skipped
                raise RuntimeError(f"{cloud} price API unreachable ({type(error).__name__}: {error}); snapshot not changed") from None
        fetched += got
        data.update({"cloud": cloud, "currency": "USD", "prices": prices})
        if got:
            data.update({"date": today.isoformat(), "method": f"{cloud} price API answers of {today.isoformat()}; "
                                                              "entries whose source is not the API were kept from the previous snapshot"})
        write_snapshot_file(path, data)
        print(f"{cloud}: {got} price(s) fetched, {len(prices)} in {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", file=out)
    return fetched, missing


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_tools prices", description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", default=str(ROOT / "build" / "plan"), help="directory of plan files (make preview-all writes them)")
    parser.add_argument("--cloud", action="append", choices=list(CLOUDS), help="only these clouds (repeatable)")
    args = parser.parse_args(argv)
    files = sorted(Path(args.plans).glob("*.json"))
    if not files:
        print(f"error: no plan files in {args.plans}; run `make preview-all` first", file=sys.stderr)
        return 2
    try:
        plans = [read_plan(f) for f in files]
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    keys = wanted_keys(plans)
    keys = {cloud: found for cloud, found in keys.items() if not args.cloud or cloud in args.cloud}
    try:
        _, missing = refresh(keys)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
