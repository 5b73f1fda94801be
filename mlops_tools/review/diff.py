"""Plan diff for pull requests: what a change adds, removes and changes, per stack, in Markdown.

The model of the change (identity-matched lists, replacements and what hangs off them, rename
candidates) is review/changes.py; this module renders it for a PR comment and runs the previews
at the base ref and in the working tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Optional

from mlops_tools.engine.plan import read_plan
from mlops_tools.review.changes import PlanChanges, alias_hint, compare


def cost_delta_section(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The cost estimate's delta for this stack (its own renderer, so the diff layout can change around it)."""
    from mlops_tools.review.cost import render_cost_delta

    budget = ((new.get("cost") or {}).get("budget") or {}).get("monthlyBudgetUsd")
    return render_cost_delta(old, new, budget_usd=budget)


class DiffError(Exception):
    """The diff cannot be made (a missing plan file, a bad git ref); the message says why."""

FOLD_AT = 15  # a section longer than this many lines folds into <details> in the PR comment


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return "`" + (text if len(text) <= 120 else text[:117] + "...").replace("`", "'") + "`"


def _section(summary: str, body: list[str]) -> list[str]:
    """A bold heading and its lines; folded behind <details> when long (GitHub renders it collapsed)."""
    if len(body) <= FOLD_AT:
        return [f"**{summary}**", "", *body, ""]
    return ["<details>", f"<summary><b>{summary}</b> ({len(body)} lines)</summary>", "", *body, "", "</details>", ""]


def plan_mismatch(old: dict[str, Any], new: dict[str, Any]) -> Optional[str]:
    """A warning when two plan files are not the same stack on the same cloud (the diff then means little)."""
    pairs = [(key, old.get(key), new.get(key)) for key in ("project", "stack", "cloud")]
    different = [f"{key} {a!r} vs {b!r}" for key, a, b in pairs if a and b and a != b]
    return f"the two plans are of different stacks ({'; '.join(different)}): the diff compares unrelated resources" if different else None


def _dependents_lines(changes: PlanChanges, urn: str) -> list[str]:
    hanging = changes.dependents.get(urn) or []
    if not hanging:
        return []
    names = ", ".join(f"`{r['name']}`" for r in hanging[:12]) + (f" and {len(hanging) - 12} more" if len(hanging) > 12 else "")
    return [f"  - depends on it (updated or replaced with it): {names}"]


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> str:
    """One stack's Markdown report; a stack with no resource change is one line."""
    stack = new.get("stack", old.get("stack"))
    changes = compare(old, new)
    policy = new.get("policy", {})
    violations = policy.get("violations", [])
    mandatory = [v for v in violations if v.get("enforcement") == "mandatory"]
    policy_line = (f"{len(mandatory)} mandatory, {len(violations) - len(mandatory)} advisory, "
                   f"{len(policy.get('waived', []))} waived")
    mismatch = plan_mismatch(old, new)
    cost = cost_delta_section(old, new)
    if changes.empty and not mismatch and not violations and ":warning:" not in cost:
        return f"### Stack `{stack}`: no resource changes (policy: {policy_line})\n"

    title = (f"### Stack `{stack}`: {len(changes.added)} to add, {len(changes.changed)} to change "
             f"({changes.replacements} replacement{'s' if changes.replacements != 1 else ''}), {len(changes.removed)} to delete")
    lines = [title, ""]
    if mismatch:
        lines += [f":warning: {mismatch}", ""]
    for heading, items in (("Added", changes.added), ("Deleted", changes.removed)):
        if items:
            lines += _section(heading, ["| resource | type |", "| --- | --- |",
                                        *[f"| `{r['name']}` | `{r['type']}` |" for r in items]])
    if changes.renamed:
        body = []
        for before, after, similarity in changes.renamed:
            body.append(f"- `{before['type']}` `{before['name']}` → `{after['name']}` :warning: replacement unless aliased "
                        f"({similarity:.0%} of inputs equal); keep it with `{alias_hint(before)}`")
            body += _dependents_lines(changes, after["urn"])
        lines += _section("Renamed (rename candidates: a delete and a create without an alias)", body)
    if changes.changed:
        body = []
        for item in changes.changed:
            reasons = item.replacement_reasons
            flag = f" :warning: replacement ({', '.join(f'`{r}`' for r in reasons)})" if reasons else ""
            body.append(f"- `{item.resource['type']}` `{item.resource['name']}`{flag}")
            body += [f"  - `{path}`: {_show(before)} → {_show(after)}" for path, before, after in item.changes]
            if reasons:
                body += _dependents_lines(changes, item.resource["urn"])
        lines += _section("Changed", body)
    if cost:
        lines += [cost.rstrip(), ""]

    packs = ", ".join(p["name"] + " " + p["version"] for p in policy.get("packs", [])) or "no packs run"
    lines.append(f"**Policy at the new state**: {policy_line} ({packs})")
    for violation in sorted(violations, key=lambda v: (v.get("enforcement") != "mandatory", v.get("policy", ""))):
        message = violation.get("message", "").splitlines()[0] if violation.get("message") else ""
        lines.append(f"- {violation.get('enforcement')} `{violation.get('policy')}` on "
                     f"`{violation.get('urn', '').rsplit('::', 1)[-1]}`: {message}")
    return "\n".join(lines).rstrip() + "\n"


