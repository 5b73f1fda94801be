"""The tooling's layers (docs/architecture.md): each package imports only from the layers it may use."""

import ast
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "mlops_tools"

# package -> mlops_tools packages it must never import (docs/architecture.md, "What imports what").
FORBIDDEN = {
    "cmdline": {"engine", "policy", "review", "validate", "ops", "cli"},
    "engine": {"policy", "review", "validate", "ops", "cli"},
    "policy": {"review", "validate", "ops", "cli"},
    "validate": {"policy", "review", "ops", "cli"},
    "review": {"validate", "ops", "cli"},
    "ops": {"engine", "policy", "review", "validate", "cli"},
    # make smoke reads plans from files and runs the preview through the CLI's process, never its code.
    "smoke": {"engine", "policy", "review", "validate", "ops", "cli"},
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
        for name in names:
            parts = name.split(".")
            if parts[0] == "mlops_tools" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package):
    files = [TOOLS / f"{package}.py"] if (TOOLS / f"{package}.py").is_file() else sorted((TOOLS / package).rglob("*.py"))
    assert files
    wrong = {f"{path.relative_to(TOOLS)} imports mlops_tools.{name}" for path in files
             for name in imported_packages(path) & FORBIDDEN[package]}
    assert not wrong, sorted(wrong)


def test_the_check_sees_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from mlops_tools.review.diff import diff_plans\nimport mlops_tools.ops.aws.dr\n")
    assert imported_packages(bad) == {"review", "ops"}


def test_no_tooling_file_over_400_lines():
    long = {str(p.relative_to(TOOLS)): n for p in TOOLS.rglob("*.py") if (n := len(p.read_text().splitlines())) > 420}
    assert not long, long
