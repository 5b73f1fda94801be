"""`python -m mlops_tools`: the one command line for every job of the tooling.

    preview --stack dev [--config KEY=VALUE ...] [--format text|json|sarif|junit]
    preview-all [--format ...]
    diff [--base REF] [--stack S ...]          previews the stacks at REF and in the working tree
    diff OLD.json NEW.json                     compares two plan files
    cost --stack dev [--format text|json|csv]  the stack's monthly cost estimate, every resource (review)
    architecture [--stack dev] [--write F]     the components-and-dependencies picture (review)
    bench [--stack S ...]                      preview time and memory per stack (review)
    prices [--plans DIR] [--cloud C ...]       refresh the price snapshot from the clouds' price APIs (review)
    manifests --stack dev                      render and validate the Kubernetes manifests (validate)
    lint-workflows [--root DIR]                validate .github/workflows (validate)
    checkov --stack dev                        Checkov over the rendered manifests and .github, SARIF merged (policy)
    bootstrap-backend --region R ...           create the self-managed state backend on AWS (ops)
    dr status|failover|failback --stack S ...  the DR runbook of the stack's cloud (ops)
    drift --stack S DIGEST ...                 drift verdict from a refresh preview (ops)

The commands after `diff` take their own options (`python -m mlops_tools <command> --help`).
Exit codes: 0 clean; 1 an unwaived mandatory violation or an expired waiver; 2 the program or its
config could not be previewed (one message, no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, Optional

from mlops_tools.cmdline import EXIT_CONFIG, EXIT_INTERNAL, EXIT_POLICY

ROOT = Path(__file__).resolve().parent.parent
# End without interpreter teardown (engine/runtime.py exit_now): files written, packs stopped by then.
FAST_EXIT_COMMANDS = ("preview", "preview-all")
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
                out_dir: Optional[Path] = None, report_format: str = "text", quiet: bool = False,
                details: bool = False, all_packs: bool = False) -> int:
    """Preview one stack, run the packs, apply waivers, write the plan (and report); return the exit code.

    Packs boot while the program runs; `all_packs` runs every pack, not only those selection.py picks.
    """
    from contextlib import nullcontext

    packs: Any = None
    if policies:
        from mlops_tools.policy.runner import PolicyPackError, PolicyPacks
        try:
            packs = PolicyPacks.for_stack(root, stack, overrides, policy_config, all_packs=all_packs)
        except PolicyPackError as error:
            raise CliError(str(error)) from None
    with packs or nullcontext():
        return _preview_with(root, stack, overrides, packs, today=today, out_dir=out_dir, report_format=report_format,
                             quiet=quiet, details=details, all_packs=all_packs)


def _preview_with(root: Path, stack: str, overrides: list[str], packs: Any, *, today: Optional[dt.date],
                  out_dir: Optional[Path], report_format: str, quiet: bool, details: bool,
                  all_packs: bool) -> int:
    from mlops_tools.engine.plan import build_plan, write_plan
    from mlops_tools.engine.preview import PreviewError, load_stack_config, preview_stack
    from mlops_tools.policy.waivers import apply_waivers
    from mlops_tools.review.summary import relative_to_root, summarize, verdict_line
    from stacks.config import ConfigError, load_config
    from stacks.stackfile import StackFileMissing

    policies = packs is not None
    try:
        loaded = load_stack_config(root, stack, overrides)
        cfg = load_config(stack, loaded[1].values)
    except StackFileMissing as error:
        raise CliError(str(error)) from None
    except ConfigError as error:
        raise CliError(f"invalid stack configuration:\n{error}") from None
    except PreviewError as error:
        raise CliError(str(error)) from None
    try:
        with program_today(today):
            result = preview_stack(root, stack, loaded=loaded)
    except PreviewError as error:
        raise CliError(f"{stack}: {error}") from None

    packs_info: list[Any] = []
    pack_dicts: list[dict[str, Any]] = []
    violations: list[dict[str, Any]] = []
    if policies:
        from mlops_tools.policy.runner import PolicyPackError
        try:
            packs_info, found = packs.analyze(result.resources, all_packs=all_packs,
                                                property_structs=result.property_structs)
        except PolicyPackError as error:
            raise CliError(str(error)) from None
        pack_dicts = [{"name": p.name, "version": p.version, "policies": len(p.policies)} for p in packs_info]
        violations = [v.to_dict() for v in found]
    known = {policy.name for pack in packs_info for policy in pack.policies}
    outcome = apply_waivers(violations, cfg.waivers, today or dt.date.today(), known, policies_ran=policies)
    plan = build_plan(result, cfg.cloud, pack_dicts, outcome.active, outcome.waived)
    cost_summary = _attach_cost(plan, stack, cfg.monitoring.monthly_budget_usd)
    out_dir = out_dir or root / "build" / "plan"
    write_plan(plan, out_dir / f"{stack}.json")

    mandatory = [v for v in outcome.active if v["enforcement"] == "mandatory"]
    failed = bool(mandatory or outcome.expired)
    plan_path = out_dir / f"{stack}.json"
    if not quiet:
        print(verdict_line(plan, stack, policies, len(mandatory), len(outcome.expired), plan_path, root))
        print("\n" + cost_summary)
    if policies:
        from mlops_tools.policy.reports import render
        if report_format == "text":
            if not quiet and (outcome.active or outcome.waived):
                print("\n" + render("text", plan, packs_info))
        else:
            report_path = out_dir.parent / "reports" / f"{stack}.{REPORT_EXTENSIONS[report_format]}"
            report_path.parent.mkdir(parents=True, exist_ok=True)
            report_path.write_text(render(report_format, plan, packs_info))
            if not quiet:
                print(f"\n{report_format} policy report: {relative_to_root(report_path, root)}")
    if details and not quiet:
        print("\n" + summarize(plan))
    for message in outcome.unused:
        print(f"warning: {message}", file=sys.stderr)
    for message in outcome.expired:
        print(f"error: {message}", file=sys.stderr)
    if failed:
        print(f"{stack}: {len(mandatory)} unwaived mandatory violation(s), {len(outcome.expired)} expired waiver(s)", file=sys.stderr)
        return EXIT_POLICY
    return 0


@contextlib.contextmanager
def program_today(today: Optional[dt.date]) -> Iterator[None]:
    """Hand ``--today`` to the program (stacks/clock.py reads MLOPS_TODAY) for the length of one preview."""
    if today is None:
        yield
        return
    before = os.environ.get("MLOPS_TODAY")
    os.environ["MLOPS_TODAY"] = today.isoformat()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MLOPS_TODAY", None)
        else:
            os.environ["MLOPS_TODAY"] = before


def _attach_cost(plan: dict[str, Any], stack: str, budget_usd: float) -> str:
    """Join the cost estimate into the plan (its `cost` section); return the preview's cost lines.

    An idle estimate over the stack's monthlyBudgetUsd is also warned about on stderr (shown even with --quiet).
    """
    from mlops_tools.review.cost import cost_section, render_summary
    from mlops_tools.review.cost.render import budget_warning
    from mlops_tools.review.cost.snapshot import SnapshotError

    try:
        plan["cost"] = cost_section(plan, budget_usd=budget_usd)
    except SnapshotError as error:
        raise CliError(f"price snapshot: {error}") from None
    warning = budget_warning(plan["cost"], stack)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return render_summary(plan["cost"], stack)


def _cmd_cost(args: argparse.Namespace) -> int:
    """`make cost`: preview the stack (no policy packs) and print its full cost table."""
    from mlops_tools.engine.plan import read_plan
    from mlops_tools.review.cost import render_table

    out_dir = ROOT / "build" / "plan"
    from stacks.stackfile import split_overrides

    code = run_preview(ROOT, args.stack, [*split_overrides(args.configs), *args.config], policies=False,
                       out_dir=out_dir, quiet=True)
    if code == 2:
        return code
    plan = read_plan(out_dir / f"{args.stack}.json")
    sys.stdout.write(render_table(plan["cost"], args.format, args.stack))
    return 0


def _cmd_preview(args: argparse.Namespace) -> int:
    from stacks.stackfile import split_overrides
    return run_preview(ROOT, args.stack, [*split_overrides(args.configs), *args.config], policies=not args.no_policy,
                       policy_config=_policy_config(args.policy_config),
                       today=args.today, out_dir=Path(args.out) if args.out else None,
                       report_format=args.format, quiet=args.quiet, details=args.details, all_packs=args.all_packs)


def _cmd_preview_all(args: argparse.Namespace) -> int:
    """Every stack, each in its own process (the SDK's runtime state is per process), two at a time.

    A line per stack as soon as it finishes, then each stack's findings, then a summary table; the
    exit code is the worst stack's (1 policy, 2 config or program, 3 internal), and the summary
    names the stacks behind it.
    """
    stacks = stacks_in(ROOT)
    extra = ["--format", args.format] + (["--quiet"] if args.quiet else []) + (["--details"] if args.details else [])
    extra += (["--policy-config", args.policy_config] if args.policy_config else [])
    extra += (["--today", args.today.isoformat()] if args.today else [])
    extra += (["--all-packs"] if args.all_packs else [])
    workers = max(1, min(len(stacks), os.cpu_count() or 1, 4))
    running: list[tuple[str, subprocess.Popen]] = []
    results: dict[str, tuple[int, str, str]] = {}

    def finish(stack: str, child: subprocess.Popen) -> None:
        out, err = child.communicate()
        results[stack] = (child.returncode, out, err)
        print(f"[{len(results)}/{len(stacks)}] {_stack_status(stack, child.returncode, out, err)}", flush=True)

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
        if code or args.details or not args.quiet:
            print(f"\n=== {stack} ===")
            sys.stdout.write(out)
            sys.stdout.flush()
            sys.stderr.write(err)
            sys.stderr.flush()
    print("\nstack           result     exit")
    for stack in stacks:
        code = results[stack][0]
        print(f"{stack:<15} {EXIT_MEANING.get(code, 'error'):<10} {code}")
    worst = max((code for code, _, _ in results.values()), default=0)
    failing = [stack for stack in stacks if results[stack][0]]
    if failing:
        print(f"\n{len(failing)} of {len(stacks)} stacks failed: {', '.join(failing)}", file=sys.stderr)
    return worst


EXIT_MEANING = {0: "pass", EXIT_POLICY: "policy", EXIT_CONFIG: "config", EXIT_INTERNAL: "internal"}


def _stack_status(stack: str, code: int, out: str, err: str) -> str:
    """One line for a finished stack: its verdict line when it printed one, else its first error."""
    verdict = next((line for line in out.splitlines() if line.startswith(f"{stack}: ")), None)
    if verdict and code in (0, EXIT_POLICY):
        return verdict
    problem = next((line for line in err.splitlines() if line.strip()), f"exit {code}")
    return f"{stack}: {EXIT_MEANING.get(code, 'error').upper()} ({problem})" if code else f"{stack}: PASS"


def _cmd_diff(args: argparse.Namespace) -> int:
    """The PR comment: exit 2 when a stack cannot be previewed, its error in the report."""
    from mlops_tools.review.diff import DiffError, diff_against_ref, diff_plans, plan_mismatch
    from mlops_tools.engine.plan import read_plan

    if args.plans and len(args.plans) != 2:
        raise CliError("diff takes two plan files (OLD.json NEW.json) or --base REF")
    failed: list[str] = []
    try:
        if args.plans:
            old, new = read_plan(Path(args.plans[0])), read_plan(Path(args.plans[1]))
            mismatch = plan_mismatch(old, new)
            if mismatch:
                print(f"warning: {mismatch}", file=sys.stderr)
            report = diff_plans(old, new)
        else:
            stacks = args.stack or stacks_in(ROOT)
            unknown = sorted(set(stacks) - set(stacks_in(ROOT)))
            if unknown:
                raise CliError(f"no stack file for {', '.join(unknown)}; stacks here: {', '.join(stacks_in(ROOT))}")
            result = diff_against_ref(ROOT, args.base, stacks, progress=lambda line: print(line, file=sys.stderr, flush=True))
            report, failed = result.report, result.failed
    except (DiffError, ValueError) as error:
        raise CliError(str(error)) from None
    out = Path(args.out) if args.out else ROOT / "build" / "diff.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        previous = out.with_suffix(out.suffix + ".previous")
        out.replace(previous)
        print(f"note: {out} existed; the earlier report is kept as {previous}", file=sys.stderr)
    out.write_text(report)
    print(report)
    if failed:
        print(f"error: {len(failed)} stack(s) could not be previewed: {', '.join(failed)} (see the report)", file=sys.stderr)
        return EXIT_CONFIG
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
        p.add_argument("--today", type=_date, help="run the program and evaluate waiver expiry as of this date "
                       "(default: today, UTC); the program sees it as MLOPS_TODAY (budget start, support windows)")
        p.add_argument("--quiet", action="store_true", help="print only problems")
        p.add_argument("--all-packs", action="store_true",
                       help="run every policy pack, not only those whose provider has resources in the plan (plus kubernetes)")
        p.add_argument("--details", action="store_true",
                       help="after the verdict and findings, print resources per component and per type, and the outputs")

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

    cost = sub.add_parser("cost", help="monthly cost estimate of one stack, every resource (from the price snapshot)")
    cost.add_argument("--stack", default="dev")
    cost.add_argument("--config", action="append", default=[], metavar="KEY=VALUE", help="config override, repeatable")
    cost.add_argument("--configs", default="", metavar="'K=V K2=V2'", help="several overrides in one string (make's CONFIG)")
    cost.add_argument("--format", choices=["text", "json", "csv"], default="text")
    cost.set_defaults(func=_cmd_cost)

    diff = sub.add_parser("diff", help="Markdown plan diff for a pull request")
    diff.add_argument("plans", nargs="*", help="OLD.json NEW.json (instead of --base)")
    diff.add_argument("--base", default=None, help="git ref to compare against (default origin/main, else main)")
    diff.add_argument("--stack", action="append", help="limit to these stacks (repeatable)")
    diff.add_argument("--out", help="where to write the Markdown report (default build/diff.md)")
    diff.set_defaults(func=_cmd_diff)
    for name, (_module, text) in DELEGATED.items():
        sub.add_parser(name, help=text, add_help=False)  # listed here; `main` hands their arguments over
    return top


# Commands owned by another job's module: `python -m mlops_tools <command> ARGS` runs `<module>.main(ARGS)`.
DELEGATED = {
    "architecture": ("mlops_tools.review.architecture", "the components-and-dependencies picture of a stack, as Mermaid"),
    "bench": ("mlops_tools.review.bench", "preview seconds and peak memory per stack"),
    "prices": ("mlops_tools.review.cost.refresh", "refresh the price snapshot from the AWS, Azure and GCP price APIs"),
    "manifests": ("mlops_tools.validate.manifests", "render and validate every Kubernetes manifest of a stack"),
    "lint-workflows": ("mlops_tools.validate.workflows", "validate .github/workflows against the schema and our rules"),
    "checkov": ("mlops_tools.policy.checkov", "Checkov (second opinion) over a stack's rendered manifests and .github"),
    "bootstrap-backend": ("mlops_tools.ops.aws.bootstrap", "create the S3 state bucket and KMS key for self-managed state"),
    "dr": ("mlops_tools.ops.dr", "DR runbook of the stack's cloud (aws, azure, gcp): status, failover, failback"),
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
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - a bug here still gets one line; MLOPS_DEBUG=1 shows the traceback
        if os.environ.get("MLOPS_DEBUG"):
            raise
        print(f"error: internal error in mlops_tools: {type(error).__name__}: {error} (MLOPS_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
