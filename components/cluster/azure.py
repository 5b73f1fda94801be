"""Azure cluster: AKS with Entra ID + Azure RBAC only, CMK everywhere, workload identity.

Secure defaults and why:
- identities come from Entra ID only: managed AAD integration with Azure RBAC for Kubernetes
  authorization, local accounts disabled (no static admin kubeconfig exists at all);
- the API server is private (private cluster) unless the dev stack lists
  ``cluster.publicAccessCidrs``; then it is public but limited to those ranges (nodes reach it
  inside the VNet either way); staging and prod are always private;
- node OS disks and persistent volumes are encrypted with the cluster key through a disk encryption
  set (storage class ``STORAGE_CLASS``), Kubernetes secrets with the same key through the Azure Key
  Vault KMS plugin; with a private vault AKS requires API server VNet integration (Konnectivity is
  not supported), so the API server always gets its own delegated subnet;
- workload identity: OIDC issuer on; ``workload_identity(...)`` gives one service account its own
  user-assigned identity through a federated credential (no secrets in the cluster);
- Azure CNI overlay with Cilium network policy; egress only through the network's NAT gateway;
- the System pool is on-demand, spread over the network's zones, Azure Linux, node image
  auto-upgrade, and tainted ``CriticalAddonsOnly=true:NoSchedule`` so only AKS's critical add-ons run
  there (CKV_AZURE_232); the platform's in-cluster workloads run on the on-demand, autoscaled ``platform``
  User pool (``platform_pool``, labelled ``mlops.dev/pool=system`` like AWS's and GCP's platform nodes);
- every pool (System, platform, training) has encryption at host on (CKV_AZURE_227): temp disks and the
  OS/data disk caches are encrypted on the VM host too (the managed disks already are, with the cluster
  key). Needs the subscription feature ``Microsoft.Compute/EncryptionAtHost`` registered
  (``az feature register --namespace Microsoft.Compute --name EncryptionAtHost``; docs/first-deploy.md) and
  a VM size whose capabilities list ``EncryptionAtHostSupported`` (the D*s_v5 / D*as_v5 / D*ds_v5 and
  NC*as_T4_v3 sizes of the stack files do); neither is visible offline. AKS sets it only when a pool is
  created: an existing pool keeps its setting until it is replaced.

Identities (each holds only what it needs, at the narrowest scope):
- control plane (user-assigned): Network Contributor on the node subnet (join nodes, manage the
  internal load balancer), Key Vault Crypto User on the cluster key (KMS), Key Vault Contributor on
  the vault (the KMS plugin manages its private link to a private vault), Reader on the disk
  encryption set, Managed Identity Operator on the kubelet identity;
- kubelet (user-assigned, ``kubelet_identity``): pulls images; the registry grants it AcrPull;
- the disk encryption set uses the keys component's ``cluster`` identity (wrap/unwrap on that key).

Deploying: the deploying identity (``deployer_object_id``) gets "Azure Kubernetes Service RBAC Cluster
Admin" on this cluster, and the Kubernetes provider waits for it; the provider's kubeconfig is the
AKS user credential converted from kubelogin's interactive ``devicecode`` login to ``kubelogin_mode``
(``non_interactive_kubeconfig``). A private API server (staging, prod) is reachable only from the VNet
or its peers: run ``pulumi up`` there (docs/first-deploy.md).

Outputs (contract in components.cluster, Azure spelling): ``name``, ``endpoint``, ``kubeconfig``
(secret; Entra ID exec auth through kubelogin, non-interactive), ``k8s_provider``, ``storage_class``,
``oidc_issuer`` (without ``https://``) and ``oidc_issuer_url``, ``kubelet_identity``,
``disk_encryption_set_id``, ``cluster_id``, ``node_resource_group``, ``node_security_group_id``
(None: AKS filters with NSGs it owns; data stores admit the node subnet's range instead),
``workload_identity(name, namespace, service_account, opts)``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_azure_native as azure
import pulumi_kubernetes as k8s
import yaml

from components.azure_account import (KEY_VAULT_CONTRIBUTOR, KEY_VAULT_CRYPTO_USER, MANAGED_IDENTITY_OPERATOR,
                                      NETWORK_CONTRIBUTOR, READER, tenant_id)
from components.cluster import ClusterArgs
from components.k8s import CAPACITY_TYPE_LABEL, POOL_LABEL
from components.network.azure import DNS_SERVICE_IP, POD_CIDR, SERVICE_CIDR
from components.storage.azure import grant, role_definition_id

STORAGE_CLASS = "managed-csi-cmk"
WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
# The workload identity webhook injects the federated token only into pods with this label.
WORKLOAD_IDENTITY_POD_LABELS = {"azure.workload.identity/use": "true"}
# Built-in "Azure Kubernetes Service RBAC Cluster Admin": with local accounts off and Azure RBAC for
# Kubernetes authorization, the deploying identity needs it to create the platform's cluster-scoped
# objects (namespaces, CRDs, ClusterRoles and webhooks of the monitoring chart, priority and storage
# classes). "RBAC Admin"/"RBAC Writer" cannot create namespaces, CRDs or ClusterRoles, so no narrower
# built-in role lets the program run.
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
# kubelogin login modes that run without a person at a prompt (https://azure.github.io/kubelogin).
KUBELOGIN_MODES = ("azurecli", "workloadidentity", "spn", "msi")
# Critical add-ons only on the AKS System pool (Checkov CKV_AZURE_232): the taint AKS documents for it;
# CoreDNS, metrics-server, konnectivity, CSI and Cilium tolerate it, the platform's own pods do not.
CRITICAL_ADDONS_TAINT = "CriticalAddonsOnly=true:NoSchedule"
SYSTEM_POOL_LABEL = "aks-system"  # mlops.dev/pool of the AKS System pool (no platform pod selects it)
PLATFORM_POOL_NAME = "platform"  # the AKS User pool the platform's services run on
PLATFORM_POOL_LABEL = "system"  # its mlops.dev/pool: what AWS and GCP call their platform services' nodes


@dataclass(frozen=True)
class PlatformPoolSize:
    """The on-demand User pool the platform's services run on (``mlops:azure.platformPool``, defaults per
    environment in stacks/config_delivery.py); ``instance_type`` None = the system pool's size."""

    instance_type: Optional[str] = None
    min_nodes: int = 1
    max_nodes: int = 3


