"""No standing Owner / Contributor / access-admin role at subscription, management-group or root scope.

Built-in role definition ids are the same GUID in every tenant; the role definition id may be
written at any scope (``/subscriptions/<s>/providers/...``, ``/providers/...``, management group),
so the rule compares the trailing GUID. Just-in-time (PIM eligibility) is the way to hold these.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._azure import azure_types, scope_level, trailing_guid

PRIVILEGED_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
}
BROAD_SCOPES = {"root": "the tenant root", "managementGroup": "management-group", "subscription": "subscription"}


def check(resource, config):
    role_id = resource.props.get("roleDefinitionId")
    if is_unknown(role_id):
        yield cannot_check("roleDefinitionId")
        return
    role = PRIVILEGED_ROLES.get(trailing_guid(str(role_id or "")) or "")
    if role is None:
        return
    scope = resource.props.get("scope")
    if is_unknown(scope):
        yield cannot_check("scope")
        return
    level = scope_level(str(scope or ""))
    if level in BROAD_SCOPES:
        yield (f"assigns {role} at {BROAD_SCOPES[level]} scope ({scope}): a standing privileged role over every "
               "resource below it.")


RULE = ResourceRule(
    name="azure-authorization-roleassignment-disallow-privileged-roles",
    description="Role assignments do not grant Owner, Contributor or access-administration roles at subscription, "
                "management-group or root scope.",
    severity="critical",
    remediation="Assign a narrower built-in or custom role at resource-group or resource scope; keep privileged "
                "roles eligible through Privileged Identity Management instead of standing assignments.",
    frameworks=SOC2("CC6.3") + ISO27001("A.8.2") + PCI_DSS("7.2.2"),
    enforcement="mandatory",
    tags=("rbac", "identity"),
    resource_types=azure_types("azure-native:authorization:RoleAssignment"),
    check=check,
)
