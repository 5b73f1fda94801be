"""Reading `Pulumi.yaml`, `Pulumi.<stack>.yaml` and command-line overrides into the config the program sees.

The real CLI reads these files itself; the offline preview must read them the same way, and must be
stricter where the CLI would silently do the wrong thing: a duplicated key (YAML keeps the last), an
impossible date (`2027-13-45` is a YAML timestamp that no calendar has), a key without the `mlops:`
namespace (the CLI files it under the project's namespace, where this program never looks). Every
problem becomes one line of a `ConfigError` that names the file (or `--config`), the key, the value
and what is allowed; nothing here raises anything else.

Overrides follow `pulumi config set --path`: `mlops:dr.replicaRegion=us-west-2` or
`mlops:trainingPools[0].maxNodes=0` change one field; `mlops:tracking={"dbInstanceClass": ...}`
merges into the section instead of replacing it (a replaced section silently drops the stack file's
other settings, e.g. prod's storage size).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from stacks.config import NAMESPACE, ConfigError

# Config namespaces this program or its providers read; a key in any other namespace is ignored by
# everything, which is never what the user meant.
KNOWN_NAMESPACES = ("mlops", "aws", "azure-native", "gcp", "kubernetes", "random", "pulumi")

_PATH_PART = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
_OVERRIDE_START = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:\[\]-]*=")


@dataclass
class StackConfig:
    """What the program is given: `namespace:key` -> the string the CLI would pass (objects as JSON)."""

    values: dict[str, str]
    secret_keys: list[str]


class StackFileMissing(ConfigError):
    """There is no Pulumi.<stack>.yaml: not a problem inside a config, so it is reported on its own."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and turns impossible dates into a message with the line."""

    problems: list[str]
    source: str


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            loader.problems.append(f"{loader.source}:{line}: key {key!r} appears twice (first on line {seen[key]}); "
                                   "YAML keeps only the last one: remove or merge the duplicate")
        seen.setdefault(key, line)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as error:
        loader.problems.append(f"{loader.source}:{node.start_mark.line + 1}: {node.value!r} is not a real date "
                               f"({error}); dates are YYYY-MM-DD")
        return node.value


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _load_yaml(text: str, source: str) -> tuple[Any, list[str]]:
    """Parse one YAML document; return (document, problems). Syntax errors keep their line and column."""
    loader = _StrictLoader(text)
    loader.problems, loader.source = [], source
    try:
        return loader.get_single_data(), loader.problems
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        detail = "; ".join(part for part in (error.context, error.problem) if part)
        snippet = mark.get_snippet() if mark else None
        return None, [f"{where}: YAML syntax error: {detail}" + (f"\n{snippet}" if snippet else "")]
    except yaml.YAMLError as error:
        return None, [f"{source}: YAML error: {error}"]
    finally:
        loader.dispose()


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError([f"{path.name}: cannot read: {error.strerror}"]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ConfigError([f"{path.name}:{line}: not UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); "
                           "save the file as UTF-8"]) from None


def _config_section(doc: Any, source: str) -> dict[str, Any]:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError([f"{source}: the file must be a mapping with a `config:` key, not a {type(doc).__name__}"])
    section = doc.get("config")
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ConfigError([f"{source}: `config:` must be a mapping of key: value, not a {type(section).__name__}"])
    return section


def config_string(value: Any) -> str:
    """How the CLI hands a config value to the program: scalars as strings, objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)  # YAML dates (waiver expiry) stay ISO strings, as the CLI passes them
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _namespace_problem(key: str, raw_key: str, source: str, project: str, declared: set[str]) -> Optional[str]:
    """Why Pulumi would hand this key to nobody; None when some reader exists.

    A key without a namespace lands in the project's namespace, which a program may read, so it is
    accepted unless its name is one of this program's `mlops:` keys (then it is surely a slip).
    """
    namespace, _, name = key.partition(":")
    if ":" not in raw_key:
        if f"{NAMESPACE}:{raw_key}" in declared:
            return (f"{source}: {raw_key!r} has no namespace, so Pulumi files it under the project's ({namespace}:), "
                    f"where this program never reads it: did you mean {NAMESPACE}:{raw_key}?")
        return None
    if namespace in KNOWN_NAMESPACES or namespace == project:
        return None
    close = difflib.get_close_matches(namespace, KNOWN_NAMESPACES, n=1)
    hint = f" (did you mean {close[0]}:{name}?)" if close else ""
    return f"{source}: {key!r}: unknown config namespace {namespace!r}{hint}; known: {', '.join(KNOWN_NAMESPACES)}"


def _parse_value(raw: str, source: str) -> Any:
    """An override's value as YAML flow (JSON is YAML): numbers, booleans, lists and objects keep their type."""
    text = raw.strip()
    if not text:
        return ""
    try:
        return yaml.safe_load(text) if text[:1] in "[{\"'" or text in ("true", "false") or _is_number(text) else raw
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError([f"{source}: value {raw!r} is not valid JSON/YAML ({problem})"]) from None


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+(\.\d+)?", text))


def _split_path(path: str, source: str) -> list[Any]:
    """`dr.replicaRegion` -> ['dr', 'replicaRegion']; `trainingPools[0].maxNodes` -> ['trainingPools', 0, 'maxNodes']."""
    parts: list[Any] = []
    position = 0
    while position < len(path):
        match = _PATH_PART.match(path, position)
        if not match or (match.group(0).startswith(".") and not parts):
            raise ConfigError([f"{source}: cannot read key path {path!r} at {path[position:]!r}; "
                               "use name.field or name[index].field"])
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    return parts


def _top_key(raw_key: str, source: str) -> tuple[str, str]:
    """`mlops:trainingPools[0].maxNodes` -> ('mlops:trainingPools', '[0].maxNodes')."""
    namespace, colon, name = raw_key.rpartition(":") if ":" in raw_key else ("", "", raw_key)
    match = re.match(r"[A-Za-z_][A-Za-z0-9_-]*", name)
    if not match:
        raise ConfigError([f"{source}: {raw_key!r} is not a config key (namespace:name, e.g. {NAMESPACE}:region)"])
    path = name[match.end():]
    return namespace + colon + match.group(0), path[1:] if path.startswith(".") else path


def merge(base: Any, override: Any) -> Any:
    """Objects merge key by key (recursively); anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base.get(key), value)
        return merged
    return override


def _set_path(root: Any, parts: list[Any], value: Any, source: str) -> Any:
    """A copy of `root` with the value at `parts` set (lists may grow by one at their end)."""
    if not parts:
        return merge(root, value)
    head, rest = parts[0], parts[1:]
    if isinstance(head, int):
        items = list(root) if isinstance(root, list) else None
        if items is None:
            raise ConfigError([f"{source}: [{head}] indexes a list, but the value there is {json.dumps(root)}"])
        if head > len(items):
            raise ConfigError([f"{source}: index [{head}] is past the end of a list of {len(items)}; "
                               f"use [{len(items)}] to append"])
        if head == len(items):
            items.append(None)
        items[head] = _set_path(items[head], rest, value, source)
        return items
    container = dict(root) if isinstance(root, dict) else ({} if root is None else None)
    if container is None:
        raise ConfigError([f"{source}: .{head} needs an object, but the value there is {json.dumps(root)}"])
    container[head] = _set_path(container.get(head), rest, value, source)
    return container


def split_overrides(text: str) -> list[str]:
    """Split a Makefile `CONFIG="k=v k2=v2"` string without breaking values that contain spaces.

    A new override starts at a word that looks like `key=` once the previous one's brackets and
    quotes are closed, so `mlops:tags={"team": "ml ops"}` stays one override.
    """
    overrides: list[str] = []
    for word in text.split():
        if overrides and not (_OVERRIDE_START.match(word) and _balanced(overrides[-1])):
            overrides[-1] += " " + word
        else:
            overrides.append(word)
    return overrides


def _balanced(text: str) -> bool:
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return depth <= 0 and not quote


def load_stack_files(root: Path, stack: str, overrides: Iterable[str] = ()) -> tuple[str, StackConfig]:
    """Project name and the stack's config: Pulumi.yaml defaults, the stack file, then KEY=VALUE overrides."""
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        available = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise StackFileMissing([f"no stack file {stack_file.name}; stacks here: {', '.join(available) or 'none'}"])
    problems: list[str] = []
    project_doc, found = _load_yaml(_read_text(root / "Pulumi.yaml"), "Pulumi.yaml")
    problems += found
    stack_doc, found = _load_yaml(_read_text(stack_file), stack_file.name)
    problems += found
    if problems:
        raise ConfigError(problems)
    project = str((project_doc or {}).get("name", "project")) if isinstance(project_doc, dict) else "project"

    parsed: dict[str, Any] = {}
    secret_keys: list[str] = []
    project_section = _config_section(project_doc, "Pulumi.yaml")
    declared = {str(key) for key in project_section}
    for key, spec in project_section.items():
        if isinstance(spec, dict) and "default" in spec:
            parsed[_qualify(str(key), project)] = spec["default"]
    for raw_key, value in _config_section(stack_doc, stack_file.name).items():
        key = _qualify(str(raw_key), project)
        problem = _namespace_problem(key, str(raw_key), stack_file.name, project, declared)
        if problem:
            problems.append(problem)
            continue
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted with the stack's secrets provider: not readable offline, but still a secret.
            parsed[key] = "offline-preview-secret"
            secret_keys.append(key)
        else:
            parsed[key] = value
    for override in overrides:
        source = f"--config {override!r}"
        if "=" not in override:
            problems.append(f"{source}: must look like KEY=VALUE (e.g. {NAMESPACE}:region=eu-west-1 "
                            f"or {NAMESPACE}:dr.replicaRegion=us-west-2)")
            continue
        raw_key, raw_value = override.split("=", 1)
        raw_key = raw_key.strip()
        try:
            top, path = _top_key(raw_key, source)
            key = _qualify(top, project)
            problem = _namespace_problem(key, top, source, project, declared)
            if problem:
                problems.append(problem)
                continue
            value = _parse_value(raw_value, source)
            current = parsed.get(key)
            if isinstance(current, str) and current[:1] in "[{":
                current = json.loads(current)
            parsed[key] = _set_path(current, _split_path(path, source) if path else [], value, source)
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    values = {key: config_string(value) for key, value in parsed.items()}
    return project, StackConfig(values, sorted(secret_keys))
