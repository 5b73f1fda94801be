"""Shared library for the mlops-platform CrossGuard packs (AWS, Azure, GCP, Kubernetes).

Declare a rule once with its metadata and a check function, get a pulumi_policy Policy:

    RULE = ResourceRule(
        name="aws-s3-bucket-enable-kms-encryption", description="...", severity="high",
        remediation="...", frameworks=CIS_AWS("2.1.1") + SOC2("CC6.1"), enforcement="mandatory",
        resource_types=("aws:s3/bucket:Bucket",), check=check)

A check gets a ``Resource`` (or a ``Stack`` for StackRule) with plain props in which unknowns
are the engine's sentinel strings (``is_unknown``), plus the rule's config, and yields violation
messages (str / ``violation()``) or ``cannot_check(...)`` for an unknown that decides the outcome.
See rule.py for how unknowns become ADVISORY "cannot check during preview" reports.
"""
from .correlate import Correlation, correlate
from .checks import require_false, require_one_of, require_true, setting_check
from .graph import created_after, dependents, linked_to, prerequisites
from .iam import PolicyDocumentError, Statement, parse_policy_document
from .loader import declared_types, load_rules, policies
from .pack import PolicyPack
from .rule import (
    CIS_AWS,
    CIS_AZURE,
    CIS_EKS,
    CIS_GCP,
    CIS_KUBERNETES,
    ISO27001,
    PCI_DSS,
    SOC2,
    CannotCheckDuringPreview,
    Control,
    Finding,
    Framework,
    Resource,
    ResourceRule,
    Rule,
    Stack,
    StackRule,
    cannot_check,
    type_patterns,
    violation,
)
from .values import UNKNOWN, as_list, get, is_set, is_unknown, plain, truthy

__all__ = [
    "CIS_AWS", "CIS_AZURE", "CIS_EKS", "CIS_GCP", "CIS_KUBERNETES", "ISO27001", "PCI_DSS", "SOC2",
    "CannotCheckDuringPreview", "Control", "Correlation", "Finding", "Framework", "PolicyDocumentError", "PolicyPack",
    "Resource",
    "ResourceRule", "Rule", "Stack", "StackRule", "Statement", "UNKNOWN", "as_list",
    "cannot_check", "correlate", "created_after", "declared_types", "get", "is_set", "is_unknown", "load_rules",
    "parse_policy_document", "plain", "policies", "prerequisites", "truthy", "type_patterns", "violation",
    "dependents", "linked_to", "require_false", "require_one_of", "require_true", "setting_check",
]
