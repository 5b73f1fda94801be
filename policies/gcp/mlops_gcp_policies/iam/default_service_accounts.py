"""No IAM grant names a default service account (Compute Engine's or App Engine's).

Every VM, GKE node or function created without an explicit service account runs as the Compute
Engine default (``<number>-compute@developer.gserviceaccount.com``) or App Engine default
(``<project>@appspot.gserviceaccount.com``); a role granted to one of them goes to all of those
workloads at once. Grant roles to dedicated service accounts instead.
"""
import re

from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, Finding, ResourceRule

from .._gcp import IAM_GRANT_TYPES, grants_to, target_of

DEFAULT = re.compile(r"(^|:)[^:@]*(-compute@developer|@appspot)\.gserviceaccount\.com$", re.IGNORECASE)


def check(resource, config):
    for item in grants_to(resource, DEFAULT.search, "who is granted access"):
        if isinstance(item, Finding):
            yield item
            continue
        grant, defaults = item
        yield (f"grants {grant.role} on {target_of(resource)} to the default service account "
               f"{', '.join(str(m) for m in defaults)} ({grant.where}): every workload created without its own "
               "identity gets it.")


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
