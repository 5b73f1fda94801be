"""EBS volumes are encrypted: standalone volumes, instance block devices, launch-template mappings.

A stack rule because ``aws.ebs.EncryptionByDefault`` in the same region encrypts every new volume,
whatever the volume's own settings say. Launch templates without block device mappings take the
AMI's (usually unencrypted) root volume, so they must declare an encrypted mapping.
"""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, is_unknown, truthy, violation

from .._aws import region_of

VOLUME = "aws:ebs/volume:Volume"
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ENCRYPTION_BY_DEFAULT = "aws:ebs/encryptionByDefault:EncryptionByDefault"


def _encrypted(value, what, resource):
    """Findings for one ``encrypted`` value (bool, or "true"/"false" strings in launch templates)."""
    state = truthy(value) if value is not None else False
    if state is None:
        return [cannot_check(what, resource)]
    return [] if state else [violation(f"{resource.name}: {what} is not true.", resource)]


def _findings(resource):
    props = resource.props
    if resource.type == VOLUME:
        return _encrypted(props.get("encrypted"), "encrypted", resource)
    if resource.type == INSTANCE:
        if props.get("launchTemplate") not in (None, "") and "rootBlockDevice" not in props:
            return []  # block devices come from the launch template, which is checked on its own
        found = []
        root = props.get("rootBlockDevice")
        if is_unknown(root):
            found.append(cannot_check("rootBlockDevice", resource))
        else:
            found += _encrypted((root or {}).get("encrypted"), "rootBlockDevice.encrypted", resource)
        devices = props.get("ebsBlockDevices") or []
        if is_unknown(devices):
            return found + [cannot_check("ebsBlockDevices", resource)]
        for i, device in enumerate(devices):
            found += _encrypted(device.get("encrypted"), f"ebsBlockDevices[{i}].encrypted", resource)
        return found
    mappings = props.get("blockDeviceMappings")
    if is_unknown(mappings):
        return [cannot_check("blockDeviceMappings", resource)]
    if not mappings:
        return [violation(f"{resource.name}: no blockDeviceMappings, so instances get the AMI's unencrypted "
                          "root volume; declare the root device with ebs.encrypted=true.", resource)]
    found = []
    for i, mapping in enumerate(mappings):
        if mapping.get("noDevice") not in (None, "") or mapping.get("virtualName") not in (None, ""):
            continue  # suppressed device or instance store: no EBS volume
        ebs = mapping.get("ebs")
        if is_unknown(ebs):
            found.append(cannot_check(f"blockDeviceMappings[{i}].ebs", resource))
        else:
            found += _encrypted((ebs or {}).get("encrypted"), f"blockDeviceMappings[{i}].ebs.encrypted", resource)
    return found


def check(stack, config):
    default_regions = set()
    for default in stack.of_type(ENCRYPTION_BY_DEFAULT):
        if truthy(default.props.get("enabled", True)):
            default_regions.add(region_of(default))
    for resource in stack.of_type(VOLUME, INSTANCE, LAUNCH_TEMPLATE):
        if region_of(resource) in default_regions:
            continue
        yield from _findings(resource)


RULE = StackRule(
    name="aws-ec2-ebs-enable-volume-encryption",
    description="EBS volumes, instance block devices and launch-template block device mappings must be encrypted.",
    severity="high",
    enforcement="mandatory",
    remediation="Set encrypted=True (and kms_key_id to a customer-managed key) on aws.ebs.Volume, on "
                "root_block_device/ebs_block_devices of aws.ec2.Instance and on every block_device_mappings[].ebs "
                "of aws.ec2.LaunchTemplate, or enable aws.ebs.EncryptionByDefault for the region.",
    frameworks=CIS_AWS("2.2.1") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("ec2", "ebs", "encryption"),
    check=check,
)
