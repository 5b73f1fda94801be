"""Benchmark: each stack's preview against its floor, and synthetic programs of thousands of resources.

The floor of a stack is a process that only imports pulumi, pulumi_policy and every resource class
the stack's plan uses: what no preview of that stack can go below. The preview is the whole CLI path
(`python -m mlops_tools preview --stack S`: program, policy packs, plan file). Both run in fresh
processes, alternating, fastest of `--repeat`; peak memory comes from os.wait4's rusage. The machine
may be shared, so the figure that counts is the ratio measured in the same run, not the seconds.

Synthetic programs (bench_programs.py) of 1,000 / 2,000 / 5,000 resources go through the same engine
and packs; their cost per resource above their own floor should stay flat as they grow. (Their level
differs with their mix of kinds: an Azure storage account is one resource where AWS needs three.)

Training pools, like for like: one stack per cloud (dev, azure-dev, gcp-dev) previewed as it is and with
50 and 100 more training pools like its first (`--config mlops:trainingPools=...`), alternating; what one
more pool costs each cloud's preview over the first 50 and the next 50 (equal when linear), through the
real components and packs (an AKS pool is an AgentPool per VM size, an AWS one a Karpenter NodePool and
EC2NodeClass, a GKE one a node pool per machine type): per resource added, Azure should cost no more than AWS.

    python -m mlops_tools bench [--stack dev ...] [--repeat 3] [--sizes 1000,2000,5000] [--no-synthetic]
                                [--no-stacks] [--no-pools] [--pool-stacks dev,azure-dev,gcp-dev] [--baseline DIR]

`--baseline DIR` (another checkout of the project, e.g. `git worktree add /tmp/before main`) previews each
stack there too, alternating with the floor and this tree, so "before" and "after" share one run's load.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Optional

ROOT = Path(__file__).resolve().parents[2]
TARGET_RATIO = 1.3
ADDED_POOLS = 50
POOL_STACKS = "dev,azure-dev,gcp-dev"  # one stack per cloud
_MODULES = re.compile(r'resource_modules="""(.*?)"""', re.S)
_PACKAGES = re.compile(r'resource_packages="""(.*?)"""', re.S)

SYNTHETIC_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from mlops_tools.engine.plan import build_plan, dumps
from mlops_tools.engine.preview import preview_program
from mlops_tools.engine.runtime import exit_now, tune_for_cli
from mlops_tools.policy.runner import PolicyPacks, discover_packs
from mlops_tools.review.bench_programs import CONFIG, PROGRAMS
tune_for_cli()
cloud, size = sys.argv[1], int(sys.argv[2])
with PolicyPacks(discover_packs(Path(sys.argv[3]) / "policies")) as packs:
    result = preview_program(PROGRAMS[cloud](size), stack="bench", config=CONFIG[cloud])
    t1 = time.perf_counter()
    info, violations = packs.analyze(result.resources, all_packs=False, property_structs=result.property_structs)
plan = dumps(build_plan(result, cloud, [{"name": p.name, "version": p.version, "policies": len(p.policies)} for p in info],
                        [v.to_dict() for v in violations]))
print(json.dumps({"resources": len(result.records), "types": sorted({r["type"] for r in result.records}),
                  "program_s": t1 - t0, "packs": [p.name for p in info], "violations": len(violations)}))
exit_now(0)
"""


def _env(root: Path = ROOT) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "policies" / "common")])}


