"""Feast on AWS: S3 registry and offline store and DynamoDB online tables on moto's server with IAM enforced,
Feast running as the plan's feature-server role (its inline policy exactly as rendered).

The bucket and the online tables are created as the plan declares them (the platform creates them, not
Feast); then authorisation is switched on and every Feast call is decided against the role's policy.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.feast_smoke import FEAST_NAME, FEAST_NAMESPACE, RenderedFeast, require
from mlops_tools.smoke.iam_aws import AwsIamServer, role_policy, service_account_role

SUBJECT = f"system:serviceaccount:{FEAST_NAMESPACE}:{FEAST_NAME}"


def create_declared_tables(server: AwsIamServer, plan: Any) -> list[str]:
    """Every DynamoDB table of the plan, with its rendered name, key and billing mode."""
    dynamodb = server.client("dynamodb")
    names = []
    for table in plan.resources("aws:dynamodb/table:Table"):
        inputs = table["inputs"]
        dynamodb.create_table(
            TableName=inputs["name"], KeySchema=[{"AttributeName": inputs["hashKey"], "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": a["name"], "AttributeType": a["type"]} for a in inputs["attributes"]],
            BillingMode=inputs.get("billingMode", "PAY_PER_REQUEST"),
            Tags=[{"Key": key, "Value": value} for key, value in sorted((inputs.get("tags") or {}).items())])
        names.append(inputs["name"])
    return names


def prepare(server: AwsIamServer, feast: RenderedFeast, policy_document: str | None = None) -> tuple[dict[str, str], str]:
    """Bucket, tables and the Feast role's session; returns (the server process environment, offline data URI).
    ``policy_document`` replaces the plan's policy (a deliberately broken one, for the negative proof)."""
    registry = require(feast, ("s3://",), "dynamodb", "AWS")
    bucket = urlparse(registry).netloc
    server.client("s3").create_bucket(Bucket=bucket)
    create_declared_tables(server, feast.plan)
    role = service_account_role(feast.plan, SUBJECT)
    credentials = server.role_credentials("feast", policy_document or role_policy(feast.plan, role))
    offline_root = str(feast.plan.data["outputs"].get("featureOfflineStorePath", f"s3://{bucket}/offline"))
    env = feast.workload.env(feast.workload.container(FEAST_NAME), {})
    env.update(server.environment(credentials))
    env["AWS_REGION"] = env.get("AWS_REGION", server.region)
    env["PATH"] = "/usr/bin:/bin"
    return env, f"{offline_root}/smoke_source.parquet"


def explain(server: AwsIamServer, feast: RenderedFeast, failure: SmokeFailure) -> SmokeFailure:
    """A failed Feast step, said in terms of the setting that caused it when IAM refused a call."""
    refused = server.refused("feast")
    if not refused:
        return failure
    role = service_account_role(feast.plan, SUBJECT)["name"]
    calls = sorted({decision.describe() for decision in refused})
    first_line = str(failure).splitlines()[0]
    return SmokeFailure(f"{feast.component} as IAM role {role}: its policy refused {'; '.join(calls)}; "
                        f"Feast needs these calls ({first_line})")
