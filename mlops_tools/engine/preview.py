"""Offline preview: run a Pulumi program under the SDK's own mock monitor and record what it registers.

This is what `pulumi preview` would send to the engine, minus the cloud: every RegisterResource
request (type, name, parent, provider, dependencies, protect, inputs with engine property names)
and the stack outputs. Values the engine would treat as secret stay marked, so the plan file can
mask them while the policy packs still see real values, as they do under the CLI.
"""

from __future__ import annotations

import asyncio
import os
import runpy
import sys
import sysconfig
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import pulumi
from google.protobuf import json_format
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import register_stack_transformation, run_in_stack, run_pulumi_func

from mlops_tools.engine import offline
from mlops_tools.engine.mocks import PlatformMocks
from mlops_tools.engine.runtime import collector_tuned
from stacks.stackfile import StackConfig, load_stack_files

UNKNOWN = rpc.UNKNOWN
# The key of the SDK's wire encoding of secrets, resource references, assets and archives in a Struct.
_SIGNATURE_KEY = rpc._special_sig_key.encode()
SECRET_MASK = "[secret]"
STACK_TYPE = "pulumi:pulumi:Stack"
PLAN_RESOURCE_KEYS = ("urn", "type", "name", "custom", "parent", "provider", "inputs", "dependencies", "protect")


# Python's own modules (asyncio, concurrent.futures, runpy): never where in the project an error was raised.
_STDLIB = sysconfig.get_paths()["stdlib"] + os.sep


class PreviewError(Exception):
    """The program could not be previewed; the message is what the user needs, without runtime internals."""


@dataclass(frozen=True)
class Secret:
    """A value the engine would keep secret (Output.secret, additional_secret_outputs, secret config)."""

    value: Any


def _decode(value: Any) -> Any:
    """Engine wire values (a Struct as JSON) to plain Python, keeping secrets marked."""
    if isinstance(value, dict):
        signature = value.get(rpc._special_sig_key)
        if signature == rpc._special_secret_sig:
            return Secret(_decode(value.get("value")))
        if signature == rpc._special_resource_sig:
            return value.get("urn")
        if signature in (rpc._special_asset_sig, rpc._special_archive_sig):
            return {key: _decode(item) for key, item in value.items() if key != rpc._special_sig_key}
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # Struct numbers are doubles; keep integers readable and stable
    return value


def reveal(value: Any) -> Any:
    """Plain values, secrets unwrapped: what policy packs receive."""
    if isinstance(value, Secret):
        return reveal(value.value)
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


def mask(value: Any) -> Any:
    """Secrets replaced by "[secret]": what files, logs and diffs receive."""
    if isinstance(value, Secret):
        return SECRET_MASK
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask(item) for item in value]
    return value


def policy_view(record: dict[str, Any]) -> dict[str, Any]:
    """A recorded resource as policy packs see it: secrets revealed, property dependencies kept."""
    return {**{k: v for k, v in record.items() if k != "additionalSecretOutputs"}, "inputs": reveal(record["inputs"])}


