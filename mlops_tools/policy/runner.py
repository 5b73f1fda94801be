"""Run CrossGuard policy packs over a previewed stack, the way `pulumi preview --policy-pack` does.

Each pack is started exactly as the CLI starts a Python pack: `<python> __main__.py` with the
pack directory as working directory (PYTHONPATH adds policies/common, which the pack's
requirements.txt installs as `../common` under the CLI). The pack prints the port of its
Analyzer gRPC server; we then speak the Analyzer protocol: GetAnalyzerInfo, Configure (the
CLI's --policy-pack-config format), Analyze once per resource and AnalyzeStack once.

Starting and stopping a pack's process is `pack_process.py`; which packs run and which resources
each receives is `selection.py`; this module speaks the protocol. `PolicyPacks` starts the packs
ahead of the analysis, so they boot while the program runs instead of after it.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2

from mlops_tools.policy.pack_process import PolicyPackError, _PackProcess, declared_provider, discover_packs
from mlops_tools.policy.requests import Requests, to_struct
from mlops_tools.policy.selection import TypeFilter, boot_first, pack_runs, packages_in, stack_cloud_hint

__all__ = ["FRAMEWORK_TAG_SEPARATOR", "PackInfo", "PolicyInfo", "PolicyPackError", "PolicyPacks", "Violation",
           "configure_request", "discover_packs", "run_policy_packs"]

FRAMEWORK_TAG_SEPARATOR = ":"

_LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}
_LEVEL_NAMES = {value: name for name, value in _LEVELS.items()}
_SEVERITY_NAMES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}

@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    severity: str
    enforcement_level: str
    remediation: str
    frameworks: list = field(default_factory=list)   # "<framework id>:<control id>" tags
    url: Optional[str] = None
    tags: list = field(default_factory=list)         # plain labels (no framework)
    framework: Optional[dict] = None                 # the SDK's primary framework (name/version/reference)
    config_schema: Optional[dict] = None


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    policies: list  # list[PolicyInfo]
    provider: str = ""  # what the pack declares in GetAnalyzerInfo ("" = any)


@dataclass(frozen=True)
class Violation:
    pack: str
    policy: str
    severity: str
    enforcement: str
    urn: str
    message: str

    def sort_key(self) -> tuple:
        return (self.pack, self.policy, self.urn, self.message, self.enforcement, self.severity)

    def to_dict(self) -> dict:
        return {"pack": self.pack, "policy": self.policy, "severity": self.severity,
                "enforcement": self.enforcement, "urn": self.urn, "message": self.message}


# --- protocol ----------------------------------------------------------------------------------------


def _policy_info(proto: Any) -> PolicyInfo:
    tags = list(proto.tags)
    framework = None
    if proto.HasField("framework"):
        framework = {"name": proto.framework.name, "version": proto.framework.version,
                     "reference": proto.framework.reference, "specification": proto.framework.specification}
    schema = None
    if proto.HasField("configSchema"):
        schema = {"properties": json_format.MessageToDict(proto.configSchema.properties),
                  "required": list(proto.configSchema.required)}
    return PolicyInfo(
        name=proto.name,
        description=proto.description,
        severity=_SEVERITY_NAMES.get(proto.severity, ""),
        enforcement_level=_LEVEL_NAMES.get(proto.enforcementLevel, "advisory"),
        remediation=proto.remediation_steps,
        frameworks=[t for t in tags if FRAMEWORK_TAG_SEPARATOR in t],
        url=proto.url or None,
        tags=[t for t in tags if FRAMEWORK_TAG_SEPARATOR not in t],
        framework=framework,
        config_schema=schema,
    )


def _level(value: Any, where: str) -> int:
    if not isinstance(value, str) or value not in _LEVELS:
        raise PolicyPackError(f"policy config {where}: enforcement level {value!r} is not one of {', '.join(_LEVELS)}")
    return _LEVELS[value]


def _check_config_keys(config: Mapping[str, Any], packs: Iterable[PackInfo]) -> None:
    known = {p.name for pack in packs for p in pack.policies}
    unknown = sorted(k for k in config if k != "all" and k not in known)
    if unknown:
        raise PolicyPackError(f"policy config names unknown policies: {', '.join(unknown)}")


def configure_request(pack: PackInfo, config: Optional[Mapping[str, Any]]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """Translate the CLI's config format into the pack's ConfigureAnalyzerRequest.

    ``{"all": level, "<policy>": level | {"enforcementLevel": level, <property>: value}}``; every
    policy gets its default level and schema defaults unless overridden (as the CLI does).
    """
    config = dict(config or {})
    all_level = config.get("all")
    if isinstance(all_level, dict):
        all_level = all_level.get("enforcementLevel")
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    checked: set = set()
    for policy in pack.policies:
        level = _LEVELS.get(policy.enforcement_level, analyzer_pb2.ADVISORY)
        if all_level is not None:
            level = _level(all_level, "all")
        properties = {name: spec["default"] for name, spec in ((policy.config_schema or {}).get("properties") or {}).items()
                      if isinstance(spec, dict) and "default" in spec}
        entry = config.get(policy.name)
        given: dict = {}  # the properties the config sets (the rest are the schema's own defaults)
        if isinstance(entry, str):
            level = _level(entry, policy.name)
        elif isinstance(entry, dict):
            if "enforcementLevel" in entry:
                level = _level(entry["enforcementLevel"], policy.name)
            given = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            properties.update(given)
        elif entry is not None:
            raise PolicyPackError(f"policy config {policy.name}: expected an enforcement level or an object")
        if policy.config_schema and given:
            _validate_config(policy.name, properties, {"type": "object", **policy.config_schema}, checked)
        request.policyConfig[policy.name].CopyFrom(analyzer_pb2.PolicyConfig(enforcementLevel=level,
                                                                             properties=to_struct(properties)))
    return request


def _validate_config(name: str, properties: dict, schema: dict, checked: set) -> None:
    """Validate one policy's config against its schema; an identical (schema, config) pair is checked once.

    Called only for a policy the config sets properties of: a policy left at its schema's defaults has
    nothing of the user's to check (that every pack's defaults satisfy its schemas is a test,
    tests/policy/test_runner.py), and importing jsonschema cost ~0.04 s of every preview. Most
    policies share one schema and config (`excludeFor`), so an identical pair is validated once (issue 18).
    """
    key = json.dumps([schema, properties], sort_keys=True, default=str)
    if key in checked:
        return
    import jsonschema

    try:
        jsonschema.validate(properties, schema)
    except jsonschema.ValidationError as exc:
        path = ".".join(str(p) for p in exc.absolute_path)
        raise PolicyPackError(f"policy config {name}{'.' + path if path else ''}: {exc.message}") from None
    checked.add(key)


def _violation(pack: PackInfo, diagnostic: Any, default_urn: str) -> Violation:
    info = {p.name: p for p in pack.policies}.get(diagnostic.policyName)
    message = diagnostic.message
    if info and message.startswith(info.description + "\n"):
        message = message[len(info.description) + 1:]  # the SDK prefixes the description; the report has it
    severity = _SEVERITY_NAMES.get(diagnostic.severity, "") or (info.severity if info else "")
    return Violation(pack=pack.name, policy=diagnostic.policyName, urn=diagnostic.urn or default_urn,
                     message=message, severity=severity,
                     enforcement=_LEVEL_NAMES.get(diagnostic.enforcementLevel, "advisory"))


def _analyze(process: _PackProcess, pack: PackInfo, requests: Requests, config: Any) -> list:
    """One pack's analysis as the CLI runs it: Configure, Analyze per resource it reads, AnalyzeStack once.

    After the program, not while it runs as the engine does: measured (issue 18), sending each
    resource as it was registered made dev and prod ~0.1 s slower in wall and CPU time; the stream's
    threads and the pack processes took the GIL and the second core from the program. Measured again
    with each registration's Analyze put in flight and nothing waiting on it: prod's analysis after the
    program fell from ~0.2 to ~0.09 s, but the program itself took ~0.25 s more CPU (each answer wakes
    the gRPC client's thread in this process, which then takes the interpreter lock from the program)
    and the packs ~0.08 s more (one call at a time instead of a queue of them).
    """
    process.call("Configure", configure_request(pack, config))
    wanted = TypeFilter(process.declared_types(), (p.name for p in pack.policies))
    found = []
    analyzed = requests.analyze(wanted.resource)
    for request, response in zip(analyzed, process.call_each("Analyze", analyzed)):
        # A per-resource diagnostic without URN (e.g. the SDK's "can't run policy during preview") is
        # about the analyzed resource: the engine files it under that resource too.
        found += [_violation(pack, d, request.urn) for d in response.diagnostics]
    response = process.call("AnalyzeStack", requests.stack(wanted.stack))
    return found + [_violation(pack, d, "") for d in response.diagnostics]


def _pack_info(process: _PackProcess) -> PackInfo:
    process.connect()
    info = process.call("GetAnalyzerInfo", empty_pb2.Empty())
    # Python packs always answer 0.0.1; the CLI (and we) take the version from PulumiPolicy.yaml.
    return PackInfo(name=info.name, version=process.version or info.version,
                    policies=sorted((_policy_info(p) for p in info.policies), key=lambda p: p.name),
                    provider=info.provider)


def _check_config_levels(policy_config: Optional[Mapping[str, Any]]) -> None:
    if policy_config is not None and not isinstance(policy_config, Mapping):
        raise PolicyPackError("policy config must be an object mapping policy names to levels or settings")
    for key, entry in (policy_config or {}).items():
        level = entry.get("enforcementLevel") if isinstance(entry, Mapping) else entry
        if level is not None or not isinstance(entry, Mapping):
            _level(level, key)


class PolicyPacks:
    """Packs started now, analysing later: create it when the preview starts, call `analyze` after.

    Booting a pack (a Python process importing pulumi_policy and its rules) took 0.6-0.7 s after the
    program had finished; started first, it overlaps the program. `boot_now(provider)` may defer the
    packs whose `__main__.py` declares a provider the stack probably does not use (a hint from its
    config): they boot after the program only if its plan needs them, so a wrong hint costs time,
    never a pack. Use as a context manager (or call `stop`) so no pack process outlives an error.
    """

    def __init__(self, pack_dirs: Iterable[Path], policy_config: Optional[Mapping[str, Any]] = None, *,
                 boot_now: Optional[Callable[[Optional[str]], bool]] = None):
        _check_config_levels(policy_config)  # fail before starting anything
        self._config = policy_config
        self._dirs = [Path(d) for d in pack_dirs]
        self._processes: dict = {}  # pack dir -> _PackProcess
        self._booting: dict = {}    # pack dir -> Future[PackInfo]
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self._dirs)))
        try:
            # Every pack process first, while this process has no other thread (so they may be forked,
            # pack_process.py), then their boots in the pool.
            now = [d for d in self._dirs if boot_now is None or boot_now(declared_provider(d))]
            for pack_dir in now:
                self._processes[pack_dir] = _PackProcess(pack_dir, allow_fork=True)
            for pack_dir in now:
                self._booting[pack_dir] = self._pool.submit(_pack_info, self._processes[pack_dir])
        except BaseException:
            self.stop()
            raise

    @classmethod
    def for_stack(cls, root: Path, stack: str, overrides: Iterable[str] = (),
                  policy_config: Optional[Mapping[str, Any]] = None, *, all_packs: bool = False) -> "PolicyPacks":
        """The packs under `root/policies` for a preview of `stack`: its cloud's pack and kubernetes boot
        now (`selection.boot_first`), others only if its plan needs them; every pack with `all_packs`."""
        hint = None if all_packs else boot_first(stack_cloud_hint(root, stack, overrides))
        return cls(discover_packs(root / "policies"), policy_config, boot_now=hint)

    def _boot(self, pack_dir: Path) -> None:
        self._processes[pack_dir] = _PackProcess(pack_dir)
        self._booting[pack_dir] = self._pool.submit(_pack_info, self._processes[pack_dir])

    def __enter__(self) -> "PolicyPacks":
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stop()

    def _booted(self, wanted: Callable[[Path], bool]) -> list:
        """(dir, PackInfo) of every pack, booting the deferred ones `wanted` asks for; in pack order."""
        for pack_dir in self._dirs:
            if pack_dir not in self._processes and wanted(pack_dir):
                self._boot(pack_dir)
        return [(d, self._booting[d].result()) for d in self._dirs if d in self._booting]

    def analyze(self, resources: Iterable[Mapping[str, Any]], *, all_packs: bool = True,
                property_structs: Optional[Mapping[str, Any]] = None) -> tuple[list[PackInfo], list[Violation]]:
        """Analyze ``resources`` (preview_program().resources) and stop the packs.

        ``all_packs=False`` runs only the packs `selection.pack_runs` picks for these resources.
        ``property_structs`` is the preview's `property_structs` (inputs already in protobuf form).
        Returns the packs that ran (sorted by name) and their violations, sorted by pack, policy, URN, message.
        """
        try:
            requests = Requests(resources, property_structs)
            present = packages_in(requests.resources)
            booted = self._booted(lambda d: all_packs or pack_runs(declared_provider(d) or "", present))
            if self._config and set(self._config) - {"all"} - {p.name for _, pack in booted for p in pack.policies}:
                booted = self._booted(lambda d: True)  # the config may name a deferred pack's policy
            packs = [pack for _, pack in booted]
            names = [p.name for p in packs]
            if len(set(names)) != len(names):
                raise PolicyPackError(f"two policy packs share a name: {', '.join(sorted(names))}")
            _check_config_keys(self._config or {}, packs)
            chosen = [(self._processes[d], pack) for d, pack in booted if all_packs or pack_runs(pack.provider, present)]
            for pack_dir, _ in booted:
                if all(self._processes[pack_dir] is not process for process, _ in chosen):
                    self._processes[pack_dir].stop()
            results = list(self._pool.map(lambda pair: _analyze(pair[0], pair[1], requests, self._config), chosen))
        finally:
            self.stop()
        violations = sorted((v for found in results for v in found), key=Violation.sort_key)
        return sorted((pack for _, pack in chosen), key=lambda p: p.name), violations

    def stop(self) -> None:
        processes = list(self._processes.values())
        for process in processes:
            process.terminate()  # a pack still booting gives up reading its port at once
        self._pool.shutdown(wait=True)
        for process in processes:
            process.stop()


def run_policy_packs(resources: list, pack_dirs: Iterable[Path], policy_config: Optional[Mapping[str, Any]] = None,
                     *, all_packs: bool = True) -> tuple[list[PackInfo], list[Violation]]:
    """Start every pack concurrently, analyze ``resources`` (preview_program().resources) and stop them all.

    Returns the packs (sorted by name) and their violations, sorted by pack, policy, URN, message.
    """
    with PolicyPacks(pack_dirs, policy_config) as packs:
        return packs.analyze(resources, all_packs=all_packs)
