"""The Azure platform: resource groups, then each capability's component in dependency order, then the outputs.

Thin like stacks/aws.py: decisions live in components/<capability>/azure.py and the config model.
The location comes from ``mlops:region``; every resource names its location and resource group
explicitly, so the azure-native provider's own ``location`` setting does not matter.

One resource group per stack (``<platform>-rg``) holds everything in the primary location; with DR
on, ``<platform>-dr-rg`` in ``mlops:dr.replicaRegion`` holds the data-only DR network (linked to the
primary's private DNS zones), the key twins with their DR identities and the replicas. AKS puts its VMs into its own node resource group (``<platform>-nodes``).

Output differences from AWS (same names where the meaning is the same):
- ``artifactBucket``: the artifact storage account's name (MLflow writes to its ``wasbs://`` root);
- ``onlineStoreTable``: the Managed Redis database's resource id; ``onlineStoreHost`` its host name;
- ``alertActionGroupId`` replaces ``alertTopicArn`` (Azure Monitor action group);
- ``trackingDbEndpointRecord``: the Postgres private DNS zone id and the server's FQDN;
- ``resourceGroup``: the stack's resource group.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

import pulumi
import pulumi_azure_native as azure

from components.access.azure import AzureAccessInputs, EntraIssuer, PrivateDns
from components.cluster import ClusterArgs
from components.azure_account import deployer, tenant_id
from components.cluster.azure import (CLIENT_ID_ANNOTATION, WORKLOAD_IDENTITY_POD_LABELS, AzureClusterInputs, Cluster,
                                      PlatformPoolSize)
from components.dr import DrArgs, dr_outputs
from components.dr.azure import AzureDrInputs, DisasterRecovery, redis_geo_group
from components.features import FeaturesArgs
from components.features.azure import FEAST_CONTAINER, AzureFeaturesInputs, FeatureStore
from components.k8s import (PLATFORM_NAMESPACE, TRAINING_NAMESPACE, TRAINING_SERVICE_ACCOUNT, ClusterBaselineArgs,
                            FeatureServerArgs, GpuNodeAgentsArgs, MlflowServerArgs, MonitoringStackArgs,
                            PlatformWorkloadsArgs)
from components.k8s.platform import PlatformWorkloads
from components.keys import KeysArgs
from components.keys.azure import AzureKeysInputs, Keys
from components.monitoring import MonitoringArgs, email_alerting
from components.monitoring.azure import AzureMonitoringInputs, Monitoring
from components.network import NetworkArgs
from components.network.azure import AzureNetworkInputs, Network
from components.pipelines import ARTIFACT_PREFIX
from components.pipelines.azure import AzurePipelineInputs, retraining_pipeline
from components.registry import RegistryArgs
from components.registry.azure import AzureRegistryInputs, ModelRegistry
from components.storage.azure import (STORAGE_BLOB_DATA_CONTRIBUTOR, STORAGE_BLOB_DATA_READER, PrivateEndpointTarget,
                                      blob_prefix_condition, grant)
from components.serving import ModelStorage
from components.serving.azure import model_server_identity, request_log_identity
from components.tracking import TrackingArgs
from components.tracking.azure import AzureTrackingInputs, EntraAdmin, TrackingServer
from components.training import TrainingPoolArgs
from components.training.azure import AzureTrainingPoolInputs, TrainingPool
from components.training.distributed import CHECKPOINT_PREFIX, interruption_notice
from stacks import clock, naming
from stacks.access import StackSso, stack_front_door, stack_sso
from stacks.serving import request_log_args, request_log_key_prefix, stack_serving
from stacks.config import PlatformConfig
from stacks.config_delivery import platform_pool_size
from stacks.training import checkpoint_uri, distributed_training, training_mlflow_user
from stacks.outputs import shared_outputs
from stacks.pipelines import drift_monitoring, mlflow_pipeline_args, retraining_args, with_drift

# Azure region pairs (learn.microsoft.com/azure/reliability/cross-region-replication-azure), both ways:
# geo-redundant backups of the tracking database go to the primary's pair.
_PAIRS = (("westeurope", "northeurope"), ("eastus", "westus"), ("eastus2", "centralus"), ("uksouth", "ukwest"),
          ("francecentral", "francesouth"), ("germanywestcentral", "germanynorth"), ("swedencentral", "swedensouth"),
          ("northcentralus", "southcentralus"), ("westus2", "westcentralus"), ("japaneast", "japanwest"),
          ("australiaeast", "australiasoutheast"), ("canadacentral", "canadaeast"))
PAIRED_REGIONS = {**dict(_PAIRS), **{b: a for a, b in _PAIRS}}


def platform_name() -> str:
    """`mlops-<stack>`, shortened for long stack names (stacks.naming)."""
    return naming.platform_name(pulumi.get_stack())


def build(cfg: PlatformConfig) -> dict[str, Any]:
    """Create the whole Azure platform for `cfg`; return the stack outputs (fixed names, see module doc)."""
    name = platform_name()
    tags = cfg.cost_tags
    location = cfg.region
    protect = pulumi.ResourceOptions(protect=cfg.deletion_protection)

    group = azure.resources.ResourceGroup("resource-group", resource_group_name=f"{name}-rg", location=location,
                                          tags=tags, opts=protect)
    network = Network("network", NetworkArgs.from_config(cfg, name, tags), AzureNetworkInputs(
        location=location, resource_group_name=group.name,
        apiserver_public_cidrs=tuple(str(cidr) for cidr in cfg.cluster.public_access_cidrs)))
    dr_group, dr_network = dr_foundation(cfg, name, tags, group, network) if cfg.dr.enabled else (None, None)
    keys = Keys("keys", KeysArgs.from_config(cfg, name, tags), AzureKeysInputs(
        location=location, resource_group_name=group.name, endpoint_subnet_id=network.endpoint_subnet_id,
        keyvault_dns_zone_id=network.private_dns_zone_ids["keyvault"],
        dr_location=cfg.dr.replica_region if dr_group else None, dr_resource_group_name=dr_group.name if dr_group else None,
        dr_endpoint_subnet_id=dr_network.endpoint_subnet_id if dr_network else None))
    cluster = Cluster("cluster", ClusterArgs.from_config(cfg, name, tags), AzureClusterInputs(
        location=location, resource_group_name=group.name, node_subnet_id=network.node_subnet_id,
        apiserver_subnet_id=network.apiserver_subnet_id, availability_zones=network.availability_zones,
        vault_id=keys.vault_id, cluster_key_id=keys.key_ids["cluster"], cluster_key_uri=keys.key_arns["cluster"],
        cluster_key_versioned_uri=keys.key_versioned_uris["cluster"],
        cluster_key_identity_id=keys.identities["cluster"].id, cluster_key_grant=keys.grants["cluster"],
        environment=cfg.environment, kubelogin_mode=cfg.azure.kubelogin_mode,
        deployer_object_id=deployer().object_id, deployer_client_id=deployer().client_id,
        platform_pool=PlatformPoolSize(*platform_pool_size(cfg))))

    # AKS runs one operation per cluster at a time: training pools are added one after the other, after
    # the platform pool.
    previous: pulumi.Resource = cluster.platform_pool
    pools = {}
    for pool in cfg.training_pools:
        pools[pool.name] = TrainingPool(f"training-{pool.name}", TrainingPoolArgs.from_config(pool, tags), AzureTrainingPoolInputs(
            resource_group_name=group.name, cluster_name=cluster.name, node_subnet_id=network.node_subnet_id,
            availability_zones=network.availability_zones, kubernetes_version=cfg.cluster.version,
            after=[previous]))
        previous = pools[pool.name].last_agent_pool

    # The platform namespace comes from the in-cluster workloads, which are built last (they need the
    # tracking and feature outputs); the DB-URI and online-store Secrets wait for it.
    platform_namespace, resolve_platform_namespace = pulumi.deferred_output()
    workloads: Optional[PlatformWorkloads] = None
    try:
        registry = ModelRegistry("registry", RegistryArgs.from_config(cfg, name, tags), AzureRegistryInputs(
            resource_group_name=group.name, location=location, registry_key=keys.cmk("artifacts"),
            private_endpoints=network.endpoint_target("acr"), kubelet_principal_id=cluster.kubelet_identity.principal_id,
            zone_redundant=cfg.is_prod, defender_for_containers=cfg.azure.defender_for_containers))
        tracking = TrackingServer("tracking", TrackingArgs.from_config(cfg, name, tags), AzureTrackingInputs(
            resource_group_name=group.name, location=location, postgres_subnet_id=network.postgres_subnet_id,
            postgres_dns_zone_id=network.private_dns_zone_ids["postgres"],
            private_endpoints=network.endpoint_target("blob"), database_key=keys.cmk("database"),
            artifacts_key=keys.cmk("artifacts"), workload_identity=cluster.workload_identity,
            tenant_id=tenant_id(), entra_admin=postgres_entra_admin(cfg, name),
            zone_redundant_storage=cfg.is_prod, writer_endpoint=cfg.dr.enabled,
            k8s_provider=cluster.k8s_provider,
            # Geo-redundant backups (prod) go to the region pair and need a key there: the DR twin,
            # when the DR region is the pair (otherwise the DR replica is the only off-region copy).
            geo_backup_key=keys.dr_cmk("database") if cfg.is_prod and dr_group
            and PAIRED_REGIONS.get(cfg.region) == cfg.dr.replica_region else None,
            mlflow_namespace=platform_namespace,
            extra_containers=[ARTIFACT_PREFIX] if cfg.pipelines.enabled else []))
        features = FeatureStore("features", FeaturesArgs.from_config(cfg, name, tags), AzureFeaturesInputs(
            resource_group_name=group.name, location=location, features_key=keys.cmk("features"),
            blob_endpoints=network.endpoint_target("blob"), redis_endpoints=network.endpoint_target("redis"),
            workload_identity=cluster.workload_identity, zone_redundant=cfg.is_prod,
            geo_replication=redis_geo_group(f"{name}-features", (group.id, f"{name}-features"),
                                            (dr_group.id, f"{name}-features-dr")) if dr_group else None,
            k8s_provider=cluster.k8s_provider, namespace=platform_namespace))
        dr = None
        if dr_group is not None:
            dr = DisasterRecovery("dr", DrArgs.from_config(cfg, name, tags), AzureDrInputs(
                resource_group_name=dr_group.name, location=cfg.dr.replica_region,
                postgres_subnet_id=dr_network.postgres_subnet_id,
                postgres_dns_zone_id=network.private_dns_zone_ids["postgres"],
                blob_endpoints=PrivateEndpointTarget(dr_network.endpoint_subnet_id, network.private_dns_zone_ids["blob"]),
                redis_endpoints=PrivateEndpointTarget(dr_network.endpoint_subnet_id, network.private_dns_zone_ids["redis"]),
                database_key=keys.dr_cmk("database"), artifacts_key=keys.dr_cmk("artifacts"),
                features_key=keys.dr_cmk("features"), tracking=tracking, features=features, registry=registry,
                zone_redundant=cfg.is_prod))
        monitoring = Monitoring("monitoring", MonitoringArgs.from_config(cfg, name, tags), AzureMonitoringInputs(
            resource_group_name=group.name, resource_group_id=group.id, location=location,
            postgres_server_id=tracking.db_instance_arn, postgres_sku=cfg.db_instance_class, budget_start=budget_start(),
            key_vault_id=keys.vault_id, cluster_id=cluster.cluster_id,
            dr_postgres_replica_id=dr.db_replica_arn if dr else None,
            log_retention_days=30 if cfg.environment == "dev" else 365,
            storage_account_ids=storage_accounts(tracking, features, dr)))
        trainer = training_job_identity(cluster, features, tracking if cfg.training.enabled else None)
        sso = stack_sso(cfg, lambda args: EntraIssuer("access", args, AzureAccessInputs(tenant_id=tenant_id())))
        pipeline = None
        training_user = training_mlflow_user(cfg)  # MLflow seeds it; the RayJobs log as it
        if cfg.pipelines.enabled:
            pipeline = retraining_pipeline("pipelines", retraining_args(cfg, features), cfg.environment,
                                           AzurePipelineInputs(
                cluster=cluster, artifacts_account=tracking.artifact_account,
                artifacts_container_id=tracking.artifacts.container_ids[ARTIFACT_PREFIX],
                features_container_id=features.store.container_ids[FEAST_CONTAINER]),
                opts=pulumi.ResourceOptions(), k8s_opts=pulumi.ResourceOptions(provider=cluster.k8s_provider),
                ui_sso=sso.pipelines if sso else None)
        drift = drift_monitoring(cfg, pipeline, features, pulumi.ResourceOptions(provider=cluster.k8s_provider))
        workloads = platform_workloads(cfg, network, cluster, tracking, features, monitoring, trainer, dr, sso=sso,
                                       pipeline=pipeline, training_user=training_user, drift=drift)
        if sso is not None:  # the private front door and its DNS (components/access/frontdoor.py)
            door = stack_front_door(cfg, sso, [network.vpc_cidr],
                                    {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}, {},
                                    pulumi.ResourceOptions(provider=cluster.k8s_provider, depends_on=[workloads]),
                                    pipelines_namespace=pipeline.namespace if pipeline else None)
            PrivateDns("access-dns", sso.access.domain, group.name, network.vnet.id, door.address,
                       door.hostnames, tags)
        distributed_training(cfg, pools, registry.training_image_repository_url,
                             checkpoint_uri(pulumi.Output.format("abfs://{0}@{1}.dfs.core.windows.net",
                                                                 tracking.args.artifact_prefix, tracking.artifact_account)),
                             lambda pool: interruption_notice("azure"), features.offline_store_path,
                             pod_labels=WORKLOAD_IDENTITY_POD_LABELS,
                             mlflow_user=training_user,
                             depends_on=[workloads.baseline.namespaces[TRAINING_NAMESPACE],
                                         workloads.baseline.training_service_account],
                             opts=pulumi.ResourceOptions(provider=cluster.k8s_provider))
        stack_serving(cfg, workloads, ModelStorage("azure"), model_server_identity(cluster, tracking.artifact_container_id),
                      [network.vpc_cidr], tracking.artifact_root,
                      pulumi.ResourceOptions(providers={"kubernetes": cluster.k8s_provider}),
                      rollout_depends_on=[pipeline] if pipeline else [],
                      request_log=request_log_args(cfg, features.offline_store_path),
                      request_log_identity=request_log_identity(
                          cluster, features.store.container_ids[FEAST_CONTAINER], request_log_key_prefix(cfg)))
    finally:
        # Never leave the deferred namespace pending: a failing component must surface as its error.
        resolve_platform_namespace(workloads.baseline.namespace_names[PLATFORM_NAMESPACE] if workloads
                                   else pulumi.Output.from_input(PLATFORM_NAMESPACE))

    return {
        **shared_outputs(cfg, tracking=tracking, registry=registry, features=features, cluster=cluster),
        "resourceGroup": group.name,
        "onlineStoreTable": features.online_store_table,
        "onlineStoreHost": features.online_store_host,
        "alertActionGroupId": monitoring.alert_topic,
        "dr": dr_outputs(cfg, dr),
    }


def postgres_entra_admin(cfg: PlatformConfig, name: str) -> EntraAdmin:
    """``mlops:azure.postgresEntraAdmin``, else the deploying identity (role ``<platform>-deployer``; a user
    when it signs in through the az CLI, a service principal for the other login modes)."""
    configured = cfg.azure.postgres_entra_admin
    if configured is not None:
        return EntraAdmin(configured.object_id, configured.principal_name, configured.principal_type)
    return EntraAdmin(deployer().object_id, f"{name}-deployer",
                      "user" if cfg.azure.kubelogin_mode == "azurecli" else "servicePrincipal")


def storage_accounts(tracking: TrackingServer, features: FeatureStore,
                     dr: Optional[DisasterRecovery]) -> dict[str, pulumi.Output[str]]:
    """Every storage account of the platform by purpose: their blob access is logged to the workspace."""
    accounts = {"artifacts": tracking.artifacts.account_id, "features": features.store.account_id}
    if dr is not None:
        accounts.update({"dr-artifacts": dr.artifact_replica.account_id, "dr-features": dr.feature_replica.account_id})
    return accounts


def budget_start() -> dt.date:
    """The first day of this run's month (``stacks/clock.py``: the run's UTC date, or ``MLOPS_TODAY``)."""
    try:
        return clock.first_of_month(clock.today())
    except clock.ClockError as error:
        raise pulumi.RunError(str(error)) from None


def dr_foundation(cfg: PlatformConfig, name: str, tags: dict, group: azure.resources.ResourceGroup,
                  network: Network) -> tuple[azure.resources.ResourceGroup, Network]:
    """The DR location's resource group and data-only network (replicas wait there for a failover); it
    resolves through the primary's private DNS zones, so both networks see the same private endpoints."""
    dr_group = azure.resources.ResourceGroup(
        "dr-resource-group", resource_group_name=f"{name}-dr-rg", location=cfg.dr.replica_region,
        tags={**tags, "dr-replica-of": cfg.region}, opts=pulumi.ResourceOptions(protect=cfg.deletion_protection))
    dr_network = Network("dr-network", NetworkArgs(
        name=f"{name}-dr", cidr=str(cfg.dr_network_cidr), az_count=cfg.az_count, nat_gateway_per_az=False,
        data_only=True, tags=tags), AzureNetworkInputs(
        location=cfg.dr.replica_region, resource_group_name=dr_group.name,
        shared_dns_zones=network.private_dns_zone_names, dns_zone_resource_group=group.name))
    return dr_group, dr_network


