"""How users see the estimate: preview lines, the full table (`make cost`), and the PR comment's cost delta."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Optional

from mlops_tools.review.cost.model import SCENARIOS


def usd(value: Optional[float], signed: bool = False) -> str:
    if value is None:
        return "n/a"
    text = f"${abs(value):,.2f}"
    if signed:
        return ("+" if value > 0 else "-" if value < 0 else "±") + text
    return ("-" if value < 0 else "") + text


def rate(value: float) -> str:
    """A unit price with the precision the cloud quotes it in ($0.0832/hour, not $0.08)."""
    return f"${value:,.6f}".rstrip("0").rstrip(".") if value < 1 else f"${value:,.4f}".rstrip("0").rstrip(".")


def _snapshot(section: dict[str, Any]) -> str:
    return ", ".join(f"{cloud} {date}" for cloud, date in sorted(section.get("snapshot", {}).items())) or "no snapshot"


def _lower_bound(section: dict[str, Any]) -> str:
    charges = section.get("charges", {})
    if not charges.get("unpriced"):
        return ""
    return (f" (a lower bound: {charges['unpriced']} of {charges['unpriced'] + charges['priced']} charges "
            "have no price in the snapshot)")


def budget_warning(section: dict[str, Any], stack: str) -> Optional[str]:
    budget = section.get("budget")
    if budget and budget.get("idleOverBudget"):
        return (f"stack {stack}: idle estimate {usd(section['monthlyUsd']['idle'])}/month exceeds "
                f"mlops:monitoring.monthlyBudgetUsd {usd(budget['monthlyBudgetUsd'])}")
    return None


def _not_priced(section: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in section["items"] if i["status"] != "priced"]


def render_summary(section: dict[str, Any], stack: str = "", top: int = 5) -> str:
    """The preview's lines: the total per scenario, the largest components, what is not priced, the budget."""
    total = section["monthlyUsd"]
    lines = [f"Monthly cost estimate (USD list prices; snapshot {_snapshot(section)}): idle {usd(total['idle'])}, "
             f"expected {usd(total['expected'])}, max {usd(total['max'])}{_lower_bound(section)}"]
    lines.append(f"Top components (idle / max of {len(section['components'])}):")
    shown = section["components"][:top]
    width = max((len(c["component"]) for c in shown), default=0)
    lines += [f"  {c['component']:<{width}}  {usd(c['monthlyUsd']['idle']):>11} / {usd(c['monthlyUsd']['max'])}" for c in shown]
    missing = _not_priced(section)
    if missing:
        lines.append(f"Not fully priced: {len(missing)} resource(s), e.g. {missing[0]['name']} ({missing[0]['type']}); "
                     f"`make cost STACK={stack or '<stack>'}` lists them with the reason")
    warning = budget_warning(section, stack)
    if warning:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def _rows(section: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per charge (or per resource when it has none), the shape of the CSV and the text table."""
    rows = []
    for item in section["items"]:
        base = {"resource": item["name"], "type": item["type"], "component": item["component"], "status": item["status"]}
        for charge in item.get("charges", []):
            rows.append({**base, "charge": charge["what"], "unitPriceUsd": charge.get("unitPriceUsd", ""),
                         "unit": charge.get("unit", ""), **{f"quantity_{s}": charge["quantity"][s] for s in SCENARIOS},
                         **{f"monthlyUsd_{s}": charge.get("monthlyUsd", {}).get(s, "") for s in SCENARIOS},
                         "assumption": charge["assumption"], "source": charge.get("source", ""),
                         "unpriced": charge.get("unpriced", "")})
        if not item.get("charges"):
            rows.append({**base, "charge": "", "unpriced": item.get("reason", "")})
    for free in section.get("free", []):
        rows.append({"resource": f"({free['count']} resources)", "type": free["type"], "component": "", "status": "free",
                     "charge": "", "assumption": free["reason"]})
    return rows


CSV_FIELDS = ["resource", "type", "component", "status", "charge", "unitPriceUsd", "unit",
              *[f"quantity_{s}" for s in SCENARIOS], *[f"monthlyUsd_{s}" for s in SCENARIOS], "assumption", "source", "unpriced"]


def render_table(section: dict[str, Any], fmt: str = "text", stack: str = "") -> str:
    if fmt == "json":
        return json.dumps(section, indent=2, sort_keys=True) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in _rows(section):
            writer.writerow({k: row.get(k, "") for k in CSV_FIELDS})
        return out.getvalue()
    lines = [render_summary(section, stack, top=len(section["components"])), ""]
    for item in sorted(section["items"], key=lambda i: (-i["monthlyUsd"]["idle"], -i["monthlyUsd"]["max"], i["urn"])):
        spend = item["monthlyUsd"]
        lines.append(f"{item['name']}  [{item['type']}]  {item['status']}  idle {usd(spend['idle'])}  "
                     f"expected {usd(spend['expected'])}  max {usd(spend['max'])}")
        for charge in item.get("charges", []):
            if "unpriced" in charge:
                lines.append(f"    - {charge['what']}: UNPRICED: {charge['unpriced']}")
                continue
            qty = charge["quantity"]
            lines.append(f"    - {charge['what']}: {rate(charge['unitPriceUsd'])}/{charge['unit']} x "
                         f"{qty['idle']:g} / {qty['expected']:g} / {qty['max']:g} = {usd(charge['monthlyUsd']['idle'])} / "
                         f"{usd(charge['monthlyUsd']['expected'])} / {usd(charge['monthlyUsd']['max'])}  ({charge['assumption']}; "
                         f"{charge['source']}, {charge['priceDate']})")
        if not item.get("charges"):
            lines.append(f"    - UNPRICED: {item.get('reason')}")
        if item.get("spot"):
            spot = item["spot"]
            shown = [f"{rate(spot[k])}/h" if spot[k] is not None else "(price not in the snapshot)"
                     for k in ("spotHourlyUsd", "onDemandHourlyUsd")]
            lines.append(f"    spot {shown[0]} vs on-demand {shown[1]}"
                         + (f": {spot['savingPercent']:g}% saving" if spot.get("savingPercent") is not None else ""))
        if "busyNodeHourUsd" in item and item.get("nodes", {}).get("idle") == 0:
            lines.append(f"    scales to zero: idle {usd(0)}; {rate(item['busyNodeHourUsd'])} per node-hour when busy")
    lines.append("")
    lines.append("Free (no charge of their own):")
    lines += [f"  {f['type']} x{f['count']}: {f['reason']}" for f in section.get("free", [])]
    return "\n".join(lines) + "\n"


def render_cost_delta(old_plan: dict[str, Any], new_plan: dict[str, Any], budget_usd: Optional[float] = None,
                      snapshot: Any = None) -> str:
    """The PR comment's cost section: monthly delta per scenario and each resource that moves it.

    Both sides are estimated here with the same code and snapshot, so the delta is what the plan change costs,
    not a price refresh. Self-contained (Markdown in, Markdown out) so the diff's layout can change around it.
    """
    from mlops_tools.review.cost.estimate import cost_section

    stack = new_plan.get("stack") or old_plan.get("stack") or ""
    old = cost_section(old_plan, snapshot) if old_plan.get("resources") else None
    new = cost_section(new_plan, snapshot, budget_usd=budget_usd)
    before = {i["urn"]: i for i in (old or {"items": []})["items"]}
    after = {i["urn"]: i for i in new["items"]}
    old_total = (old or {"monthlyUsd": {s: 0.0 for s in SCENARIOS}})["monthlyUsd"]
    delta = {s: round(new["monthlyUsd"][s] - old_total[s], 2) for s in SCENARIOS}
    lines = [f"**Monthly cost** (USD list prices, snapshot {_snapshot(new)}): idle {usd(old_total['idle'])} → "
             f"{usd(new['monthlyUsd']['idle'])} ({usd(delta['idle'], True)}), max {usd(old_total['max'])} → "
             f"{usd(new['monthlyUsd']['max'])} ({usd(delta['max'], True)}){_lower_bound(new)}", ""]
    moved = []
    for urn in sorted(set(before) | set(after)):
        was = before.get(urn, {}).get("monthlyUsd", {s: 0.0 for s in SCENARIOS})
        now = after.get(urn, {}).get("monthlyUsd", {s: 0.0 for s in SCENARIOS})
        change = {s: round(now[s] - was[s], 2) for s in SCENARIOS}
        if any(change.values()):
            item = after.get(urn) or before[urn]
            moved.append((item, was, now, change))
    if moved:
        lines += ["| resource | type | idle | Δ idle | Δ expected | Δ max |", "| --- | --- | --- | --- | --- | --- |"]
        moved.sort(key=lambda m: (-abs(m[3]["idle"]), -abs(m[3]["max"]), m[0]["urn"]))
        lines += [f"| `{item['name']}` | `{item['type']}` | {usd(was['idle'])} → {usd(now['idle'])} | {usd(change['idle'], True)} | "
                  f"{usd(change['expected'], True)} | {usd(change['max'], True)} |" for item, was, now, change in moved]
    else:
        lines.append("No resource changes the estimate.")
    newly_unpriced = [i for urn, i in after.items() if i["status"] != "priced" and before.get(urn, {}).get("status") != i["status"]]
    if newly_unpriced:
        lines.append("")
        lines.append("Not fully priced: " + ", ".join(f"`{i['name']}`" for i in newly_unpriced[:10]) + " (see `make cost`)")
    warning = budget_warning(new, stack)
    if warning:
        lines += ["", f":warning: {warning}"]
    return "\n".join(lines) + "\n"
