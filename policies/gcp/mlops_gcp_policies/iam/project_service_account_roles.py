"""Service-account impersonation and admin roles must be granted on one service account, never project-wide.

roles/iam.serviceAccountUser or ...TokenCreator at project (or folder / organization) level lets
the grantee act as EVERY service account below, including highly privileged ones; grant them on
the one service account instead (``gcp.serviceaccount.IAMMember``).
"""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule

from .._gcp import LEVEL_IAM_GRANT_TYPES, forbidden_grants, level_of, members_text, target_of

SERVICE_ACCOUNT_ROLES = {role.lower(): role for role in (
    "roles/iam.serviceAccountAdmin", "roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator")}


def check(resource, config):
    return forbidden_grants(resource, SERVICE_ACCOUNT_ROLES, lambda role, grant: (
        f"grants {role} at {level_of(resource)} level ({target_of(resource)}) to {members_text(grant)} "
        f"({grant.where}): that reaches every service account in it."))


RULE = ResourceRule(
    name="gcp-iam-binding-disallow-project-service-account-roles",
    description="Service account admin, user and token-creator roles are not granted at project, folder or "
                "organization level.",
    severity="high",
    remediation="Grant the role on the specific service account with gcp.serviceaccount.IAMMember "
                "(service_account_id=sa.name) instead of on the project, folder or organization.",
    frameworks=CIS_GCP("1.6") + SOC2("CC6.3") + ISO27001("A.8.2") + PCI_DSS("7.2.2"),
    enforcement="mandatory",
    tags=("iam", "identity"),
    resource_types=LEVEL_IAM_GRANT_TYPES,
    check=check,
)
