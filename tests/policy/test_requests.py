"""The Analyzer requests of a preview: what a pack receives as a resource's properties (policy/requests.py)."""

import pulumi
import pulumi_aws as aws

from mlops_tools.engine.preview import preview_program
from mlops_tools.policy.requests import Requests, to_struct


def _program():
    key = aws.kms.Key("key", enable_key_rotation=True, tags={"team": "ml", "tier": "1"})
    bucket = aws.s3.Bucket("bucket", bucket="models", force_destroy=False)
    aws.s3.BucketServerSideEncryptionConfiguration("bucket-sse", bucket=bucket.id, rules=[{
        "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn}}])
    aws.secretsmanager.SecretVersion("password", secret_id="db", secret_string=pulumi.Output.secret("hunter2"))


def test_a_resource_with_plain_inputs_is_sent_as_the_programs_own_struct_and_equals_the_built_one():
    result = preview_program(_program, stack="dev", config={"aws:region": "eu-west-1"})
    resources = result.resources
    reused, built = Requests(resources, result.property_structs), Requests(resources)
    for resource in resources:
        assert reused.properties(resource) == built.properties(resource) == to_struct(resource["inputs"]), resource["urn"]
    by_name = {r["name"]: r["urn"] for r in resources}
    assert by_name["key"] in result.property_structs and by_name["bucket-sse"] in result.property_structs
    # A secret input is wrapped in the program's Struct; the packs get it revealed, built from the record.
    assert by_name["password"] not in result.property_structs
    assert reused.properties(next(r for r in resources if r["name"] == "password"))["secretString"] == "hunter2"
