"""Registry: ECR repositories per image kind (immutable, scanned, KMS with the artifacts key, untagged
expiry), optional SageMaker model package group."""

import json

import pulumi
import pytest

from components.registry import IMAGE_KINDS, RegistryArgs
from components.registry.aws import AwsRegistryInputs, ModelRegistry, untagged_expiry_policy

from .foundation import NAME, foundation, preview


def program(protect: bool, sagemaker: bool):
    def run():
        built = foundation(network=False, cluster=False, protect=protect)
        registry = ModelRegistry("registry", RegistryArgs(name=NAME, untagged_image_expiry_days=10,
                                                          sagemaker_model_package_group=sagemaker, protect=protect,
                                                          tags={"environment": "test"}),
                                 AwsRegistryInputs(images_key_arn=built.keys.artifacts.arn), opts=built.opts)
        pulumi.export("modelUrl", registry.model_image_repository_url)
        pulumi.export("trainingUrl", registry.training_image_repository_url)
        pulumi.export("groupName", registry.model_package_group_name)
    return run


@pytest.fixture(scope="module")
def prod():
    return preview(program(protect=True, sagemaker=True))


@pytest.fixture(scope="module")
def dev():
    return preview(program(protect=False, sagemaker=False))


def repositories(result):
    return {r["inputs"]["name"]: r for r in result.by_type("aws:ecr/repository:Repository")}


def test_one_repository_per_image_kind_under_the_platform_prefix(prod):
    assert sorted(repositories(prod)) == sorted(f"{NAME}/{kind}" for kind in IMAGE_KINDS)
    assert prod.outputs["modelUrl"] == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{NAME}/model-serving"
    assert prod.outputs["trainingUrl"] == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{NAME}/training"


def test_repositories_are_immutable_scanned_and_encrypted_with_the_artifacts_key(prod):
    for repository in repositories(prod).values():
        inputs = repository["inputs"]
        assert inputs["imageTagMutability"] == "IMMUTABLE"
        assert inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        assert inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": prod.outputs["key:artifacts"]}]
        assert inputs["tags"]["component"] == "registry"


def test_untagged_images_expire_and_tagged_releases_are_kept(prod):
    policies = {p["inputs"]["repository"]: json.loads(p["inputs"]["policy"])
                for p in prod.by_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")}
    assert sorted(policies) == sorted(repositories(prod))
    for document in policies.values():
        [rule] = document["rules"]
        assert rule["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                     "countUnit": "days", "countNumber": 10}
        assert rule["action"] == {"type": "expire"}


def test_prod_repositories_are_protected_and_keep_their_images(prod, dev):
    for repository in repositories(prod).values():
        assert repository["protect"] is True and repository["inputs"]["forceDelete"] is False
    for repository in repositories(dev).values():
        assert repository["protect"] is False and repository["inputs"]["forceDelete"] is True


def test_sagemaker_model_package_group_only_when_asked(prod, dev):
    group = prod.one("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    assert group["inputs"]["modelPackageGroupName"] == f"{NAME}-models"
    assert prod.outputs["groupName"] == f"{NAME}-models"
    assert dev.by_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup") == []
    assert dev.outputs.get("groupName") is None


def test_children_hang_under_the_registry_component(prod):
    component = prod.one("mlops:registry:ModelRegistry")["urn"]
    kinds = {r["type"] for r in prod.children(component)}
    assert kinds == {"aws:ecr/repository:Repository", "aws:ecr/lifecyclePolicy:LifecyclePolicy",
                     "aws:sagemaker/modelPackageGroup:ModelPackageGroup"}


def test_policy_and_args_validation():
    assert json.loads(untagged_expiry_policy(3))["rules"][0]["selection"]["countNumber"] == 3
    with pytest.raises(ValueError, match="untagged_image_expiry_days"):
        RegistryArgs(name=NAME, untagged_image_expiry_days=0)
