"""GCP registry: Artifact Registry Docker repositories (immutable tags, CMEK, untagged-image cleanup).

- One repository per image kind (``<name>-model-serving``, ``<name>-training``) in the platform's
  region; the image URL is ``<region>-docker.pkg.dev/<project>/<repository>``.
- Immutable tags: a deployed tag always means the same bytes.
- Encrypted with the artifacts domain key (the Artifact Registry service agent holds the grant;
  the key can only be chosen at creation).
- Cleanup: untagged versions (superseded pushes, failed builds) are deleted once older than
  ``untagged_image_expiry_days``; tagged images are releases and are kept.
- Vulnerability scanning: Artifact Analysis scans every pushed image automatically while the
  Container Scanning API (``containerscanning.googleapis.com``) is enabled in the project; the
  repositories say ``INHERITED`` so they follow that switch (enabling the API is a project
  decision with a per-image cost, made once by whoever owns the project, not per stack).
- The cluster's node service account gets ``roles/artifactregistry.reader`` on these two
  repositories only (nodes pull images; nothing in the cluster pushes).
- ``sagemaker_model_package_group`` has no GCP counterpart (the MLflow registry is the model
  registry); it is ignored and ``model_package_group_name`` stays None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_gcp as gcp

from components.registry import IMAGE_KINDS, MODEL_SERVING, TRAINING, RegistryArgs
from components.storage.gcp import gcp_labels

SECONDS_PER_DAY = 24 * 3600


def repository_id(args: RegistryArgs, kind: str) -> str:
    """Artifact Registry ids are flat (no ``/``): ``<name>-<kind>``."""
    return f"{args.repository_prefix}-{kind}"


def docker_url(region: str, project: pulumi.Input[str], repository: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.format("{0}-docker.pkg.dev/{1}/{2}", region, project, repository)


def cleanup_policies(untagged_days: int) -> list[dict]:
    """Delete untagged versions older than `untagged_days`; tagged images are never cleaned up."""
    return [{"id": "delete-untagged", "action": "DELETE",
             "condition": {"tag_state": "UNTAGGED", "older_than": f"{untagged_days * SECONDS_PER_DAY}s"}}]


@dataclass(frozen=True)
class GcpRegistryInputs:
    """GCP-only inputs: where the repositories live, their key, and who pulls."""

    project: pulumi.Input[str]
    region: str
    images_key_id: pulumi.Input[str]  # the artifacts domain key
    node_service_account: Optional[pulumi.Input[str]] = None  # email of the nodes' service account
    key_grants: Sequence[pulumi.Resource] = ()  # the Artifact Registry agent's grant on the key


class ModelRegistry(pulumi.ComponentResource):
    """Artifact Registry repositories per image kind (see components.registry)."""

    def __init__(self, name: str, args: RegistryArgs, gcp_inputs: GcpRegistryInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:registry:ModelRegistry", name, None, opts)
        self.args = args
        labels = gcp_labels({**args.tags, "component": "registry"})
        self.repositories: dict[str, gcp.artifactregistry.Repository] = {}
        for kind in IMAGE_KINDS:
            repository = gcp.artifactregistry.Repository(
                f"{name}-{kind}",
                repository_id=repository_id(args, kind),
                project=gcp_inputs.project,
                location=gcp_inputs.region,
                format="DOCKER",
                mode="STANDARD_REPOSITORY",
                description=f"{args.name}: {kind} images (immutable tags)",
                docker_config={"immutable_tags": True},
                kms_key_name=gcp_inputs.images_key_id,
                cleanup_policies=cleanup_policies(args.untagged_image_expiry_days),
                cleanup_policy_dry_run=False,
                vulnerability_scanning_config={"enablement_config": "INHERITED"},
                labels=labels,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=list(gcp_inputs.key_grants)))
            if gcp_inputs.node_service_account is not None:
                gcp.artifactregistry.RepositoryIamMember(
                    f"{name}-{kind}-node-pull", project=gcp_inputs.project, location=gcp_inputs.region,
                    repository=repository.repository_id, role="roles/artifactregistry.reader",
                    member=pulumi.Output.concat("serviceAccount:", gcp_inputs.node_service_account),
                    opts=pulumi.ResourceOptions(parent=self))
            self.repositories[kind] = repository

        self.region = gcp_inputs.region
        self.repository_prefix = args.repository_prefix
        self.repository_urls = {kind: docker_url(gcp_inputs.region, repo.project, repo.repository_id)
                                for kind, repo in self.repositories.items()}
        self.repository_arns = {kind: repo.id for kind, repo in self.repositories.items()}
        self.model_image_repository_url = self.repository_urls[MODEL_SERVING]
        self.training_image_repository_url = self.repository_urls[TRAINING]
        self.model_package_group = None
        self.model_package_group_name = None
        self.register_outputs({"repositoryUrls": self.repository_urls, "repositoryPrefix": self.repository_prefix})
