"""No custom role with wildcard actions is assigned at subscription, management-group or root scope.

The built-in privileged roles are caught by their well-known ids; a custom role defined in the
program (``azure-native:authorization:RoleDefinition``) is caught by what it grants: an assignment
of a role whose actions contain a wildcard (``*``, ``Microsoft.Storage/*``) over a whole
subscription hands out every matching operation on every resource below it.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, correlate, is_unknown, violation

from .._azure import azure_types, of_types, scope_level, trailing_guid
from .role_definition_wildcard_actions import ROLE_DEFINITION, wildcard_actions

ASSIGNMENT = azure_types("azure-native:authorization:RoleAssignment")
DEFINITION = azure_types(ROLE_DEFINITION)
BROAD_SCOPES = {"root": "the tenant root", "managementGroup": "management-group", "subscription": "subscription"}


def _definition_guid(definition):
    guid = definition.props.get("roleDefinitionId")
    return guid.lower() if isinstance(guid, str) and not is_unknown(guid) else None


def check(stack, config):
    definitions = of_types(stack.resources, DEFINITION)
    if not definitions:
        return
    for assignment in of_types(stack.resources, ASSIGNMENT):
        match = correlate(assignment, "roleDefinitionId", definitions,
                          lambda d, value: _definition_guid(d) is not None and _definition_guid(d) == trailing_guid(value)).matches
        if not match:
            continue
        scope = assignment.props.get("scope")
        if is_unknown(scope):
            yield cannot_check("scope", assignment)
            continue
        level = scope_level(str(scope or ""))
        if level not in BROAD_SCOPES:
            continue
        for definition in match:
            found = wildcard_actions(definition)
            if found is None:
                yield cannot_check(f"permissions of {definition.name}", assignment)
            elif found:
                yield violation(
                    f"role assignment {assignment.name} gives the custom role {definition.name} (actions {found}) at "
                    f"{BROAD_SCOPES[level]} scope ({scope}).", assignment)


RULE = StackRule(
    name="azure-authorization-roleassignment-disallow-wildcard-custom-roles",
    description="Custom roles whose actions contain wildcards are not assigned at subscription, management-group or root scope.",
    severity="critical",
    remediation="Assign the role at resource-group or resource scope, or list the operations it needs instead of wildcards.",
    frameworks=SOC2("CC6.3") + ISO27001("A.8.2") + PCI_DSS("7.2.2"),
    enforcement="mandatory",
    tags=("rbac", "identity"),
    check=check,
)
