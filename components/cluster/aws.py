"""AWS EKS cluster: private API, KMS envelope encryption of secrets, IRSA, system node group, add-ons.

Decisions and why:
- Access entries (authentication mode API), not the aws-auth ConfigMap: node roles and admins are
  AWS resources in the plan. The identity running `pulumi up` gets cluster-admin at creation
  (`bootstrap_cluster_creator_admin_permissions`) because it must create in-cluster resources.
- The cluster's default add-ons are not self-bootstrapped: VPC CNI, kube-proxy, CoreDNS and the
  EBS CSI driver are EKS managed add-ons in the plan, with their own IRSA roles (the node role
  carries no CNI or EBS permissions, so pods cannot borrow them).
- The VPC CNI enforces Kubernetes NetworkPolicies (the in-cluster workloads ship some).
- System nodes are on-demand, IMDSv2-only with hop limit 1 (pods cannot reach the node's
  credentials), root volumes gp3 encrypted with the cluster key.
- Control-plane logs (all five types) go to a log group created here, KMS-encrypted and with a
  retention, instead of the unencrypted never-expiring group EKS would create.
- Standard support only: extended support costs six times the control-plane price.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional, Protocol, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.cluster import ClusterArgs
from components.k8s import CAPACITY_TYPE_LABEL, POOL_LABEL
from components.aws_account import account_context
from components.documents import json_document

CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
STORAGE_CLASS = "gp3-encrypted"
SYSTEM_POOL = "system"  # value of the pool label on the on-demand system nodes


def aws_managed_policy(partition: pulumi.Input[str], name: str) -> pulumi.Output[str]:
    return pulumi.Output.format("arn:{0}:iam::aws:policy/{1}", partition, name)


def service_trust_policy(service: str, actions: Sequence[str] = ("sts:AssumeRole",)) -> str:
    """A trust policy letting one AWS service principal assume the role."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions)}]})


def is_arm_instance_type(instance_type: str) -> bool:
    """Graviton families carry a 'g' after the generation digit (m7g, t4g, c6gn, r8g...)."""
    family = instance_type.split(".")[0]
    digits = [i for i, c in enumerate(family) if c.isdigit()]
    return bool(digits) and "g" in family[digits[0] + 1:]


# What every node (system or Karpenter-launched) needs: join the cluster, pull images, be reachable
# through SSM Session Manager instead of SSH. Pod networking and volumes have their own IRSA roles.
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore")


def node_role_with_policies(resource_name: str, description: str, partition: pulumi.Input[str], tags: dict[str, str],
              parent: pulumi.Resource) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """An EC2 node role with exactly NODE_POLICIES attached (attachments returned for depends_on)."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(resource_name, description=description,
                        assume_role_policy=service_trust_policy("ec2.amazonaws.com"), tags=tags, opts=child)
    attachments = [aws.iam.RolePolicyAttachment(f"{resource_name}-{policy}", role=role.name,
                                                policy_arn=aws_managed_policy(partition, policy), opts=child)
                   for policy in NODE_POLICIES]
    return role, attachments


class IrsaRoleFactory(Protocol):
    """The cluster's `irsa_role` helper (Cluster.irsa_role); components take it as an input."""

    def __call__(self, name: str, namespace: str, service_account: str, policy_json: pulumi.Input[str],
                 opts: pulumi.ResourceOptions, *, tags: dict[str, str]) -> aws.iam.Role: ...


@dataclass(frozen=True)
class AwsClusterInputs:
    """AWS-only inputs: where the cluster lives and which keys protect it."""

    region: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    cluster_key_arn: pulumi.Input[str]  # secrets envelope encryption, node and persistent volumes
    logs_key_arn: pulumi.Input[str]  # control-plane log group


