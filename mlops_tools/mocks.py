"""Realistic engine answers for the offline preview.

Policies correlate resources by the values a real preview would show (a bucket's id is its name,
a key's ARN carries its region), so the mocks answer in the clouds' real shapes. Every value is
derived from the resource's URN: the same program gives the same plan, byte for byte.

Add a type by writing one function in `AWS_OUTPUTS` / `AZURE_OUTPUTS` / `GCP_OUTPUTS`: it receives a
`MockContext` and returns the outputs that differ from the inputs, plus the physical id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Optional

import pulumi

from .mock_policy_documents import policy_documents_as_json

AWS_ACCOUNT_ID = "123456789012"
AZURE_SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000000"
AZURE_TENANT_ID = "11111111-1111-4111-8111-111111111111"
GCP_PROJECT = "mlops-offline-preview"


def stable_hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def stable_uuid(seed: str) -> str:
    return str(uuid.UUID(hashlib.sha256(seed.encode()).hexdigest()[:32], version=4))


@dataclass
class MockContext:
    """What an output function may use: the request and where its provider points."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    region: str
    provider_inputs: dict[str, Any]

    def hex(self, length: int, salt: str = "") -> str:
        return stable_hex(self.urn + salt, length)

    def autoname(self, key: str = "name", max_length: int = 63) -> str:
        """The physical name: the input if given, else Pulumi's autoname (name + 7 hex chars)."""
        given = self.inputs.get(key)
        if isinstance(given, str) and given:
            return given
        prefix = self.inputs.get(f"{key}Prefix")
        if isinstance(prefix, str) and prefix:
            return (prefix + self.hex(26))[:max_length]
        return f"{self.name}-{self.hex(7)}"[:max_length]

    def arn(self, service: str, resource: str, regional: bool = True, account: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if regional else ''}:{AWS_ACCOUNT_ID if account else ''}:{resource}"


Outputs = tuple[str, dict[str, Any]]  # (physical id, outputs that add to or override the inputs)


# --- AWS -------------------------------------------------------------------------------------

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


