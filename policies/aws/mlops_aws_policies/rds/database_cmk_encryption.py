"""RDS instances and Aurora/Multi-AZ clusters: storage encrypted with a customer-managed key."""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._aws import key_problem

INSTANCE = "aws:rds/instance:Instance"
CLUSTER = "aws:rds/cluster:Cluster"


def check(resource, config):
    props = resource.props
    encrypted = props.get("storageEncrypted")
    if encrypted is None and props.get("engineMode") == "serverless":
        encrypted = True  # Aurora Serverless v1 storage is always encrypted
    replica = props.get("replicateSourceDb") not in (None, "")
    if is_unknown(encrypted):
        yield cannot_check("storageEncrypted")
        return
    if encrypted is False or (encrypted is None and not replica):
        yield "storage is not encrypted: set storageEncrypted=true and kmsKeyId to a customer-managed KMS key."
        return
    kms = props.get("kmsKeyId")
    if replica and kms in (None, ""):
        return  # a read replica in the source's region inherits the source's key (checked on the source)
    problem = key_problem(kms, "kmsKeyId to a customer-managed KMS key")
    if problem:
        yield f"storage encryption {problem}."


RULE = ResourceRule(
    name="aws-rds-database-enable-cmk-encryption",
    description="RDS instances and Aurora clusters must encrypt storage with a customer-managed KMS key.",
    severity="high",
    enforcement="mandatory",
    remediation="Set storage_encrypted=True and kms_key_id=<customer-managed key ARN> (encryption cannot be "
                "added in place: restore an encrypted snapshot copy into a new instance).",
    frameworks=CIS_AWS("2.3.1") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("rds", "encryption"),
    resource_types=(INSTANCE, CLUSTER),
    check=check,
)
