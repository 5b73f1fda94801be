"""Data stores using a CMEK from the stack must use a key that rotates."""
from mlops_gcp_policies.kms import cmek_key_rotation as rotating
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack

RULE = rotating.RULE
RING = "projects/mlops-prod-4711/locations/europe-west4/keyRings/mlops"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"


def key(name, rotation="7776000s"):
    props = {"keyRing": RING, "name": name}
    if rotation:
        props["rotationPeriod"] = rotation
    return Res(CRYPTO_KEY, name, props)


def bucket(name, key_name, deps=()):
    return Res("gcp:storage/bucket:Bucket", name, {"encryption": {"defaultKmsKeyName": key_name}}, deps=list(deps))


def test_bucket_with_rotating_key_passes():
    assert check_stack(RULE, [key("artifacts"), bucket("artifact-store", f"{RING}/cryptoKeys/artifacts")]).passed


def test_bucket_with_non_rotating_key_fails_on_the_bucket():
    b = bucket("artifact-store", f"{RING}/cryptoKeys/artifacts")
    outcome = check_stack(RULE, [key("artifacts", rotation=None), b])
    assert outcome.violations == [(outcome.messages[0], b.urn)]
    assert "encrypted with CryptoKey artifacts" in outcome.messages[0] and "never rotates" in outcome.messages[0]


def test_every_data_store_kind_is_correlated():
    slow = key("slow", rotation="31536000s")
    name = f"{RING}/cryptoKeys/slow"
    stores = [
        Res("gcp:sql/databaseInstance:DatabaseInstance", "tracking-db", {"encryptionKeyName": name}),
        Res("gcp:container/cluster:Cluster", "gke", {"databaseEncryption": {"state": "ENCRYPTED", "keyName": name}}),
        Res("gcp:artifactregistry/repository:Repository", "images", {"kmsKeyName": name}),
        Res("gcp:redis/instance:Instance", "online-store", {"customerManagedKey": name}),
        Res("gcp:bigtable/instance:Instance", "features", {"clusters": [{"clusterId": "a", "kmsKeyName": name}]}),
    ]
    outcome = check_stack(RULE, [slow, *stores])
    assert sorted(urn for _, urn in outcome.violations) == sorted(s.urn for s in stores)


def test_key_version_suffix_is_the_same_key():
    outcome = check_stack(RULE, [key("k", rotation=None), bucket("b", f"{RING}/cryptoKeys/k/cryptoKeyVersions/3")])
    assert len(outcome.violations) == 1


def test_autonamed_key_correlates_through_dependencies():
    """In a preview a new key's id is unknown; the bucket still depends on it."""
    outcome = check_stack(RULE, [Res(CRYPTO_KEY, "k", {"keyRing": RING}), bucket("b", UNKNOWN, deps=["k"])])
    assert len(outcome.violations) == 1


def test_two_candidate_keys_and_an_unknown_name_is_cannot_check():
    outcome = check_stack(RULE, [key("a", rotation=None), key("b"), bucket("x", UNKNOWN, deps=["a", "b"])])
    assert outcome.violations == [] and "cannot check during preview" in outcome.cannot_check


def test_key_outside_the_stack_is_out_of_reach():
    assert check_stack(RULE, [key("k", rotation=None), bucket("b", "projects/other/locations/eu/keyRings/r/cryptoKeys/z")]).passed


def test_unknown_rotation_period_is_cannot_check():
    outcome = check_stack(RULE, [key("k", rotation=UNKNOWN), bucket("b", f"{RING}/cryptoKeys/k")])
    assert outcome.violations == [] and outcome.cannot_check


def test_max_rotation_days_config_applies():
    outcome = check_stack(RULE, [key("k", rotation="5184000s"), bucket("b", f"{RING}/cryptoKeys/k")],
                          config={"maxRotationDays": 30})
    assert len(outcome.violations) == 1
