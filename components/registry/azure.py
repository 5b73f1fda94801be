"""Azure registry: one Premium Azure Container Registry for every image kind of the platform.

- Premium because it is the tier with customer-managed keys, private endpoints, zone redundancy,
  geo-replication (the DR component adds the DR-region replica) and the untagged-manifest
  retention policy.
- Encrypted with the registry Key Vault key (versionless URI: ACR follows the key's rotation)
  through a user-assigned identity; admin user and anonymous pull off, public network access
  disabled, reachable through a private endpoint (``privatelink.azurecr.io``); the ARM-audience
  token policy is off, so only ACR-scoped Entra tokens work.
- Repositories are namespaces inside the registry (``<name>/model-serving``, ``<name>/training``),
  created on first push; untagged manifests expire after ``untagged_image_expiry_days``.
- The cluster's kubelet identity gets AcrPull on this registry only.

Deployment caveat (real ``pulumi up``, not visible offline): ACR reaches a firewalled Key Vault
through the trusted-services bypass only with a system-assigned identity, and the platform vault
denies public access. Creating the registry with the user-assigned identity therefore needs the
vault reachable by ACR at creation time (Microsoft documents a temporary key or a short-lived
network exception, then a switch to the system identity); until that is automated, the first
``pulumi up`` of a registry needs the vault reachable for that run (docs/first-deploy.md, Azure). The
registry waits for its identity's key grant, so it no longer races it.

Image vulnerability scanning (Checkov CKV_AZURE_163) is Microsoft Defender for Containers, a plan of
the whole subscription, not a registry property: with ``defender_for_containers`` (on by default,
``mlops:azure.defenderForContainers``) the component sets the subscription's ``Containers`` pricing to
Standard with registry vulnerability assessment and agentless Kubernetes discovery on. Two things follow
from its scope: it covers and bills every AKS node and registry in the subscription (per vCore-hour of
the nodes; the cost estimate counts this stack's), and stacks sharing a subscription all write the same
setting (identical values, so they agree). ``retain_on_delete``: destroying one stack never turns
Defender off for the others. The Defender sensor (a privileged DaemonSet on every node that also needs
a Log Analytics workspace) and agentless VM scanning stay off: runtime protection is not this control.
What ARM does with extensions a PUT does not list is not visible offline, so all four are listed.

Not set here, and why: ACR has no registry-wide immutable-tag switch in ARM (tags are locked per
image with ``az acr repository update --write-enabled false`` in the release pipeline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_azure_native as azure
import pulumi_random as random

from components.registry import IMAGE_KINDS, MODEL_SERVING, TRAINING, RegistryArgs
from components.storage.azure import CustomerManagedKey, PrivateEndpointTarget, grant, private_endpoint

ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"  # built-in AcrPull: pull images, nothing else
# Defender for Containers extensions (SDK docstring of security.ExtensionArgs.name) and whether the plan runs them.
DEFENDER_EXTENSIONS = {"ContainerRegistriesVulnerabilityAssessments": "True", "AgentlessDiscoveryForKubernetes": "True",
                       "ContainerSensor": "False", "AgentlessVmScanning": "False"}


def defender_for_containers(name: str, opts: pulumi.ResourceOptions) -> azure.security.Pricing:
    """The deploying subscription's Defender for Containers plan at Standard (see the module doc)."""
    subscription = azure.authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=opts.parent))
    return azure.security.Pricing(
        # "subscriptions/<id>" without a leading slash: the API path is /{scopeId}/providers/... (the REST examples).
        name, scope_id=subscription.subscription_id.apply(lambda sub: f"subscriptions/{sub}"),
        pricing_name="Containers", pricing_tier="Standard",
        extensions=[azure.security.ExtensionArgs(name=key, is_enabled=on) for key, on in DEFENDER_EXTENSIONS.items()],
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True)))
REGISTRY_NAME_MAX = 50
SUFFIX_LENGTH = 6


