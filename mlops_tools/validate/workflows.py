"""Lint the GitHub Actions workflows (and local composite actions) without network access.

actionlint downloads a binary, so it cannot be installed here. This checks what matters for
this repository instead:

1. the GitHub workflow / action JSON schemas (vendored by check-jsonschema);
2. every action that is not local is pinned to a full commit SHA, with its version in a comment;
3. least privilege: `permissions: {}` at the top, explicit `permissions:` on every job, and every
   write scope justified by a step that needs it (and every such step given the scope it needs);
4. no long-lived credentials: no secrets but GITHUB_TOKEN, no access-key inputs, no
   `secrets: inherit`; cloud access goes through OIDC (`role-to-assume`);
5. every `make` target a workflow runs exists in the Makefile;
6. no script injection: `run:` blocks only expand trusted contexts (pass the rest through env);
7. no `pull_request_target` / `workflow_run` triggers, and checkout never persists the token.

    python -m mlops_tools.validate.workflows [--root DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any, Optional, Sequence

import jsonschema
import yaml

from mlops_tools.cmdline import EXIT_USAGE, parse_args
from mlops_tools.validate.workflow_model import Finding, iter_steps, load_yaml, step_label, uses_action
from mlops_tools.validate.workflow_permissions import PermissionChecks

SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.S)
MAKE_CALL = re.compile(r"(?:^|[\s;&|(])make((?:[ \t]+[^\s;&|)#]+)*)", re.M)
MAKE_RULE = re.compile(r"^([A-Za-z0-9_.%/-]+(?:[ \t]+[A-Za-z0-9_.%/-]+)*)[ \t]*::?(?!=)", re.M)

TRUSTED_IN_RUN = (
    "env.", "vars.", "runner.", "github.workspace", "github.run_id", "github.run_attempt", "github.sha",
    "github.repository", "github.server_url", "github.event.pull_request.number",
    "github.event.pull_request.base.sha",
)
CREDENTIAL_KEYS = {
    "aws-access-key-id", "aws-secret-access-key", "aws-session-token", "aws_access_key_id",
    "aws_secret_access_key", "aws_session_token", "arm_client_secret", "azure_client_secret",
    "client-secret", "creds", "credentials_json", "google_credentials", "google_application_credentials",
    "pulumi_access_token", "pulumi_config_passphrase",
}
FORBIDDEN_TRIGGERS = {"pull_request_target", "workflow_run"}


def builtin_schema(name: str) -> dict[str, Any]:
    location = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(f"{name}.json")
    return json.loads(location.read_text(encoding="utf-8"))


def _leaf_errors(error: Any) -> list[Any]:
    """Every concrete error under a oneOf/anyOf error, from the branch that fits the document best.

    A oneOf error quotes the whole subtree; its `context` holds the errors of each branch. The branch
    whose errors reach deepest into the document is the one the author meant (a normal job rather
    than a reusable-workflow call), and every error in it is reported, not only the first.
    """
    if not error.context:
        return [error]
    branches: dict[Any, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)

    def fit(errors: list[Any]) -> tuple[int, int]:
        return (max(len(e.absolute_path) for e in errors), -sum(e.validator == "required" for e in errors))

    best = max(branches.values(), key=fit)
    return [leaf for sub in best for leaf in _leaf_errors(sub)]


def schema_findings(document: Any, schema: dict[str, Any]) -> list[Finding]:
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    findings, seen = [], set()
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        for leaf in _leaf_errors(error):
            location = "/".join(str(part) for part in leaf.absolute_path) or "(top)"
            if (location, leaf.message) not in seen:
                seen.add((location, leaf.message))
                findings.append(Finding("", f"schema at {location}", leaf.message[:300]))
    return findings


def makefile_targets(makefile: Path) -> set[str]:
    if not makefile.exists():
        return set()
    targets: set[str] = set()
    for match in MAKE_RULE.finditer(makefile.read_text(encoding="utf-8")):
        targets.update(match.group(1).split())
    return targets


def make_targets_in(script: str) -> list[str]:
    called = []
    for match in MAKE_CALL.finditer(script):
        for token in match.group(1).split():
            if token.startswith("-") or "=" in token:
                continue
            called.append(token.strip("'\""))
    return called


class Linter(PermissionChecks):
    """All checks of one repository's workflows; the permission checks are `workflow_permissions`."""

    def __init__(self, root: Path):
        self.root = root
        self.targets = makefile_targets(root / "Makefile")
        self.findings: list[Finding] = []
        self._composite_cache: dict[str, list[dict[str, Any]]] = {}

    def add(self, path: Path, where: str, message: str) -> None:
        self.findings.append(Finding(str(path.relative_to(self.root)), where, message))

    # ----------------------------------------------------------------- shared step checks

    def check_pinned(self, path: Path, where: str, uses: str, raw_lines: list[str]) -> None:
        if uses.startswith("./"):
            return
        if uses.startswith("docker://"):
            if "@sha256:" not in uses:
                self.add(path, where, f"{uses} is not pinned to an image digest (@sha256:...)")
            return
        if not SHA_PIN.match(uses):
            self.add(path, where, f"{uses} is not pinned to a full commit SHA")
            return
        line = next((text for text in raw_lines if uses in text), "")
        if not re.search(r"#\s*v?\d", line):
            self.add(path, where, f"{uses}: add the version as a comment (e.g. `# v1.2.3`) so updates are reviewable")

    def check_run(self, path: Path, where: str, script: str) -> None:
        for expression in EXPRESSION.findall(script):
            if not expression.startswith(TRUSTED_IN_RUN):
                self.add(path, where, f"run: expands ${{{{ {expression} }}}} directly; pass it through env: "
                                      "and quote the variable (script injection)")
        if self.targets or (self.root / "Makefile").exists():
            for target in make_targets_in(script):
                if target not in self.targets:
                    self.add(path, where, f"`make {target}`: no such target in the Makefile")

    def check_credentials(self, path: Path, where: str, mapping: Any) -> None:
        if not isinstance(mapping, dict):
            return
        for key in mapping:
            if str(key).lower() in CREDENTIAL_KEYS:
                self.add(path, where, f"{key}: long-lived credential; use OIDC (role-to-assume / workload identity)")

    def check_step(self, path: Path, where: str, step: dict[str, Any], raw_lines: list[str]) -> None:
        uses = step.get("uses")
        if isinstance(uses, str):
            self.check_pinned(path, where, uses, raw_lines)
            if uses_action(step, "actions/checkout") and str((step.get("with") or {}).get("persist-credentials")).lower() != "false":
                self.add(path, where, "actions/checkout must set persist-credentials: false (the token stays out of .git)")
            if uses_action(step, "aws-actions/configure-aws-credentials") and not (step.get("with") or {}).get("role-to-assume"):
                self.add(path, where, "configure-aws-credentials without role-to-assume: use OIDC, not keys")
        if isinstance(step.get("run"), str):
            self.check_run(path, where, step["run"])
        self.check_credentials(path, where, step.get("with"))
        self.check_credentials(path, where, step.get("env"))

    # ----------------------------------------------------------------- files

    def check_secrets(self, path: Path, text: str) -> None:
        for expression in EXPRESSION.findall(text):
            for name in re.findall(r"secrets\.([A-Za-z0-9_]+)|secrets\[['\"]([^'\"]+)", expression):
                secret = name[0] or name[1]
                if secret != "GITHUB_TOKEN":
                    self.add(path, "secrets", f"secrets.{secret}: no long-lived secrets; use OIDC and vars.*")

    def load_checked(self, path: Path, schema: dict[str, Any]) -> tuple[Any, str]:
        """Parse a file and apply the checks every workflow and action file gets (schema, secrets)."""
        text = path.read_text(encoding="utf-8")
        try:
            document = load_yaml(path)
        except yaml.YAMLError as error:
            self.add(path, "yaml", str(error).splitlines()[0])
            return None, text
        for finding in schema_findings(document, schema):
            self.add(path, finding.where, finding.message)
        self.check_secrets(path, text)
        return document, text

    def lint_workflow(self, path: Path, schema: dict[str, Any]) -> None:
        document, text = self.load_checked(path, schema)
        if not isinstance(document, dict):
            return
        raw_lines = text.splitlines()
        triggers = document.get("on")
        trigger_names = set(triggers) if isinstance(triggers, (dict, list)) else {triggers}
        for trigger in sorted(FORBIDDEN_TRIGGERS & trigger_names):
            self.add(path, "on", f"{trigger} runs with a write token on untrusted code; use pull_request")
        self.check_permissions(path, document)
        self.check_credentials(path, "env", document.get("env"))
        jobs = document.get("jobs") if isinstance(document.get("jobs"), dict) else {}
        for job_id, job in jobs.items():
            if not isinstance(job, dict):
                continue
            needs = job.get("needs", [])
            for needed in [needs] if isinstance(needs, str) else needs if isinstance(needs, list) else []:
                if needed not in jobs:
                    self.add(path, f"job {job_id}", f"needs: {needed!r} is not a job in this workflow "
                                                    f"(jobs: {', '.join(sorted(map(str, jobs)))})")
            if isinstance(job.get("uses"), str):
                self.check_pinned(path, f"job {job_id}", job["uses"], raw_lines)
            self.check_credentials(path, f"job {job_id}", job.get("env"))
            for index, step in iter_steps(job):
                self.check_step(path, f"job {job_id} {step_label(index, step)}", step, raw_lines)

    def lint_action(self, path: Path, schema: dict[str, Any]) -> None:
        document, text = self.load_checked(path, schema)
        if not isinstance(document, dict):
            return
        steps = (document.get("runs") or {}).get("steps") or []
        for index, step in enumerate(steps):
            if isinstance(step, dict):
                self.check_step(path, step_label(index, step), step, text.splitlines())

    def run(self) -> list[Finding]:
        workflows_dir = self.root / ".github" / "workflows"
        workflows = sorted(list(workflows_dir.glob("*.yml")) + list(workflows_dir.glob("*.yaml")))
        if not workflows:
            raise FileNotFoundError(f"no workflows in {workflows_dir}")
        workflow_schema = builtin_schema("github-workflows")
        action_schema = builtin_schema("github-actions")
        for path in workflows:
            self.lint_workflow(path, workflow_schema)
        for path in sorted((self.root / ".github" / "actions").glob("*/action.y*ml")):
            self.lint_action(path, action_schema)
        return self.findings


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_tools.validate.workflows", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="repository root (default: current directory)")
    args = parse_args(parser, argv)
    if isinstance(args, int):
        return args
    root = Path(args.root).resolve()
    try:
        findings = Linter(root).run()
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    for finding in findings:
        print(finding)
    count = len(list((root / ".github" / "workflows").glob("*.y*ml")))
    if findings:
        print(f"{len(findings)} problem(s) in {count} workflow file(s)", file=sys.stderr)
        return 1
    print(f"{count} workflow file(s) OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
