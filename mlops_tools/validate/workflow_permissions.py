"""Least privilege for workflow tokens: every job states its permissions, and every write scope is one a
step (or a local composite action or reusable workflow it calls) needs, and the other way round.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mlops_tools.validate.workflow_model import action_name, iter_steps, load_yaml, uses_action

OIDC_ACTIONS = ("aws-actions/configure-aws-credentials", "azure/login", "google-github-actions/auth")


class PermissionChecks:
    """Mixed into `Linter` (workflows.py), which provides `root`, `_composite_cache` and `add(path, where, message)`."""

    root: Path
    _composite_cache: dict[str, list[dict[str, Any]]]

    def composite_steps(self, uses: str) -> list[dict[str, Any]]:
        """Steps of a local composite action, so a job's needs include what its actions do."""
        if uses not in self._composite_cache:
            steps: list[dict[str, Any]] = []
            for name in ("action.yml", "action.yaml"):
                candidate = self.root / uses / name
                if candidate.exists():
                    document = load_yaml(candidate) or {}
                    steps = [s for s in (document.get("runs") or {}).get("steps") or [] if isinstance(s, dict)]
                    break
            self._composite_cache[uses] = steps
        return self._composite_cache[uses]

    def effective_steps(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        steps = []
        for _, step in iter_steps(job):
            steps.append(step)
            if isinstance(step.get("uses"), str) and step["uses"].startswith("./"):
                steps.extend(self.composite_steps(step["uses"]))
        return steps

    def needed_writes(self, job: dict[str, Any]) -> dict[str, str]:
        """Write scopes the job's steps need, each with the step that needs it."""
        needs: dict[str, str] = {}
        for step in self.effective_steps(job):
            if uses_action(step, *OIDC_ACTIONS):
                needs.setdefault("id-token", action_name(step["uses"]))
            if uses_action(step, "github/codeql-action/upload-sarif"):
                needs.setdefault("security-events", "upload-sarif")
            if uses_action(step, "pulumi/actions") and str((step.get("with") or {}).get("comment-on-pr")).lower() == "true":
                needs.setdefault("pull-requests", "pulumi/actions comment-on-pr")
            script = str(step.get("run", ""))
            if re.search(r"\bdocker\s+login\s+ghcr\.io\b", script) and re.search(r"\bdocker\s+push\b", script):
                needs.setdefault("packages", "docker push to ghcr.io")
            if uses_action(step, "actions/github-script"):
                script = str((step.get("with") or {}).get("script", ""))
                if "context.payload.pull_request" in script and re.search(r"issues\.(create|update)Comment", script):
                    needs.setdefault("pull-requests", "github-script comments on the pull request")
                elif re.search(r"issues\.(create|update|createComment|updateComment)\b", script):
                    needs.setdefault("issues", "github-script writes issues")
        return needs

    def reusable_needs(self, uses: str) -> dict[str, str]:
        """The union of the permissions a local reusable workflow's jobs declare."""
        callee = self.root / uses
        if not callee.exists():
            return {}
        document = load_yaml(callee) or {}
        union: dict[str, str] = {}
        for job in (document.get("jobs") or {}).values():
            for scope, level in ((job or {}).get("permissions") or {}).items():
                if union.get(scope) != "write":
                    union[scope] = level
        return union

    def check_permissions(self, path: Path, document: dict[str, Any]) -> None:
        top = document.get("permissions", None)
        if top != {}:
            self.add(path, "permissions", "set `permissions: {}` at the top so every job states exactly what it needs")
        for job_id, job in (document.get("jobs") or {}).items():
            if not isinstance(job, dict):
                continue
            where = f"job {job_id}"
            granted = job.get("permissions")
            if granted is None:
                self.add(path, where, "no permissions: block (the default token is too broad)")
                continue
            if isinstance(granted, str):
                self.add(path, where, f"permissions: {granted} is not least privilege; list scopes")
                continue
            if isinstance(job.get("uses"), str):
                if job["uses"].startswith("./"):
                    wanted = self.reusable_needs(job["uses"])
                    if wanted and granted != wanted:
                        self.add(path, where, f"grants {granted} but {job['uses']} needs exactly {wanted}")
                if job.get("secrets") == "inherit":
                    self.add(path, where, "secrets: inherit hands every secret to the called workflow")
                continue
            needs = self.needed_writes(job)
            for scope, level in granted.items():
                if level == "write" and scope not in needs:
                    self.add(path, where, f"{scope}: write is granted but no step needs it")
            for scope, reason in needs.items():
                if granted.get(scope) != "write":
                    self.add(path, where, f"{reason} needs {scope}: write")
