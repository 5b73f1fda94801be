"""Registry on GCP: Artifact Registry Docker repositories per image kind, immutable, CMEK, untagged cleanup,
readable by the cluster's nodes and nobody else."""

import pytest

from components.registry.gcp import cleanup_policies

from .data_platform import NAME, PROJECT, dev, inputs, prod

REPOSITORY = "gcp:artifactregistry/repository:Repository"
PULL = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
KINDS = ("model-serving", "training")


def test_one_immutable_docker_repository_per_image_kind_in_the_region(dev):
    for kind in KINDS:
        repository = inputs(dev, REPOSITORY, f"registry-{kind}")
        assert repository["repositoryId"] == f"{NAME}-{kind}"
        assert (repository["format"], repository["location"]) == ("DOCKER", "europe-west1")
        assert repository["dockerConfig"] == {"immutableTags": True}
    assert dev.outputs["repositoryUrls"] == {
        kind: f"europe-west1-docker.pkg.dev/{PROJECT}/{NAME}-{kind}" for kind in KINDS}


def test_repositories_are_encrypted_with_the_artifacts_key(prod):
    for kind in KINDS:
        assert inputs(prod, REPOSITORY, f"registry-{kind}")["kmsKeyName"] == prod.outputs["key:artifacts"]


def test_untagged_images_are_deleted_after_the_expiry_and_tagged_ones_kept(dev):
    for kind in KINDS:
        repository = inputs(dev, REPOSITORY, f"registry-{kind}")
        assert repository["cleanupPolicyDryRun"] is False
        [policy] = repository["cleanupPolicies"]
        assert policy["action"] == "DELETE"
        assert policy["condition"] == {"tagState": "UNTAGGED", "olderThan": f"{14 * 86400}s"}
    assert cleanup_policies(3)[0]["condition"]["older_than"] == "259200s"


def test_scanning_follows_the_project_container_scanning_switch(dev):
    assert inputs(dev, REPOSITORY, "registry-training")["vulnerabilityScanningConfig"] == {"enablementConfig": "INHERITED"}


def test_nodes_may_only_pull_from_these_repositories(dev):
    grants = dev.by_type(PULL)
    assert sorted(g["inputs"]["repository"] for g in grants) == sorted(f"{NAME}-{kind}" for kind in KINDS)
    for grant in grants:
        assert grant["inputs"]["role"] == "roles/artifactregistry.reader"
        assert grant["inputs"]["member"] == f"serviceAccount:{dev.outputs['nodeSa']}"


def test_repositories_are_protected_in_prod_only(prod, dev):
    assert all(prod.one(REPOSITORY, f"registry-{kind}")["protect"] for kind in KINDS)
    assert not any(dev.one(REPOSITORY, f"registry-{kind}")["protect"] for kind in KINDS)
