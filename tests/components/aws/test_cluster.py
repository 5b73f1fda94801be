"""Cluster: encrypted secrets, private API, logs, IRSA, system nodes, add-ons, storage class, k8s provider."""

import json

import pulumi
import pytest

from .foundation import NAME, PRIMARY, as_list, foundation, policy, preview, statements


def program(public_cidrs=()):
    def run():
        built = foundation(public_cidrs=public_cidrs)
        role = built.cluster.irsa_role("team-reader", "mlops", "reader",
                                       policy_json=json.dumps({"Version": "2012-10-17", "Statement": [
                                           {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
                                            "Resource": "arn:aws:s3:::b/*"}]}),
                                       opts=pulumi.ResourceOptions(parent=built.keys))
        pulumi.export("readerRole", role.arn)
    return run


@pytest.fixture(scope="module")
def private():
    return preview(program())


@pytest.fixture(scope="module")
def dev_public():
    return preview(program(public_cidrs=("203.0.113.0/24",)))


def eks(result):
    return result.one("aws:eks/cluster:Cluster")["inputs"]


def test_secrets_envelope_encrypted_with_the_cluster_key(private):
    [config] = [eks(private)["encryptionConfig"]]
    assert config["resources"] == ["secrets"]
    assert config["provider"]["keyArn"] == private.outputs["key:cluster"]


