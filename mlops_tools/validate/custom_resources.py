"""Custom resources validated against their CRDs' schemas, offline.

The Kubernetes OpenAPI documents that ``kubernetes-validate`` ships know only built-in kinds. Every
custom resource the program renders (Karpenter NodePool/EC2NodeClass, External Secrets, and the
ServiceMonitors and PrometheusRules that kube-prometheus-stack creates from our chart values) is
checked here against the ``openAPIV3Schema`` of its CRD, pinned in ``mlops_tools/validate/crd_schemas/``
(source, tag and checksum in SOURCES.md there).

The API server prunes unknown fields of structural schemas, and ``kubectl``/server-side apply with
strict field validation rejects them; we treat an unknown field as an error (``additionalProperties:
false`` wherever a schema lists properties and does not preserve unknown fields), so a typo never
reaches a cluster silently. A kind without a CRD here is an error too: add its CRD to validate it.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any, Iterator, Optional

import jsonschema
import yaml

CRD_DIR = Path(__file__).resolve().parent / "crd_schemas"
KUBE_PROMETHEUS_STACK = "kube-prometheus-stack"


def _strict(schema: Any) -> Any:
    """The schema with unknown fields refused, as strict field validation does."""
    if isinstance(schema, dict):
        schema = {key: _strict(value) for key, value in schema.items()}
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        if schema.get("x-kubernetes-int-or-string"):
            schema.pop("type", None)
            schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if schema.get("nullable") and "type" in schema:
            schema["type"] = [schema["type"], "null"]
    elif isinstance(schema, list):
        schema = [_strict(item) for item in schema]
    return schema


# libyaml's loader when PyYAML has it: the Argo CRDs are 2.5 MB each (the whole pod spec), 20 s apiece
# with the pure-Python loader on a busy machine, 3 s with libyaml.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _group_schemas(group: str) -> dict[tuple[str, str], dict[str, Any]]:
    """{(apiVersion, kind): strict openAPIV3Schema} of every served version of the pinned CRDs of one
    API group (files are named ``<group>_<plural>.yaml``, so a validation loads only its group's)."""
    schemas = {}
    for path in sorted(CRD_DIR.glob(f"{group}_*.yaml")):
        for crd in yaml.load_all(path.read_text(), Loader=_LOADER):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            kind = crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    # _strict builds new dicts and lists all the way down: no copy of the loaded schema first.
                    schema = _strict(version["schema"]["openAPIV3Schema"])
                    # apiVersion/kind/metadata are checked by the API server itself.
                    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                    schemas[(f"{crd['spec']['group']}/{version['name']}", kind)] = schema
    schemas.update(_json_schema_kinds(group))
    return schemas


def _json_schema_kinds(group: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Kinds whose CRDs are schemaless upstream (Argo Events: ``spec`` preserves unknown fields), checked
    against the project's own published JSON schema (``<group>_<name>.schema.json``, one definition per
    kind, tagged with ``x-kubernetes-group-version-kind``) with the same strictness as a CRD."""
    schemas = {}
    for path in sorted(CRD_DIR.glob(f"{group}_*.schema.json")):
        definitions = _strict(json.loads(path.read_text())["definitions"])
        for name, definition in definitions.items():
            for gvk in definition.get("x-kubernetes-group-version-kind", []):
                if gvk.get("group") != group:
                    continue
                schema = copy.deepcopy(definition)
                schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                schema["properties"].pop("status", None)
                schema["definitions"] = definitions
                schemas[(f"{group}/{gvk['version']}", gvk["kind"])] = schema
    return schemas


def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """Every pinned CRD's schemas, all groups."""
    groups = sorted({path.name.split("_", 1)[0] for path in [*CRD_DIR.glob("*_*.yaml"), *CRD_DIR.glob("*_*.schema.json")]})
    return {key: schema for group in groups for key, schema in _group_schemas(group).items()}


def known_kinds() -> list[str]:
    return sorted(f"{api}/{kind}" for api, kind in _schemas())


def crd_validator(kind: str, api_version: str) -> Optional[jsonschema.Validator]:
    """A validator for a custom resource, or None when no pinned CRD serves that apiVersion and kind."""
    schema = _group_schemas(api_version.split("/", 1)[0]).get((api_version, kind))
    return None if schema is None else jsonschema.Draft7Validator(schema)


def is_builtin_group(api_version: str) -> bool:
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return group == "" or "." not in group or group.endswith(".k8s.io")


def chart_custom_resources(resource: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Custom resources a Helm release creates from our values, as the chart templates them
    (kube-prometheus-stack: ``prometheus.additionalServiceMonitors`` -> ServiceMonitor,
    ``additionalPrometheusRulesMap`` -> PrometheusRule), with the values key they come from."""
    inputs = resource.get("inputs") or {}
    if inputs.get("chart") != KUBE_PROMETHEUS_STACK:
        return
    values = inputs.get("values") or {}
    namespace = inputs.get("namespace")
    for index, monitor in enumerate(values.get("prometheus", {}).get("additionalServiceMonitors", [])):
        spec = {key: value for key, value in monitor.items() if key not in ("name", "additionalLabels")}
        yield (f"prometheus.additionalServiceMonitors[{index}]",
               {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
                "metadata": {"name": monitor.get("name"), "namespace": namespace}, "spec": spec})
    for key, rules in values.get("additionalPrometheusRulesMap", {}).items():
        yield (f"additionalPrometheusRulesMap.{key}",
               {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
                "metadata": {"name": key, "namespace": namespace}, "spec": rules})


def embedded_custom_resources(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Resources a custom resource creates from a template it carries, with the path they sit at: an Argo
    Events Sensor's ``k8s``/``argoWorkflow`` trigger source (the drift trigger's Workflow). Their own CRDs
    validate them; the Sensor's schema treats them as opaque objects."""
    if manifest.get("kind") != "Sensor" or not str(manifest.get("apiVersion", "")).startswith("argoproj.io/"):
        return
    for index, trigger in enumerate((manifest.get("spec") or {}).get("triggers") or []):
        template = (trigger or {}).get("template") or {}
        for kind in ("k8s", "argoWorkflow"):
            resource = ((template.get(kind) or {}).get("source") or {}).get("resource")
            if isinstance(resource, dict) and resource.get("kind"):
                yield f"spec.triggers[{index}].template.{kind}.source.resource", resource
