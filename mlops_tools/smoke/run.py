"""``python -m mlops_tools.smoke.run STACK...``: the smoke tests of each stack in its own pytest process,
side by side, then each one's output and report, and the time each stack took.

One process per stack (not xdist groups: pytest-xdist 3.8's ``loadgroup`` does not group under
pytest 9, whose node ids it can no longer suffix), so each stack starts its MLflow, database and
Prometheus once. The stack-independent tests run with the first stack only. Exit status: the first
non-zero pytest status, else 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from mlops_tools.smoke.plan import REPO

OUT = REPO / "build" / "smoke"


def main(stacks: list[str]) -> int:
    if not stacks:
        print("usage: python -m mlops_tools.smoke.run STACK...", file=sys.stderr)
        return 2
    (OUT / "reports").mkdir(parents=True, exist_ok=True)
    for old in (OUT / "reports").glob("*.txt"):
        old.unlink()
    running = []
    for index, stack in enumerate(stacks):
        env = {**os.environ, "MLOPS_SMOKE": "1", "SMOKE_STACKS": stack, "SMOKE_COMMON": "1" if index == 0 else "0"}
        log = open(OUT / f"pytest-{stack}.out", "w")
        argv = [sys.executable, "-m", "pytest", "tests/smoke", "-p", "no:cacheprovider", "-q", "--tb=short"]
        running.append((stack, subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT),
                        time.monotonic(), log))
    status, timings = 0, []
    try:
        for stack, proc, started, log in running:
            code = proc.wait()
            log.close()
            timings.append(f"{stack}: {time.monotonic() - started:.0f}s, pytest exit {code}")
            status = status or code
    except KeyboardInterrupt:  # pytest's own teardown stops every server it started
        for _, proc, _, _ in running:
            proc.send_signal(subprocess.signal.SIGINT)
        for _, proc, _, _ in running:
            proc.wait()
        raise
    # Reports first, pytest's own output last, so the run ends with pytest's closing lines.
    for report in sorted((OUT / "reports").glob("*.txt")):
        print(report.read_text(), end="")
    print("smoke time per stack (run side by side): " + "; ".join(timings))
    for stack, _, _, _ in running:
        print(f"===== smoke {stack} =====")
        print((OUT / f"pytest-{stack}.out").read_text(), end="")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
