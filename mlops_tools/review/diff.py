"""Plan diff for pull requests: what a change adds, removes and changes, per stack, in Markdown.

Replacement flags are an offline estimate (no provider schema is available here): a renamed
resource (same type and parent, new name, no alias) is a delete and a create; a changed provider
region, and a change to a property that names or places the resource, forces a new resource.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator, Optional

from mlops_tools.engine.plan import read_plan


class DiffError(Exception):
    """The diff cannot be made (a missing plan file, a bad git ref); the message says why."""

# Properties whose change replaces the resource for most providers (names, placement, identity,
# encryption at creation). Per-type additions below.
REPLACING_PROPERTIES = {
    "name", "namePrefix", "bucket", "bucketPrefix", "identifier", "identifierPrefix", "clusterName",
    "nodeGroupName", "location", "region", "availabilityZone", "vpcId", "cidrBlock", "resourceGroupName",
    "project", "metadata.name", "metadata.namespace", "apiVersion", "kind",
}
REPLACING_BY_TYPE = {
    "aws:rds/instance:Instance": {"engine", "kmsKeyId", "storageEncrypted", "dbSubnetGroupName", "replicateSourceDb", "dbName"},
    "aws:dynamodb/table:Table": {"hashKey", "rangeKey", "serverSideEncryption.kmsKeyArn"},
    "aws:eks/cluster:Cluster": {"encryptionConfig", "vpcConfig.subnetIds", "kubernetesNetworkConfig"},
    "aws:kms/key:Key": {"multiRegion", "keyUsage", "customerMasterKeySpec"},
    "aws:ecr/repository:Repository": {"encryptionConfigurations"},
    "aws:sqs/queue:Queue": {"fifoQueue"},
    "aws:ec2/subnet:Subnet": {"cidrBlock", "availabilityZone"},
}


def _embedded_json(value: str) -> Any:
    """A JSON document held in a string property (IAM policies, dashboards), or None."""
    if value[:1] not in "{[":
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested inputs as {"a.b[0].c": leaf} so changes can be reported by property path.

    JSON documents inside string properties are opened too, so a policy change reads as the
    statement that changed rather than two long strings.
    """
    if isinstance(value, str):
        document = _embedded_json(value)
        if isinstance(document, (dict, list)) and document:
            return flatten(document, prefix)
        return {prefix: value}
    if isinstance(value, dict):
        if not value:
            return {prefix: {}} if prefix else {}
        items: dict[str, Any] = {}
        for key in sorted(value):
            items.update(flatten(value[key], f"{prefix}.{key}" if prefix else key))
        return items
    if isinstance(value, list):
        if not value:
            return {prefix: []}
        items = {}
        for index, item in enumerate(value):
            items.update(flatten(item, f"{prefix}[{index}]"))
        return items
    return {prefix: value}


def _forces_replacement(resource_type: str, path: str) -> bool:
    keys = REPLACING_PROPERTIES | REPLACING_BY_TYPE.get(resource_type, set())
    return any(path == key or path.startswith(key + ".") or path.startswith(key + "[") for key in keys)


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return "`" + (text if len(text) <= 120 else text[:117] + "...").replace("`", "'") + "`"


def _provider_region(plan: dict[str, Any], reference: Optional[str]) -> Optional[str]:
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]
    provider = next((r for r in plan["resources"] if r["urn"] == urn), None)
    if provider is None:
        return None
    return provider["inputs"].get("region") or provider["inputs"].get("location")


