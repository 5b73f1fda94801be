"""Stack rules written for the Checkov coverage gaps (issue 13), AWS: a setting made by a separate resource
(flow log, default security group, bucket versioning/lifecycle/ownership, key policy) is matched to the
resource it protects through the engine's dependencies, as in a real preview where ids are unknown."""
import pytest

from mlops_aws_policies.ec2 import securitygroup_require_attachment as sg_attached
from mlops_aws_policies.ec2 import vpc_default_security_group_closed as default_sg
from mlops_aws_policies.ec2 import vpc_flow_logs as flow_logs
from mlops_aws_policies.kms import key_policy_defined as key_policy
from mlops_aws_policies.rds import database_force_ssl as force_ssl
from mlops_aws_policies.s3 import bucket_disable_acls as s3_acls
from mlops_aws_policies.s3 import bucket_lifecycle_abort_uploads as s3_lifecycle
from mlops_aws_policies.s3 import bucket_versioning as s3_versioning
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack

VPC = "aws:ec2/vpc:Vpc"
BUCKET = "aws:s3/bucket:Bucket"


def flagged(outcome) -> list:
    return sorted(urn.rsplit("::", 1)[-1] for _, urn in outcome.violations)


def _network(flow_log_traffic="ALL", with_default_sg=True, default_sg_rules=()):
    resources = [Res(VPC, "network", {"cidrBlock": "10.50.0.0/16"}), Res(VPC, "dr-network", {"cidrBlock": "10.51.0.0/16"})]
    for vpc in ("network", "dr-network"):
        resources.append(Res("aws:ec2/flowLog:FlowLog", f"{vpc}-flow", {"vpcId": UNKNOWN, "trafficType": flow_log_traffic},
                             deps=[vpc]))
        if with_default_sg:
            resources.append(Res("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", f"{vpc}-default-sg",
                                 {"vpcId": UNKNOWN, "ingress": list(default_sg_rules), "egress": []}, deps=[vpc]))
    return resources


def test_every_vpc_with_an_all_traffic_flow_log_passes():
    assert check_stack(flow_logs.RULE, _network()).passed


def test_vpc_without_flow_log_or_with_rejects_only_fails():
    without = [r for r in _network() if r.name != "dr-network-flow"]
    assert flagged(check_stack(flow_logs.RULE, without)) == ["dr-network"]
    outcome = check_stack(flow_logs.RULE, _network(flow_log_traffic="REJECT"))
    assert flagged(outcome) == ["dr-network", "network"] and "only REJECT traffic" in outcome.messages[0]


def test_default_security_groups_adopted_without_rules_pass():
    assert check_stack(default_sg.RULE, _network()).passed


def test_default_security_group_not_adopted_or_with_rules_fails():
    assert flagged(check_stack(default_sg.RULE, _network(with_default_sg=False))) == ["dr-network", "network"]
    rules = [{"protocol": "-1", "self": True, "fromPort": 0, "toPort": 0}]
    outcome = check_stack(default_sg.RULE, _network(default_sg_rules=rules))
    assert flagged(outcome) == ["dr-network-default-sg", "network-default-sg"] and "1 ingress rule" in outcome.messages[0]


SG = "aws:ec2/securityGroup:SecurityGroup"


def _database_stack():
    return [
        Res(SG, "tracking-db", {"description": "PostgreSQL from the cluster only", "vpcId": UNKNOWN}),
        Res(SG, "cluster-nodes", {"description": "nodes", "vpcId": UNKNOWN}),
        # tracking-db's own rule, which also names cluster-nodes as its peer
        Res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "tracking-db-from-cluster",
            {"securityGroupId": UNKNOWN, "referencedSecurityGroupId": UNKNOWN, "fromPort": 5432, "toPort": 5432},
            deps=["tracking-db", "cluster-nodes"]),
        Res("aws:rds/instance:Instance", "tracking-db-instance", {"vpcSecurityGroupIds": [UNKNOWN]},
            deps=["tracking-db"]),
    ]


def test_security_group_used_by_a_database_or_as_a_rule_peer_passes():
    # tracking-db is attached to the instance; cluster-nodes is the peer another group's rule admits
    assert check_stack(sg_attached.RULE, _database_stack()).passed


def test_security_group_with_only_its_own_rules_fails():
    stack = [Res(SG, "leftover", {"description": "x"}),
             Res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "leftover-https",
                 {"securityGroupId": UNKNOWN, "cidrIpv4": "10.0.0.0/8"}, deps=["leftover"])]
    outcome = check_stack(sg_attached.RULE, stack)
    assert flagged(outcome) == ["leftover"] and "attached to nothing" in outcome.messages[0]


