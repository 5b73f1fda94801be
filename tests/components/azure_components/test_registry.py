"""Registry on Azure: Premium ACR, CMK through its identity, private, retention, AcrPull for the kubelet only."""

import pulumi
import pytest

from components.registry import RegistryArgs
from components.registry.azure import ACR_PULL, AzureRegistryInputs, ModelRegistry

from .service_inputs import NAME, PRIMARY, component_grants, key_grant_urn, preview, role_guid, services

KUBELET = "22222222-2222-4222-8222-222222222222"


def program(prod: bool):
    def run():
        built = services()
        registry = ModelRegistry("registry", RegistryArgs(name=NAME, untagged_image_expiry_days=10, protect=prod,
                                                          tags={"environment": "test"}),
                                 AzureRegistryInputs(resource_group_name=built.resource_group.name, location=PRIMARY,
                                                     registry_key=built.keys["registry"],
                                                     private_endpoints=built.registry_endpoints,
                                                     kubelet_principal_id=KUBELET, zone_redundant=prod,
                                                     defender_for_containers=prod))  # dev: the opt-out
        pulumi.export("modelUrl", registry.model_image_repository_url)
        pulumi.export("trainingUrl", registry.training_image_repository_url)
        pulumi.export("registryId", registry.registry_id)
        pulumi.export("loginServer", registry.login_server)
    return run


@pytest.fixture(scope="module")
def prod():
    return preview(program(prod=True))


@pytest.fixture(scope="module")
def dev():
    return preview(program(prod=False))


def registry(result):
    (only,) = result.by_type("azure-native:containerregistry:Registry")
    return only


def test_premium_registry_encrypted_with_the_registry_key_through_its_identity(dev):
    inputs = registry(dev)["inputs"]
    assert inputs["sku"] == {"name": "Premium"}
    assert inputs["encryption"]["status"] == "enabled"
    assert inputs["encryption"]["keyVaultProperties"]["keyIdentifier"] == dev.outputs["keyUri:registry"]
    assert inputs["identity"] == {"type": "UserAssigned",
                                  "userAssignedIdentities": {dev.outputs["identity:registry"]: {}}}


def test_registry_is_private_without_admin_or_anonymous_access(dev):
    inputs = registry(dev)["inputs"]
    assert (inputs["adminUserEnabled"], inputs["anonymousPullEnabled"], inputs["publicNetworkAccess"]) == \
        (False, False, "Disabled")
    (endpoint,) = dev.by_type("azure-native:network:PrivateEndpoint")
    assert endpoint["inputs"]["privateLinkServiceConnections"][0]["groupIds"] == ["registry"]
    (dns,) = dev.by_type("azure-native:network:PrivateDnsZoneGroup")
    assert dns["inputs"]["privateDnsZoneConfigs"][0]["privateDnsZoneId"].endswith("/privatelink.azurecr.io")


def test_untagged_manifests_expire_after_the_configured_days(dev):
    assert registry(dev)["inputs"]["policies"]["retentionPolicy"] == {"status": "enabled", "days": 10}


def test_zone_redundant_and_protected_in_prod_only(dev, prod):
    assert registry(dev)["inputs"]["zoneRedundancy"] == "Disabled" and not registry(dev)["protect"]
    assert registry(prod)["inputs"]["zoneRedundancy"] == "Enabled" and registry(prod)["protect"]


def test_kubelet_identity_can_only_pull_from_this_registry(dev):
    (assignment,) = component_grants(dev)
    assert role_guid(assignment) == ACR_PULL
    assert assignment["inputs"]["scope"] == dev.outputs["registryId"]
    assert assignment["inputs"]["principalId"] == KUBELET


def test_repository_urls_are_namespaced_under_the_platform(dev):
    login = dev.outputs["loginServer"]
    assert login.endswith(".azurecr.io")
    assert dev.outputs["modelUrl"] == f"{login}/{NAME}/model-serving"
    assert dev.outputs["trainingUrl"] == f"{login}/{NAME}/training"


def test_registry_is_created_after_its_key_grant(dev):
    assert key_grant_urn(dev, "registry") in registry(dev)["dependencies"]


def test_defender_for_containers_scans_the_subscriptions_images_and_outlives_the_stack(dev, prod):
    """CKV_AZURE_163: the subscription's Containers plan at Standard with registry vulnerability assessment on, the
    sensor and VM scanning explicitly off; the opt-out (``defender_for_containers=False``) creates nothing."""
    (plan,) = prod.by_type("azure-native:security:Pricing")
    inputs = plan["inputs"]
    assert (inputs["pricingName"], inputs["pricingTier"]) == ("Containers", "Standard")
    assert inputs["scopeId"] == "subscriptions/00000000-0000-4000-8000-000000000000"  # no leading slash: /{scopeId}/...
    assert {e["name"]: e["isEnabled"] for e in inputs["extensions"]} == {
        "ContainerRegistriesVulnerabilityAssessments": "True", "AgentlessDiscoveryForKubernetes": "True",
        "ContainerSensor": "False", "AgentlessVmScanning": "False"}
    assert plan["parent"].endswith("mlops:registry:ModelRegistry::registry")
    assert dev.by_type("azure-native:security:Pricing") == []
