"""Checkov as a second opinion: scan a stack's rendered manifests and the GitHub workflows.

    python -m mlops_tools checkov --stack prod [--checkov build/checkov-venv/bin/checkov]
        [--waivers policies/checkov/waivers.yaml] [--manifests build/manifests] [--reports build/reports]

`make checkov STACK=<s>` builds Checkov's own virtualenv (build/checkov-venv, from the pinned
policies/checkov/requirements.txt: Checkov's pins conflict with the project's), renders the
manifests (`mlops_tools.manifests`) and runs this. Checkov runs over `build/manifests/<stack>/`
(framework kubernetes) and `.github/` (framework github_actions). Findings that are deliberate
trade-offs are waived in policies/checkov/waivers.yaml (check, resource, reason, owner, expires),
matched like our own `mlops:waivers`. The findings become one SARIF run (tool "Checkov") that is
added to `build/reports/<stack>.sarif` next to our packs' run (replacing an earlier Checkov run),
so the pull request uploads one file with both opinions; waived findings carry SARIF suppressions.

Exit 0 when every finding is waived; 1 with one line per unwaived finding or expired waiver;
2 when an input is missing or malformed (one line naming the file, key and value).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml

from mlops_tools.policy.reports import SARIF_SCHEMA_URI
from mlops_tools.policy.waivers import apply_waivers

TOOL = "Checkov"
# Check ids of the frameworks this scan runs (kubernetes, github_actions). Waivers of checks on cloud resources
# (CKV_GCP_79, ...) answer coverage.yaml's `waived` entries: Checkov does not scan the plan, so they can match
# nothing here and are not reported as unused; they still expire here.
SCANNED_CHECKS = ("CKV_K8S_", "CKV2_K8S_", "CKV_GHA_", "CKV2_GHA_")
WAIVER_KEYS = ("check", "resource", "reason", "owner", "expires")


class CheckovError(Exception):
    """An input the scan cannot work from; printed as one line, exit code 2."""


@dataclass(frozen=True)
class Waiver:
    check: str
    resource: str
    reason: str
    owner: str
    expires: dt.date

    @property
    def policy(self) -> str:  # the name mlops_tools.waivers matches on
        return self.check


def load_waivers(path: Path) -> list:
    """The waivers of ``path``; CheckovError naming the file, key and value for anything malformed."""
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CheckovError(f"{path}: cannot read the waivers: {str(exc).splitlines()[0]}") from None
    items = doc.get("waivers") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise CheckovError(f"{path}: key 'waivers' must be a list of {{{', '.join(WAIVER_KEYS)}}}")
    waivers = []
    for i, item in enumerate(items):
        where = f"{path}: waivers[{i}]"
        if not isinstance(item, dict):
            raise CheckovError(f"{where} is {item!r}; expected a mapping with {', '.join(WAIVER_KEYS)}")
        missing = [k for k in WAIVER_KEYS if item.get(k) in (None, "")]
        unknown = sorted(set(item) - set(WAIVER_KEYS))
        if missing or unknown:
            raise CheckovError(f"{where}: missing {missing} / unknown keys {unknown}; allowed: {', '.join(WAIVER_KEYS)}")
        expires = item["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                raise CheckovError(f"{where}.expires is {item['expires']!r}; expected a date YYYY-MM-DD") from None
        if not isinstance(expires, dt.date):
            raise CheckovError(f"{where}.expires is {item['expires']!r}; expected a date YYYY-MM-DD")
        if not str(item["check"]).startswith("CKV"):
            raise CheckovError(f"{where}.check is {item['check']!r}; expected a Checkov id such as CKV_K8S_43")
        waivers.append(Waiver(str(item["check"]), str(item["resource"]), str(item["reason"]).strip(),
                              str(item["owner"]), expires))
    return waivers


def run_checkov(checkov: Path, targets: list, root: Path) -> dict:
    """Checkov's JSON reports, keyed by framework, for ``targets`` = [(framework, directory)].

    One Checkov process per target: with several ``--directory`` options Checkov 3.3 prints one JSON
    document per directory back to back, which is not one JSON value.
    """
    if not checkov.is_file():
        raise CheckovError(f"{checkov}: Checkov is not installed there; run `make checkov` (it builds build/checkov-venv "
                           "from policies/checkov/requirements.txt)")
    reports: dict = {}
    for framework, target in targets:
        command = [str(checkov), "--framework", framework, "--directory", str(target), "--output", "json",
                   "--soft-fail", "--quiet", "--compact", "--skip-download"]
        completed = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        try:
            report = json.loads(completed.stdout)
        except json.JSONDecodeError:
            tail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
            raise CheckovError(f"checkov --framework {framework} --directory {target} exited {completed.returncode} "
                               f"without a JSON report: {tail}") from None
        for item in report if isinstance(report, list) else [report]:
            if isinstance(item, dict):
                reports.setdefault(item.get("check_type", framework), item)
    return reports


def findings(reports: dict, root: Path) -> list:
    """One dict per failed check, in a stable order."""
    found = []
    for framework, report in reports.items():
        for item in (report.get("results") or {}).get("failed_checks") or []:
            # Checkov 3.3 gives file_path relative to its working directory (the project root) with a
            # leading "/"; its file_abs_path repeats the scanned directory, so it is not used.
            relative = item.get("file_path", "").lstrip("/")
            lines = item.get("file_line_range") or [1, 1]
            found.append({"policy": item["check_id"], "urn": item.get("resource", ""),  # waivers match it like a name
                          "resource": item.get("resource", ""), "message": item.get("check_name", ""),
                          "file": relative, "line": max(int(lines[0] or 1), 1), "framework": framework,
                          "guideline": item.get("guideline") or ""})
    return sorted(found, key=lambda f: (f["policy"], f["resource"], f["file"]))


def _fingerprint(finding: dict) -> str:
    return hashlib.sha256("\x1f".join([finding["policy"], finding["resource"], finding["file"]]).encode()).hexdigest()


def sarif_run(active: list, waived: list, stack: str, version: str) -> dict:
    """One SARIF run for Checkov's findings. Rendered manifests are build output, so their findings
    point at the stack file they are rendered from; workflow findings point at the workflow line."""
    rules: dict = {}
    results = []
    for finding in active + waived:
        rules.setdefault(finding["policy"], {
            "id": finding["policy"], "name": finding["policy"], "shortDescription": {"text": finding["message"]},
            "helpUri": finding["guideline"] or "https://www.checkov.io/5.Policy%20Index/all.html",
            "properties": {"tags": ["security", "checkov", finding["framework"]]}})
        rendered = finding["file"].startswith("build/")
        location = {"uri": f"Pulumi.{stack}.yaml" if rendered else finding["file"]}
        result = {
            "ruleId": finding["policy"], "level": "error",
            "message": {"text": f"{finding['resource']}: {finding['message']}"
                                + (f" (rendered manifest {finding['file']})" if rendered else "")},
            "locations": [{"physicalLocation": {"artifactLocation": location,
                                                "region": {"startLine": 1 if rendered else finding["line"]}},
                           "logicalLocations": [{"name": finding["resource"], "kind": "resource"}]}],
            "partialFingerprints": {"checkovFinding/v1": _fingerprint(finding)},
        }
        waiver = finding.get("waiver")
        if waiver:
            result["suppressions"] = [{"kind": "external", "status": "accepted",
                                       "justification": f"{waiver['reason']} (owner {waiver['owner']}, "
                                                        f"expires {waiver['expires']})"}]
        results.append(result)
    ordered = sorted(rules)
    for result in results:
        result["ruleIndex"] = ordered.index(result["ruleId"])
    return {"tool": {"driver": {"name": TOOL, "version": version, "informationUri": "https://www.checkov.io/",
                                "rules": [rules[r] for r in ordered]}},
            "automationDetails": {"id": f"checkov/{stack}/"},
            "invocations": [{"executionSuccessful": True}], "results": results}


def merge_into(report: Path, run: dict) -> None:
    """Add ``run`` to the SARIF log at ``report`` (our packs' run), replacing an earlier Checkov run."""
    log: dict = {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": []}
    if report.is_file():
        try:
            log = json.loads(report.read_text())
        except json.JSONDecodeError as exc:
            raise CheckovError(f"{report}: not a SARIF file ({exc.msg}); rerun the preview with --format sarif") from None
    log["runs"] = [r for r in log.get("runs", []) if r.get("tool", {}).get("driver", {}).get("name") != TOOL] + [run]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def scan(stack: str, root: Path, checkov: Path, waivers_file: Path, manifests: Path, reports: Path,
         today: Optional[dt.date] = None) -> tuple:
    """(exit code, lines to print)."""
    stack_manifests = manifests / stack
    if not stack_manifests.is_dir():
        raise CheckovError(f"{stack_manifests}: no rendered manifests; run `make manifests STACK={stack}` first")
    waivers = load_waivers(waivers_file)
    raw = run_checkov(checkov, [("kubernetes", stack_manifests), ("github_actions", root / ".github")], root)
    version = next((r.get("summary", {}).get("checkov_version") for r in raw.values()), "") or ""
    scanned = [w for w in waivers if w.check.startswith(SCANNED_CHECKS)]
    outcome = apply_waivers(findings(raw, root), scanned, today or dt.date.today())
    expired = outcome.expired + apply_waivers([], [w for w in waivers if w not in scanned], today or dt.date.today()).expired
    merge_into(reports / f"{stack}.sarif", sarif_run(outcome.active, outcome.waived, stack, version))
    passed = ", ".join(f"{framework} {report.get('summary', {}).get('passed', 0)} passed"
                       for framework, report in sorted(raw.items()))
    lines = [f"checkov {version} on {stack}: {len(outcome.active)} finding(s), {len(outcome.waived)} waived ({passed})"]
    lines += [f"  {f['policy']} {f['resource']} ({f['file']}): {f['message']}" for f in outcome.active]
    lines += [f"  {message}" for message in expired]
    # Waivers are shared by every stack (a GKE stack has no device plugin to waive): unused ones are notes.
    lines += [f"  note: {m.replace('matched no violation: remove it', 'matches nothing in this stack')}"
              for m in outcome.unused]
    lines.append(f"SARIF: {reports / f'{stack}.sarif'} (run '{TOOL}')")
    return (1 if outcome.active or expired else 0), lines


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_tools checkov", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--root", default=".", help="project directory (default .)")
    parser.add_argument("--checkov", default="build/checkov-venv/bin/checkov")
    parser.add_argument("--waivers", default="policies/checkov/waivers.yaml")
    parser.add_argument("--manifests", default="build/manifests")
    parser.add_argument("--reports", default="build/reports")
    args = parser.parse_args(argv)
    root = Path(args.root)
    try:
        code, lines = scan(args.stack, root, root / args.checkov, root / args.waivers, root / args.manifests,
                           root / args.reports)
    except CheckovError as error:
        print(f"checkov: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
