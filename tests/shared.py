"""Values the whole test run shares: each distinct stack preview is built once per run, not once per module.

Why: the stack matrix, the serving, access and front-door tests preview the same stack files with the same
config in different modules, often on both pytest-xdist workers (the `dev` stack was previewed 16 times in
one run). `shared(kind, inputs, build)` builds a value once per run for each distinct (kind, inputs) and
hands every caller that value:

- in one process, from memory;
- across xdist workers, through a pickle named by the sha256 of (kind, inputs) in the run's directory
  (tests/conftest.py makes it in the controller and removes it at the end). A file lock per key makes the
  second worker wait for the first one's build instead of building it again; a build that raises is not
  stored, so every caller sees the error.

The inputs are the whole key: the code under test does not change during a run, so nothing goes stale, and
no value outlives the run. Values are read, never changed, by the tests: `PreviewResult.resources` and
`by_type` hand out fresh copies of the records, so one test cannot change what another sees.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

RUN_DIR_ENV = "MLOPS_TEST_SHARED_DIR"
# Test directories whose module-scoped `stack` fixture builds a Stack (a preview and its policy packs).
STACK_DIRECTORIES = ("stacks", "serving")
STACK_GROUP_PREFIXES = tuple(f"{d}/" for d in STACK_DIRECTORIES)
ROOT = Path(__file__).resolve().parents[1]

_built: dict[str, Any] = {}


def shared(kind: str, inputs: Any, build: Callable[[], Any]) -> Any:
    """`build()`'s value for (kind, inputs), built at most once per test run (see the module docstring)."""
    key = hashlib.sha256(json.dumps([kind, inputs], sort_keys=True).encode()).hexdigest()
    if key in _built:
        return _built[key]
    run_dir = os.environ.get(RUN_DIR_ENV)
    if not run_dir or not Path(run_dir).is_dir():
        value = _built[key] = build()
        return value
    path = Path(run_dir) / f"{key}.pickle"
    with open(Path(run_dir) / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            value = pickle.loads(path.read_bytes())
        else:
            value = build()
            partial = path.with_suffix(".partial")
            partial.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            partial.replace(path)
    _built[key] = value
    return value


def stack_preview(stack: str, overrides: Iterable[str] = (), secrets: Optional[Mapping[str, str]] = None):
    """The project's preview of Pulumi.<stack>.yaml with `--config`-style overrides and secret config values
    (`--secret KEY=VALUE`), without policy packs: `preview_stack`'s result, once per run."""
    from mlops_tools.engine.preview import load_stack_config, preview_stack

    overrides, secrets = list(overrides), dict(secrets or {})

    def build():
        project, config = load_stack_config(ROOT, stack, overrides)
        for key, value in secrets.items():
            config.values[key] = value
            config.secret_keys.append(key)
        return preview_stack(ROOT, stack, loaded=(project, config))

    return shared("preview", [stack, overrides, sorted(secrets.items())], build)


def stack_names() -> list[str]:
    """The stacks of the project: one per Pulumi.<stack>.yaml."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def group_of(nodeid: str, stacks: Iterable[str]) -> str:
    """The xdist work unit of a test (tests/conftest.py schedules by it): its module, as `--dist loadscope`
    does, except that a stack test (a test of tests/stacks or tests/serving whose parameter is a stack name:
    the module-scoped `stack` fixture) joins the group of its stack across modules, `<directory>/<stack>`.
    One worker then builds that Stack (preview and packs) and runs every test of it, while the other worker
    builds another. Decided from the node id alone: the controller that schedules has no test items."""
    module = nodeid.split("::", 1)[0]
    directory = Path(module).parent.name
    param = nodeid[nodeid.index("[") + 1:-1] if nodeid.endswith("]") and "[" in nodeid else None
    if directory in STACK_DIRECTORIES and param in stacks:
        return f"{directory}/{param}"
    return module
