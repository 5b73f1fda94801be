"""AWS registry: ECR repositories (immutable, scanned, KMS) and an optional SageMaker model package group."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.registry import IMAGE_KINDS, MODEL_SERVING, TRAINING, RegistryArgs


def untagged_expiry_policy(days: int) -> str:
    """ECR lifecycle policy: untagged images (superseded or failed pushes) expire after `days`.

    Tagged images are never expired here: with immutable tags, a tag is a release someone may
    still be serving or need to roll back to.
    """
    return json.dumps({"rules": [{
        "rulePriority": 1,
        "description": f"expire untagged images {days} days after push",
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": days},
        "action": {"type": "expire"},
    }]}, sort_keys=True)


@dataclass(frozen=True)
class AwsRegistryInputs:
    """AWS-only inputs: the key images are encrypted with (the artifacts domain key)."""

    images_key_arn: pulumi.Input[str]


class ModelRegistry(pulumi.ComponentResource):
    """ECR repositories per image kind (+ SageMaker model package group when asked for)."""

    def __init__(self, name: str, args: RegistryArgs, aws_inputs: AwsRegistryInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:registry:ModelRegistry", name, None, opts)
        tags = {**args.tags, "component": "registry"}
        self.args = args
        self.repositories: dict[str, aws.ecr.Repository] = {}
        policy = untagged_expiry_policy(args.untagged_image_expiry_days)
        for kind in IMAGE_KINDS:
            repository = aws.ecr.Repository(
                f"{name}-{kind}",
                name=args.repository_name(kind),
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[{"encryption_type": "KMS", "kms_key": aws_inputs.images_key_arn}],
                force_delete=not args.protect,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
            aws.ecr.LifecyclePolicy(f"{name}-{kind}", repository=repository.name, policy=policy,
                                    opts=pulumi.ResourceOptions(parent=self))
            self.repositories[kind] = repository

        self.repository_prefix = args.repository_prefix
        self.repository_urls = {kind: repo.repository_url for kind, repo in self.repositories.items()}
        self.repository_arns = {kind: repo.arn for kind, repo in self.repositories.items()}
        self.model_image_repository_url = self.repository_urls[MODEL_SERVING]
        self.training_image_repository_url = self.repository_urls[TRAINING]

        self.model_package_group = None
        self.model_package_group_name = None
        if args.sagemaker_model_package_group:
            self.model_package_group = aws.sagemaker.ModelPackageGroup(
                f"{name}-models", model_package_group_name=f"{args.name}-models",
                model_package_group_description=f"{args.name}: model versions for SageMaker deployments",
                tags=tags, opts=pulumi.ResourceOptions(parent=self))
            self.model_package_group_name = self.model_package_group.model_package_group_name

        self.register_outputs({
            "repositoryUrls": self.repository_urls, "repositoryPrefix": self.repository_prefix,
            "modelPackageGroupName": self.model_package_group_name,
        })
