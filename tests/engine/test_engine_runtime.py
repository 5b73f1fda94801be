"""The offline run's process tuning: the collector tuned, the CLI's exit without teardown (what the run leaves
out of the SDK's work is tests/engine/test_offline.py)."""

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_tools.engine import runtime
from mlops_tools.engine.preview import preview_program
from mlops_tools.engine.runtime import PROGRAM_GC_THRESHOLDS, collector_tuned
from tests.engine.test_offline import _pool_program

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def library_regime(monkeypatch):
    """The library caller's regime for one test, then the suite's frozen heap again (tests/conftest.py).

    A library-regime preview unfreezes the whole heap when it ends (~1M objects in a test worker by then):
    left so, the next collection anywhere in the worker walks all of it (~0.6 s), once per such test."""
    monkeypatch.setattr(runtime, "_regime", "library")
    yield
    gc.freeze()


def test_the_collector_is_tuned_while_the_program_runs_and_restored_after(library_regime):
    """In a library caller's process. The suite runs in the many-previews regime (tests/conftest.py), so this
    test switches to the library one, starting from CPython's default thresholds (not the program's, which
    would make "restored" impossible to tell from "never changed")."""
    session = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    during = {}

    def program():
        during["thresholds"] = gc.get_threshold()
        during["frozen"] = gc.get_freeze_count()

    try:
        before = gc.get_threshold()
        assert before != PROGRAM_GC_THRESHOLDS
        preview_program(program, stack="dev")
        assert during["thresholds"] == PROGRAM_GC_THRESHOLDS and during["frozen"] > 0
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
        gc.freeze()  # the suite's state again: the block's own collection then walks what is new, not the whole heap
        with collector_tuned():
            assert gc.get_threshold() == PROGRAM_GC_THRESHOLDS
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*session)


def test_a_process_of_many_previews_keeps_the_heap_frozen_after_each_program():
    """Unfrozen after the program, the SDK heap was walked again by the next full collection (issue 18)."""
    code = ("import gc\nfrom mlops_tools.engine.runtime import PROGRAM_GC_THRESHOLDS, tune_for_many_previews\n"
            "from mlops_tools.engine.preview import preview_program\ntune_for_many_previews()\n"
            "preview_program(lambda: None, stack='dev')\n"
            "print(gc.get_freeze_count() > 0, gc.get_threshold() == PROGRAM_GC_THRESHOLDS, gc.isenabled())\n")
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert child.stdout.split() == ["True", "True", "True"], child.stderr


def test_a_one_preview_cli_process_runs_no_collector_and_previews_the_same(library_regime):
    """`python -m mlops_tools preview` ends after one preview: no cyclic collection at all (issue 18: the young
    collections cost ~0.15 s of an AWS preview and found next to nothing). The program registers the same."""
    code = ("import gc, json\nfrom mlops_tools.engine.runtime import tune_for_cli\n"
            "from mlops_tools.engine.preview import preview_program\nfrom tests.engine.test_offline import _pool_program\n"
            "tune_for_cli()\ncounts = []\ngc.callbacks.append(lambda phase, info: counts.append(phase))\n"
            "result = preview_program(_pool_program, stack='dev', config={'mlops:region': 'westeurope'})\n"
            "print(json.dumps([gc.isenabled(), len(counts), result.masked_resources()]))\n")
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env={"PYTHONPATH": f"{ROOT}:{ROOT / 'policies' / 'common'}", "PATH": "/usr/bin:/bin"})
    assert child.returncode == 0, child.stderr
    enabled, collections, resources = json.loads(child.stdout.strip().splitlines()[-1])
    assert enabled is False and collections == 0
    assert resources == preview_program(_pool_program, stack="dev", config={"mlops:region": "westeurope"}).masked_resources()


def test_exit_without_teardown_flushes_what_was_printed_first():
    code = ("import sys\nfrom mlops_tools.engine.runtime import exit_now\n"
            "sys.stdout.write('x' * 200000)\nsys.stderr.write('done')\nexit_now(3)\n")
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                           env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert child.returncode == 3 and len(child.stdout) == 200000 and child.stderr == "done"


def test_only_the_preview_commands_exit_without_teardown():
    from mlops_tools import cli

    assert set(cli.FAST_EXIT_COMMANDS) == {"preview", "preview-all"}
    main = (ROOT / "mlops_tools" / "__main__.py").read_text()
    assert "exit_now(main())" in main and "sys.exit(main())" in main