def _run_measured(command: list[str], root: Path = ROOT) -> dict:
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=root, env=_env(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout = child.stdout.read()
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()
    child.stderr.close()
    # wait4's rusage covers the child and every descendant it waited for (the policy pack processes).
    return {"wall_s": time.perf_counter() - start, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_mib": usage.ru_maxrss / 1024, "code": child.returncode,
            "stdout": stdout.decode(errors="replace"), "stderr": stderr.decode(errors="replace")}


def _registry(package: str) -> dict:
    """Type token -> (module, class) from the SDK's own registration table (read, not imported)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return {}
    text = Path(spec.origin).read_text()
    modules, packages = _MODULES.search(text), _PACKAGES.search(text)
    found = {}
    for module in json.loads(modules.group(1)) if modules else []:
        for token, cls in module["classes"].items():
            found[token] = (module["fqn"], cls)
    for pkg in json.loads(packages.group(1)) if packages else []:
        found[pkg["token"]] = (pkg["fqn"], pkg["class"])
    return found


def floor_code(types: Iterable[str]) -> str:
    """The floor program: import pulumi, pulumi_policy and the class of every resource type given.

    Component types (`mlops:*`) and the stack are ours, not SDK classes; Kubernetes custom resources
    (CRDs) are `pulumi_kubernetes.apiextensions.CustomResource`.
    """
    registries: dict = {}
    classes = set()
    for token in set(types):
        if token.startswith("pulumi:providers:"):
            package = "pulumi_" + token.split(":")[2].replace("-", "_")
        elif token.startswith(("pulumi:", "mlops:")):
            continue
        else:
            package = "pulumi_" + token.split(":")[0].replace("-", "_")
        registry = registries.setdefault(package, _registry(package))
        if token in registry:
            classes.add(registry[token])
        elif package == "pulumi_kubernetes":
            classes.add(("pulumi_kubernetes.apiextensions", "CustomResource"))
    return "import pulumi, pulumi_policy\n" + "".join(f"from {m} import {c}\n" for m, c in sorted(classes))


def _fastest(runs: list, key: str = "wall_s") -> dict:
    return min(runs, key=lambda r: r[key])


def _load() -> float:
    """The 1-minute load average: printed with every row, since other processes inflate wall time."""
    return os.getloadavg()[0]


def bench_stack(stack: str, repeat: int, out_dir: Path, baseline: Optional[Path] = None) -> dict:
    """The stack's preview against its floor (and `baseline`'s preview of it), alternating, fastest of `repeat`."""
    preview = [sys.executable, "-m", "mlops_tools", "preview", "--stack", stack, "--quiet", "--out", str(out_dir)]
    load = _load()
    first = _run_measured(preview)
    if first["code"] not in (0, 1):
        raise RuntimeError(f"{stack}: preview failed: {first['stderr'].strip().splitlines()[-1:] or first['code']}")
    plan = json.loads((out_dir / f"{stack}.json").read_text())
    floor = [sys.executable, "-c", floor_code(r["type"] for r in plan["resources"])]
    before = [sys.executable, "-m", "mlops_tools", "preview", "--stack", stack, "--quiet", "--out", str(out_dir / "baseline")]
    floors, previews, befores = [], [first], []
    for index in range(repeat):  # alternate, so load from other processes hits all alike
        floors.append(_run_measured(floor))
        if baseline is not None:
            befores.append(_run_measured(before, baseline))
            if befores[-1]["code"] not in (0, 1):
                raise RuntimeError(f"{stack}: baseline preview in {baseline} failed: "
                                   f"{befores[-1]['stderr'].strip().splitlines()[-1:] or befores[-1]['code']}")
        if index + 1 < repeat:
            previews.append(_run_measured(preview))
    if any(r["code"] for r in floors):
        raise RuntimeError(f"{stack}: floor process failed: {floors[0]['stderr'].strip().splitlines()[-1:]}")
    best, base = _fastest(previews), _fastest(floors)
    best_cpu, base_cpu = _fastest(previews, "cpu_s"), _fastest(floors, "cpu_s")
    row = {"stack": stack, "resources": len(plan["resources"]), "floor_s": base["wall_s"], "preview_s": best["wall_s"],
           "ratio": best["wall_s"] / base["wall_s"], "floor_cpu_s": base_cpu["cpu_s"], "preview_cpu_s": best_cpu["cpu_s"],
           "cpu_ratio": best_cpu["cpu_s"] / base_cpu["cpu_s"], "peak_mib": best["peak_mib"],
           "floor_peak_mib": base["peak_mib"], "load": round(max(load, _load()), 2),
           "packs": [p["name"] for p in plan["policy"]["packs"]]}
    if befores:
        row.update({"baseline_ratio": _fastest(befores)["wall_s"] / base["wall_s"],
                    "baseline_cpu_ratio": _fastest(befores, "cpu_s")["cpu_s"] / base_cpu["cpu_s"],
                    "baseline_peak_mib": _fastest(befores)["peak_mib"]})
    return row


def bench_synthetic(cloud: str, sizes: list, repeat: int, on_row: Optional[Callable[[dict], None]] = None) -> list:
    """Each size's program against the floor of the types it registers; per resource above that floor.

    `on_row` gets each row as soon as it is measured (a long run on a busy machine shows what it has)."""
    rows = []
    floor_run = floor_cpu = None
    for size in sizes:
        load = _load()
        runs = []
        for _ in range(repeat):
            run = _run_measured([sys.executable, "-c", SYNTHETIC_CHILD, cloud, str(size), str(ROOT)])
            if run["code"] != 0:
                raise RuntimeError(f"synthetic {cloud} {size}: {run['stderr'].strip().splitlines()[-1:] or run['code']}")
            runs.append(run)
        best, best_cpu = _fastest(runs), _fastest(runs, "cpu_s")
        figures = json.loads(best["stdout"].strip().splitlines()[-1])
        if floor_run is None:
            floor_cmd = [sys.executable, "-c", floor_code(figures["types"])]
            floors = [_run_measured(floor_cmd) for _ in range(repeat)]
            floor_run, floor_cpu = _fastest(floors), _fastest(floors, "cpu_s")
        count = figures["resources"]
        rows.append({"cloud": cloud, "size": size, "resources": count, "wall_s": best["wall_s"],
                     "floor_s": floor_run["wall_s"], "cpu_s": best_cpu["cpu_s"], "floor_cpu_s": floor_cpu["cpu_s"],
                     "peak_mib": best["peak_mib"],
                     "ms_per_resource": 1000 * (best["wall_s"] - floor_run["wall_s"]) / count,
                     "cpu_ms_per_resource": 1000 * (best_cpu["cpu_s"] - floor_cpu["cpu_s"]) / count,
                     "kib_per_resource": 1024 * (best["peak_mib"] - floor_run["peak_mib"]) / count,
                     "load": round(max(load, _load()), 2), "packs": figures["packs"]})
        if on_row is not None:
            on_row(rows[-1])
    return rows


def _stack_values(root: Path, stack: str) -> dict:
    """The stack's config values as the preview reads them; a missing or unreadable stack file is one line."""
    from stacks.config import ConfigError
    from stacks.stackfile import load_stack_files

    try:
        return load_stack_files(root, stack)[1].values
    except ConfigError as error:
        raise RuntimeError("; ".join(error.problems)) from None


