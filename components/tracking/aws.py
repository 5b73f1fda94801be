"""AWS tracking backend: RDS PostgreSQL + S3 artifacts + IRSA, and the DB URI synced into the cluster.

Why this shape:
- MLflow connects to ``tracking-db.<env>.mlops.internal`` (a Route 53 private CNAME), never to the
  RDS address, so the DR runbook fails over by repointing one record.
- RDS owns the master password (Secrets Manager, encrypted with the database key); nobody types it.
  External Secrets Operator, with an IRSA role that can read exactly that secret, renders the
  SQLAlchemy URI into the Kubernetes Secret MLflow reads. The parameter group forces TLS.
- The database accepts connections only from the cluster security group, on 5432, and has no
  egress at all.
- MLflow's own IRSA role reaches only ``s3://<bucket>/<prefix>/*`` (through the artifacts key) and
  ``rds-db:connect`` as its database user on this instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.storage import BucketArgs
from components.aws_account import arn_part
from components.aws_iam import S3_PREFIX_OWNER_ACTIONS, kms_via_service, s3_list, s3_objects
from components.cluster.aws import IrsaRoleFactory
from components.storage.aws import SecureBucket
from components.tracking import (DATABASE_URI_SCHEME, MLFLOW_DB_SECRET, MLFLOW_DB_SECRET_KEY, TrackingArgs, postgres_major,
                                 tracking_url)
from components.documents import json_document

POSTGRES_PORT = 5432
# External Secrets Operator, pinned (chart 1.0.0 serves the external-secrets.io/v1 API).
ESO_CHART_VERSION = "1.0.0"
ESO_REPOSITORY = "https://charts.external-secrets.io"
ESO_NAMESPACE = "external-secrets"
ESO_SERVICE_ACCOUNT = "external-secrets"



@dataclass(frozen=True)
class AwsTrackingInputs:
    """AWS-only inputs: where the database lives, who may reach it, and the keys."""

    vpc_id: pulumi.Input[str]
    data_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    cluster_security_group_id: pulumi.Input[str]  # the only source allowed to reach the database
    artifacts_key_arn: pulumi.Input[str]
    database_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]  # database log groups
    irsa_role: IrsaRoleFactory
    # In-cluster part (ESO + ExternalSecret). Without a provider, only cloud resources are built.
    k8s_provider: Optional[k8s.Provider] = None
    # The MLflow namespace as created by the k8s layer (an Output, so the ExternalSecret waits for it).
    mlflow_namespace: Optional[pulumi.Input[str]] = None


class TrackingServer(pulumi.ComponentResource):
    """MLflow's backend store (RDS), artifact store (S3), DNS name, identities and DB secret sync."""

    db_extensions: tuple[str, ...] = ()  # no database setting here needs an extension created

    def __init__(self, name: str, args: TrackingArgs, aws_inputs: AwsTrackingInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:tracking:TrackingServer", name, None, opts)
        self.args = args
        tags = {**args.tags, "component": "tracking"}
        self._tags = tags

        self.artifacts = SecureBucket(
            f"{name}-artifacts",
            BucketArgs(name=f"{args.name}-artifacts", tags=tags, force_destroy=not args.deletion_protection,
                       protect=args.deletion_protection),
            kms_key_arn=aws_inputs.artifacts_key_arn,
            opts=pulumi.ResourceOptions(parent=self))
        self.artifact_bucket = self.artifacts.bucket_name
        self.artifact_root = pulumi.Output.format("s3://{0}/{1}", self.artifacts.bucket_name, args.artifact_prefix)

        self._database(name, args, aws_inputs, tags)
        self._dns(name, args, aws_inputs, tags)
        self.mlflow_role = aws_inputs.irsa_role(
            f"{name}-mlflow", args.namespace, args.service_account, self._mlflow_policy(args, aws_inputs),
            pulumi.ResourceOptions(parent=self), tags=tags)
        self.service_account_role = self.mlflow_role.arn
        self.tracking_url = tracking_url(namespace=args.namespace)
        self.db_connection_secret = {"name": MLFLOW_DB_SECRET, "key": MLFLOW_DB_SECRET_KEY, "namespace": args.namespace}
        self.external_secrets_release = self.external_secrets_role = self.db_uri_external_secret = None
        if aws_inputs.k8s_provider is not None:
            self._secret_sync(name, args, aws_inputs)

        self.register_outputs({
            "trackingUrl": self.tracking_url, "artifactBucket": self.artifact_bucket, "artifactRoot": self.artifact_root,
            "dbInstanceId": self.db_instance_id, "dbInstanceArn": self.db_instance_arn,
            "dbEndpointRecord": self.db_endpoint_record, "serviceAccountRole": self.service_account_role,
        })

    # --- database -----------------------------------------------------------------------------

    def _database(self, name: str, args: TrackingArgs, aws_inputs: AwsTrackingInputs, tags: dict) -> None:
        child = pulumi.ResourceOptions(parent=self)
        identifier = f"{args.name}-tracking"
        self.db_security_group = aws.ec2.SecurityGroup(
            f"{name}-db", vpc_id=aws_inputs.vpc_id,
            description=f"{identifier}: PostgreSQL from the cluster only",
            tags={**tags, "Name": f"{identifier}-db"}, opts=child)  # no egress: the database never dials out
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-db-from-cluster", security_group_id=self.db_security_group.id,
            referenced_security_group_id=aws_inputs.cluster_security_group_id,
            ip_protocol="tcp", from_port=POSTGRES_PORT, to_port=POSTGRES_PORT,
            description="PostgreSQL from cluster nodes and pods", tags=tags, opts=child)
        self.db_subnet_group = aws.rds.SubnetGroup(
            f"{name}-db", name=identifier, subnet_ids=aws_inputs.data_subnet_ids,
            description=f"{identifier}: data subnets (no internet route)", tags=tags, opts=child)
        self.db_parameter_group_family = f"postgres{postgres_major(args.db_engine_version)}"
        self.db_parameter_group = aws.rds.ParameterGroup(
            f"{name}-db", name=identifier, family=self.db_parameter_group_family,
            description=f"{identifier}: TLS required, slow queries logged",
            parameters=tracking_db_parameters(), tags=tags, opts=child)
        # Pre-created so the exported logs are KMS-encrypted and expire (RDS would create them bare).
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-db-{log}", name=f"/aws/rds/instance/{identifier}/{log}",
                retention_in_days=args.log_retention_days, kms_key_id=aws_inputs.logs_key_arn, tags=tags, opts=child)
            for log in ("postgresql", "upgrade")
        ]
        insights = {}
        if args.performance_insights:
            insights = {"performance_insights_enabled": True, "performance_insights_kms_key_id": aws_inputs.database_key_arn,
                        "performance_insights_retention_period": 7}
        self.db = aws.rds.Instance(
            f"{name}-db",
            identifier=identifier,
            engine="postgres",
            engine_version=args.db_engine_version,
            instance_class=args.db_instance_class,
            allocated_storage=args.db_allocated_storage_gb,
            max_allocated_storage=args.db_max_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=aws_inputs.database_key_arn,
            db_name=args.db_name,
            username=args.db_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=aws_inputs.database_key_arn,
            iam_database_authentication_enabled=True,
            db_subnet_group_name=self.db_subnet_group.name,
            vpc_security_group_ids=[self.db_security_group.id],
            parameter_group_name=self.db_parameter_group.name,
            publicly_accessible=False,
            multi_az=args.multi_az,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            backup_retention_period=args.backup_retention_days,
            backup_window="03:00-04:00",
            maintenance_window="sun:04:30-sun:05:30",
            copy_tags_to_snapshot=True,
            delete_automated_backups=not args.deletion_protection,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{identifier}-final",
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            tags=tags,
            **insights,
            opts=pulumi.ResourceOptions(parent=self, protect=args.deletion_protection, depends_on=log_groups),
        )
        self.db_instance_id = self.db.identifier
        self.db_instance_arn = self.db.arn
        self.db_master_secret_arn = self.db.master_user_secrets.apply(lambda secrets: secrets[0]["secret_arn"])

    def _dns(self, name: str, args: TrackingArgs, aws_inputs: AwsTrackingInputs, tags: dict) -> None:
        child = pulumi.ResourceOptions(parent=self)
        self.private_zone = aws.route53.Zone(
            f"{name}-internal", name=args.private_zone, comment=f"{args.name}: platform-internal names",
            vpcs=[{"vpc_id": aws_inputs.vpc_id}], tags=tags, opts=child)
        self.db_record = aws.route53.Record(
            f"{name}-db", zone_id=self.private_zone.zone_id, name=args.db_record_name, type="CNAME",
            ttl=60,  # short: the DR runbook repoints it and clients must follow within the RTO
            records=[self.db.address], opts=child)
        self.db_endpoint_record = {"zone_id": self.private_zone.zone_id, "name": args.db_record_name}

    # --- identities -----------------------------------------------------------------------------

    def _mlflow_policy(self, args: TrackingArgs, aws_inputs: AwsTrackingInputs) -> pulumi.Output[str]:
        bucket_arn = self.artifacts.bucket_arn
        prefix = args.artifact_prefix
        region, account = arn_part(self.db.arn, 3), arn_part(self.db.arn, 4)
        return json_document({
            "Version": "2012-10-17",
            "Statement": [
                s3_list("ListArtifactPrefix", bucket_arn, [prefix, f"{prefix}/*"]),
                s3_objects("ReadWriteArtifacts", S3_PREFIX_OWNER_ACTIONS, bucket_arn, prefix),
                kms_via_service("ArtifactsKeyThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"],
                                aws_inputs.artifacts_key_arn, "s3", region),
                {"Sid": "ConnectAsTrackingUser", "Effect": "Allow", "Action": "rds-db:connect",
                 "Resource": pulumi.Output.format("arn:aws:rds-db:{0}:{1}:dbuser:{2}/{3}", region, account,
                                                  self.db.resource_id, args.db_username)},
            ],
        })

    # --- in-cluster secret sync ----------------------------------------------------------------

    def _secret_sync(self, name: str, args: TrackingArgs, aws_inputs: AwsTrackingInputs) -> None:
        """ESO reads the RDS-managed secret and renders the SQLAlchemy URI into MLflow's namespace."""
        secret_arn = self.db_master_secret_arn
        region = arn_part(secret_arn, 3)
        eso_policy = json_document({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "ReadTrackingDbSecret", "Effect": "Allow",
                 "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], "Resource": secret_arn},
                kms_via_service("DecryptThroughSecretsManager", "kms:Decrypt", aws_inputs.database_key_arn,
                                "secretsmanager", region),
            ],
        })
        self.external_secrets_role = aws_inputs.irsa_role(
            f"{name}-external-secrets", ESO_NAMESPACE, ESO_SERVICE_ACCOUNT, eso_policy, pulumi.ResourceOptions(parent=self),
            tags=self._tags)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=aws_inputs.k8s_provider)
        self.external_secrets_release = k8s.helm.v3.Release(
            f"{name}-external-secrets",
            name="external-secrets",
            chart="external-secrets",
            version=ESO_CHART_VERSION,
            repository_opts={"repo": ESO_REPOSITORY},
            namespace=ESO_NAMESPACE,
            create_namespace=True,
            values={
                "installCRDs": True,
                "serviceAccount": {"create": True, "name": ESO_SERVICE_ACCOUNT,
                                   "annotations": {"eks.amazonaws.com/role-arn": self.external_secrets_role.arn}},
            },
            opts=k8s_opts)
        store_name = f"{args.name}-tracking-db"
        namespace = aws_inputs.mlflow_namespace if aws_inputs.mlflow_namespace is not None else args.namespace
        after_release = pulumi.ResourceOptions(parent=self, provider=aws_inputs.k8s_provider,
                                               depends_on=[self.external_secrets_release])
        self.secret_store = k8s.apiextensions.CustomResource(
            f"{name}-secret-store",
            api_version="external-secrets.io/v1", kind="ClusterSecretStore",
            metadata={"name": store_name},
            spec={
                "provider": {"aws": {"service": "SecretsManager", "region": region}},
                # Only MLflow's namespace may sync through this store (the role can read one secret anyway).
                "conditions": [{"namespaces": [namespace]}],
            },
            opts=after_release)
        uri = pulumi.Output.format(
            DATABASE_URI_SCHEME + "://{{{{ .username | urlquery }}}}:{{{{ .password | urlquery }}}}@{0}:{1}/{2}?sslmode=require",
            args.db_record_name, POSTGRES_PORT, args.db_name)
        self.db_uri_external_secret = k8s.apiextensions.CustomResource(
            f"{name}-db-uri",
            api_version="external-secrets.io/v1", kind="ExternalSecret",
            metadata={"name": MLFLOW_DB_SECRET, "namespace": namespace},
            spec={
                "refreshInterval": "1h",  # picks up RDS password rotation
                "secretStoreRef": {"kind": "ClusterSecretStore", "name": store_name},
                "target": {"name": MLFLOW_DB_SECRET, "creationPolicy": "Owner",
                           "template": {"engineVersion": "v2", "data": {MLFLOW_DB_SECRET_KEY: uri}}},
                "dataFrom": [{"extract": {"key": secret_arn}}],
            },
            opts=pulumi.ResourceOptions(parent=self, provider=aws_inputs.k8s_provider,
                                        depends_on=[self.external_secrets_release, self.secret_store]))


def tracking_db_parameters() -> list[dict]:
    """TLS-only connections; statements slower than 1 s are logged (exported to CloudWatch Logs)."""
    return [
        {"name": "rds.force_ssl", "value": "1", "apply_method": "pending-reboot"},
        {"name": "log_min_duration_statement", "value": "1000", "apply_method": "immediate"},
    ]
