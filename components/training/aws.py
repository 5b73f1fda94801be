"""AWS training pools on Karpenter: one EC2NodeClass + NodePool per pool, and the training jobs' IRSA role.

The Karpenter controller and its spot interruption queue (why Karpenter, and how they are scoped)
are in ``aws_karpenter.py``. Here:
- ``TrainingPool``: an EC2NodeClass (encrypted gp3 root volume with the cluster key, IMDSv2,
  pinned AL2023 AMI alias, discovery-tag selectors) and a NodePool (spot, instance types,
  labels, taints, cpu limit, disruption settings) per ``mlops:trainingPools`` entry.
- ``TrainingJobIdentity``: what a training pod may read and write in AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.aws_iam import S3_PREFIX_OWNER_ACTIONS, kms_via_service, s3_find_bucket, s3_list, s3_objects
from components.cluster.aws import Cluster, is_arm_instance_type
from components.k8s import TRAINING_NAMESPACE, TRAINING_SERVICE_ACCOUNT
from components.training import TrainingPoolArgs, node_labels, node_taints
from components.training.aws_karpenter import DISCOVERY_TAG, Karpenter
from components.documents import json_document

# Pinned (bump deliberately: a new AMI alias rolls every Karpenter node through drift).
AMI_ALIAS = "al2023@v20260512"  # EKS-optimised AL2023 release v20260512 (standard and NVIDIA variants)

_SIZE = re.compile(r"^(?:(nano|micro|small|medium|large)|(\d*)xlarge)$")


def aws_vcpus(instance_type: str) -> int:
    """vCPUs of an EC2 instance type from its size name (xlarge = 4, Nxlarge = 4N, smaller = 2).

    Sizes below xlarge count as 2 (burstable families have 2 vCPUs down to nano), so a limit
    derived from this never undercounts. The config model rejects sizes without a rule (metal).
    """
    family, _, size = instance_type.partition(".")
    match = _SIZE.match(size)
    if not family or not match:
        raise ValueError(f"cannot derive vCPUs of instance type {instance_type!r} (expected <family>.<size>, e.g. m6i.2xlarge)")
    return 2 if match.group(1) else 4 * int(match.group(2) or 1)


def cpu_limit(args: TrainingPoolArgs) -> int:
    """NodePool cpu limit: maxNodes of the pool's largest type (Karpenter v1 limits count resources, not nodes)."""
    return args.max_nodes * max(aws_vcpus(t) for t in args.instance_types)


# --- Training job identity ---------------------------------------------------------------------

@dataclass(frozen=True)
class TrainingJobIdentityArgs:
    cluster: Cluster
    region: str
    features_bucket_arn: pulumi.Input[str]
    features_key_arn: pulumi.Input[str]
    # Prefixes of the Feast bucket training jobs read (offline store and registry); read-only.
    read_prefixes: Sequence[str] = ("offline", "registry")
    tags: Mapping[str, str] = field(default_factory=dict)
    # Distributed training (mlops:training): Ray Train writes checkpoints under this prefix of the artifacts
    # bucket (read, write, delete old ones); None = no checkpoint access.
    checkpoints_bucket_arn: Optional[pulumi.Input[str]] = None
    checkpoints_key_arn: Optional[pulumi.Input[str]] = None
    checkpoints_prefix: str = "checkpoints"


def checkpoint_statements(bucket_arn: pulumi.Input[str], key_arn: pulumi.Input[str], prefix: str,
                          region: str) -> list[dict]:
    """Read/write/delete under one prefix of the artifacts bucket (Ray Train's checkpoint storage through
    pyarrow's S3 file system, which lists the prefix and creates zero-byte "directory" markers)."""
    return [
        s3_objects("ReadWriteCheckpoints", S3_PREFIX_OWNER_ACTIONS, bucket_arn, prefix),
        s3_list("ListCheckpoints", bucket_arn, [prefix, f"{prefix}/*"]),
        kms_via_service("EncryptCheckpointsThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"], key_arn, "s3", region),
    ]