def added_pools_override(root: Path, stack: str, count: int) -> str:
    """`--config` giving `stack` its own training pools and `count` more like its first (bench0, bench1, ...)."""
    return _added_pools(_stack_values(root, stack), stack, count)


def _added_pools(values: dict, stack: str, count: int) -> str:
    raw = values.get("mlops:trainingPools")
    pools = json.loads(raw) if raw else []
    if not pools:
        raise RuntimeError(f"{stack}: Pulumi.{stack}.yaml sets no mlops:trainingPools to copy")
    return "mlops:trainingPools=" + json.dumps(pools + [{**pools[0], "name": f"bench{i}"} for i in range(count)])


def bench_pools(stack: str, repeat: int, out_dir: Path) -> list:
    """What one more training pool costs `stack`'s preview: the CLI preview with 0, ADDED_POOLS and twice as many
    more pools, alternating, fastest of `repeat`; per pool and per resource added, over the first ADDED_POOLS and
    over the next (the same figure twice if the cost is linear in the pools)."""
    preview = [sys.executable, "-m", "mlops_tools", "preview", "--stack", stack, "--quiet", "--out", str(out_dir)]
    steps = (0, ADDED_POOLS, 2 * ADDED_POOLS)
    values = _stack_values(ROOT, stack)  # read once: the added pools and the cloud
    commands = {count: preview + (["--config", _added_pools(values, stack, count)] if count else []) for count in steps}
    load = _load()
    runs: dict = {count: [] for count in steps}
    resources: dict = {}
    for _ in range(repeat):
        for count, command in commands.items():
            run = _run_measured(command)
            if run["code"] not in (0, 1):
                raise RuntimeError(f"{stack} with {count} more pools: preview failed: "
                                   f"{run['stderr'].strip().splitlines()[-1:] or run['code']}")
            runs[count].append(run)
            resources[count] = len(json.loads((out_dir / f"{stack}.json").read_text())["resources"])
    wall = {count: _fastest(runs[count]) for count in steps}
    cpu = {count: _fastest(runs[count], "cpu_s")["cpu_s"] for count in steps}
    rows = []
    for low, high in zip(steps, steps[1:]):
        pools, added = high - low, resources[high] - resources[low]
        seconds, cpu_seconds = wall[high]["wall_s"] - wall[low]["wall_s"], cpu[high] - cpu[low]
        rows.append({"stack": stack, "cloud": values.get("mlops:cloud", "?"),
                     "more_pools": f"{low}->{high}", "pools_added": pools, "resources_added": added,
                     "ms_per_pool": 1000 * seconds / pools, "cpu_ms_per_pool": 1000 * cpu_seconds / pools,
                     "ms_per_resource": 1000 * seconds / added, "cpu_ms_per_resource": 1000 * cpu_seconds / added,
                     "kib_per_pool": 1024 * (wall[high]["peak_mib"] - wall[low]["peak_mib"]) / pools,
                     "load": round(max(load, _load()), 2)})
    return rows


