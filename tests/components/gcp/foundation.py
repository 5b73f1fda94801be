"""The GCP foundation (providers, keys, network, cluster, training pools) as preview programs for component tests.

Two shapes, each previewed once per test run (``dev()`` / ``prod()``, tests/shared.py): dev with a
public-access CIDR, CPU and GPU spot pools; prod with DR key twins, protection, a private
endpoint and an on-demand pool. Exports what tests compare against (key ids, cluster outputs).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from components.cluster import ClusterArgs
from components.cluster.gcp import Cluster, GcpClusterInputs
from components.keys import DOMAINS, KeysArgs
from components.keys.gcp import GcpKeysInputs, Keys
from components.network import NetworkArgs
from components.network.gcp import GcpNetworkInputs, Network, node_tag
from components.training import TrainingPoolArgs
from components.training.gcp import GcpTrainingPoolInputs, TrainingJobIdentity, TrainingJobIdentityArgs, TrainingPool
from mlops_tools.engine.preview import PreviewResult, preview_program
from tests.shared import shared

PRIMARY, DR = "europe-west4", "europe-west1"
PROJECT, PROJECT_NUMBER = "acme-ml-test", "987654321098"
NAME = "mlops-test"
ZONES = (f"{PRIMARY}-a", f"{PRIMARY}-b")
PUBLIC_CIDR = "203.0.113.0/24"
FEATURES_BUCKET = "mlops-test-features"

DEV_POOLS = (
    TrainingPoolArgs(name="cpu-spot", instance_types=("n2-standard-8", "n2d-standard-8"), max_nodes=4),
    TrainingPoolArgs(name="gpu-spot", instance_types=("g2-standard-24", "a2-highgpu-2g", "a4-highgpu-8g"),
                     max_nodes=2, accelerator="nvidia-gpu"),
)
PROD_POOLS = (
    TrainingPoolArgs(name="cpu-steady", instance_types=("n2-standard-16",), max_nodes=6, min_nodes=1, spot=False),
)


def _program(*, prod: bool) -> None:
    primary = gcp.Provider("primary", project=PROJECT, region=PRIMARY)
    dr_provider = gcp.Provider("dr", project=PROJECT, region=DR) if prod else None
    opts = pulumi.ResourceOptions(providers={"gcp": primary})
    keys = Keys("keys", KeysArgs(name=NAME, dr_enabled=prod, protect=prod, deletion_window_days=30 if prod else 7,
                                 tags={"environment": "test"}),
                GcpKeysInputs(project=PROJECT, project_number=PROJECT_NUMBER, region=PRIMARY,
                              dr_region=DR if prod else None, dr_provider=dr_provider), opts=opts)
    network = Network("network", NetworkArgs(name=NAME, cidr="10.40.0.0/16", az_count=len(ZONES), nat_gateway_per_az=prod),
                      GcpNetworkInputs(project=PROJECT, region=PRIMARY, zones=ZONES), opts=opts)
    cluster = Cluster("cluster", ClusterArgs(name=NAME, version="1.35", system_node_instance_type="e2-standard-4",
                                             system_node_count=2, public_access_cidrs=() if prod else (PUBLIC_CIDR,),
                                             deletion_protection=prod, tags={"environment": "test"}),
                      GcpClusterInputs(project=PROJECT, region=PRIMARY, zones=list(ZONES), network_id=network.vpc_id,
                                       subnet_id=network.private_subnet_ids[0], pods_range_name=network.pods_range_name,
                                       services_range_name=network.services_range_name,
                                       control_plane_cidr=network.control_plane_cidr, vpc_cidr=network.vpc_cidr,
                                       cluster_key_id=keys.key_arns["cluster"], node_tags=[node_tag(NAME)],
                                       key_grants=keys.grants["cluster"]), opts=opts)
    for pool in PROD_POOLS if prod else DEV_POOLS:
        TrainingPool(f"training-{pool.name}", pool, GcpTrainingPoolInputs(
            cluster=cluster, node_service_account=cluster.node_service_account), opts=opts)
    identity = cluster.workload_identity("mlflow-identity", "mlops", "mlflow", pulumi.ResourceOptions(parent=cluster),
                                         account="mlflow")
    if not prod:
        trainer = TrainingJobIdentity("training-jobs", TrainingJobIdentityArgs(cluster=cluster, features_bucket=FEATURES_BUCKET),
                                      opts=opts)
        pulumi.export("trainerAnnotations", trainer.service_account_annotations)
    for domain in DOMAINS:
        pulumi.export(f"key:{domain}", keys.key_arns[domain])
        if prod:
            pulumi.export(f"drKey:{domain}", keys.dr_key_arns[domain])
    pulumi.export("dataSubnetCidrs", network.data_subnet_cidrs)
    pulumi.export("vpcId", network.vpc_id)
    pulumi.export("nodeServiceAccount", cluster.node_service_account)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export("mlflowAnnotations", identity.annotations)
    pulumi.export("mlflowMember", identity.member)


def _preview(prod: bool) -> PreviewResult:
    return preview_program(lambda: _program(prod=prod), project="mlops-platform", stack="test",
                           config={"mlops:cloud": "gcp", "mlops:region": PRIMARY})


def dev() -> PreviewResult:
    return shared("components/gcp/foundation", ["dev"], lambda: _preview(False))


def prod() -> PreviewResult:
    return shared("components/gcp/foundation", ["prod"], lambda: _preview(True))


def provider_urn(result: PreviewResult, name: str) -> str:
    return result.one("pulumi:providers:gcp", name)["urn"]


def bound_to(resource: dict[str, Any], provider: str) -> bool:
    """Whether the resource was registered with that explicit provider (reference = '<urn>::<id>')."""
    return (resource["provider"] or "").startswith(provider + "::")