class TrainingJobIdentity(pulumi.ComponentResource):
    """The IRSA role of training jobs (`training/trainer`): read the Feast offline store and registry, and
    (distributed training on) read/write its checkpoint prefix of the artifacts bucket.

    MLflow artifacts go through the tracking server (it proxies the artifact store), images come
    through the node role, so this is all a training pod needs from AWS.
    """

    def __init__(self, name: str, args: TrainingJobIdentityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:training:TrainingJobIdentity", name, None, opts)
        tags = {**args.tags, "component": "training"}
        policy_json = json_document({"Version": "2012-10-17", "Statement": [
            s3_objects("ReadFeatureData", "s3:GetObject", args.features_bucket_arn, list(args.read_prefixes)),
            # Feast's S3 registry store opens with HeadBucket.
            s3_find_bucket("FindFeatureBucket", args.features_bucket_arn),
            s3_list("ListFeatureData", args.features_bucket_arn, [f"{prefix}/*" for prefix in args.read_prefixes]),
            kms_via_service("DecryptFeatureDataThroughS3", "kms:Decrypt", args.features_key_arn, "s3", args.region),
            *(checkpoint_statements(args.checkpoints_bucket_arn, args.checkpoints_key_arn, args.checkpoints_prefix,
                                    args.region) if args.checkpoints_bucket_arn is not None else []),
        ]})
        self.role = args.cluster.irsa_role(f"{name}-trainer", TRAINING_NAMESPACE, TRAINING_SERVICE_ACCOUNT,
                                           policy_json=policy_json, opts=pulumi.ResourceOptions(parent=self), tags=tags)
        self.role_arn = self.role.arn
        self.service_account_annotations = {"eks.amazonaws.com/role-arn": self.role.arn}
        self.register_outputs({"roleArn": self.role.arn})


# --- Pools ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AwsTrainingPoolInputs:
    karpenter: Karpenter
    cluster_name: str
    cluster_key_arn: pulumi.Input[str]  # encrypts the nodes' root volumes
    k8s_provider: k8s.Provider
    ami_alias: str = AMI_ALIAS
    # Voluntary disruption: a training pod runs for hours, so only empty nodes are consolidated.
    consolidate_after: str = "5m"
    expire_after: str = "720h"  # nodes older than 30 days are replaced (patched AMI); jobs get the grace period below
    termination_grace_period: str = "2h"  # a job gets this long to checkpoint before forced termination


class TrainingPool(pulumi.ComponentResource):
    """One Karpenter NodePool (+ its EC2NodeClass) for one training pool (outputs: see components.training)."""

    def __init__(self, name: str, args: TrainingPoolArgs, aws_inputs: AwsTrainingPoolInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:training:TrainingPool", name, None, opts)
        if args.min_nodes:
            raise ValueError(f"training pool {args.name}: minNodes must be 0 on AWS (Karpenter pools scale from zero)")
        tags = {**args.tags, "component": "training", "training-pool": args.name}
        self.name = args.name
        self.node_labels = node_labels(args)
        self.taints = node_taints(args)
        self.cpu_limit = cpu_limit(args)
        architectures = sorted({"arm64" if is_arm_instance_type(t) else "amd64" for t in args.instance_types})
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=aws_inputs.k8s_provider,
                                          depends_on=[aws_inputs.karpenter.release])
        discovery = [{"tags": {DISCOVERY_TAG: aws_inputs.cluster_name}}]

        self.node_class = k8s.apiextensions.CustomResource(
            f"{name}-nodeclass",
            api_version="karpenter.k8s.aws/v1",
            kind="EC2NodeClass",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name),
            spec={
                "role": aws_inputs.karpenter.node_role_name,
                "amiSelectorTerms": [{"alias": aws_inputs.ami_alias}],
                "subnetSelectorTerms": discovery,
                "securityGroupSelectorTerms": discovery,
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {
                    "volumeSize": f"{args.root_volume_gb}Gi", "volumeType": "gp3", "encrypted": True,
                    "kmsKeyID": aws_inputs.cluster_key_arn, "deleteOnTermination": True}}],
                "metadataOptions": {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled",
                                    "httpPutResponseHopLimit": 1, "httpTokens": "required"},
                "tags": tags,
            },
            opts=k8s_opts,
        )
        self.node_pool = k8s.apiextensions.CustomResource(
            f"{name}-nodepool",
            api_version="karpenter.sh/v1",
            kind="NodePool",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name),
            spec={
                "template": {
                    "metadata": {"labels": self.node_labels},
                    "spec": {
                        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": args.name},
                        "requirements": [
                            {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": list(args.instance_types)},
                            {"key": "karpenter.sh/capacity-type", "operator": "In",
                             "values": ["spot" if args.spot else "on-demand"]},
                            {"key": "kubernetes.io/arch", "operator": "In", "values": architectures},
                            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                        ],
                        "taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in self.taints],
                        "expireAfter": aws_inputs.expire_after,
                        "terminationGracePeriod": aws_inputs.termination_grace_period,
                    },
                },
                "limits": {"cpu": str(self.cpu_limit)},
                "disruption": {
                    "consolidationPolicy": "WhenEmpty",
                    "consolidateAfter": aws_inputs.consolidate_after,
                    "budgets": [{"nodes": "10%"}],
                },
            },
            opts=pulumi.ResourceOptions(parent=self, provider=aws_inputs.k8s_provider,
                                        depends_on=[aws_inputs.karpenter.release, self.node_class]),
        )
        self.register_outputs({"name": args.name, "nodeLabels": self.node_labels, "cpuLimit": self.cpu_limit})
