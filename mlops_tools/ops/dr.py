"""`python -m mlops_tools dr status|failover|failback --stack S ...`: the DR runbook of the stack's cloud.

The cloud comes from the stack file's `mlops:cloud` (`Pulumi.<stack>.yaml`), so `make dr-status STACK=azure-prod`
runs the Azure runbook and `STACK=prod` the AWS one; every runbook shares the engine's options and report.
Without a stack file (an operator's machine with only the outputs), the outputs file's `cloud` decides.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

import yaml

from mlops_tools.cmdline import EXIT_USAGE, parse_args
from mlops_tools.ops.runbook.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = {"aws": "mlops_tools.ops.aws.dr", "azure": "mlops_tools.ops.azure.dr", "gcp": "mlops_tools.ops.gcp.dr"}


class _NoCloud(Exception):
    pass


def stack_cloud(stack: str, outputs_file: Optional[str], root: Path = ROOT) -> str:
    path = root / f"Pulumi.{stack}.yaml"
    if path.is_file():
        try:
            config = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("config") or {}
        except yaml.YAMLError as error:
            raise _NoCloud(f"{path.name} is not valid YAML: {str(error).splitlines()[0]}") from None
        cloud, where = config.get("mlops:cloud"), f"{path.name}: mlops:cloud"
    elif outputs_file:
        try:
            cloud = json.loads(Path(outputs_file).read_text(encoding="utf-8")).get("cloud")
        except (OSError, ValueError, AttributeError):
            cloud = "aws"  # let the runbook report the unreadable file in its own words
        where = f"outputs file {outputs_file}: cloud"
    else:
        stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise _NoCloud(f"no stack file Pulumi.{stack}.yaml (stacks here: {', '.join(stacks) or 'none'}); "
                       "pass --outputs-file with the stack outputs")
    if cloud not in RUNBOOKS:
        raise _NoCloud(f"{where} is {cloud!r}; the DR runbook drives {', '.join(sorted(RUNBOOKS))}")
    return cloud


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument("--stack")
    probe.add_argument("--outputs-file")
    known, _ = probe.parse_known_args(argv)
    if not known.stack:  # --help, or a missing --stack: the shared parser says what is expected
        parsed = parse_args(build_parser("python -m mlops_tools dr", "DR runbook of the stack's cloud (aws, azure, gcp).",
                                         "the cloud API endpoint (a local emulator)"), argv)
        return parsed if isinstance(parsed, int) else EXIT_USAGE
    try:
        cloud = stack_cloud(known.stack, known.outputs_file)
    except _NoCloud as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return importlib.import_module(RUNBOOKS[cloud]).main(argv)


if __name__ == "__main__":
    sys.exit(main())