AWS_OUTPUTS: dict[str, Callable[[MockContext], Outputs]] = {
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
    AWS_OUTPUTS[f"aws:s3/{_module_name}:{_child}"] = _bucket_child
    AWS_OUTPUTS[f"aws:s3/{_module_name}V2:{_child}V2"] = _bucket_child


# --- Azure and GCP ---------------------------------------------------------------------------

# Resource-provider namespaces and collections whose spelling the generic rule below cannot guess.
AZURE_NAMESPACES = {"keyvault": "Microsoft.KeyVault", "dbforpostgresql": "Microsoft.DBforPostgreSQL",
                    "containerservice": "Microsoft.ContainerService", "managedidentity": "Microsoft.ManagedIdentity",
                    "machinelearningservices": "Microsoft.MachineLearningServices",
                    "operationalinsights": "Microsoft.OperationalInsights", "containerregistry": "Microsoft.ContainerRegistry",
                    "redisenterprise": "Microsoft.Cache", "insights": "Microsoft.Insights", "monitor": "Microsoft.Insights",
                    "privatedns": "Microsoft.Network"}
AZURE_COLLECTIONS = {"dbforpostgresql:Server": "flexibleServers",
                     "managedidentity:UserAssignedIdentity": "userAssignedIdentities",
                     "compute:DiskEncryptionSet": "diskEncryptionSets",
                     "redisenterprise:RedisEnterprise": "redisEnterprise",
                     "network:PublicIPAddress": "publicIPAddresses", "privatedns:PrivateZone": "privateDnsZones"}


def _azure_resource(ctx: MockContext) -> Outputs:
    """azure-native ids: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.<Module>/<kind>s/<name>."""
    module, kind = ctx.type.split(":")[1:3]
    name_key = next((k for k in ctx.inputs if k.endswith("Name") and k != "resourceGroupName"
                     and k[: -len("Name")].lower() == kind.lower()), None)
    name = str(ctx.inputs.get(name_key)) if name_key else f"{ctx.name}{ctx.hex(8)}"
    if kind == "ResourceGroup":
        name = str(ctx.inputs.get("resourceGroupName") or name)
        return f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/resourceGroups/{name}", {"name": name, "location": ctx.region}
    group = ctx.inputs.get("resourceGroupName", "rg")
    namespace = AZURE_NAMESPACES.get(module, "Microsoft." + module[0].upper() + module[1:])
    collection = AZURE_COLLECTIONS.get(f"{module}:{kind}", kind[0].lower() + kind[1:] + "s")
    resource_id = f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/resourceGroups/{group}/providers/{namespace}/{collection}/{name}"
    return resource_id, {"name": name, "location": ctx.inputs.get("location", ctx.region)}


def _azure_child(parent_module: str, parent_kind: str, parent_key: str, collection: str, name_key: str):
    """Sub-resources (a vault's keys, a server's configurations): <parent id>/<collection>/<name>."""
    def outputs(ctx: MockContext) -> Outputs:
        parent_id, _ = _azure_resource(MockContext(f"azure-native:{parent_module}:{parent_kind}", ctx.name, ctx.urn,
                                                   {"resourceGroupName": ctx.inputs.get("resourceGroupName", "rg"),
                                                    parent_key: ctx.inputs.get(parent_key, "parent")},
                                                   ctx.region, ctx.provider_inputs))
        if ctx.inputs.get(parent_key):  # the parent's name as given, whatever its name property is called
            parent_id = parent_id.rsplit("/", 1)[0] + f"/{ctx.inputs[parent_key]}"
        name = str(ctx.inputs.get(name_key) or f"{ctx.name}{ctx.hex(8)}")
        return f"{parent_id}/{collection}/{name}", {"name": name}
    return outputs


def _key_vault(ctx: MockContext) -> Outputs:
    resource_id, extra = _azure_resource(ctx)
    properties = dict(ctx.inputs.get("properties") or {})
    properties["vaultUri"] = f"https://{extra['name']}.vault.azure.net/"
    return resource_id, {**extra, "properties": properties}


def _key_vault_key(ctx: MockContext) -> Outputs:
    resource_id, extra = _azure_child("keyvault", "Vault", "vaultName", "keys", "keyName")(ctx)
    uri = f"https://{ctx.inputs.get('vaultName', 'vault')}.vault.azure.net/keys/{extra['name']}"
    return resource_id, {**extra, "keyUri": uri, "keyUriWithVersion": f"{uri}/{ctx.hex(32)}"}


def _user_assigned_identity(ctx: MockContext) -> Outputs:
    resource_id, extra = _azure_resource(ctx)
    return resource_id, {**extra, "principalId": stable_uuid(ctx.urn + "principal"),
                         "clientId": stable_uuid(ctx.urn + "client"), "tenantId": AZURE_TENANT_ID}


def _role_assignment(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("roleAssignmentName") or stable_uuid(ctx.urn))
    scope = str(ctx.inputs.get("scope") or f"/subscriptions/{AZURE_SUBSCRIPTION_ID}")
    return f"{scope.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments/{name}", {"name": name}


def _azure_identity(ctx: MockContext) -> dict[str, Any]:
    """A managed identity block as Azure returns it: user-assigned ids given as a list come back as a map."""
    identity = ctx.inputs.get("identity")
    if not isinstance(identity, dict) or not isinstance(identity.get("userAssignedIdentities"), list):
        return {}
    assigned = {str(i): {"principalId": stable_uuid(f"{i}principal"), "clientId": stable_uuid(f"{i}client")}
                for i in identity["userAssignedIdentities"]}
    return {"identity": {**identity, "userAssignedIdentities": assigned}}


def _azure_named(name_key: str, **fields: str):
    """A top-level resource named by `name_key`, with outputs derived from its name and location
    (templates use {name} and {location}), e.g. a PostgreSQL server's FQDN."""
    def outputs(ctx: MockContext) -> Outputs:
        resource_id, extra = _azure_resource(ctx)
        given = ctx.inputs.get(name_key)
        if given:
            resource_id = resource_id.rsplit("/", 1)[0] + f"/{given}"
            extra["name"] = str(given)
        values = {"name": extra["name"], "location": str(extra.get("location") or ctx.region).replace(" ", "").lower()}
        return resource_id, {**extra, **{k: v.format(**values) for k, v in fields.items()}}
    return outputs


def _managed_cluster(ctx: MockContext) -> Outputs:
    """AKS: public and private FQDNs, the OIDC issuer URL and the node resource group, as Azure returns them."""
    resource_id, extra = _azure_resource(ctx)
    if ctx.inputs.get("resourceName"):  # the cluster's name property
        extra["name"] = str(ctx.inputs["resourceName"])
        resource_id = resource_id.rsplit("/", 1)[0] + "/" + extra["name"]
    location = str(ctx.inputs.get("location") or ctx.region)
    prefix = ctx.inputs.get("dnsPrefix") or extra["name"]
    oidc = dict(ctx.inputs.get("oidcIssuerProfile") or {})
    if oidc.get("enabled"):
        oidc["issuerURL"] = f"https://{location}.oic.prod-aks.azure.com/{AZURE_TENANT_ID}/{stable_uuid(ctx.urn + 'oidc')}/"
    return resource_id, {**extra, "fqdn": f"{prefix}-{ctx.hex(8)}.hcp.{location}.azmk8s.io",
                         "privateFQDN": f"{prefix}-{ctx.hex(8)}.{stable_uuid(ctx.urn + 'dns')}.privatelink.{location}.azmk8s.io",
                         "oidcIssuerProfile": oidc,
                         "nodeResourceGroup": ctx.inputs.get("nodeResourceGroup") or f"MC_{extra['name']}_{location}"}


def _public_ip(ctx: MockContext) -> Outputs:
    resource_id, extra = _azure_resource(ctx)
    digest = bytes.fromhex(ctx.hex(6))
    return resource_id, {**extra, "ipAddress": f"20.{digest[0]}.{digest[1]}.{digest[2] or 1}"}


def _aks_user_kubeconfig(args: dict[str, Any]) -> dict[str, Any]:
    """listManagedClusterUserCredentials(format=exec): a kubeconfig that signs in through kubelogin."""
    name = str(args.get("resourceName") or "aks")
    server = f"https://{name}.hcp.westeurope.azmk8s.io:443"
    config = (f"apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n"
              f"    certificate-authority-data: {base64.b64encode(b'offline-ca').decode()}\n"
              f"contexts:\n- name: {name}\n  context: {{cluster: {name}, user: clusterUser_{name}}}\n"
              f"current-context: {name}\nusers:\n- name: clusterUser_{name}\n  user:\n    exec:\n"
              f"      apiVersion: client.authentication.k8s.io/v1beta1\n      command: kubelogin\n"
              f"      args: [get-token, --login, azurecli, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]\n")
    return {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(config.encode()).decode()}]}


