"""Cloud KMS key rotation: one finding per key, naming the data stores of the stack it encrypts."""
import pytest

from mlops_gcp_policies.kms import crypto_key_rotation as rotation
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack

RULE = rotation.RULE
RING = "projects/mlops-prod-4711/locations/europe-west4/keyRings/mlops"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"


def key(name, rotation_period="7776000s", **props):
    props = {"keyRing": RING, "name": name, **props}
    if rotation_period:
        props["rotationPeriod"] = rotation_period
    return Res(CRYPTO_KEY, name, props)


def bucket(name, key_name, deps=()):
    return Res("gcp:storage/bucket:Bucket", name, {"encryption": {"defaultKmsKeyName": key_name}}, deps=list(deps))


def test_rotating_key_passes():
    assert check_stack(RULE, [key("artifacts"), bucket("artifact-store", f"{RING}/cryptoKeys/artifacts")]).passed


@pytest.mark.parametrize("period,fragment", [
    (None, "never rotates"), ("31536000s", "365 days"), ("7776000.5s", "longer than the 90-day"),
    ("90d", "not a duration"),
])
def test_key_without_fitting_rotation_fails_on_the_key(period, fragment):
    k = key("artifacts", period)
    outcome = check_stack(RULE, [k])
    assert outcome.violations == [(outcome.messages[0], k.urn)] and fragment in outcome.messages[0]


def test_finding_names_every_data_store_the_key_encrypts():
    name = f"{RING}/cryptoKeys/static"
    stores = [
        bucket("reports", name),
        Res("gcp:sql/databaseInstance:DatabaseInstance", "tracking-db", {"encryptionKeyName": name}),
        Res("gcp:container/cluster:Cluster", "gke", {"databaseEncryption": {"state": "ENCRYPTED", "keyName": name}}),
        Res("gcp:artifactregistry/repository:Repository", "images", {"kmsKeyName": name}),
        Res("gcp:redis/instance:Instance", "online-store", {"customerManagedKey": name}),
        Res("gcp:bigtable/instance:Instance", "features", {"clusters": [{"clusterId": "a", "kmsKeyName": f"{name}/cryptoKeyVersions/2"}]}),
        bucket("elsewhere", "projects/other/locations/eu/keyRings/r/cryptoKeys/z"),
    ]
    outcome = check_stack(RULE, [key("static", None), key("rotating"), *stores])
    assert len(outcome.violations) == 1
    assert "key static (encrypts features, gke, images, online-store, reports, tracking-db)" in outcome.messages[0]


def test_autonamed_key_is_linked_through_the_data_store_dependency():
    """In a preview a new key's id is unknown; the bucket still depends on it."""
    outcome = check_stack(RULE, [Res(CRYPTO_KEY, "k", {"keyRing": RING}), bucket("b", UNKNOWN, deps=["k"])])
    assert "key k (encrypts b)" in outcome.messages[0]


@pytest.mark.parametrize("props", [
    {"purpose": "ASYMMETRIC_SIGN"}, {"purpose": "MAC"},
    {"versionTemplate": {"algorithm": "EXTERNAL_SYMMETRIC_ENCRYPTION", "protectionLevel": "EXTERNAL"}},
])
def test_keys_without_automatic_rotation_are_out_of_scope(props):
    assert check_stack(RULE, [key("k", None, **props)]).passed


@pytest.mark.parametrize("props,what", [({"rotationPeriod": UNKNOWN}, "rotationPeriod"), ({"purpose": UNKNOWN}, "purpose")])
def test_unknown_deciding_value_is_cannot_check(props, what):
    outcome = check_stack(RULE, [key("k", None, **props)])
    assert outcome.violations == [] and what in outcome.cannot_check


def test_max_rotation_days_config_applies():
    outcome = check_stack(RULE, [key("k", "5184000s")], config={"maxRotationDays": 30})
    assert "longer than the 30-day maximum" in outcome.messages[0]


def test_exclude_for_skips_the_named_key():
    assert check_stack(RULE, [key("imported-k", None)], config={"excludeFor": ["imported-*"]}).passed


def test_data_store_using_two_new_keys_is_named_on_both():
    """A Bigtable instance with a cluster per region: in a first preview both key names are unknown."""
    clusters = [{"clusterId": "a", "kmsKeyName": UNKNOWN}, {"clusterId": "b", "kmsKeyName": UNKNOWN}]
    outcome = check_stack(RULE, [Res(CRYPTO_KEY, "ka", {"keyRing": RING}), Res(CRYPTO_KEY, "kb", {"keyRing": RING}),
                                 Res("gcp:bigtable/instance:Instance", "features", {"clusters": clusters},
                                     deps=["ka", "kb"], prop_deps={"clusters": ["ka", "kb"]})])
    assert sorted(outcome.messages) == [f"key {k} (encrypts features): rotationPeriod is not set: the key material "
                                        "never rotates." for k in ("ka", "kb")]
