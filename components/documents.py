"""JSON documents (IAM and queue policies, event patterns, dashboards, kubeconfigs) built from plain values
and Outputs, rendered as `pulumi.Output.json_dumps` renders them.

Why not `pulumi.Output.json_dumps` itself: it first lifts the whole document into Outputs
(`Output.from_input` walks every dict and list and makes an Output, with its asyncio task, of every
key, value and level), so an IAM policy of forty strings and two ARNs costs about a hundred Outputs.
In the prod stack its 56 documents made 5,230 of the program's 17,344 Outputs and ~0.1 s of its
~0.9 s CPU (issue 18); a `pulumi up` pays the same. Here only the Outputs the document actually holds
are awaited, together, once. The text is the same `json.dumps` of the same values; the result is secret
if any of them is, depends on the resources they depend on, and is unknown while any is unknown
(the plans are byte-identical either way).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pulumi


def _outputs_in(value: Any, found: list) -> None:
    """Append every Output in `value` (dict keys and values, list and tuple items), depth first."""
    if isinstance(value, pulumi.Output):
        found.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _outputs_in(key, found)
            _outputs_in(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _outputs_in(item, found)


def _resolved(value: Any, values: Iterator[Any]) -> Any:
    """`value` with each Output replaced by the next of `values` (the order `_outputs_in` found them)."""
    if isinstance(value, pulumi.Output):
        return next(values)
    if isinstance(value, dict):
        resolved = {}
        for key, item in value.items():
            key = _resolved(key, values)  # the key first: _outputs_in found it before its value
            resolved[key] = _resolved(item, values)
        return resolved
    if isinstance(value, (list, tuple)):
        return [_resolved(item, values) for item in value]
    return value


def json_document(document: Any) -> pulumi.Output[str]:
    """`document` (plain dicts, lists, tuples and scalars, with Outputs anywhere in them) as JSON text."""
    outputs: list = []
    _outputs_in(document, outputs)
    return pulumi.Output.all(*outputs).apply(lambda values: json.dumps(_resolved(document, iter(values))))