def _object_replication_policy(ctx: MockContext) -> Outputs:
    """Azure assigns the policy id and rule ids on the destination account ("default" asks for new ones);
    the source account's policy repeats them."""
    given = str(ctx.inputs.get("objectReplicationPolicyId") or "default")
    policy_id = stable_uuid(ctx.urn + "policy") if given == "default" else given
    resource_id, _ = _azure_child("storage", "StorageAccount", "accountName", "objectReplicationPolicies",
                                  "objectReplicationPolicyId")(MockContext(
                                      ctx.type, ctx.name, ctx.urn, {**ctx.inputs, "objectReplicationPolicyId": policy_id},
                                      ctx.region, ctx.provider_inputs))
    rules = [{**rule, "ruleId": rule.get("ruleId") or stable_uuid(f"{ctx.urn}rule{index}")}
             for index, rule in enumerate(ctx.inputs.get("rules") or [])]
    return resource_id, {"name": policy_id, "policyId": policy_id, "rules": rules}


AZURE_OUTPUTS: dict[str, Callable[[MockContext], Outputs]] = {
    "azure-native:containerservice:ManagedCluster": _managed_cluster,
    "azure-native:network:PublicIPAddress": _public_ip,
    "azure-native:keyvault:Vault": _key_vault,
    "azure-native:keyvault:Key": _key_vault_key,
    "azure-native:managedidentity:UserAssignedIdentity": _user_assigned_identity,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azure-native:dbforpostgresql:Configuration": _azure_child("dbforpostgresql", "Server", "serverName",
                                                               "configurations", "configurationName"),
    "azure-native:storage:EncryptionScope": _azure_child("storage", "StorageAccount", "accountName",
                                                         "encryptionScopes", "encryptionScopeName"),
    "azure-native:network:Subnet": _azure_child("network", "VirtualNetwork", "virtualNetworkName", "subnets", "subnetName"),
    "azure-native:network:PrivateDnsZoneGroup": _azure_child("network", "PrivateEndpoint", "privateEndpointName",
                                                             "privateDnsZoneGroups", "privateDnsZoneGroupName"),
    "azure-native:privatedns:VirtualNetworkLink": _azure_child("privatedns", "PrivateZone", "privateZoneName",
                                                               "virtualNetworkLinks", "virtualNetworkLinkName"),
    "azure-native:containerservice:AgentPool": _azure_child("containerservice", "ManagedCluster", "resourceName",
                                                            "agentPools", "agentPoolName"),
    "azure-native:managedidentity:FederatedIdentityCredential": _azure_child(
        "managedidentity", "UserAssignedIdentity", "resourceName", "federatedIdentityCredentials",
        "federatedIdentityCredentialResourceName"),
    "azure-native:storage:StorageAccount": _azure_named("accountName"),
    "azure-native:storage:ObjectReplicationPolicy": _object_replication_policy,
    "azure-native:storage:BlobContainer": _azure_child("storage", "StorageAccount", "accountName",
                                                       "blobServices/default/containers", "containerName"),
    "azure-native:dbforpostgresql:Server": _azure_named("serverName",
                                                        fullyQualifiedDomainName="{name}.postgres.database.azure.com"),
    "azure-native:dbforpostgresql:Database": _azure_child("dbforpostgresql", "Server", "serverName",
                                                          "databases", "databaseName"),
    "azure-native:containerregistry:Registry": _azure_named("registryName", loginServer="{name}.azurecr.io"),
    "azure-native:containerregistry:Replication": _azure_child("containerregistry", "Registry", "registryName",
                                                               "replications", "replicationName"),
    "azure-native:redisenterprise:RedisEnterprise": _azure_named("clusterName",
                                                                 hostName="{name}.{location}.redis.azure.net"),
    "azure-native:redisenterprise:Database": _azure_child("redisenterprise", "RedisEnterprise", "clusterName",
                                                          "databases", "databaseName"),
}


