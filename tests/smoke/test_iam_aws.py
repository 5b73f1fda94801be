"""Least privilege on AWS, both ways: the plan's IAM policies for MLflow and training jobs, attached to roles
on moto's server with IAM enforced (decided as AWS decides, see mlops_tools/smoke/iam_aws.py), let the real
calls succeed and are refused outside their buckets and prefixes. (Feast: tests/smoke/test_feast_aws.py.)"""

from __future__ import annotations

import json

import pytest

from mlops_tools.smoke import feast_smoke
from mlops_tools.smoke.envs import venv
from mlops_tools.smoke.iam_aws import AwsIamServer, denied, role_policy, service_account_role
from mlops_tools.smoke.plan import REPO
from mlops_tools.smoke.procs import Processes

STACKS = feast_smoke.stacks("aws")
pytestmark = pytest.mark.skipif(not STACKS, reason="no AWS stack in SMOKE_STACKS")
CLIENT = REPO / "mlops_tools" / "smoke" / "clients" / "mlflow_artifacts_client.py"


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> str:
    """AWS stacks only (conftest groups a stack's tests on one worker)."""
    return request.param


@pytest.fixture(scope="module")
def aws_plan(stack, plan_for):
    return plan_for(stack)


def artifacts_destination(plan) -> str:
    argv = plan.workload("mlflow", "mlops").container("mlflow").argv
    return argv[argv.index("--artifacts-destination") + 1]


def features_bucket(plan) -> str:
    return plan.data["outputs"]["featureRegistryPath"].split("/")[2]


def test_mlflow_artifact_repository_works_as_the_tracking_role_and_nowhere_else(aws_plan, tmp_path):
    plan = aws_plan
    destination = artifacts_destination(plan)
    bucket, prefix = destination[len("s3://"):].split("/", 1)
    role = service_account_role(plan, "system:serviceaccount:mlops:mlflow")
    with AwsIamServer() as server, Processes(tmp_path) as procs:
        for name in (bucket, features_bucket(plan)):
            server.client("s3").create_bucket(Bucket=name)
        server.client("s3").put_object(Bucket=bucket, Key="other-team/data.csv", Body=b"x")
        env = server.environment(server.role_credentials("mlflow", role_policy(plan, role)))
        server.enforce()
        output = procs.run("mlflow-artifacts", [str(venv("mlflow") / "python"), str(CLIENT), destination],
                           {**env, "PATH": "/usr/bin:/bin", "MLFLOW_S3_ENDPOINT_URL": server.endpoint}, timeout=180)
        result = json.loads(output.strip().splitlines()[-1])
        assert result == {"listed": ["model/model.txt"], "content": "weights", "remaining": []}
        assert server.refused() == [], [d.describe() for d in server.refused()]
        assert {action for action, _ in server.calls("mlflow")} >= {"s3:PutObject", "s3:GetObject", "s3:ListBucket",
                                                                     "s3:DeleteObject"}
        s3 = server.client("s3", env)
        assert denied(lambda: s3.put_object(Bucket=bucket, Key="other-team/x", Body=b"x"))
        assert denied(lambda: s3.get_object(Bucket=bucket, Key="other-team/data.csv"))
        assert denied(lambda: s3.list_objects_v2(Bucket=bucket))
        assert denied(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="other-team/"))
        assert denied(lambda: s3.list_objects_v2(Bucket=features_bucket(plan), Prefix="registry/"))
        refused = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "other-team/data.csv"}]})
        assert [error["Code"] for error in refused.get("Errors", [])] == ["AccessDenied"]
        assert prefix and all(d.resource.startswith(f"arn:aws:s3:::{bucket}") for d in server.decisions if d.allowed)


def test_training_role_reads_the_feast_registry_and_offline_store_and_writes_nothing(aws_plan):
    plan = aws_plan
    """A training job's Feast client: the registry store's HeadBucket and registry download, offline reads."""
    bucket = features_bucket(plan)
    role = service_account_role(plan, "system:serviceaccount:training:trainer")
    with AwsIamServer() as server:
        admin = server.client("s3")
        admin.create_bucket(Bucket=bucket)
        admin.create_bucket(Bucket=artifacts_destination(plan)[len("s3://"):].split("/")[0])
        for key in ("registry/registry.db", "offline/driver_stats.parquet"):
            admin.put_object(Bucket=bucket, Key=key, Body=b"x")
        env = server.environment(server.role_credentials("trainer", role_policy(plan, role)))
        server.enforce()
        s3 = server.client("s3", env)
        s3.head_bucket(Bucket=bucket)  # Feast S3RegistryStore.get_registry_proto, first call
        assert s3.get_object(Bucket=bucket, Key="registry/registry.db")["Body"].read() == b"x"
        assert s3.list_objects_v2(Bucket=bucket, Prefix="offline/")["KeyCount"] == 1
        assert s3.get_object(Bucket=bucket, Key="offline/driver_stats.parquet")["Body"].read() == b"x"
        assert server.refused() == []
        assert denied(lambda: s3.put_object(Bucket=bucket, Key="registry/registry.db", Body=b"y"))
        assert denied(lambda: s3.put_object(Bucket=bucket, Key="offline/new.parquet", Body=b"y"))
        assert denied(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="models/"))
        assert denied(lambda: server.client("dynamodb", env).list_tables())
        artifacts = artifacts_destination(plan)[len("s3://"):].split("/")[0]
        assert denied(lambda: s3.list_objects_v2(Bucket=artifacts, Prefix="mlflow/"))


