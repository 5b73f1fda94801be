"""Policy waivers from `mlops:waivers`: which violations they cover, and which have lapsed.

A waiver names one policy and one resource (its name, or a URN pattern with `*` wildcards), with a
reason, an owner and an expiry date. An expired waiver covers nothing and fails the preview, so
exceptions cannot outlive their review date silently.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
from dataclasses import dataclass, field
from typing import Any, Collection, Iterable, Optional


@dataclass(frozen=True)
class WaiverOutcome:
    active: list[dict[str, Any]]             # violations still standing
    waived: list[dict[str, Any]]             # violations covered, each with its waiver
    expired: list[str] = field(default_factory=list)   # one message per lapsed waiver
    unused: list[str] = field(default_factory=list)    # waivers that matched nothing (stale config)


def _name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else ""


def waiver_matches(waiver: Any, violation: dict[str, Any]) -> bool:
    if waiver.policy != violation["policy"]:
        return False
    urn = violation.get("urn") or ""
    pattern = waiver.resource
    if pattern.startswith("urn:") or "*" in pattern or "?" in pattern:
        return fnmatch.fnmatchcase(urn, pattern)
    return _name_of(urn) == pattern


def apply_waivers(violations: Iterable[dict[str, Any]], waivers: Iterable[Any], today: dt.date,
                  known_policies: Optional[Collection[str]] = None, *, policies_ran: bool = True) -> WaiverOutcome:
    """Split violations into active and waived; report waivers that expired or matched nothing.

    `known_policies`, when given, is every policy name of the packs that ran: a waiver naming none of
    them is reported as such (usually a typo). With `policies_ran` false (`--no-policy`) nothing can
    be said about which waivers are still needed, so no waiver is reported as unused.
    """
    waivers = list(waivers)
    current = [w for w in waivers if w.expires >= today]
    expired = [f"waiver for {w.policy} on {w.resource} (owner {w.owner}) expired on {w.expires.isoformat()}: "
               "renew it with a new review date or fix the resource" for w in waivers if w.expires < today]
    used: set[int] = set()
    active: list[dict[str, Any]] = []
    waived: list[dict[str, Any]] = []
    for violation in violations:
        match = next((i for i, w in enumerate(current) if waiver_matches(w, violation)), None)
        if match is None:
            active.append(violation)
            continue
        used.add(match)
        waiver = current[match]
        waived.append({**violation, "waiver": {"reason": waiver.reason, "owner": waiver.owner,
                                               "expires": waiver.expires.isoformat()}})
    unused: list[str] = []
    for index, waiver in enumerate(current):
        if not policies_ran or index in used:
            continue
        if known_policies is not None and waiver.policy not in known_policies:
            close = difflib.get_close_matches(waiver.policy, sorted(known_policies), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            unused.append(f"waiver for {waiver.policy} on {waiver.resource}: no policy pack has a policy named "
                          f"{waiver.policy}{hint}")
        else:
            unused.append(f"waiver for {waiver.policy} on {waiver.resource} matched no violation: remove it")
    return WaiverOutcome(active, waived, expired, unused)
