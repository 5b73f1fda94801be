"""AWS: which plan resources are billed, in what unit, and which snapshot price each charge uses.

Price keys are `<region>/<service>/<item>`; the region is the resource's provider region (explicit providers
carry it in the plan). The API client (api/aws.py) knows how to fetch each key from the AWS Price List.
"""

from __future__ import annotations

from typing import Any, Optional

from mlops_tools.review.cost import usage
from mlops_tools.review.cost.model import Charge, hourly, monthly, scenarios

CLOUD = "aws"


def region(resource: dict[str, Any], ctx) -> str:
    return ctx.provider_region(resource) or default_region(ctx)


def default_region(ctx) -> str:
    """The cluster's region (where Karpenter launches nodes); else the first AWS provider's region."""
    for cluster in ctx.of_type("aws:eks/cluster:Cluster"):
        found = ctx.provider_region(cluster)
        if found:
            return found
    for provider in ctx.of_type("pulumi:providers:aws"):
        if provider["inputs"].get("region"):
            return provider["inputs"]["region"]
    return "us-east-1"


def instance_key(reg: str, instance_type: str, capacity: str) -> str:
    return f"{reg}/ec2/{instance_type}/{capacity}"


def nodes_charges(reg: str, instance_type: str, nodes: dict[str, float], spot: bool, what: str,
                  ctx) -> tuple[list[Charge], dict[str, Any]]:
    """Instance-hours for a pool, plus on-demand vs spot and the busy node-hour in the notes."""
    capacity = "spot" if spot else "on-demand"
    charge = hourly(f"{what}: {instance_type} {capacity} node-hours", instance_key(reg, instance_type, capacity), nodes,
                    f"{nodes['idle']:g} node(s) idle (minimum), {nodes['expected']:g} expected, {nodes['max']:g} at maximum, 730 h")
    on_demand, spot_price = (ctx.snapshot.price(CLOUD, instance_key(reg, instance_type, c)) for c in ("on-demand", "spot"))
    return [charge], usage.pool_notes(nodes, instance_type, spot, on_demand.usd if on_demand else None,
                                      spot_price.usd if spot_price else None)


def root_volume(reg: str, gb: float, nodes: dict[str, float], what: str) -> Charge:
    return monthly(f"{what}: gp3 root volumes", f"{reg}/ebs/gp3-gb-month",
                   {s: gb * n for s, n in nodes.items()}, f"{gb:g} GB gp3 per node")


def _launch_template_gb(resource: dict[str, Any], ctx) -> Optional[float]:
    template = ctx.dependency(resource, "aws:ec2/launchTemplate:LaunchTemplate")
    for mapping in (template or {}).get("inputs", {}).get("blockDeviceMappings", []):
        size = mapping.get("ebs", {}).get("volumeSize")
        if size:
            return float(size)
    return None


def eks_cluster(resource, ctx):
    support = resource["inputs"].get("upgradePolicy", {}).get("supportType", "STANDARD").lower()
    return [hourly("control plane", f"{region(resource, ctx)}/eks/cluster-hour/{support}", 1,
                   f"one cluster in {support} support, 730 h")]


def eks_node_group(resource, ctx):
    inputs = resource["inputs"]
    reg = region(resource, ctx)
    scaling = inputs.get("scalingConfig", {})
    nodes = scenarios(scaling.get("minSize", 0), scaling.get("desiredSize", scaling.get("minSize", 0)), scaling.get("maxSize", 0))
    instance_type = (inputs.get("instanceTypes") or ["t3.medium"])[0]
    charges, notes = nodes_charges(reg, instance_type, nodes, inputs.get("capacityType") == "SPOT", "nodes", ctx)
    gb = _launch_template_gb(resource, ctx) or float(inputs.get("diskSize", 20))
    charges.append(root_volume(reg, gb, nodes, "nodes"))
    return charges, notes


def rds_instance(resource, ctx):
    inputs = resource["inputs"]
    reg = region(resource, ctx)
    deployment = "multi-az" if inputs.get("multiAz") else "single-az"
    storage = inputs.get("allocatedStorage")
    source_note = ""
    if storage is None and inputs.get("replicateSourceDb"):
        source_id = str(inputs["replicateSourceDb"]).rsplit(":", 1)[-1]
        source = next((r for r in ctx.of_type(resource["type"]) if r["inputs"].get("identifier") == source_id), None)
        storage = (source or {}).get("inputs", {}).get("allocatedStorage")
        source_note = f" (a replica: storage as its source {source_id})"
    engine = inputs.get("engine", "postgres")
    charges = [hourly(f"{inputs.get('instanceClass')} {deployment} instance",
                      f"{reg}/rds/{engine}/{inputs.get('instanceClass')}/{deployment}", 1, f"one {deployment} instance, 730 h")]
    volume = inputs.get("storageType", "gp2")
    charges.append(monthly(f"{volume} storage", f"{reg}/rds/{volume}-gb-month/{deployment}", float(storage or 0),
                           f"{storage} GB allocated{source_note}; backups up to the database size are free"))
    return charges


