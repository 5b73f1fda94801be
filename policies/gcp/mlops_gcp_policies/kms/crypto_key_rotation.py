"""Symmetric Cloud KMS keys must rotate automatically, at least every 90 days.

Only ENCRYPT_DECRYPT keys support automatic rotation; asymmetric and MAC keys, and keys whose
material lives outside Google (EXTERNAL / EXTERNAL_VPC protection levels), are rotated by other
means and are not this rule's business.
"""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._gcp import DAY_SECONDS, duration_seconds

DEFAULT_MAX_DAYS = 90
NOT_AUTO_ROTATED = {"EXTERNAL", "EXTERNAL_VPC"}


def check(resource, config):
    purpose = resource.props.get("purpose") or "ENCRYPT_DECRYPT"
    protection = get(resource.props, "versionTemplate.protectionLevel")
    if is_unknown(purpose) or is_unknown(protection):
        yield cannot_check("purpose" if is_unknown(purpose) else "versionTemplate.protectionLevel")
        return
    if str(purpose).upper() != "ENCRYPT_DECRYPT" or str(protection or "").upper() in NOT_AUTO_ROTATED:
        return
    max_days = config.get("maxRotationDays", DEFAULT_MAX_DAYS)
    period = resource.props.get("rotationPeriod")
    if is_unknown(period):
        yield cannot_check("rotationPeriod")
    elif not period:
        yield "rotationPeriod is not set: the key material never rotates."
    else:
        seconds = duration_seconds(str(period))
        if seconds is None:
            yield f"rotationPeriod {period!r} is not a duration in seconds such as '7776000s'."
        elif seconds > max_days * DAY_SECONDS:
            yield (f"rotationPeriod is {period} ({seconds / DAY_SECONDS:g} days): longer than the "
                   f"{max_days}-day maximum.")


RULE = ResourceRule(
    name="gcp-kms-cryptokey-enable-key-rotation",
    description="Symmetric Cloud KMS keys rotate automatically at least every 90 days.",
    severity="medium",
    remediation="Set rotation_period='7776000s' (90 days) or shorter on the crypto key.",
    frameworks=CIS_GCP("1.10") + SOC2("CC6.1") + ISO27001("8.24") + PCI_DSS("3.7.4"),
    enforcement="mandatory",
    config={"maxRotationDays": {"type": "integer", "minimum": 1, "default": DEFAULT_MAX_DAYS,
                                "description": "Longest rotation period allowed, in days."}},
    resource_types=("gcp:kms/cryptoKey:CryptoKey",),
    check=check,
)
