"""Training: interruption queue and rules, the Karpenter controller's scoped identity, one NodePool per pool."""

import json

import pulumi
import pytest

from components.training import TrainingPoolArgs
from components.training.aws import (AMI_ALIAS, AwsTrainingPoolInputs, TrainingJobIdentity, TrainingJobIdentityArgs,
                                     TrainingPool, aws_vcpus, cpu_limit)
from components.training.aws_karpenter import (INTERRUPTION_EVENTS, KARPENTER_VERSION, Karpenter, KarpenterArgs,
                                               SpotInterruptionArgs, SpotInterruptionHandling)
from stacks.config import ConfigError, load_config

from .foundation import NAME, PRIMARY, as_list, foundation, policy, preview, statements

POOLS = [
    TrainingPoolArgs("cpu-spot", ("m6i.2xlarge", "m6a.2xlarge", "m5.4xlarge"), max_nodes=4),
    TrainingPoolArgs("gpu-spot", ("g5.xlarge", "g6.xlarge"), max_nodes=2, accelerator="nvidia-gpu"),
    TrainingPoolArgs("arm-on-demand", ("m7g.xlarge",), max_nodes=3, spot=False),
]

FEATURES_BUCKET_ARN = "arn:aws:s3:::mlops-test-features"


def program():
    built = foundation()
    keys, cluster = built.keys, built.cluster
    queue = SpotInterruptionHandling("interruptions", SpotInterruptionArgs(NAME, keys.notifications.arn), opts=built.opts)
    karpenter = Karpenter("karpenter", KarpenterArgs(cluster, NAME, PRIMARY, queue, built.network.private_subnet_ids,
                                                     keys.cluster.arn), opts=built.opts)
    for pool in POOLS:
        TrainingPool(f"training-{pool.name}", pool,
                     AwsTrainingPoolInputs(karpenter, NAME, keys.cluster.arn, cluster.k8s_provider), opts=built.opts)
    TrainingJobIdentity("training-jobs", TrainingJobIdentityArgs(cluster, PRIMARY, FEATURES_BUCKET_ARN, keys.features.arn),
                        opts=built.opts)
    pulumi.export("queueArn", queue.queue_arn)
    pulumi.export("queueName", queue.queue_name)
    pulumi.export("karpenterNodeRoleArn", karpenter.node_role.arn)
    pulumi.export("karpenterNodeRoleName", karpenter.node_role_name)
    pulumi.export("controllerRoleArn", karpenter.controller_role.arn)
    pulumi.export("rules", {kind: rule.arn for kind, rule in queue.rules.items()})


@pytest.fixture(scope="module")
def result():
    return preview(program)


# --- interruption queue -----------------------------------------------------------------------

def test_queue_is_encrypted_with_the_notifications_key(result):
    queue = result.one("aws:sqs/queue:Queue")["inputs"]
    assert queue["kmsMasterKeyId"] == result.outputs["key:notifications"]
    assert queue["name"] == f"{NAME}-interruptions" and queue["messageRetentionSeconds"] == 300
    assert "sqsManagedSseEnabled" not in queue


def test_four_rules_feed_the_queue(result):
    rules = {r["name"]: r for r in result.by_type("aws:cloudwatch/eventRule:EventRule")}
    assert sorted(rules) == sorted(f"interruptions-{kind}" for kind in INTERRUPTION_EVENTS)
    detail_types = {json.loads(r["inputs"]["eventPattern"])["detail-type"][0] for r in rules.values()}
    assert detail_types == {"EC2 Spot Instance Interruption Warning", "EC2 Instance Rebalance Recommendation",
                            "EC2 Instance State-change Notification", "AWS Health Event"}
    scheduled = json.loads(rules["interruptions-scheduled-change"]["inputs"]["eventPattern"])
    assert scheduled["source"] == ["aws.health"] and scheduled["detail"]["eventTypeCategory"] == ["scheduledChange"]
    targets = result.by_type("aws:cloudwatch/eventTarget:EventTarget")
    assert len(targets) == 4 and {t["inputs"]["arn"] for t in targets} == {result.outputs["queueArn"]}


