"""make bench: the CPU figure counts the processes a preview waits for (its policy packs), and bad options are one line."""

import sys

from mlops_tools.review import bench


def test_cpu_includes_the_children_a_process_waited_for():
    """On a shared machine the CPU ratio is the comparable figure; it must include the pack processes."""
    busy = "x = 0\nfor i in range(4 * 10**6):\n    x += i\n"
    parent = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {busy!r}], check=True)\n"
    run = bench._run_measured([sys.executable, "-c", parent])
    alone = bench._run_measured([sys.executable, "-c", "pass"])
    assert run["code"] == 0 and run["cpu_s"] > alone["cpu_s"] + 0.1


def test_a_baseline_that_is_not_a_checkout_is_one_line(tmp_path, capsys):
    assert bench.main(["--baseline", str(tmp_path), "--no-synthetic"]) == 2
    assert capsys.readouterr().err.strip() == f"error: --baseline {tmp_path}: not a checkout of the project (no __main__.py there)"
