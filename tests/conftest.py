"""Suite-wide setup.

- The smoke tests (tests/smoke/) run real servers and need system packages, so `make test` does not collect
  them; `make smoke` sets MLOPS_SMOKE=1 and runs only them.
- A test process previews ~60 programs, in the garbage-collector regime of the CLI (`tune_for_cli`): the SDK
  heap frozen, the collector's thresholds raised. In the library regime every preview first collected the
  whole heap and unfroze it after; with the three clouds' SDKs loaded that heap is ~900k objects and each
  preview paid ~0.65 s CPU for the walk (ClusterBaseline's four-resource program cost 0.64 s, 0.63 of it in
  the collector). The programs register the same resources either way (tests/engine/test_engine_runtime.py
  checks the library regime explicitly).
- Previews shared between modules and pytest-xdist workers (tests/shared.py) live in a directory made for
  the run here, in the controller, and removed when the run ends.
- Scheduling (`make test` runs `--dist loadgroup`): each module is one group, as with `--dist loadscope`,
  except that the stack tests are grouped by stack, so one worker builds each previewed stack and runs every
  test of it while the other worker runs other stacks (tests/shared.py `group_of`).
"""

import os
import shutil
import tempfile

import pytest

from tests.shared import RUN_DIR_ENV, group_of

collect_ignore_glob = [] if os.environ.get("MLOPS_SMOKE") == "1" else ["smoke/*"]


def pytest_configure(config):
    from mlops_tools.engine.runtime import tune_for_cli

    tune_for_cli()
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist); workers inherit the variable
        os.environ[RUN_DIR_ENV] = config._mlops_shared_dir = tempfile.mkdtemp(prefix="mlops-tests-")


def pytest_unconfigure(config):
    if getattr(config, "_mlops_shared_dir", None):
        shutil.rmtree(config._mlops_shared_dir, ignore_errors=True)
        os.environ.pop(RUN_DIR_ENV, None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Give every test its xdist group (before xdist's own hook appends the group to the node id)."""
    for item in items:
        item.add_marker(pytest.mark.xdist_group(group_of(item)))
