"""Model registry: MLflow's model registry plus the container registry model images ship through.

The MLflow model registry lives in the tracking database (same server, same backend store), so
this capability builds no second database. What it builds is where images go: one repository per
image kind, immutable tags (a deployed tag always means the same bytes), vulnerability scanning on
push, encryption with a customer-managed key, and expiry of untagged images. Optionally a
SageMaker model package group for teams that deploy on SageMaker.

Contract (every cloud's implementation exposes these outputs as attributes):

- ``repository_urls[kind]``: push/pull URL per image kind in ``IMAGE_KINDS``;
  ``model_image_repository_url`` and ``training_image_repository_url`` for the two fixed kinds.
- ``repository_prefix``: the namespace every repository lives under (``<name>/``), which DR
  replication and repository-creation rules match on.
- ``model_package_group_name``: the SageMaker group's name, or None when not requested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

MODEL_SERVING = "model-serving"
TRAINING = "training"
IMAGE_KINDS: tuple[str, ...] = (MODEL_SERVING, TRAINING)


@dataclass(frozen=True)
class RegistryArgs:
    """What every cloud needs for the image registry."""

    name: str  # resource-name prefix and repository namespace, e.g. "mlops-dev"
    untagged_image_expiry_days: int = 14
    sagemaker_model_package_group: bool = False
    protect: bool = False  # prod: repositories are never deleted with their images
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.untagged_image_expiry_days < 1:
            raise ValueError("untagged_image_expiry_days must be >= 1")

    @property
    def repository_prefix(self) -> str:
        return self.name

    def repository_name(self, kind: str) -> str:
        return f"{self.repository_prefix}/{kind}"

    @classmethod
    def from_config(cls, cfg, name: str, tags: Mapping[str, str]) -> "RegistryArgs":
        return cls(name=name, untagged_image_expiry_days=cfg.registry.untagged_image_expiry_days,
                   sagemaker_model_package_group=cfg.registry.sagemaker_model_package_group,
                   protect=cfg.deletion_protection, tags=dict(tags))
