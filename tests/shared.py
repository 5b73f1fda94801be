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
import functools
import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

RUN_DIR_ENV = "MLOPS_TEST_SHARED_DIR"
# Test directories whose module-scoped `stack` fixture builds a Stack (a preview and its policy packs).
STACK_DIRECTORIES = ("stacks", "serving")
STACK_GROUP_PREFIX = "stacks/"  # the work unit of a cloud's stack tests: stacks/<cloud>
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


def share_crd_schemas() -> None:
    """Each API group's pinned CRD schemas (mlops_tools.validate.custom_resources), parsed once per run.

    Parsing them is YAML of ~14 MB (the Argo CRDs carry the whole pod spec): ~2.4 s CPU, which each worker
    paid again for the same bytes; unpickling the other worker's result is ~0.1 s. The code under test
    still parses every group: once per run, in whichever worker validates that group first."""
    from mlops_tools.validate import custom_resources

    parse = custom_resources._group_schemas
    if getattr(parse, "shared_per_run", False):
        return

    @functools.cache
    def group_schemas(group: str):
        return shared("crd-schemas", group, lambda: parse(group))

    group_schemas.shared_per_run = True
    custom_resources._group_schemas = group_schemas


def stack_names() -> list[str]:
    """The stacks of the project: one per Pulumi.<stack>.yaml."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


@functools.cache
def stack_clouds() -> dict[str, str]:
    """{stack: its `mlops:cloud`} for every stack file (read once per process: collection and the scheduler
    ask for it, each stack file is ~15 ms of YAML)."""
    from stacks.stackfile import load_stack_files

    return {name: load_stack_files(ROOT, name)[1].values.get("mlops:cloud", "") for name in stack_names()}


# Test directories of one cloud (tests/components/aws, tests/ops/gcp, tests/policies/azure, ...): their cloud.
CLOUD_DIRECTORIES = {"aws": "aws", "azure": "azure", "azure_components": "azure", "gcp": "gcp"}


def group_of(nodeid: str, clouds: Mapping[str, str]) -> str:
    """The xdist work unit of a test (tests/conftest.py schedules by it): its module, as `--dist loadscope`
    does, except that a test of one cloud joins that cloud's group across modules, `stacks/<cloud>`:

    - a stack test (a test of tests/stacks or tests/serving whose parameter is a stack name: the
      module-scoped `stack` fixture), by its stack's cloud;
    - the other tests of a cloud's stack module (tests/stacks/test_<cloud>_stacks.py: stack files previewed
      with a change of their own);
    - every module under a cloud's directory (tests/components/aws, tests/ops/azure, tests/policies/gcp, ...).

    One worker then builds that cloud's Stacks (previews, packs, manifests of its stack files and their
    serving variants) and runs that cloud's component, operations and policy tests, while the other worker
    runs another cloud's: each cloud's SDK modules (and moto, Azure's and Google's client libraries) are
    imported by one worker, not both (the first preview of a cloud in a process costs 1-2 s more than the
    next). Decided from the node id alone: the controller that schedules has no test items."""
    module = nodeid.split("::", 1)[0]
    path = Path(module)
    param = nodeid[nodeid.index("[") + 1:-1] if nodeid.endswith("]") and "[" in nodeid else None
    if path.parent.name in STACK_DIRECTORIES and param in clouds:
        return f"{STACK_GROUP_PREFIX}{clouds[param]}"
    if path.parent.name in STACK_DIRECTORIES and path.stem.startswith("test_") and path.stem.endswith("_stacks") \
            and path.stem[len("test_"):-len("_stacks")] in set(clouds.values()):
        return f"{STACK_GROUP_PREFIX}{path.stem[len('test_'):-len('_stacks')]}"
    if path.parent.name in CLOUD_DIRECTORIES:
        return f"{STACK_GROUP_PREFIX}{CLOUD_DIRECTORIES[path.parent.name]}"
    return module
