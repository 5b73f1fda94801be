"""`python -m mlops_tools`: the one command line for every job of the tooling.

    preview --stack dev [--config KEY=VALUE ...] [--format text|json|sarif|junit]
    preview-all [--format ...]
    diff [--base REF] [--stack S ...]          previews the stacks at REF and in the working tree
    diff OLD.json NEW.json                     compares two plan files
    architecture [--stack dev] [--write F]     the components-and-dependencies picture (review)
    bench [--stack S ...]                      preview time and memory per stack (review)
    manifests --stack dev                      render and validate the Kubernetes manifests (validate)
    lint-workflows [--root DIR]                validate .github/workflows (validate)
    bootstrap-backend --region R ...           create the self-managed state backend on AWS (ops)
    dr status|failover|failback --stack S ...  the DR runbook (ops; AWS today)
    drift --stack S DIGEST ...                 drift verdict from a refresh preview (ops)

The commands after `diff` take their own options (`python -m mlops_tools <command> --help`).

Exit codes: 0 clean; 1 an unwaived mandatory violation or an expired waiver; 2 the program or its
config could not be previewed (one message, no traceback).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
REPORT_EXTENSIONS = {"json": "json", "sarif": "sarif", "junit": "xml"}


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


def stacks_in(root: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def _policy_config(path: Optional[str]) -> Optional[dict[str, Any]]:
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CliError(f"--policy-config {path}: {exc}") from None


def run_preview(root: Path, stack: str, overrides: list[str], *, policies: bool = True,
                policy_config: Optional[dict[str, Any]] = None, today: Optional[dt.date] = None,
                out_dir: Optional[Path] = None, report_format: str = "text", quiet: bool = False) -> int:
    """Preview one stack, run the packs, apply waivers, write the plan (and report); return the exit code."""
    from mlops_tools.engine.plan import build_plan, write_plan
    from mlops_tools.engine.preview import PreviewError, load_stack_config, preview_stack
    from mlops_tools.policy.waivers import apply_waivers
    from mlops_tools.review.summary import summarize
    from stacks.config import ConfigError, load_config

    try:
        loaded = load_stack_config(root, stack, overrides)
        cfg = load_config(stack, loaded[1].values)
    except ConfigError as error:
        raise CliError(f"invalid stack configuration:\n{error}") from None
    except PreviewError as error:
        raise CliError(str(error)) from None
    try:
        result = preview_stack(root, stack, loaded=loaded)
    except PreviewError as error:
        raise CliError(f"{stack}: {error}") from None

    packs_info: list[Any] = []
    pack_dicts: list[dict[str, Any]] = []
    violations: list[dict[str, Any]] = []
    if policies:
        from mlops_tools.policy.runner import PolicyPackError, discover_packs, run_policy_packs
        try:
            packs_info, found = run_policy_packs(result.resources, discover_packs(root / "policies"), policy_config)
        except PolicyPackError as error:
            raise CliError(str(error)) from None
        pack_dicts = [{"name": p.name, "version": p.version, "policies": len(p.policies)} for p in packs_info]
        violations = [v.to_dict() for v in found]
    known = {policy.name for pack in packs_info for policy in pack.policies}
    outcome = apply_waivers(violations, cfg.waivers, today or dt.date.today(), known, policies_ran=policies)
    plan = build_plan(result, cfg.cloud, pack_dicts, outcome.active, outcome.waived)
    out_dir = out_dir or root / "build" / "plan"
    write_plan(plan, out_dir / f"{stack}.json")

    if not quiet:
        print(summarize(plan))
    if policies:
        from mlops_tools.policy.reports import render
        if report_format == "text":
            if not quiet:
                print("\n" + render("text", plan, packs_info))
        else:
            report_path = out_dir.parent / "reports" / f"{stack}.{REPORT_EXTENSIONS[report_format]}"
            report_path.parent.mkdir(parents=True, exist_ok=True)
            report_path.write_text(render(report_format, plan, packs_info))
            if not quiet:
                print(f"\n{report_format} policy report: {report_path.relative_to(root) if report_path.is_relative_to(root) else report_path}")
    for message in outcome.unused:
        print(f"warning: {message}", file=sys.stderr)
    for message in outcome.expired:
        print(f"error: {message}", file=sys.stderr)
    mandatory = [v for v in outcome.active if v["enforcement"] == "mandatory"]
    if not quiet:
        print(f"\nPlan written to {(out_dir / f'{stack}.json')}")
    if mandatory or outcome.expired:
        print(f"{stack}: {len(mandatory)} unwaived mandatory violation(s), {len(outcome.expired)} expired waiver(s)", file=sys.stderr)
        return 1
    return 0


def _cmd_preview(args: argparse.Namespace) -> int:
    from stacks.stackfile import split_overrides
    return run_preview(ROOT, args.stack, [*split_overrides(args.configs), *args.config], policies=not args.no_policy,
                       policy_config=_policy_config(args.policy_config),
                       today=args.today, out_dir=Path(args.out) if args.out else None,
                       report_format=args.format, quiet=args.quiet)


def _cmd_preview_all(args: argparse.Namespace) -> int:
    """Every stack, each in its own process (the SDK's runtime state is per process), two at a time."""
    stacks = stacks_in(ROOT)
    extra = ["--format", args.format] + (["--quiet"] if args.quiet else [])
    extra += (["--policy-config", args.policy_config] if args.policy_config else [])
    extra += (["--today", args.today.isoformat()] if args.today else [])
    workers = max(1, min(len(stacks), os.cpu_count() or 1, 4))
    running: list[tuple[str, subprocess.Popen]] = []
    results: dict[str, tuple[int, str, str]] = {}

    def finish(stack: str, child: subprocess.Popen) -> None:
        out, err = child.communicate()
        results[stack] = (child.returncode, out, err)

    for stack in stacks:
        if len(running) >= workers:
            finish(*running.pop(0))
        child = subprocess.Popen([sys.executable, "-m", "mlops_tools", "preview", "--stack", stack, *extra],
                                 cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        running.append((stack, child))
    for stack, child in running:
        finish(stack, child)
    for stack in stacks:
        code, out, err = results[stack]
        print(f"=== {stack} ===")
        sys.stdout.write(out)
        sys.stderr.write(err)
        sys.stdout.flush()
        sys.stderr.flush()
    return max((code for code, _, _ in results.values()), default=0)


def _cmd_diff(args: argparse.Namespace) -> int:
    from mlops_tools.review.diff import DiffError, diff_against_ref, diff_plan_files

    if args.plans and len(args.plans) != 2:
        raise CliError("diff takes two plan files (OLD.json NEW.json) or --base REF")
    try:
        if args.plans:
            report = diff_plan_files(Path(args.plans[0]), Path(args.plans[1]))
        else:
            report = diff_against_ref(ROOT, args.base, args.stack or stacks_in(ROOT))
    except DiffError as error:
        raise CliError(str(error)) from None
    out = ROOT / "build" / "diff.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)
    return 0


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m mlops_tools", description=__doc__.split("\n\n")[0])
    sub = top.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=["text", "json", "sarif", "junit"], default="text",
                       help="policy report format (non-text reports go to build/reports/<stack>.<ext>)")
        p.add_argument("--policy-config", help="JSON policy-pack config, the same file `pulumi preview --policy-pack-config` takes")
        p.add_argument("--today", type=_date, help="evaluate waiver expiry as of this date (default: today)")
        p.add_argument("--quiet", action="store_true", help="print only problems")

    preview = sub.add_parser("preview", help="preview one stack offline and run the policy packs")
    preview.add_argument("--stack", default="dev")
    preview.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                         help="config override, repeatable; KEY may be a path (mlops:dr.replicaRegion, mlops:trainingPools[0].maxNodes)")
    preview.add_argument("--configs", default="", metavar="'K=V K2=V2'",
                         help="several overrides in one string, as make's CONFIG passes them (values may contain spaces)")
    preview.add_argument("--no-policy", action="store_true", help="skip the policy packs")
    preview.add_argument("--out", help="plan directory (default build/plan)")
    common(preview)
    preview.set_defaults(func=_cmd_preview)

    preview_all = sub.add_parser("preview-all", help="preview every Pulumi.<stack>.yaml")
    common(preview_all)
    preview_all.set_defaults(func=_cmd_preview_all)

    diff = sub.add_parser("diff", help="Markdown plan diff for a pull request")
    diff.add_argument("plans", nargs="*", help="OLD.json NEW.json (instead of --base)")
    diff.add_argument("--base", default=None, help="git ref to compare against (default origin/main, else main)")
    diff.add_argument("--stack", action="append", help="limit to these stacks (repeatable)")
    diff.set_defaults(func=_cmd_diff)
    for name, (_module, text) in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)  # listed here; `main` hands their arguments over
    return top


