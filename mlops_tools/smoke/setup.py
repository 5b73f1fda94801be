"""``python -m mlops_tools.smoke.setup``: install what ``make smoke`` needs, once, before the tests run.

System programs (Debian packages: PostgreSQL and its pgAudit library, openssl, Prometheus with promtool, amtool, Node.js and
npm, Redis; Google's Bigtable emulator is checked), the pinned virtualenvs (MLflow, MLflow with the OIDC plugin, the GCS emulator, Feast) and the pinned npm sets (Azurite, oidc-provider). Each step
is skipped when already current. Doing it here, in one process, keeps parallel test workers from
installing the same thing at once. Prints what it did and how long it took; exit 2 with one line per
missing prerequisite when this process may not install it (not root and not CI).
"""

from __future__ import annotations

import sys
import time

from mlops_tools.smoke import MissingPrerequisite
from mlops_tools.smoke.envs import DEBIAN_PACKAGES, npm_set, npm_tool, system_program, venv
from mlops_tools.smoke.online_stores import bigtable_emulator

# Every venv a smoke test uses, built here once: the per-stack pytest processes run side by side and
# would otherwise race to build the same venv directory.
VENVS = ("mlflow", "mlflow-oidc", "gcs", "feast", "mlserver", "ray")
NPM_TOOLS = (("azurite", "azurite-blob"),)
NPM_SETS = ("oidc-provider",)  # libraries a smoke script imports (no program of their own)


def main() -> int:
    started = time.monotonic()
    missing = []
    for program in DEBIAN_PACKAGES:
        try:
            system_program(program)
        except MissingPrerequisite as error:
            missing.append(str(error))
    try:
        bigtable_emulator()
    except MissingPrerequisite as error:
        missing.append(str(error))
    if missing:
        print("\n".join(f"smoke set-up: {line}" for line in missing), file=sys.stderr)
        return 2
    try:
        for name in VENVS:
            step = time.monotonic()
            venv(name)
            print(f"smoke set-up: venv {name} ready ({time.monotonic() - step:.0f}s)")
        for name, program in NPM_TOOLS:
            step = time.monotonic()
            npm_tool(name, program)
            print(f"smoke set-up: npm {name} ready ({time.monotonic() - step:.0f}s)")
        for name in NPM_SETS:
            step = time.monotonic()
            npm_set(name)
            print(f"smoke set-up: npm {name} ready ({time.monotonic() - step:.0f}s)")
    except MissingPrerequisite as error:
        print(f"smoke set-up: {error}", file=sys.stderr)
        return 2
    print(f"smoke set-up: done in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
