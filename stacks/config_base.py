"""What every part of the stack-config model shares: how keys are spelled and read, and what a pinned image is.

Each `stacks/config_*.py` module models one `mlops:*` key; all of them derive from `ConfigModel` so a
stack file reads the same everywhere: camelCase keys, unknown keys refused (they are usually typos),
values frozen once validated, and no infinity or NaN (`1e400` is YAML for infinity: never a real
size, budget or threshold).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# An image reference pinned by tag, by digest, or by both (`repo:1.2@sha256:...`, the strongest pin).
PINNED_IMAGE = r"^[^:@\s]+(:[\w.-]+(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$"


class ConfigModel(BaseModel):
    """The base of every config model (module docstring)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True,
                              allow_inf_nan=False)


def refuse_latest(value: str | None) -> str | None:
    """`:latest` names whatever was pushed last: a deploy could not be repeated. Used by the image validators."""
    if value is not None and value.endswith(":latest"):
        raise ValueError("must pin a version or digest, not :latest")
    return value
