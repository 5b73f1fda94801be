"""Google's side of Google sign-in, replayed on 127.0.0.1: the metadata server that Workload Identity puts
in front of a GKE pod (its Google service account's tokens) and the Cloud Identity API's
``searchTransitiveGroups`` (server.py, answers from recorded.json in Google's documented shapes).

``pod_env`` is what the cluster gives the MLflow pod and the run must point elsewhere: google-auth finds
the metadata server through ``GCE_METADATA_HOST`` / ``GCE_METADATA_IP`` (google/auth/environment_vars.py),
and the plugin calls ``CLOUD_IDENTITY_ENDPOINT`` (its default: https://cloudidentity.googleapis.com)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from mlops_tools.smoke.procs import HOST, Proc, Processes, free_port

SERVER = Path(__file__).resolve().parent / "server.py"
RECORDED = json.loads((Path(__file__).resolve().parent / "recorded.json").read_text())


@dataclass
class GoogleIdentity:
    url: str
    proc: Proc
    calls_log: Path

    @property
    def pod_env(self) -> dict[str, str]:
        host = self.url.removeprefix("http://")
        return {"GCE_METADATA_HOST": host, "GCE_METADATA_IP": host, "CLOUD_IDENTITY_ENDPOINT": self.url}

    def calls(self) -> list[dict]:
        if not self.calls_log.exists():
            return []
        return [json.loads(line) for line in self.calls_log.read_text().splitlines()]


def start_google_identity(procs: Processes) -> GoogleIdentity:
    port = free_port()
    calls_log = procs.temp_dir("google-identity") / "calls.jsonl"
    proc = procs.start("google-identity", [sys.executable, str(SERVER), str(port), str(calls_log)],
                       {"PATH": "/usr/bin:/bin"})
    url = f"http://{HOST}:{port}"
    # The metadata server refuses a request without Metadata-Flavor: Google (403): it is up.
    procs.wait_url(proc, f"{url}/", timeout=60, ready=lambda status: status == 403)
    return GoogleIdentity(url, proc, calls_log)


def recorded_groups() -> set[str]:
    return set(RECORDED["searchTransitiveGroups"]["groups"])
