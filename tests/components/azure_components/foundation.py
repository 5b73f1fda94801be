"""The Azure foundation (network, keys, cluster, training pools) as ONE preview program for the tests.

Two flavours in the same program, so the whole module set costs one preview: ``dev`` (DR off,
public API limited to a CIDR, CPU and GPU spot pools) and ``prod`` (DR on, private API, 3 zones).
Exports what tests compare against, because the plan records inputs and the mocks derive every
output from the resource's URN.
"""

from __future__ import annotations

from dataclasses import replace

import pulumi
import pulumi_azure_native as azure

from components.cluster import ClusterArgs
from components.cluster.azure import AzureClusterInputs, Cluster
from components.keys import DOMAINS, KeysArgs
from components.keys.azure import AzureKeysInputs, Keys
from components.network import NetworkArgs
from components.network.azure import AzureNetworkInputs, Network
from components.training import TrainingPoolArgs
from components.training.azure import AzureTrainingPoolInputs, TrainingPool
from mlops_tools.engine.preview import PreviewResult, preview_program
from tests.shared import shared

PRIMARY, DR = "westeurope", "northeurope"
DEV_CIDRS = ("203.0.113.0/24",)
CPU_SIZES = ("Standard_D8s_v5", "Standard_D8as_v5", "Standard_D8ds_v5")
GPU_SIZES = ("Standard_NC4as_T4_v3", "Standard_NC8as_T4_v3")
DEPLOYER_OBJECT_ID, DEPLOYER_CLIENT_ID = "33333333-3333-4333-8333-333333333333", "44444444-4444-4444-8444-444444444444"


def _flavour(env: str, *, dr: bool, public_cidrs: tuple[str, ...], az_count: int, pools: bool) -> None:
    name = f"mlops-{env}"
    tags = {"environment": env}
    group = azure.resources.ResourceGroup(f"{env}-rg", resource_group_name=f"{name}-rg", location=PRIMARY)
    dr_group = azure.resources.ResourceGroup(f"{env}-dr-rg", resource_group_name=f"{name}-dr-rg", location=DR) if dr else None
    network = Network(f"{env}-network", NetworkArgs(name=name, cidr="10.40.0.0/16", az_count=az_count,
                                                    nat_gateway_per_az=env == "prod", tags=tags),
                      AzureNetworkInputs(PRIMARY, group.name, apiserver_public_cidrs=public_cidrs))
    keys = Keys(f"{env}-keys", KeysArgs(name=name, dr_enabled=dr, protect=env == "prod",
                                        deletion_window_days=30 if env == "prod" else 7, tags=tags),
                AzureKeysInputs(PRIMARY, group.name, network.endpoint_subnet_id, network.private_dns_zone_ids["keyvault"],
                                DR if dr else None, dr_group.name if dr_group else None))
    cluster = Cluster(f"{env}-cluster", ClusterArgs(name=name, version="1.35", system_node_instance_type="Standard_D4s_v5",
                                                    system_node_count=2, public_access_cidrs=public_cidrs,
                                                    deletion_protection=env == "prod", tags=tags),
                      AzureClusterInputs(PRIMARY, group.name, network.node_subnet_id, network.apiserver_subnet_id,
                                         network.availability_zones, keys.vault_id, keys.key_ids["cluster"],
                                         keys.key_arns["cluster"], keys.key_versioned_uris["cluster"],
                                         keys.identities["cluster"].id, keys.grants["cluster"], environment=env,
                                         # dev: the default login (az CLI); prod: a CI runner with workload identity.
                                         kubelogin_mode="azurecli" if env == "dev" else "workloadidentity",
                                         deployer_object_id=DEPLOYER_OBJECT_ID, deployer_client_id=DEPLOYER_CLIENT_ID))
    identity = cluster.workload_identity(f"{env}-mlflow-identity", "mlops", "mlflow")
    pulumi.export(f"{env}:workloadClientId", identity.client_id)
    pulumi.export(f"{env}:oidcIssuerUrl", cluster.oidc_issuer_url)
    pulumi.export(f"{env}:kubeconfig", cluster.kubeconfig)
    pulumi.export(f"{env}:clusterId", cluster.cluster_id)
    pulumi.export(f"{env}:endpoint", cluster.endpoint)
    for domain in DOMAINS:
        pulumi.export(f"{env}:keyUri:{domain}", keys.key_arns[domain])
        pulumi.export(f"{env}:keyVersionedUri:{domain}", keys.key_versioned_uris[domain])
        pulumi.export(f"{env}:keyId:{domain}", keys.key_ids[domain])
        pulumi.export(f"{env}:identityPrincipal:{domain}", keys.identities[domain].principal_id)
        if dr:
            pulumi.export(f"{env}:drKeyId:{domain}", keys.dr_key_ids[domain])
            pulumi.export(f"{env}:drIdentityPrincipal:{domain}", keys.dr_identities[domain].principal_id)
    pulumi.export(f"{env}:controlPlanePrincipal", cluster.control_plane_identity.principal_id)
    pulumi.export(f"{env}:kubeletId", cluster.kubelet_identity.id)
    pulumi.export(f"{env}:subnets", {"nodes": network.node_subnet_id, "postgres": network.postgres_subnet_id,
                                      "endpoints": network.endpoint_subnet_id, "apiserver": network.apiserver_subnet_id})
    pulumi.export(f"{env}:vaultId", keys.vault_id)
    if pools:
        inputs = AzureTrainingPoolInputs(group.name, cluster.name, network.node_subnet_id, network.availability_zones, "1.35")
        cpu = TrainingPool(f"{env}-training-cpu-spot", TrainingPoolArgs(name="cpu-spot", instance_types=CPU_SIZES,
                                                                         max_nodes=4), inputs)
        TrainingPool(f"{env}-training-gpu-spot", TrainingPoolArgs(name="gpu-spot", instance_types=GPU_SIZES, max_nodes=2,
                                                                  min_nodes=1, accelerator="nvidia-gpu"),
                     replace(inputs, after=[cpu.last_agent_pool]))
        TrainingPool(f"{env}-training-cpu-ondemand", TrainingPoolArgs(name="cpu-ondemand", instance_types=CPU_SIZES[:1],
                                                                      max_nodes=1, spot=False), inputs)


def program() -> None:
    _flavour("dev", dr=False, public_cidrs=DEV_CIDRS, az_count=2, pools=True)
    _flavour("prod", dr=True, public_cidrs=(), az_count=3, pools=False)


def foundation() -> PreviewResult:
    """The preview, built once per test run (tests/shared.py) and shared by every Azure foundation test module."""
    return shared("components/azure/foundation", [], lambda: preview_program(
        program, project="mlops-platform", stack="test", config={"mlops:cloud": "azure", "mlops:region": PRIMARY}))


def named(result: PreviewResult, type_token: str, prefix: str) -> list[dict]:
    return [r for r in result.by_type(type_token) if r["name"].startswith(prefix)]


def role_guid(assignment: dict) -> str:
    return assignment["inputs"]["roleDefinitionId"].rsplit("/", 1)[1]
