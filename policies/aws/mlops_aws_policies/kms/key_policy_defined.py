"""Every KMS key carries an explicit key policy.

Without one, KMS applies its default policy: the whole account (any principal with kms:* in IAM)
administers and uses the key, so the key no longer separates who may read the data it protects.
A policy is either the key's ``policy`` input or a separate ``kms.KeyPolicy`` for it;
aws-kms-key-disallow-public-principal then judges its content.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, StackRule, is_set, linked_to, violation

KEY = "aws:kms/key:Key"
REPLICA = "aws:kms/replicaKey:ReplicaKey"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"


def check(stack, config):
    keys = stack.of_type(KEY, REPLICA)
    covered = {k.urn for p in stack.of_type(KEY_POLICY) for k in linked_to(p, "keyId", keys)}
    for key in keys:
        if key.urn not in covered and not is_set(key.props.get("policy")):
            yield violation(f"key {key.name} has no key policy: KMS's default lets every IAM principal of the "
                            "account with kms:* permissions use and administer it.", key)


RULE = StackRule(
    name="aws-kms-key-require-key-policy",
    description="KMS keys (and replica keys) must have an explicit key policy.",
    severity="high",
    enforcement="mandatory",
    remediation="Pass policy= with least-privilege statements (administrators, the services and roles that use the "
                "key) to aws.kms.Key / ReplicaKey, or attach an aws.kms.KeyPolicy.",
    frameworks=SOC2("CC6.1", "CC6.3") + ISO27001("A.5.15", "A.8.24") + PCI_DSS("3.6.1"),
    tags=("kms", "key-management"),
    resource_types=(KEY, REPLICA, KEY_POLICY),
    check=check,
)
