"""Policy reports from a plan: text for people, JSON for tools, SARIF for GitHub code scanning, JUnit for CI.

All four are deterministic (same plan, same bytes). They read the plan's ``policy`` section
(packs, violations, waived) and take rule metadata (description, remediation, frameworks)
from the packs' GetAnalyzerInfo answers (``policy_runner.PackInfo``).
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any, Iterable, Optional

FORMATS = ("text", "json", "sarif", "junit")
SEVERITY_ORDER = ("critical", "high", "medium", "low", "")
# GitHub code scanning ranks security alerts by this number (critical >= 9.0, high >= 7.0, ...).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "": "5.0"}
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "mlops-platform CrossGuard policies"


def resource_label(urn: str) -> tuple[str, str]:
    """(type, name) from a URN; ("stack", "") for stack-level findings."""
    if not urn:
        return "stack", ""
    parts = urn.split("::")
    if len(parts) < 4:
        return "", urn
    return parts[2].split("$")[-1], "::".join(parts[3:])


def _policy_index(packs: Iterable[Any]) -> dict:
    return {(pack.name, policy.name): (pack, policy) for pack in packs or () for policy in pack.policies}


def _severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def _ordered(items: Iterable[dict]) -> list:
    return sorted(items, key=lambda v: (_severity_rank(v.get("severity", "")), v.get("enforcement") != "mandatory",
                                        v.get("pack", ""), v.get("policy", ""), v.get("urn", ""), v.get("message", "")))


def _policy_section(plan: dict) -> tuple[list, list, list]:
    section = plan.get("policy") or {}
    return list(section.get("packs") or []), list(section.get("violations") or []), list(section.get("waived") or [])


# --- text ------------------------------------------------------------------------------------------


def _text(plan: dict, packs: list) -> str:
    pack_entries, violations, waived = _policy_section(plan)
    index = _policy_index(packs)
    mandatory = sum(1 for v in violations if v.get("enforcement") == "mandatory")
    pack_list = ", ".join(f"{p['name']} {p['version']} ({p['policies']} policies)" for p in pack_entries) or "none"
    lines = [f"Policy results for {plan.get('project', '?')}/{plan.get('stack', '?')}: "
             f"{len(violations)} violation(s), {mandatory} mandatory, {len(waived)} waived",
             f"Packs: {pack_list}"]
    groups = defaultdict(list)
    for violation in _ordered(violations):
        groups[violation.get("severity", "")].append(violation)
    for severity in sorted(groups, key=_severity_rank):
        lines += ["", f"{(severity or 'unspecified').upper()} ({len(groups[severity])})"]
        for v in groups[severity]:
            kind, name = resource_label(v.get("urn", ""))
            lines.append(f"  [{v.get('enforcement')}] {v.get('policy')} ({v.get('pack')}) on {kind} {name}".rstrip())
            lines += [f"      {line}" for line in str(v.get("message", "")).splitlines()]
            _, info = index.get((v.get("pack"), v.get("policy")), (None, None))
            if info is not None and info.remediation:
                lines.append(f"      fix: {info.remediation}")
    if waived:
        lines += ["", f"WAIVED ({len(waived)})"]
        for v in _ordered(waived):
            kind, name = resource_label(v.get("urn", ""))
            waiver = v.get("waiver") or {}
            lines.append(f"  {v.get('policy')} ({v.get('pack')}) on {kind} {name}: {waiver.get('reason', '')} "
                         f"(owner {waiver.get('owner', '?')}, expires {waiver.get('expires', '?')})")
    if not violations and not waived:
        lines += ["", "No policy violations."]
    return "\n".join(lines) + "\n"


# --- json ------------------------------------------------------------------------------------------


def _policy_dict(policy: Any) -> dict:
    return {"name": policy.name, "description": policy.description, "severity": policy.severity,
            "enforcementLevel": policy.enforcement_level, "remediation": policy.remediation,
            "frameworks": list(policy.frameworks), "tags": list(policy.tags), "url": policy.url}


def _json(plan: dict, packs: list) -> str:
    pack_entries, violations, waived = _policy_section(plan)
    by_name = {p.name: p for p in packs or ()}
    report = {
        "project": plan.get("project"),
        "stack": plan.get("stack"),
        "summary": {
            "violations": len(violations),
            "mandatory": sum(1 for v in violations if v.get("enforcement") == "mandatory"),
            "advisory": sum(1 for v in violations if v.get("enforcement") == "advisory"),
            "waived": len(waived),
        },
        "packs": [{**entry, "rules": [_policy_dict(p) for p in by_name[entry["name"]].policies]
                   if entry["name"] in by_name else []} for entry in pack_entries],
        "violations": _ordered(violations),
        "waived": _ordered(waived),
    }
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- sarif -----------------------------------------------------------------------------------------


def _sarif_level(enforcement: str) -> str:
    return {"mandatory": "error", "advisory": "warning"}.get(enforcement, "note")


def _sarif_rule(pack_name: str, pack_version: str, policy: Any) -> dict:
    help_text = policy.remediation or policy.description
    rule = {
        "id": policy.name,
        "name": "".join(part.capitalize() for part in policy.name.split("-")),
        "shortDescription": {"text": policy.description},
        "fullDescription": {"text": policy.description},
        "help": {"text": help_text, "markdown": f"**Remediation:** {help_text}"},
        "defaultConfiguration": {"level": _sarif_level(policy.enforcement_level)},
        "properties": {
            "tags": ["security", *policy.tags, *policy.frameworks],
            "severity": policy.severity,
            "security-severity": SECURITY_SEVERITY.get(policy.severity, "5.0"),
            "precision": "high",
            "frameworks": list(policy.frameworks),
            "enforcementLevel": policy.enforcement_level,
            "pack": pack_name,
            "packVersion": pack_version,
        },
    }
    if policy.url:
        rule["helpUri"] = policy.url
    return rule


def _fingerprint(v: dict) -> str:
    return hashlib.sha256("\x1f".join([v.get("pack", ""), v.get("policy", ""), v.get("urn", ""),
                                       v.get("message", "")]).encode()).hexdigest()


def _sarif(plan: dict, packs: list) -> str:
    pack_entries, violations, waived = _policy_section(plan)
    stack = plan.get("stack", "")
    stack_file = f"Pulumi.{stack}.yaml"
    versions = {p["name"]: p["version"] for p in pack_entries}
    rules: list[dict] = []
    rule_index: dict[str, int] = {}
    for pack in sorted(packs or (), key=lambda p: p.name):
        for policy in pack.policies:
            if policy.name not in rule_index:
                rule_index[policy.name] = len(rules)
                rules.append(_sarif_rule(pack.name, versions.get(pack.name, pack.version), policy))

    def result(v: dict, waiver: Optional[dict]) -> dict:
        kind, name = resource_label(v.get("urn", ""))
        item = {
            "ruleId": v.get("policy", ""),
            "level": _sarif_level(v.get("enforcement", "")),
            "message": {"text": f"{kind} {name}: {v.get('message', '')}".strip() if name else v.get("message", "")},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": stack_file}, "region": {"startLine": 1}},
                "logicalLocations": [{"name": name or stack, "fullyQualifiedName": v.get("urn") or stack,
                                      "kind": "resource"}],
            }],
            "partialFingerprints": {"mlopsPolicyFinding/v1": _fingerprint(v)},
            "properties": {"pack": v.get("pack", ""), "severity": v.get("severity", ""),
                           "enforcement": v.get("enforcement", ""), "resourceType": kind},
        }
        if v.get("policy") in rule_index:
            item["ruleIndex"] = rule_index[v["policy"]]
        if waiver is not None:
            item["suppressions"] = [{
                "kind": "external", "status": "accepted",
                "justification": f"{waiver.get('reason', '')} (owner {waiver.get('owner', '?')}, "
                                 f"expires {waiver.get('expires', '?')})",
            }]
        return item

    results = [result(v, None) for v in _ordered(violations)] + \
              [result(v, v.get("waiver") or {}) for v in _ordered(waived)]
    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "informationUri": "https://www.pulumi.com/docs/iac/crossguard/",
                                "rules": rules}},
            "automationDetails": {"id": f"mlops-policy/{stack}/"},
            "invocations": [{"executionSuccessful": True}],
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- junit -----------------------------------------------------------------------------------------


def _junit(plan: dict, packs: list) -> str:
    pack_entries, violations, waived = _policy_section(plan)
    found = defaultdict(list)
    for v in violations:
        found[(v.get("pack", ""), v.get("policy", ""))].append(v)
    excused = defaultdict(list)
    for v in waived:
        excused[(v.get("pack", ""), v.get("policy", ""))].append(v)
    policies_by_pack: dict[str, set] = defaultdict(set)
    for pack in packs or ():
        policies_by_pack[pack.name].update(p.name for p in pack.policies)
    for entry in pack_entries:
        policies_by_pack.setdefault(entry["name"], set())
    for pack_name, policy_name in list(found) + list(excused):
        policies_by_pack[pack_name].add(policy_name)

    stack = plan.get("stack", "")
    root = ET.Element("testsuites", name=f"policy {plan.get('project', '')}/{stack}")
    total_tests = total_failures = 0
    for pack_name in sorted(policies_by_pack):
        names = sorted(policies_by_pack[pack_name])
        failures = sum(1 for n in names if found.get((pack_name, n)))
        suite = ET.SubElement(root, "testsuite", name=pack_name, tests=str(len(names)), failures=str(failures),
                              errors="0", skipped="0")
        for name in names:
            case = ET.SubElement(suite, "testcase", classname=f"{pack_name}.{stack}", name=name)
            items = _ordered(found.get((pack_name, name), []))
            if items:
                mandatory = any(v.get("enforcement") == "mandatory" for v in items)
                failure = ET.SubElement(case, "failure", type="mandatory" if mandatory else "advisory",
                                        message=f"{len(items)} violation(s)")
                failure.text = "\n".join(f"{' '.join(resource_label(v.get('urn', ''))).strip()}: "
                                         f"[{v.get('enforcement')}] {v.get('message', '')}" for v in items)
            waived_items = _ordered(excused.get((pack_name, name), []))
            if waived_items:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(f"waived {' '.join(resource_label(v.get('urn', ''))).strip()}: "
                                     f"{(v.get('waiver') or {}).get('reason', '')} "
                                     f"(owner {(v.get('waiver') or {}).get('owner', '?')}, "
                                     f"expires {(v.get('waiver') or {}).get('expires', '?')})" for v in waived_items)
        total_tests += len(names)
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


_RENDERERS = {"text": _text, "json": _json, "sarif": _sarif, "junit": _junit}


def render(fmt: str, plan: dict, packs: list) -> str:
    """The plan's policy results in ``fmt`` (text, json, sarif or junit)."""
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}") from None
    return renderer(plan, list(packs or ()))