@dataclass(frozen=True)
class AzureClusterInputs:
    """Azure-only inputs (from the network and keys components)."""

    location: str
    resource_group_name: pulumi.Input[str]
    node_subnet_id: pulumi.Input[str]
    apiserver_subnet_id: pulumi.Input[str]  # delegated to Microsoft.ContainerService/managedClusters
    availability_zones: Sequence[str]
    vault_id: pulumi.Input[str]
    cluster_key_id: pulumi.Input[str]  # ARM id (role scope)
    cluster_key_uri: pulumi.Input[str]  # versionless URI
    cluster_key_versioned_uri: pulumi.Input[str]  # the KMS plugin and the disk encryption set need a version
    cluster_key_identity_id: pulumi.Input[str]  # keys.identities["cluster"].id (wraps with the cluster key)
    cluster_key_grant: Optional[pulumi.Resource] = None  # keys.grants["cluster"]: the DES checks its access at creation
    environment: str = "dev"
    # How the Kubernetes provider signs in (kubelogin login mode, see KUBELOGIN_MODES) and who deploys:
    # the deploying principal's object id gets AKS_RBAC_CLUSTER_ADMIN on the cluster, its client id is
    # the spn login's --client-id (the secret stays in AZURE_CLIENT_SECRET, never in the kubeconfig).
    kubelogin_mode: str = "azurecli"
    deployer_object_id: Optional[pulumi.Input[str]] = None
    deployer_client_id: Optional[pulumi.Input[str]] = None
    platform_pool: PlatformPoolSize = PlatformPoolSize()