class RecordingMonitor(MockMonitor):
    """The SDK's MockMonitor, recording each registration before answering it.

    `property_structs` keeps the inputs Struct the SDK sent for each resource whose inputs hold no
    secret, resource reference, asset or archive: that Struct is then exactly what the Analyzer
    protocol's `properties` carries (plain values), and the policy runner sends it as it is instead of
    building it again from the record (~0.03 s of prod's analysis, on its critical path; issue 18).
    """

    def __init__(self, mocks: PlatformMocks):
        super().__init__(mocks)
        self.platform_mocks = mocks
        self.records: dict[str, dict[str, Any]] = {}
        self.stack_outputs: dict[str, Any] = {}
        self.duplicates: list[str] = []
        self.property_structs: dict[str, Any] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type != STACK_TYPE or urn not in self.records:
            if urn in self.records:
                self.duplicates.append(urn)
            inputs = _decode(json_format.MessageToDict(request.object)) if request.HasField("object") else {}
            if request.HasField("object") and _SIGNATURE_KEY not in request.object.SerializeToString():
                self.property_structs[urn] = request.object
            else:
                self.property_structs.pop(urn, None)
            self.records[urn] = {
                "urn": urn,
                "type": request.type,
                "name": request.name,
                "custom": bool(request.custom),
                "parent": request.parent or None,
                "provider": request.provider or None,
                "inputs": inputs,
                "dependencies": sorted(set(request.dependencies)),
                "protect": bool(request.protect),
                "additionalSecretOutputs": sorted(request.additionalSecretOutputs),
                "propertyDependencies": {prop: sorted(set(deps.urns)) for prop, deps in sorted(request.propertyDependencies.items())},
            }
            if request.type.startswith("pulumi:providers:"):
                self.platform_mocks.providers[urn] = reveal(inputs)
        self.platform_mocks.current.urn = urn
        try:
            return super().RegisterResource(request)
        finally:
            self.platform_mocks.current.urn = None

    def RegisterResourceOutputs(self, request):  # noqa: N802
        if request.urn.split("::")[2] == STACK_TYPE:
            self.stack_outputs = _decode(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)


@dataclass
class PreviewResult:
    project: str
    stack: str
    records: list[dict[str, Any]]
    raw_outputs: dict[str, Any] = field(default_factory=dict)
    # urn -> the inputs as the Struct the SDK sent, for resources whose inputs are plain values
    # (RecordingMonitor.property_structs): what policy packs receive, ready made.
    property_structs: dict[str, Any] = field(default_factory=dict)

    @property
    def resources(self) -> list[dict[str, Any]]:
        """Resources with real values (secrets revealed) and property dependencies, as policy packs see them."""
        return [policy_view(r) for r in self.records]

    @property
    def outputs(self) -> dict[str, Any]:
        return reveal(self.raw_outputs)

    def masked_resources(self) -> list[dict[str, Any]]:
        """Resources in the plan-file shape: secrets masked, only the keys of the plan contract."""
        return [{**{k: v for k, v in r.items() if k in PLAN_RESOURCE_KEYS}, "inputs": mask(r["inputs"])}
                for r in self.records]

    def masked_outputs(self) -> dict[str, Any]:
        return mask(self.raw_outputs)

    # These pick records first and reveal only the ones they return (each call hands out fresh copies).
    def by_type(self, type_token: str) -> list[dict[str, Any]]:
        return [policy_view(r) for r in self.records if r["type"] == type_token]

    def one(self, type_token: str, name: Optional[str] = None) -> dict[str, Any]:
        of_type = [r for r in self.records if r["type"] == type_token]
        matches = [r for r in of_type if name is None or r["name"] == name]
        names = sorted(r["name"] for r in of_type)
        assert len(matches) == 1, f"expected exactly one {type_token}{f' named {name}' if name else ''}, found {len(matches)} among {names}"
        return policy_view(matches[0])

    def children(self, parent_urn: str) -> list[dict[str, Any]]:
        return [policy_view(r) for r in self.records if r["parent"] == parent_urn]

    def is_secret(self, urn: str, *path: Any) -> bool:
        """Whether the input at `path` of resource `urn` is held as a secret."""
        value: Any = next(r for r in self.records if r["urn"] == urn)["inputs"]
        for part in path:
            if isinstance(value, Secret):
                return True
            value = value[part]
        return isinstance(value, Secret)


def _program_error(exc: BaseException) -> PreviewError:
    """One readable message: the program's own error and where in the project it was raised."""
    if isinstance(exc, pulumi.RunError):
        return PreviewError(str(exc))
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if "site-packages" not in frame.filename and "mlops_tools" not in frame.filename
              and not frame.filename.startswith(_STDLIB) and not frame.filename.startswith("<frozen ")]
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return PreviewError(f"program failed: {type(exc).__name__}: {exc}{where}")


