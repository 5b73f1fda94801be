"""The smoke run's IAM models (mlops_tools/smoke/iam_aws.py, iam_roles.py) decide as the clouds do for the
policy forms the plan writes: each rule with a case it allows and one it refuses."""

import pytest

from mlops_tools.smoke.iam_aws import PolicyModelError, is_allowed
from mlops_tools.smoke.iam_roles import Need, condition_holds, gcp_missing, recorded_gcs_needs

BUCKET = "arn:aws:s3:::b"
POLICY = {"Statement": [
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET, "Condition": {"Null": {"s3:prefix": "true"}}},
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET, "Condition": {"StringLike": {"s3:prefix": ["registry/*"]}}},
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"{BUCKET}/registry/registry.db"},
    {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"{BUCKET}/registry/registry.db",
     "Condition": {"StringEquals": {"aws:PrincipalTag/frozen": "yes"}}},
]}


@pytest.mark.parametrize("action, resource, context, allowed", [
    ("s3:ListBucket", BUCKET, {}, True),  # HeadBucket: no s3:prefix key
    ("s3:ListBucket", BUCKET, {"s3:prefix": ["registry/a"]}, True),
    ("s3:ListBucket", BUCKET, {"s3:prefix": ["models/"]}, False),  # a present key fails Null and StringLike
    ("S3:getobject", f"{BUCKET}/registry/registry.db", {}, True),  # actions are case-insensitive
    ("s3:GetObject", f"{BUCKET}/registry/other.db", {}, False),
    ("s3:PutObject", f"{BUCKET}/registry/registry.db", {"aws:PrincipalTag/frozen": ["yes"]}, False),  # Deny wins
    ("s3:PutObject", f"{BUCKET}/registry/registry.db", {}, True),  # a Deny whose key is absent does not apply
    ("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/t", {}, False),
])
def test_aws_identity_policy_decisions(action, resource, context, allowed):
    assert is_allowed([POLICY], action, resource, context) is allowed


def test_an_unmodelled_condition_operator_stops_instead_of_guessing():
    policy = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                             "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}]}
    with pytest.raises(PolicyModelError, match="DateGreaterThan"):
        is_allowed([policy], "s3:GetObject", "arn:aws:s3:::b/k", {"aws:CurrentTime": ["2026-01-01T00:00:00Z"]})


def test_gcp_conditions_and_missing_permissions():
    objects = "projects/_/buckets/b/objects/"
    expression = f'resource.name == "{objects}registry/registry.db" || resource.name.startsWith("{objects}offline/")'
    assert condition_holds(expression, f"{objects}registry/registry.db")
    assert condition_holds(expression, f"{objects}offline/x.parquet")
    assert not condition_holds(expression, f"{objects}registry/other.db")
    with pytest.raises(ValueError, match="not modelled"):
        condition_holds('resource.type == "storage.googleapis.com/Object"', f"{objects}x")
    binding = {"permissions": {"storage.objects.create"}, "scope": "projects/_/buckets/b", "condition": expression}
    assert gcp_missing([binding], [Need("s", "c", "storage.objects.create", f"{objects}offline/x")]) == []
    assert gcp_missing([binding], [Need("s", "c", "storage.objects.create", f"{objects}models/x")]) == [
        f"storage.objects.create on {objects}models/x (s: c)"]


def test_recorded_gcs_calls_become_permissions_with_overwrites_needing_delete():
    log = ('"GET /storage/v1/b/b?projection=noAcl HTTP/1.1" 200 -\n'
           '"GET /storage/v1/b/b/o?prefix=offline/ HTTP/1.1" 200 -\n'
           '"PUT /upload/storage/v1/b/b/o?uploadType=resumable&upload_id=b%3Aregistry%2Fregistry.db%3A2026-12-05+1 HTTP/1.1" 200 -\n'
           '"PUT /upload/storage/v1/b/b/o?uploadType=resumable&upload_id=b%3Aregistry%2Fregistry.db%3A2026-12-05+2 HTTP/1.1" 200 -\n'
           '"PUT /upload/storage/v1/b/b/o?uploadType=resumable&upload_id=b%3Aoffline%2Fx%3A2026-12-05+3 HTTP/1.1" 200 -\n')
    got = {(n.permission, n.resource) for n in recorded_gcs_needs(log)}
    assert got == {("storage.buckets.get", "projects/_/buckets/b"), ("storage.objects.list", "projects/_/buckets/b"),
                   ("storage.objects.create", "projects/_/buckets/b/objects/registry/registry.db"),
                   ("storage.objects.delete", "projects/_/buckets/b/objects/registry/registry.db"),
                   ("storage.objects.create", "projects/_/buckets/b/objects/offline/x")}


def test_azure_prefix_condition_confines_blob_actions_and_unknown_forms_stop():
    from components.storage.azure import blob_prefix_condition
    from mlops_tools.smoke.iam_roles import BLOB, abac_allows

    condition = blob_prefix_condition("offline/logs")
    container = "/storageAccounts/a/blobServices/default/containers/feast"
    assert abac_allows(condition, f"{BLOB}/write", f"{container}/blobs/offline/logs/part-1.parquet")
    assert not abac_allows(condition, f"{BLOB}/write", f"{container}/blobs/offline/other.parquet")
    assert not abac_allows(condition, f"{BLOB}/move/action", f"{container}/blobs/registry/registry.db")
    assert abac_allows(condition, f"{BLOB}/read", container)  # listing names only: exempt
    assert not abac_allows(condition, f"{BLOB}/delete", container)
    with pytest.raises(ValueError, match="not modelled"):
        abac_allows("@Resource[x] StringEquals 'y'", f"{BLOB}/read", f"{container}/blobs/x")
