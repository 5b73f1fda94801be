"""The waiver examples users copy from the docs name a policy some pack has and a resource a stack has."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def policy_names() -> set[str]:
    names = set()
    for path in (ROOT / "policies").rglob("*.py"):
        names |= set(re.findall(r'name="([a-z0-9-]+)"', path.read_text()))
    return names


def documented_waivers():
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in re.findall(r"```yaml\n(.*?)```", path.read_text(), re.S):
            if "mlops:waivers:" in block:
                for waiver in yaml.safe_load(block)["mlops:waivers"]:
                    yield path.name, waiver


def test_documented_waivers_name_real_policies_and_resources():
    examples = list(documented_waivers())
    assert examples, "the docs show at least one waiver example"
    names = policy_names()
    stack_text = "".join(p.read_text() for p in ROOT.glob("Pulumi.*.yaml"))
    for where, waiver in examples:
        assert waiver["policy"] in names, f"{where}: {waiver['policy']} is not a policy of any pack"
        assert f"resource: {waiver['resource']}" in stack_text or "*" in waiver["resource"], \
            f"{where}: {waiver['resource']} is not a resource any stack waives (use a real resource name)"