# Commands owned by another job's module: `python -m mlops_tools <command> ARGS` runs `<module>.main(ARGS)`.
DELEGATED = {
    "architecture": ("mlops_tools.review.architecture", "the components-and-dependencies picture of a stack, as Mermaid"),
    "bench": ("mlops_tools.review.bench", "preview seconds and peak memory per stack"),
    "manifests": ("mlops_tools.validate.manifests", "render and validate every Kubernetes manifest of a stack"),
    "lint-workflows": ("mlops_tools.validate.workflows", "validate .github/workflows against the schema and our rules"),
    "bootstrap-backend": ("mlops_tools.ops.aws.bootstrap", "create the S3 state bucket and KMS key for self-managed state"),
    "dr": ("mlops_tools.ops.aws.dr", "DR runbook: status, failover, failback"),
    "drift": ("mlops_tools.ops.drift", "drift verdict and report from `pulumi refresh --preview-only --json`"),
}


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        import importlib
        return importlib.import_module(DELEGATED[argv[0]][0]).main(argv[1:])
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - a bug here still gets one line; MLOPS_DEBUG=1 shows the traceback
        if os.environ.get("MLOPS_DEBUG"):
            raise
        print(f"error: internal error in mlops_tools: {type(error).__name__}: {error} (MLOPS_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 3