def registry_name_prefix(name: str) -> str:
    """'mlops-dev' -> 'mlopsdev' (registry names are 5-50 letters and digits, globally unique)."""
    squeezed = re.sub(r"[^a-z0-9]", "", name.lower())
    if len(squeezed) + SUFFIX_LENGTH < 5 or not squeezed[:1].isalpha():
        raise ValueError(f"registry name prefix {name!r} must start with a letter")
    return squeezed[: REGISTRY_NAME_MAX - SUFFIX_LENGTH]


@dataclass(frozen=True)
class AzureRegistryInputs:
    """Azure-only inputs: where the registry lives, its key, and who pulls from it."""

    resource_group_name: pulumi.Input[str]
    location: str
    registry_key: CustomerManagedKey
    private_endpoints: PrivateEndpointTarget  # subnet + privatelink.azurecr.io zone
    kubelet_principal_id: Optional[pulumi.Input[str]] = None  # the AKS kubelet identity's object id
    zone_redundant: bool = False  # prod
    defender_for_containers: bool = True  # the subscription's Defender for Containers plan (module doc)


class ModelRegistry(pulumi.ComponentResource):
    """A private, CMK-encrypted Premium ACR with untagged-manifest retention (see module docstring)."""

    def __init__(self, name: str, args: RegistryArgs, azure_inputs: AzureRegistryInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:registry:ModelRegistry", name, None, opts)
        if args.sagemaker_model_package_group:
            raise ValueError("mlops:registry.sagemakerModelPackageGroup is an AWS option; turn it off on Azure")
        tags = {**args.tags, "component": "registry"}
        self.args = args
        child = pulumi.ResourceOptions(parent=self)
        inputs = azure_inputs
        key = inputs.registry_key
        suffix = random.RandomString(f"{name}-suffix", length=SUFFIX_LENGTH, upper=False, special=False,
                                     numeric=True, lower=True, opts=child)
        self.registry = azure.containerregistry.Registry(
            name,
            registry_name=pulumi.Output.concat(registry_name_prefix(args.name), suffix.result),
            resource_group_name=inputs.resource_group_name,
            location=inputs.location,
            sku={"name": "Premium"},
            identity=pulumi.Output.from_input(key.identity_id).apply(
                lambda i: {"type": "UserAssigned", "user_assigned_identities": {i: {}}}),
            encryption={"status": "enabled",
                        "key_vault_properties": {"key_identifier": key.key_uri, "identity": key.identity_client_id}},
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Disabled",
            network_rule_bypass_options="None",
            zone_redundancy="Enabled" if inputs.zone_redundant else "Disabled",
            policies={
                "retention_policy": {"status": "enabled", "days": args.untagged_image_expiry_days},
                "azure_ad_authentication_as_arm_policy": {"status": "disabled"},
                "export_policy": {"status": "disabled"},  # images leave only through pulls by identities
            },
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=key.depends_on_grant()))
        self.registry_name = self.registry.name
        self.registry_id = self.registry.id
        self.login_server = self.registry.login_server
        self.private_endpoint = private_endpoint(
            name, resource_group_name=inputs.resource_group_name, location=inputs.location,
            service_id=self.registry.id, group_id="registry", target=inputs.private_endpoints, tags=tags, opts=child)
        self.kubelet_pull = None
        if inputs.kubelet_principal_id is not None:
            self.kubelet_pull = grant(f"{name}-kubelet-pull", scope=self.registry.id, role_guid=ACR_PULL,
                                      principal_id=inputs.kubelet_principal_id, opts=child,
                                      description=f"{args.name}: cluster nodes pull platform images")

        self.defender = defender_for_containers(f"{name}-defender-containers", child) \
            if inputs.defender_for_containers else None

        self.repository_prefix = args.repository_prefix
        self.repository_urls = {kind: pulumi.Output.format("{0}/{1}", self.login_server, args.repository_name(kind))
                                for kind in IMAGE_KINDS}
        self.model_image_repository_url = self.repository_urls[MODEL_SERVING]
        self.training_image_repository_url = self.repository_urls[TRAINING]
        self.model_package_group_name = None
        self.register_outputs({"repositoryUrls": self.repository_urls, "repositoryPrefix": self.repository_prefix,
                               "registryId": self.registry_id, "loginServer": self.login_server})
