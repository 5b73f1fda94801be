"""mlops-platform: load and validate the stack config, build the chosen cloud's platform, export outputs."""

import importlib

import pulumi

from stacks.config import ConfigError, load_from_pulumi

try:
    cfg = load_from_pulumi()
except ConfigError as error:
    # RunError prints just the message (no traceback) under the CLI and the offline preview alike.
    raise pulumi.RunError(f"invalid stack configuration:\n{error}") from None

try:
    builder = importlib.import_module(f"stacks.{cfg.cloud}")
except ModuleNotFoundError as error:
    if error.name != f"stacks.{cfg.cloud}":
        raise
    raise pulumi.RunError(f"mlops:cloud = {cfg.cloud!r}: this cloud has no stack builder yet (stacks/{cfg.cloud}.py); aws is available") from None

for name, value in builder.build(cfg).items():
    pulumi.export(name, value)
