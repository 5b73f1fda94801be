"""PostgreSQL servers must each have a require_secure_transport=ON configuration in the stack."""
import pytest

from mlops_azure_policies.dbforpostgresql import server_secure_transport as secure_transport
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack

SERVER = "azure-native:dbforpostgresql:Server"
CONFIGURATION = "azure-native:dbforpostgresql:Configuration"
RULE = secure_transport.RULE


def server(name, **props):
    return Res(SERVER, name, {"resourceGroupName": "mlops-prod", **props})


def tls_config(name, server_name, value="ON", deps=(), prop_deps=None, parameter="require_secure_transport"):
    return Res(CONFIGURATION, name, {"resourceGroupName": "mlops-prod", "serverName": server_name,
                                     "configurationName": parameter, "value": value, "source": "user-override"},
               deps=list(deps), prop_deps=prop_deps or {})


def test_server_with_secure_transport_on_passes():
    assert check_stack(RULE, [server("tracking", serverName="mlops-tracking"), tls_config("tls", "mlops-tracking")]).passed


def test_server_without_the_configuration_fails_on_the_server():
    tracking = server("tracking", serverName="mlops-tracking")
    outcome = check_stack(RULE, [tracking, tls_config("log", "mlops-tracking", parameter="log_connections")])
    assert outcome.violations == [(outcome.messages[0], tracking.urn)]
    assert "has no require_secure_transport=ON configuration" in outcome.messages[0]


@pytest.mark.parametrize("value", ["OFF", "off", "false", "0"])
def test_configuration_switching_tls_off_fails(value):
    outcome = check_stack(RULE, [server("tracking", serverName="mlops-tracking"), tls_config("tls", "MLOPS-TRACKING", value)])
    assert len(outcome.violations) == 1 and "clients may connect without TLS" in outcome.messages[0]


@pytest.mark.parametrize("value", ["on", "On", "true", "1"])
def test_every_postgres_spelling_of_on_passes(value):
    assert check_stack(RULE, [server("tracking", serverName="mlops-tracking"), tls_config("tls", "mlops-tracking", value)]).passed


def test_configuration_of_another_server_does_not_count():
    a, b = server("a", serverName="pg-a"), server("b", serverName="pg-b")
    outcome = check_stack(RULE, [a, b, tls_config("tls-a", "pg-a")])
    assert [urn for _, urn in outcome.violations] == [b.urn]


def test_same_server_name_in_another_resource_group_does_not_count():
    a = server("a", serverName="pg")
    other_group = Res(CONFIGURATION, "tls", {"resourceGroupName": "elsewhere", "serverName": "pg",
                                             "configurationName": "require_secure_transport", "value": "ON"})
    assert len(check_stack(RULE, [a, other_group]).violations) == 1


def test_autonamed_server_correlates_through_dependencies():
    """In a preview the server's name is unknown; the configuration still depends on the server."""
    tracking = server("tracking")
    assert check_stack(RULE, [tracking, tls_config("tls", UNKNOWN, deps=["tracking"])]).passed


def test_property_dependencies_from_the_cli_are_used():
    a, b = server("a"), server("b")
    outcome = check_stack(RULE, [a, b, tls_config("tls", UNKNOWN, deps=["a", "b"], prop_deps={"serverName": ["b"]})])
    assert [urn for _, urn in outcome.violations] == [a.urn]


def test_unknown_link_is_cannot_check_not_a_violation():
    a, b = server("a"), server("b")
    outcome = check_stack(RULE, [a, b, tls_config("tls", UNKNOWN, deps=["a", "b"])])
    assert outcome.violations == [] and "cannot check during preview" in outcome.cannot_check


def test_unknown_value_is_cannot_check():
    outcome = check_stack(RULE, [server("tracking", serverName="pg"), tls_config("tls", "pg", value=UNKNOWN)])
    assert outcome.violations == [] and outcome.cannot_check


