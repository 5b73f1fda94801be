"""Least privilege of the retraining steps' identity on Azure and GCP, both ways, where no emulator enforces
IAM: each call Argo's artifact driver and the Feast ``features`` step make is looked up in the roles the plan
grants the steps' identity (the clouds' published role definitions, mlops_tools/smoke/roles/, with scopes
and IAM conditions applied), and the calls the pipeline must not make are refused. (AWS: test_iam_aws.py,
decided on moto's server.)

The calls: Argo's driver writes a step's logs and outputs under ``argo/`` and reads them back for the next
step (GCS: it lists the key's prefix before downloading, and writing over an object needs delete); the
features step reads Feast's registry (GCS: ``get_bucket`` first) and the offline files."""

from __future__ import annotations

import pytest

from mlops_tools.smoke import feast_smoke
from mlops_tools.smoke.iam_roles import BLOB, Need, azure_missing, gcp_bindings, gcp_missing

STACKS = feast_smoke.stacks("gcp") + feast_smoke.stacks("azure")
pytestmark = pytest.mark.skipif(not STACKS, reason="no GCP or Azure stack in SMOKE_STACKS")
STEP_IDENTITY = "mlops:pipelines:StepIdentity"
LOG = "argo/pipelines/retraining-x/retraining-x-train-1/main.log"
FRAME = "argo/pipelines/retraining-x/retraining-x-features-1/training-frame.tgz"
MODEL = "mlflow/1/abc/artifacts/model/model.pkl"


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> str:
    return request.param


def _argo_values(plan) -> dict:
    [release] = [r for r in plan.resources("kubernetes:helm.sh/v3:Release") if r["inputs"]["chart"] == "argo-workflows"]
    return release["inputs"]["values"]


def _gcs(bucket: str, name: str | None = None) -> str:
    return f"projects/_/buckets/{bucket}" + (f"/objects/{name}" if name else "")


def gcp_needs(artifacts: str, features: str) -> tuple[list[Need], list[Need]]:
    needed = [Need("argo", "upload a log / output", "storage.objects.create", _gcs(artifacts, LOG)),
              Need("argo", "write over an output (retry)", "storage.objects.delete", _gcs(artifacts, FRAME)),
              Need("argo", "list the key's prefix before download", "storage.objects.list", _gcs(artifacts)),
              Need("argo", "download an input artifact", "storage.objects.get", _gcs(artifacts, FRAME)),
              Need("features", "get_bucket (Feast GCS registry)", "storage.buckets.get", _gcs(features)),
              Need("features", "download the registry", "storage.objects.get", _gcs(features, "registry/registry.db")),
              Need("features", "list the offline files", "storage.objects.list", _gcs(features)),
              Need("features", "read an offline file", "storage.objects.get", _gcs(features, "offline/churn/training.parquet"))]
    refused = [Need("x", "read the model registry's artifacts", "storage.objects.get", _gcs(artifacts, MODEL)),
               Need("x", "overwrite them", "storage.objects.create", _gcs(artifacts, MODEL)),
               Need("x", "delete them", "storage.objects.delete", _gcs(artifacts, MODEL)),
               Need("x", "write feature data", "storage.objects.create", _gcs(features, "offline/churn/training.parquet")),
               Need("x", "overwrite the Feast registry", "storage.objects.delete", _gcs(features, "registry/registry.db")),
               Need("x", "read outside the offline store", "storage.objects.get", _gcs(features, "exports/x.parquet")),
               Need("x", "change the bucket", "storage.buckets.update", _gcs(artifacts)),
               Need("x", "another bucket", "storage.objects.get", _gcs("other-team-bucket", "argo/x"))]
    return needed, refused


def test_gcp_step_service_account_holds_what_the_pipeline_needs_and_nothing_more(stack, plan_for):
    if not stack.startswith("gcp-"):
        pytest.skip("GCP stacks only")
    plan = plan_for(stack)
    values = _argo_values(plan)
    email = values["workflow"]["serviceAccount"]["annotations"]["iam.gke.io/gcp-service-account"]
    bindings = gcp_bindings(plan, f"serviceAccount:{email}")
    features = plan.data["outputs"]["featureRegistryPath"].split("/")[2]
    needed, refused = gcp_needs(values["artifactRepository"]["gcs"]["bucket"], features)
    assert gcp_missing(bindings, needed) == []
    assert len(gcp_missing(bindings, refused)) == len(refused), [b["role"] for b in bindings]


def test_azure_step_identity_holds_what_the_pipeline_needs_and_nothing_more(stack, plan_for):
    if not stack.startswith("azure-"):
        pytest.skip("Azure stacks only")
    plan = plan_for(stack)
    azure = _argo_values(plan)["artifactRepository"]["azure"]
    artifacts_account = azure["endpoint"].split("//")[1].split(".")[0]
    features_account = plan.data["outputs"]["featureRegistryPath"].split("//")[1].split(".")[0]

    def blob(account: str, container: str, action: str, why: str) -> Need:
        return Need("step", why, f"{BLOB}/{action}",
                    f"/storageAccounts/{account}/blobServices/default/containers/{container}/blobs/x")

    needed = [blob(artifacts_account, azure["container"], "write", "upload a log / output"),
              blob(artifacts_account, azure["container"], "read", "download an input artifact"),
              blob(features_account, "feast", "read", "Feast registry and offline files")]
    refused = [blob(artifacts_account, "mlflow", "read", "read the model registry's artifacts"),
               blob(artifacts_account, "mlflow", "write", "overwrite them"),
               blob(artifacts_account, "mlflow", "delete", "delete them"),
               blob(features_account, "feast", "write", "write feature data"),
               blob(features_account, "feast", "delete", "delete feature data"),
               blob("otherteamaccount", "argo", "read", "another account")]
    assert azure["container"] == "argo"
    assert azure_missing(plan, STEP_IDENTITY, needed) == []
    assert len(azure_missing(plan, STEP_IDENTITY, refused)) == len(refused)