def _print_stacks(rows: list, header: bool = True) -> None:
    if header:
        print(f"{'stack':<11} {'resources':>9} {'floor s':>8} {'preview s':>9} {'ratio':>6} {'floor cpu':>9} "
              f"{'preview cpu':>11} {'cpu ratio':>9} {'peak MiB':>8} {'load':>5}  packs")
    for r in rows:
        flag = "" if r["cpu_ratio"] <= TARGET_RATIO else f"  (CPU over {TARGET_RATIO}x)"
        print(f"{r['stack']:<11} {r['resources']:>9} {r['floor_s']:>8.2f} {r['preview_s']:>9.2f} {r['ratio']:>5.2f}x "
              f"{r['floor_cpu_s']:>9.2f} {r['preview_cpu_s']:>11.2f} {r['cpu_ratio']:>8.2f}x {r['peak_mib']:>8.0f} "
              f"{r['load']:>5.1f}  {', '.join(r['packs'])}{flag}", flush=True)


def _print_baseline(rows: list) -> None:
    baseline = [r for r in rows if "baseline_ratio" in r]
    if baseline:
        print(f"\n{'stack':<11} {'ratio before':>12} {'ratio after':>11} {'cpu before':>10} {'cpu after':>9} "
              f"{'MiB before':>10} {'MiB after':>9}   (--baseline, same run)")
        for r in baseline:
            print(f"{r['stack']:<11} {r['baseline_ratio']:>11.2f}x {r['ratio']:>10.2f}x {r['baseline_cpu_ratio']:>9.2f}x "
                  f"{r['cpu_ratio']:>8.2f}x {r['baseline_peak_mib']:>10.0f} {r['peak_mib']:>9.0f}")


def _print_table(rows: list, columns: tuple, header: bool) -> None:
    """Rows as fixed-width columns, each (title, key, width, number format); the first one left-aligned."""
    if header:
        print("\n" + " ".join(f"{title:<{width}}" if i == 0 else f"{title:>{width}}"
                              for i, (title, _, width, _) in enumerate(columns)))
    for r in rows:
        print(" ".join(f"{r[key]:<{width}}" if i == 0 else f"{r[key]:>{width}{number}}"
                       for i, (_, key, width, number) in enumerate(columns)), flush=True)


SYNTHETIC_COLUMNS = (("program", "cloud", 8, ""), ("resources", "resources", 9, ""), ("floor s", "floor_s", 8, ".2f"),
                     ("wall s", "wall_s", 7, ".2f"), ("ms/res", "ms_per_resource", 7, ".2f"),
                     ("floor cpu", "floor_cpu_s", 9, ".2f"), ("cpu s", "cpu_s", 6, ".2f"),
                     ("cpu ms/res", "cpu_ms_per_resource", 10, ".2f"), ("peak MiB", "peak_mib", 8, ".0f"),
                     ("KiB/res", "kib_per_resource", 8, ".1f"), ("load", "load", 5, ".1f"))
