"""The Karpenter controller on EKS and its spot interruption queue (the AWS training pools' autoscaler).

Why Karpenter (and not managed node groups + the node termination handler): its native SQS
interruption queue covers all four signals (spot interruption warnings, rebalance
recommendations, instance state changes, scheduled maintenance) without another DaemonSet,
it launches from several instance types per pool through EC2 Fleet (capacity-optimised spot),
and it scales every pool to zero when no training pod is pending. It runs on the on-demand
system node group, never on the capacity it manages.

- ``SpotInterruptionHandling``: the KMS-encrypted SQS queue, a queue policy that only lets
  EventBridge rules of this platform and SQS itself send to it (TLS only), and the four rules.
- ``Karpenter``: the node role (+ EKS access entry), the controller's IRSA role with a
  least-privilege policy (scoped by the tags Karpenter puts on what it creates, modelled on
  Karpenter's reference CloudFormation policy but written for this platform: exact subnet and
  security-group ARNs, the cluster key for encrypted volumes), the discovery tag on the cluster
  security group, and the pinned Helm release.

The pools it launches (``TrainingPool``) and the training jobs' identity are in ``aws.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.aws_account import AccountContext, account_context
from components.aws_iam import kms_via_service, service_endpoint
from components.cluster.aws import SYSTEM_POOL, Cluster, node_role_with_policies
from components.k8s import POOL_LABEL, DashboardQuery, ScrapeTarget
from components.documents import json_document

# Pinned versions (bump deliberately: a new AMI alias rolls every Karpenter node through drift).
KARPENTER_CHART = "oci://public.ecr.aws/karpenter/karpenter"
KARPENTER_VERSION = "1.14.0"  # karpenter.sh v1.14 release; supports Kubernetes 1.29-1.36
KARPENTER_NAMESPACE = "kube-system"
KARPENTER_SERVICE_ACCOUNT = "karpenter"
DISCOVERY_TAG = "karpenter.sh/discovery"

# The four event kinds Karpenter reacts to (EventBridge rule name suffix -> event pattern).
INTERRUPTION_EVENTS: dict[str, dict] = {
    "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "instance-state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
    "scheduled-change": {"source": ["aws.health"], "detail-type": ["AWS Health Event"],
                         "detail": {"service": ["EC2"], "eventTypeCategory": ["scheduledChange"]}},
}


# --- Interruption queue ------------------------------------------------------------------------

@dataclass(frozen=True)
class SpotInterruptionArgs:
    name: str  # e.g. the cluster name; the queue is "<name>-interruptions"
    queue_key_arn: pulumi.Input[str]  # the notifications KMS key
    tags: Mapping[str, str] = field(default_factory=dict)
    # Karpenter acts within seconds; an older message describes an instance that is already gone.
    message_retention_seconds: int = 300


class SpotInterruptionHandling(pulumi.ComponentResource):
    """SQS queue (KMS) fed by EventBridge with the four EC2 interruption signals; Karpenter consumes it."""

    def __init__(self, name: str, args: SpotInterruptionArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:training:SpotInterruptionHandling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "component": "training"}
        ctx = account_context(self)
        queue = aws.sqs.Queue(
            f"{name}-queue", name=f"{args.name}-interruptions",
            message_retention_seconds=args.message_retention_seconds,
            kms_master_key_id=args.queue_key_arn, kms_data_key_reuse_period_seconds=300,
            tags=tags, opts=child)
        self.queue = queue
        self.queue_arn = queue.arn
        self.queue_name = queue.name
        self.queue_url = queue.url
        self.queue_key_arn = args.queue_key_arn

        self.rules: dict[str, aws.cloudwatch.EventRule] = {}
        for kind, pattern in INTERRUPTION_EVENTS.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{kind}", name=f"{args.name}-{kind}", description=f"{kind} events for Karpenter ({args.name})",
                event_pattern=json_document(pattern), tags=tags, opts=child)
            aws.cloudwatch.EventTarget(f"{name}-{kind}", rule=rule.name, arn=queue.arn, target_id="karpenter-interruption-queue",
                                       opts=child)
            self.rules[kind] = rule

        aws.sqs.QueuePolicy(f"{name}-queue", queue_url=queue.url, policy=json_document({
            "Version": "2012-10-17", "Statement": [
                {"Sid": "InterruptionRulesOfThisPlatform", "Effect": "Allow",
                 "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": queue.arn,
                 "Condition": {"ArnEquals": {"aws:SourceArn": [rule.arn for rule in self.rules.values()]}}},
                {"Sid": "SqsServiceOfThisAccount", "Effect": "Allow",
                 "Principal": {"Service": "sqs.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": queue.arn,
                 "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}}},
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sqs:*",
                 "Resource": queue.arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            ]}), opts=child)
        self.register_outputs({"queueArn": queue.arn, "queueName": queue.name})


# --- Karpenter controller ---------------------------------------------------------------------

@dataclass(frozen=True)
class KarpenterArgs:
    cluster: Cluster
    cluster_name: str  # known at preview: IAM conditions name it
    region: str
    interruption: SpotInterruptionHandling
    node_subnet_ids: Sequence[pulumi.Input[str]]  # the private subnets Karpenter may launch into
    cluster_key_arn: pulumi.Input[str]  # encrypts node root volumes
    replicas: int = 2
    chart_version: str = KARPENTER_VERSION
    tags: Mapping[str, str] = field(default_factory=dict)


def controller_policy(args: KarpenterArgs, ctx: AccountContext, node_role_arn: pulumi.Input[str],
                      security_group_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Karpenter's controller permissions, scoped to this cluster's tags, subnets, security group and key."""
    cluster, region = args.cluster_name, args.region

    def arn(service: str, resource: str, account: bool = True) -> pulumi.Output[str]:
        return pulumi.Output.format("arn:{0}:{1}:{2}:{3}:{4}", ctx.partition, service, region,
                                    ctx.account_id if account else "", resource)

    launched = [arn("ec2", f"{kind}/*") for kind in
                ("fleet", "instance", "volume", "network-interface", "launch-template", "spot-instances-request")]
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster}": "owned"}
    request_tags = {f"aws:RequestTag/kubernetes.io/cluster/{cluster}": "owned", "aws:RequestTag/eks:eks-cluster-name": cluster}
    instance_profiles = pulumi.Output.format("arn:{0}:iam::{1}:instance-profile/*", ctx.partition, ctx.account_id)
    profile_request_tags = {**request_tags, "aws:RequestTag/topology.kubernetes.io/region": region}
    statements = [
        {"Sid": "LaunchIntoPlatformSubnetsAndSecurityGroup", "Effect": "Allow",
         "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
         "Resource": [arn("ec2", "image/*", account=False), arn("ec2", "snapshot/*", account=False),
                      *[pulumi.Output.concat(arn("ec2", "subnet/"), subnet) for subnet in args.node_subnet_ids],
                      pulumi.Output.concat(arn("ec2", "security-group/"), security_group_id)]},
        {"Sid": "LaunchFromOwnLaunchTemplates", "Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
         "Resource": arn("ec2", "launch-template/*"),
         "Condition": {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}},
        {"Sid": "CreateOnlyTaggedForThisCluster", "Effect": "Allow",
         "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"], "Resource": launched,
         "Condition": {"StringEquals": request_tags, "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}},
        {"Sid": "TagOnCreateOnly", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": launched,
         "Condition": {"StringEquals": {**request_tags, "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
                       "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}},
        {"Sid": "TagOwnInstancesWithNodeClaim", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": arn("ec2", "instance/*"),
         "Condition": {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                       "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]}}},
        {"Sid": "DeleteOnlyOwnInstancesAndTemplates", "Effect": "Allow",
         "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
         "Resource": [arn("ec2", "instance/*"), arn("ec2", "launch-template/*")],
         "Condition": {"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}},
        # Describe* calls cannot be scoped to resources; the region condition keeps them to this region.
        {"Sid": "DescribeInThisRegion", "Effect": "Allow",
         # Karpenter v1.14's own list (AllowRegionalReadActions in its getting-started CloudFormation):
         # the interruption controller polls DescribeInstanceStatus every minute.
         "Action": ["ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances",
                    "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplates", "ec2:DescribePlacementGroups", "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets"],
         "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": region}}},
        {"Sid": "ReadPublicAmiParameters", "Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": arn("ssm", "parameter/aws/service/*", account=False)},
        # The Price List API has no resource-level permissions.
        {"Sid": "ReadPrices", "Effect": "Allow", "Action": "pricing:GetProducts", "Resource": "*"},
        {"Sid": "ConsumeInterruptionQueue", "Effect": "Allow",
         "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], "Resource": args.interruption.queue_arn},
        kms_via_service("DecryptInterruptionQueue", "kms:Decrypt", args.interruption.queue_key_arn, "sqs", region,
                        dns_suffix=ctx.dns_suffix),
        {"Sid": "PassNodeRoleToEc2Only", "Effect": "Allow", "Action": "iam:PassRole", "Resource": node_role_arn,
         "Condition": {"StringEquals": {"iam:PassedToService": pulumi.Output.format("ec2.{0}", ctx.dns_suffix)}}},
        {"Sid": "CreateOwnInstanceProfiles", "Effect": "Allow", "Action": "iam:CreateInstanceProfile",
         "Resource": instance_profiles,
         "Condition": {"StringEquals": profile_request_tags, "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
        {"Sid": "TagOwnInstanceProfiles", "Effect": "Allow", "Action": "iam:TagInstanceProfile", "Resource": instance_profiles,
         "Condition": {"StringEquals": {**owned, "aws:ResourceTag/topology.kubernetes.io/region": region, **profile_request_tags},
                       "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
                                      "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
        {"Sid": "ManageOwnInstanceProfiles", "Effect": "Allow",
         "Action": ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
         "Resource": instance_profiles,
         "Condition": {"StringEquals": {**owned, "aws:ResourceTag/topology.kubernetes.io/region": region},
                       "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"}}},
        {"Sid": "ReadInstanceProfiles", "Effect": "Allow", "Action": "iam:GetInstanceProfile", "Resource": instance_profiles},
        # Garbage collection of the profiles it created lists them; the list action takes no resource
        # (Karpenter v1.14's AllowUnscopedInstanceProfileListAction).
        {"Sid": "ListInstanceProfiles", "Effect": "Allow", "Action": "iam:ListInstanceProfiles", "Resource": "*"},
        {"Sid": "DiscoverApiServerEndpoint", "Effect": "Allow", "Action": "eks:DescribeCluster",
         "Resource": arn("eks", f"cluster/{cluster}")},
        # EC2 encrypts the root volumes of the instances Karpenter launches with the caller's KMS rights.
        kms_via_service("EncryptNodeVolumesWithClusterKey",
                        ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext",
                         "kms:ReEncryptFrom", "kms:ReEncryptTo"],
                        args.cluster_key_arn, "ec2", region, dns_suffix=ctx.dns_suffix),
        # A grant, not a use of the key: besides "through EC2" it is allowed only for the volumes EC2 attaches
        # (kms:GrantIsForAWSResource), a condition kms_via_service does not write.
        {"Sid": "GrantNodeVolumeAttachments", "Effect": "Allow", "Action": "kms:CreateGrant", "Resource": args.cluster_key_arn,
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"},
                       "StringEquals": {"kms:ViaService": service_endpoint("ec2", region, ctx.dns_suffix)}}},
    ]
    return json_document({"Version": "2012-10-17", "Statement": statements})


class Karpenter(pulumi.ComponentResource):
    """The Karpenter controller on the system nodes, with its node role, IRSA role and interruption queue."""

    def __init__(self, name: str, args: KarpenterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:training:Karpenter", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "component": "training"}
        ctx = account_context(self)
        cluster = args.cluster

        node_role, attachments = node_role_with_policies(
            f"{name}-nodes", f"Karpenter-launched training nodes of {args.cluster_name}", ctx.partition, tags, self)
        access = aws.eks.AccessEntry(f"{name}-nodes", cluster_name=cluster.name, principal_arn=node_role.arn,
                                     type="EC2_LINUX", tags=tags, opts=child)
        self.node_role = node_role
        self.node_role_name = node_role.name

        # Karpenter selects subnets and security groups by this tag; the private subnets carry it
        # from the network component, the EKS-created cluster security group gets it here.
        aws.ec2.Tag(f"{name}-cluster-sg-discovery", resource_id=cluster.cluster_security_group_id,
                    key=DISCOVERY_TAG, value=args.cluster_name, opts=child)

        controller_role = cluster.irsa_role(
            f"{name}-controller", KARPENTER_NAMESPACE, KARPENTER_SERVICE_ACCOUNT,
            policy_json=controller_policy(args, ctx, node_role.arn, cluster.cluster_security_group_id),
            opts=pulumi.ResourceOptions(parent=self), tags=tags)
        self.controller_role = controller_role

        self.release = k8s.helm.v3.Release(
            f"{name}",
            name="karpenter",
            chart=KARPENTER_CHART,
            version=args.chart_version,
            namespace=KARPENTER_NAMESPACE,
            values={
                "settings": {"clusterName": args.cluster_name, "clusterEndpoint": cluster.endpoint,
                             "interruptionQueue": args.interruption.queue_name},
                "serviceAccount": {"name": KARPENTER_SERVICE_ACCOUNT,
                                   "annotations": {"eks.amazonaws.com/role-arn": controller_role.arn}},
                "replicas": args.replicas,
                "nodeSelector": {POOL_LABEL: SYSTEM_POOL},
                "controller": {"resources": {"requests": {"cpu": "500m", "memory": "512Mi"},
                                             "limits": {"cpu": "1", "memory": "1Gi"}}},
            },
            atomic=True, cleanup_on_fail=True, max_history=10, timeout=600,
            opts=pulumi.ResourceOptions(parent=self, provider=cluster.k8s_provider,
                                        depends_on=[access, *attachments, controller_role]),
        )
        self.register_outputs({"nodeRoleName": node_role.name, "controllerRoleArn": controller_role.arn,
                               "chartVersion": args.chart_version})


# What Prometheus scrapes from the controller (the chart's metrics Service) and the dashboard
# series for the spot-interruption panel.
KARPENTER_SCRAPE_TARGET = ScrapeTarget(
    name="karpenter", namespace=KARPENTER_NAMESPACE, port="http-metrics",
    service_labels={"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"})
KARPENTER_INTERRUPTION_QUERIES = (
    DashboardQuery("Interruption messages received", "sum by (message_type) (increase(karpenter_interruption_received_messages_total[1h]))",
                   "{{message_type}}"),
    DashboardQuery("Interruption messages handled", "sum(increase(karpenter_interruption_deleted_messages_total[1h]))", "deleted"),
    DashboardQuery("Interruption queue delay (p95)",
                   "histogram_quantile(0.95, sum by (le) (rate(karpenter_interruption_message_queue_duration_seconds_bucket[10m])))",
                   "p95 seconds"),
)