def resource_changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """(property path, old, new) for every input that differs, plus protect and provider changes."""
    old_inputs, new_inputs = flatten(old["inputs"]), flatten(new["inputs"])
    for path in sorted(set(old_inputs) | set(new_inputs)):
        before, after = old_inputs.get(path, None), new_inputs.get(path, None)
        if before != after:
            yield path, before, after
    if old.get("protect") != new.get("protect"):
        yield "(protect)", old.get("protect"), new.get("protect")


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> str:
    """One stack's Markdown report."""
    old_by_urn = {r["urn"]: r for r in old.get("resources", []) if r["type"] != "pulumi:pulumi:Stack"}
    new_by_urn = {r["urn"]: r for r in new.get("resources", []) if r["type"] != "pulumi:pulumi:Stack"}
    added = [new_by_urn[u] for u in sorted(set(new_by_urn) - set(old_by_urn))]
    removed = [old_by_urn[u] for u in sorted(set(old_by_urn) - set(new_by_urn))]
    renamed_pairs = []
    for resource in list(added):
        # A rename keeps type, parent and inputs; resources with no inputs give no evidence either way.
        twin = next((r for r in removed if resource["inputs"] and r["type"] == resource["type"]
                     and r["parent"] == resource["parent"] and r["inputs"] == resource["inputs"]), None)
        if twin is not None:
            renamed_pairs.append((twin, resource))
            added.remove(resource)
            removed.remove(twin)

    changed = []
    for urn in sorted(set(old_by_urn) & set(new_by_urn)):
        before, after = old_by_urn[urn], new_by_urn[urn]
        changes = list(resource_changes(before, after))
        reasons = [path for path, _, _ in changes if _forces_replacement(after["type"], path)]
        old_region, new_region = _provider_region(old, before.get("provider")), _provider_region(new, after.get("provider"))
        if old_region != new_region:
            changes.append(("(provider region)", old_region, new_region))
            reasons.append("provider region")
        if changes:
            changed.append((after, changes, reasons))

    replacements = sum(1 for _, _, reasons in changed if reasons) + len(renamed_pairs)
    title = (f"### Stack `{new.get('stack', old.get('stack'))}`: {len(added)} to add, {len(changed)} to change "
             f"({replacements} replacement{'s' if replacements != 1 else ''}), {len(removed)} to delete")
    lines = [title, ""]
    if not (added or removed or changed or renamed_pairs):
        lines.append("No resource changes.")
    for heading, items in (("Added", added), ("Deleted", removed)):
        if items:
            lines += [f"**{heading}**", "", "| resource | type |", "| --- | --- |"]
            lines += [f"| `{r['name']}` | `{r['type']}` |" for r in items]
            lines.append("")
    if renamed_pairs:
        lines += ["**Renamed (delete and create: add an alias to keep the resource)**", ""]
        lines += [f"- `{a['type']}` `{a['name']}` → `{b['name']}` :warning: replacement" for a, b in renamed_pairs]
        lines.append("")
    if changed:
        lines += ["**Changed**", ""]
        for resource, changes, reasons in changed:
            flag = f" :warning: replacement ({', '.join(f'`{r}`' for r in reasons)})" if reasons else ""
            lines.append(f"- `{resource['type']}` `{resource['name']}`{flag}")
            lines += [f"  - `{path}`: {_show(before)} → {_show(after)}" for path, before, after in changes]
        lines.append("")

    policy = new.get("policy", {})
    violations = policy.get("violations", [])
    mandatory = [v for v in violations if v.get("enforcement") == "mandatory"]
    lines.append(f"**Policy at the new state**: {len(mandatory)} mandatory, {len(violations) - len(mandatory)} advisory, "
                 f"{len(policy.get('waived', []))} waived ({', '.join(p['name'] + ' ' + p['version'] for p in policy.get('packs', [])) or 'no packs run'})")
    for violation in sorted(violations, key=lambda v: (v.get("enforcement") != "mandatory", v.get("policy", ""))):
        lines.append(f"- {violation.get('enforcement')} `{violation.get('policy')}` on `{violation.get('urn', '').rsplit('::', 1)[-1]}`: {violation.get('message', '').splitlines()[0] if violation.get('message') else ''}")
    return "\n".join(lines).rstrip() + "\n"


def diff_plan_files(old_path: Path, new_path: Path) -> str:
    try:
        return diff_plans(read_plan(old_path), read_plan(new_path))
    except ValueError as exc:
        raise DiffError(str(exc)) from None


def _default_base(root: Path) -> str:
    for ref in ("origin/main", "main"):
        if subprocess.run(["git", "rev-parse", "--verify", "--quiet", ref], cwd=root, capture_output=True).returncode == 0:
            return ref
    raise DiffError("no origin/main or main to compare against; pass BASE=<git ref>")


def _preview_into(checkout: Path, stack: str, out_dir: Path) -> Optional[dict[str, Any]]:
    """Preview one stack of a checkout with that checkout's own code; None if the stack is not there."""
    if not (checkout / f"Pulumi.{stack}.yaml").exists() or not (checkout / "mlops_tools").exists():
        return None
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(checkout), str(checkout / "policies" / "common")])}
    subprocess.run([sys.executable, "-m", "mlops_tools", "preview", "--stack", stack, "--out", str(out_dir), "--quiet"],
                   cwd=checkout, env=env, capture_output=True, text=True)
    plan_file = out_dir / f"{stack}.json"
    return read_plan(plan_file) if plan_file.exists() else None


def diff_against_ref(root: Path, base: Optional[str], stacks: list[str]) -> str:
    """Preview each stack at `base` (a git worktree) and in the working tree; one report per stack."""
    base = base or _default_base(root)
    if subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], cwd=root, capture_output=True).returncode:
        raise DiffError(f"BASE={base} is not a git commit here")
    tmp = Path(tempfile.mkdtemp(prefix="mlops-diff-"))
    worktree = tmp / "base"
    try:
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(worktree), base], cwd=root, check=True, capture_output=True)
        sections = [f"## Plan diff: `{base}` → working tree", ""]
        for stack in stacks:
            old = _preview_into(worktree, stack, tmp / "old") or {"stack": stack, "resources": [], "policy": {}}
            new = _preview_into(root, stack, tmp / "new")
            if new is None:
                sections.append(f"### Stack `{stack}`: the working tree cannot be previewed; run `make preview STACK={stack}` for the error\n")
                continue
            sections.append(diff_plans(old, new))
        return "\n".join(sections)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=root, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
