"""Render every Kubernetes object a stack registers to YAML and validate it against the cluster's schemas.

    python -m mlops_tools.validate.manifests --stack dev [--plan build/plan/dev.json] [--out build/manifests]
                                    [--kubernetes-version 1.33] [--root .]

Input is the plan file `make preview` writes (resources with their engine inputs, secrets already
"[secret]"). Each `kubernetes:*` custom resource becomes `<out>/<stack>/<kind>-<namespace>-<name>.yaml`
(cluster-scoped objects use `cluster` as namespace), validated with `kubernetes-validate` in strict
mode (unknown fields are errors) against the schemas of the cluster version in `mlops:cluster.version`.

- Values still unknown at preview (outputs of other resources) cannot be checked: where a schema
  wants another type, the value is substituted for the check and listed as a note, never an error.
- Custom resources (Karpenter NodePools, ExternalSecrets, ...) have no schema in the Kubernetes
  OpenAPI documents: they are validated against their CRDs pinned in ``mlops_tools/validate/crd_schemas/``
  (``mlops_tools.validate.custom_resources``), strictly; a custom kind without a pinned CRD is invalid. The
  ServiceMonitors and PrometheusRules kube-prometheus-stack makes from our values are checked too.
- Helm releases (`kubernetes:helm.sh/v3:Release`) are rendered by Helm inside the provider at apply
  time, so offline there is no manifest to validate: their values are written to
  `helmrelease-<namespace>-<name>.values.yaml` for review, and the chart version must be pinned.

The directory is replaced as a whole, so it never mixes two runs. Exit 0 when every manifest is
valid; 1 with one line per invalid manifest; 2 when the inputs cannot be read.
"""

from __future__ import annotations

import argparse
import copy
import functools
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils as kv_utils
import yaml
from referencing import Registry, Resource

from mlops_tools.engine.preview import SECRET_MASK, UNKNOWN
from mlops_tools.validate.custom_resources import (chart_custom_resources, crd_validator, embedded_custom_resources,
                                                   is_builtin_group)

HELM_RELEASE_TYPES = ("kubernetes:helm.sh/v3:Release",)
_PINNED_CHART = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")
_PLACEHOLDERS = {"integer": 0, "number": 0, "boolean": False, "object": {}, "array": [], "string": "unknown"}
_FILE_SAFE = re.compile(r"[^a-z0-9.-]+")


class ManifestError(Exception):
    """Inputs the tool cannot work from; printed as one line, exit code 2."""


@dataclass
class Report:
    kubernetes_version: str
    schema_version: str
    version_note: Optional[str] = None
    written: list[str] = field(default_factory=list)
    validated: list[str] = field(default_factory=list)
    without_schema: list[str] = field(default_factory=list)
    helm_values: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def supported_versions() -> list[str]:
    """Kubernetes minor versions whose schemas the installed kubernetes-validate ships, ascending."""
    minors = {kv_utils.major_minor(version) for version in kv_utils.all_versions()}
    return sorted(minors, key=lambda v: tuple(int(part) for part in v.split(".")))


def schema_version_for(cluster_version: str) -> tuple[str, Optional[str]]:
    """The supported minor version nearest to the cluster's, and a note when it is not the same."""
    match = re.fullmatch(r"(\d+)\.(\d+)(\.\d+)?", cluster_version.strip())
    if not match:
        raise ManifestError(f"Kubernetes version {cluster_version!r} is not MAJOR.MINOR (e.g. 1.33)")
    wanted = (int(match.group(1)), int(match.group(2)))
    available = supported_versions()
    as_tuple = {v: tuple(int(p) for p in v.split(".")) for v in available}
    nearest = min(available, key=lambda v: (abs(as_tuple[v][1] - wanted[1]) if as_tuple[v][0] == wanted[0] else 1000,
                                             -as_tuple[v][1]))
    if as_tuple[nearest] == wanted:
        return nearest, None
    return nearest, (f"kubernetes-validate {kubernetes_validate.__version__} has schemas for {available[0]}-{available[-1]}; "
                     f"cluster version {wanted[0]}.{wanted[1]} is validated against the nearest, {nearest}")


def cluster_version_from_config(root: Path, stack: str) -> str:
    """`mlops:cluster.version` of the stack (the config model's default when the stack file omits it)."""
    from mlops_tools.engine.preview import PreviewError, load_stack_config
    from stacks.config import ConfigError, load_config

    try:
        _, config = load_stack_config(root, stack)
        return load_config(stack, config.values).cluster.version
    except PreviewError as error:
        raise ManifestError(str(error)) from None
    except ConfigError as error:
        raise ManifestError(f"invalid stack configuration: {'; '.join(error.problems)}") from None