def _bucket(name, versioning="Enabled", lifecycle=True, ownership="BucketOwnerEnforced"):
    resources = [Res(BUCKET, name, {"bucketPrefix": f"mlops-prod-{name}-"})]
    if versioning:
        resources.append(Res("aws:s3/bucketVersioning:BucketVersioning", f"{name}-versioning",
                             {"bucket": UNKNOWN, "versioningConfiguration": {"status": versioning}}, deps=[name]))
    if lifecycle is not None:
        rule = {"id": "expire-noncurrent-versions", "status": "Enabled", "filter": {},
                "noncurrentVersionExpiration": {"noncurrentDays": 90}}
        if lifecycle:
            rule["abortIncompleteMultipartUpload"] = {"daysAfterInitiation": 7}
        resources.append(Res("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", f"{name}-lifecycle",
                             {"bucket": UNKNOWN, "rules": [rule]}, deps=[name]))
    if ownership:
        resources.append(Res("aws:s3/bucketOwnershipControls:BucketOwnershipControls", f"{name}-ownership",
                             {"bucket": UNKNOWN, "rule": {"objectOwnership": ownership}}, deps=[name]))
    return resources


@pytest.mark.parametrize("module", [s3_versioning, s3_lifecycle, s3_acls])
def test_secure_bucket_settings_pass(module):
    assert check_stack(module.RULE, _bucket("artifacts") + _bucket("features")).passed


@pytest.mark.parametrize("module, changes, expected", [
    (s3_versioning, {"versioning": "Suspended"}, "versioning is Suspended"),
    (s3_versioning, {"versioning": None}, "versioning is not configured"),
    (s3_lifecycle, {"lifecycle": False}, "does not abort incomplete multipart uploads"),
    (s3_lifecycle, {"lifecycle": None}, "has no lifecycle configuration"),
    (s3_acls, {"ownership": "ObjectWriter"}, "object ownership is ObjectWriter"),
    (s3_acls, {"ownership": None}, "no BucketOwnershipControls"),
])
def test_bucket_missing_the_setting_fails(module, changes, expected):
    outcome = check_stack(module.RULE, _bucket("artifacts") + _bucket("features", **changes))
    assert flagged(outcome) == ["features"] and expected in outcome.messages[0], outcome


KEY = "aws:kms/key:Key"


def test_keys_with_inline_or_separate_policy_pass():
    stack = [Res(KEY, "keys-artifacts", {"policy": '{"Version": "2012-10-17", "Statement": []}'}),
             Res(KEY, "keys-logs", {"description": "logs"}),
             Res("aws:kms/keyPolicy:KeyPolicy", "keys-logs-policy", {"keyId": UNKNOWN, "policy": UNKNOWN},
                 deps=["keys-logs"])]
    assert check_stack(key_policy.RULE, stack).passed


def test_key_and_replica_key_without_policy_fail():
    stack = [Res(KEY, "keys-artifacts", {"description": "artifacts"}),
             Res("aws:kms/replicaKey:ReplicaKey", "dr-artifacts", {"primaryKeyArn": UNKNOWN}, deps=["keys-artifacts"])]
    outcome = check_stack(key_policy.RULE, stack)
    assert flagged(outcome) == ["dr-artifacts", "keys-artifacts"] and "no key policy" in outcome.messages[0]


PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"


def _database(force_ssl="1", replica=False):
    group = Res(PARAMETER_GROUP, "tracking-db-params", {"name": "mlops-prod-tracking", "family": "postgres16",
                                                        "parameters": [{"name": "rds.force_ssl", "value": force_ssl}]})
    instance_props = {"parameterGroupName": "mlops-prod-tracking"}
    instance_props.update({"replicateSourceDb": "arn:aws:rds:us-east-1:1:db:src"} if replica else {"engine": "postgres"})
    return [group, Res("aws:rds/instance:Instance", "tracking-db", instance_props, deps=["tracking-db-params"])]


@pytest.mark.parametrize("replica", [False, True])
def test_database_whose_parameter_group_forces_tls_passes(replica):
    assert check_stack(force_ssl.RULE, _database(replica=replica)).passed


def test_database_without_force_ssl_or_on_default_group_fails():
    outcome = check_stack(force_ssl.RULE, _database(force_ssl="0"))
    assert flagged(outcome) == ["tracking-db"] and "does not set rds.force_ssl=1" in outcome.messages[0]
    default = [Res("aws:rds/instance:Instance", "tracking-db", {"engine": "postgres"})]
    assert "default parameter group" in check_stack(force_ssl.RULE, default).messages[0]
