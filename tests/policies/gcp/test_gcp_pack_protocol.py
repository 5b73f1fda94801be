"""The GCP pack boots the way the CLI starts it and answers over the Analyzer protocol."""
from pathlib import Path

import mlops_gcp_policies
from mlops_tools.policy.runner import run_policy_packs
from tests.policies.cloud_policy_harness import UNKNOWN, assert_pack_describes_every_rule, resource, rules_of

PACK = Path(__file__).resolve().parents[3] / "policies" / "gcp"
RING = "projects/p/locations/europe-west4/keyRings/mlops"


def test_pack_boots_describes_every_rule_and_reports_through_the_protocol():
    key = resource("gcp:kms/cryptoKey:CryptoKey", "data", {"keyRing": RING, "name": "data"})
    key_grant = resource("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "data-storage", {
        "cryptoKeyId": f"{RING}/cryptoKeys/data", "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "member": "serviceAccount:service-1@gs-project-accounts.iam.gserviceaccount.com"}, dependencies=(key["urn"],))
    bucket = resource("gcp:storage/bucket:Bucket", "artifacts", {
        "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced",
        "encryption": {"defaultKmsKeyName": f"{RING}/cryptoKeys/data"}}, dependencies=(key["urn"], key_grant["urn"]))
    grant = resource("gcp:projects/iAMPolicy:IAMPolicy", "project-policy", {"project": "p", "policyData": UNKNOWN})
    packs, violations = run_policy_packs([key, key_grant, bucket, grant], [PACK], policy_config={
        "gcp-kms-cryptokey-enable-key-rotation": {"maxRotationDays": 30}})
    rotation = next(v for v in violations if v.policy == "gcp-kms-cryptokey-enable-key-rotation")
    assert rotation.message.startswith("key data (encrypts artifacts): rotationPeriod is not set")

    assert [p.name for p in packs] == ["mlops-gcp"]
    assert_pack_describes_every_rule(packs[0], mlops_gcp_policies)
    assert {(v.policy, v.urn, v.enforcement) for v in violations} == {
        ("gcp-kms-cryptokey-enable-key-rotation", key["urn"], "mandatory"),        # stack rule, names the bucket
        ("gcp-kms-cryptokey-enable-deletion-protection", key["urn"], "advisory"),  # not protected
        ("gcp-iam-binding-disallow-primitive-roles", grant["urn"], "advisory"),   # policyData unknown
        ("gcp-iam-binding-disallow-public-members", grant["urn"], "advisory"),    # policyData unknown
        ("gcp-iam-binding-disallow-project-service-account-roles", grant["urn"], "advisory"),
        ("gcp-iam-binding-disallow-default-service-accounts", grant["urn"], "advisory"),
        # the bucket neither logs its access nor keeps versions
        ("gcp-storage-bucket-enable-access-logging", bucket["urn"], "mandatory"),
        ("gcp-storage-bucket-enable-versioning", bucket["urn"], "mandatory"),
        # no projects.Service in this stack: none of the four waits for its API
        *{("gcp-serviceusage-resource-require-api-dependency", r["urn"], "mandatory")
          for r in (key, key_grant, bucket, grant)},
    }


def test_every_rule_is_documented():
    doc = (PACK.parents[1] / "docs" / "policies-azure-gcp.md").read_text()
    assert [name for name in rules_of(mlops_gcp_policies) if f"`{name}`" not in doc] == []
