"""The serving request log's identity, least privilege both ways, with each stack's plan rendered with serving
on. AWS: the real sink (the step package, the MLflow venv) writes its part as the plan's IRSA role on moto's
server with IAM enforced (mlops_tools/smoke/iam_aws.py), and the same credentials are refused reading,
listing, deleting and writing outside the prefix. Azure/GCP (no emulator enforces IAM): the calls the sink
makes (one create per part, never an overwrite: ``if_generation_match=0`` / ``overwrite=False``) looked up in
the plan's grants with the published role definitions and the conditions applied, and the calls it must not
make refused."""

from __future__ import annotations

import json
import urllib.request

import pytest

from mlops_tools.smoke.envs import venv
from mlops_tools.smoke.iam_aws import AwsIamServer, denied, role_policy, service_account_role
from mlops_tools.smoke.iam_roles import BLOB, Need, azure_missing, gcp_bindings, gcp_missing
from mlops_tools.smoke.procs import Processes
from mlops_tools.smoke.request_log import REQUEST_TYPE, RESPONSE_TYPE, logger_headers, rendered_output, start_sink
from mlops_tools.smoke.serving import render_serving_plan

from conftest import LOGS

SINK = "system:serviceaccount:serving:request-log"
STORAGE = {"aws": "s3://artifacts-x/mlflow/1/m/artifacts", "azure": "https://acct.blob.core.windows.net/mlflow/1/m",
           "gcp": "gs://artifacts-x/mlflow/1/m/artifacts"}
REQUEST = {"parameters": {"content_type": "pd"}, "inputs": [
    {"name": "age", "shape": [2], "datatype": "FP64", "data": [70.0, 20.0]},
    {"name": "spend", "shape": [2], "datatype": "FP64", "data": [400.0, 10.0]},
    {"name": "visits", "shape": [2], "datatype": "INT64", "data": [12, 0]}]}
RESPONSE = {"model_name": "churn", "outputs": [{"name": "output-1", "shape": [2, 1], "datatype": "INT64", "data": [1, 0]}]}


@pytest.fixture(scope="module")
def served_plan(stack, tmp_path_factory):
    """The stack's plan with serving on (its pipelines and drift job as shipped)."""
    serving = {"enabled": True, "runtimeImage": "registry.example.com/mlserver:1.7.1", "serviceName": "churn",
               "modelName": "churn", "storageUri": STORAGE[stack.split("-")[0] if "-" in stack else "aws"]}
    return render_serving_plan(stack, serving, tmp_path_factory.mktemp("request-log-plan"))


