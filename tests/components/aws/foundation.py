"""The AWS foundation (providers, keys, network, cluster) as a small preview program for component tests.

Exports what tests compare against (key ARNs, cluster outputs), because the plan records inputs
and the mocks derive every output from the resource's URN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pulumi
import pulumi_aws as aws

from components.cluster import ClusterArgs
from components.cluster.aws import AwsClusterInputs, Cluster
from components.keys import DOMAINS, KeysArgs
from components.keys.aws import AwsKeysInputs, Keys
from components.network import NetworkArgs
from components.network.aws import AwsNetworkInputs, Network
from mlops_tools.engine.preview import PreviewResult, preview_program

PRIMARY, DR = "us-east-1", "us-west-2"
NAME = "mlops-test"


@dataclass
class Foundation:
    """What a test program gets to build on."""

    primary: aws.Provider
    dr: Optional[aws.Provider]
    keys: Keys
    network: Optional[Network] = None
    cluster: Optional[Cluster] = None
    opts: pulumi.ResourceOptions = field(default_factory=pulumi.ResourceOptions)


def foundation(*, dr: bool = False, network: bool = True, cluster: bool = True, protect: bool = False,
               az_count: int = 2, nat_per_az: bool = False, public_cidrs: tuple[str, ...] = (),
               deletion_protection: bool = False) -> Foundation:
    primary = aws.Provider("primary", region=PRIMARY)
    dr_provider = aws.Provider("dr", region=DR) if dr else None
    opts = pulumi.ResourceOptions(providers={"aws": primary})
    keys = Keys("keys", KeysArgs(name=NAME, dr_enabled=dr, protect=protect, tags={"environment": "test"}),
                AwsKeysInputs(PRIMARY, DR if dr else None, dr_provider), opts=opts)
    for domain in DOMAINS:
        pulumi.export(f"key:{domain}", keys.keys[domain].arn)
        if dr:
            pulumi.export(f"replica:{domain}", keys.dr_replicas[domain].arn)
    built = Foundation(primary, dr_provider, keys, opts=opts)
    if network:
        built.network = Network("network", NetworkArgs(name=NAME, cidr="10.40.0.0/16", az_count=az_count,
                                                       nat_gateway_per_az=nat_per_az),
                                AwsNetworkInputs(PRIMARY, keys.notifications.arn, {"karpenter.sh/discovery": NAME}),
                                opts=opts)
        pulumi.export("privateSubnetIds", built.network.private_subnet_ids)
        pulumi.export("vpcId", built.network.vpc_id)
    if cluster:
        built.cluster = Cluster("cluster", ClusterArgs(name=NAME, version="1.35", system_node_instance_type="m6i.large",
                                                       system_node_count=2, public_access_cidrs=public_cidrs,
                                                       deletion_protection=deletion_protection),
                                AwsClusterInputs(PRIMARY, built.network.vpc_id, built.network.private_subnet_ids,
                                                 keys.cluster.arn, keys.notifications.arn), opts=opts)
        pulumi.export("clusterSecurityGroupId", built.cluster.cluster_security_group_id)
        pulumi.export("oidcProviderArn", built.cluster.oidc_provider_arn)
        pulumi.export("oidcIssuer", built.cluster.oidc_issuer)
        pulumi.export("nodeRoleArn", built.cluster.node_role_arn)
        pulumi.export("kubeconfig", built.cluster.kubeconfig)
    return built


def preview(program: Callable[[], Any]) -> PreviewResult:
    return preview_program(program, project="mlops-platform", stack="test",
                           config={"mlops:cloud": "aws", "mlops:region": PRIMARY})


def policy(resource: dict[str, Any], key: str = "policy") -> dict[str, Any]:
    """A resource's IAM/resource policy input, parsed."""
    value = resource["inputs"][key]
    return json.loads(value) if isinstance(value, str) else value


def statements(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Statements by Sid (every statement the platform writes has one)."""
    return {statement["Sid"]: statement for statement in document["Statement"]}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def provider_urn(result: PreviewResult, name: str) -> str:
    return result.one("pulumi:providers:aws", name)["urn"]


def bound_to(resource: dict[str, Any], provider: str) -> bool:
    """Whether the resource was registered with that explicit provider (reference = '<urn>::<id>')."""
    return (resource["provider"] or "").startswith(provider + "::")
