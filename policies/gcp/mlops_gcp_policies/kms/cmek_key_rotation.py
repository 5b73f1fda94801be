"""Data stores encrypted with a CMEK from this stack must use a key that rotates.

Only the stack can tell: a bucket (or Cloud SQL instance, GKE cluster, registry, ...) names
its key by resource id, and whether that key rotates is a property of the separate
``CryptoKey`` resource. The finding names the data store, so the blast radius of a
non-rotating key is visible where the data lives. Keys from outside the stack are out of reach.
"""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, is_unknown, violation

from . import crypto_key_rotation as rotation
from .._gcp import crypto_key_name, key_name, path

CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
# type -> (top-level property, dotted path to the key; "[]" walks a list of blocks)
KEY_REFERENCES = {
    "gcp:storage/bucket:Bucket": ("encryption", "encryption.defaultKmsKeyName"),
    "gcp:sql/databaseInstance:DatabaseInstance": ("encryptionKeyName", "encryptionKeyName"),
    "gcp:container/cluster:Cluster": ("databaseEncryption", "databaseEncryption.keyName"),
    "gcp:artifactregistry/repository:Repository": ("kmsKeyName", "kmsKeyName"),
    "gcp:redis/instance:Instance": ("customerManagedKey", "customerManagedKey"),
    "gcp:pubsub/topic:Topic": ("kmsKeyName", "kmsKeyName"),
    "gcp:bigquery/dataset:Dataset": ("defaultEncryptionConfiguration", "defaultEncryptionConfiguration.kmsKeyName"),
    "gcp:bigtable/instance:Instance": ("clusters", "clusters[].kmsKeyName"),
}


def _references(resource, dotted):
    """The key names a data store holds at ``dotted`` (several for list blocks)."""
    if "[]." not in dotted:
        value = path(resource.props, dotted)
        return [value] if value else []
    head, tail = dotted.split("[].", 1)
    items = resource.props.get(head)
    if is_unknown(items):
        return [items]
    return [v for v in (path(item, tail) for item in items or []) if v]


def _keys_for(resource, prop, value, keys):
    """The stack's CryptoKeys ``value`` names; None when that cannot be decided during preview."""
    if isinstance(value, str) and not is_unknown(value):
        named = [k for k in keys if crypto_key_name(k) == key_name(value)]
        if named:
            return named
    linked = {d.urn: d for d in resource.property_dependencies.get(prop, []) if d.type == CRYPTO_KEY} or \
        {d.urn: d for d in resource.dependencies if d.type == CRYPTO_KEY}
    if len(linked) > 1:
        return None
    return list(linked.values())


def check(stack, config):
    keys = stack.of_type(CRYPTO_KEY)
    if not keys:
        return
    rotation_config = {"maxRotationDays": config.get("maxRotationDays", rotation.DEFAULT_MAX_DAYS)}
    for resource in stack.resources:
        reference = KEY_REFERENCES.get(resource.type)
        if reference is None:
            continue
        prop, dotted = reference
        values = _references(resource, dotted)
        for value in values:
            found = _keys_for(resource, prop, value, keys)
            if found is None:
                yield cannot_check(f"which CryptoKey {dotted} names", resource)
                continue
            for key in found:
                findings = list(rotation.check(key, rotation_config))
                if any(not isinstance(f, str) for f in findings):
                    yield cannot_check(f"rotationPeriod of its key {key.name}", resource)
                for problem in (f for f in findings if isinstance(f, str)):
                    yield violation(f"{resource.name} is encrypted with CryptoKey {key.name} ({dotted}), whose "
                                    f"{problem[0].lower()}{problem[1:]}", resource)


RULE = StackRule(
    name="gcp-kms-cmek-require-rotating-key",
    description="Data stores encrypted with a customer-managed key from this stack use a key that rotates at least "
                "every 90 days.",
    severity="medium",
    remediation="Set rotation_period='7776000s' (or shorter) on the CryptoKey the data store names, or point the "
                "data store at a key that rotates.",
    frameworks=CIS_GCP("1.10") + SOC2("CC6.1") + ISO27001("8.24") + PCI_DSS("3.7.4"),
    enforcement="mandatory",
    config={"maxRotationDays": {"type": "integer", "minimum": 1, "default": rotation.DEFAULT_MAX_DAYS,
                                "description": "Longest rotation period allowed, in days."}},
    check=check,
)
