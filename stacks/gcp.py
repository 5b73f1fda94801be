"""The GCP platform: providers and APIs, then each capability's component in dependency order, then the outputs.

Thin like stacks/aws.py: decisions live in components/<capability>/gcp.py and the config model.
The project comes from the provider's own config key ``gcp:project`` (the GCP provider reads it
too); its number, which names Google's service agents, from ``gcp.organizations.getProject``.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_gcp as gcp

from components.cluster import ClusterArgs
from components.cluster.gcp import Cluster, GcpClusterInputs
from components.dr import DrArgs
from components.dr.gcp import DisasterRecovery, GcpDrInputs, gcp_dr_outputs
from components.features import FeaturesArgs
from components.features.gcp import FeatureStore, GcpFeaturesInputs, OnlineReplica
from components.k8s import (PLATFORM_NAMESPACE, TRAINING_NAMESPACE, ClusterBaselineArgs, FeatureServerArgs, MlflowServerArgs,
                            MonitoringStackArgs, PlatformWorkloadsArgs)
from components.k8s.platform import PlatformWorkloads
from components.keys import KeysArgs
from components.keys.gcp import GcpKeysInputs, Keys
from components.monitoring import MonitoringArgs, email_alerting
from components.monitoring.gcp import GcpMonitoringInputs, Monitoring
from components.network import NetworkArgs, pick_zones
from components.network.gcp import GcpNetworkInputs, Network, node_tag
from components.pipelines.gcp import GcpPipelineInputs, retraining_pipeline
from components.registry import RegistryArgs
from components.registry.gcp import GcpRegistryInputs, ModelRegistry
from components.storage import BucketArgs
from components.storage.gcp import AccessLogBucket, gcp_labels
from components.serving import ModelStorage
from components.serving.gcp import model_server_identity, request_log_identity
from components.tracking import TrackingArgs
from components.tracking.gcp import GcpTrackingInputs, TrackingServer
from components.training import TrainingPoolArgs
from components.training.distributed import interruption_notice
from components.training.gcp import (GcpTrainingPoolInputs, TrainingJobIdentity, TrainingJobIdentityArgs, TrainingPool,
                                     gpu_accelerator, gpu_pool_zones)
from stacks import naming
from components.access.gcp import GoogleAccessInputs, GoogleIssuer, PrivateDns
from stacks.access import StackSso, stack_front_door, stack_sso
from stacks.training import checkpoint_uri, distributed_training, training_mlflow_user
from stacks.serving import request_log_args, request_log_key_prefix, stack_serving
from stacks.config import PlatformConfig
from stacks.gcp_apis import enable_apis, wait_for_apis
from stacks.outputs import shared_outputs
from stacks.pipelines import drift_monitoring, mlflow_pipeline_args, retraining_args, with_drift

def platform_name() -> str:
    """`mlops-<stack>`, shortened for long stack names (stacks.naming)."""
    return naming.platform_name(pulumi.get_stack())


def project_id() -> str:
    """`gcp:project` from the stack file; its absence stops the run with one line."""
    project = pulumi.Config("gcp").get("project")
    if not project:
        raise pulumi.RunError(f"Pulumi.{pulumi.get_stack()}.yaml: gcp:project is required for gcp stacks "
                              "(the project id to deploy into, e.g. acme-ml-dev)")
    return project


def check_gpu_machine_types(cfg: PlatformConfig, zones: Optional[list[str]] = None) -> None:
    """Every GPU pool's machine type must map to a known accelerator and (once the cluster's `zones` are
    known) be offered in one of them; one line per problem otherwise."""
    problems = []
    for index, pool in enumerate(cfg.training_pools):
        for type_index, machine_type in enumerate(pool.instance_types if pool.accelerator == "nvidia-gpu" else []):
            try:
                gpu_accelerator(machine_type)
                if zones is not None:
                    gpu_pool_zones(machine_type, cfg.region, zones)
            except ValueError as error:
                problems.append(f"Pulumi.{pulumi.get_stack()}.yaml: mlops:trainingPools[{index}].instanceTypes"
                                f"[{type_index}] = \"{machine_type}\": {error}")
    if problems:
        raise pulumi.RunError("invalid stack configuration:\n" + "\n".join(problems))


def region_zones(project: str, region: str, count: int, provider: gcp.Provider) -> list[str]:
    """The first `count` zones of `region` that are up (name order, stable across runs)."""
    names = gcp.compute.get_zones(project=project, region=region, status="UP",
                                  opts=pulumi.InvokeOptions(provider=provider)).names
    try:
        return pick_zones(names, count)
    except ValueError as error:
        raise pulumi.RunError(f"Pulumi.{pulumi.get_stack()}.yaml: mlops:region = \"{region}\": {error}") from None


def build(cfg: PlatformConfig) -> dict[str, Any]:
    """Create the whole GCP platform for `cfg`; return the stack outputs (AWS names where the meaning is the same)."""
    project = project_id()
    check_gpu_machine_types(cfg)  # before any resource; the zone check needs the region's zones
    name = platform_name()
    labels = gcp_labels(cfg.cost_tags)

    primary = gcp.Provider("primary", project=project, region=cfg.region, default_labels=labels)
    dr_provider: Optional[gcp.Provider] = None
    if cfg.dr.enabled:
        dr_provider = gcp.Provider("dr", project=project, region=cfg.dr.replica_region,
                                   default_labels={**labels, "dr-replica-of": cfg.region})
    on_primary = pulumi.ResourceOptions(providers={"gcp": primary})

    # Every API is enabled here so a fresh project works with one `pulumi up`; every GCP resource
    # registered after this waits for its API's Service (stacks/gcp_apis.py).
    # Google sign-in: the MLflow pod asks the Cloud Identity API for its users' groups (components/access/gcp.py).
    api_services = enable_apis(project, on_primary, extra=("cloudidentity",) if cfg.access.issuer == "google" else ())
    wait_for_apis(api_services)
    apis = list(api_services.values())
    # The Billing Budgets API needs a quota project when called with user credentials (pulumi-gcp
    # billing.Budget docs): this provider bills its requests to the stack's project.
    billing = gcp.Provider("billing", project=project, region=cfg.region, default_labels=labels,
                           billing_project=project, user_project_override=True)
    project_number = gcp.organizations.get_project_output(project_id=project, opts=pulumi.InvokeOptions(provider=primary)).number
    zones = region_zones(project, cfg.region, cfg.az_count, primary)
    check_gpu_machine_types(cfg, zones)

    keys = Keys("keys", KeysArgs.from_config(cfg, name, labels), GcpKeysInputs(
        project=project, project_number=project_number, region=cfg.region,
        dr_region=cfg.dr.replica_region if cfg.dr.enabled else None, dr_provider=dr_provider, apis=apis),
        opts=on_primary)
    access_logs, dr_access_logs = access_log_buckets(cfg, name, labels, project, keys, dr_provider, on_primary)
    network = Network("network", NetworkArgs.from_config(cfg, name, labels),
                      GcpNetworkInputs(project=project, region=cfg.region, zones=tuple(zones), apis=apis),
                      opts=on_primary)
    cluster = Cluster("cluster", ClusterArgs.from_config(cfg, name, labels), GcpClusterInputs(
        project=project, region=cfg.region, zones=zones, network_id=network.vpc_id,
        subnet_id=network.private_subnet_ids[0], pods_range_name=network.pods_range_name,
        services_range_name=network.services_range_name, control_plane_cidr=network.control_plane_cidr,
        vpc_cidr=network.vpc_cidr, cluster_key_id=keys.key_arns["cluster"], node_tags=[node_tag(name)],
        key_grants=keys.grants["cluster"],
        gpu_metrics=any(pool.accelerator == "nvidia-gpu" for pool in cfg.training_pools)), opts=on_primary)
    pools = {}
    for pool in cfg.training_pools:
        pools[pool.name] = TrainingPool(f"training-{pool.name}", TrainingPoolArgs.from_config(pool, labels),
                     GcpTrainingPoolInputs(cluster=cluster, node_service_account=cluster.node_service_account,
                                           zones=zones),
                     opts=on_primary)

    # The MLflow namespace comes from the in-cluster workloads, built last; the DB secret waits for it.
    mlflow_namespace, resolve_mlflow_namespace = pulumi.deferred_output()
    workloads: Optional[PlatformWorkloads] = None
    try:
        registry = ModelRegistry("registry", RegistryArgs.from_config(cfg, name, labels), GcpRegistryInputs(
            project=project, region=cfg.region, images_key_id=keys.key_arns["artifacts"],
            node_service_account=cluster.node_service_account, key_grants=keys.grants["artifacts"]), opts=on_primary)
        tracking = TrackingServer("tracking", TrackingArgs.from_config(cfg, name, labels), GcpTrackingInputs(
            project=project, region=cfg.region, network_id=network.vpc_id,
            private_services_connection=network.private_services_connection,
            artifacts_key_id=keys.key_arns["artifacts"], database_key_id=keys.key_arns["database"],
            workload_identity=cluster.workload_identity,
            key_grants=[*keys.grants["artifacts"], *keys.grants["database"]],
            k8s_provider=cluster.k8s_provider, mlflow_namespace=mlflow_namespace, access_logs=access_logs),
            opts=on_primary)
        online_replica = None
        if dr_provider is not None:
            # The DR region's Bigtable cluster, in its first zone, encrypted with the DR twin of the features key.
            online_replica = OnlineReplica("dr", region_zones(project, cfg.dr.replica_region, 1, dr_provider)[0],
                                           keys.dr_key_arns["features"], pulumi.ResourceOptions(provider=dr_provider))
        features = FeatureStore("features", FeaturesArgs.from_config(cfg, name, labels), GcpFeaturesInputs(
            project=project, region=cfg.region, zones=zones,
            features_key_id=keys.key_arns["features"], workload_identity=cluster.workload_identity,
            high_availability=cfg.is_prod, key_grants=keys.grants["features"], dr_replica=online_replica,
            access_logs=access_logs),
            opts=on_primary)
        dr = None
        if dr_provider is not None:
            dr = DisasterRecovery("dr", DrArgs.from_config(cfg, name, labels), GcpDrInputs(
                project=project, dr_provider=dr_provider, tracking=tracking,
                features=features, registry=registry, dr_key_ids=keys.dr_key_arns,
                dr_key_grants=[grant for grants in keys.dr_grants.values() for grant in grants],
                access_logs=dr_access_logs), opts=on_primary)
        monitoring = Monitoring("monitoring", MonitoringArgs.from_config(cfg, name, labels), GcpMonitoringInputs(
            project=project, project_number=project_number, billing_account=cfg.monitoring.billing_account,
            db_instance_id=tracking.db_instance_id, db_instance_tier=cfg.db_instance_class,
            cluster_name=cluster.name, db_replica_id=dr.db_replica_id if dr else None,
            online_store_instance=features.online_store_table, budget_provider=billing), opts=on_primary)
        trainer = TrainingJobIdentity("training-jobs", TrainingJobIdentityArgs(
            cluster=cluster, features_bucket=features.bucket_name,
            checkpoints_bucket=tracking.artifact_bucket if cfg.training.enabled else None), opts=on_primary)
        sso = stack_sso(cfg, lambda args: GoogleIssuer("access", args, GoogleAccessInputs(
            pulumi.InvokeOptions(provider=primary)), opts=on_primary), opts=on_primary)  # components/access/gcp.py
        pipeline = None
        training_user = training_mlflow_user(cfg)  # MLflow seeds it; the RayJobs log as it
        if cfg.pipelines.enabled:
            pipeline = retraining_pipeline("pipelines", retraining_args(cfg, features), cfg.environment,
                                           GcpPipelineInputs(cluster=cluster, artifacts_bucket=tracking.artifact_bucket,
                                                             features_bucket=features.bucket_name),
                                           opts=on_primary, k8s_opts=pulumi.ResourceOptions(provider=cluster.k8s_provider),
                                           identity_endpoints=cluster.identity_endpoints,
                                           ui_sso=sso.pipelines if sso else None)
        drift = drift_monitoring(cfg, pipeline, features, pulumi.ResourceOptions(provider=cluster.k8s_provider))
        workloads = platform_workloads(cfg, network, cluster, tracking, features, trainer.service_account_annotations,
                                       sso=sso, pipeline=pipeline, training_user=training_user, drift=drift)
        if sso is not None:  # the private front door and its DNS (components/access/frontdoor.py)
            door = stack_front_door(cfg, sso, [network.vpc_cidr], {"networking.gke.io/load-balancer-type": "Internal"}, {},
                                    pulumi.ResourceOptions(provider=cluster.k8s_provider, depends_on=[workloads]),
                                    pipelines_namespace=pipeline.namespace if pipeline else None)
            PrivateDns("access-dns", f"{name}-uis", sso.access.domain, project, network.vpc_id, door.address,
                       door.hostnames, labels, opts=on_primary)
        # GKE: the pod's budget of the spot pool's graceful node shutdown (105 s from GKE 1.35, else 15 s).
        distributed_training(cfg, pools, registry.training_image_repository_url,
                             checkpoint_uri(pulumi.Output.concat("gs://", tracking.artifact_bucket)),
                             lambda pool: interruption_notice("gcp", pool.shutdown_grace[0] - pool.shutdown_grace[1]
                                                              if pool.shutdown_grace else None),
                             features.offline_store_path,
                             mlflow_user=training_user,
                             depends_on=[workloads.baseline.namespaces[TRAINING_NAMESPACE],
                                         workloads.baseline.training_service_account],
                             opts=pulumi.ResourceOptions(provider=cluster.k8s_provider))
        stack_serving(cfg, workloads, ModelStorage("gcs"), model_server_identity(cluster, tracking.artifact_bucket),
                      [network.vpc_cidr], tracking.artifact_root,
                      pulumi.ResourceOptions(providers={"gcp": primary, "kubernetes": cluster.k8s_provider}),
                      rollout_depends_on=[pipeline] if pipeline else [],
                      request_log=request_log_args(cfg, features.offline_store_path),
                      request_log_identity=request_log_identity(
                          cluster, features.bucket_name, request_log_key_prefix(cfg),
                          f"{platform_name().replace('-', '_')}_request_log_writer"))
    finally:
        # Never leave the deferred namespace pending: a failing component must surface as its error.
        resolve_mlflow_namespace(workloads.baseline.namespace_names[PLATFORM_NAMESPACE] if workloads
                                 else pulumi.Output.from_input(PLATFORM_NAMESPACE))

    return {
        **shared_outputs(cfg, tracking=tracking, registry=registry, features=features, cluster=cluster),
        "project": project,
        "onlineStoreInstance": features.online_store_table,  # the Bigtable instance (Feast: one table per view inside)
        "alertNotificationChannels": monitoring.alert_topic,  # Cloud Monitoring channel ids
        "trackingDbConnectionName": tracking.db_connection_name,
        "dr": gcp_dr_outputs(cfg, dr),
        # Google sign-in: assign this account the Workspace admin role Groups Reader (docs/access.md).
        **({"mlflowGroupsReaderAccount": tracking.service_account_role} if cfg.access.issuer == "google" else {}),
    }


def access_log_buckets(cfg: PlatformConfig, name: str, labels: dict, project: str, keys: Keys,
                       dr_provider: Optional[gcp.Provider], on_primary: pulumi.ResourceOptions) -> tuple:
    """The usage-log bucket of the primary region and, with DR, of the DR region (logs stay in their region).

    Encrypted with the region's artifacts key, whose Cloud Storage agent grant it waits for.
    """
    def log_bucket(resource_name: str, location: str, key_id, grants, opts: pulumi.ResourceOptions) -> AccessLogBucket:
        args = BucketArgs(name=f"{name}-{'dr-' if resource_name.startswith('dr') else ''}access-logs",
                          tags={**labels, "component": "access-logs"}, force_destroy=not cfg.deletion_protection,
                          protect=cfg.deletion_protection)
        return AccessLogBucket(resource_name, args, key_id, project=project, location=location, depends_on=grants,
                               opts=opts)

    primary = log_bucket("access-logs", cfg.region, keys.key_arns["artifacts"], keys.grants["artifacts"], on_primary)
    dr = None
    if dr_provider is not None:
        dr = log_bucket("dr-access-logs", cfg.dr.replica_region, keys.dr_key_arns["artifacts"],
                        keys.dr_grants["artifacts"], pulumi.ResourceOptions(providers=[dr_provider]))
    return primary, dr


def platform_workloads(cfg: PlatformConfig, network: Network, cluster: Cluster, tracking: TrackingServer,
                       features: FeatureStore, trainer_annotations,
                       sso: Optional[StackSso] = None, pipeline: Optional[Any] = None,
                       training_user: Optional[Any] = None,
                       drift: Optional[Any] = None) -> PlatformWorkloads:
    """The in-cluster platform (components/k8s), fed with GKE Workload Identity and the GCP addresses."""
    # One GKE node pool per machine type, each up to maxNodes: node agents need a pod per node.
    pool_nodes = sum(pool.max_nodes * len(pool.instance_types) for pool in cfg.training_pools)
    private_cidrs = [network.vpc_cidr]
    return PlatformWorkloads("platform", PlatformWorkloadsArgs(
        baseline=ClusterBaselineArgs(
            environment=cfg.environment, private_network_cidrs=private_cidrs,
            # No platform GPU agents on GKE (see gpu below), so no GPU-node share of the agents' quota.
            max_nodes=cfg.cluster.system_node_count + 1 + pool_nodes, max_gpu_nodes=0,
            training_service_account_annotations=trainer_annotations,
            identity_endpoints=cluster.identity_endpoints),
        mlflow=MlflowServerArgs(
            environment=cfg.environment, image=cfg.tracking.mlflow_image, artifacts_destination=tracking.artifact_root,
            database_cidrs=network.data_subnet_cidrs, service_account_annotations=tracking.service_account_annotations,
            sso=sso.mlflow if sso else None, **mlflow_pipeline_args(pipeline, training_user),
            database_extensions=tracking.db_extensions,
            depends_on=[r for r in (tracking.db_secret,) if r]),  # the Secret waits for the user and database
        feast=FeatureServerArgs(
            environment=cfg.environment, image=cfg.features.feast_image, project=features.feast_project,
            registry_path=features.registry_path, provider="gcp", online_store=features.online_store,
            offline_store=features.offline_store, service_account_annotations=features.service_account_annotations),
        monitoring=with_drift(MonitoringStackArgs(
            environment=cfg.environment, metrics_retention_days=cfg.monitoring.metrics_retention_days,
            sso=sso.grafana if sso else None,
            private_network_cidrs=private_cidrs, storage_class_name=cluster.storage_class,
            **email_alerting(cfg)), drift),
        # GKE installs the NVIDIA driver, runs its own device plugin and collects DCGM metrics (cluster
        # monitoring); the platform's agents would duplicate the plugin and cannot reach GKE's NVIDIA libraries.
        gpu=None),
        opts=pulumi.ResourceOptions(provider=cluster.k8s_provider))
