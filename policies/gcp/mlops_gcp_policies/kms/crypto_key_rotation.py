"""Symmetric Cloud KMS keys must rotate automatically, at least every 90 days.

A stack rule so that one finding per key also says what the key protects: the data stores of
the stack whose CMEK setting names it (bucket, Cloud SQL, GKE secrets, registry, ...). Only
ENCRYPT_DECRYPT keys support automatic rotation; asymmetric and MAC keys, and keys whose
material lives outside Google (EXTERNAL / EXTERNAL_VPC protection levels), are out of scope.
"""
from mlops_policy import (
    CIS_GCP, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, correlate, get, is_unknown, violation,
)

from .._gcp import DAY_SECONDS, duration_seconds, key_references, names_key

CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
DEFAULT_MAX_DAYS = 90
NOT_AUTO_ROTATED = {"EXTERNAL", "EXTERNAL_VPC"}
# Data stores and where they name their CMEK: type -> (top-level property, path; "[]" walks a list of blocks)
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


def rotation_problem(props, max_days):
    """(what is unknown, None) / (None, why the key fails) / (None, None) for a CryptoKey's inputs."""
    purpose = props.get("purpose") or "ENCRYPT_DECRYPT"
    protection = get(props, "versionTemplate.protectionLevel")
    for what, value in (("purpose", purpose), ("versionTemplate.protectionLevel", protection)):
        if is_unknown(value):
            return what, None
    if str(purpose).upper() != "ENCRYPT_DECRYPT" or str(protection or "").upper() in NOT_AUTO_ROTATED:
        return None, None
    period = props.get("rotationPeriod")
    if is_unknown(period):
        return "rotationPeriod", None
    if not period:
        return None, "rotationPeriod is not set: the key material never rotates."
    seconds = duration_seconds(str(period))
    if seconds is None:
        return None, f"rotationPeriod {period!r} is not a duration in seconds such as '7776000s'."
    if seconds > max_days * DAY_SECONDS:
        return None, f"rotationPeriod is {period} ({seconds / DAY_SECONDS:g} days): longer than the {max_days}-day maximum."
    return None, None


def protected_by(stack, keys):
    """key urn -> names of the data stores encrypted with it."""
    users = {k.urn: [] for k in keys}
    for resource in stack.resources:
        reference = KEY_REFERENCES.get(resource.type)
        if reference is None:
            continue
        prop, dotted = reference
        for value in key_references(resource, dotted):
            for key in correlate(resource, prop, keys, names_key, value=value).matches:
                if resource.name not in users[key.urn]:
                    users[key.urn].append(resource.name)
    return users


def check(stack, config):
    keys = stack.of_type(CRYPTO_KEY)
    max_days = config.get("maxRotationDays", DEFAULT_MAX_DAYS)
    users = protected_by(stack, keys)
    for key in keys:
        unknown, problem = rotation_problem(key.props, max_days)
        if unknown:
            yield cannot_check(unknown, key)
        elif problem:
            protects = f" (encrypts {', '.join(sorted(users[key.urn]))})" if users[key.urn] else ""
            yield violation(f"key {key.name}{protects}: {problem}", key)


RULE = StackRule(
    name="gcp-kms-cryptokey-enable-key-rotation",
    description="Symmetric Cloud KMS keys rotate automatically at least every 90 days.",
    severity="medium",
    remediation="Set rotation_period='7776000s' (90 days) or shorter on the crypto key.",
    frameworks=CIS_GCP("1.10") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.7.4"),
    enforcement="mandatory",
    tags=("kms", "key-management"),
    config={"maxRotationDays": {"type": "integer", "minimum": 1, "default": DEFAULT_MAX_DAYS,
                                "description": "Longest rotation period allowed, in days."}},
    check=check,
)
