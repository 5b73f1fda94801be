"""Azure keys: a private RBAC vault with purge protection, rotating keys, a CMK identity per key, DR twins."""

import pytest

from components.azure_account import KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER
from components.keys import DOMAINS
from components.keys.azure import ROTATE_AFTER

from .foundation import DR, PRIMARY, foundation, named, role_guid


@pytest.fixture(scope="module")
def result():
    return foundation()


def vaults(result, env):
    return {v["inputs"]["location"]: v for v in named(result, "azure-native:keyvault:Vault", f"{env}-")}


def test_vault_is_rbac_purge_protected_and_private(result):
    [vault] = vaults(result, "dev").values()
    props = vault["inputs"]["properties"]
    assert props["enableRbacAuthorization"] is True and "accessPolicies" not in props
    assert props["enablePurgeProtection"] is True and props["enableSoftDelete"] is True
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["networkAcls"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    [endpoint] = named(result, "azure-native:network:PrivateEndpoint", "dev-keys")
    [connection] = endpoint["inputs"]["privateLinkServiceConnections"]
    assert connection["groupIds"] == ["vault"] and connection["privateLinkServiceId"] == result.outputs["dev:vaultId"]
    assert endpoint["inputs"]["subnet"]["id"] == result.outputs["dev:subnets"]["endpoints"]


def test_prod_keeps_deleted_keys_longer_and_protects_them(result):
    dev, prod = vaults(result, "dev")[PRIMARY], vaults(result, "prod")[PRIMARY]
    assert dev["inputs"]["properties"]["softDeleteRetentionInDays"] == 7
    assert prod["inputs"]["properties"]["softDeleteRetentionInDays"] == 30
    assert prod["protect"] and all(k["protect"] for k in named(result, "azure-native:keyvault:Key", "prod-"))
    assert not dev["protect"]


def test_one_rotating_key_per_domain(result):
    keys = {k["inputs"]["keyName"]: k["inputs"] for k in named(result, "azure-native:keyvault:Key", "dev-")}
    assert set(keys) == set(DOMAINS)
    for key in keys.values():
        assert key["properties"]["kty"] == "RSA" and key["properties"]["keySize"] >= 2048
        [action] = key["properties"]["rotationPolicy"]["lifetimeActions"]
        assert action == {"action": {"type": "rotate"}, "trigger": {"timeAfterCreate": ROTATE_AFTER}}


def test_each_identity_may_use_only_its_own_key(result):
    grants = [g for g in named(result, "azure-native:authorization:RoleAssignment", "dev-keys")]
    assert len(grants) == len(DOMAINS)
    for domain in DOMAINS:
        [grant] = [g for g in grants if g["inputs"]["principalId"] == result.outputs[f"dev:identityPrincipal:{domain}"]]
        assert grant["inputs"]["scope"] == result.outputs[f"dev:keyId:{domain}"]  # the key, not the vault
        assert role_guid(grant) == KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER
        assert grant["inputs"]["principalType"] == "ServicePrincipal"


def test_dr_twins_live_in_the_dr_location_with_dr_identities(result):
    prod = vaults(result, "prod")
    assert set(prod) == {PRIMARY, DR}
    assert prod[DR]["inputs"]["resourceGroupName"] == "mlops-prod-dr-rg"
    assert prod[DR]["inputs"]["properties"]["enablePurgeProtection"] is True
    twins = [k for k in named(result, "azure-native:keyvault:Key", "prod-keys-dr-")]
    assert sorted(k["inputs"]["keyName"] for k in twins) == sorted(DOMAINS)
    assert all(prod[DR]["urn"] in k["dependencies"] for k in twins)
    identities = named(result, "azure-native:managedidentity:UserAssignedIdentity", "prod-keys-dr-")
    assert len(identities) == len(DOMAINS) and all(i["inputs"]["location"] == DR for i in identities)
    for domain in DOMAINS:
        [grant] = [g for g in named(result, "azure-native:authorization:RoleAssignment", "prod-keys-dr-")
                   if g["inputs"]["scope"] == result.outputs[f"prod:drKeyId:{domain}"]]
        assert grant["inputs"]["principalId"] == result.outputs[f"prod:drIdentityPrincipal:{domain}"]
    assert not named(result, "azure-native:keyvault:Key", "dev-keys-dr-")
