"""Reading a workflow file the way GitHub reads it: YAML 1.2 booleans (`on:` stays "on"), steps, action names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml


@dataclass(frozen=True)
class Finding:
    path: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.message}" if self.where else f"{self.path}: {self.message}"


class _WorkflowLoader(yaml.SafeLoader):
    """YAML 1.2 booleans only: `on:` must stay the string "on", as GitHub reads it."""


_WorkflowLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_WorkflowLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_WorkflowLoader)


def iter_steps(job: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, step in enumerate(job.get("steps") or []):
        if isinstance(step, dict):
            yield index, step


def step_label(index: int, step: dict[str, Any]) -> str:
    return f"step {index + 1} ({step.get('name') or step.get('uses') or 'run'})"


def action_name(uses: str) -> str:
    return uses.split("@", 1)[0].lower()


def uses_action(step: dict[str, Any], *names: str) -> bool:
    uses = step.get("uses")
    return isinstance(uses, str) and any(action_name(uses) == name or action_name(uses).startswith(name + "/")
                                         for name in names)