def _default_base(root: Path) -> str:
    for ref in ("origin/main", "main"):
        if subprocess.run(["git", "rev-parse", "--verify", "--quiet", ref], cwd=root, capture_output=True).returncode == 0:
            return ref
    raise DiffError("no origin/main or main to compare against; pass BASE=<git ref>")


def _preview_into(checkout: Path, stack: str, out_dir: Path) -> tuple[Optional[dict[str, Any]], str]:
    """Preview one stack of a checkout with that checkout's own code: (plan or None, the error it printed)."""
    if not (checkout / f"Pulumi.{stack}.yaml").exists() or not (checkout / "mlops_tools").exists():
        return None, ""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(checkout), str(checkout / "policies" / "common")])}
    plan_file = out_dir / f"{stack}.json"
    plan_file.unlink(missing_ok=True)
    run = subprocess.run([sys.executable, "-m", "mlops_tools", "preview", "--stack", stack, "--out", str(out_dir), "--quiet"],
                         cwd=checkout, env=env, capture_output=True, text=True)
    if run.returncode not in (0, 1) or not plan_file.exists():  # 1 = policy findings: the plan is still there
        return None, (run.stderr.strip() or run.stdout.strip() or f"preview exited {run.returncode}")
    return read_plan(plan_file), ""


@dataclass
class RefDiff:
    report: str
    failed: list[str]  # stacks whose working tree could not be previewed


def diff_against_ref(root: Path, base: Optional[str], stacks: list[str],
                     progress: Callable[[str], None] = lambda line: None) -> RefDiff:
    """Preview each stack at `base` (a git worktree) and in the working tree; one report per stack.

    A stack whose working tree cannot be previewed is reported with the preview's own error and
    listed in `failed`, so the caller exits non-zero (a PR must not look clean because it broke).
    """
    base = base or _default_base(root)
    if subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], cwd=root, capture_output=True).returncode:
        raise DiffError(f"BASE={base} is not a git commit here")
    tmp = Path(tempfile.mkdtemp(prefix="mlops-diff-"))
    worktree = tmp / "base"
    failed: list[str] = []
    try:
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(worktree), base], cwd=root, check=True, capture_output=True)
        sections = [f"## Plan diff: `{base}` → working tree", ""]
        for number, stack in enumerate(stacks, 1):
            progress(f"[{number}/{len(stacks)}] {stack}: previewing at {base} and in the working tree")
            # The working tree first: when it cannot be previewed the base's plan would go unused.
            new, new_error = _preview_into(root, stack, tmp / "new")
            if new is None:
                failed.append(stack)
                progress(f"[{number}/{len(stacks)}] {stack}: FAILED, the working tree cannot be previewed")
                sections.append(f"### Stack `{stack}`: :x: the working tree cannot be previewed\n\n```\n{new_error}\n```\n")
                continue
            old, old_error = _preview_into(worktree, stack, tmp / "old")
            note = ""
            if old is None:
                note = (f"_(at `{base}` this stack could not be previewed, so everything shows as added: "
                        f"{old_error.splitlines()[-1] if old_error else 'no stack file there'})_\n\n")
            section = diff_plans(old or {"stack": stack, "resources": [], "policy": {}}, new)
            sections.append(section.replace("\n", "\n" + note, 1) if note and "\n" in section else section + note)
            progress(f"[{number}/{len(stacks)}] {stack}: {section.splitlines()[0].split(': ', 1)[-1]}")
        if failed:
            sections.insert(1, f":x: **{len(failed)} stack(s) could not be previewed: {', '.join(failed)}**\n")
        return RefDiff("\n".join(sections), failed)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=root, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
