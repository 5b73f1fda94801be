"""CMK stores must be created after the grant that lets their identity use the key (stack rule)."""
from pathlib import Path

import pytest

from mlops_azure_policies.authorization import cmk_store_depends_on_key_grant as cmk_grant
from mlops_tools.policy.runner import run_policy_packs
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack, resource

RULE = cmk_grant.RULE
PACK = Path(__file__).resolve().parents[3] / "policies" / "azure"
SUB = "/subscriptions/00000000-0000-4000-8000-000000000000"
IDENTITY_ID = f"{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/data-cmk"
CRYPTO_SERVICE_USER = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6"
READER = f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"


def identity():
    return Res("azure-native:managedidentity:UserAssignedIdentity", "data-identity",
               {"resourceGroupName": "rg", "resourceName": "data-cmk"})


def key_grant(name="data-grant", role=CRYPTO_SERVICE_USER):
    return Res("azure-native:authorization:RoleAssignment", name,
               {"scope": f"{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/keys/data",
                "roleDefinitionId": role, "principalId": UNKNOWN, "principalType": "ServicePrincipal"},
               deps=["data-identity"], prop_deps={"principalId": ["data-identity"]})


STORES = {  # type -> (props that encrypt with IDENTITY_ID, the property that names the identity)
    "azure-native:storage:StorageAccount": ({"encryption": {
        "keySource": "Microsoft.Keyvault", "keyVaultProperties": {"keyName": "data", "keyVaultUri": "https://kv"},
        "encryptionIdentity": {"encryptionUserAssignedIdentity": IDENTITY_ID}}}, "encryption"),
    "azure-native:dbforpostgresql:Server": ({"dataEncryption": {
        "type": "AzureKeyVault", "primaryKeyURI": "https://kv/keys/data", "primaryUserAssignedIdentityId": IDENTITY_ID}},
        "dataEncryption"),
    "azure-native:containerregistry:Registry": ({"encryption": {"status": "enabled"}, "identity": {
        "type": "UserAssigned", "userAssignedIdentities": {IDENTITY_ID: {}}}}, "identity"),
    "azure-native:redisenterprise:RedisEnterprise": ({"encryption": {"customerManagedKeyEncryption": {
        "keyEncryptionKeyUrl": "https://kv/keys/data/v1",
        "keyEncryptionKeyIdentity": {"userAssignedIdentityResourceId": IDENTITY_ID}}}}, "encryption"),
    "azure-native:compute:DiskEncryptionSet": ({"activeKey": {"keyUrl": "https://kv/keys/data/v1"}, "identity": {
        "type": "UserAssigned", "userAssignedIdentities": [IDENTITY_ID]}}, "identity"),
}


def store(type_, deps=(), identity_value=None):
    props, prop = STORES[type_]
    if identity_value is not None:  # the identity id unknown until the update, as in a real preview
        import json
        props = json.loads(json.dumps(props).replace(IDENTITY_ID, identity_value))
    return Res(type_, "store", {"resourceGroupName": "rg", **props}, deps=["data-identity", *deps],
               prop_deps={prop: ["data-identity"]})


@pytest.mark.parametrize("type_", sorted(STORES))
def test_store_created_after_its_key_grant_passes(type_):
    assert check_stack(RULE, [identity(), key_grant(), store(type_, deps=["data-grant"])]).passed


@pytest.mark.parametrize("type_", sorted(STORES))
def test_store_racing_its_key_grant_fails_on_the_store(type_):
    racing = store(type_)
    outcome = check_stack(RULE, [identity(), key_grant(), racing])
    assert outcome.violations == [(outcome.messages[0], racing.urn)]
    assert "does not depend on data-grant" in outcome.messages[0] and "races the grant" in outcome.messages[0]


def test_store_whose_identity_has_no_crypto_grant_fails():
    outcome = check_stack(RULE, [identity(), key_grant(role=READER),
                                 store("azure-native:storage:StorageAccount", deps=["data-grant"])])
    assert len(outcome.violations) == 1 and "no role assignment in the program" in outcome.messages[0]


def test_grant_reached_through_a_parent_or_another_dependency_counts():
    """Creation order is transitive: a store after a component (or resource) that waits for the grant is fine."""
    waits = Res("azure-native:keyvault:Key", "gate", {"resourceGroupName": "rg"}, deps=["data-grant"])
    assert check_stack(RULE, [identity(), key_grant(), waits,
                              store("azure-native:dbforpostgresql:Server", deps=["gate"])]).passed


def test_identity_known_only_through_the_property_dependency_in_a_real_preview():
    unknown = store("azure-native:storage:StorageAccount", identity_value=UNKNOWN)
    assert len(check_stack(RULE, [identity(), key_grant(), unknown]).violations) == 1
    unknown.deps.append("data-grant")
    assert check_stack(RULE, [identity(), key_grant(), unknown]).passed


def test_stores_without_customer_managed_keys_are_out_of_scope():
    plain = Res("azure-native:storage:StorageAccount", "plain", {"encryption": {"keySource": "Microsoft.Storage"}})
    assert check_stack(RULE, [plain]).passed


def test_through_the_analyzer_protocol_the_pack_reports_exactly_the_racing_store():
    """The pack as the CLI boots it: only the store without a dependency on its grant is reported."""
    grant = resource("azure-native:authorization:RoleAssignment", "data-grant", key_grant().props)
    ident = resource("azure-native:managedidentity:UserAssignedIdentity", "data-identity", identity().props)
    grant["dependencies"] = [ident["urn"]]
    grant["propertyDependencies"] = {"principalId": [ident["urn"]]}
    props, prop = STORES["azure-native:dbforpostgresql:Server"]
    ordered = resource("azure-native:dbforpostgresql:Server", "ordered", props, (ident["urn"], grant["urn"]))
    racing = resource("azure-native:dbforpostgresql:Server", "racing", props, (ident["urn"],))
    for server in (ordered, racing):
        server["propertyDependencies"] = {prop: [ident["urn"]]}
    _, violations = run_policy_packs([ident, grant, ordered, racing], [PACK])
    found = [(v.urn, v.enforcement) for v in violations if v.policy == RULE.name]
    assert found == [(racing["urn"], "mandatory")]
