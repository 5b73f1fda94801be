"""Custom role definitions never grant ``actions: ["*"]`` (every management operation, like Owner).

A custom role with ``*`` is an Owner that does not show up in reviews of built-in role
assignments; CIS Azure asks that no such "custom subscription owner" roles exist.
"""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._azure import azure_types

ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"


def wildcard_actions(resource) -> object:
    """The wildcard actions of a role definition's permissions; None when permissions are unknown."""
    permissions = resource.props.get("permissions")
    if is_unknown(permissions):
        return None
    found = []
    for block in permissions or []:
        actions = block.get("actions") if isinstance(block, dict) else None
        if is_unknown(actions):
            return None
        found += [a for a in actions or [] if isinstance(a, str) and "*" in a]
    return found


def check(resource, config):
    found = wildcard_actions(resource)
    if found is None:
        yield cannot_check("permissions")
    elif "*" in found:
        yield (f"custom role {resource.props.get('roleName') or resource.name} grants actions ['*']: every "
               "management operation on its assignable scopes, i.e. Owner.")


RULE = ResourceRule(
    name="azure-authorization-roledefinition-disallow-wildcard-actions",
    description="Custom role definitions do not grant every action ('*').",
    severity="critical",
    remediation="List the resource provider operations the role needs (e.g. Microsoft.Storage/storageAccounts/read) "
                "instead of '*'.",
    frameworks=CIS_AZURE("1.23") + SOC2("CC6.3") + ISO27001("A.8.2") + PCI_DSS("7.2.2"),
    enforcement="mandatory",
    tags=("rbac", "identity"),
    resource_types=azure_types(ROLE_DEFINITION),
    check=check,
)