def manifest_of(resource: dict[str, Any]) -> dict[str, Any]:
    """The object as `kubectl apply` would get it: the engine inputs, apiVersion/kind first."""
    inputs = dict(resource.get("inputs") or {})
    ordered = {key: inputs.pop(key) for key in ("apiVersion", "kind", "metadata") if key in inputs}
    return {**ordered, **dict(sorted(inputs.items()))}


def file_name(kind: str, namespace: Optional[str], name: str, suffix: str = ".yaml") -> str:
    parts = [kind, namespace or "cluster", name]
    return "-".join(_FILE_SAFE.sub("_", str(part).lower()) for part in parts) + suffix


def _path_text(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


def _set_at(document: Any, path: list[Any], value: Any) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = value


def _schema_dir(minor: str) -> str:
    full = max((v for v in kv_utils.all_versions() if kv_utils.major_minor(v) == minor),
               key=lambda v: tuple(int(p) for p in v.split(".")))
    return f"kubernetes-json-schema/v{full}-local-strict"


@functools.lru_cache(maxsize=None)
def _definitions(version: str) -> Registry:
    """The shared definitions of one version's strict schemas (1.5 MB: load them once, not per object)."""
    contents = kv_utils.schema_contents(f"{_schema_dir(version)}/_definitions.json", version)
    return Resource.from_contents(contents) @ Registry()


@functools.lru_cache(maxsize=None)
def _validator(version: str, kind: str, api_version: str) -> Optional[jsonschema.Validator]:
    """kubernetes-validate's strict schema for a kind, as a reusable validator; None for custom resources.

    The same files, naming and $ref resolution `kubernetes_validate.validate(..., strict=True)` uses,
    kept per kind so a stack's fifty objects do not each reload the schema documents.
    """
    if not is_builtin_group(api_version):
        return crd_validator(kind, api_version)  # custom resource: its pinned CRD's schema
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv_utils.schema_contents(
            f"{_schema_dir(version)}/{kind.lower()}-{group_version}.json", version)
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ _definitions(version)
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def validate_manifest(manifest: dict[str, Any], version: str) -> tuple[dict[str, Any], list[str], list[str], bool]:
    """Validate one object; return the document as checked, errors, notes, and whether a schema exists.

    A value the plan does not show (unknown until apply, or a secret masked as "[secret]") cannot be
    checked. Where the schema wants another type there, a typed placeholder takes its place in the
    checked document and a note says so; everything around it is still validated.
    """
    validator = _validator(version, str(manifest["kind"]), str(manifest["apiVersion"]))
    document = copy.deepcopy(manifest)
    if validator is None:
        return document, [], [], False
    notes: list[str] = []
    errors: list[str] = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        if error.instance in (UNKNOWN, SECRET_MASK) and error.validator == "type" and path:
            wanted = error.validator_value if isinstance(error.validator_value, str) else error.validator_value[0]
            why = "unknown until apply" if error.instance == UNKNOWN else "a secret (masked in the plan)"
            notes.append(f"{_path_text(path)} is {why}: not checked")
            _set_at(document, path, copy.deepcopy(_PLACEHOLDERS.get(wanted)))
        else:
            errors.append(f"{_path_text(path)}: {error.message}")
    return document, errors, notes, True


def _helm_values_document(resource: dict[str, Any]) -> tuple[str, list[str]]:
    inputs = resource.get("inputs") or {}
    problems = []
    version = inputs.get("version")
    if not isinstance(version, str) or not _PINNED_CHART.match(version):
        problems.append(f"chart version {version!r} is not pinned to an exact version")
    repository = (inputs.get("repositoryOpts") or {}).get("repo", "")
    header = (f"# Helm release {inputs.get('name', resource['name'])} in namespace {inputs.get('namespace', 'default')}\n"
              f"# chart: {inputs.get('chart')} {version} from {repository or '(chart path)'}\n"
              "# Rendered by Helm at apply time; these are the values it receives.\n")
    return header + yaml.safe_dump(inputs.get("values") or {}, sort_keys=True, default_flow_style=False), problems


def render(plan: dict[str, Any], kubernetes_version: str, target: Path) -> Report:
    """Write every manifest of `plan` into `target` (replaced atomically) and validate them."""
    schema_version, note = schema_version_for(kubernetes_version)
    report = Report(kubernetes_version, schema_version, note)
    files: dict[str, str] = {}
    for resource in plan.get("resources") or []:
        type_token = resource.get("type", "")
        if not type_token.startswith("kubernetes:") or not resource.get("custom"):
            continue
        if type_token in HELM_RELEASE_TYPES:
            inputs = resource.get("inputs") or {}
            name = file_name("helmrelease", inputs.get("namespace"), inputs.get("name") or resource["name"], ".values.yaml")
            document, problems = _helm_values_document(resource)
            report.invalid += [f"{name}: {problem}" for problem in problems]
            for key, custom in chart_custom_resources(resource):
                _, errors, notes, has_schema = validate_manifest(custom, schema_version)
                what = f"{name}: values {key} ({custom['kind']} {custom['metadata']['name']})"
                if not has_schema:
                    report.invalid.append(f"{what}: no pinned CRD for {custom['apiVersion']} {custom['kind']}")
                report.invalid += [f"{what}: {error}" for error in errors]
                report.notes += [f"{what}: {note_text}" for note_text in notes]
            report.helm_values.append(name)
            files[name] = document
            continue
        manifest = manifest_of(resource)
        meta = manifest.get("metadata") or {}
        kind = manifest.get("kind") or type_token.rsplit(":", 1)[-1]
        name = meta.get("name") if isinstance(meta.get("name"), str) and meta.get("name") != UNKNOWN else None
        if name is None:
            report.notes.append(f"{type_token} {resource['name']}: no metadata.name (the provider autonames it); "
                                "file named after the Pulumi resource")
        namespace = meta.get("namespace") if meta.get("namespace") != UNKNOWN else "unknown"
        filename = file_name(kind, namespace, name or resource["name"])
        if filename in files:
            report.invalid.append(f"{filename}: two resources render to the same object ({resource['urn']})")
            continue
        header = ""
        if not manifest.get("apiVersion") or not manifest.get("kind"):
            report.invalid.append(f"{filename}: apiVersion and kind are required")
        else:
            manifest, errors, notes, has_schema = validate_manifest(manifest, schema_version)
            if errors:
                report.invalid.append(f"{filename}: {'; '.join(errors)}")
            for path, embedded in embedded_custom_resources(manifest):
                _, inner, _, inner_schema = validate_manifest(embedded, schema_version)
                what = f"{filename}: {path} ({embedded.get('apiVersion')} {embedded.get('kind')})"
                report.invalid += [f"{what}: {error}" for error in inner]
                if not inner_schema:
                    report.invalid.append(f"{what}: no pinned CRD or schema for this kind")
            report.notes += [f"{filename}: {note_text}" for note_text in notes]
            (report.validated if has_schema else report.without_schema).append(filename)
            if not has_schema and not is_builtin_group(str(manifest["apiVersion"])):
                report.invalid.append(f"{filename}: custom resource {manifest['apiVersion']} {kind} has no pinned CRD "
                                      "in mlops_tools/validate/crd_schemas/ (add its CRD, see SOURCES.md there)")
            header = "".join(f"# placeholder: {note_text}\n" for note_text in notes)
            if not has_schema:
                header += "# no schema for this kind: rendered, not validated\n"
        files[filename] = header + yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False)
    report.written = sorted(files)

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for filename, text in files.items():
            (staging / filename).write_text(text)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


