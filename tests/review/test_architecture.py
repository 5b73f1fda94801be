"""The architecture picture in README.md is what `python -m mlops_tools architecture` generates for the dev stack."""

from pathlib import Path

import pytest

from mlops_tools.engine.plan import build_plan, read_plan, write_plan
from mlops_tools.review import architecture
from tests.cli_inprocess import run_cli
from tests.shared import stack_preview

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev_plan(tmp_path_factory) -> Path:
    """The dev stack's plan file, as `make preview` writes it (the picture reads only its resources): from
    the run's one preview of Pulumi.dev.yaml (tests/shared.py), not a preview of its own."""
    path = tmp_path_factory.mktemp("plan") / "dev.json"
    write_plan(build_plan(stack_preview("dev"), "aws"), path)
    return path


def test_readme_picture_matches_the_dev_stack(dev_plan):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    expected = architecture.block(read_plan(dev_plan))
    assert expected in readme, "README.md's architecture picture is stale: run `make architecture` and commit README.md"


def test_picture_shows_components_and_their_dependencies(dev_plan):
    text = architecture.mermaid(read_plan(dev_plan))
    labels = {line.split('"')[1].split("<br/>")[0]: line.split("[")[0].strip() for line in text.splitlines() if '["' in line}
    assert {"tracking: TrackingServer", "network: Network", "keys: Keys", "cluster: Cluster"} <= set(labels)
    # The tracking server's database lives in the network and is encrypted with the platform's keys.
    assert f"{labels['tracking: TrackingServer']} --> {labels['network: Network']}" in text
    assert f"{labels['tracking: TrackingServer']} --> {labels['keys: Keys']}" in text
    # Keys depend on nothing: no arrow leaves them.
    assert f"  {labels['keys: Keys']} -->" not in text


def test_write_replaces_only_the_block_and_a_file_without_markers_is_an_error(dev_plan, tmp_path, capsys):
    page = tmp_path / "page.md"
    page.write_text(f"before\n{architecture.BEGIN}\nold\n{architecture.END}\nafter\n")
    cli = ["architecture", "--plan", str(dev_plan)]
    run = run_cli(capsys, *cli, "--write", str(page))
    assert run.returncode == 0, run.stderr
    assert page.read_text() == f"before\n{architecture.block(read_plan(dev_plan))}\nafter\n"
    bare = tmp_path / "bare.md"
    bare.write_text("no markers\n")
    run = run_cli(capsys, *cli, "--write", str(bare))
    assert run.returncode == 1 and "has no architecture block" in run.stderr and "Traceback" not in run.stderr
    assert bare.read_text() == "no markers\n"


def test_missing_plan_is_a_usage_error(capsys):
    run = run_cli(capsys, "architecture", "--plan", "/nonexistent/dev.json")
    assert run.returncode == 2 and "no plan file at /nonexistent/dev.json" in run.stderr
