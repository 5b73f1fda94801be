"""make bench: the CPU figure counts the processes a preview waits for (its policy packs), bad options are one line,
and the training pools it adds are ones the stack could have."""

import json
import sys

import pytest

from mlops_tools.review import bench
from stacks.config import load_config
from stacks.stackfile import load_stack_files


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


@pytest.mark.parametrize("stack", bench.POOL_STACKS.split(","))
def test_added_pools_are_the_stacks_own_and_copies_of_its_first_that_the_config_accepts(stack):
    """What `bench` measures per pool is a pool the stack could really have: its first, under a new name."""
    key, _, value = bench.added_pools_override(bench.ROOT, stack, 3).partition("=")
    _, stack_file = load_stack_files(bench.ROOT, stack)
    own = json.loads(stack_file.values["mlops:trainingPools"])
    pools = json.loads(value)
    assert key == "mlops:trainingPools" and pools[:len(own)] == own
    assert [pool["name"] for pool in pools[len(own):]] == ["bench0", "bench1", "bench2"]
    assert all({**pool, "name": own[0]["name"]} == own[0] for pool in pools[len(own):])
    _, with_more = load_stack_files(bench.ROOT, stack, [f"{key}={value}"])
    assert len(load_config(stack, with_more.values).training_pools) == len(own) + 3  # valid, names unique


def test_a_stack_without_training_pools_has_none_to_copy(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: mlops-platform\nruntime: python\n")
    (tmp_path / "Pulumi.bare.yaml").write_text("config:\n  mlops:cloud: aws\n")
    with pytest.raises(RuntimeError, match="bare: Pulumi.bare.yaml sets no mlops:trainingPools to copy"):
        bench.added_pools_override(tmp_path, "bare", 1)


def test_a_pool_stack_that_does_not_exist_is_one_line(capsys):
    assert bench.main(["--no-stacks", "--no-synthetic", "--pool-stacks", "nosuch"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: no stack file Pulumi.nosuch.yaml; stacks here: ") and "dev, gcp-dev" in error
    assert "\n" not in error and "Traceback" not in error


def test_pools_are_compared_with_aws_span_by_span():
    row = lambda stack, cloud, span, wall, cpu: {"stack": stack, "cloud": cloud, "more_pools": span,
                                                 "ms_per_resource": wall, "cpu_ms_per_resource": cpu}
    rows = [row("dev", "aws", "0->50", 2.0, 3.0), row("dev", "aws", "50->100", 2.5, 3.0),
            row("azure-dev", "azure", "0->50", 1.8, 3.3), row("azure-dev", "azure", "50->100", 2.5, 2.7)]
    assert bench.pools_against_aws(rows) == [
        "azure-dev 0->50: 0.90x wall, 1.10x CPU per resource added against dev",
        "azure-dev 50->100: 1.00x wall, 0.90x CPU per resource added against dev"]
    assert bench.pools_against_aws(rows[2:]) == []  # no AWS stack measured: nothing to compare with