def _summary(report: Report, target: Path) -> str:
    lines = []
    if report.version_note:
        lines.append(f"note: {report.version_note}")
    lines.append(f"{len(report.written)} files in {target}/: {len(report.validated)} manifests validated against the "
                 f"Kubernetes {report.schema_version} schemas (strict), {len(report.without_schema)} custom resources "
                 f"without a schema (rendered only), {len(report.helm_values)} Helm release values files")
    lines += [f"note: {note}" for note in report.notes]
    lines += [f"custom resource (no schema): {name}" for name in report.without_schema]
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_tools.validate.manifests", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--plan", help="plan file (default build/plan/<stack>.json)")
    parser.add_argument("--out", default="build/manifests", help="output root (default build/manifests)")
    parser.add_argument("--root", default=".", help="project directory with Pulumi.<stack>.yaml (default .)")
    parser.add_argument("--kubernetes-version", help="override mlops:cluster.version (MAJOR.MINOR)")
    args = parser.parse_args(argv)

    from mlops_tools.engine.plan import read_plan

    try:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", args.stack):
            raise ManifestError(f"stack name {args.stack!r} may hold letters, digits, '.', '_' and '-' only")
        plan_path = Path(args.plan or f"build/plan/{args.stack}.json")
        try:
            plan = read_plan(plan_path)
        except ValueError as error:
            hint = " (run `make preview STACK=<stack>` first)" if not plan_path.exists() else ""
            raise ManifestError(f"{error}{hint}") from None
        version = args.kubernetes_version or cluster_version_from_config(Path(args.root), args.stack)
        target = Path(args.out) / args.stack
        report = render(plan, version, target)
    except ManifestError as error:
        print(f"manifests: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"manifests: cannot write {args.out}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(_summary(report, target))
    if report.invalid:
        for line in report.invalid:
            print(f"invalid: {target}/{line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # output piped into `head`: nothing left to say
        sys.exit(0)
