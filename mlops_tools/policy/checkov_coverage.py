"""The Checkov coverage table: which Checkov checks apply to our stacks' resource types, and our answer to each.

    python -m mlops_tools.policy.checkov_coverage            # render the table into docs/policies.md
    python -m mlops_tools.policy.checkov_coverage --check    # exit 1 when docs/policies.md is stale
    build/checkov-venv/bin/python -m mlops_tools.policy.checkov_coverage --refresh
                                                      # with Checkov importable: list checks that apply to
                                                      # our types but have no answer (or answers for gone checks)

The source is policies/checkov/coverage.yaml (one answer per check: rule, covered_by, not_applicable,
waived or no_rule_yet). A ``waived`` answer is a deliberate trade-off: it needs a waiver for that check in
policies/checkov/waivers.yaml (reason, owner, expires; the one place for Checkov waivers), whose owner and
expiry the table shows; an expired or missing waiver is an error.

This module imports only the standard library, PyYAML, the waiver loader of mlops_tools.policy.checkov
(itself standard library and PyYAML) and, for --refresh, Checkov, so it runs in Checkov's own virtualenv
as well as in the project's.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Optional

import yaml

from mlops_tools.policy.checkov import CheckovError, load_waivers

ROOT = Path(__file__).resolve().parents[2]
COVERAGE = ROOT / "policies" / "checkov" / "coverage.yaml"
WAIVERS = ROOT / "policies" / "checkov" / "waivers.yaml"
DOCS = ROOT / "docs" / "policies.md"
START, END = "<!-- checkov-coverage:start -->", "<!-- checkov-coverage:end -->"
ANSWERS = {"rule": "rule", "covered_by": "covered by", "not_applicable": "not applicable, because",
           "waived": "waived", "no_rule_yet": "no rule yet (gap)"}
GROUPS = (("AWS", "AWS"), ("Kubernetes", "K8S"), ("Azure", "AZURE"), ("GCP", "GCP"))


class CoverageError(ValueError):
    pass


def load(path: Path = COVERAGE, waivers_path: Path = WAIVERS, today: Optional[dt.date] = None) -> dict:
    doc = yaml.safe_load(path.read_text())
    waivers = None
    for check, entry in (doc.get("checks") or {}).items():
        answers = [k for k in ANSWERS if entry.get(k)]
        if len(answers) != 1:
            raise CoverageError(f"{path}: checks.{check} needs exactly one of {', '.join(ANSWERS)}; has {answers or 'none'}")
        if answers == ["waived"]:
            waivers = _waivers(waivers_path) if waivers is None else waivers
            entry["_waivers"] = _current_waivers(path, check, waivers, waivers_path, today or dt.date.today())
    return doc


def _waivers(path: Path) -> list:
    try:
        return load_waivers(path)  # the same file and checks as `make checkov`
    except CheckovError as error:
        raise CoverageError(str(error)) from None


def _current_waivers(path: Path, check: str, waivers: list, waivers_path: Path, today: dt.date) -> list:
    """The waivers of ``check``; a ``waived`` answer without one, or with an expired one, is an error."""
    found = [w for w in waivers if w.check == check]
    if not found:
        raise CoverageError(f"{path}: checks.{check} is waived, but {waivers_path} has no waiver with check {check} "
                            "(reason, owner, expires)")
    for waiver in found:
        if waiver.expires < today:
            raise CoverageError(f"{waivers_path}: the waiver for {check} expires {waiver.expires.isoformat()} (before "
                                f"{today.isoformat()}): review the trade-off and renew it, or build the rule")
    return found


def answer(entry: dict) -> tuple:
    key = next(k for k in ANSWERS if entry.get(k))
    return key, entry[key]


def render(doc: dict) -> str:
    checks = doc["checks"]
    counts = {k: sum(1 for e in checks.values() if answer(e)[0] == k) for k in ANSWERS}
    lines = [START, "",
             f"Checkov {doc['checkov']}: {len(checks)} checks apply to the resource types of the six stacks "
             f"({counts['rule']} answered by a rule, {counts['covered_by']} covered otherwise, "
             f"{counts['not_applicable']} not applicable, {counts['waived']} waived as deliberate trade-offs, "
             f"{counts['no_rule_yet']} real controls the components meet but no rule enforces yet). Generated from `policies/checkov/coverage.yaml` by "
             "`python -m mlops_tools.policy.checkov_coverage`; do not edit by hand.", ""]
    for title, marker in GROUPS:
        ids = [c for c in checks if c.split("_")[1] == marker]
        lines += [f"#### Checkov {title} checks ({len(ids)})", "",
                  "| Checkov id | check | applies to | our answer |", "| --- | --- | --- | --- |"]
        for check in ids:
            entry = checks[check]
            key, text = answer(entry)
            shown = f"`{text}`" if key == "rule" else f"{ANSWERS[key]}: {text}"
            if key == "waived":
                shown = "waived in policies/checkov/waivers.yaml (" + "; ".join(
                    f"owner {w.owner}, expires {w.expires.isoformat()}" for w in entry["_waivers"]) + f"): {text}"
            types = ", ".join(entry.get("types") or [])
            lines.append(f"| {check} | {entry['name'].replace('|', '/')} | {types} | {shown.replace('|', '/')} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def updated_docs(doc: dict, text: str) -> str:
    if START not in text or END not in text:
        raise CoverageError(f"{DOCS}: the markers {START} / {END} are missing")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return head + render(doc) + tail


def refresh(doc: dict) -> list:
    """Problems between coverage.yaml and the installed Checkov's registries (needs Checkov importable)."""
    from checkov.kubernetes.checks.resource.registry import registry as kubernetes_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    ours = {t for types in doc["types"].values() for t in types}
    applicable = {}
    for registry in (resource_registry, kubernetes_registry):
        for resource_type, checks in registry.checks.items():
            if resource_type in ours:
                for check in checks:
                    applicable[check.id] = check.name
    from checkov.common.bridgecrew.check_type import CheckType
    from checkov.common.checks_infra.registry import get_graph_checks_registry

    for check_type in (CheckType.TERRAFORM, CheckType.KUBERNETES):  # checks written as YAML graph queries
        graph = get_graph_checks_registry(check_type)
        graph.load_checks()
        for check in graph.checks:
            if ours & set(check.resource_types or []):
                applicable[check.id] = check.name
    answered = set(doc["checks"])
    problems = [f"{c} ({applicable[c]}) applies to our types and has no answer" for c in sorted(set(applicable) - answered)]
    problems += [f"{c} has an answer but no longer applies to our types" for c in sorted(answered - set(applicable))]
    return problems


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_tools.policy.checkov_coverage", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 when docs/policies.md is not up to date")
    mode.add_argument("--refresh", action="store_true", help="compare with the installed Checkov's checks")
    args = parser.parse_args(argv)
    try:
        doc = load()
        if args.refresh:
            problems = refresh(doc)
            print("\n".join(problems) or "coverage.yaml answers every applicable check")
            return 1 if problems else 0
        current = DOCS.read_text()
        wanted = updated_docs(doc, current)
    except (CoverageError, OSError, yaml.YAMLError) as error:
        print(f"checkov-coverage: {error}", file=sys.stderr)
        return 2
    if args.check:
        if wanted != current:
            print(f"{DOCS} is stale: run python -m mlops_tools.policy.checkov_coverage", file=sys.stderr)
            return 1
        return 0
    DOCS.write_text(wanted)
    print(f"{DOCS}: {len(doc['checks'])} Checkov checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