def training_job_identity(cluster: Cluster, features: FeatureStore,
                          tracking: Optional[TrackingServer] = None) -> azure.managedidentity.UserAssignedIdentity:
    """The identity of training jobs (``training/trainer``): reads the Feast container; with distributed
    training (``tracking`` given), reads/writes Ray Train checkpoints under ``checkpoints/`` of the
    artifacts container (a role condition keeps it to that prefix). Runs and models go through MLflow."""
    identity = cluster.workload_identity("training-jobs", TRAINING_NAMESPACE, TRAINING_SERVICE_ACCOUNT)
    grant("training-jobs-features", scope=features.store.container_ids[FEAST_CONTAINER], role_guid=STORAGE_BLOB_DATA_READER,
          principal_id=identity.principal_id, opts=pulumi.ResourceOptions(parent=identity),
          description="training jobs read feature data (offline store, registry)")
    if tracking is not None:
        grant("training-jobs-checkpoints", scope=tracking.artifact_container_id, role_guid=STORAGE_BLOB_DATA_CONTRIBUTOR,
              principal_id=identity.principal_id, opts=pulumi.ResourceOptions(parent=identity),
              description="distributed training reads/writes its checkpoints", condition=blob_prefix_condition(CHECKPOINT_PREFIX))
    return identity


