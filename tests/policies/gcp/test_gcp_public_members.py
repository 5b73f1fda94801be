"""allUsers / allAuthenticatedUsers on any IAM shape (project, bucket, secret, key, repository ...) or storage ACL."""
import json

import pytest

from mlops_gcp_policies.iam import public_members
from tests.policies.cloud_policy_harness import UNKNOWN, check_resource

RULE = public_members.RULE
SA = "serviceAccount:mlflow@mlops-prod.iam.gserviceaccount.com"


@pytest.mark.parametrize("type_,props", [
    ("gcp:storage/bucketIAMMember:BucketIAMMember", {"bucket": "artifacts", "role": "roles/storage.objectViewer", "member": "allUsers"}),
    ("gcp:secretmanager/secretIamBinding:SecretIamBinding",
     {"secretId": "db", "role": "roles/secretmanager.secretAccessor", "members": [SA, "allAuthenticatedUsers"]}),
    ("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", {"cryptoKeyId": "k", "role": "roles/cloudkms.cryptoKeyDecrypter", "member": "allUsers"}),
    ("gcp:projects/iAMMember:IAMMember", {"project": "mlops-prod", "role": "roles/viewer", "member": "allAuthenticatedUsers"}),
    ("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", {"repository": "r", "role": "roles/artifactregistry.reader", "member": "allUsers"}),
    ("gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
     {"bucket": "b", "policyData": json.dumps({"bindings": [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]})}),
    ("gcp:storage/bucketAccessControl:BucketAccessControl", {"bucket": "b", "entity": "allUsers", "role": "READER"}),
    ("gcp:storage/bucketACL:BucketACL", {"bucket": "b", "roleEntities": ["OWNER:project-owners-1", "READER:allUsers"]}),
])
def test_public_members_fail_on_every_shape(type_, props):
    outcome = check_resource(RULE, type_, props)
    assert len(outcome.messages) == 1, outcome
    assert "allUsers" in outcome.messages[0] or "allAuthenticatedUsers" in outcome.messages[0]


@pytest.mark.parametrize("type_,props", [
    ("gcp:storage/bucketIAMMember:BucketIAMMember", {"bucket": "artifacts", "role": "roles/storage.objectViewer", "member": SA}),
    ("gcp:secretmanager/secretIamBinding:SecretIamBinding", {"secretId": "db", "role": "roles/secretmanager.secretAccessor", "members": [SA]}),
    ("gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
     {"bucket": "b", "policyData": json.dumps({"bindings": [{"role": "roles/storage.objectViewer", "members": [SA]}]})}),
    ("gcp:storage/bucketACL:BucketACL", {"bucket": "b", "roleEntities": ["OWNER:project-owners-1"]}),
])
def test_named_members_pass(type_, props):
    assert check_resource(RULE, type_, props).passed


def test_unknown_members_are_advisory():
    outcome = check_resource(RULE, "gcp:storage/bucketIAMBinding:BucketIAMBinding", {"bucket": "b", "role": "roles/x", "members": UNKNOWN})
    assert outcome.violations == [] and "cannot check during preview" in outcome.cannot_check
