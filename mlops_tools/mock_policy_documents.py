"""Policy documents given as objects come back from the AWS provider as JSON strings.

pulumi-aws v7 accepts ``policy=`` / ``assume_role_policy=`` (and ``inline_policies[].policy``) as a
JSON string or a ``PolicyDocument`` object, but its outputs are typed ``str``: the provider
marshals the object to JSON before it reaches the AWS API and the state stores that string.
The mocks must answer the same way, or the SDK rejects the dict it gets back
("expected a value of type str"). The provider marshals with Go's encoding/json (compact,
map keys sorted); whether it later rewrites the JSON to AWS's normalised form is not visible
offline and does not change the document.
"""
from __future__ import annotations

import json
from typing import Any

# Properties whose input may be a PolicyDocument object and whose output is a JSON string.
DOCUMENT_PROPS = ("policy", "assumeRolePolicy", "accessPolicies")


def _as_json(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


def policy_documents_as_json(outputs: dict[str, Any]) -> dict[str, Any]:
    """``outputs`` with every object-valued policy document replaced by its JSON string."""
    result = dict(outputs)
    for prop in DOCUMENT_PROPS:
        if prop in result:
            result[prop] = _as_json(result[prop])
    inline = result.get("inlinePolicies")
    if isinstance(inline, list):
        result["inlinePolicies"] = [
            {**item, "policy": _as_json(item.get("policy"))} if isinstance(item, dict) and "policy" in item else item
            for item in inline]
    return result
