"""The data side of the GCP platform (tracking, registry, features, monitoring, DR) as a preview program.

Stands on a small foundation made of plain resources (provider, VPC with private services
access, KMS keys with their service-agent grants, a workload-identity helper, a Kubernetes
provider), so these tests check the data components alone. Exports what tests compare against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pytest

from components.dr import DrArgs
from components.features import FeaturesArgs
from components.features.gcp import FeatureStore, GcpFeaturesInputs, OnlineReplica
from components.monitoring import MonitoringArgs
from components.registry import RegistryArgs
from components.registry.gcp import GcpRegistryInputs, ModelRegistry
from components.tracking import TrackingArgs
from components.tracking.gcp import GcpTrackingInputs, TrackingServer
from mlops_tools.engine.mocks import GCP_PROJECT
from mlops_tools.engine.preview import PreviewResult, preview_program
from tests.shared import shared

PRIMARY, DR = "europe-west1", "europe-west4"
ZONES = (f"{PRIMARY}-b", f"{PRIMARY}-c")
NAME = "mlops-test"
PROJECT = GCP_PROJECT
PROJECT_NUMBER = "123456789012"
DOMAINS = ("artifacts", "database", "features", "notifications")
VIEWS = ("driver_stats", "user_profile")
EMAILS = ("ml-oncall@example.com", "Platform.Team@example.com")


@dataclass
class Foundation:
    primary: gcp.Provider
    dr: Optional[gcp.Provider]
    network: gcp.compute.Network
    peering: gcp.servicenetworking.Connection
    keys: dict[str, gcp.kms.CryptoKey]
    dr_keys: dict[str, gcp.kms.CryptoKey]
    node_sa: gcp.serviceaccount.Account
    k8s_provider: k8s.Provider
    opts: pulumi.ResourceOptions = field(default_factory=pulumi.ResourceOptions)


def _keys(prefix: str, location: str, opts: pulumi.ResourceOptions) -> dict[str, gcp.kms.CryptoKey]:
    ring = gcp.kms.KeyRing(f"{prefix}-ring", name=NAME, project=PROJECT, location=location, opts=opts)
    return {domain: gcp.kms.CryptoKey(f"{prefix}-{domain}", name=domain, key_ring=ring.id,
                                      rotation_period="7776000s", opts=opts) for domain in DOMAINS}


@dataclass
class Identity:
    email: pulumi.Output[str]
    member: pulumi.Output[str]
    annotations: dict


def workload_identity(name: str, namespace: str, service_account: str, opts: pulumi.ResourceOptions, *, account: str):
    """The cluster helper's contract: a GSA only <namespace>/<service_account> may act as."""
    gsa = gcp.serviceaccount.Account(name, account_id=f"{NAME}-{account}", project=PROJECT,
                                     display_name=f"{namespace}/{service_account}", opts=opts)
    gcp.serviceaccount.IAMMember(f"{name}-wi", service_account_id=gsa.name, role="roles/iam.workloadIdentityUser",
                                 member=f"serviceAccount:{PROJECT}.svc.id.goog[{namespace}/{service_account}]",
                                 opts=opts)
    return Identity(gsa.email, gsa.member, {"iam.gke.io/gcp-service-account": gsa.email})


def foundation(dr: bool) -> Foundation:
    primary = gcp.Provider("primary", project=PROJECT, region=PRIMARY)
    dr_provider = gcp.Provider("dr", project=PROJECT, region=DR) if dr else None
    opts = pulumi.ResourceOptions(providers={"gcp": primary})
    network = gcp.compute.Network("vpc", name=NAME, project=PROJECT, auto_create_subnetworks=False, opts=opts)
    peering = gcp.servicenetworking.Connection("peering", network=network.id,
                                               service="servicenetworking.googleapis.com",
                                               reserved_peering_ranges=["psa"], opts=opts)
    keys = _keys("keys", PRIMARY, opts)
    dr_keys = _keys("dr-keys", DR, pulumi.ResourceOptions(provider=dr_provider)) if dr else {}
    node_sa = gcp.serviceaccount.Account("nodes", account_id=f"{NAME}-nodes", project=PROJECT, opts=opts)
    cluster = k8s.Provider("gke", kubeconfig="{}")
    for domain, key in keys.items():
        pulumi.export(f"key:{domain}", key.id)
    for domain, key in dr_keys.items():
        pulumi.export(f"drKey:{domain}", key.id)
    pulumi.export("networkId", network.id)
    pulumi.export("nodeSa", node_sa.email)
    return Foundation(primary, dr_provider, network, peering, keys, dr_keys, node_sa, cluster, opts)


