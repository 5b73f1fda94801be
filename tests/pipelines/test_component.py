"""RetrainingPipeline under the mock engine: namespace, policies, pinned release, custom resources after it."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s"))
from k8s_helpers import named, preview_components  # noqa: E402

from components.pipelines.argo import ArtifactStore  # noqa: E402
from components.pipelines.component import RetrainingPipeline, RetrainingPipelineArgs  # noqa: E402
from test_retraining_workflows import ARGS  # noqa: E402

ROLE = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/mlops-dev-pipeline-steps"}


# By digest, as the kubernetes pack's (advisory) image-digest rule asks; mlops:pipelines.image takes either.
DIGEST_IMAGE = "ghcr.io/acme/mlops-pipelines@sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def result():
    import dataclasses

    args = RetrainingPipelineArgs(dataclasses.replace(ARGS, image=DIGEST_IMAGE), ArtifactStore("s3", "mlops-dev-artifacts", region="eu-west-1"), ROLE)
    return preview_components(lambda opts: RetrainingPipeline("pipelines", args, opts=opts))


def test_component_type_and_namespace(result):
    assert result.by_type("mlops:pipelines:RetrainingPipeline")
    labels = named(result, "kubernetes:core/v1:Namespace", "pipelines")["inputs"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_default_deny_and_exact_policies(result):
    names = sorted(r["inputs"]["metadata"]["name"] for r in result.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy"))
    assert names == ["allow-dns", "argo-server", "default-deny", "retraining-steps", "workflow-controller"]


def test_release_is_pinned_and_custom_resources_wait_for_it(result):
    [release] = result.by_type("kubernetes:helm.sh/v3:Release")
    assert release["inputs"]["version"] == "1.0.18" and release["inputs"]["chart"] == "argo-workflows"
    assert release["inputs"]["values"]["workflow"]["serviceAccount"]["annotations"] == ROLE
    for kind in ("WorkflowTemplate", "CronWorkflow"):
        [resource] = result.by_type(f"kubernetes:argoproj.io/v1alpha1:{kind}")
        assert release["urn"] in resource["dependencies"], kind


def test_kubernetes_pack_finds_no_violation(result):
    """Includes policies-v2's rules on pod templates inside Argo custom resources."""
    from mlops_tools.policy.runner import run_policy_packs

    root = Path(__file__).resolve().parents[2]
    _, violations = run_policy_packs(result.resources, [root / "policies" / "kubernetes"])
    assert violations == []


def test_namespace_has_quota_limits_and_the_steps_mlflow_secret(result):
    quota = named(result, "kubernetes:core/v1:ResourceQuota", "platform-quota", "pipelines")["inputs"]
    assert quota["spec"]["hard"]["pods"] == "20"
    limits = named(result, "kubernetes:core/v1:LimitRange", "container-defaults", "pipelines")["inputs"]["spec"]["limits"][0]
    assert limits["max"] == {"cpu": "4", "memory": "8Gi"}  # a step's 2 CPU / 4Gi limit fits
    secret = named(result, "kubernetes:core/v1:Secret", "mlflow-pipelines", "pipelines")["inputs"]
    assert secret["stringData"]["username"] == "svc-pipelines" and secret["stringData"]["password"]
