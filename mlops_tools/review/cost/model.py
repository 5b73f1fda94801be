"""What an estimate is made of: charges (unit price x quantity, with the assumption behind it) per resource.

Three scenarios per charge, so a reviewer sees the range, not one guess:
  idle      what the stack costs with no training running and no traffic (pools at their minimum)
  expected  desired sizes and the stated usage assumptions (storage held, logs ingested, NAT traffic)
  max       every pool at its maximum size, same usage assumptions
Monthly figures use 730 hours (the clouds' own calculators use 730 h a month).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

HOURS_PER_MONTH = 730
SCENARIOS = ("idle", "expected", "max")

PRICED, PARTLY, UNPRICED, FREE = "priced", "partly priced", "unpriced", "free"


def money(value: float) -> float:
    """Cents, rounded the same way everywhere so the plan's bytes are stable."""
    return round(value + 0.0, 2)


@dataclass(frozen=True)
class Price:
    """One price from the snapshot: USD per unit, where it came from and when."""

    key: str
    usd: float
    unit: str
    source: str
    date: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Charge:
    """One billed dimension of a resource: `price` x quantity per scenario, or unpriced with the reason."""

    what: str
    key: str
    quantity: dict[str, float]
    assumption: str
    price: Optional[Price] = None
    reason: str = ""
    cloud: str = ""

    @property
    def priced(self) -> bool:
        return self.price is not None

    def monthly(self, scenario: str) -> float:
        return money(self.price.usd * self.quantity[scenario]) if self.price else 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"what": self.what, "priceKey": self.key, "assumption": self.assumption,
                               "quantity": {s: round(self.quantity[s], 4) for s in SCENARIOS}}
        if self.price:
            out.update({"unitPriceUsd": self.price.usd, "unit": self.price.unit, "source": self.price.source,
                        "priceDate": self.price.date, "monthlyUsd": {s: self.monthly(s) for s in SCENARIOS}})
        else:
            out["unpriced"] = self.reason
        return out


@dataclass
class Item:
    """A resource of the plan and what it costs (or why it costs nothing, or why it could not be priced)."""

    urn: str
    name: str
    type: str
    component: str
    charges: list[Charge] = field(default_factory=list)
    free_reason: str = ""
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if not self.charges:
            return FREE if self.free_reason else UNPRICED
        priced = [c.priced for c in self.charges]
        return PRICED if all(priced) else UNPRICED if not any(priced) else PARTLY

    def monthly(self, scenario: str) -> float:
        return money(sum(c.monthly(scenario) for c in self.charges))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"urn": self.urn, "name": self.name, "type": self.type, "component": self.component,
                               "status": self.status, "monthlyUsd": {s: self.monthly(s) for s in SCENARIOS}}
        if self.charges:
            out["charges"] = [c.to_dict() for c in self.charges]
        else:
            out["reason"] = self.free_reason or "no pricing rule for this resource type"
        out.update(self.notes)
        return out


def hourly(what: str, key: str, count: dict[str, float] | float, assumption: str) -> Charge:
    """A charge billed per hour for `count` units running all month."""
    counts = count if isinstance(count, dict) else {s: count for s in SCENARIOS}
    return Charge(what, key, {s: counts[s] * HOURS_PER_MONTH for s in SCENARIOS}, assumption)


def monthly(what: str, key: str, count: dict[str, float] | float, assumption: str) -> Charge:
    """A charge billed per unit-month (GB-month, key-month, alarm-month...)."""
    counts = count if isinstance(count, dict) else {s: count for s in SCENARIOS}
    return Charge(what, key, {s: float(counts[s]) for s in SCENARIOS}, assumption)


def scenarios(idle: float, expected: float, maximum: float) -> dict[str, float]:
    return {"idle": idle, "expected": expected, "max": maximum}
