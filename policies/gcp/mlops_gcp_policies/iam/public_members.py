"""No IAM grant or ACL, on any resource, names allUsers or allAuthenticatedUsers.

``allUsers`` is anyone on the internet; ``allAuthenticatedUsers`` is anyone with a Google
account, which is no smaller in practice. Both can be granted on every IAM shape (project,
bucket, secret, key, repository, service account ... as Member, Binding or Policy) and through
the legacy Cloud Storage ACL resources, so the rule looks at all of them.
"""
import re

from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, Finding, ResourceRule, cannot_check, is_unknown

from .._gcp import IAM_TYPE_PATTERN, grants_to, is_iam_type, target_of

PUBLIC = ("allusers", "allauthenticatedusers")
ACL_TYPES = {
    "gcp:storage/bucketAccessControl:BucketAccessControl": "entity",
    "gcp:storage/objectAccessControl:ObjectAccessControl": "entity",
    "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl": "entity",
    "gcp:storage/bucketACL:BucketACL": "roleEntities",
    "gcp:storage/defaultObjectACL:DefaultObjectACL": "roleEntities",
    "gcp:storage/objectACL:ObjectACL": "roleEntities",
}


class GrantTypes(tuple):
    """Every IAM grant resource shape plus the storage ACL resources."""

    def __contains__(self, token: object) -> bool:  # type: ignore[override]
        return isinstance(token, str) and (is_iam_type(token) or token in ACL_TYPES)

    def type_patterns(self) -> list:
        return [IAM_TYPE_PATTERN] + sorted(re.escape(token) for token in ACL_TYPES)


def _public(member) -> bool:
    text = str(member).strip().lower()
    return any(text == p or text.endswith(":" + p) or text.endswith("-" + p) for p in PUBLIC)


def _acl(resource):
    prop = ACL_TYPES[resource.type]
    value = resource.props.get(prop)
    if is_unknown(value):
        yield cannot_check(prop)
        return
    for entry in value if isinstance(value, list) else [value]:
        if entry is not None and _public(entry):
            yield f"{prop} {entry!r} makes {target_of(resource)} readable by anyone."


def check(resource, config):
    if resource.type in ACL_TYPES:
        yield from _acl(resource)
        return
    for item in grants_to(resource, _public, "who is granted access"):
        if isinstance(item, Finding):
            yield item
            continue
        grant, public = item
        yield (f"grants {grant.role} on {target_of(resource)} to {', '.join(str(m) for m in public)} ({grant.where}): "
               "anyone (with a Google account) gets that access.")


RULE = ResourceRule(
    name="gcp-iam-binding-disallow-public-members",
    description="No IAM grant or storage ACL, on any resource, gives access to allUsers or allAuthenticatedUsers.",
    severity="critical",
    remediation="Grant the role to named service accounts, groups or users; serve public content through a "
                "signed URL or a load balancer with Cloud CDN instead of a public bucket.",
    frameworks=CIS_GCP("5.1", "1.4") + SOC2("CC6.1", "CC6.6") + ISO27001("A.5.15", "A.8.3") + PCI_DSS("1.4.1", "7.2.1"),
    enforcement="mandatory",
    tags=("iam", "public-exposure"),
    resource_types=GrantTypes(tuple(ACL_TYPES)),
    check=check,
)
