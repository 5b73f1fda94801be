"""Benchmark: preview seconds and peak memory per stack and per resource.

Each stack runs in a fresh process (so imports and peak memory are that stack's own), measured
with os.wait4's rusage. Run it with `make bench`; it is a measurement, not a test.

    python -m mlops_tools.review.bench [--stack dev ...] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from mlops_tools.engine.preview import preview_stack
from mlops_tools.policy.runner import discover_packs, run_policy_packs
t1 = time.perf_counter()
result = preview_stack(Path(sys.argv[1]), sys.argv[2])
t2 = time.perf_counter()
packs, violations = run_policy_packs(result.resources, discover_packs(Path(sys.argv[1]) / "policies"))
t3 = time.perf_counter()
print(json.dumps({"resources": len(result.resources), "import_s": t1 - t0, "preview_s": t2 - t1,
                  "policy_s": t3 - t2, "packs": len(packs), "violations": len(violations)}))
"""


def measure(stack: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "policies" / "common")])}
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT), stack], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = child.stdout.read(), child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        raise RuntimeError(f"{stack}: preview failed: {stderr.strip().splitlines()[-1] if stderr.strip() else child.returncode}")
    figures = json.loads(stdout.strip().splitlines()[-1])
    peak_mib = usage.ru_maxrss / 1024  # Linux reports KiB
    figures.update(stack=stack, wall_s=wall, peak_mib=peak_mib,
                   ms_per_resource=1000 * figures["preview_s"] / max(figures["resources"], 1),
                   kib_per_resource=usage.ru_maxrss / max(figures["resources"], 1))
    return figures


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops_tools.review.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", action="append", help="stack to measure (default: every Pulumi.<stack>.yaml)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per stack; the fastest is reported")
    args = parser.parse_args(argv)
    stacks = args.stack or sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
    rows = []
    try:
        for stack in stacks:
            runs = [measure(stack) for _ in range(max(args.repeat, 1))]
            rows.append(min(runs, key=lambda r: r["wall_s"]))
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    header = f"{'stack':<10} {'resources':>9} {'wall s':>7} {'import s':>8} {'preview s':>9} {'policy s':>8} {'peak MiB':>8} {'ms/res':>7} {'KiB/res':>8}"
    print(header)
    for r in rows:
        print(f"{r['stack']:<10} {r['resources']:>9} {r['wall_s']:>7.2f} {r['import_s']:>8.2f} {r['preview_s']:>9.2f} "
              f"{r['policy_s']:>8.2f} {r['peak_mib']:>8.0f} {r['ms_per_resource']:>7.2f} {r['kib_per_resource']:>8.0f}")
    out = ROOT / "build" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2, sort_keys=True) + "\n")
    print(f"\n(fastest of {args.repeat} runs per stack, each in a fresh process; figures in {out.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