def non_interactive_kubeconfig(kubeconfig: str, mode: str, client_id: Optional[str] = None) -> str:
    """The AKS user kubeconfig with every kubelogin exec switched to a login ``mode`` that needs no prompt.

    ``listClusterUserCredential(format=exec)`` returns ``kubelogin get-token ... --login devicecode``,
    which waits for a person to enter a code in a browser: ``pulumi up`` would hang at the first
    Kubernetes resource. The rewrite keeps the cluster's ``--server-id`` (the AKS AAD server app) and,
    for ``spn``, the tenant and environment (what ``kubelogin convert-kubeconfig -l <mode>`` keeps);
    credentials come from the environment kubelogin reads (az login, AZURE_FEDERATED_TOKEN_FILE,
    AZURE_CLIENT_SECRET, the runner's managed identity).
    """
    if mode not in KUBELOGIN_MODES:
        raise ValueError(f"kubelogin mode {mode!r} is not one of {', '.join(KUBELOGIN_MODES)}")
    config = yaml.safe_load(kubeconfig)
    converted = 0
    for user in config.get("users") or []:
        exec_ = (user.get("user") or {}).get("exec")
        if not exec_ or "kubelogin" not in str(exec_.get("command", "")).lower():
            continue
        old = [str(a) for a in exec_.get("args") or []]
        flag = {old[i]: old[i + 1] for i in range(len(old) - 1) if old[i].startswith("--")}
        if "--server-id" not in flag:
            raise ValueError(f"kubeconfig user {user.get('name')!r}: kubelogin args have no --server-id")
        args = ["get-token", "--login", mode, "--server-id", flag["--server-id"]]
        if mode == "spn":
            if client_id:
                args += ["--client-id", client_id]
            args += [f for key in ("--tenant-id", "--environment") if key in flag for f in (key, flag[key])]
        exec_["args"] = args
        converted += 1
    if not converted:
        raise ValueError("kubeconfig has no kubelogin exec user to convert (is the cluster Entra-integrated?)")
    return yaml.safe_dump(config, sort_keys=False)


def deployer_cluster_admin(name: str, cluster: azure.containerservice.ManagedCluster,
                           deployer_object_id: Optional[pulumi.Input[str]], platform: str,
                           opts: pulumi.ResourceOptions) -> Optional[azure.authorization.RoleAssignment]:
    """AKS_RBAC_CLUSTER_ADMIN on `cluster` for the deploying identity (None when it is not known)."""
    if deployer_object_id is None:
        return None
    return azure.authorization.RoleAssignment(
        name, scope=cluster.id, role_definition_id=role_definition_id(cluster.id, AKS_RBAC_CLUSTER_ADMIN),
        # principalType left out: the deployer may be a user or a service principal, and it exists already.
        principal_id=deployer_object_id, opts=opts,
        description=f"{platform}: the deploying identity creates the platform's Kubernetes objects")


