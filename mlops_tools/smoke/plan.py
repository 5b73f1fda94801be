"""A stack's rendered workload config, read from its plan file.

The plan (``build/plan/<stack>.json``) holds every Kubernetes object's inputs as the program
registered them. Secrets are written as ``"[secret]"``; a smoke run generates its own values for
those and passes them in as ``{"<secret name>/<key>": value}``; ``Workload.generated`` then says which
values were the run's own, so a report can say so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from mlops_tools.smoke import SmokeFailure

REPO = Path(__file__).resolve().parents[2]
SECRET_PLACEHOLDER = "[secret]"


def render_plan(stack: str, repo: Path = REPO) -> Path:
    """Preview ``stack`` offline without policy packs and return its plan file."""
    result = subprocess.run([sys.executable, "-m", "mlops_tools", "preview", "--stack", stack, "--no-policy", "--quiet"],
                            cwd=repo, capture_output=True, text=True)
    if result.returncode != 0:
        raise SmokeFailure(f"preview of stack {stack!r} failed:\n{result.stdout}{result.stderr}")
    return repo / "build" / "plan" / f"{stack}.json"


def load_plan(stack: str, render: bool = True, repo: Path = REPO) -> "Plan":
    path = render_plan(stack, repo) if render else repo / "build" / "plan" / f"{stack}.json"
    return Plan(json.loads(path.read_text()), source=str(path))


def _kind(resource_type: str) -> str:
    return resource_type.rsplit(":", 1)[-1]


@dataclass
class Container:
    """One rendered container: ``argv`` is command + args; ``env`` items are the rendered entries."""

    name: str
    argv: list[str]
    env: list[dict[str, Any]]
    spec: dict[str, Any]


@dataclass
class Workload:
    """A Deployment's pod template, with env resolution against the plan's ConfigMaps and Secrets."""

    plan: "Plan"
    kind: str
    name: str
    namespace: str
    pod: dict[str, Any]
    generated: list[str] = field(default_factory=list)

    @property
    def component(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def containers(self) -> list[Container]:
        return [self._container(c) for c in self.pod.get("containers", [])]

    @property
    def init_containers(self) -> list[Container]:
        return [self._container(c) for c in self.pod.get("initContainers", [])]

    def container(self, name: str) -> Container:
        for item in [*self.init_containers, *self.containers]:
            if item.name == name:
                return item
        raise SmokeFailure(f"{self.component}: no container {name!r} in the rendered pod "
                           f"(has {', '.join(c.name for c in [*self.init_containers, *self.containers])})")

    @staticmethod
    def _container(spec: dict[str, Any]) -> Container:
        return Container(spec["name"], [*spec.get("command", []), *spec.get("args", [])], list(spec.get("env", [])), spec)

    def env(self, container: Container, secrets: Mapping[str, str]) -> dict[str, str]:
        """The container's environment as the kubelet would give it (literal values and key references).

        ``secrets`` maps ``"<secret>/<key>"`` to the smoke run's own value for a Secret key the plan
        hides; a key the plan holds in clear (a non-sensitive Secret) is taken from the plan.
        """
        values: dict[str, str] = {}
        for item in container.env:
            name = item["name"]
            if "value" in item:
                values[name] = str(item["value"])
                continue
            source = item.get("valueFrom", {})
            if "secretKeyRef" in source:
                ref = source["secretKeyRef"]
                values[name] = self._secret_value(container, name, ref["name"], ref["key"], secrets)
            elif "configMapKeyRef" in source:
                ref = source["configMapKeyRef"]
                data = self.plan.k8s_object("ConfigMap", ref["name"], self.namespace).get("data", {})
                if ref["key"] not in data:
                    raise SmokeFailure(f"{self.component} container {container.name} env {name}: ConfigMap "
                                       f"{ref['name']} has no key {ref['key']!r}")
                values[name] = data[ref["key"]]
            else:
                raise SmokeFailure(f"{self.component} container {container.name} env {name}: unsupported source {source}")
        return values

    def _secret_value(self, container: Container, env_name: str, secret: str, key: str, secrets: Mapping[str, str]) -> str:
        ref = f"{secret}/{key}"
        if not self.plan.secret_exists(secret, self.namespace):
            raise SmokeFailure(f"{self.component} container {container.name} env {env_name}: Secret {secret!r} "
                               f"is made by nothing in the plan (no Secret or ExternalSecret target)")
        clear = self.plan.secret_clear_value(secret, self.namespace, key)
        if clear is not None:
            return clear
        if ref not in secrets:
            raise SmokeFailure(f"{self.component} container {container.name} env {env_name}: the plan hides "
                               f"Secret {ref}; the smoke run must supply a value for it")
        if ref not in self.generated:
            self.generated.append(ref)
        return secrets[ref]


class Plan:
    """Look-ups over one plan file."""

    def __init__(self, data: dict[str, Any], source: str = "<plan>"):
        self.data = data
        self.source = source
        self.stack: str = data["stack"]
        self.cloud: str = data["cloud"]

    def resources(self, type_prefix: str = "") -> list[dict[str, Any]]:
        return [r for r in self.data["resources"] if r["type"].startswith(type_prefix)]

    def k8s_objects(self, kind: str) -> list[dict[str, Any]]:
        return [r["inputs"] for r in self.resources("kubernetes:") if _kind(r["type"]) == kind]

    def k8s_object(self, kind: str, name: str, namespace: Optional[str] = None) -> dict[str, Any]:
        for obj in self.k8s_objects(kind):
            meta = obj.get("metadata", {})
            if meta.get("name") == name and (namespace is None or meta.get("namespace") == namespace):
                return obj
        raise SmokeFailure(f"stack {self.stack}: no {kind} {namespace or '*'}/{name} in {self.source}")

    def workload(self, name: str, namespace: Optional[str] = None, kind: str = "Deployment") -> Workload:
        obj = self.k8s_object(kind, name, namespace)
        return Workload(self, kind, name, obj["metadata"].get("namespace", "default"), obj["spec"]["template"]["spec"])

    def external_secret(self, target: str, namespace: str) -> Optional[dict[str, Any]]:
        for obj in self.k8s_objects("ExternalSecret"):
            spec = obj.get("spec", {})
            if obj["metadata"].get("namespace") == namespace and spec.get("target", {}).get("name") == target:
                return obj
        return None

    def secret_exists(self, name: str, namespace: str) -> bool:
        if self.external_secret(name, namespace) is not None:
            return True
        return any(o["metadata"].get("name") == name and o["metadata"].get("namespace") == namespace
                   for o in self.k8s_objects("Secret"))

    def secret_clear_value(self, name: str, namespace: str, key: str) -> Optional[str]:
        """A Secret key's value when the plan shows it (never for generated or external values)."""
        for obj in self.k8s_objects("Secret"):
            if obj["metadata"].get("name") == name and obj["metadata"].get("namespace") == namespace:
                data = obj.get("stringData")
                if isinstance(data, dict) and data.get(key) not in (None, SECRET_PLACEHOLDER):
                    return str(data[key])
        return None

    def helm_values(self, chart: str) -> dict[str, Any]:
        for r in self.resources("kubernetes:helm.sh/v3:Release"):
            if r["inputs"].get("chart") == chart:
                return r["inputs"].get("values", {})
        raise SmokeFailure(f"stack {self.stack}: no Helm release of chart {chart!r} in {self.source}")
