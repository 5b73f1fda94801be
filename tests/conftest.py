"""Suite-wide setup.

- The smoke tests (tests/smoke/) run real servers and need system packages, so `make test` does not collect
  them; `make smoke` sets MLOPS_SMOKE=1 and runs only them.
- A test process previews ~60 programs, in the garbage-collector regime for many previews
  (`tune_for_many_previews`): the SDK heap frozen, the collector's thresholds raised. In the library regime
  every preview first collected the whole heap and unfroze it after; with the three clouds' SDKs loaded that
  heap is ~900k objects and each preview paid ~0.65 s CPU for the walk (ClusterBaseline's four-resource program cost 0.64 s, 0.63 of it in
  the collector). The programs register the same resources either way (tests/engine/test_engine_runtime.py
  checks the library regime explicitly).
- Previews shared between modules and pytest-xdist workers (tests/shared.py) live in a directory made for
  the run here, in the controller, and removed when the run ends; so do the pinned CRD schemas
  (`share_crd_schemas`: parsed by one worker, unpickled by the other).
- Scheduling (`make test` runs `--dist loadscope`): each module is one work unit, as xdist does, except
  that the tests of one cloud are grouped (tests/shared.py `group_of`): the stack tests (tests/stacks and
  tests/serving, parametrized by stack, and the rest of tests/stacks/test_<cloud>_stacks.py) by their
  stack's cloud, and the modules under a cloud's directory (tests/components/aws, tests/ops/gcp, ...). One
  worker builds that cloud's Stacks (stack files and serving variants) and runs its component, operations
  and policy tests, importing its SDK (and moto or the cloud's client libraries), while the other worker
  runs another cloud's. The cloud groups, the costliest units, are handed out first and the many small
  modules fill in behind them, so both workers finish close together.
"""

import os
import shutil
import tempfile
from pathlib import Path

from tests.shared import RUN_DIR_ENV, STACK_DIRECTORIES, STACK_GROUP_PREFIX, group_of, share_crd_schemas, stack_clouds

collect_ignore_glob = [] if os.environ.get("MLOPS_SMOKE") == "1" else ["smoke/*"]


def runs_tests(config) -> bool:
    """Whether this process runs tests: a worker, or a run without xdist. The xdist controller only hands
    tests out; it starts its workers after its own configuration, so what only test processes need stays out
    of it (importing the pack machinery and the CRD loader was ~0.3 s before any worker started)."""
    if hasattr(config, "workerinput"):
        return True
    return config.getoption("dist", "no") == "no" or not config.getoption("tx", None)


def pytest_configure(config):
    if runs_tests(config):
        from mlops_tools.engine.runtime import tune_for_many_previews
        from mlops_tools.policy import fork_server

        tune_for_many_previews()
        fork_server.enable()  # a worker has threads: its ~80 packs are forked by a helper, not exec'd (issue 18)
        share_crd_schemas()
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist); workers inherit the variable
        os.environ[RUN_DIR_ENV] = config._mlops_shared_dir = tempfile.mkdtemp(prefix="mlops-tests-")


def pytest_unconfigure(config):
    if getattr(config, "_mlops_shared_dir", None):
        shutil.rmtree(config._mlops_shared_dir, ignore_errors=True)
        os.environ.pop(RUN_DIR_ENV, None)


def unit_order(unit: str, tests: int) -> tuple:
    """The cloud groups first, then the other modules of tests/stacks and tests/serving (a test or two that
    previews a whole stack: 0.5-2 s each, and they came last by test count, leaving one worker running while
    the other had finished), then, as xdist does, the units with the most tests first."""
    return (not unit.startswith(STACK_GROUP_PREFIX), Path(unit).parent.name not in STACK_DIRECTORIES, -tests)


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadscope` with the work units of tests/shared.py `group_of`, in the order of `unit_order`.

    xdist's own `--dist loadgroup` cannot do this with pytest 9: it renames node ids through an attribute
    pytest no longer reads, so every test became its own unit and module fixtures ran on both workers."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    clouds = stack_clouds()

    class StackGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return group_of(nodeid, clouds)

        def _assign_work_unit(self, node):
            if not getattr(self, "_stack_groups_first", False):
                self._stack_groups_first = True
                queue = sorted(self.workqueue.items(), key=lambda unit: unit_order(unit[0], len(unit[1])))
                self.workqueue.clear()
                self.workqueue.update(queue)
            super()._assign_work_unit(node)

    return StackGroups(config, log)