def platform_pool(name: str, args: ClusterArgs, ai: AzureClusterInputs, cluster: azure.containerservice.ManagedCluster,
                  opts: pulumi.ResourceOptions) -> azure.containerservice.AgentPool:
    """The on-demand, autoscaled User pool the platform's services (MLflow, Feast, monitoring, Argo, KServe,
    the front door, ...) run on, since the System pool is tainted for critical add-ons only. Its nodes carry
    ``mlops.dev/pool=system``: the label every cloud gives the on-demand nodes of platform services (the Ray
    heads and the KubeRay operator select it). Spread over the zones, encrypted at host like every pool."""
    size = ai.platform_pool
    return azure.containerservice.AgentPool(
        name, resource_group_name=ai.resource_group_name, resource_name_=cluster.name,
        agent_pool_name=PLATFORM_POOL_NAME, mode="User", type="VirtualMachineScaleSets",
        vm_size=size.instance_type or args.system_node_instance_type, orchestrator_version=args.version,
        os_type="Linux", os_sku="AzureLinux", os_disk_type="Managed", os_disk_size_gb=args.system_node_disk_gb,
        enable_auto_scaling=True, min_count=size.min_nodes, max_count=size.max_nodes, count=size.min_nodes,
        availability_zones=list(ai.availability_zones), vnet_subnet_id=ai.node_subnet_id, max_pods=110,
        enable_node_public_ip=False, enable_encryption_at_host=True, scale_set_priority="Regular",
        node_labels={POOL_LABEL: PLATFORM_POOL_LABEL, CAPACITY_TYPE_LABEL: "on-demand"},
        upgrade_settings=azure.containerservice.AgentPoolUpgradeSettingsArgs(max_surge="33%"),
        tags={**args.tags, "component": "cluster", "node-pool": PLATFORM_POOL_NAME},
        # The cluster autoscaler owns the node count.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["count"])))


class Cluster(pulumi.ComponentResource):
    """AKS cluster, disk encryption set, identities, Kubernetes provider (outputs: see module doc)."""

    def __init__(self, name: str, args: ClusterArgs, azure_inputs: AzureClusterInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:cluster:Cluster", name, None, opts)
        self._tags = {**args.tags, "component": "cluster"}
        self._group = azure_inputs.resource_group_name
        self._location = azure_inputs.location
        child = pulumi.ResourceOptions(parent=self)
        ai = azure_inputs

        des = azure.compute.DiskEncryptionSet(
            name, resource_group_name=ai.resource_group_name, location=ai.location,
            disk_encryption_set_name=f"{args.name}-disks", encryption_type="EncryptionAtRestWithCustomerKey",
            active_key=azure.compute.KeyForDiskEncryptionSetArgs(
                # KeyForDiskEncryptionSet.keyUrl must name a key version even with rotation to the latest
                # version on (SDK docstring; Azure rejects a versionless URL); Azure then follows rotations.
                key_url=ai.cluster_key_versioned_uri, source_vault=azure.compute.SourceVaultArgs(id=ai.vault_id)),
            rotation_to_latest_key_version_enabled=True,
            identity=azure.compute.EncryptionSetIdentityArgs(type="UserAssigned",
                                                             user_assigned_identities=[ai.cluster_key_identity_id]),
            tags=self._tags, opts=pulumi.ResourceOptions(
                parent=self, depends_on=[ai.cluster_key_grant] if ai.cluster_key_grant else None))
        self.disk_encryption_set_id = des.id

        control_plane = azure.managedidentity.UserAssignedIdentity(
            f"{name}-control-plane", resource_group_name=ai.resource_group_name, location=ai.location,
            resource_name_=f"{args.name}-control-plane", tags=self._tags, opts=child)
        kubelet = azure.managedidentity.UserAssignedIdentity(
            f"{name}-kubelet", resource_group_name=ai.resource_group_name, location=ai.location,
            resource_name_=f"{args.name}-kubelet", tags=self._tags, opts=child)
        self.control_plane_identity, self.kubelet_identity = control_plane, kubelet
        principal = control_plane.principal_id
        roles = [  # (resource-name suffix, scope, role, why)
            ("subnet", ai.node_subnet_id, NETWORK_CONTRIBUTOR, "AKS joins nodes and internal load balancers to the node subnet"),
            ("apiserver-subnet", ai.apiserver_subnet_id, NETWORK_CONTRIBUTOR, "AKS puts the API server into its subnet"),
            ("kms-key", ai.cluster_key_id, KEY_VAULT_CRYPTO_USER, "the KMS plugin encrypts Kubernetes secrets with the cluster key"),
            ("kms-vault", ai.vault_id, KEY_VAULT_CONTRIBUTOR, "the KMS plugin reaches the private vault through its own private link"),
            ("des", des.id, READER, "AKS reads the disk encryption set of its node and volume disks"),
            ("kubelet", kubelet.id, MANAGED_IDENTITY_OPERATOR, "AKS assigns the kubelet identity to its nodes"),
        ]
        grants = [grant(f"{name}-{suffix}", scope=scope, role_guid=role, principal_id=principal, opts=child,
                        description=f"{args.name}: {why}") for suffix, scope, role, why in roles]

        private = not args.public_access_cidrs or ai.environment != "dev"
        if private:
            api_access = azure.containerservice.ManagedClusterAPIServerAccessProfileArgs(
                enable_private_cluster=True, private_dns_zone="system", enable_private_cluster_public_fqdn=False,
                enable_vnet_integration=True, subnet_id=ai.apiserver_subnet_id)
        else:
            api_access = azure.containerservice.ManagedClusterAPIServerAccessProfileArgs(
                enable_private_cluster=False, enable_vnet_integration=True, subnet_id=ai.apiserver_subnet_id,
                authorized_ip_ranges=sorted(args.public_access_cidrs))
        self.private_api = private

        cluster = azure.containerservice.ManagedCluster(
            name, resource_group_name=ai.resource_group_name, location=ai.location, resource_name_=args.name,
            dns_prefix=args.name, kubernetes_version=args.version, node_resource_group=f"{args.name}-nodes",
            sku=azure.containerservice.ManagedClusterSKUArgs(name="Base", tier="Free" if ai.environment == "dev" else "Standard"),
            identity=azure.containerservice.ManagedClusterIdentityArgs(type="UserAssigned",
                                                                       user_assigned_identities=[control_plane.id]),
            identity_profile={"kubeletidentity": azure.containerservice.UserAssignedIdentityArgs(
                resource_id=kubelet.id, client_id=kubelet.client_id, object_id=kubelet.principal_id)},
            enable_rbac=True, disable_local_accounts=True,
            aad_profile=azure.containerservice.ManagedClusterAADProfileArgs(managed=True, enable_azure_rbac=True,
                                                                            tenant_id=tenant_id()),
            api_server_access_profile=api_access,
            oidc_issuer_profile=azure.containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=azure.containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=azure.containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
                azure_key_vault_kms=azure.containerservice.AzureKeyVaultKmsArgs(
                    enabled=True, key_id=ai.cluster_key_versioned_uri, key_vault_network_access="Private",
                    key_vault_resource_id=ai.vault_id),
                image_cleaner=azure.containerservice.ManagedClusterSecurityProfileImageCleanerArgs(
                    enabled=True, interval_hours=168)),
            disk_encryption_set_id=des.id,
            network_profile=azure.containerservice.ContainerServiceNetworkProfileArgs(
                network_plugin="azure", network_plugin_mode="overlay", network_dataplane="cilium",
                network_policy="cilium", outbound_type="userAssignedNATGateway", load_balancer_sku="standard",
                pod_cidr=POD_CIDR, service_cidr=SERVICE_CIDR, dns_service_ip=DNS_SERVICE_IP),
            auto_upgrade_profile=azure.containerservice.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel="patch", node_os_upgrade_channel="NodeImage"),
            storage_profile=azure.containerservice.ManagedClusterStorageProfileArgs(
                disk_csi_driver=azure.containerservice.ManagedClusterStorageProfileDiskCSIDriverArgs(enabled=True),
                snapshot_controller=azure.containerservice.ManagedClusterStorageProfileSnapshotControllerArgs(enabled=True)),
            agent_pool_profiles=[azure.containerservice.ManagedClusterAgentPoolProfileArgs(
                name="system", mode="System", type="VirtualMachineScaleSets", vm_size=args.system_node_instance_type,
                count=args.system_node_count, enable_auto_scaling=False,
                availability_zones=list(ai.availability_zones), vnet_subnet_id=ai.node_subnet_id,
                os_type="Linux", os_sku="AzureLinux", os_disk_type="Managed", os_disk_size_gb=args.system_node_disk_gb,
                max_pods=110, enable_node_public_ip=False, enable_encryption_at_host=True,
                node_labels={POOL_LABEL: SYSTEM_POOL_LABEL, CAPACITY_TYPE_LABEL: "on-demand"},
                node_taints=[CRITICAL_ADDONS_TAINT],
                upgrade_settings=azure.containerservice.AgentPoolUpgradeSettingsArgs(max_surge="33%"))],
            tags=self._tags,
            # Training pools are separate AgentPool resources (components/training/azure.py), not this list.
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants, protect=args.deletion_protection))
        self.aks_cluster = cluster
        self.cluster_id = cluster.id
        self.name = cluster.name
        self.version = args.version
        self.node_resource_group = cluster.node_resource_group
        self.endpoint = pulumi.Output.all(cluster.private_fqdn, cluster.fqdn).apply(
            lambda fqdns: f"https://{fqdns[0] if private else fqdns[1]}:443")
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(lambda p: p.issuer_url if p else None)
        self.oidc_issuer = self.oidc_issuer_url.apply(lambda url: url.removeprefix("https://") if url else None)
        self.node_security_group_id = None
        self.cluster_security_group_id = None
        self.platform_pool = platform_pool(f"{name}-platform", args, ai, cluster, pulumi.ResourceOptions(
            parent=self, depends_on=[cluster]))

        credentials = azure.containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=ai.resource_group_name, resource_name=cluster.name, format="exec",
            opts=pulumi.InvokeOutputOptions(parent=self))
        aks_kubeconfig = credentials.kubeconfigs.apply(lambda configs: base64.b64decode(configs[0].value).decode())
        self.kubeconfig = pulumi.Output.secret(pulumi.Output.all(aks_kubeconfig, ai.deployer_client_id).apply(
            lambda got: non_interactive_kubeconfig(got[0], ai.kubelogin_mode, got[1])))
        # Nothing in the cluster can be created before the deployer holds a Kubernetes role on it.
        self.deployer_admin = deployer_cluster_admin(f"{name}-deployer-admin", cluster, ai.deployer_object_id,
                                                     args.name, child)
        self.k8s_provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, enable_server_side_apply=True,
                                         opts=pulumi.ResourceOptions(parent=self, depends_on=[
                                             r for r in (self.deployer_admin, self.platform_pool) if r is not None]))
        self.storage_class = STORAGE_CLASS
        k8s.storage.v1.StorageClass(
            f"{name}-cmk", metadata=k8s.meta.v1.ObjectMetaArgs(name=STORAGE_CLASS),
            provisioner="disk.csi.azure.com", reclaim_policy="Delete", volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            parameters={"skuName": "Premium_ZRS", "diskEncryptionSetID": des.id,
                        "diskEncryptionType": "EncryptionAtRestWithCustomerKey"},
            opts=pulumi.ResourceOptions(parent=self, provider=self.k8s_provider))
        self.register_outputs({"name": self.name, "endpoint": self.endpoint, "kubeconfig": self.kubeconfig,
                               "oidc_issuer_url": self.oidc_issuer_url})

    def workload_identity(self, name: str, namespace: str, service_account: str,
                          opts: Optional[pulumi.ResourceOptions] = None) -> azure.managedidentity.UserAssignedIdentity:
        """A user-assigned identity only ``system:serviceaccount:<namespace>:<service_account>`` can use.

        Annotate the ServiceAccount with ``azure.workload.identity/client-id: <identity.client_id>``
        (``CLIENT_ID_ANNOTATION``) and label its pods ``azure.workload.identity/use: "true"``; grant
        roles to ``identity.principal_id`` at the narrowest scope. Pass ``opts`` with your component as parent.
        """
        opts = opts or pulumi.ResourceOptions(parent=self)
        identity = azure.managedidentity.UserAssignedIdentity(
            name, resource_group_name=self._group, location=self._location, tags=self._tags, opts=opts)
        azure.managedidentity.FederatedIdentityCredential(
            name, resource_group_name=self._group, resource_name_=identity.name,
            federated_identity_credential_resource_name=f"{namespace}-{service_account}",
            issuer=self.oidc_issuer_url, subject=f"system:serviceaccount:{namespace}:{service_account}",
            audiences=[WORKLOAD_IDENTITY_AUDIENCE], opts=pulumi.ResourceOptions(parent=identity))
        return identity
