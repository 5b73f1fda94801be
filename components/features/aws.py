"""AWS feature store: S3 registry/offline store, DynamoDB online tables, IRSA for the feature server.

- The bucket comes from the shared hardened-bucket helper (same rules as MLflow artifacts), keyed
  with the features domain key; only the offline prefix tiers down (the registry is hot).
- Online tables: on-demand billing, encrypted with the features key, point-in-time recovery,
  deletion protection in prod, streams with new and old images (what a global-table replica in
  the DR region needs; turning DR on later does not replace the table). ``replicas`` is ignored
  here because the DR component owns the replica as its own resource in the DR region.
- The feature server role reads the registry, reads/writes the offline prefix and reads/writes
  items of exactly these tables. It cannot create, delete or re-key tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.aws_iam import kms_via_service, s3_find_bucket, s3_list, s3_objects
from components.features import OFFLINE_PREFIX, REGISTRY_OBJECT, REGISTRY_PREFIX, FeaturesArgs
from components.storage import BucketArgs
from components.storage.aws import SecureBucket
from components.cluster.aws import IrsaRoleFactory
from components.documents import json_document

# What Feast calls on its tables (recorded by `make smoke` with IAM enforced): serving reads in batches,
# materialization writes in batches, apply waits for the table. No single-item or query calls.
ONLINE_ITEM_ACTIONS = ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:DescribeTable"]


@dataclass(frozen=True)
class AwsFeaturesInputs:
    """AWS-only inputs."""

    region: str
    features_key_arn: pulumi.Input[str]
    irsa_role: IrsaRoleFactory


class FeatureStore(pulumi.ComponentResource):
    """Feast's registry/offline bucket, online tables and feature-server identity (see components.features)."""

    def __init__(self, name: str, args: FeaturesArgs, aws_inputs: AwsFeaturesInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:features:FeatureStore", name, None, opts)
        tags = {**args.tags, "component": "features"}
        self.args = args
        self.feast_project = args.feast_project
        self.features_key_arn = pulumi.Output.from_input(aws_inputs.features_key_arn)

        self.store = SecureBucket(
            f"{name}-store",
            BucketArgs(name=f"{args.name}-features", tags=tags, tier_down_prefix=f"{OFFLINE_PREFIX}/",
                       force_destroy=not args.deletion_protection, protect=args.deletion_protection),
            kms_key_arn=aws_inputs.features_key_arn,
            opts=pulumi.ResourceOptions(parent=self))
        self.bucket_name = self.store.bucket_name
        self.registry_path = pulumi.Output.format("s3://{0}/{1}", self.bucket_name, REGISTRY_OBJECT)
        self.offline_store_path = pulumi.Output.format("s3://{0}/{1}", self.bucket_name, OFFLINE_PREFIX)

        self.tables: dict[str, aws.dynamodb.Table] = {}
        for view, table_name in args.online_table_names.items():
            self.tables[view] = aws.dynamodb.Table(
                f"{name}-online-{view}",
                name=table_name,
                billing_mode="PAY_PER_REQUEST",
                hash_key="entity_id",  # Feast's DynamoDB item key
                attributes=[{"name": "entity_id", "type": "S"}],
                server_side_encryption={"enabled": True, "kms_key_arn": aws_inputs.features_key_arn},
                point_in_time_recovery={"enabled": True},
                deletion_protection_enabled=args.deletion_protection,
                stream_enabled=True,
                stream_view_type="NEW_AND_OLD_IMAGES",
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, protect=args.deletion_protection, ignore_changes=["replicas"]))
        self.online_tables = {view: table.name for view, table in self.tables.items()}
        self.online_table_arns = {view: table.arn for view, table in self.tables.items()}
        self.online_store_table = self.online_tables[args.online_feature_views[0]]
        # Feast (0.50) re-tags every online table on `feast apply`: it removes the table's tags and writes the
        # store config's `tags`. Rendering the tables' own tags here keeps them as the platform set them.
        self.online_store = {"type": "dynamodb", "region": aws_inputs.region, "tags": dict(sorted(tags.items()))}
        self.offline_store = {"type": "file"}

        self.feature_server_role = aws_inputs.irsa_role(
            f"{name}-feature-server", args.namespace, args.service_account,
            self._feature_server_policy(aws_inputs), pulumi.ResourceOptions(parent=self), tags=tags)
        self.service_account_role = self.feature_server_role.arn

        self.register_outputs({
            "feastProject": self.feast_project, "registryPath": self.registry_path,
            "offlineStorePath": self.offline_store_path, "onlineTables": self.online_tables,
            "serviceAccountRole": self.service_account_role,
        })

    def _feature_server_policy(self, aws_inputs: AwsFeaturesInputs) -> pulumi.Output[str]:
        bucket_arn = self.store.bucket_arn
        region = aws_inputs.region
        return json_document({
            "Version": "2012-10-17",
            "Statement": [
                # Feast's S3 registry store calls HeadBucket first (s3_find_bucket says why it is its own grant).
                s3_find_bucket("FindBucket", bucket_arn),
                s3_list("ListFeastPrefixes", bucket_arn, [f"{REGISTRY_PREFIX}/*", f"{OFFLINE_PREFIX}/*"]),
                # The registry is one object: read on every refresh, written by `feast apply`, materialization
                # and the server's first start (an empty registry is committed when none exists).
                {"Sid": "ReadWriteRegistry", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                 "Resource": pulumi.Output.format("{0}/{1}", bucket_arn, REGISTRY_OBJECT)},
                s3_objects("ReadWriteOfflineStore", ["s3:GetObject", "s3:PutObject"], bucket_arn, OFFLINE_PREFIX),
                {"Sid": "OnlineItems", "Effect": "Allow", "Action": ONLINE_ITEM_ACTIONS,
                 "Resource": list(self.online_table_arns.values())},
                # `feast apply` calls CreateTable for every online view and treats ResourceInUseException as "it
                # exists"; AWS checks the permission before existence, so without it apply fails on the tables
                # created here. Granted on exactly these names: no DeleteTable, so it can never replace one.
                {"Sid": "ApplyFindsDeclaredTables", "Effect": "Allow", "Action": "dynamodb:CreateTable",
                 "Resource": list(self.online_table_arns.values())},
                # ... and then rewrites the table's tags (list, untag all, tag with online_store.tags).
                {"Sid": "ApplyRewritesTableTags", "Effect": "Allow",
                 "Action": ["dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource"],
                 "Resource": list(self.online_table_arns.values())},
                kms_via_service("FeaturesKeyThroughS3AndDynamoDb", ["kms:Decrypt", "kms:GenerateDataKey"],
                                aws_inputs.features_key_arn, ["s3", "dynamodb"], region),
            ],
        })
