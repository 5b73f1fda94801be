"""No IAM grant names a default service account (Compute Engine's or App Engine's).

Every VM, GKE node or function created without an explicit service account runs as the Compute
Engine default (``<number>-compute@developer.gserviceaccount.com``) or App Engine default
(``<project>@appspot.gserviceaccount.com``); a role granted to one of them goes to all of those
workloads at once. Grant roles to dedicated service accounts instead.
"""
import re

from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._gcp import IAM_GRANT_TYPES, Grant, readable_grants, target_of

DEFAULT = re.compile(r"(^|:)[^:@]*(-compute@developer|@appspot)\.gserviceaccount\.com$", re.IGNORECASE)


def check(resource, config):
    for grant in readable_grants(resource, "who is granted access"):
        if not isinstance(grant, Grant):
            yield grant
            continue
        if is_unknown(grant.members):
            yield cannot_check(f"members ({grant.where})")
            continue
        defaults = [str(m) for m in grant.members if not is_unknown(m) and DEFAULT.search(str(m).strip())]
        if defaults:
            yield (f"grants {grant.role} on {target_of(resource)} to the default service account "
                   f"{', '.join(defaults)} ({grant.where}): every workload created without its own identity gets it.")


RULE = ResourceRule(
    name="gcp-iam-binding-disallow-default-service-accounts",
    description="No IAM grant gives a role to the Compute Engine or App Engine default service account.",
    severity="high",
    remediation="Create a dedicated service account per workload (the platform's node, MLflow and Feast accounts) "
                "and grant the role to it.",
    frameworks=CIS_GCP("4.1") + SOC2("CC6.3") + ISO27001("A.8.2") + PCI_DSS("7.2.2"),
    enforcement="mandatory",  # IAM
    tags=("iam", "identity"),
    resource_types=IAM_GRANT_TYPES,
    check=check,
)