def test_pipeline_steps_read_features_write_argo_artifacts_and_nothing_else(aws_plan):
    """The retraining steps' role (pipelines/pipeline-steps) as Argo's S3 driver and the Feast features step
    use it: Feast's HeadBucket + registry read, offline reads, SSE-KMS uploads under argo/ with the artifacts
    key, reads and prefix listings there. Refused: MLflow's objects (the model registry's artifacts: read,
    write, delete), any delete, writes to the feature data, other prefixes and buckets."""
    plan = aws_plan
    features = features_bucket(plan)
    artifacts = artifacts_destination(plan)[len("s3://"):].split("/")[0]
    role = service_account_role(plan, "system:serviceaccount:pipelines:pipeline-steps")
    document = role_policy(plan, role)
    [release] = [r for r in plan.resources("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "argo-workflows"]
    repository = release["inputs"]["values"]["artifactRepository"]["s3"]
    assert repository["bucket"] == artifacts
    key = repository["encryptionOptions"]["kmsKeyId"]
    with AwsIamServer() as server:
        admin = server.client("s3")
        for name in (features, artifacts, "other-team-bucket"):
            admin.create_bucket(Bucket=name)
        for bucket, name in ((features, "registry/registry.db"), (features, "offline/churn/training.parquet"),
                             (artifacts, "mlflow/1/abc/artifacts/model/model.pkl"), ("other-team-bucket", "x")):
            admin.put_object(Bucket=bucket, Key=name, Body=b"x")
        env = server.environment(server.role_credentials("steps", document))
        server.enforce()
        s3 = server.client("s3", env)
        s3.head_bucket(Bucket=features)
        assert s3.get_object(Bucket=features, Key="registry/registry.db")["Body"].read() == b"x"
        assert s3.list_objects_v2(Bucket=features, Prefix="offline/churn/")["KeyCount"] == 1
        assert s3.get_object(Bucket=features, Key="offline/churn/training.parquet")["Body"].read() == b"x"
        log = "argo/pipelines/retraining-x/retraining-x-train-1/main.log"
        s3.put_object(Bucket=artifacts, Key=log, Body=b"log", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
        assert s3.get_object(Bucket=artifacts, Key=log)["Body"].read() == b"log"
        assert s3.list_objects_v2(Bucket=artifacts, Prefix="argo/pipelines/retraining-x/")["KeyCount"] == 1
        assert server.refused() == [], [d.describe() for d in server.refused()]
        model = "mlflow/1/abc/artifacts/model/model.pkl"
        assert denied(lambda: s3.get_object(Bucket=artifacts, Key=model))
        assert denied(lambda: s3.put_object(Bucket=artifacts, Key=model, Body=b"y"))
        assert denied(lambda: s3.delete_object(Bucket=artifacts, Key=model))
        refused = s3.delete_objects(Bucket=artifacts, Delete={"Objects": [{"Key": model}, {"Key": log}]})
        assert sorted(e["Code"] for e in refused.get("Errors", [])) == ["AccessDenied", "AccessDenied"]
        assert denied(lambda: s3.delete_object(Bucket=artifacts, Key=log))
        assert denied(lambda: s3.list_objects_v2(Bucket=artifacts))
        assert denied(lambda: s3.list_objects_v2(Bucket=artifacts, Prefix="mlflow/"))
        assert denied(lambda: s3.put_object(Bucket=features, Key="offline/churn/training.parquet", Body=b"y"))
        assert denied(lambda: s3.put_object(Bucket=features, Key="registry/registry.db", Body=b"y"))
        assert denied(lambda: s3.list_objects_v2(Bucket=features, Prefix="models/"))
        assert denied(lambda: s3.get_object(Bucket="other-team-bucket", Key="x"))
        assert denied(lambda: s3.put_object(Bucket="other-team-bucket", Key="argo/x", Body=b"y"))
        assert denied(lambda: server.client("dynamodb", env).list_tables())


def test_pipeline_steps_use_the_keys_only_through_s3(aws_plan):
    """moto's S3 does not call KMS as the caller, so the key statements are decided here by the same
    evaluator on the plan's document: SSE-KMS via S3 with the artifacts key (write and read), the features
    key for reads only, nothing direct and no other key."""
    from mlops_tools.smoke.iam_aws import is_allowed

    plan = aws_plan
    document = json.loads(role_policy(plan, service_account_role(plan, "system:serviceaccount:pipelines:pipeline-steps")))
    [release] = [r for r in plan.resources("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "argo-workflows"]
    artifacts_key = release["inputs"]["values"]["artifactRepository"]["s3"]["encryptionOptions"]["kmsKeyId"]
    region = artifacts_key.split(":")[3]
    [features_key] = {r["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
                      for r in plan.resources("aws:s3/bucketServerSideEncryptionConfiguration:")
                      if r["inputs"]["bucket"] == features_bucket(plan)}
    via_s3 = {"kms:ViaService": [f"s3.{region}.amazonaws.com"]}
    decide = lambda action, key, context: is_allowed([document], action, key, context)  # noqa: E731
    assert decide("kms:GenerateDataKey", artifacts_key, via_s3) and decide("kms:Decrypt", artifacts_key, via_s3)
    assert decide("kms:Decrypt", features_key, via_s3)
    assert not decide("kms:GenerateDataKey", features_key, via_s3)
    assert not decide("kms:Decrypt", artifacts_key, {})  # called directly, not through S3
    assert not decide("kms:Decrypt", artifacts_key, {"kms:ViaService": [f"dynamodb.{region}.amazonaws.com"]})
    assert not decide("kms:Decrypt", artifacts_key.rsplit("/", 1)[0] + "/another-key", via_s3)
    assert not decide("kms:ScheduleKeyDeletion", artifacts_key, via_s3)
