"""CMEK stores must be created after their service agent's grant on the key (stack rule)."""
from pathlib import Path

import pytest

from mlops_gcp_policies.kms import cmek_store_depends_on_key_grant as cmek_grant
from mlops_tools.policy.runner import run_policy_packs
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack, resource

RULE = cmek_grant.RULE
PACK = Path(__file__).resolve().parents[3] / "policies" / "gcp"
RING = "projects/p/locations/europe-west4/keyRings/mlops"
KEY = f"{RING}/cryptoKeys/data"
ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
STORES = {  # type -> (props naming KEY, the service agent's domain)
    "gcp:storage/bucket:Bucket": ({"encryption": {"defaultKmsKeyName": KEY}}, "gs-project-accounts"),
    "gcp:sql/databaseInstance:DatabaseInstance": ({"encryptionKeyName": KEY}, "gcp-sa-cloud-sql"),
    "gcp:container/cluster:Cluster": ({"databaseEncryption": {"state": "ENCRYPTED", "keyName": KEY}},
                                      "container-engine-robot"),
    "gcp:artifactregistry/repository:Repository": ({"kmsKeyName": KEY}, "gcp-sa-artifactregistry"),
    "gcp:bigtable/instance:Instance": ({"clusters": [{"clusterId": "a", "kmsKeyName": KEY}]}, "gcp-sa-bigtable"),
}


def key():
    return Res("gcp:kms/cryptoKey:CryptoKey", "data", {"keyRing": RING, "name": "data"})


def grant(agent, name="data-grant", role=ROLE):
    return Res("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", name, {
        "cryptoKeyId": KEY, "role": role, "member": f"serviceAccount:service-1@{agent}.iam.gserviceaccount.com"},
        deps=["data"])


def store(type_, deps=()):
    return Res(type_, "store", STORES[type_][0], deps=["data", *deps])


@pytest.mark.parametrize("type_", sorted(STORES))
def test_store_created_after_its_agents_grant_passes(type_):
    assert check_stack(RULE, [key(), grant(STORES[type_][1]), store(type_, deps=["data-grant"])]).passed


@pytest.mark.parametrize("type_", sorted(STORES))
def test_store_racing_its_agents_grant_fails(type_):
    racing = store(type_)
    outcome = check_stack(RULE, [key(), grant(STORES[type_][1]), racing])
    assert outcome.violations == [(outcome.messages[0], racing.urn)]
    assert "does not depend on data-grant" in outcome.messages[0]


def test_a_grant_to_another_agent_or_with_another_role_does_not_count():
    bucket = store("gcp:storage/bucket:Bucket", deps=["data-grant", "viewer-grant"])
    outcome = check_stack(RULE, [key(), grant("gcp-sa-cloud-sql"), grant("gs-project-accounts", "viewer-grant",
                                                                       "roles/cloudkms.viewer"), bucket])
    assert len(outcome.violations) == 1 and "no IAM grant in the program" in outcome.messages[0]


def test_key_unknown_until_the_update_is_correlated_through_the_dependency():
    bucket = Res("gcp:storage/bucket:Bucket", "store", {"encryption": {"defaultKmsKeyName": UNKNOWN}},
                 deps=["data"], prop_deps={"encryption": ["data"]})
    assert len(check_stack(RULE, [key(), grant("gs-project-accounts"), bucket]).violations) == 1


def test_through_the_analyzer_protocol_only_the_racing_store_is_reported():
    k = resource("gcp:kms/cryptoKey:CryptoKey", "data", {"keyRing": RING, "name": "data",
                                                         "rotationPeriod": "7776000s"})
    g = resource("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "data-grant", grant("gs-project-accounts").props,
                 (k["urn"],))
    props = {"uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced", **STORES["gcp:storage/bucket:Bucket"][0]}
    ordered = resource("gcp:storage/bucket:Bucket", "ordered", props, (k["urn"], g["urn"]))
    racing = resource("gcp:storage/bucket:Bucket", "racing", props, (k["urn"],))
    _, violations = run_policy_packs([k, g, ordered, racing], [PACK])
    assert [(v.urn, v.enforcement) for v in violations if v.policy == RULE.name] == [(racing["urn"], "mandatory")]
