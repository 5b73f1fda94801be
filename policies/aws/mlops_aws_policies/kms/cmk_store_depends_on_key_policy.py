"""A store encrypted with a customer-managed KMS key is created after what lets it use the key.

On AWS the grant is the key policy (plus KMS grants): a store (RDS instance, log group, EKS cluster,
SNS topic, ...) whose service cannot use the key at creation fails, or is created with a key it
cannot decrypt with later. A policy written inline on the key exists as soon as the key does, and a
store that takes the key's ARN already waits for the key; a separate ``aws:kms/keyPolicy:KeyPolicy``
or ``aws:kms/grant:Grant`` exists only when that resource is created, so the store must depend on it.
A key created without any of them keeps the default key policy, which lets no AWS service principal
in: the rule reports that too.

The store's key is found through the dependencies of the property that names it (what the CLI
sends, and the offline preview records); keys from outside the program are out of scope.
"""
from __future__ import annotations

import re

from mlops_policy import ISO27001, SOC2, StackRule, cannot_check, correlate, created_after, is_unknown, violation

KEY_TYPES = ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey", "aws:kms/externalKey:ExternalKey")
POLICY_TYPES = ("aws:kms/keyPolicy:KeyPolicy", "aws:kms/grant:Grant")
# Property names that carry a KMS key (kmsKeyId, kmsMasterKeyId, kmsKeyArn, kmsKey, keyArn, replicaKmsKeyId, ...).
KEY_PROPERTY = re.compile(r"(kms|keyarn$)", re.IGNORECASE)
NOT_STORES = ("aws:kms/", "aws:iam/")


def _key_values(value, key_name=""):
    """Strings under property names that carry a KMS key, anywhere in a resource's inputs."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _key_values(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _key_values(item, key_name)
    elif isinstance(value, str) and KEY_PROPERTY.search(key_name) and value:
        yield value


def _store_keys(resource, keys):
    """(keys of the program the resource encrypts with, whether that could be decided)."""
    found, decided = [], True
    for prop, value in resource.props.items():
        values = list(_key_values(value, prop))
        if not values:
            continue
        for item in values:
            matches, ok = correlate(resource, prop, keys, lambda _key, _value: False, value=item)
            found += matches
            decided = decided and (ok or not is_unknown(item))
    return list({k.urn: k for k in found}.values()), decided


def _policies_for(key, policies):
    return [p for p in policies if correlate(p, "keyId", [key], lambda _k, _v: False).matches]


def check(stack, config):
    keys = stack.of_type(*KEY_TYPES)
    policies = stack.of_type(*POLICY_TYPES)
    for resource in stack.resources:
        if not resource.type.startswith("aws:") or resource.type.startswith(NOT_STORES):
            continue
        used, decided = _store_keys(resource, keys)
        if not decided:
            yield cannot_check("which KMS key it encrypts with", resource)
        for key in used:
            separate = _policies_for(key, policies)
            inline = key.props.get("policy")
            if separate and not any(created_after(resource, p) for p in separate):
                yield violation(f"{resource.name} does not depend on {', '.join(p.name for p in separate)}, which lets it "
                                f"use key {key.name}: the store may be created before the key policy or grant exists.",
                                resource)
            elif not separate and not inline and not is_unknown(inline):
                yield violation(f"{resource.name} encrypts with key {key.name}, which has neither an inline policy nor a "
                                "KeyPolicy or Grant in the program: its default key policy lets no AWS service use it.",
                                resource)
            elif not separate and not created_after(resource, key):
                yield violation(f"{resource.name} does not depend on key {key.name}, whose inline policy lets it use the "
                                "key.", resource)


RULE = StackRule(
    name="aws-kms-cmk-store-require-key-policy-first",
    description="A store encrypted with a customer-managed KMS key depends, directly or through its parents, on the key "
                "policy or grant that lets it use the key.",
    severity="high",
    remediation="Write the key policy inline on the key (aws.kms.Key(policy=...)), or pass the KeyPolicy/Grant to the "
                "store's depends_on.",
    frameworks=SOC2("CC8.1") + ISO27001("A.8.32"),
    enforcement="mandatory",
    tags=("kms", "encryption", "deployability"),
    check=check,
)
