"""Kubernetes answers for the offline preview: the object as applied, with a generated name when none is given."""

from __future__ import annotations

from mlops_tools.engine.mocks.common import MockContext, Outputs

def answer(ctx: MockContext) -> Outputs:
    metadata = dict(ctx.inputs.get("metadata") or {})
    metadata.setdefault("name", f"{ctx.name}-{ctx.hex(8)}")
    namespace = metadata.get("namespace")
    return (f"{namespace}/{metadata['name']}" if namespace else metadata["name"]), {"metadata": metadata}
