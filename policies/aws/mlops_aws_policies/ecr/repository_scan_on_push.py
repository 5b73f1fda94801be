"""ECR images are scanned for vulnerabilities when pushed.

Either the repository sets ``imageScanningConfiguration.scanOnPush`` or a registry-level
``RegistryScanningConfiguration`` has a rule with scan frequency SCAN_ON_PUSH or CONTINUOUS_SCAN
whose wildcard filter matches the repository name (that setting overrides the repository's).
"""
from __future__ import annotations

import fnmatch

from mlops_policy import CIS_EKS, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, get, is_unknown, violation

REPOSITORY = "aws:ecr/repository:Repository"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
SCANNING_FREQUENCIES = ("SCAN_ON_PUSH", "CONTINUOUS_SCAN")


def _registry_filters(stack):
    """(wildcard filters that scan on push, findings); None filters means "cannot tell"."""
    filters, findings = [], []
    for registry in stack.of_type(REGISTRY_SCANNING):
        rules = registry.props.get("rules")
        if is_unknown(rules):
            findings.append(cannot_check("rules", registry))
            continue
        for rule in rules or []:
            if rule.get("scanFrequency") in SCANNING_FREQUENCIES:
                filters += [f.get("filter") for f in rule.get("repositoryFilters") or []]
    return filters, findings


def check(stack, config):
    filters, findings = _registry_filters(stack)
    yield from findings
    for repo in stack.of_type(REPOSITORY):
        scan = get(repo.props, "imageScanningConfiguration.scanOnPush")
        if scan is True:
            continue
        name = repo.props.get("name") or repo.name
        if any(isinstance(f, str) and not is_unknown(f) and not is_unknown(name) and fnmatch.fnmatchcase(name, f)
               for f in filters):
            continue
        if is_unknown(scan):
            yield cannot_check("imageScanningConfiguration.scanOnPush", repo)
        else:
            yield violation(f"repository {repo.name} does not scan images on push "
                            "(imageScanningConfiguration.scanOnPush is not true and no registry scanning rule "
                            "matches it).", repo)


RULE = StackRule(
    name="aws-ecr-repository-enable-scan-on-push",
    description="ECR repositories must scan images for vulnerabilities on push.",
    severity="medium",
    enforcement="advisory",
    remediation="Set image_scanning_configuration={scan_on_push: True} on the repository, or an "
                "aws.ecr.RegistryScanningConfiguration with an ENHANCED/BASIC rule scanning on push for it.",
    frameworks=CIS_EKS("5.1.1") + SOC2("CC7.1") + ISO27001("A.8.8") + PCI_DSS("6.3.1"),
    tags=("ecr", "vulnerability-management"),
    check=check,
)