def _gcp_resource(ctx: MockContext) -> Outputs:
    module, kind = ctx.type.split(":")[1].split("/")
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    project = ctx.inputs.get("project") or ctx.provider_inputs.get("project") or GCP_PROJECT
    path = f"projects/{project}/locations/{ctx.inputs.get('location', ctx.region)}/{kind}s/{name}"
    return path, {"name": name, "project": project, "selfLink": f"https://www.googleapis.com/{module}/v1/{path}"}


def _gcp_project(ctx: MockContext) -> str:
    return str(ctx.inputs.get("project") or ctx.provider_inputs.get("project") or GCP_PROJECT)


def _gcp_key_ring(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    key_ring = f"projects/{_gcp_project(ctx)}/locations/{ctx.inputs.get('location', ctx.region)}/keyRings/{name}"
    return key_ring, {"name": name, "project": _gcp_project(ctx)}


def _gcp_crypto_key(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    return f"{ctx.inputs.get('keyRing', 'projects/p/locations/l/keyRings/r')}/cryptoKeys/{name}", {"name": name}


def _gcp_network(ctx: MockContext) -> Outputs:
    name, project = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}"), _gcp_project(ctx)
    path = f"projects/{project}/global/networks/{name}"
    return path, {"name": name, "project": project, "selfLink": f"https://www.googleapis.com/compute/v1/{path}"}


def _gcp_subnetwork(ctx: MockContext) -> Outputs:
    name, project = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}"), _gcp_project(ctx)
    path = f"projects/{project}/regions/{ctx.inputs.get('region') or ctx.region}/subnetworks/{name}"
    return path, {"name": name, "project": project, "selfLink": f"https://www.googleapis.com/compute/v1/{path}"}


