"""Argo Workflows' install values: pinned, UI internal only, artifacts through workload identity, hardened."""

import pytest

from components.k8s._common import InvalidInput
from components.pipelines.argo import (ARGO_CHART_VERSION, ARGO_VERSION, ArtifactStore, argo_values,
                                       artifact_repository)

STORES = [ArtifactStore("s3", "acme-artifacts", region="eu-west-1"), ArtifactStore("gcs", "acme-artifacts"),
          ArtifactStore("azure", "argo", endpoint="https://acmeml.blob.core.windows.net")]


def _walk(value, path=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _walk(inner, f"{path}.{key}" if path else key)
    else:
        yield path, value


def test_versions_are_pinned():
    assert ARGO_CHART_VERSION == "1.0.18" and ARGO_VERSION == "v4.0.6"
    values = argo_values(STORES[0], {})
    assert values["images"]["tag"] == ARGO_VERSION


def test_ui_is_internal_only():
    server = argo_values(STORES[1], {})["server"]
    assert server["serviceType"] == "ClusterIP" and server["ingress"] == {"enabled": False}
    assert server["authModes"] == ["client"] and server["secure"] is True


@pytest.mark.parametrize("store", STORES, ids=lambda s: s.kind)
def test_artifacts_use_workload_identity_never_keys(store):
    values = argo_values(store, {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/steps"})
    assert values["useStaticCredentials"] is False
    paths = dict(_walk(values["artifactRepository"]))
    assert not [p for p in paths if "Secret" in p or "secret" in p.lower()], paths
    if store.kind in ("s3", "azure"):
        assert paths[f"{store.kind}.useSDKCreds"] is True
    assert values["workflow"]["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/steps"}


def test_every_argo_container_is_hardened_with_limits():
    values = argo_values(STORES[0], {})
    for part in ("controller", "server", "mainContainer", "executor"):
        context = values[part]["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["runAsNonRoot"] is True, part
        assert context["readOnlyRootFilesystem"] is True and context["capabilities"] == {"drop": ["ALL"]}, part
        assert set(values[part]["resources"]["limits"]) == {"cpu", "memory"}, part


def test_no_crd_download_job():
    assert argo_values(STORES[1], {})["crds"]["full"] is False


@pytest.mark.parametrize("store, words", [
    (ArtifactStore("s3", "b"), ["region", "s3"]),
    (ArtifactStore("azure", "c", endpoint="http://acme.blob.core.windows.net"), ["endpoint", "https://"]),
    (ArtifactStore("minio", "b"), ["kind", "'minio'"]),
])
def test_bad_store_is_refused(store, words):
    with pytest.raises(InvalidInput) as error:
        artifact_repository(store)
    assert all(w in str(error.value) for w in words)


def test_argo_key_templates_survive_the_charts_tpl():
    """The chart runs gcs/azure values through Helm's tpl (s3's keyFormat it only quotes)."""
    argo = "argo/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}"
    assert artifact_repository(STORES[0])["s3"]["keyFormat"] == argo
    assert artifact_repository(STORES[1])["gcs"]["keyFormat"] == '{{ "' + argo + '" }}'
    assert artifact_repository(STORES[2])["azure"]["blobNameFormat"] == '{{ "' + argo + '" }}'


def test_s3_uploads_name_the_buckets_kms_key_or_send_no_encryption_header():
    """Argo's enableEncryption without kmsKeyId sends SSE-S3 (AES256), which the platform bucket policy's
    DenyNonKmsEncryption refuses: with the key, SSE-KMS with it; without, no header (bucket default applies)."""
    key = "arn:aws:kms:eu-west-1:123456789012:key/k"
    with_key = artifact_repository(ArtifactStore("s3", "b", region="eu-west-1", kms_key_id=key))["s3"]
    assert with_key["encryptionOptions"] == {"enableEncryption": True, "kmsKeyId": key}
    assert "encryptionOptions" not in artifact_repository(ArtifactStore("s3", "b", region="eu-west-1"))["s3"]