def _stalled_registrations() -> list[str]:
    """Resources whose registration is still waiting on inputs (read from the SDK's pending tasks)."""
    stalled = []
    for task in asyncio.all_tasks():
        for frame in task.get_stack():
            if frame.f_code.co_name == "do_register" and "ty" in frame.f_locals and "name" in frame.f_locals:
                stalled.append(f"{frame.f_locals['ty']} {frame.f_locals['name']!r}")
    return sorted(stalled)


def _offline(program: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        register_stack_transformation(offline.without_aliases)
        return program()
    return run


async def _run_with_deadline(program: Callable[[], Any], seconds: float) -> None:
    """Run the program; a program whose Outputs never resolve fails with the stuck resources named."""
    run = asyncio.ensure_future(run_pulumi_func(lambda: run_in_stack(_offline(program))))
    done, _ = await asyncio.wait([run], timeout=seconds)
    if not done:
        stalled = _stalled_registrations()
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1)
        raise PreviewError(
            f"program did not finish within {seconds:.0f} s: "
            + (f"{', '.join(stalled)} wait on values that never resolve" if stalled else "an Output never resolves")
            + " (a dependency cycle between resources, or an exception inside an apply)")
    run.result()


def preview_program(program: Callable[[], Any], *, project: str = "mlops-platform", stack: str = "dev",
                    config: Optional[dict[str, str]] = None, secret_keys: Iterable[str] = (),
                    deadline_seconds: float = float(os.environ.get("MLOPS_PREVIEW_DEADLINE", "120"))) -> PreviewResult:
    """Run `program` as `pulumi preview` would, against realistic mocks; return what it registered."""
    config = dict(config or {})
    mocks = PlatformMocks(config)
    monitor = RecordingMonitor(mocks)
    loop = offline.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_all_config(config, list(secret_keys))
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=True, monitor=monitor)
        # set_mocks registers an empty root stack; start a fresh one that collects pulumi.export calls.
        settings.ROOT.set(None)
        # Outputs an earlier run in this process left tracked (its loop closed since) are not this
        # program's: the SDK's final wait would await them and fail ("Event loop is closed").
        settings.SETTINGS.outputs.clear()
        with collector_tuned(), offline.sdk_shortcuts():
            loop.run_until_complete(_run_with_deadline(program, deadline_seconds))
    except PreviewError:
        raise
    except BaseException as exc:  # noqa: BLE001 - every program failure becomes one readable line
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise _program_error(exc) from None
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    if monitor.duplicates:
        raise PreviewError("duplicate resource URNs (give each resource a unique name): " + ", ".join(sorted(set(monitor.duplicates))))
    records = sorted(monitor.records.values(), key=lambda r: r["urn"])
    return PreviewResult(project, stack, records, monitor.stack_outputs, monitor.property_structs)


# --- Projects on disk ------------------------------------------------------------------------

def load_stack_config(root: Path, stack: str, overrides: Iterable[str] = ()) -> tuple[str, StackConfig]:
    """Project name and the stack's config (Pulumi.yaml defaults, the stack file, overrides).

    Reading the files is the config's job (stacks.stackfile): every malformed input becomes a
    ConfigError naming the file, key and value.
    """
    return load_stack_files(root, stack, overrides)


def preview_stack(root: Path, stack: str, overrides: Iterable[str] = (),
                  loaded: Optional[tuple[str, StackConfig]] = None) -> PreviewResult:
    """Preview the project at `root` (its __main__.py) for one stack, offline.

    `loaded` is the (project, config) pair from `load_stack_config` when the caller already has it.
    """
    project, config = loaded or load_stack_config(root, stack, overrides)
    main = root / "__main__.py"
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))

    def program() -> None:
        runpy.run_path(str(main), run_name="__main__")

    return preview_program(program, project=project, stack=stack, config=config.values, secret_keys=config.secret_keys)