def test_stack_without_postgres_passes():
    assert check_stack(RULE, [Res("azure-native:storage:StorageAccount", "sa", {})]).passed


def test_exclude_for_applies_to_the_reported_server():
    outcome = check_stack(RULE, [server("legacy-pg", serverName="old")], config={"excludeFor": ["legacy-*"]})
    assert outcome.passed


# --- Key Vault key rotation: one finding per key, naming what it protects ------------------------

from mlops_azure_policies.keyvault import key_rotation  # noqa: E402

KEY = "azure-native:keyvault:Key"
ROTATE_90_DAYS = {"lifetimeActions": [{"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "P90D"}},
                                      {"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}}],
                  "attributes": {"expiryTime": "P1Y"}}


def vault_key(name, rotation_policy=None, key_name="data"):
    properties = {"kty": "RSA", "keySize": 3072}
    if rotation_policy is not None:
        properties["rotationPolicy"] = rotation_policy
    return Res(KEY, name, {"resourceGroupName": "mlops-prod", "vaultName": "mlops-kv", "keyName": key_name,
                           "properties": properties})


def test_key_with_rotation_policy_passes():
    assert check_stack(key_rotation.RULE, [vault_key("data", ROTATE_90_DAYS)]).passed


@pytest.mark.parametrize("policy,fragment", [
    (None, "no rotation policy with a 'rotate' action"),
    ({"lifetimeActions": [{"action": {"type": "notify"}, "trigger": {"timeBeforeExpiry": "P30D"}}]}, "no rotation policy"),
    ({"lifetimeActions": [{"action": {"type": "Rotate"}, "trigger": {"timeAfterCreate": "P2Y"}}]}, "730 days"),
    ({"lifetimeActions": [{"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": "90 days"}}]}, "not an ISO 8601"),
])
def test_key_without_fitting_rotation_fails_on_the_key(policy, fragment):
    k = vault_key("data", policy)
    outcome = check_stack(key_rotation.RULE, [k])
    assert outcome.violations == [(outcome.messages[0], k.urn)] and fragment in outcome.messages[0]


def test_rotation_before_expiry_counts_from_the_expiry_time():
    before_expiry = {"lifetimeActions": [{"action": {"type": "rotate"}, "trigger": {"timeBeforeExpiry": "P30D"}}],
                     "attributes": {"expiryTime": "P1Y"}}
    assert check_stack(key_rotation.RULE, [vault_key("data", before_expiry)]).passed
    outcome = check_stack(key_rotation.RULE, [vault_key("data", before_expiry)], config={"maxRotationDays": 90})
    assert "rotates every 335 days" in outcome.messages[0]


def test_finding_names_the_data_stores_the_key_protects():
    k = vault_key("data-key")
    account = Res("azure-native:storage:StorageAccount", "artifacts", {"encryption": {
        "keySource": "Microsoft.Keyvault", "keyVaultProperties": {"keyName": "data", "keyVaultUri": "https://mlops-kv.vault.azure.net/"}}})
    tracking = server("tracking", dataEncryption={"type": "AzureKeyVault",
                                                "primaryKeyURI": "https://MLOPS-KV.vault.azure.net/keys/data/0123abcd"})
    by_dependency = Res("azure-native:machinelearningservices:Workspace", "aml", {"encryption": {"status": "Enabled"}},
                        deps=["data-key"])
    other_key = Res("azure-native:storage:EncryptionScope", "scope", {"keyVaultProperties": {"keyUri": "https://mlops-kv.vault.azure.net/keys/database"}})
    outcome = check_stack(key_rotation.RULE, [k, account, tracking, by_dependency, other_key])
    assert outcome.messages == ["key data-key (protects aml, artifacts, tracking) has no rotation policy with a 'rotate' "
                                "action: the key material never rotates."]


def test_unknown_rotation_policy_is_cannot_check():
    outcome = check_stack(key_rotation.RULE, [vault_key("data", UNKNOWN)])
    assert outcome.violations == [] and "rotationPolicy" in outcome.cannot_check
