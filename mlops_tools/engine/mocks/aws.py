"""AWS answers for the offline preview: resource outputs (`OUTPUTS`) and invokes (`INVOKES`) in AWS's real shapes.

Add a resource type by writing one function in `OUTPUTS`: it receives a `MockContext` and returns the
physical id and the outputs that differ from the inputs.

Where these answers still differ from the real APIs in a way that changes what the program builds
(checked against pulumi-aws 7.51.1 and the EC2, EKS and RDS docs):

- ``getAvailabilityZones``: six zones a-f with zone ids ``use1-az1..6`` in every region; really the
  region's own zones (us-west-2 has four, many regions three, opt-in zones differ). The first
  ``azCount`` names are the subnets' zones; a region with fewer zones than ``azCount`` fails only for real.
- ``eks.getAddonVersion``: fixed add-on versions (``EKS_ADDON_VERSIONS``); really EKS's default for the
  cluster's Kubernetes version, which the plan pins on each managed add-on.
- ``getCallerIdentity``: account 123456789012, role ``offline-preview``; really the deploying account,
  which every ARN, key policy and trust policy in the plan carries.
- RDS answers no ``engineVersionActual``: a major version (``16``) really resolves to RDS's current minor.
- Nothing is refused: an engine or EKS version RDS/EKS no longer creates, an instance type a zone does
  not offer, a Spot vCPU quota, an SCP or a missing service-linked role fail only for real. Versions are
  caught offline by the config check and the AWS pack (support windows); the rest are not.
- Helm releases (Karpenter, External Secrets Operator) are recorded, not fetched: a chart version missing
  from its repository, or a runner without HTTPS to it, fails only for real.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Callable, Optional

from mlops_tools.engine.mocks.common import AWS_ACCOUNT_ID, MockContext, Outputs, stable_hex, stable_uuid

def _aws_service(type_token: str) -> str:
    module = type_token.split(":")[1].split("/")[0]
    return {"cloudwatch": "logs", "ec2": "ec2", "iam": "iam"}.get(module, module.lower())


def _s3_bucket(ctx: MockContext) -> Outputs:
    bucket = ctx.autoname("bucket")
    return bucket, {
        "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "region": ctx.region,
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{ctx.region}.amazonaws.com",
        "hostedZoneId": "Z3AQBSTGFYJSTF",
    }


def _bucket_child(ctx: MockContext) -> Outputs:
    """S3 bucket sub-resources (encryption, versioning, policy...) are identified by their bucket."""
    return str(ctx.inputs.get("bucket", ctx.name)), {}


def _kms_key(ctx: MockContext) -> Outputs:
    key_id = stable_uuid(ctx.urn)
    return key_id, {"keyId": key_id, "arn": ctx.arn("kms", f"key/{key_id}")}


def _kms_replica_key(ctx: MockContext) -> Outputs:
    return _kms_key(ctx)


def _kms_alias(ctx: MockContext) -> Outputs:
    name = ctx.autoname()
    return name, {"name": name, "arn": ctx.arn("kms", name), "targetKeyArn": ctx.inputs.get("targetKeyId")}


def _iam_named(kind: str) -> Callable[[MockContext], Outputs]:
    def outputs(ctx: MockContext) -> Outputs:
        name = ctx.autoname(max_length=64)
        path = ctx.inputs.get("path") or "/"
        arn = ctx.arn("iam", f"{kind}{path}{name}", regional=False)
        physical_id = arn if kind == "policy" else name
        return physical_id, {"name": name, "arn": arn, "uniqueId": "AROA" + ctx.hex(17).upper()}
    return outputs


def _iam_oidc_provider(ctx: MockContext) -> Outputs:
    url = str(ctx.inputs.get("url", "")).removeprefix("https://")
    arn = ctx.arn("iam", f"oidc-provider/{url}", regional=False)
    return arn, {"arn": arn}


def _ec2_id(prefix: str) -> Callable[[MockContext], Outputs]:
    def outputs(ctx: MockContext) -> Outputs:
        physical_id = f"{prefix}-{ctx.hex(17)}"
        extra: dict[str, Any] = {"arn": ctx.arn("ec2", f"{prefix}/{physical_id}")}
        if prefix == "eipalloc":
            extra.update(allocationId=physical_id, publicIp=f"203.0.113.{int(ctx.hex(2), 16) % 254 + 1}")
        if prefix == "vpc":
            extra.update(defaultSecurityGroupId=f"sg-{ctx.hex(17, 'sg')}", mainRouteTableId=f"rtb-{ctx.hex(17, 'rtb')}",
                         defaultNetworkAclId=f"acl-{ctx.hex(17, 'acl')}")
        if prefix == "lt":
            extra.update(latestVersion=1, defaultVersion=1)
        return physical_id, extra
    return outputs


def _eks_cluster(ctx: MockContext) -> Outputs:
    name = ctx.autoname()
    issuer_id = ctx.hex(32).upper()
    vpc_config = dict(ctx.inputs.get("vpcConfig") or {})
    vpc_config.update(clusterSecurityGroupId=f"sg-{ctx.hex(17, 'cluster-sg')}", vpcId=f"vpc-{ctx.hex(17, 'vpc')}")
    return name, {
        "name": name, "arn": ctx.arn("eks", f"cluster/{name}"),
        "endpoint": f"https://{issuer_id}.gr7.{ctx.region}.eks.amazonaws.com",
        "certificateAuthority": {"data": base64.b64encode(f"offline-ca-{ctx.hex(16)}".encode()).decode()},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{ctx.region}.amazonaws.com/id/{issuer_id}"}]}],
        "platformVersion": "eks.1", "status": "ACTIVE", "vpcConfig": vpc_config,
    }


def _eks_node_group(ctx: MockContext) -> Outputs:
    cluster = ctx.inputs.get("clusterName", "cluster")
    name = ctx.autoname("nodeGroupName")
    return f"{cluster}:{name}", {
        "nodeGroupName": name, "arn": ctx.arn("eks", f"nodegroup/{cluster}/{name}/{stable_uuid(ctx.urn)}"),
        "resources": [{"autoscalingGroups": [{"name": f"eks-{name}-{stable_uuid(ctx.urn)}"}], "remoteAccessSecurityGroupId": ""}],
        "status": "ACTIVE",
    }


def _rds_instance(ctx: MockContext) -> Outputs:
    identifier = ctx.autoname("identifier")
    address = f"{identifier}.c{ctx.hex(11)}.{ctx.region}.rds.amazonaws.com"
    port = ctx.inputs.get("port") or 5432
    outputs: dict[str, Any] = {
        "identifier": identifier, "arn": ctx.arn("rds", f"db:{identifier}"), "address": address,
        "endpoint": f"{address}:{port}", "port": port, "resourceId": "db-" + ctx.hex(26).upper(),
        "hostedZoneId": "Z2R2ITUGPM61AM", "status": "available",
    }
    if ctx.inputs.get("manageMasterUserPassword"):
        outputs["masterUserSecrets"] = [{
            "secretArn": ctx.arn("secretsmanager", f"secret:rds!db-{stable_uuid(ctx.urn)}-{ctx.hex(6)}"),
            "kmsKeyId": ctx.inputs.get("masterUserSecretKmsKeyId") or ctx.arn("kms", "alias/aws/secretsmanager"),
            "secretStatus": "active",
        }]
    return identifier, outputs


def _named_arn(service: str, resource_format: str, name_key: str = "name") -> Callable[[MockContext], Outputs]:
    """Resources whose id is their name and whose ARN is '<service>:<region>:<account>:<format>'."""
    def outputs(ctx: MockContext) -> Outputs:
        name = ctx.autoname(name_key)
        return name, {name_key: name, "arn": ctx.arn(service, resource_format.format(name=name))}
    return outputs


def _dynamodb_table(ctx: MockContext) -> Outputs:
    name = ctx.autoname()
    arn = ctx.arn("dynamodb", f"table/{name}")
    return name, {"name": name, "arn": arn, "streamArn": f"{arn}/stream/2026-01-01T00:00:00.000",
                  "streamLabel": "2026-01-01T00:00:00.000"}


def _dynamodb_table_replica(ctx: MockContext) -> Outputs:
    """A global-table replica: the same table name, in the replica's (provider's) region."""
    global_arn = str(ctx.inputs.get("globalTableArn", ""))
    table = global_arn.rsplit("table/", 1)[-1] or ctx.name
    main_region = global_arn.split(":")[3] if global_arn.count(":") >= 5 else ctx.region
    return f"{table}:{main_region}", {"arn": ctx.arn("dynamodb", f"table/{table}")}


def _sqs_queue(ctx: MockContext) -> Outputs:
    name = ctx.autoname(max_length=80)
    if ctx.inputs.get("fifoQueue") and not name.endswith(".fifo"):
        name += ".fifo"
    url = f"https://sqs.{ctx.region}.amazonaws.com/{AWS_ACCOUNT_ID}/{name}"
    return url, {"name": name, "arn": ctx.arn("sqs", name), "url": url}


def _sns_topic(ctx: MockContext) -> Outputs:
    name = ctx.autoname(max_length=256)
    arn = ctx.arn("sns", name)
    return arn, {"name": name, "arn": arn}


def _sns_subscription(ctx: MockContext) -> Outputs:
    arn = f"{ctx.inputs.get('topic', ctx.arn('sns', 'topic'))}:{stable_uuid(ctx.urn)}"
    return arn, {"arn": arn}


def _ecr_repository(ctx: MockContext) -> Outputs:
    name = ctx.autoname()
    return name, {"name": name, "arn": ctx.arn("ecr", f"repository/{name}"), "registryId": AWS_ACCOUNT_ID,
                  "repositoryUrl": f"{AWS_ACCOUNT_ID}.dkr.ecr.{ctx.region}.amazonaws.com/{name}"}


def _secret(ctx: MockContext) -> Outputs:
    name = ctx.autoname(max_length=512)
    arn = ctx.arn("secretsmanager", f"secret:{name}-{ctx.hex(6)}")
    return arn, {"name": name, "arn": arn}


def _log_group(ctx: MockContext) -> Outputs:
    name = ctx.autoname(max_length=512)
    return name, {"name": name, "arn": ctx.arn("logs", f"log-group:{name}")}


def _route53_zone(ctx: MockContext) -> Outputs:
    zone_id = "Z" + ctx.hex(20).upper()
    return zone_id, {"zoneId": zone_id, "arn": f"arn:aws:route53:::hostedzone/{zone_id}",
                     "nameServers": [f"ns-{int(ctx.hex(3), 16)}.awsdns-00.com"]}


def _route53_record(ctx: MockContext) -> Outputs:
    fqdn = str(ctx.inputs.get("name", ctx.name))
    return f"{ctx.inputs.get('zoneId', 'Z')}_{fqdn}_{ctx.inputs.get('type', 'A')}", {"fqdn": fqdn}


def _generic_aws(ctx: MockContext) -> Outputs:
    module, kind = ctx.type.split(":")[1].split("/")
    physical_id = f"{ctx.name}-{ctx.hex(7)}"
    return physical_id, {"arn": ctx.arn(_aws_service(ctx.type), f"{kind.lower()}/{physical_id}")}


OUTPUTS: dict[str, Callable[[MockContext], Outputs]] = {
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:s3/bucketV2:BucketV2": _s3_bucket,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/replicaKey:ReplicaKey": _kms_replica_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:iam/role:Role": _iam_named("role"),
    "aws:iam/policy:Policy": _iam_named("policy"),
    "aws:iam/instanceProfile:InstanceProfile": _iam_named("instance-profile"),
    "aws:iam/user:User": _iam_named("user"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _iam_oidc_provider,
    "aws:ec2/vpc:Vpc": _ec2_id("vpc"),
    "aws:ec2/subnet:Subnet": _ec2_id("subnet"),
    "aws:ec2/securityGroup:SecurityGroup": _ec2_id("sg"),
    "aws:ec2/internetGateway:InternetGateway": _ec2_id("igw"),
    "aws:ec2/natGateway:NatGateway": _ec2_id("nat"),
    "aws:ec2/eip:Eip": _ec2_id("eipalloc"),
    "aws:ec2/routeTable:RouteTable": _ec2_id("rtb"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _ec2_id("vpce"),
    "aws:ec2/launchTemplate:LaunchTemplate": _ec2_id("lt"),
    "aws:ec2/flowLog:FlowLog": _ec2_id("fl"),
    "aws:ec2/networkAcl:NetworkAcl": _ec2_id("acl"),
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _eks_node_group,
    "aws:rds/instance:Instance": _rds_instance,
    "aws:rds/subnetGroup:SubnetGroup": _named_arn("rds", "subgrp:{name}"),
    "aws:rds/parameterGroup:ParameterGroup": _named_arn("rds", "pg:{name}"),
    "aws:dynamodb/table:Table": _dynamodb_table,
    "aws:dynamodb/tableReplica:TableReplica": _dynamodb_table_replica,
    "aws:sqs/queue:Queue": _sqs_queue,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:sns/topicSubscription:TopicSubscription": _sns_subscription,
    "aws:ecr/repository:Repository": _ecr_repository,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/eventRule:EventRule": _named_arn("events", "rule/{name}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _named_arn("cloudwatch", "alarm:{name}"),
    "aws:cloudwatch/dashboard:Dashboard": _named_arn("cloudwatch", "dashboard/{name}", "dashboardName"),
    "aws:route53/zone:Zone": _route53_zone,
    "aws:route53/record:Record": _route53_record,
    "aws:budgets/budget:Budget": _named_arn("budgets", "budget/{name}"),
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": _named_arn("sagemaker", "model-package-group/{name}", "modelPackageGroupName"),
}
for _child in ("BucketServerSideEncryptionConfiguration", "BucketVersioning", "BucketPolicy", "BucketPublicAccessBlock",
               "BucketLifecycleConfiguration", "BucketReplicationConfig", "BucketOwnershipControls", "BucketLogging"):
    _module_name = _child[0].lower() + _child[1:]
    OUTPUTS[f"aws:s3/{_module_name}:{_child}"] = _bucket_child
    OUTPUTS[f"aws:s3/{_module_name}V2:{_child}V2"] = _bucket_child


def _render_policy_document(args: dict[str, Any]) -> dict[str, Any]:
    """aws.iam.getPolicyDocument, rendered the way the provider renders it (lists kept as lists)."""
    statements = []
    for statement in args.get("statements") or []:
        rendered: dict[str, Any] = {}
        if statement.get("sid"):
            rendered["Sid"] = statement["sid"]
        rendered["Effect"] = statement.get("effect", "Allow")
        for key, field in (("actions", "Action"), ("notActions", "NotAction"), ("resources", "Resource"), ("notResources", "NotResource")):
            if statement.get(key):
                values = list(statement[key])
                rendered[field] = values[0] if len(values) == 1 else values
        for key, field in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if statement.get(key):
                principal: dict[str, Any] = {}
                for entry in statement[key]:
                    ids = list(entry.get("identifiers", []))
                    principal[entry["type"]] = ids[0] if len(ids) == 1 else ids
                rendered[field] = "*" if principal == {"*": "*"} else principal
        if statement.get("conditions"):
            condition: dict[str, dict[str, Any]] = {}
            for entry in statement["conditions"]:
                values = list(entry.get("values", []))
                condition.setdefault(entry["test"], {})[entry["variable"]] = values[0] if len(values) == 1 else values
            rendered["Condition"] = condition
        statements.append(rendered)
    document = {"Version": args.get("version") or "2012-10-17", "Statement": statements}
    return {"json": json.dumps(document, indent=2), "minifiedJson": json.dumps(document, separators=(",", ":")), "id": stable_hex(json.dumps(document), 10)}


def _availability_zones(region: str) -> dict[str, Any]:
    letters = "abcdef"
    return {"names": [f"{region}{letter}" for letter in letters], "zoneIds": [f"use1-az{i + 1}" for i in range(6)],
            "id": region, "state": "available"}


# Default EKS add-on versions in the shape AWS answers (offline stand-ins; the real CLI asks EKS).
EKS_ADDON_VERSIONS = {"vpc-cni": "v1.19.5-eksbuild.1", "coredns": "v1.12.1-eksbuild.2",
                      "aws-ebs-csi-driver": "v1.44.0-eksbuild.1"}


def _eks_addon_version(args: dict[str, Any]) -> dict[str, Any]:
    addon, kubernetes = str(args.get("addonName")), str(args.get("kubernetesVersion"))
    version = EKS_ADDON_VERSIONS.get(addon) or (f"v{kubernetes}.0-eksbuild.1" if addon == "kube-proxy" else "v1.0.0-eksbuild.1")
    return {"addonName": addon, "kubernetesVersion": kubernetes, "mostRecent": bool(args.get("mostRecent")),
            "version": version, "id": addon}


# pulumi-aws v7 accepts these as a JSON string or a PolicyDocument object (also inlinePolicies[].policy);
# its outputs are typed str: the provider marshals the object to JSON (Go encoding/json: compact, keys
# sorted) before the AWS API sees it, and the state keeps that string. Answering with the dict makes the
# SDK fail ("expected a value of type str"). Whether AWS later normalises the JSON is not visible offline.
POLICY_DOCUMENT_PROPS = ("policy", "assumeRolePolicy", "accessPolicies")


def _document_json(value: Any) -> Any:
    return json.dumps(value, sort_keys=True, separators=(",", ":")) if isinstance(value, dict) else value


def policy_documents_as_json(outputs: dict[str, Any]) -> dict[str, Any]:
    """``outputs`` with every object-valued policy document replaced by the JSON string the provider returns."""
    result = dict(outputs)
    for prop in POLICY_DOCUMENT_PROPS:
        if prop in result:
            result[prop] = _document_json(result[prop])
    if isinstance(result.get("inlinePolicies"), list):
        result["inlinePolicies"] = [{**item, "policy": _document_json(item["policy"])}
                                    if isinstance(item, dict) and "policy" in item else item
                                    for item in result["inlinePolicies"]]
    return result


def answer(ctx: MockContext) -> Outputs:
    physical_id, extra = OUTPUTS.get(ctx.type, _generic_aws)(ctx)
    return physical_id, policy_documents_as_json({**ctx.inputs, **extra})


INVOKES: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda args, region: {
        "accountId": AWS_ACCOUNT_ID, "arn": f"arn:aws:iam::{AWS_ACCOUNT_ID}:role/offline-preview",
        "userId": "AROAOFFLINEPREVIEW", "id": AWS_ACCOUNT_ID},
    "aws:index/getRegion:getRegion": lambda args, region: {
        "name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com", "description": region},
    "aws:index/getPartition:getPartition": lambda args, region: {
        "partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"},
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda args, region: _availability_zones(region),
    "aws:iam/getPolicyDocument:getPolicyDocument": lambda args, region: _render_policy_document(args),
    "aws:eks/getAddonVersion:getAddonVersion": lambda args, region: _eks_addon_version(args),
}
INVOKES["aws:getRegion"] = INVOKES["aws:index/getRegion:getRegion"]


def arn_region(arn: str) -> Optional[str]:
    """The region inside an ARN (tests use it to check where a resource lives)."""
    match = re.match(r"^arn:aws:[^:]+:([a-z0-9-]*):", arn)
    return match.group(1) if match else None