def test_queue_policy_admits_only_these_rules_and_sqs_over_tls(result):
    document = statements(policy(result.one("aws:sqs/queuePolicy:QueuePolicy")))
    allows = [s for s in document.values() if s["Effect"] == "Allow"]
    assert sorted(s["Principal"]["Service"] for s in allows) == ["events.amazonaws.com", "sqs.amazonaws.com"]
    assert all(s["Action"] == "sqs:SendMessage" and s["Resource"] == result.outputs["queueArn"] for s in allows)
    rules = document["InterruptionRulesOfThisPlatform"]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(rules) == sorted(result.outputs["rules"].values())
    assert document["SqsServiceOfThisAccount"]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    deny = document["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# --- controller ---------------------------------------------------------------------------------

def controller_statements(result):
    return statements(policy(result.one("aws:iam/rolePolicy:RolePolicy", "karpenter-controller")))


def test_controller_role_is_for_the_karpenter_service_account_only(result):
    [trust] = policy(result.one("aws:iam/role:Role", "karpenter-controller"), "assumeRolePolicy")["Statement"]
    issuer = result.outputs["oidcIssuer"]
    assert trust["Condition"]["StringEquals"] == {f"{issuer}:sub": "system:serviceaccount:kube-system:karpenter",
                                                  f"{issuer}:aud": "sts.amazonaws.com"}


def test_controller_launches_only_into_platform_subnets_and_the_cluster_security_group(result):
    launch = controller_statements(result)["LaunchIntoPlatformSubnetsAndSecurityGroup"]
    subnets = [f"arn:aws:ec2:{PRIMARY}:123456789012:subnet/{s}" for s in result.outputs["privateSubnetIds"]]
    group = f"arn:aws:ec2:{PRIMARY}:123456789012:security-group/{result.outputs['clusterSecurityGroupId']}"
    assert launch["Resource"] == [f"arn:aws:ec2:{PRIMARY}::image/*", f"arn:aws:ec2:{PRIMARY}::snapshot/*", *subnets, group]


def test_controller_creates_tags_and_deletes_only_what_carries_this_clusters_tags(result):
    document = controller_statements(result)
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{NAME}": "owned"}
    assert document["CreateOnlyTaggedForThisCluster"]["Condition"]["StringEquals"] == {
        f"aws:RequestTag/kubernetes.io/cluster/{NAME}": "owned", "aws:RequestTag/eks:eks-cluster-name": NAME}
    assert document["DeleteOnlyOwnInstancesAndTemplates"]["Condition"]["StringEquals"] == owned
    assert document["TagOnCreateOnly"]["Condition"]["StringEquals"]["ec2:CreateAction"] == [
        "RunInstances", "CreateFleet", "CreateLaunchTemplate"]
    assert document["ManageOwnInstanceProfiles"]["Condition"]["StringEquals"] == {
        **owned, "aws:ResourceTag/topology.kubernetes.io/region": PRIMARY}


def test_controller_resources_are_named_except_for_unscopable_reads(result):
    document = controller_statements(result)
    assert document["PassNodeRoleToEc2Only"]["Resource"] == result.outputs["karpenterNodeRoleArn"]
    assert document["PassNodeRoleToEc2Only"]["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    assert document["ConsumeInterruptionQueue"]["Resource"] == result.outputs["queueArn"]
    assert document["DiscoverApiServerEndpoint"]["Resource"] == f"arn:aws:eks:{PRIMARY}:123456789012:cluster/{NAME}"
    wildcard = {sid for sid, s in document.items() if s["Resource"] == "*"}
    assert wildcard == {"DescribeInThisRegion", "ReadPrices", "ListInstanceProfiles"}
    assert document["ListInstanceProfiles"]["Action"] == "iam:ListInstanceProfiles"
    assert document["DescribeInThisRegion"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": PRIMARY}}
    assert all(a.startswith("ec2:Describe") for a in document["DescribeInThisRegion"]["Action"])
    # Karpenter v1.14 calls these (instance-status polling, capacity reservations, placement groups).
    assert {"ec2:DescribeInstanceStatus", "ec2:DescribeCapacityReservations",
            "ec2:DescribePlacementGroups"} <= set(document["DescribeInThisRegion"]["Action"])
    for statement in document.values():
        assert statement["Effect"] == "Allow" and all("*" not in a for a in as_list(statement["Action"]))


def test_controller_encrypts_node_volumes_and_reads_the_queue_with_the_right_keys_only(result):
    document = controller_statements(result)
    for sid in ("EncryptNodeVolumesWithClusterKey", "GrantNodeVolumeAttachments"):
        assert document[sid]["Resource"] == result.outputs["key:cluster"]
        assert document[sid]["Condition"]["StringEquals"] == {"kms:ViaService": f"ec2.{PRIMARY}.amazonaws.com"}
    assert document["DecryptInterruptionQueue"]["Resource"] == result.outputs["key:notifications"]
    assert document["DecryptInterruptionQueue"]["Condition"] == {"StringEquals": {"kms:ViaService": f"sqs.{PRIMARY}.amazonaws.com"}}


def test_karpenter_nodes_join_through_an_access_entry_and_find_the_cluster_security_group(result):
    entry = result.one("aws:eks/accessEntry:AccessEntry")["inputs"]
    assert entry["type"] == "EC2_LINUX" and entry["principalArn"] == result.outputs["karpenterNodeRoleArn"]
    tag = result.one("aws:ec2/tag:Tag")["inputs"]
    assert tag == {"resourceId": result.outputs["clusterSecurityGroupId"], "key": "karpenter.sh/discovery", "value": NAME}


def test_karpenter_release_is_pinned_and_wired_to_queue_and_role(result):
    release = result.one("kubernetes:helm.sh/v3:Release")["inputs"]
    assert release["chart"] == "oci://public.ecr.aws/karpenter/karpenter" and release["version"] == KARPENTER_VERSION
    assert release["namespace"] == "kube-system"
    values = release["values"]
    assert values["settings"]["interruptionQueue"] == result.outputs["queueName"]
    assert values["settings"]["clusterName"] == NAME
    assert values["serviceAccount"] == {"name": "karpenter",
                                        "annotations": {"eks.amazonaws.com/role-arn": result.outputs["controllerRoleArn"]}}
    assert values["nodeSelector"] == {"mlops.dev/pool": "system"}


# --- pools --------------------------------------------------------------------------------------

def custom(result, kind, pool):
    [resource] = [r for r in result.by_type(f"kubernetes:{kind}") if r["inputs"]["metadata"]["name"] == pool]
    return resource


@pytest.mark.parametrize("pool", POOLS, ids=lambda p: p.name)
def test_node_class_encrypts_root_volumes_with_the_cluster_key(result, pool):
    node_class = custom(result, "karpenter.k8s.aws/v1:EC2NodeClass", pool.name)
    spec = node_class["inputs"]["spec"]
    [mapping] = spec["blockDeviceMappings"]
    assert mapping["ebs"] == {"volumeSize": f"{200 if pool.is_gpu else 100}Gi", "volumeType": "gp3", "encrypted": True,
                              "kmsKeyID": result.outputs["key:cluster"], "deleteOnTermination": True}
    assert spec["amiSelectorTerms"] == [{"alias": AMI_ALIAS}] and "@latest" not in AMI_ALIAS
    assert spec["subnetSelectorTerms"] == spec["securityGroupSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": NAME}}]
    assert spec["role"] == result.outputs["karpenterNodeRoleName"]
    assert spec["metadataOptions"]["httpTokens"] == "required" and spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert spec["tags"]["training-pool"] == pool.name
    assert node_class["provider"].startswith(result.one("pulumi:providers:kubernetes")["urn"] + "::")


@pytest.mark.parametrize("pool", POOLS, ids=lambda p: p.name)
def test_node_pool_capacity_types_labels_taints_and_limits(result, pool):
    node_pool = custom(result, "karpenter.sh/v1:NodePool", pool.name)
    spec = node_pool["inputs"]["spec"]
    template = spec["template"]["spec"]
    requirements = {r["key"]: r["values"] for r in template["requirements"]}
    assert requirements["node.kubernetes.io/instance-type"] == list(pool.instance_types)
    assert requirements["karpenter.sh/capacity-type"] == (["spot"] if pool.spot else ["on-demand"])
    assert requirements["kubernetes.io/arch"] == (["arm64"] if pool.name.startswith("arm") else ["amd64"])
    assert template["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": pool.name}
    labels = spec["template"]["metadata"]["labels"]
    taints = {(t["key"], t["value"], t["effect"]) for t in template["taints"]}
    assert labels["mlops.dev/pool"] == pool.name
    assert labels["mlops.dev/capacity-type"] == ("spot" if pool.spot else "on-demand")
    assert (labels.get("mlops.dev/accelerator") == "nvidia-gpu") is pool.is_gpu
    assert (("nvidia.com/gpu", "true", "NoSchedule") in taints) is pool.is_gpu
    assert (("mlops.dev/capacity-type", "spot", "NoSchedule") in taints) is pool.spot
    assert spec["limits"] == {"cpu": str(cpu_limit(pool))}
    assert spec["disruption"]["consolidationPolicy"] == "WhenEmpty"
    release = result.one("kubernetes:helm.sh/v3:Release")["urn"]
    assert release in node_pool["dependencies"]


def test_cpu_limit_is_max_nodes_of_the_largest_type():
    assert cpu_limit(POOLS[0]) == 4 * 16  # m5.4xlarge
    assert cpu_limit(POOLS[1]) == 2 * 4
    assert [aws_vcpus(t) for t in ("t3.medium", "m6i.large", "g5.xlarge", "p4d.24xlarge", "p5.48xlarge")] == [2, 2, 4, 96, 192]
    with pytest.raises(ValueError, match="cannot derive vCPUs"):
        aws_vcpus("m7i.metal-24xl")


def test_training_pool_refuses_a_floor():
    with pytest.raises(Exception, match="minNodes must be 0 on AWS"):
        preview(lambda: TrainingPool("p", TrainingPoolArgs("p", ("m6i.large", "m5.large"), max_nodes=2, min_nodes=1),
                                     AwsTrainingPoolInputs(None, NAME, "arn", None)))


def pool_config(**pool):
    base = {"name": "cpu", "instanceTypes": ["m6i.large", "m6a.large"], "maxNodes": 2}
    return {"mlops:cloud": "aws", "mlops:region": "us-east-1", "mlops:trainingPools": json.dumps([{**base, **pool}])}


def test_config_rejects_a_floor_and_metal_sizes_on_aws_with_the_key_named():
    with pytest.raises(ConfigError) as error:
        load_config("dev", pool_config(minNodes=1, instanceTypes=["m6i.large", "m7i.metal-24xl"]))
    assert error.value.problems == [
        'Pulumi.dev.yaml: mlops:trainingPools[0].instanceTypes[1] = "m7i.metal-24xl": must be <family>.<size> with a '
        "virtualised size (e.g. m6i.2xlarge); metal and unknown sizes have no fixed vCPU count to derive the pool's "
        "Karpenter cpu limit from",
        "Pulumi.dev.yaml: mlops:trainingPools[0].minNodes = 1: must be 0 on aws: Karpenter pools scale from zero, and its "
        "fixed-size (static capacity) NodePools are alpha and cannot also scale; keep always-on capacity in the system "
        "node group",
    ]
    assert load_config("dev", pool_config()).training_pools[0].min_nodes == 0


def test_training_jobs_read_only_the_feast_offline_store_and_registry(result):
    role = result.one("aws:iam/role:Role", "training-jobs-trainer")
    [trust] = policy(role, "assumeRolePolicy")["Statement"]
    assert trust["Condition"]["StringEquals"][result.outputs["oidcIssuer"] + ":sub"] == "system:serviceaccount:training:trainer"
    document = statements(policy(result.one("aws:iam/rolePolicy:RolePolicy", "training-jobs-trainer")))
    assert document["ReadFeatureData"] == {"Sid": "ReadFeatureData", "Effect": "Allow", "Action": "s3:GetObject", "Resource": [
        f"{FEATURES_BUCKET_ARN}/offline/*", f"{FEATURES_BUCKET_ARN}/registry/*"]}
    assert document["ListFeatureData"]["Resource"] == FEATURES_BUCKET_ARN
    assert document["ListFeatureData"]["Condition"] == {"StringLike": {"s3:prefix": ["offline/*", "registry/*"]}}
    # Feast in a training job opens the registry with HeadBucket (s3:ListBucket without s3:prefix).
    assert document["FindFeatureBucket"]["Resource"] == FEATURES_BUCKET_ARN
    assert document["FindFeatureBucket"]["Condition"] == {"Null": {"s3:prefix": "true"}}
    decrypt = document["DecryptFeatureDataThroughS3"]
    assert decrypt["Action"] == "kms:Decrypt" and decrypt["Resource"] == result.outputs["key:features"]
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{PRIMARY}.amazonaws.com"}}