POOL_COLUMNS = (("pools", "stack", 11, ""), ("more pools", "more_pools", 10, ""), ("resources", "resources_added", 9, ""),
                ("ms/pool", "ms_per_pool", 8, ".2f"), ("cpu ms/pool", "cpu_ms_per_pool", 11, ".2f"),
                ("ms/res", "ms_per_resource", 7, ".2f"), ("cpu ms/res", "cpu_ms_per_resource", 10, ".2f"),
                ("KiB/pool", "kib_per_pool", 8, ".0f"), ("load", "load", 5, ".1f"))


def pools_against_aws(rows: list) -> list:
    """Each non-AWS pools row's cost per resource added as a ratio to the AWS row of the same span (goal: <= 1.0x)."""
    aws = {r["more_pools"]: r for r in rows if r["cloud"] == "aws"}
    return [f"{r['stack']} {r['more_pools']}: {r['ms_per_resource'] / aws[r['more_pools']]['ms_per_resource']:.2f}x wall, "
            f"{r['cpu_ms_per_resource'] / aws[r['more_pools']]['cpu_ms_per_resource']:.2f}x CPU per resource added "
            f"against {aws[r['more_pools']]['stack']}"
            for r in rows if r["cloud"] != "aws" and r["more_pools"] in aws]


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_tools bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", action="append", help="stack to measure (default: every Pulumi.<stack>.yaml)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each process; the fastest is reported")
    parser.add_argument("--sizes", default="1000,2000,5000", help="resources of the synthetic programs")
    parser.add_argument("--no-synthetic", action="store_true", help="only the stacks")
    parser.add_argument("--no-stacks", action="store_true", help="only the synthetic programs")
    parser.add_argument("--no-pools", action="store_true", help="skip the cost of added training pools")
    parser.add_argument("--pool-stacks", default=POOL_STACKS, help="stacks given more training pools (one per cloud)")
    parser.add_argument("--baseline", type=Path, help="another checkout whose preview is measured alongside (before/after)")
    args = parser.parse_args(argv)
    if args.baseline is not None and not (args.baseline / "__main__.py").is_file():
        print(f"error: --baseline {args.baseline}: not a checkout of the project (no __main__.py there)", file=sys.stderr)
        return 2
    stacks = args.stack or sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
    repeat = max(args.repeat, 1)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        print(f"error: --sizes {args.sizes!r}: expected comma-separated resource counts like 1000,2000,5000", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="mlops-bench-") as tmp:
            stack_rows: list = []
            for stack in [] if args.no_stacks else stacks:  # each row printed as soon as it is measured
                stack_rows.append(bench_stack(stack, repeat, Path(tmp), args.baseline))
                _print_stacks(stack_rows[-1:], header=len(stack_rows) == 1)
        _print_baseline(stack_rows)
        synthetic_rows: list = []
        for cloud in [] if args.no_synthetic else ("aws", "azure"):
            bench_synthetic(cloud, sizes, max(1, min(repeat, 2)),
                            lambda row: (synthetic_rows.append(row), _print_table([row], SYNTHETIC_COLUMNS, len(synthetic_rows) == 1)))
        pool_rows: list = []
        with tempfile.TemporaryDirectory(prefix="mlops-bench-") as tmp:
            for stack in [] if args.no_pools else [s.strip() for s in args.pool_stacks.split(",") if s.strip()]:
                rows = bench_pools(stack, repeat, Path(tmp))
                _print_table(rows, POOL_COLUMNS, not pool_rows)
                pool_rows.extend(rows)
        for line in pools_against_aws(pool_rows):
            print(line)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = ROOT / "build" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"stacks": stack_rows, "synthetic": synthetic_rows, "pools": pool_rows}, indent=2, sort_keys=True) + "\n")
    print(f"\n(fastest of {repeat} fresh processes each, preview and floor alternating; CPU = user+sys of the process "
          f"and the pack processes it waited for; load = 1-minute load average; on a shared machine compare the CPU "
          f"ratios, not seconds; figures in {out.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
