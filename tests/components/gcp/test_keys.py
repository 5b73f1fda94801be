"""GCP keys: a ring per region, one rotating CMEK per domain, each service agent granted on exactly its keys."""

import pytest

from components.keys import DOMAINS
from components.keys.gcp import DOMAIN_AGENTS, SERVICE_AGENT_DOMAINS

from .foundation import DR, PRIMARY, PROJECT_NUMBER, bound_to, dev, prod, provider_urn

KEY = "gcp:kms/cryptoKey:CryptoKey"
GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"


def seconds(duration: str) -> int:
    assert duration.endswith("s")
    return int(duration[:-1])


def grants_by_key(result):
    """{key id: {member, ...}} for every encrypter/decrypter grant."""
    granted: dict[str, set[str]] = {}
    for grant in result.by_type(GRANT):
        assert grant["inputs"]["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
        granted.setdefault(grant["inputs"]["cryptoKeyId"], set()).add(grant["inputs"]["member"])
    return granted


def expected_members(domain):
    return {f"serviceAccount:service-{PROJECT_NUMBER}@{SERVICE_AGENT_DOMAINS[agent]}" for agent in DOMAIN_AGENTS[domain]}


@pytest.mark.parametrize("shape", [dev, prod])
def test_one_symmetric_key_per_domain_rotating_at_most_every_90_days(shape):
    result = shape()
    primary = [k for k in result.by_type(KEY) if f"/locations/{PRIMARY}/" in k["inputs"]["keyRing"]]
    assert sorted(k["inputs"]["name"] for k in primary) == sorted(DOMAINS)
    for key in result.by_type(KEY):
        assert key["inputs"]["purpose"] == "ENCRYPT_DECRYPT"
        assert 0 < seconds(key["inputs"]["rotationPeriod"]) <= 90 * 86400


def test_each_service_agent_may_use_exactly_its_domains_keys():
    result = dev()
    granted = grants_by_key(result)
    assert granted == {result.outputs[f"key:{domain}"]: expected_members(domain) for domain in DOMAINS
                       if DOMAIN_AGENTS[domain]}
    assert result.outputs["key:notifications"] not in granted  # no GCP store uses it: no agent may


def test_agents_created_on_first_use_exist_before_their_grant():
    result = dev()
    identities = {r["inputs"]["service"]: r["urn"] for r in result.by_type("gcp:projects/serviceIdentity:ServiceIdentity")}
    assert set(identities) == {"sqladmin.googleapis.com", "artifactregistry.googleapis.com"}
    sql_grant = next(g for g in result.by_type(GRANT) if "gcp-sa-cloud-sql" in g["inputs"]["member"])
    assert identities["sqladmin.googleapis.com"] in sql_grant["dependencies"]


def test_dr_region_has_twin_keys_with_the_same_grants_through_the_dr_provider():
    result = prod()
    dr = provider_urn(result, "dr")
    [ring] = [r for r in result.by_type("gcp:kms/keyRing:KeyRing") if r["inputs"]["location"] == DR]
    assert bound_to(ring, dr)
    granted = grants_by_key(result)
    for domain in DOMAINS:
        twin = result.outputs[f"drKey:{domain}"]
        assert f"/locations/{DR}/" in twin
        assert granted.get(twin, set()) == expected_members(domain)
    assert all(bound_to(k, dr) for k in result.by_type(KEY) if f"/locations/{DR}/" in k["inputs"]["keyRing"])


def test_prod_keys_are_protected_and_keep_destroyed_versions_30_days():
    for key in prod().by_type(KEY):
        assert key["protect"] is True
        assert seconds(key["inputs"]["destroyScheduledDuration"]) == 30 * 86400
    assert not any(key["protect"] for key in dev().by_type(KEY))
