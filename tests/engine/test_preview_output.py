"""What a preview prints, in the order a user needs it: the verdict first, details only on request."""

from pathlib import Path

from mlops_tools.cli import _stack_status, run_preview

ROOT = Path(__file__).resolve().parents[2]


def test_verdict_comes_first_and_tables_only_with_details(project, capsys):
    (project / "policies").symlink_to(ROOT / "policies")
    # The tiny program breaks mandatory rules (no versioning, no TLS-only policy): a FAIL verdict, exit 1.
    assert run_preview(project, "dev", [], policies=True) == 1
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("dev: FAIL (aws, ") and "unwaived mandatory" in first and first.endswith("plan build/plan/dev.json")
    assert "Resources per type" not in out
    run_preview(project, "dev", [], policies=True, details=True)
    detailed = capsys.readouterr().out
    assert detailed.splitlines()[0].startswith("dev: FAIL") and "Resources per type" in detailed


def test_no_policy_says_packs_did_not_run(project, capsys):
    run_preview(project, "dev", [], policies=False)
    captured = capsys.readouterr()
    assert "dev: PREVIEWED" in captured.out and "policy packs not run (--no-policy)" in captured.out
    assert "matched no violation" not in captured.err


def test_preview_all_status_line_for_each_outcome():
    assert _stack_status("dev", 0, "dev: PASS (aws, 3 resources; ...)\n", "") == "dev: PASS (aws, 3 resources; ...)"
    assert _stack_status("prod", 2, "", "error: invalid stack configuration:\nPulumi.prod.yaml: ...\n") == \
        "prod: CONFIG (error: invalid stack configuration:)"