def _gcs_bucket(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    return name, {"name": name, "project": _gcp_project(ctx), "url": f"gs://{name}",
                  "selfLink": f"https://www.googleapis.com/storage/v1/b/{name}"}


def _cloud_sql_instance(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    project, region = _gcp_project(ctx), ctx.inputs.get("region", ctx.region)
    return name, {"name": name, "project": project, "connectionName": f"{project}:{region}:{name}",
                  "privateIpAddress": f"10.{int(ctx.hex(2), 16)}.0.3",
                  "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{project}/instances/{name}"}


def _gke_cluster(ctx: MockContext) -> Outputs:
    name = str(ctx.inputs.get("name") or f"{ctx.name}-{ctx.hex(7)}")
    project, location = _gcp_project(ctx), ctx.inputs.get("location", ctx.region)
    return f"projects/{project}/locations/{location}/clusters/{name}", {
        "name": name, "project": project, "endpoint": f"10.{int(ctx.hex(2), 16)}.0.2",
        "masterAuth": {**(ctx.inputs.get("masterAuth") or {}),
                       "clusterCaCertificate": base64.b64encode(f"ca of {name}".encode()).decode()},
        "selfLink": f"https://container.googleapis.com/v1/projects/{project}/locations/{location}/clusters/{name}"}


def _gcp_service_account(ctx: MockContext) -> Outputs:
    project = _gcp_project(ctx)
    email = f"{ctx.inputs.get('accountId') or ctx.name}@{project}.iam.gserviceaccount.com"
    name = f"projects/{project}/serviceAccounts/{email}"
    return name, {"name": name, "email": email, "member": f"serviceAccount:{email}", "project": project,
                  "uniqueId": str(int(ctx.hex(15), 16))}


def _gcp_iam_grant(ctx: MockContext) -> Outputs:
    return f"{ctx.name}-{ctx.hex(7)}", {"etag": "BwY" + ctx.hex(9)}


def _gcp_numbered(collection: str) -> Callable[[MockContext], Outputs]:
    """Resources the API names with a server-assigned number: projects/<p>/<collection>/<number>."""
    def answer(ctx: MockContext) -> Outputs:
        name = f"projects/{_gcp_project(ctx)}/{collection}/{int(ctx.hex(12), 16)}"
        return name, {"name": name, "project": _gcp_project(ctx)}
    return answer


# Service agents `gcloud beta services identity create` makes: service-<project number>@<domain>.
SERVICE_AGENT_DOMAINS = {"bigtableadmin.googleapis.com": "gcp-sa-bigtable.iam.gserviceaccount.com"}


def _service_identity(ctx: MockContext) -> Outputs:
    service = str(ctx.inputs.get("service"))
    domain = SERVICE_AGENT_DOMAINS.get(service, f"gcp-sa-{service.split('.')[0]}.iam.gserviceaccount.com")
    email = f"service-123456789012@{domain}"
    return f"projects/{_gcp_project(ctx)}/services/{service}", {"email": email, "member": f"serviceAccount:{email}"}


def _transfer_job(ctx: MockContext) -> Outputs:
    """Storage Transfer assigns replication jobs their name (custom names are refused)."""
    name = str(ctx.inputs.get("name") or f"transferJobs/{int(ctx.hex(15), 16)}")
    return name, {"name": name, "project": _gcp_project(ctx)}


GCP_OUTPUTS: dict[str, Callable[[MockContext], Outputs]] = {
    "gcp:monitoring/notificationChannel:NotificationChannel": _gcp_numbered("notificationChannels"),
    "gcp:monitoring/alertPolicy:AlertPolicy": _gcp_numbered("alertPolicies"),
    "gcp:storage/transferJob:TransferJob": _transfer_job,
    "gcp:projects/serviceIdentity:ServiceIdentity": _service_identity,
    "gcp:kms/keyRing:KeyRing": _gcp_key_ring,
    "gcp:kms/cryptoKey:CryptoKey": _gcp_crypto_key,
    "gcp:storage/bucket:Bucket": _gcs_bucket,
    "gcp:compute/network:Network": _gcp_network,
    "gcp:compute/subnetwork:Subnetwork": _gcp_subnetwork,
    "gcp:sql/databaseInstance:DatabaseInstance": _cloud_sql_instance,
    "gcp:container/cluster:Cluster": _gke_cluster,
    "gcp:serviceaccount/account:Account": _gcp_service_account,
}
for _scope in ("projects", "folder", "organizations"):
    for _shape in ("Member", "Binding", "Policy"):
        GCP_OUTPUTS[f"gcp:{_scope}/iAM{_shape}:IAM{_shape}"] = _gcp_iam_grant


def _kubernetes_resource(ctx: MockContext) -> Outputs:
    metadata = dict(ctx.inputs.get("metadata") or {})
    metadata.setdefault("name", f"{ctx.name}-{ctx.hex(8)}")
    namespace = metadata.get("namespace")
    return (f"{namespace}/{metadata['name']}" if namespace else metadata["name"]), {"metadata": metadata}


def _random_resource(ctx: MockContext) -> Outputs:
    """pulumi_random: a stable value of the requested length (RandomPassword.result stays secret)."""
    length = int(ctx.inputs.get("length") or 16)
    value = (ctx.hex(64, "random") * (length // 64 + 1))[:length]
    return ctx.hex(12), {"result": value}


# --- Invokes ---------------------------------------------------------------------------------

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


def _render_gcp_iam_policy(args: dict[str, Any]) -> dict[str, Any]:
    """gcp.organizations.getIAMPolicy: policyData as the provider renders it (bindings by role, members sorted)."""
    bindings = []
    for binding in args.get("bindings") or []:
        rendered: dict[str, Any] = {"role": binding["role"], "members": sorted(binding.get("members") or [])}
        if binding.get("condition"):
            rendered["condition"] = binding["condition"]
        bindings.append(rendered)
    policy: dict[str, Any] = {"bindings": sorted(bindings, key=lambda b: b["role"])}
    if args.get("auditConfigs"):
        policy["auditConfigs"] = args["auditConfigs"]
    data = json.dumps(policy, separators=(",", ":"))
    return {"policyData": data, "id": stable_hex(data, 10), "bindings": args.get("bindings") or [],
            "auditConfigs": args.get("auditConfigs") or []}


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


class PlatformMocks(pulumi.runtime.Mocks):
    """Answers RegisterResource and Invoke in the clouds' real shapes.

    `providers` maps a provider URN to its inputs; the recording monitor fills it, so resources
    bound to an explicit provider get that provider's region in their ARNs.
    """

    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.providers: dict[str, dict[str, Any]] = {}
        # The URN of the registration being answered, set per thread by the recording monitor
        # (MockResourceArgs carries no URN, and every derived value is seeded from it).
        self.current = threading.local()

    def _region(self, provider_ref: Optional[str], package: str) -> tuple[str, dict[str, Any]]:
        provider_inputs: dict[str, Any] = {}
        if provider_ref:
            provider_inputs = self.providers.get(provider_ref.rsplit("::", 1)[0], {})
        defaults = {"aws": self.config.get("aws:region") or self.config.get("mlops:region") or "us-east-1",
                    "azure-native": self.config.get("azure-native:location") or self.config.get("mlops:region") or "westeurope",
                    "gcp": self.config.get("gcp:region") or self.config.get("mlops:region") or "us-central1"}
        region = provider_inputs.get("region") or provider_inputs.get("location") or defaults.get(package, "")
        return str(region), provider_inputs

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        urn = getattr(self.current, "urn", None) or f"{args.typ}::{args.name}"
        if args.typ.startswith("pulumi:providers:"):
            return stable_uuid(urn), dict(args.inputs)
        package = args.typ.split(":")[0]
        region, provider_inputs = self._region(args.provider, package)
        ctx = MockContext(args.typ, args.name, urn, dict(args.inputs), region, provider_inputs)
        if package == "aws":
            physical_id, extra = AWS_OUTPUTS.get(args.typ, _generic_aws)(ctx)
            return physical_id, policy_documents_as_json({**args.inputs, **extra})
        elif package == "azure-native":
            physical_id, extra = AZURE_OUTPUTS.get(args.typ, _azure_resource)(ctx)
            extra = {**_azure_identity(ctx), **extra}
        elif package == "gcp":
            physical_id, extra = GCP_OUTPUTS.get(args.typ, _gcp_resource)(ctx)
        elif package == "kubernetes":
            physical_id, extra = _kubernetes_resource(ctx)
        elif package == "random":
            physical_id, extra = _random_resource(ctx)
        else:
            physical_id, extra = f"{args.name}-{ctx.hex(7)}", {}
        return physical_id, {**args.inputs, **extra}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        # The SDK's MockMonitor iterates the failures of a tuple answer; a plain dict means "no failures".
        answer, failures = self._answer(args)
        return answer if failures is None else (answer, failures)  # type: ignore[return-value]

    def _answer(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        region, _ = self._region(args.provider, args.token.split(":")[0])
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": AWS_ACCOUNT_ID, "arn": f"arn:aws:iam::{AWS_ACCOUNT_ID}:role/offline-preview",
                    "userId": "AROAOFFLINEPREVIEW", "id": AWS_ACCOUNT_ID}, None
        if token in ("aws:index/getRegion:getRegion", "aws:getRegion"):
            return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com",
                    "description": region}, None
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"}, None
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return _availability_zones(region), None
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            return _render_policy_document(args.args), None
        if token == "aws:eks/getAddonVersion:getAddonVersion":
            return _eks_addon_version(args.args), None
        if token == "azure-native:containerservice:listManagedClusterUserCredentials":
            return _aks_user_kubeconfig(args.args), None
        if token == "azure-native:authorization:getClientConfig":
            return {"clientId": stable_uuid("client"), "objectId": stable_uuid("object"),
                    "subscriptionId": AZURE_SUBSCRIPTION_ID, "tenantId": AZURE_TENANT_ID}, None
        if token == "azure-native:redisenterprise:listDatabaseKeys":
            seed = f"{args.args.get('resourceGroupName')}/{args.args.get('clusterName')}/{args.args.get('databaseName')}"
            return {"primaryKey": stable_hex(seed + "primary", 44), "secondaryKey": stable_hex(seed + "secondary", 44)}, None
        if token == "gcp:organizations/getProject:getProject":
            return {"projectId": GCP_PROJECT, "number": "123456789012", "name": GCP_PROJECT}, None
        if token == "gcp:compute/getZones:getZones":  # three zones a, b, c (most regions; some start at b)
            zone_region = args.args.get("region") or region
            return {"names": [f"{zone_region}-{letter}" for letter in "abc"], "region": zone_region,
                    "project": args.args.get("project") or GCP_PROJECT, "id": zone_region}, None
        if token == "gcp:organizations/getIAMPolicy:getIAMPolicy":
            return _render_gcp_iam_policy(args.args), None
        if token == "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount":
            email = "project-123456789012@storage-transfer-service.iam.gserviceaccount.com"
            return {"email": email, "member": f"serviceAccount:{email}", "subjectId": "108234567890123456789",
                    "project": args.args.get("project") or GCP_PROJECT, "id": email}, None
        raise NotImplementedError(f"offline preview has no answer for invoke {token}; add one in mlops_tools/mocks.py")


def arn_region(arn: str) -> Optional[str]:
    """The region inside an ARN (tests use it to check where a resource lives)."""
    match = re.match(r"^arn:aws:[^:]+:([a-z0-9-]*):", arn)
    return match.group(1) if match else None
