"""Customer-managed symmetric KMS keys rotate automatically.

A stack rule so the report names what the key protects: each key with rotation off is
reported once, listing the resources in the stack that use it (by dependency).
Asymmetric and HMAC keys cannot rotate automatically and are skipped; replica keys follow
their primary; external (imported) keys cannot rotate.
"""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, is_unknown, violation

KEY = "aws:kms/key:Key"


def _users(stack, key):
    return sorted({r.name for r in stack.resources if key in r.dependencies and r.type != "aws:kms/alias:Alias"})


def check(stack, config):
    for key in stack.of_type(KEY):
        spec = key.props.get("customerMasterKeySpec") or key.props.get("keySpec") or "SYMMETRIC_DEFAULT"
        if is_unknown(spec):
            yield cannot_check("customerMasterKeySpec", key)
            continue
        if spec != "SYMMETRIC_DEFAULT":
            continue
        rotation = key.props.get("enableKeyRotation")
        if is_unknown(rotation):
            yield cannot_check("enableKeyRotation", key)
        elif rotation is not True:
            users = _users(stack, key)
            used_by = f" (used by {', '.join(users)})" if users else ""
            yield violation(f"key {key.name}{used_by} has automatic rotation off.", key)


RULE = StackRule(
    name="aws-kms-key-enable-key-rotation",
    description="Customer-managed symmetric KMS keys must have automatic key rotation enabled.",
    severity="medium",
    enforcement="mandatory",
    remediation="Set enable_key_rotation=True (optionally rotation_period_in_days between 90 and 2560).",
    frameworks=CIS_AWS("3.6") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.7.4"),
    tags=("kms", "key-management"),
    check=check,
)
