"""Launchers for Feast's online stores that have an emulator here (next to ``services``, same contract:
``Processes`` stops them by PID, 127.0.0.1 only, free ports).

- Bigtable: Google's ``cbtemulator``, shipped by the Debian package ``google-cloud-cli-bigtable-emulator``
  (Google's Cloud SDK apt repository; the python machine image has 528.0.0). Clients reach it through
  ``BIGTABLE_EMULATOR_HOST``; it holds any project/instance in memory.
"""

from __future__ import annotations

import glob
import shutil

from mlops_tools.smoke import MissingPrerequisite
from mlops_tools.smoke.procs import HOST, Processes, free_port
from mlops_tools.smoke.services import Endpoint, _minimal_env

BIGTABLE_PACKAGE = "google-cloud-cli-bigtable-emulator"


def _cbtemulator() -> str:
    found = shutil.which("cbtemulator") or next(iter(sorted(glob.glob(
        "/usr/lib/google-cloud-sdk/platform/bigtable-emulator/cbtemulator"))), None)
    if not found:
        raise MissingPrerequisite(f"make smoke needs the Bigtable emulator 'cbtemulator' from the Debian package "
                                  f"{BIGTABLE_PACKAGE!r} (Google Cloud SDK apt repository): "
                                  f"`apt-get install -y {BIGTABLE_PACKAGE}`")
    return found


def start_bigtable(procs: Processes) -> Endpoint:
    port = free_port()
    proc = procs.start("bigtable-emulator", [_cbtemulator(), "-host", HOST, "-port", str(port)], env=_minimal_env())
    procs.wait_port(proc, port, timeout=60)
    return Endpoint(f"{HOST}:{port}", {"BIGTABLE_EMULATOR_HOST": f"{HOST}:{port}"})