def test_api_endpoint_is_private_unless_dev_opens_it_to_given_ranges(private, dev_public):
    vpc = eks(private)["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc
    assert vpc["subnetIds"] == private.outputs["privateSubnetIds"]
    public = eks(dev_public)["vpcConfig"]
    assert public["endpointPublicAccess"] is True and public["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_control_plane_logs_all_types_into_an_encrypted_log_group_created_first(private):
    assert sorted(eks(private)["enabledClusterLogTypes"]) == sorted(
        ["api", "audit", "authenticator", "controllerManager", "scheduler"])
    group = private.one("aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane")
    assert group["inputs"]["name"] == f"/aws/eks/{NAME}/cluster"
    assert group["inputs"]["kmsKeyId"] == private.outputs["key:notifications"]
    assert group["inputs"]["retentionInDays"] == 30
    assert group["urn"] in private.one("aws:eks/cluster:Cluster")["dependencies"]


def test_access_entries_standard_support_and_managed_addons_only(private):
    inputs = eks(private)
    assert inputs["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert inputs["bootstrapSelfManagedAddons"] is False
    assert inputs["version"] == "1.35" and inputs["name"] == NAME


def test_control_plane_role_uses_only_the_cluster_key(private):
    role = private.one("aws:iam/role:Role", "cluster-control-plane")
    [trust] = policy(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "eks.amazonaws.com"}
    [statement] = policy(private.one("aws:iam/rolePolicy:RolePolicy", "cluster-control-plane-secrets-key"))["Statement"]
    assert statement["Resource"] == private.outputs["key:cluster"]
    assert all(action.startswith("kms:") and "*" not in action for action in statement["Action"])


def test_oidc_provider_trusts_the_cluster_issuer_for_sts(private):
    oidc = private.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")["inputs"]
    assert oidc["url"] == "https://" + private.outputs["oidcIssuer"]
    assert oidc["clientIdLists"] == ["sts.amazonaws.com"]
    assert not private.outputs["oidcIssuer"].startswith("https://")
    assert private.outputs["oidcProviderArn"].endswith("oidc-provider/" + private.outputs["oidcIssuer"])


def test_irsa_role_trusts_exactly_one_service_account(private):
    role = private.one("aws:iam/role:Role", "team-reader")
    [trust] = policy(role, "assumeRolePolicy")["Statement"]
    issuer = private.outputs["oidcIssuer"]
    assert trust["Principal"] == {"Federated": private.outputs["oidcProviderArn"]}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"] == {"StringEquals": {f"{issuer}:sub": "system:serviceaccount:mlops:reader",
                                                   f"{issuer}:aud": "sts.amazonaws.com"}}
    inline = private.one("aws:iam/rolePolicy:RolePolicy", "team-reader")
    assert statements(policy(inline))["Read"]["Resource"] == "arn:aws:s3:::b/*"
    keys_component = private.one("mlops:keys:Keys")["urn"]
    assert role["parent"] == keys_component  # the caller's component owns the role


def test_system_nodes_are_on_demand_with_encrypted_imdsv2_only_nodes(private):
    group = private.one("aws:eks/nodeGroup:NodeGroup")["inputs"]
    assert group["capacityType"] == "ON_DEMAND" and group["amiType"] == "AL2023_x86_64_STANDARD"
    assert group["scalingConfig"] == {"desiredSize": 2, "maxSize": 3, "minSize": 2}
    assert group["labels"] == {"mlops.dev/pool": "system", "mlops.dev/capacity-type": "on-demand"}
    assert group["subnetIds"] == private.outputs["privateSubnetIds"]
    template = private.one("aws:ec2/launchTemplate:LaunchTemplate")["inputs"]
    [mapping] = template["blockDeviceMappings"]
    assert mapping["ebs"]["encrypted"] == "true" and mapping["ebs"]["volumeType"] == "gp3"
    assert mapping["ebs"]["kmsKeyId"] == private.outputs["key:cluster"]
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1


def test_node_role_has_no_cni_or_storage_permissions(private):
    attachments = [a["inputs"]["policyArn"] for a in private.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                   if a["name"].startswith("cluster-system-nodes-")]
    assert sorted(a.rsplit("/", 1)[1] for a in attachments) == [
        "AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodePolicy", "AmazonSSMManagedInstanceCore"]


@pytest.mark.parametrize("addon,service_account", [("vpc-cni", "aws-node"), ("aws-ebs-csi-driver", "ebs-csi-controller-sa"),
                                                   ("kube-proxy", None), ("coredns", None)])
def test_managed_addons_with_their_own_irsa_roles(private, addon, service_account):
    resource = private.one("aws:eks/addon:Addon", f"cluster-{addon}")
    assert resource["inputs"]["addonVersion"].endswith(tuple(f"-eksbuild.{n}" for n in range(1, 10)))
    if service_account:
        role_name = {"vpc-cni": "cluster-vpc-cni", "aws-ebs-csi-driver": "cluster-ebs-csi"}[addon]
        role = private.one("aws:iam/role:Role", role_name)
        [trust] = policy(role, "assumeRolePolicy")["Statement"]
        sub = trust["Condition"]["StringEquals"][private.outputs["oidcIssuer"] + ":sub"]
        assert sub == f"system:serviceaccount:kube-system:{service_account}"
        assert role["urn"] in resource["dependencies"]


def test_cni_enforces_network_policies_and_pod_addons_wait_for_nodes(private):
    cni = private.one("aws:eks/addon:Addon", "cluster-vpc-cni")
    assert json.loads(cni["inputs"]["configurationValues"]) == {"enableNetworkPolicy": "true"}
    nodes = private.one("aws:eks/nodeGroup:NodeGroup")
    assert cni["urn"] in nodes["dependencies"]
    for addon in ("coredns", "aws-ebs-csi-driver"):
        assert nodes["urn"] in private.one("aws:eks/addon:Addon", f"cluster-{addon}")["dependencies"]


def test_ebs_csi_may_encrypt_only_with_the_cluster_key(private):
    document = statements(policy(private.one("aws:iam/rolePolicy:RolePolicy", "cluster-ebs-csi")))
    assert {s["Resource"] for s in document.values()} == {private.outputs["key:cluster"]}
    assert document["GrantVolumeAttachmentsOnClusterKey"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_default_storage_class_is_gp3_encrypted_with_the_cluster_key_through_the_cluster_provider(private):
    storage = private.one("kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage["inputs"]["parameters"] == {"type": "gp3", "encrypted": "true", "kmsKeyId": private.outputs["key:cluster"],
                                               "csi.storage.k8s.io/fstype": "ext4"}
    assert storage["inputs"]["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert storage["inputs"]["volumeBindingMode"] == "WaitForFirstConsumer"
    provider = private.one("pulumi:providers:kubernetes")
    assert storage["provider"].startswith(provider["urn"] + "::")


def test_kubeconfig_is_secret_and_uses_short_lived_exec_tokens(private):
    provider = private.one("pulumi:providers:kubernetes")
    assert private.is_secret(provider["urn"], "kubeconfig")
    assert private.masked_outputs()["kubeconfig"] == "[secret]"
    config = json.loads(private.outputs["kubeconfig"])
    [user] = config["users"]
    assert user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"] == ["eks", "get-token", "--cluster-name", NAME, "--region", PRIMARY, "--output", "json"]
    assert "token" not in user["user"]
    [cluster] = config["clusters"]
    assert cluster["cluster"]["server"].startswith("https://") and cluster["cluster"]["certificate-authority-data"]


def test_no_iam_statement_uses_wildcard_actions(private):
    for resource in private.by_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in policy(resource)["Statement"]:
            assert all("*" not in action for action in as_list(statement["Action"])), resource["name"]
            assert statement["Resource"] != "*", resource["name"]
