"""Normalise IAM-style JSON policy documents (AWS IAM, S3/KMS/SQS/SNS/ECR resource policies).

Users express the same document many ways: a JSON string or an object; ``Statement`` as one
dict or a list; ``Action``/``Resource``/``Principal`` as a string or a list; ``NotAction``/
``NotResource``/``NotPrincipal``; condition values as a string or a list. Rules only see the
normalised ``Statement`` below. Keys are matched case-insensitively because the pulumi-aws
``PolicyDocument`` object type and hand-written JSON both occur.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

from .values import is_unknown


class PolicyDocumentError(ValueError):
    """The document is not valid JSON / not a policy document."""


@dataclass(frozen=True)
class Statement:
    effect: str                                    # "Allow" | "Deny"
    actions: Optional[tuple] = None                # None when the statement uses NotAction
    not_actions: Optional[tuple] = None
    resources: Optional[tuple] = None
    not_resources: Optional[tuple] = None
    principals: Optional[dict] = None              # {"AWS": ("*",), "Service": (...)}; "*" -> {"*": ("*",)}
    not_principals: Optional[dict] = None
    conditions: dict = field(default_factory=dict)  # {operator: {key: (values...)}}
    sid: str = ""

    @property
    def allows(self) -> bool:
        return self.effect.lower() == "allow"

    @property
    def has_conditions(self) -> bool:
        return bool(self.conditions)

    def principal_is_anyone(self) -> bool:
        """``"*"`` or ``{"AWS": "*"}`` (any AWS principal); service principals are not "anyone"."""
        if self.not_principals is not None:
            return True  # NotPrincipal with Allow grants everyone except the listed ones
        if not self.principals:
            return False
        return "*" in self.principals.get("*", ()) or "*" in self.principals.get("AWS", ())

    def condition_keys(self) -> set:
        """Lower-cased condition keys, e.g. {"aws:securetransport", "aws:principalorgid"}."""
        return {key.lower() for entries in self.conditions.values() for key in entries}


def _key(mapping: dict, name: str) -> Any:
    for k, v in mapping.items():
        if isinstance(k, str) and k.lower() == name.lower():
            return v
    return None


def _strings(value: Any) -> Optional[tuple]:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return tuple(str(v) if not isinstance(v, str) else v for v in value)
    return (value if isinstance(value, str) else str(value),)


def _principals(value: Any) -> Optional[dict]:
    if value is None:
        return None
    if isinstance(value, str):
        return {"*": (value,)} if value == "*" else {"AWS": (value,)}
    if isinstance(value, dict):
        return {str(k): _strings(v) or () for k, v in value.items()}
    if isinstance(value, list):  # tolerate a bare list of ARNs
        return {"AWS": _strings(value) or ()}
    raise PolicyDocumentError(f"unsupported Principal value {value!r}")


def _conditions(value: Any) -> dict:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise PolicyDocumentError("Condition must be an object")
    result = {}
    for operator, entries in value.items():
        if not isinstance(entries, dict):
            raise PolicyDocumentError(f"Condition operator {operator} must map keys to values")
        result[str(operator)] = {str(k): _strings(v) or () for k, v in entries.items()}
    return result


def _statement(raw: Any) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyDocumentError("each Statement must be an object")
    return Statement(
        effect=str(_key(raw, "Effect") or "Allow"),
        actions=_strings(_key(raw, "Action")),
        not_actions=_strings(_key(raw, "NotAction")),
        resources=_strings(_key(raw, "Resource")),
        not_resources=_strings(_key(raw, "NotResource")),
        principals=_principals(_key(raw, "Principal")),
        not_principals=_principals(_key(raw, "NotPrincipal")),
        conditions=_conditions(_key(raw, "Condition")),
        sid=str(_key(raw, "Sid") or ""),
    )


def parse_policy_document(document: Any) -> Optional[list]:
    """Statements of ``document`` (JSON string or object); None when the document is unknown.

    An empty/absent document gives []. Raises PolicyDocumentError for malformed input.
    """
    if document is None or document == "":
        return []
    if is_unknown(document):
        return None
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as exc:
            raise PolicyDocumentError(f"policy is not valid JSON: {exc.msg}") from exc
    if not isinstance(document, dict):
        raise PolicyDocumentError("policy document must be a JSON object")
    statements = _key(document, "Statement")
    if is_unknown(statements):
        return None
    if statements is None:
        return []
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyDocumentError("Statement must be an object or a list")
    if any(is_unknown(s) for s in statements):
        return None
    return [_statement(s) for s in statements]