def data_platform(*, prod: bool, dr: bool, billing_account: Optional[str] = "0X0X0X-0X0X0X-0X0X0X",
                  emails: tuple[str, ...] = EMAILS) -> dict[str, Any]:
    base = foundation(dr)
    environment = "prod" if prod else "dev"
    tags = {"environment": environment, "owner": "ml-platform"}
    keys = {domain: key.id for domain, key in base.keys.items()}
    tracking = TrackingServer("tracking", TrackingArgs(
        name=NAME, environment=environment, db_instance_class="db-custom-4-15360" if prod else "db-custom-2-7680",
        db_allocated_storage_gb=100 if prod else 20, db_engine_version="16", multi_az=prod,
        backup_retention_days=14 if prod else 7, deletion_protection=prod, performance_insights=prod, tags=tags),
        GcpTrackingInputs(project=PROJECT, region=PRIMARY, network_id=base.network.id,
                          private_services_connection=base.peering, artifacts_key_id=keys["artifacts"],
                          database_key_id=keys["database"], workload_identity=workload_identity,
                          k8s_provider=base.k8s_provider), opts=base.opts)
    registry = ModelRegistry("registry", RegistryArgs(name=NAME, protect=prod, tags=tags), GcpRegistryInputs(
        project=PROJECT, region=PRIMARY, images_key_id=keys["artifacts"], node_service_account=base.node_sa.email),
        opts=base.opts)
    features = FeatureStore("features", FeaturesArgs(
        name=NAME, feast_project=f"mlops_{environment}", online_feature_views=VIEWS, deletion_protection=prod, tags=tags),
        GcpFeaturesInputs(project=PROJECT, region=PRIMARY, zones=ZONES,
                          features_key_id=keys["features"], high_availability=prod, workload_identity=workload_identity,
                          dr_replica=OnlineReplica("dr", f"{DR}-b", base.dr_keys["features"].id,
                                                   pulumi.ResourceOptions(provider=base.dr)) if dr else None),
        opts=base.opts)
    recovery = None
    if dr:
        from components.dr.gcp import DisasterRecovery, GcpDrInputs

        recovery = DisasterRecovery("dr", DrArgs(
            name=NAME, primary_region=PRIMARY, replica_region=DR, rpo_minutes=15, rto_minutes=60,
            network_cidr="10.41.0.0/16", deletion_protection=prod, tags=tags),
            GcpDrInputs(project=PROJECT, dr_provider=base.dr, tracking=tracking,
                        features=features, registry=registry,
                        dr_key_ids={domain: key.id for domain, key in base.dr_keys.items()}), opts=base.opts)
        pulumi.export("dr", {"dbReplicaId": recovery.db_replica_id, "artifactReplicaBucket": recovery.artifact_replica_bucket,
                             "featureReplicaBucket": recovery.feature_replica_bucket, **recovery.runbook_outputs})
    from components.monitoring.gcp import GcpMonitoringInputs, Monitoring
    monitoring = Monitoring("monitoring", MonitoringArgs(
        name=NAME, environment=environment, alert_emails=emails, monthly_budget_usd=750,
        rpo_minutes=15 if dr else None, tags=tags),
        GcpMonitoringInputs(project=PROJECT, project_number=PROJECT_NUMBER, billing_account=billing_account,
                            db_instance_id=tracking.db_instance_id, db_instance_tier="db-custom-2-7680",
                            cluster_name=NAME, db_replica_id=recovery.db_replica_id if recovery else None,
                            online_store_instance=features.online_store_table),
        opts=base.opts)
    pulumi.export("artifactBucket", tracking.artifact_bucket)
    pulumi.export("artifactRoot", tracking.artifact_root)
    pulumi.export("dbName", tracking.db_instance_id)
    pulumi.export("dbPrivateIp", tracking.db_private_ip)
    pulumi.export("dbUri", tracking.db_uri)
    pulumi.export("dbRecord", tracking.db_endpoint_record)
    pulumi.export("mlflowSa", tracking.service_account_role)
    pulumi.export("repositoryUrls", registry.repository_urls)
    pulumi.export("featureBucket", features.bucket_name)
    pulumi.export("registryPath", features.registry_path)
    pulumi.export("offlineStorePath", features.offline_store_path)
    pulumi.export("onlineStore", features.online_store)
    pulumi.export("feastSa", features.service_account_role)
    pulumi.export("alertChannels", monitoring.alert_topic)
    pulumi.export("budgetName", monitoring.budget_name)
    pulumi.export("budgetSkippedReason", monitoring.budget_skipped_reason)
    return {"tracking": tracking, "registry": registry, "features": features, "dr": recovery, "monitoring": monitoring}


def preview(**kwargs: Any) -> PreviewResult:
    return preview_program(lambda: data_platform(**kwargs), project="mlops-platform", stack="test",
                           config={"mlops:cloud": "gcp", "mlops:region": PRIMARY, "gcp:project": PROJECT})


def prod_with_dr() -> PreviewResult:
    """Prod shape with DR, built once per test run for every test module of this package (tests/shared.py)."""
    return shared("components/gcp/data_platform", ["prod", "dr"], lambda: preview(prod=True, dr=True))


def dev_without_billing() -> PreviewResult:
    """Dev shape, no DR, and no billing account configured (once per test run)."""
    return shared("components/gcp/data_platform", ["dev", "no-billing"],
                  lambda: preview(prod=False, dr=False, billing_account=None))


@pytest.fixture(scope="module")
def prod() -> PreviewResult:
    """Fixture: the prod-with-DR preview (test modules import it)."""
    return prod_with_dr()


@pytest.fixture(scope="module")
def dev() -> PreviewResult:
    """Fixture: the dev preview without a billing account (test modules import it)."""
    return dev_without_billing()


def inputs(result: PreviewResult, type_token: str, name: str) -> dict[str, Any]:
    return result.one(type_token, name)["inputs"]


def urn_of(result: PreviewResult, type_token: str, name: str) -> str:
    return result.one(type_token, name)["urn"]


def provider_of(result: PreviewResult, resource: dict[str, Any]) -> Optional[str]:
    """The name of the explicit gcp provider a resource was registered with."""
    reference = resource["provider"] or ""
    return reference.split("::")[-2] if "pulumi:providers:gcp" in reference else None
