"""The step containers' entry point: bad flags are one line and exit 2, never a traceback; the image
installs exactly the versions make smoke ran the loop with."""

import re
from pathlib import Path

import pytest

from pipelines.__main__ import main

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, words", [
    ([], ["the following arguments are required", "step"]),
    (["deploy"], ["invalid choice", "'deploy'"]),
    (["train", "--features", "f.parquet"], ["train", "--label"]),
    (["evaluate", "--model-name", "m", "--version", "1", "--min-improvement", "lots"], ["--min-improvement", "'lots'"]),
    (["train-distributed", "--features", "f.parquet"], ["train-distributed", "--label"]),
])
def test_bad_arguments_are_one_line_and_exit_2(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert all(w in err for w in words), err


def _pins(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", path.read_text(), re.MULTILINE))


def test_image_pins_equal_the_smoke_run_pins():
    image = _pins(REPO / "pipelines" / "requirements.txt")
    smoke = _pins(REPO / "mlops_tools" / "smoke" / "requirements" / "mlflow.txt")
    assert image and {name: smoke.get(name) for name in image} == image


def test_distributed_image_pins_equal_the_ray_smoke_pins():
    image = dict(re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[a-z,]+\])?==(\S+)$", (REPO / "pipelines" / "requirements-ray.txt").read_text(),
                            re.MULTILINE))
    smoke = _pins(REPO / "mlops_tools" / "smoke" / "requirements" / "ray.txt")
    assert "ray" in image and {name: smoke.get(name) for name in image} == image
    assert f"rayproject/ray:{image['ray']}-py311" in (REPO / "pipelines" / "Dockerfile.ray").read_text()


@pytest.mark.parametrize("extra, words", [
    (["--checkpoint-every", "500", "--steps", "100"], ["--checkpoint-every 500", "--steps 100"]),
    (["--checkpoint-every", "10", "--steps", "100", "--workers", "0"], ["--workers 0", ">= 1"]),
])
def test_distributed_training_refuses_bad_settings_before_starting_ray(extra, words, capsys, tmp_path):
    argv = ["train-distributed", "--features", str(tmp_path / "f.parquet"), "--label", "y", "--entity", "id",
            "--experiment", "e", "--run-name", "r", "--storage", str(tmp_path / "ckpt"), "--workers", "2",
            "--max-failures", "3", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and all(w in err for w in words), err


def test_outputs_are_one_file_per_scalar(tmp_path):
    from pipelines.__main__ import write_outputs

    write_outputs(str(tmp_path / "out"), {"version": "3", "promote": False, "share": 0.5, "metrics": {"a": 1}})
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["promote", "share", "version"]
    assert (tmp_path / "out" / "promote").read_text() == "false" and (tmp_path / "out" / "version").read_text() == "3"


def test_step_package_imports_nothing_of_the_program():
    """The image ships pipelines/ alone: an import of components, stacks or mlops_tools would break it."""
    import ast

    wrong = []
    for path in sorted((REPO / "pipelines").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in getattr(node, "names", [])] if isinstance(node, ast.Import) else []
            wrong += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("components", "stacks", "mlops_tools", "policies")]
    assert not wrong, wrong