class Cluster(pulumi.ComponentResource):
    """EKS with everything the platform runs on (outputs: see components.cluster)."""

    def __init__(self, name: str, args: ClusterArgs, aws_inputs: AwsClusterInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:cluster:Cluster", name, None, opts)
        self._tags = {**args.tags, "component": "cluster"}
        self._region = aws_inputs.region
        self.cluster_key_arn = aws_inputs.cluster_key_arn
        child = pulumi.ResourceOptions(parent=self)
        ctx = account_context(self)
        self.account = ctx

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane", name=f"/aws/eks/{args.name}/cluster", retention_in_days=args.log_retention_days,
            kms_key_id=aws_inputs.logs_key_arn, tags=self._tags, opts=child)

        cluster_role = aws.iam.Role(
            f"{name}-control-plane", description=f"EKS control plane of {args.name}",
            assume_role_policy=service_trust_policy("eks.amazonaws.com", ("sts:AssumeRole", "sts:TagSession")),
            tags=self._tags, opts=child)
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-control-plane-eks", role=cluster_role.name,
            policy_arn=aws_managed_policy(ctx.partition, "AmazonEKSClusterPolicy"), opts=child)
        secrets_key_policy = aws.iam.RolePolicy(
            f"{name}-control-plane-secrets-key", role=cluster_role.id,
            policy=json_document({"Version": "2012-10-17", "Statement": [{
                "Sid": "EnvelopeEncryptSecretsWithClusterKey", "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants", "kms:CreateGrant"],
                "Resource": aws_inputs.cluster_key_arn}]}),
            opts=child)

        public_cidrs = list(args.public_access_cidrs)
        cluster = aws.eks.Cluster(
            name,
            name=args.name,
            version=args.version,
            role_arn=cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(aws_inputs.private_subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=bool(public_cidrs),
                public_access_cidrs=public_cidrs or None,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=aws_inputs.cluster_key_arn)),
            enabled_cluster_log_types=CONTROL_PLANE_LOG_TYPES,
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True),
            bootstrap_self_managed_addons=False,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=args.deletion_protection,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, cluster_policy, secrets_key_policy]),
        )
        self.eks_cluster = cluster
        self.name = cluster.name
        self.arn = cluster.arn
        self.endpoint = cluster.endpoint
        self.version = args.version
        self.cluster_security_group_id = cluster.vpc_config.cluster_security_group_id
        self.node_security_group_id = self.cluster_security_group_id  # EKS attaches it to every node
        issuer_url = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        self.oidc_issuer = issuer_url.apply(lambda url: url.removeprefix("https://"))
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc", url=issuer_url, client_id_lists=["sts.amazonaws.com"], tags=self._tags, opts=child)
        self.oidc_provider = oidc
        self.oidc_provider_arn = oidc.arn

        self._addons_before_nodes(name)
        node_group = self._system_nodes(name, args, aws_inputs, ctx)
        self._addons_after_nodes(name, node_group)
        self.system_node_group = node_group
        self.system_node_group_asg_name = node_group.resources.apply(lambda groups: groups[0].autoscaling_groups[0].name)

        self.kubeconfig = pulumi.Output.secret(json_document(self._kubeconfig(cluster)))
        self.k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig,
                                         opts=pulumi.ResourceOptions(parent=self, depends_on=[node_group]))
        self.storage_class = STORAGE_CLASS
        k8s.storage.v1.StorageClass(
            f"{name}-{STORAGE_CLASS}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=STORAGE_CLASS, annotations={"storageclass.kubernetes.io/is-default-class": "true"}),
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true", "kmsKeyId": aws_inputs.cluster_key_arn,
                        "csi.storage.k8s.io/fstype": "ext4"},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy="Retain" if args.deletion_protection else "Delete",
            opts=pulumi.ResourceOptions(parent=self, provider=self.k8s_provider, depends_on=[self.ebs_csi_addon]),
        )
        self.register_outputs({
            "name": self.name, "endpoint": self.endpoint, "oidcProviderArn": self.oidc_provider_arn,
            "oidcIssuer": self.oidc_issuer, "clusterSecurityGroupId": self.cluster_security_group_id,
            "nodeRoleArn": self.node_role_arn, "kubeconfig": self.kubeconfig,
        })

    # --- IRSA -------------------------------------------------------------------------------

    def irsa_trust_policy(self, namespace: str, service_account: str) -> pulumi.Output[str]:
        """Only this cluster's `namespace/service_account` may assume the role, for STS audience only."""
        return json_document({"Version": "2012-10-17", "Statement": [{
            "Sid": "ServiceAccountThroughClusterOidc", "Effect": "Allow",
            "Principal": {"Federated": self.oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                pulumi.Output.concat(self.oidc_issuer, ":sub"): f"system:serviceaccount:{namespace}:{service_account}",
                pulumi.Output.concat(self.oidc_issuer, ":aud"): "sts.amazonaws.com",
            }},
        }]})

    def irsa_role(self, name: str, namespace: str, service_account: str,
                  policy_json: Optional[pulumi.Input[str]] = None,
                  opts: Optional[pulumi.ResourceOptions] = None,
                  managed_policy_arns: Sequence[pulumi.Input[str]] = (),
                  tags: Optional[dict[str, str]] = None) -> aws.iam.Role:
        """An IAM role for one Kubernetes service account, with `policy_json` as its inline policy.

        `opts` should name the calling component as parent (its providers are inherited); the
        default parent is the cluster. Returns the role; annotate the service account with its ARN.
        """
        child = pulumi.ResourceOptions(parent=self).merge(opts)
        role = aws.iam.Role(
            name, assume_role_policy=self.irsa_trust_policy(namespace, service_account),
            description=f"IRSA for {namespace}/{service_account}", tags=tags or self._tags, opts=child)
        dependency = pulumi.ResourceOptions(parent=child.parent)
        if policy_json is not None:
            aws.iam.RolePolicy(name, role=role.id, policy=policy_json, opts=dependency)
        for index, policy_arn in enumerate(managed_policy_arns):
            aws.iam.RolePolicyAttachment(f"{name}-{index}", role=role.name, policy_arn=policy_arn, opts=dependency)
        return role

    # --- nodes and add-ons ------------------------------------------------------------------

    def _system_nodes(self, name: str, args: ClusterArgs, aws_inputs: AwsClusterInputs, ctx) -> aws.eks.NodeGroup:
        child = pulumi.ResourceOptions(parent=self)
        node_role, attachments = node_role_with_policies(
            f"{name}-system-nodes", f"EKS system nodes of {args.name}", ctx.partition, self._tags, self)
        self.node_role = node_role
        self.node_role_arn = node_role.arn
        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-system-nodes",
            description=f"{args.name} system nodes: encrypted gp3 root, IMDSv2 only",
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=args.system_node_disk_gb, volume_type="gp3", encrypted="true",
                    kms_key_id=aws_inputs.cluster_key_arn, delete_on_termination="true"))],
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1),
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type=kind, tags={**self._tags, "Name": f"{args.name}-system"}) for kind in ("instance", "volume")],
            update_default_version=True,
            tags=self._tags, opts=child)
        ami_type = "AL2023_ARM_64_STANDARD" if is_arm_instance_type(args.system_node_instance_type) else "AL2023_x86_64_STANDARD"
        return aws.eks.NodeGroup(
            f"{name}-system",
            cluster_name=self.eks_cluster.name,
            node_group_name=f"{args.name}-system",
            node_role_arn=node_role.arn,
            subnet_ids=list(aws_inputs.private_subnet_ids),
            capacity_type="ON_DEMAND",
            ami_type=ami_type,
            instance_types=[args.system_node_instance_type],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.system_node_count, desired_size=args.system_node_count, max_size=args.system_node_count + 1),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=launch_template.id, version=launch_template.latest_version.apply(str)),
            labels={POOL_LABEL: SYSTEM_POOL, CAPACITY_TYPE_LABEL: "on-demand"},
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*attachments, *self._early_addons],
                                        ignore_changes=["scalingConfig.desiredSize"]),
        )

    def _addon(self, name: str, addon: str, service_account_role: Optional[aws.iam.Role] = None,
               configuration: Optional[dict] = None, depends_on: Sequence[pulumi.Resource] = ()) -> aws.eks.Addon:
        version = aws.eks.get_addon_version(addon_name=addon, kubernetes_version=self.version, most_recent=False,
                                            opts=pulumi.InvokeOptions(parent=self))
        return aws.eks.Addon(
            f"{name}-{addon}", cluster_name=self.eks_cluster.name, addon_name=addon, addon_version=version.version,
            service_account_role_arn=service_account_role.arn if service_account_role else None,
            configuration_values=json.dumps(configuration, sort_keys=True) if configuration else None,
            resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="PRESERVE",
            tags=self._tags, opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)))

    def _addons_before_nodes(self, name: str) -> None:
        """Networking add-ons must exist before nodes join, or nodes never become Ready."""
        cni_role = self.irsa_role(f"{name}-vpc-cni", "kube-system", "aws-node",
                                  managed_policy_arns=[aws_managed_policy(self.account.partition, "AmazonEKS_CNI_Policy")])
        self._early_addons = [
            self._addon(name, "vpc-cni", cni_role, {"enableNetworkPolicy": "true"}),
            self._addon(name, "kube-proxy"),
        ]

    def _addons_after_nodes(self, name: str, node_group: aws.eks.NodeGroup) -> None:
        """CoreDNS and the EBS CSI driver run as pods: they need nodes to become ACTIVE."""
        ebs_role = self.irsa_role(
            f"{name}-ebs-csi", "kube-system", "ebs-csi-controller-sa",
            policy_json=json_document({"Version": "2012-10-17", "Statement": [
                {"Sid": "EncryptVolumesWithClusterKey", "Effect": "Allow",
                 "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKeyWithoutPlaintext",
                            "kms:ReEncryptFrom", "kms:ReEncryptTo"],
                 "Resource": self.cluster_key_arn},
                {"Sid": "GrantVolumeAttachmentsOnClusterKey", "Effect": "Allow", "Action": "kms:CreateGrant",
                 "Resource": self.cluster_key_arn, "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
            ]}),
            managed_policy_arns=[aws_managed_policy(self.account.partition, "service-role/AmazonEBSCSIDriverPolicy")])
        self._addon(name, "coredns", depends_on=[node_group])
        self.ebs_csi_addon = self._addon(name, "aws-ebs-csi-driver", ebs_role, depends_on=[node_group])

    def _kubeconfig(self, cluster: aws.eks.Cluster) -> pulumi.Output[dict]:
        """Exec auth through `aws eks get-token`: short-lived tokens, nothing long-lived in state."""
        return pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority.data).apply(
            lambda v: {
                "apiVersion": "v1", "kind": "Config", "current-context": v[0],
                "clusters": [{"name": v[0], "cluster": {"server": v[1], "certificate-authority-data": v[2]}}],
                "contexts": [{"name": v[0], "context": {"cluster": v[0], "user": v[0]}}],
                "users": [{"name": v[0], "user": {"exec": {
                    "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
                    "args": ["eks", "get-token", "--cluster-name", v[0], "--region", self._region, "--output", "json"],
                    "interactiveMode": "Never"}}}],
            })