def nat_gateway(resource, ctx):
    reg = region(resource, ctx)
    return usage.nat_charges(f"{reg}/vpc/nat-gateway-hour", f"{reg}/vpc/nat-gateway-gb")


def eip(resource, ctx):
    return [hourly("public IPv4 address", f"{region(resource, ctx)}/vpc/public-ipv4-hour", 1, "in use by a NAT gateway, 730 h")]


def vpc_endpoint(resource, ctx):
    inputs = resource["inputs"]
    if inputs.get("vpcEndpointType", "Gateway") != "Interface":
        return "gateway endpoints (S3, DynamoDB) have no hourly or data charge"
    zones = len(inputs.get("subnetIds", [])) or 1
    service = str(inputs.get("serviceName", "")).rsplit(".", 1)[-1]
    return [hourly(f"interface endpoint {service}", f"{region(resource, ctx)}/vpc/interface-endpoint-az-hour", zones,
                   f"{zones} availability zone(s), 730 h; data at $0.01/GB not included")]


def kms_key(resource, ctx):
    rotation = " with yearly rotation: each rotation adds a key version billed for the first two rotations" \
        if resource["inputs"].get("enableKeyRotation") else ""
    return [monthly("customer managed key", f"{region(resource, ctx)}/kms/key-month", 1,
                    f"one key (first year){rotation}; requests beyond the 20,000 free a month not included")]


def metric_alarm(resource, ctx):
    return [monthly("standard-resolution alarm", f"{region(resource, ctx)}/cloudwatch/alarm-metric-month", 1,
                    "one metric; the account's 10 free alarms are not deducted")]


def dashboard(resource, ctx):
    return [monthly("dashboard", f"{region(resource, ctx)}/cloudwatch/dashboard-month", 1,
                    "the account's 3 free dashboards are not deducted")]


def log_group(resource, ctx):
    reg = region(resource, ctx)
    retention = resource["inputs"].get("retentionInDays", 0)
    stored = usage.LOG_INGEST_GB * min(retention or 365, 365) / 30
    return [monthly("logs ingested", f"{reg}/logs/ingest-gb", usage.held(usage.LOG_INGEST_GB),
                    f"{usage.LOG_INGEST_GB} GB ingested a month (assumption: docs/cost.md)"),
            monthly("logs stored", f"{reg}/logs/storage-gb-month", usage.held(round(stored, 2)),
                    f"{retention or 'unlimited'}-day retention at that rate (compressed size taken as ingested)")]


def s3_bucket(resource, ctx):
    return [usage.held_storage("S3 Standard storage", f"{region(resource, ctx)}/s3/standard-gb-month", usage.OBJECT_STORAGE_GB,
                               "; requests and replication transfer not included")]


def ecr_repository(resource, ctx):
    return [usage.held_storage("image storage", f"{region(resource, ctx)}/ecr/storage-gb-month", usage.IMAGES_GB)]


def hosted_zone(resource, ctx):
    return [monthly("hosted zone", "global/route53/hosted-zone-month", 1, "one private hosted zone; queries not included")]


def dynamodb_table(resource, ctx):
    reg = region(resource, ctx)  # a replica's provider is the DR region's
    if resource["inputs"].get("billingMode", "PAY_PER_REQUEST") != "PAY_PER_REQUEST":
        return [Charge("provisioned capacity", f"{reg}/dynamodb/provisioned", scenarios(1, 1, 1), "provisioned read/write units",
                       reason="provisioned-capacity tables are not modelled (the stacks use on-demand)")]
    return [monthly("storage", f"{reg}/dynamodb/storage-gb-month", usage.held(usage.ONLINE_STORE_GB),
                    usage.HELD.format(usage.ONLINE_STORE_GB)),
            monthly("write requests (millions)", f"{reg}/dynamodb/write-request-million",
                    usage.traffic(usage.ONLINE_REQUESTS_MILLION), "1 million writes a month when busy (assumption)"),
            monthly("read requests (millions)", f"{reg}/dynamodb/read-request-million",
                    usage.traffic(usage.ONLINE_REQUESTS_MILLION), "1 million reads a month when busy (assumption)")]


