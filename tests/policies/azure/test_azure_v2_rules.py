"""Policy packs v2 (issue 13), Azure: storage network exposure, wildcard custom roles and their assignments."""
import pytest

from mlops_azure_policies.authorization import role_assignment_wildcard_custom_roles as wildcard_assignment
from mlops_azure_policies.authorization import role_definition_wildcard_actions as wildcard_definition
from mlops_azure_policies.storage import account_network_default_deny as sa_network
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_resource, check_stack

SUB = "00000000-0000-4000-8000-000000000000"
STORAGE = "azure-native:storage:StorageAccount"
DEFINITION = "azure-native:authorization:RoleDefinition"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ROLE_GUID = "11111111-2222-4333-8444-555555555555"


@pytest.mark.parametrize("props", [
    {"publicNetworkAccess": "Disabled", "networkRuleSet": {"defaultAction": "Deny", "bypass": "None"}},
    {"publicNetworkAccess": "Disabled"},
    {"networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"iPAddressOrRange": "203.0.113.0/24"}]}},
])
def test_storage_account_closed_to_the_internet_passes(props):
    assert check_resource(sa_network.RULE, STORAGE, {"resourceGroupName": "rg", **props}).passed


@pytest.mark.parametrize("props,expected", [
    ({"publicNetworkAccess": "Enabled", "networkRuleSet": {"defaultAction": "Deny"}}, "publicNetworkAccess is Enabled"),
    ({"publicNetworkAccess": "Disabled", "networkRuleSet": {"defaultAction": "Allow"}}, "defaultAction is Allow"),
    ({}, "no networkRuleSet"),
])
def test_storage_account_open_to_any_network_fails(props, expected):
    outcome = check_resource(sa_network.RULE, STORAGE, {"resourceGroupName": "rg", **props})
    assert len(outcome.messages) == 1 and expected in outcome.messages[0], outcome


def _definition(actions):
    return {"roleName": "ml-operator", "roleDefinitionId": ROLE_GUID, "scope": f"/subscriptions/{SUB}",
            "permissions": [{"actions": actions, "notActions": []}], "assignableScopes": [f"/subscriptions/{SUB}"]}


def test_custom_role_with_every_action_fails_and_named_actions_pass():
    outcome = check_resource(wildcard_definition.RULE, DEFINITION, _definition(["*"]))
    assert len(outcome.messages) == 1 and "actions ['*']" in outcome.messages[0]
    assert check_resource(wildcard_definition.RULE, DEFINITION, _definition(["Microsoft.Storage/storageAccounts/read"])).passed
    assert check_resource(wildcard_definition.RULE, DEFINITION, {"permissions": UNKNOWN}).cannot_check


def _assignment_stack(actions, scope, role_id=f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_GUID}"):
    return [Res(DEFINITION, "ml-operator", _definition(actions)),
            Res(ASSIGNMENT, "ml-operator-assignment", {"scope": scope, "roleDefinitionId": role_id,
                                                       "principalId": "p", "principalType": "ServicePrincipal"})]


@pytest.mark.parametrize("role_id", [
    f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_GUID}", ROLE_GUID])
def test_wildcard_custom_role_assigned_at_subscription_fails(role_id):
    outcome = check_stack(wildcard_assignment.RULE, _assignment_stack(["Microsoft.Storage/*"], f"/subscriptions/{SUB}", role_id))
    assert len(outcome.violations) == 1 and "subscription scope" in outcome.messages[0]
    assert outcome.violations[0][1].endswith("ml-operator-assignment")


def test_wildcard_custom_role_linked_by_dependency_fails():
    stack = _assignment_stack(["*"], f"/subscriptions/{SUB}", UNKNOWN)
    stack[1].prop_deps = {"roleDefinitionId": ["ml-operator"]}
    assert len(check_stack(wildcard_assignment.RULE, stack).violations) == 1


@pytest.mark.parametrize("actions,scope", [
    (["Microsoft.Storage/*"], f"/subscriptions/{SUB}/resourceGroups/mlops"),      # narrow scope
    (["Microsoft.Storage/storageAccounts/read"], f"/subscriptions/{SUB}"),        # named actions
])
def test_narrow_custom_role_or_scope_passes(actions, scope):
    assert check_stack(wildcard_assignment.RULE, _assignment_stack(actions, scope)).passed
