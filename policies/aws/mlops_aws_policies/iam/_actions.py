"""What an IAM action pattern can do, for the Resource "*" rule.

How this list was built: from the AWS Service Authorization Reference, the actions whose
"Resource types" column is empty (AWS only accepts ``"Resource": "*"`` for them) and that are
not read/list actions (read/list ones pass anyway, see READ_PREFIXES). Kept to the actions
that platform IAM policies actually use; extend it per stack with the rule's
``allowedWildcardResourceActions`` config instead of editing code when a new one shows up.
"""
from __future__ import annotations

# Write actions that have no resource-level permissions: Resource must be "*".
NO_RESOURCE_LEVEL_ACTIONS = frozenset(a.lower() for a in (
    "acm:RequestCertificate",
    "cloudwatch:PutMetricData",
    "iam:CreateAccountAlias",
    "iam:DeleteAccountAlias",
    "iam:DeleteAccountPasswordPolicy",
    "iam:SetSecurityTokenServicePreferences",
    "iam:UpdateAccountPasswordPolicy",
    "kms:CreateKey",
    "kms:GenerateRandom",
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DeleteResourcePolicy",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "route53:CreateHostedZone",
    "s3:PutAccountPublicAccessBlock",
    "sts:DecodeAuthorizationMessage",
    "tag:TagResources",
    "tag:UntagResources",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
))

# Read and list verbs (Service Authorization Reference access levels "Read" and "List").
# An action pattern whose literal part before the first wildcard starts with one of these
# can only match read/list actions: "ec2:Describe*", "s3:Get*", "ecr:BatchGetImage".
READ_PREFIXES = (
    "get", "list", "describe", "batchget", "batchcheck", "lookup", "search", "view", "query", "scan",
    "select", "simulate", "head", "download",
)


def _verb_prefix(pattern: str) -> tuple:
    service, _, verb = pattern.partition(":")
    cut = min([i for i in (verb.find("*"), verb.find("?")) if i >= 0], default=len(verb))
    return service.lower(), verb[:cut].lower(), cut < len(verb)


def is_read_only(pattern: str) -> bool:
    """True when every action the pattern can match is a read/list action."""
    if ":" not in pattern:
        return False  # "*"
    _, prefix, _ = _verb_prefix(pattern)
    return prefix.startswith(READ_PREFIXES)


def needs_no_resource(pattern: str, extra: frozenset = frozenset()) -> bool:
    """True for an action (no wildcard) that AWS only grants on Resource "*"."""
    lowered = pattern.lower()
    return lowered in NO_RESOURCE_LEVEL_ACTIONS or lowered in extra


def is_service_wildcard(pattern: str) -> bool:
    """``*``, ``*:*`` or ``service:*`` (every action of a service)."""
    if pattern.strip() == "*":
        return True
    service, _, verb = pattern.partition(":")
    return verb.strip() == "*" or service.strip() == "*"