def load_balancer_hour(reg: str) -> Charge:
    return hourly("network load balancer", f"{reg}/elb/nlb-hour", 1, "one load balancer, 730 h; capacity units not included")


def block_storage(reg: str, gb: float, what: str) -> Charge:
    return monthly(what, f"{reg}/ebs/gp3-gb-month", gb, f"{gb:g} GB gp3 (EBS CSI volume)")


RULES = {
    "aws:eks/cluster:Cluster": eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": eks_node_group,
    "aws:rds/instance:Instance": rds_instance,
    "aws:ec2/natGateway:NatGateway": nat_gateway,
    "aws:ec2/eip:Eip": eip,
    "aws:ec2/vpcEndpoint:VpcEndpoint": vpc_endpoint,
    "aws:kms/key:Key": kms_key,
    "aws:kms/replicaKey:ReplicaKey": kms_key,
    "aws:cloudwatch/metricAlarm:MetricAlarm": metric_alarm,
    "aws:cloudwatch/dashboard:Dashboard": dashboard,
    "aws:cloudwatch/logGroup:LogGroup": log_group,
    "aws:s3/bucket:Bucket": s3_bucket,
    "aws:ecr/repository:Repository": ecr_repository,
    "aws:route53/zone:Zone": hosted_zone,
    "aws:dynamodb/table:Table": dynamodb_table,
    "aws:dynamodb/tableReplica:TableReplica": dynamodb_table,
}

_CONFIG = "configuration of another resource; no charge of its own"
_NETWORK = "VPC building block; AWS bills no charge for it"
_IAM = "IAM is free"
FREE = {
    "aws:budgets/budget:Budget": "the first two budgets of an account are free (AWS Billing user guide)",
    "aws:cloudwatch/eventRule:EventRule": "events from AWS services to EventBridge's default bus are free",
    "aws:cloudwatch/eventTarget:EventTarget": _CONFIG,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _NETWORK,
    "aws:ec2/flowLog:FlowLog": "flow log records are billed as ingestion on their log group (priced there)",
    "aws:ec2/internetGateway:InternetGateway": _NETWORK,
    "aws:ec2/launchTemplate:LaunchTemplate": "a template: the instances and volumes it describes are priced on the node group",
    "aws:ec2/routeTable:RouteTable": _NETWORK,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _NETWORK,
    "aws:ec2/securityGroup:SecurityGroup": _NETWORK,
    "aws:ec2/subnet:Subnet": _NETWORK,
    "aws:ec2/tag:Tag": "a tag",
    "aws:ec2/vpc:Vpc": _NETWORK,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _NETWORK,
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _CONFIG,
    "aws:ecr/replicationConfiguration:ReplicationConfiguration":
        "configuration; replicated images are billed as storage on the destination registry and transfer (not estimated)",
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": _CONFIG,
    "aws:eks/accessEntry:AccessEntry": _CONFIG,
    "aws:eks/addon:Addon": "EKS add-ons run on the cluster's nodes (priced there)",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _IAM,
    "aws:iam/role:Role": _IAM,
    "aws:iam/rolePolicy:RolePolicy": _IAM,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _IAM,
    "aws:kms/alias:Alias": "aliases are free",
    "aws:rds/parameterGroup:ParameterGroup": _CONFIG,
    "aws:rds/subnetGroup:SubnetGroup": _CONFIG,
    "aws:route53/record:Record": "records are included in the hosted zone's charge",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _CONFIG,
    "aws:s3/bucketLogging:BucketLogging":
        "server access log delivery is free; the log objects are billed as storage on the log bucket (priced there)",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _CONFIG,
    "aws:s3/bucketPolicy:BucketPolicy": _CONFIG,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _CONFIG,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig":
        "configuration; replicated bytes are billed as storage on the replica bucket (priced there) and transfer (not estimated)",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _CONFIG,
    "aws:s3/bucketVersioning:BucketVersioning": _CONFIG,
    "aws:sns/topic:Topic": "alert volumes stay inside SNS's free tier (1 million requests, 1,000 emails a month)",
    "aws:sns/topicPolicy:TopicPolicy": _CONFIG,
    "aws:sns/topicSubscription:TopicSubscription": _CONFIG,
    "aws:sqs/queue:Queue": "interruption-notice volumes stay inside SQS's free tier (1 million requests a month)",
    "aws:sqs/queuePolicy:QueuePolicy": _CONFIG,
}
