"""mlops-platform: load and validate the stack config, build the chosen cloud's platform, export outputs."""

import importlib

import pulumi

from stacks.config import ConfigError, load_from_pulumi

try:
    cfg = load_from_pulumi()
except ConfigError as error:
    # RunError prints just the message (no traceback) under the CLI and the offline preview alike.
    raise pulumi.RunError(f"invalid stack configuration:\n{error}") from None

# One builder per cloud: stacks/aws.py, stacks/azure.py, stacks/gcp.py (mlops:cloud is checked above).
builder = importlib.import_module(f"stacks.{cfg.cloud}")
for name, value in builder.build(cfg).items():
    pulumi.export(name, value)
