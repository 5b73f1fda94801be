"""The real-software environment behind ``make smoke``: run a stack's rendered config with the real programs.

This package owns everything a smoke test needs that is not the test itself:

- ``plan``: read a stack's plan file (``build/plan/<stack>.json``, written by
  ``python -m mlops_tools preview --stack <s> --no-policy --quiet``) and give a workload's rendered
  inputs: a Deployment's containers (command, args, env with ``valueFrom`` resolved against the
  plan's ConfigMaps and Secrets), ConfigMap data, Helm values. Secret values are ``"[secret]"`` in the
  plan, so the caller hands in values the smoke run generated; ``Workload.generated`` lists which.
- ``procs``: processes started by PID on 127.0.0.1 with dynamically picked free ports, waited for
  by port or URL, stopped by PID; a ``Processes`` context stops everything it started on failure and
  on Ctrl-C, and keeps each program's output in a log file that errors quote.
- ``envs``: per-software virtualenvs under ``build/smoke/venv/<name>`` from the pinned requirement
  files in ``mlops_tools/smoke/requirements/`` (recreated when the file changes), the pinned npm
  tools (``npm ci`` from a committed lock file), and the system programs (Debian packages), installed
  when this process may (root, or CI) or else named in a ``MissingPrerequisite`` error.
- ``services``: launchers for what the workloads talk to: PostgreSQL with TLS (self-signed cert made
  by the run) and a password that needs URL-encoding; moto's server (S3 and other AWS APIs); Azurite
  (Azure Blob); gcp-storage-emulator (GCS); Prometheus with a scrape config and rule files.
- ``SmokeFailure``: the one error a check raises; its message names the component and the setting.

Smoke tests (``tests/smoke/``) compose these; ``make smoke STACK=<s>`` runs them. Nothing here is
imported by the engine or the CLI (layers import downwards).
"""

from __future__ import annotations


class SmokeFailure(AssertionError):
    """A rendered setting did not work with the real software. The message names component and setting."""


class MissingPrerequisite(RuntimeError):
    """A program or package the smoke run needs is not installed and may not be installed by this process."""
