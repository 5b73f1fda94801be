"""AWS KMS keys: one multi-Region customer-managed key per data domain, replicas in the DR region.

How other components get to use a key (no key-policy edit needed when they add a role):

1. The account (``arn:<partition>:iam::<account>:root``) administers the key with named admin
   actions, so the deployer's IAM policy decides who may manage it.
2. The account may use the key for crypto operations ONLY through the domain's services
   (``kms:ViaService`` = e.g. ``s3.<region>.amazonaws.com``) and only as callers from this account
   (``kms:CallerAccount``). An IAM role created later (an IRSA role, a replication role) is
   granted use by an IAM policy statement naming the key ARN with the same actions; the key
   policy already lets that statement take effect for calls made through the domain's services.
3. Services that act as their own principal are named as service principals with a
   source-account/context condition: CloudWatch Logs, EventBridge, CloudWatch alarms and AWS
   Budgets on the notifications key (they publish into encrypted log groups, queues and topics).
4. The cluster key encrypts EBS volumes, which EC2 creates on behalf of service-linked roles
   (EC2 Auto Scaling for managed node groups, EC2 Spot/Fleet for Karpenter) that carry no KMS
   permission of their own. Like the AWS-managed ``aws/ebs`` key, the cluster key therefore lets
   any principal *of this account* (``kms:CallerAccount``) use it *through EC2 only*
   (``kms:ViaService`` = ``ec2.<region>``). No role outside the account, and no direct call,
   can use it; and no service-linked role has to exist before the key does.

Keys are multi-Region primaries even when DR is off: the property cannot be changed after
creation, and turning DR on later must not replace every key (and re-encrypt every data store).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_account import AccountContext, account_context
from components.aws_iam import service_endpoint
from components.keys import DOMAINS, KeysArgs

# The services that store each domain's data, i.e. the kms:ViaService values its key accepts.
DOMAIN_SERVICES: dict[str, tuple[str, ...]] = {
    "artifacts": ("s3", "ecr"),
    "database": ("rds", "secretsmanager"),
    "cluster": ("eks", "ec2"),
    "features": ("s3", "dynamodb"),
    "notifications": ("sns", "sqs", "logs"),
}

ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
    "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations",
    "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ReplicateKey", "kms:RetireGrant", "kms:RevokeGrant",
    "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
    "kms:UpdateAlias", "kms:UpdateKeyDescription", "kms:UpdatePrimaryRegion",
]
CRYPTO_ACTIONS = [
    "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
]
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
# What a service needs to write into (and read back from) an encrypted queue, topic or log group.
PUBLISHER_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]

DESCRIPTIONS = {
    "artifacts": "MLflow artifacts and container images",
    "database": "tracking database storage and its master-password secret",
    "cluster": "Kubernetes secrets envelope encryption and node/persistent volumes",
    "features": "Feast registry, offline store and online store",
    "notifications": "alert topic, interruption queue and platform log groups",
}


@dataclass(frozen=True)
class AwsKeysInputs:
    """AWS-only inputs: the regions (for kms:ViaService) and the DR-region provider."""

    region: str
    dr_region: Optional[str] = None
    dr_provider: Optional[aws.Provider] = None


def key_policy(domain: str, region: str, ctx: AccountContext) -> pulumi.Output[str]:
    """The key policy for `domain` in `region` (the DR twin gets the same policy for its region)."""

    def render(account_id: str, partition: str, dns_suffix: str) -> str:
        root = f"arn:{partition}:iam::{account_id}:root"
        via = [service_endpoint(service, region, dns_suffix) for service in DOMAIN_SERVICES[domain]]
        statements: list[dict] = [
            {"Sid": "AccountAdministersKey", "Effect": "Allow", "Principal": {"AWS": root},
             "Action": ADMIN_ACTIONS, "Resource": "*"},
            {"Sid": "UseOnlyThroughDomainServices", "Effect": "Allow", "Principal": {"AWS": root},
             "Action": CRYPTO_ACTIONS, "Resource": "*",
             "Condition": {"StringEquals": {"kms:CallerAccount": account_id, "kms:ViaService": via}}},
            {"Sid": "GrantsOnlyForDomainServices", "Effect": "Allow", "Principal": {"AWS": root},
             "Action": GRANT_ACTIONS, "Resource": "*",
             "Condition": {"StringEquals": {"kms:CallerAccount": account_id, "kms:ViaService": via},
                           "Bool": {"kms:GrantIsForAWSResource": "true"}}},
        ]
        statements.extend(_service_statements(domain, region, account_id, partition, dns_suffix))
        return json.dumps({"Version": "2012-10-17", "Statement": statements})  # resolved values: plain JSON

    return pulumi.Output.all(ctx.account_id, ctx.partition, ctx.dns_suffix).apply(lambda v: render(*v))


def _service_statements(domain: str, region: str, account_id: str, partition: str, dns_suffix: str) -> list[dict]:
    if domain == "notifications":
        source_account = {"StringEquals": {"aws:SourceAccount": account_id}}
        return [
            {"Sid": "CloudWatchLogsEncryptsPlatformLogGroups", "Effect": "Allow",
             "Principal": {"Service": f"logs.{region}.{dns_suffix}"},
             "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
                        "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"],
             "Resource": "*",
             "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                       f"arn:{partition}:logs:{region}:{account_id}:log-group:*"}}},
            {"Sid": "EventBridgePublishesToEncryptedQueuesAndTopics", "Effect": "Allow",
             "Principal": {"Service": "events.amazonaws.com"}, "Action": PUBLISHER_ACTIONS,
             "Resource": "*", "Condition": source_account},
            {"Sid": "CloudWatchAlarmsPublishToEncryptedTopics", "Effect": "Allow",
             "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": PUBLISHER_ACTIONS,
             "Resource": "*", "Condition": source_account},
            {"Sid": "BudgetsPublishToEncryptedTopics", "Effect": "Allow",
             "Principal": {"Service": "budgets.amazonaws.com"}, "Action": PUBLISHER_ACTIONS,
             "Resource": "*", "Condition": source_account},
        ]
    if domain in ("artifacts", "features"):
        # Each data bucket's server access logs land in a companion bucket encrypted with the same
        # key; the logging service generates the data keys. Not visible offline: AWS's S3 guide long
        # said SSE-KMS log buckets were unsupported; the AWS CDK integration test (aws-cdk#25350)
        # delivers logs into one once the key policy names logging.s3.amazonaws.com like this.
        return [
            {"Sid": "S3ServerAccessLogsEncrypt", "Effect": "Allow",
             "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": ["kms:GenerateDataKey"],
             "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}},
        ]
    if domain == "cluster":
        through_ec2 = {"kms:CallerAccount": account_id, "kms:ViaService": service_endpoint("ec2", region, dns_suffix)}
        return [
            {"Sid": "AccountPrincipalsEncryptVolumesThroughEc2", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": CRYPTO_ACTIONS, "Resource": "*", "Condition": {"StringEquals": through_ec2}},
            {"Sid": "AccountPrincipalsAttachVolumesThroughEc2", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["kms:CreateGrant"], "Resource": "*",
             "Condition": {"StringEquals": through_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}}},
        ]
    return []


class Keys(pulumi.ComponentResource):
    """One customer-managed key (+ alias) per data domain; DR-region replica keys when DR is on."""

    def __init__(self, name: str, args: KeysArgs, aws_inputs: AwsKeysInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:keys:Keys", name, None, opts)
        if args.dr_enabled and (aws_inputs.dr_provider is None or not aws_inputs.dr_region):
            raise ValueError("Keys: dr_enabled needs aws_inputs.dr_region and aws_inputs.dr_provider")
        tags = {**args.tags, "component": "keys"}
        ctx = account_context(self)
        self.account = ctx
        self.keys: dict[str, aws.kms.Key] = {}
        self.aliases: dict[str, aws.kms.Alias] = {}
        self.dr_replicas: dict[str, aws.kms.ReplicaKey] = {}
        self.dr_aliases: dict[str, aws.kms.Alias] = {}
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)

        for domain in DOMAINS:
            key = aws.kms.Key(
                f"{name}-{domain}",
                description=f"{args.name}: {DESCRIPTIONS[domain]}",
                enable_key_rotation=True,
                rotation_period_in_days=365,
                multi_region=True,
                deletion_window_in_days=args.deletion_window_days,
                policy=key_policy(domain, aws_inputs.region, ctx),
                tags={**tags, "data-domain": domain},
                opts=stateful,
            )
            self.keys[domain] = key
            self.aliases[domain] = aws.kms.Alias(
                f"{name}-{domain}", name=f"alias/{args.name}-{domain}", target_key_id=key.key_id,
                opts=pulumi.ResourceOptions(parent=self))
            if args.dr_enabled:
                dr_opts = pulumi.ResourceOptions(parent=self, provider=aws_inputs.dr_provider)
                replica = aws.kms.ReplicaKey(
                    f"{name}-{domain}-dr",
                    primary_key_arn=key.arn,
                    description=f"{args.name} (DR replica): {DESCRIPTIONS[domain]}",
                    deletion_window_in_days=args.deletion_window_days,
                    policy=key_policy(domain, aws_inputs.dr_region, ctx),
                    tags={**tags, "data-domain": domain, "dr-replica-of": aws_inputs.region},
                    opts=dr_opts.merge(pulumi.ResourceOptions(protect=args.protect)),
                )
                self.dr_replicas[domain] = replica
                self.dr_aliases[domain] = aws.kms.Alias(
                    f"{name}-{domain}-dr", name=f"alias/{args.name}-{domain}", target_key_id=replica.key_id,
                    opts=dr_opts)

        self.key_arns = {domain: key.arn for domain, key in self.keys.items()}
        self.dr_key_arns = {domain: replica.arn for domain, replica in self.dr_replicas.items()}
        self.register_outputs({"keyArns": self.key_arns, "drKeyArns": self.dr_key_arns})

    # Attribute access per domain, as the contract promises.
    @property
    def artifacts(self) -> aws.kms.Key:
        return self.keys["artifacts"]

    @property
    def database(self) -> aws.kms.Key:
        return self.keys["database"]

    @property
    def cluster(self) -> aws.kms.Key:
        return self.keys["cluster"]

    @property
    def features(self) -> aws.kms.Key:
        return self.keys["features"]

    @property
    def notifications(self) -> aws.kms.Key:
        return self.keys["notifications"]
