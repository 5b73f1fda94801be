"""Feast on the AWS stacks with the rendered feature_store.yaml and server command, on moto's server with
IAM enforced, running as the plan's feature-server role: it works, it uses exactly what the role grants,
and it is refused everywhere else. A policy without the HeadBucket grant fails with the component and
the statement named."""

from __future__ import annotations

import json
import time

import pytest

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke import feast_aws, feast_smoke
from mlops_tools.smoke.iam_aws import AwsIamServer, role_policy, service_account_role
from mlops_tools.smoke.procs import Processes

STACKS = feast_smoke.stacks("aws")
pytestmark = pytest.mark.skipif(not STACKS, reason="no AWS stack in SMOKE_STACKS")


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> str:
    """This cloud's stacks only (conftest groups a stack's tests on one worker)."""
    return request.param


@pytest.fixture(scope="module")
def feast(stack, plan_for):
    return feast_smoke.rendered(plan_for(stack))


def run_feast(feast, tmp_path, policy_document=None):
    server = AwsIamServer(region=str(feast.setting("online_store", "region")))
    with server, Processes(tmp_path / "logs") as procs:
        env, offline = feast_aws.prepare(server, feast, policy_document)
        repo = feast_smoke.write_repo(tmp_path / "repo", feast, offline, server.endpoint)
        server.enforce()
        try:
            result = feast_smoke.run(procs, feast, repo, env, offline)
        except SmokeFailure as failure:
            raise feast_aws.explain(server, feast, failure) from None
        tags = server.client("dynamodb", env).list_tags_of_resource(
            ResourceArn=f"arn:aws:dynamodb:{server.region}:123456789012:table/{feast.config['project']}.{feast.view}")
    return server, result, tags["Tags"]


def test_feast_apply_materialize_and_serve_as_the_feature_server_role(feast, tmp_path):
    started = time.monotonic()
    server, result, tags = run_feast(feast, tmp_path)
    assert server.refused() == []
    granted = json.loads(role_policy(feast.plan, service_account_role(feast.plan, feast_aws.SUBJECT)))
    used = {action for action, _ in server.calls("feast")}
    granted_actions = {action for statement in granted["Statement"] for action in
                       (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])}
    # Least privilege, the other way round: every S3/DynamoDB action the role holds was needed by Feast.
    # (KMS is not modelled by moto: the key statements are checked offline.)
    assert {a for a in granted_actions if not a.startswith("kms:")} == used
    # apply rewrote the table's tags with online_store.tags, which are the platform's own.
    assert {t["Key"]: t["Value"] for t in tags} == feast.setting("online_store", "tags")
    feast_smoke.record(feast, result, started)


def test_feature_server_role_is_refused_outside_its_prefixes_and_tables(feast):
    role = service_account_role(feast.plan, feast_aws.SUBJECT)
    with AwsIamServer(region=str(feast.setting("online_store", "region"))) as server:
        env, _ = feast_aws.prepare(server, feast)
        bucket = str(feast.setting("registry", "path")).split("/")[2]
        server.client("s3").create_bucket(Bucket="someone-elses-bucket")
        server.client("dynamodb").create_table(
            TableName="someone_else.table", KeySchema=[{"AttributeName": "entity_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "entity_id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        server.enforce()
        s3, dynamodb = server.client("s3", env), server.client("dynamodb", env)
        table = f"{feast.config['project']}.{feast.view}"
        attempts = {
            "write outside registry/ and offline/": lambda: s3.put_object(Bucket=bucket, Key="models/x", Body=b"x"),
            "write another registry object": lambda: s3.put_object(Bucket=bucket, Key="registry/other.db", Body=b"x"),
            "list another prefix": lambda: s3.list_objects_v2(Bucket=bucket, Prefix="models/"),
            "read another bucket": lambda: s3.list_objects_v2(Bucket="someone-elses-bucket"),
            "delete the registry": lambda: s3.delete_object(Bucket=bucket, Key="registry/registry.db"),
            "read another table": lambda: dynamodb.batch_get_item(
                RequestItems={"someone_else.table": {"Keys": [{"entity_id": {"S": "1"}}]}}),
            "create an undeclared table": lambda: dynamodb.create_table(
                TableName=f"{feast.config['project']}.undeclared", BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "entity_id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "entity_id", "AttributeType": "S"}]),
            "delete its own table": lambda: dynamodb.delete_table(TableName=table),
            "single-item write": lambda: dynamodb.put_item(TableName=table, Item={"entity_id": {"S": "1"}}),
        }
        allowed = []
        for what, attempt in attempts.items():
            try:
                attempt()
                allowed.append(what)
            except Exception as error:  # botocore ClientError: the refusal
                assert "AccessDenied" in str(error) or "403" in str(error), (what, error)
        assert allowed == [], f"role {role['name']} may {allowed}"


def test_a_policy_without_the_head_bucket_grant_fails_naming_component_and_statement(feast, tmp_path):
    """The pre-fix policy (prefix-conditioned ListBucket only): Feast's registry store cannot HeadBucket."""
    document = json.loads(role_policy(feast.plan, service_account_role(feast.plan, feast_aws.SUBJECT)))
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "FindBucket"]
    with pytest.raises(SmokeFailure) as failure:
        run_feast(feast, tmp_path, json.dumps(document))
    message = str(failure.value)
    assert f"{feast.plan.stack}: Feast" in message and "role features-feature-server" in message
    assert "s3:ListBucket" in message and "(no s3:prefix)" in message