def _post(url: str, kind: str, body: dict, request_id: str) -> int:
    request = urllib.request.Request(f"{url}/", data=json.dumps(body).encode(), method="POST",
                                     headers=logger_headers(kind, request_id, "churn"))
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def test_aws_sink_writes_its_parts_as_its_role_and_nothing_else(served_plan, report, tmp_path):
    if not served_plan.data["cloud"] == "aws":
        pytest.skip("AWS stacks (Azure/GCP: the role-definition checks below)")
    output = rendered_output(served_plan)
    bucket, _, prefix = output[len("s3://"):].partition("/")
    with AwsIamServer() as server, Processes(LOGS / served_plan.stack / "request-log-iam") as procs:
        server.client("s3").create_bucket(Bucket=bucket)
        server.client("s3").put_object(Bucket=bucket, Key="registry/registry.db", Body=b"x")
        creds = server.role_credentials("request-log", role_policy(served_plan, service_account_role(served_plan, SINK)))
        server.enforce()
        proc, url = start_sink(procs, served_plan, venv("mlflow") / "python",
                               {**server.environment(creds), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        for i in range(3):
            assert _post(url, RESPONSE_TYPE, RESPONSE, f"r{i}") == 200  # a response may come first
            assert _post(url, REQUEST_TYPE, REQUEST, f"r{i}") == 200
        procs.stop(proc, grace=30)  # SIGTERM: the held rows become one part
        assert proc.popen.returncode == 0, proc.failure("exit status")
        assert server.refused() == [], [d.describe() for d in server.refused()]
        calls = server.calls("request-log")
        assert {a for a, _ in calls} == {"s3:PutObject"} and len(calls) == 1, calls
        [(_, resource)] = calls
        assert resource.startswith(f"arn:aws:s3:::{bucket}/{prefix}part-") and resource.endswith(".parquet")
        s3 = server.client("s3", creds)
        key = resource.split(":::", 1)[1].split("/", 1)[1]
        refused = {"read its own part": lambda: s3.get_object(Bucket=bucket, Key=key),
                   "list the prefix": lambda: s3.list_objects_v2(Bucket=bucket, Prefix=prefix),
                   "delete its part": lambda: s3.delete_object(Bucket=bucket, Key=key),
                   "write outside the prefix": lambda: s3.put_object(Bucket=bucket, Key="offline/other/x", Body=b"x"),
                   "overwrite the registry": lambda: s3.put_object(Bucket=bucket, Key="registry/registry.db", Body=b"y"),
                   "read the registry": lambda: s3.get_object(Bucket=bucket, Key="registry/registry.db")}
        assert {what: denied(call) for what, call in refused.items()} == {what: True for what in refused}
    report(f"request log (AWS, moto IAM enforced): 6 events -> 1 part written by SIGTERM as the sink's role "
           f"(s3:PutObject under {prefix} only); refused: " + ", ".join(refused))


def test_azure_and_gcp_sink_identity_creates_parts_under_the_prefix_and_nothing_more(served_plan):
    cloud = served_plan.data["cloud"]
    if cloud == "aws":
        pytest.skip("AWS: decided on moto above")
    output = rendered_output(served_plan)
    if cloud == "gcp":
        bucket, _, prefix = output[len("gs://"):].partition("/")
        [account] = [a for a in served_plan.k8s_objects("ServiceAccount") if a["metadata"]["name"] == "request-log"]
        email = account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"]
        objects = f"projects/_/buckets/{bucket}/objects/"

        def need(permission, name, why):
            return Need("sink", why, permission, f"projects/_/buckets/{bucket}" + (f"/objects/{name}" if name else ""))
        needed = [need("storage.objects.create", f"{prefix}part-20261205T112031000000Z-0a1b2c3d.parquet", "upload a part")]
        refused = [need("storage.objects.get", f"{prefix}part-1.parquet", "read a part"),
                   need("storage.objects.delete", f"{prefix}part-1.parquet", "overwrite or delete a part"),
                   need("storage.objects.list", None, "list the bucket"),
                   need("storage.objects.create", "offline/churn/training.parquet", "write feature data"),
                   need("storage.objects.create", "registry/registry.db", "write the Feast registry"),
                   need("storage.buckets.get", None, "read the bucket")]
        bindings = gcp_bindings(served_plan, f"serviceAccount:{email}")
        assert gcp_missing(bindings, needed) == [] and objects
        assert len(gcp_missing(bindings, refused)) == len(refused), bindings
        return
    container, _, host = output[len("abfs://"):].partition("@")
    account, path = host.split(".", 1)[0], host.split("/", 1)[1]

    def blob(action: str, name: str | None, why: str) -> Need:
        scope = f"/storageAccounts/{account}/blobServices/default/containers/{container}"
        return Need("sink", why, f"{BLOB}/{action}", scope + (f"/blobs/{name}" if name else ""))
    needed = [blob("write", f"{path}part-1.parquet", "Put Blob (upload_blob, overwrite=False)")]
    refused = [blob("write", "offline/churn/training.parquet", "write feature data"),
               blob("write", "registry/registry.db", "write the Feast registry"),
               blob("read", "registry/registry.db", "read the registry"),
               blob("delete", "offline/churn/training.parquet", "delete feature data"),
               blob("move/action", "offline/churn/training.parquet", "rename feature data"),
               Need("sink", "another container", f"{BLOB}/write",
                    f"/storageAccounts/{account}/blobServices/default/containers/mlflow/blobs/{path}x")]
    assert azure_missing(served_plan, "name:request-log-writes", needed) == []
    assert len(azure_missing(served_plan, "name:request-log-writes", refused)) == len(refused)
