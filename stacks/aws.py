"""The AWS platform: providers, then each capability's component in dependency order, then the outputs.

Thin on purpose: every decision lives in a component (components/<capability>/aws.py) or in the
config model; this file only says which outputs feed which inputs.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.access.aws import AwsAccessInputs, CognitoIssuer, PrivateDns
from components.cluster import ClusterArgs
from components.cluster.aws import AwsClusterInputs, Cluster
from components.dr import DrArgs, dr_outputs
from components.dr.aws import AwsDrInputs, DisasterRecovery
from components.features import FeaturesArgs
from components.features.aws import AwsFeaturesInputs, FeatureStore
from components.k8s import (PLATFORM_NAMESPACE, TRAINING_NAMESPACE, AlertReceiver, ClusterBaselineArgs, FeatureServerArgs,
                            GpuNodeAgentsArgs, MlflowServerArgs, MonitoringStackArgs, PlatformWorkloadsArgs)
from components.k8s.platform import PlatformWorkloads
from components.keys import KeysArgs
from components.keys.aws import AwsKeysInputs, Keys
from components.monitoring import MonitoringArgs
from components.monitoring.aws import AwsMonitoringInputs, Monitoring
from components.network import NetworkArgs
from components.network.aws import AwsNetworkInputs, Network
from components.pipelines.aws import AwsPipelineInputs, retraining_pipeline
from components.registry import RegistryArgs
from components.registry.aws import AwsRegistryInputs, ModelRegistry
from components.serving import ModelStorage
from components.serving.aws import model_server_identity, request_log_identity
from components.tracking import TrackingArgs
from components.tracking.aws import AwsTrackingInputs, TrackingServer
from components.training import TrainingPoolArgs
from components.training.distributed import interruption_notice
from components.training.aws import AwsTrainingPoolInputs, TrainingJobIdentity, TrainingJobIdentityArgs, TrainingPool
from components.training.aws_karpenter import (DISCOVERY_TAG, KARPENTER_INTERRUPTION_QUERIES, KARPENTER_SCRAPE_TARGET,
                                               Karpenter, KarpenterArgs, SpotInterruptionArgs, SpotInterruptionHandling)
from stacks import naming
from stacks.access import StackSso, stack_front_door, stack_sso
from stacks.training import checkpoint_uri, distributed_training, training_mlflow_user
from stacks.config import PlatformConfig
from stacks.serving import request_log_args, request_log_key_prefix, stack_serving
from stacks.outputs import shared_outputs
from stacks.pipelines import drift_monitoring, mlflow_pipeline_args, retraining_args, with_drift


# A Network Load Balancer made by EKS's cloud controller for a LoadBalancer Service (TCP passthrough to the
# front door, which terminates TLS); internal unless the stack opts into a public endpoint.
AWS_PUBLIC_NLB = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
AWS_INTERNAL_NLB = {**AWS_PUBLIC_NLB, "service.beta.kubernetes.io/aws-load-balancer-internal": "true"}

def platform_name() -> str:
    """`mlops-<stack>`, shortened for long stack names (stacks.naming)."""
    return naming.platform_name(pulumi.get_stack())


def build(cfg: PlatformConfig) -> dict[str, Any]:
    """Create the whole AWS platform for `cfg`; return the stack outputs (fixed names, see DESIGN.md)."""
    name = platform_name()
    tags = cfg.cost_tags

    primary = aws.Provider("primary", region=cfg.region,
                           default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
    dr_provider: Optional[aws.Provider] = None
    if cfg.dr.enabled:
        dr_provider = aws.Provider("dr", region=cfg.dr.replica_region,
                                   default_tags=aws.ProviderDefaultTagsArgs(tags={**tags, "dr-replica-of": cfg.region}))
    on_primary = pulumi.ResourceOptions(providers={"aws": primary})

    keys = Keys("keys", KeysArgs.from_config(cfg, name, tags),
                AwsKeysInputs(region=cfg.region, dr_region=cfg.dr.replica_region if cfg.dr.enabled else None,
                              dr_provider=dr_provider),
                opts=on_primary)
    network = Network("network", NetworkArgs.from_config(cfg, name, tags),
                      AwsNetworkInputs(region=cfg.region, logs_key_arn=keys.notifications.arn,
                                       node_subnet_tags={DISCOVERY_TAG: name}),
                      opts=on_primary)
    cluster = Cluster("cluster", ClusterArgs.from_config(cfg, name, tags),
                      AwsClusterInputs(region=cfg.region, vpc_id=network.vpc_id,
                                       private_subnet_ids=network.private_subnet_ids,
                                       cluster_key_arn=keys.cluster.arn, logs_key_arn=keys.notifications.arn),
                      opts=on_primary)

    interruptions = SpotInterruptionHandling(
        "spot-interruptions", SpotInterruptionArgs(name=name, queue_key_arn=keys.notifications.arn, tags=tags),
        opts=on_primary)
    karpenter = Karpenter("karpenter", KarpenterArgs(
        cluster=cluster, cluster_name=name, region=cfg.region, interruption=interruptions,
        node_subnet_ids=network.private_subnet_ids, cluster_key_arn=keys.cluster.arn,
        replicas=min(2, cfg.cluster.system_node_count), tags=tags), opts=on_primary)
    pools = {}
    for pool in cfg.training_pools:
        pools[pool.name] = TrainingPool(f"training-{pool.name}", TrainingPoolArgs.from_config(pool, tags),
                     AwsTrainingPoolInputs(karpenter=karpenter, cluster_name=name, cluster_key_arn=keys.cluster.arn,
                                           k8s_provider=cluster.k8s_provider),
                     opts=on_primary)

    # The MLflow namespace comes from the in-cluster workloads, which are built last (they need the
    # tracking, feature and monitoring outputs); the DB-URI ExternalSecret waits for it.
    mlflow_namespace, resolve_mlflow_namespace = pulumi.deferred_output()

    workloads: Optional[PlatformWorkloads] = None
    try:
        registry = ModelRegistry("registry", RegistryArgs.from_config(cfg, name, tags),
                                 AwsRegistryInputs(images_key_arn=keys.artifacts.arn), opts=on_primary)
        tracking = TrackingServer("tracking", TrackingArgs.from_config(cfg, name, tags), AwsTrackingInputs(
            vpc_id=network.vpc_id, data_subnet_ids=network.data_subnet_ids,
            cluster_security_group_id=cluster.cluster_security_group_id,
            artifacts_key_arn=keys.artifacts.arn, database_key_arn=keys.database.arn,
            logs_key_arn=keys.notifications.arn,
            irsa_role=cluster.irsa_role, k8s_provider=cluster.k8s_provider,
            mlflow_namespace=mlflow_namespace), opts=on_primary)
        features = FeatureStore("features", FeaturesArgs.from_config(cfg, name, tags), AwsFeaturesInputs(
            region=cfg.region, features_key_arn=keys.features.arn, irsa_role=cluster.irsa_role), opts=on_primary)
        dr = None
        if cfg.dr.enabled:
            dr = DisasterRecovery("dr", DrArgs.from_config(cfg, name, tags), AwsDrInputs(
                dr_provider=dr_provider, tracking=tracking, features=features, registry=registry,
                dr_key_arns=keys.dr_key_arns), opts=on_primary)
        monitoring = Monitoring("monitoring", MonitoringArgs.from_config(cfg, name, tags), AwsMonitoringInputs(
            region=cfg.region, notifications_key_arn=keys.notifications.arn,
            db_instance_id=tracking.db_instance_id, db_instance_class=cfg.db_instance_class,
            db_allocated_storage_gb=cfg.tracking.db_allocated_storage_gb,
            interruption_queue_name=interruptions.queue_name, cluster_name=cluster.name,
            system_node_group_asg_name=cluster.system_node_group_asg_name,
            online_table_names=list(features.online_tables.values()), irsa_role=cluster.irsa_role,
            dr=dr.monitoring_inputs if dr else None), opts=on_primary)
        trainer = TrainingJobIdentity("training-jobs", TrainingJobIdentityArgs(
            cluster=cluster, region=cfg.region, features_bucket_arn=features.store.bucket_arn,
            features_key_arn=keys.features.arn, tags=tags,
            checkpoints_bucket_arn=tracking.artifacts.bucket_arn if cfg.training.enabled else None,
            checkpoints_key_arn=keys.artifacts.arn), opts=on_primary)

        sso = stack_sso(cfg, lambda args: CognitoIssuer("access", args, AwsAccessInputs(region=cfg.region, prod=cfg.is_prod),
                                                        opts=on_primary), opts=on_primary)
        pipeline = None
        training_user = training_mlflow_user(cfg)  # MLflow seeds it; the RayJobs log as it
        if cfg.pipelines.enabled:
            pipeline = retraining_pipeline("pipelines", retraining_args(cfg, features), cfg.environment,
                                           AwsPipelineInputs(
                cluster=cluster, region=cfg.region, artifacts_bucket=tracking.artifact_bucket,
                artifacts_bucket_arn=tracking.artifacts.bucket_arn, artifacts_key_arn=keys.artifacts.arn,
                features_bucket_arn=features.store.bucket_arn, features_key_arn=keys.features.arn, tags=tags),
                opts=on_primary, k8s_opts=pulumi.ResourceOptions(provider=cluster.k8s_provider),
                ui_sso=sso.pipelines if sso else None)
        drift = drift_monitoring(cfg, pipeline, features, pulumi.ResourceOptions(provider=cluster.k8s_provider))
        workloads = platform_workloads(cfg, network, cluster, tracking, features, monitoring, trainer, sso=sso,
                                       pipeline=pipeline, training_user=training_user, drift=drift)
        if sso is not None:  # the private front door and its DNS (components/access/frontdoor.py)
            door = stack_front_door(cfg, sso, [network.vpc_cidr], AWS_INTERNAL_NLB, AWS_PUBLIC_NLB, pulumi.ResourceOptions(
                provider=cluster.k8s_provider, depends_on=[workloads]),
                                    pipelines_namespace=pipeline.namespace if pipeline else None)
            PrivateDns("access-dns", sso.access.domain, network.vpc_id, cfg.region, door.address,
                       door.hostnames, tags, opts=on_primary)
        distributed_training(cfg, pools, registry.training_image_repository_url,
                             checkpoint_uri(pulumi.Output.concat("s3://", tracking.artifact_bucket)),
                             lambda pool: interruption_notice("aws"), features.offline_store_path,
                             env={"AWS_REGION": cfg.region},
                             mlflow_user=training_user,
                             depends_on=[workloads.baseline.namespaces[TRAINING_NAMESPACE],
                                         workloads.baseline.training_service_account],
                             opts=pulumi.ResourceOptions(provider=cluster.k8s_provider))
        stack_serving(cfg, workloads, ModelStorage("s3", cfg.region), model_server_identity(
            cluster, tracking.artifacts.bucket_arn, TrackingArgs.from_config(cfg, name, tags).artifact_prefix,
            keys.artifacts.arn, cfg.region, tags), [network.vpc_cidr], tracking.artifact_root,
            pulumi.ResourceOptions(providers={"aws": primary, "kubernetes": cluster.k8s_provider}),
                      rollout_depends_on=[pipeline] if pipeline else [],
                      request_log=request_log_args(cfg, features.offline_store_path, {"AWS_REGION": cfg.region}),
                      request_log_identity=request_log_identity(
                          cluster, features.store.bucket_arn, request_log_key_prefix(cfg), keys.features.arn,
                          cfg.region, tags))
    finally:
        # Never leave the deferred namespace pending: a failing component must surface as its error,
        # not as a program that waits forever for the ExternalSecret's namespace.
        resolve_mlflow_namespace(workloads.baseline.namespace_names[PLATFORM_NAMESPACE] if workloads
                                 else pulumi.Output.from_input(PLATFORM_NAMESPACE))

    return {
        **shared_outputs(cfg, tracking=tracking, registry=registry, features=features, cluster=cluster),
        "onlineStoreTable": features.online_store_table,
        "alertTopicArn": monitoring.alert_topic,
        "dr": dr_outputs(cfg, dr),
    }


def platform_workloads(cfg: PlatformConfig, network: Network, cluster: Cluster, tracking: TrackingServer,
                       features: FeatureStore, monitoring: Monitoring, trainer: TrainingJobIdentity,
                       sso: Optional[StackSso] = None, pipeline: Optional[Any] = None,
                       training_user: Optional[Any] = None,
                       drift: Optional[Any] = None) -> PlatformWorkloads:
    """The in-cluster platform (components/k8s), fed with the AWS side's identities and addresses."""
    irsa = "eks.amazonaws.com/role-arn"
    gpu_pools = [pool for pool in cfg.training_pools if pool.accelerator == "nvidia-gpu"]
    return PlatformWorkloads("platform", PlatformWorkloadsArgs(
        baseline=ClusterBaselineArgs(
            environment=cfg.environment, private_network_cidrs=[network.vpc_cidr],
            max_nodes=cfg.cluster.system_node_count + 1 + sum(pool.max_nodes for pool in cfg.training_pools),
            max_gpu_nodes=sum(pool.max_nodes for pool in gpu_pools),
            training_service_account_annotations=trainer.service_account_annotations),
        mlflow=MlflowServerArgs(
            environment=cfg.environment, image=cfg.tracking.mlflow_image, artifacts_destination=tracking.artifact_root,
            database_cidrs=network.data_subnet_cidrs, service_account_annotations={irsa: tracking.service_account_role},
            extra_env={"AWS_REGION": cfg.region},
            sso=sso.mlflow if sso else None, **mlflow_pipeline_args(pipeline, training_user),
            # The database and the ExternalSecret that syncs its URI into Secret mlflow-database.
            depends_on=[r for r in (tracking.db, tracking.db_uri_external_secret) if r]),
        feast=FeatureServerArgs(
            environment=cfg.environment, image=cfg.features.feast_image, project=features.feast_project,
            registry_path=features.registry_path, provider="aws", online_store=features.online_store,
            offline_store=features.offline_store, service_account_annotations={irsa: features.service_account_role},
            extra_env={"AWS_REGION": cfg.region}),
        monitoring=with_drift(MonitoringStackArgs(
            environment=cfg.environment, metrics_retention_days=cfg.monitoring.metrics_retention_days,
            sso=sso.grafana if sso else None,
            private_network_cidrs=[network.vpc_cidr], storage_class_name=cluster.storage_class,
            alert_receivers=[AlertReceiver("platform-alerts", monitoring.alert_receiver)],
            alertmanager_service_account_annotations={irsa: monitoring.alertmanager_role.arn},
            scrape_targets=[KARPENTER_SCRAPE_TARGET], interruption_queries=KARPENTER_INTERRUPTION_QUERIES), drift),
        gpu=GpuNodeAgentsArgs() if gpu_pools else None),
        opts=pulumi.ResourceOptions(provider=cluster.k8s_provider))
