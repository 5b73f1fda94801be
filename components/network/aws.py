"""AWS network: a VPC over N zones with private (nodes), data (databases) and public (NAT/LB) subnets.

Secure defaults and why:
- nodes and data stores get no public IPs; data subnets have no internet route at all;
- the VPC's default security group is emptied (nothing that forgets a security group is reachable);
- S3 and DynamoDB gateway endpoints (free) and ECR/STS/Logs interface endpoints keep image pulls,
  IRSA token exchange and log shipping off the NAT (cheaper, and not on the internet path);
- flow logs for ALL traffic go to a KMS-encrypted log group through a role only VPC Flow Logs
  of this account can assume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from components.aws_account import account_context
from components.network import NetworkArgs, pick_zones, plan_subnets
from components.documents import json_document

INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts", "logs")
GATEWAY_ENDPOINTS = ("s3", "dynamodb")


@dataclass(frozen=True)
class AwsNetworkInputs:
    """AWS-only inputs."""

    region: str
    logs_key_arn: pulumi.Input[str]  # the notifications/logs KMS key, for the flow-log group
    # Tags on the private subnets so controllers find them (e.g. {"karpenter.sh/discovery": <cluster>}).
    node_subnet_tags: Mapping[str, str] = field(default_factory=dict)


class Network(pulumi.ComponentResource):
    """VPC, subnets, NAT, routes, endpoints and flow logs (outputs: see components.network)."""

    def __init__(self, name: str, args: NetworkArgs, aws_inputs: AwsNetworkInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "component": "network"}

        def named(suffix: str, **extra: str) -> dict[str, str]:
            return {**tags, "Name": f"{args.name}-{suffix}", **extra}

        zones_result = aws.get_availability_zones(
            state="available",
            filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
            opts=pulumi.InvokeOptions(parent=self))
        zones = pick_zones(list(zones_result.names), args.az_count)
        subnets = plan_subnets(args.cidr, len(zones))
        self.availability_zones = zones
        self.vpc_cidr = args.cidr
        self.data_subnet_cidrs = list(subnets.data)  # known at preview: egress rules of database clients use them

        vpc = aws.ec2.Vpc(name, cidr_block=args.cidr, enable_dns_support=True, enable_dns_hostnames=True,
                          tags=named("vpc"), opts=child)
        self.vpc = vpc
        self.vpc_id = vpc.id
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg-closed", vpc_id=vpc.id, ingress=[], egress=[],
                                     tags=named("default-closed"), opts=child)

        data_rt = aws.ec2.RouteTable(f"{name}-data", vpc_id=vpc.id, routes=[], tags=named("data"), opts=child)
        self.data_route_table_id = data_rt.id
        if args.data_only:
            self._data_only(name, args, aws_inputs, vpc, data_rt, zones, subnets, named)
            return
        igw = aws.ec2.InternetGateway(name, vpc_id=vpc.id, tags=named("igw"), opts=child)
        public_rt = aws.ec2.RouteTable(
            f"{name}-public", vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=named("public"), opts=child)

        public_ids, private_ids, data_ids = [], [], []
        private_rts: list[aws.ec2.RouteTable] = []
        nat_gateways: list[aws.ec2.NatGateway] = []
        for index, zone in enumerate(zones):
            public = aws.ec2.Subnet(
                f"{name}-public-{zone}", vpc_id=vpc.id, cidr_block=subnets.public[index], availability_zone=zone,
                map_public_ip_on_launch=False, tags=named(f"public-{zone}", **{"kubernetes.io/role/elb": "1", "tier": "public"}),
                opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-public-{zone}", subnet_id=public.id, route_table_id=public_rt.id, opts=child)
            public_ids.append(public.id)
            if args.nat_gateway_per_az or index == 0:
                eip = aws.ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags=named(f"nat-{zone}"), opts=child)
                nat_gateways.append(aws.ec2.NatGateway(
                    f"{name}-{zone}", allocation_id=eip.allocation_id, subnet_id=public.id, connectivity_type="public",
                    tags=named(f"nat-{zone}"), opts=pulumi.ResourceOptions(parent=self, depends_on=[igw])))

        for index, zone in enumerate(zones):
            nat = nat_gateways[index] if args.nat_gateway_per_az else nat_gateways[0]
            private_rt = aws.ec2.RouteTable(
                f"{name}-private-{zone}", vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags=named(f"private-{zone}"), opts=child)
            private_rts.append(private_rt)
            private = aws.ec2.Subnet(
                f"{name}-private-{zone}", vpc_id=vpc.id, cidr_block=subnets.private[index], availability_zone=zone,
                map_public_ip_on_launch=False,
                tags=named(f"private-{zone}", **{"kubernetes.io/role/internal-elb": "1", "tier": "private"},
                           **dict(aws_inputs.node_subnet_tags)),
                opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-{zone}", subnet_id=private.id, route_table_id=private_rt.id, opts=child)
            private_ids.append(private.id)
            data_ids.append(self._data_subnet(name, vpc, data_rt, zone, subnets.data[index], named))

        self.public_subnet_ids = public_ids
        self.private_subnet_ids = private_ids
        self.data_subnet_ids = data_ids
        self.nat_gateways = nat_gateways
        self.private_route_table_ids = [rt.id for rt in private_rts]

        # Gateway endpoints: free, and S3/DynamoDB traffic from nodes and data subnets stays in AWS.
        self.endpoints: dict[str, aws.ec2.VpcEndpoint] = {}
        for service in GATEWAY_ENDPOINTS:
            self.endpoints[service] = aws.ec2.VpcEndpoint(
                f"{name}-{service}", vpc_id=vpc.id, service_name=f"com.amazonaws.{aws_inputs.region}.{service}",
                vpc_endpoint_type="Gateway", route_table_ids=[*self.private_route_table_ids, data_rt.id],
                tags=named(f"{service}-endpoint"), opts=child)

        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints", vpc_id=vpc.id, description="HTTPS from inside the VPC to interface endpoints",
            ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443,
                                                      cidr_blocks=[args.cidr], description="HTTPS from the VPC")],
            egress=[], tags=named("endpoints"), opts=child)
        self.endpoint_security_group_id = endpoint_sg.id
        for service in INTERFACE_ENDPOINTS:
            self.endpoints[service] = aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}", vpc_id=vpc.id,
                service_name=f"com.amazonaws.{aws_inputs.region}.{service}", vpc_endpoint_type="Interface",
                subnet_ids=private_ids, security_group_ids=[endpoint_sg.id], private_dns_enabled=True,
                tags=named(f"{service}-endpoint"), opts=child)

        self._flow_logs(name, args, aws_inputs, vpc, named)
        self.register_outputs({
            "vpcId": self.vpc_id, "vpcCidr": self.vpc_cidr, "availabilityZones": zones,
            "privateSubnetIds": private_ids, "dataSubnetIds": data_ids, "publicSubnetIds": public_ids,
        })

    def _data_subnet(self, name: str, vpc: aws.ec2.Vpc, data_rt: aws.ec2.RouteTable, zone: str, cidr: str, named):
        child = pulumi.ResourceOptions(parent=self)
        data = aws.ec2.Subnet(
            f"{name}-data-{zone}", vpc_id=vpc.id, cidr_block=cidr, availability_zone=zone,
            map_public_ip_on_launch=False, tags=named(f"data-{zone}", tier="data"), opts=child)
        aws.ec2.RouteTableAssociation(f"{name}-data-{zone}", subnet_id=data.id, route_table_id=data_rt.id, opts=child)
        return data.id

    def _data_only(self, name: str, args: NetworkArgs, aws_inputs: AwsNetworkInputs, vpc: aws.ec2.Vpc,
                   data_rt: aws.ec2.RouteTable, zones: list[str], subnets, named) -> None:
        """The DR flavour: data subnets and flow logs only (nothing here can reach the internet)."""
        self.data_subnet_ids = [self._data_subnet(name, vpc, data_rt, zone, subnets.data[index], named)
                                for index, zone in enumerate(zones)]
        self.public_subnet_ids, self.private_subnet_ids, self.nat_gateways = [], [], []
        self.private_route_table_ids, self.endpoints = [], {}
        self._flow_logs(name, args, aws_inputs, vpc, named)
        self.register_outputs({"vpcId": self.vpc_id, "vpcCidr": self.vpc_cidr, "availabilityZones": zones,
                               "privateSubnetIds": [], "dataSubnetIds": self.data_subnet_ids, "publicSubnetIds": []})

    def _flow_logs(self, name: str, args: NetworkArgs, aws_inputs: AwsNetworkInputs, vpc: aws.ec2.Vpc, named) -> None:
        child = pulumi.ResourceOptions(parent=self)
        ctx = account_context(self)
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", name=f"/mlops/{args.name}/vpc-flow-logs", retention_in_days=args.flow_log_retention_days,
            kms_key_id=aws_inputs.logs_key_arn, tags=named("flow-logs"), opts=child)
        trust = json_document({"Version": "2012-10-17", "Statement": [{
            "Sid": "VpcFlowLogsOfThisAccount", "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id},
                          "ArnLike": {"aws:SourceArn": pulumi.Output.format(
                              "arn:{0}:ec2:{1}:{2}:vpc-flow-log/*", ctx.partition, aws_inputs.region, ctx.account_id)}},
        }]})
        role = aws.iam.Role(f"{name}-flow-logs", assume_role_policy=trust, description="VPC Flow Logs delivery",
                            tags=named("flow-logs"), opts=child)
        aws.iam.RolePolicy(f"{name}-flow-logs", role=role.id, policy=json_document({
            "Version": "2012-10-17", "Statement": [{
                "Sid": "WriteFlowLogStreams", "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [log_group.arn, pulumi.Output.concat(log_group.arn, ":log-stream:*")],
            }]}), opts=child)
        self.flow_log_group = log_group
        self.flow_log = aws.ec2.FlowLog(
            name, vpc_id=vpc.id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn, iam_role_arn=role.arn, max_aggregation_interval=600,
            tags=named("flow-log"), opts=child)
