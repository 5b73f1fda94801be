"""Nobody may hold the primitive Owner or Editor role, through any IAM resource shape.

Covers IAMMember, IAMBinding and IAMPolicy (``policyData``) at project, folder and organization
level and on single resources (bucket, secret, service account ... IAM), so that a grant
cannot slip through by being written another way. An authoritative binding with no members
removes the role from everyone and passes.
"""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule

from .._gcp import IAM_GRANT_TYPES, forbidden_grants, members_text, target_of

PRIMITIVE_ROLES = {"roles/owner": "roles/owner", "roles/editor": "roles/editor"}


def check(resource, config):
    return forbidden_grants(resource, PRIMITIVE_ROLES, lambda role, grant: (
        f"grants the primitive role {role} on {target_of(resource)} to {members_text(grant)} ({grant.where}): it "
        "carries thousands of permissions across every service."))


RULE = ResourceRule(
    name="gcp-iam-binding-disallow-primitive-roles",
    description="No IAM grant (member, binding or policy, at any level) gives the primitive roles/owner or roles/editor.",
    severity="critical",
    remediation="Grant predefined or custom roles that name the permissions the principal needs "
                "(e.g. roles/storage.objectAdmin on one bucket) instead of roles/owner or roles/editor.",
    frameworks=CIS_GCP("1.5") + SOC2("CC6.3") + ISO27001("A.8.2") + PCI_DSS("7.2.2"),
    enforcement="mandatory",
    tags=("iam", "identity"),
    resource_types=IAM_GRANT_TYPES,
    check=check,
)
