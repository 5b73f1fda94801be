"""GKE Standard cluster: private nodes, CMEK secrets and disks, Workload Identity, Dataplane V2, system node pool.

Decisions and why:
- Regional cluster (control plane replicated across the region's zones; the same $0.10 an hour
  as a zonal one, though GKE's free tier only waives one zonal cluster) with nodes in ``zones``; the default node pool is removed and replaced by a managed
  ``NodePool`` so its settings are in the plan and changing them never recreates the cluster.
- Private nodes always. The control-plane endpoint is private unless the stack file lists
  ``cluster.publicAccessCidrs`` (the config model allows that in dev only); either way master
  authorized networks name exactly who may reach it (the VPC range, plus those CIDRs), and
  Google's public ranges are not let in. With a private endpoint, run ``pulumi up`` from
  inside the VPC (Cloud Build private pool, a runner on the network, or IAP).
- Workload Identity (``<project>.svc.id.goog``), GKE metadata server on every pool: pods never
  see the node's service account. ``workload_identity()`` binds one Kubernetes service account
  to one Google service account.
- Nodes run as their own service account with ``roles/container.defaultNodeServiceAccount``
  only (logs, metrics), not the Compute Engine default account (Editor). Image pulls are granted
  per repository by the registry that holds them.
- Secrets are encrypted at the application layer with the cluster key; node boot disks and the
  default storage class's persistent disks use the same key.
- Dataplane V2 (eBPF) enforces NetworkPolicy; legacy ABAC off; no client certificate; shielded
  nodes with Secure Boot; REGULAR release channel (auto-upgrades within the minor version set by
  ``mlops:cluster.version``).
- Logs: system, workload and API-server logs go to Cloud Logging; metrics to Cloud Monitoring for
  system components only (the platform runs its own Prometheus). With GPU pools, GKE's managed
  DCGM package adds GPU metrics (it needs Managed Prometheus on): the stock DCGM exporter cannot
  reach the NVIDIA libraries GKE installs under /home/kubernetes/bin/nvidia without host mounts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.cluster import ClusterArgs
from components.k8s import CAPACITY_TYPE_LABEL, POOL_LABEL, IdentityEndpoint
from components.documents import json_document

STORAGE_CLASS = "pd-balanced-cmek"
SYSTEM_POOL = "system"
RELEASE_CHANNEL = "REGULAR"
NODE_ROLES = ("roles/container.defaultNodeServiceAccount",)  # logging.logWriter, monitoring.metricWriter/viewer...
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
GSA_ANNOTATION = "iam.gke.io/gcp-service-account"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"  # access is decided by IAM roles
DATAPATH_PROVIDER = "ADVANCED_DATAPATH"  # Dataplane V2
# Where pods get Workload Identity tokens (GKE "About Workload Identity Federation for GKE", restrictions):
# with Dataplane V2 the GKE metadata server answers on 169.254.169.254:80; otherwise on 169.254.169.252:988.
# A default-deny egress policy must open exactly this one.
METADATA_SERVER = {"ADVANCED_DATAPATH": IdentityEndpoint("169.254.169.254/32", 80),
                   "LEGACY_DATAPATH": IdentityEndpoint("169.254.169.252/32", 988)}


def account_id(prefix: str, suffix: str) -> str:
    """A service-account id (6-30 chars) from the platform name and a role, shortened with a hash if too long."""
    candidate = f"{prefix}-{suffix}"
    if len(candidate) <= 30:
        return candidate
    digest = hashlib.sha256(candidate.encode()).hexdigest()[:4]
    head = f"{prefix}-{suffix}"[:30 - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


def shielded_node_config() -> dict:
    return {"enable_secure_boot": True, "enable_integrity_monitoring": True}


@dataclass(frozen=True)
class GkeWorkloadIdentity:
    """What ``Cluster.workload_identity`` returns: the Google service account and its KSA annotation."""

    account: gcp.serviceaccount.Account
    email: pulumi.Output[str]
    member: pulumi.Output[str]  # "serviceAccount:<email>", for IAM grants on the resources it may use
    annotations: dict[str, pulumi.Output[str]] = field(default_factory=dict)  # {iam.gke.io/gcp-service-account: email}


@dataclass(frozen=True)
class GcpClusterInputs:
    """GCP-only inputs: where the cluster lives and which key protects it."""

    project: str
    region: str
    zones: pulumi.Input[Sequence[str]]
    network_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    pods_range_name: str
    services_range_name: str
    control_plane_cidr: str  # /28 for the private control plane
    vpc_cidr: str  # allowed to reach the control plane (nodes, pods, in-VPC deployers)
    cluster_key_id: pulumi.Input[str]  # Secrets encryption, boot disks, persistent disks
    node_tags: Sequence[str] = ()  # network tags on every node (firewall targets)
    key_grants: Sequence[pulumi.Resource] = ()  # the GKE/Compute agents' grants on the cluster key
    gpu_metrics: bool = False  # GKE-managed DCGM metrics (set when there are GPU pools)


class Cluster(pulumi.ComponentResource):
    """GKE with everything the platform runs on (outputs: see components.cluster).

    GCP extras: ``project``, ``location``, ``workload_pool``, ``node_service_account`` (email),
    ``node_pool_defaults`` (what every training pool repeats), ``system_node_pool``, and
    ``workload_identity(...)``.
    """

    def __init__(self, name: str, args: ClusterArgs, gcp_inputs: GcpClusterInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.project = gcp_inputs.project
        self.location = gcp_inputs.region
        self.workload_pool = f"{gcp_inputs.project}.svc.id.goog"
        self.cluster_key_id = gcp_inputs.cluster_key_id
        self._labels = {**args.tags, "component": "cluster"}
        self._node_tags = list(gcp_inputs.node_tags)
        self._platform_name = args.name
        self.version = args.version

        node_account = gcp.serviceaccount.Account(
            f"{name}-nodes", account_id=account_id(args.name, "nodes"), project=gcp_inputs.project,
            display_name=f"GKE nodes of {args.name}", opts=child)
        node_roles = [gcp.projects.IAMMember(f"{name}-nodes-{role.split('/')[-1]}", project=gcp_inputs.project,
                                             role=role, member=node_account.member, opts=child)
                      for role in NODE_ROLES]
        self.node_service_account = node_account.email

        public = list(args.public_access_cidrs)
        authorized = [{"cidr_block": gcp_inputs.vpc_cidr, "display_name": "platform VPC"}] + [
            {"cidr_block": cidr, "display_name": f"public access {index}"} for index, cidr in enumerate(public)]
        cluster = gcp.container.Cluster(
            f"{name}-gke", name=args.name, project=gcp_inputs.project, location=gcp_inputs.region,
            node_locations=gcp_inputs.zones, description=f"mlops platform cluster {args.name}",
            network=gcp_inputs.network_id, subnetwork=gcp_inputs.subnet_id, networking_mode="VPC_NATIVE",
            ip_allocation_policy={"cluster_secondary_range_name": gcp_inputs.pods_range_name,
                                  "services_secondary_range_name": gcp_inputs.services_range_name},
            default_max_pods_per_node=64,
            remove_default_node_pool=True, initial_node_count=1,
            # The default pool only exists until the system pool replaces it; it is as locked down.
            node_config=self.node_config(node_account.email, args.system_node_instance_type, args.system_node_disk_gb,
                                         labels={POOL_LABEL: "default", CAPACITY_TYPE_LABEL: "on-demand"}),
            private_cluster_config={"enable_private_nodes": True, "enable_private_endpoint": not public,
                                    "master_ipv4_cidr_block": gcp_inputs.control_plane_cidr,
                                    "master_global_access_config": {"enabled": False}},
            master_authorized_networks_config={"cidr_blocks": authorized, "gcp_public_cidrs_access_enabled": False},
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            workload_identity_config={"workload_pool": self.workload_pool},
            database_encryption={"state": "ENCRYPTED", "key_name": gcp_inputs.cluster_key_id},
            enable_shielded_nodes=True, enable_legacy_abac=False,
            datapath_provider=DATAPATH_PROVIDER,
            # Same-node pod-to-pod traffic goes through the VPC too, so the subnet's flow logs and firewall rules see
            # it (CIS GKE 5.6.1). Supported with Dataplane V2 (netd before GKE 1.36, eBPF after); turning it on for
            # an existing cluster recreates its nodes (not visible offline).
            enable_intranode_visibility=True,
            release_channel={"channel": RELEASE_CHANNEL}, min_master_version=args.version,
            addons_config={"http_load_balancing": {"disabled": False},
                           "gce_persistent_disk_csi_driver_config": {"enabled": True}},
            logging_config={"enable_components": ["SYSTEM_COMPONENTS", "WORKLOADS", "APISERVER"]},
            monitoring_config={"enable_components": ["SYSTEM_COMPONENTS"] + (["DCGM"] if gcp_inputs.gpu_metrics else []),
                               "managed_prometheus": {"enabled": gcp_inputs.gpu_metrics}},
            cost_management_config={"enabled": True},
            resource_labels=self._labels, deletion_protection=args.deletion_protection,
            # The default pool's settings only matter at creation, and changing them would replace the
            # cluster: later changes (e.g. the system machine type) go to the system pool only.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(gcp_inputs.key_grants) + node_roles,
                                        protect=args.deletion_protection,
                                        ignore_changes=["nodeConfig", "initialNodeCount"]))

        self.system_node_pool = gcp.container.NodePool(
            f"{name}-system", name=SYSTEM_POOL, project=gcp_inputs.project, location=gcp_inputs.region,
            cluster=cluster.name, initial_node_count=1,
            autoscaling={"total_min_node_count": args.system_node_count,
                         "total_max_node_count": args.system_node_count + 1, "location_policy": "BALANCED"},
            management={"auto_repair": True, "auto_upgrade": True},
            upgrade_settings={"strategy": "SURGE", "max_surge": 1, "max_unavailable": 0},
            node_config=self.node_config(node_account.email, args.system_node_instance_type, args.system_node_disk_gb,
                                         labels={POOL_LABEL: SYSTEM_POOL, CAPACITY_TYPE_LABEL: "on-demand"}),
            opts=child)

        self.cluster = cluster
        self.name = cluster.name
        self.endpoint = cluster.endpoint.apply(lambda host: f"https://{host}")
        self.kubeconfig = pulumi.Output.secret(json_document(self._kubeconfig(cluster)))
        self.k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig,
                                         opts=pulumi.ResourceOptions(parent=self, depends_on=[self.system_node_pool]))
        self.storage_class = STORAGE_CLASS
        self.identity_endpoints = (METADATA_SERVER[DATAPATH_PROVIDER],)  # what pods need for Workload Identity
        k8s.storage.v1.StorageClass(
            f"{name}-{STORAGE_CLASS}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=STORAGE_CLASS, annotations={"storageclass.kubernetes.io/is-default-class": "true"}),
            provisioner="pd.csi.storage.gke.io",
            parameters={"type": "pd-balanced", "disk-encryption-kms-key": gcp_inputs.cluster_key_id,
                        "csi.storage.k8s.io/fstype": "ext4"},
            volume_binding_mode="WaitForFirstConsumer", allow_volume_expansion=True,
            reclaim_policy="Retain" if args.deletion_protection else "Delete",
            opts=pulumi.ResourceOptions(parent=self, provider=self.k8s_provider))
        # What the AWS contract calls the security groups data stores admit: on GCP, data stores are
        # reached over private services access and admit the VPC range; nodes carry these tags.
        self.node_security_group_id = None
        self.cluster_security_group_id = None
        self.register_outputs({"name": self.name, "endpoint": self.endpoint, "kubeconfig": self.kubeconfig,
                               "nodeServiceAccount": self.node_service_account, "workloadPool": self.workload_pool})

    def node_config(self, service_account: pulumi.Input[str], machine_type: str, disk_gb: int, *,
                    labels: dict[str, str], spot: bool = False, taints: Sequence[dict] = (),
                    guest_accelerators: Sequence[dict] = (), disk_type: str = "pd-balanced",
                    shutdown_grace: Optional[tuple[int, int]] = None) -> dict:
        """Settings every node pool of the platform shares: own SA, CMEK boot disk, shielded, GKE metadata server,
        no unauthenticated kubelet read-only port. `shutdown_grace` = (all pods, critical pods) seconds of
        graceful node shutdown, Spot VMs only."""
        kubelet = {"insecure_kubelet_readonly_port_enabled": "FALSE"}
        if shutdown_grace:
            kubelet.update(shutdown_grace_period_seconds=shutdown_grace[0],
                           shutdown_grace_period_critical_pods_seconds=shutdown_grace[1])
        config = {
            "machine_type": machine_type, "service_account": service_account, "oauth_scopes": [CLOUD_PLATFORM_SCOPE],
            "disk_type": disk_type, "disk_size_gb": disk_gb, "boot_disk_kms_key": self.cluster_key_id,
            "image_type": "COS_CONTAINERD", "shielded_instance_config": shielded_node_config(),
            "workload_metadata_config": {"mode": "GKE_METADATA"}, "metadata": {"disable-legacy-endpoints": "true"},
            "kubelet_config": kubelet,
            "labels": labels, "resource_labels": self._labels, "tags": self._node_tags, "spot": spot,
        }
        if taints:
            config["taints"] = list(taints)
        if guest_accelerators:
            config["guest_accelerators"] = list(guest_accelerators)
        return config

    def workload_identity(self, name: str, namespace: str, service_account: str,
                          opts: pulumi.ResourceOptions, *, account: str) -> GkeWorkloadIdentity:
        """A Google service account only ``<namespace>/<service_account>`` of this cluster can act as.

        `account` is the GSA id suffix (e.g. "mlflow"). The KSA gets ``roles/iam.workloadIdentityUser``
        on this GSA only; grant the GSA roles on the resources it needs, and annotate the KSA with
        ``annotations``. Pass ``opts`` with your own component as parent.
        """
        cluster_name = self._platform_name
        gsa = gcp.serviceaccount.Account(
            name, account_id=account_id(cluster_name, account), project=self.project,
            display_name=f"{namespace}/{service_account} on {cluster_name}", opts=opts)
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity", service_account_id=gsa.name, role=WORKLOAD_IDENTITY_USER,
            member=f"serviceAccount:{self.workload_pool}[{namespace}/{service_account}]", opts=opts)
        return GkeWorkloadIdentity(account=gsa, email=gsa.email, member=gsa.member,
                                   annotations={GSA_ANNOTATION: gsa.email})

    def _kubeconfig(self, cluster: gcp.container.Cluster) -> pulumi.Output[dict]:
        """Exec auth through gke-gcloud-auth-plugin: short-lived tokens from the deployer's gcloud login."""
        return pulumi.Output.all(cluster.name, cluster.endpoint, cluster.master_auth).apply(
            lambda v: {
                "apiVersion": "v1", "kind": "Config", "current-context": v[0],
                "clusters": [{"name": v[0], "cluster": {
                    "server": f"https://{v[1]}",
                    "certificate-authority-data": _ca_certificate(v[2])}}],
                "contexts": [{"name": v[0], "context": {"cluster": v[0], "user": v[0]}}],
                "users": [{"name": v[0], "user": {"exec": {
                    "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "gke-gcloud-auth-plugin",
                    "installHint": "gcloud components install gke-gcloud-auth-plugin",
                    "provideClusterInfo": True, "interactiveMode": "Never"}}}],
            })


def _ca_certificate(master_auth) -> str:
    """The cluster CA from `master_auth` (an output object, or a plain dict when the engine returns one)."""
    if isinstance(master_auth, dict):
        return master_auth.get("cluster_ca_certificate") or master_auth.get("clusterCaCertificate") or ""
    return getattr(master_auth, "cluster_ca_certificate", None) or ""