def platform_workloads(cfg: PlatformConfig, network: Network, cluster: Cluster, tracking: TrackingServer,
                       features: FeatureStore, monitoring: Monitoring,
                       trainer: azure.managedidentity.UserAssignedIdentity,
                       dr: Optional[DisasterRecovery] = None,
                       sso: Optional[StackSso] = None, pipeline: Optional[Any] = None,
                       training_user: Optional[Any] = None,
                       drift: Optional[Any] = None) -> PlatformWorkloads:
    """The in-cluster platform (components/k8s), fed with the Azure side's identities and addresses."""
    gpu_pools = [pool for pool in cfg.training_pools if pool.accelerator == "nvidia-gpu"]
    return PlatformWorkloads("platform", PlatformWorkloadsArgs(
        baseline=ClusterBaselineArgs(
            environment=cfg.environment, private_network_cidrs=[network.vpc_cidr],
            max_nodes=cfg.cluster.system_node_count + platform_pool_size(cfg)[2]
            + sum(pool.max_nodes for pool in cfg.training_pools),
            max_gpu_nodes=sum(pool.max_nodes for pool in gpu_pools),
            training_service_account_annotations={CLIENT_ID_ANNOTATION: trainer.client_id}),
        mlflow=MlflowServerArgs(
            environment=cfg.environment, image=cfg.tracking.mlflow_image, artifacts_destination=tracking.artifact_root,
            database_cidrs=network.data_subnet_cidrs,
            service_account_annotations={CLIENT_ID_ANNOTATION: tracking.service_account_role},
            workload_identity_pod_labels=WORKLOAD_IDENTITY_POD_LABELS,
            sso=sso.mlflow if sso else None, **mlflow_pipeline_args(pipeline, training_user),
            # DR on, the URI names the writer virtual endpoint, which exists only once the replica does.
            depends_on=[r for r in (tracking.db_database, tracking.db_secret, dr.db_writer_endpoint if dr else None) if r]),
        feast=FeatureServerArgs(
            environment=cfg.environment, image=cfg.features.feast_image, project=features.feast_project,
            registry_path=features.registry_path, provider="azure", registry_store_type="AzureRegistryStore",
            online_store=features.online_store,
            offline_store=features.offline_store, secret_env=features.online_store_secret_env,
            service_account_annotations={CLIENT_ID_ANNOTATION: features.service_account_role},
            workload_identity_pod_labels=WORKLOAD_IDENTITY_POD_LABELS,
            egress_ports=(443, features.online_store_port),
            depends_on=[r for r in (features.online_store_secret,) if r]),
        monitoring=with_drift(MonitoringStackArgs(
            environment=cfg.environment, metrics_retention_days=cfg.monitoring.metrics_retention_days,
            sso=sso.grafana if sso else None,
            private_network_cidrs=[network.vpc_cidr], storage_class_name=cluster.storage_class,
            **email_alerting(cfg)), drift),
        gpu=GpuNodeAgentsArgs() if gpu_pools else None),
        opts=pulumi.ResourceOptions(provider=cluster.k8s_provider))
