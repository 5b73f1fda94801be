"""GpuNodeAgents: the NVIDIA device plugin and the DCGM exporter on GPU nodes only.

- The device plugin advertises ``nvidia.com/gpu`` to the kubelet. It must create a socket in the
  kubelet's ``/var/lib/kubelet/device-plugins`` directory (root-owned), so it runs as UID 0 with a
  hostPath mount: the one container in the platform that needs either. Everything else is still
  dropped: no capabilities, no privilege escalation, read-only root filesystem, RuntimeDefault
  seccomp, not privileged. The two advisory policy findings this produces are expected.
- The DCGM exporter reads GPU telemetry through NVML (device nodes are world-readable), so it runs
  as non-root with nothing from the host. Profiling (DCP) metrics would need SYS_ADMIN and are off;
  utilisation, memory, power, temperature and XID errors are exported.
Both select ``mlops.dev/accelerator=nvidia-gpu`` nodes and tolerate every taint (GPU and spot
taints, and the drain taint, so the agents leave last).
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import (
    ACCELERATOR_LABEL,
    DCGM_EXPORTER_NAME,
    DCGM_EXPORTER_PORT,
    DEVICE_PLUGIN_NAME,
    GPU_ACCELERATOR,
    MONITORING_NAMESPACE,
    NODE_AGENTS_NAMESPACE,
    PRIORITY_NODE_AGENT,
    GpuNodeAgentsArgs,
    ResourceBudget,
)
from components.k8s._common import (
    app_labels,
    container_security_context,
    from_namespaces,
    health_probes,
    metadata,
    pod_security_context,
    resources,
    selector_labels,
    service_account,
    tcp_ports,
    writable_dir,
)

DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.4"
# Pinned by digest. Source, 2026-12-05: a public repository's Dockerfile that pins this tag to it (found with
# the code search; one source). NOT checked against nvcr.io's manifest from this offline machine: verify with
# `crane digest nvcr.io/nvidia/k8s/dcgm-exporter:4.4.1-4.6.0-ubuntu22.04` before a release.
# The device plugin's tag (above) stays unpinned: no published digest for v0.17.4 was found to take it from.
DCGM_EXPORTER_IMAGE = ("nvcr.io/nvidia/k8s/dcgm-exporter:4.4.1-4.6.0-ubuntu22.04"
                       "@sha256:b7a4241c608253aa829041cc3575ea57082491251a4a626bcdddc68eaf9a3101")
DEVICE_PLUGIN_DIR = "/var/lib/kubelet/device-plugins"
DCGM_EXPORTER_UID = 65534  # nobody

DEVICE_PLUGIN_RESOURCES = ResourceBudget("50m", "64Mi", "200m", "256Mi")
DCGM_EXPORTER_RESOURCES = ResourceBudget("100m", "256Mi", "500m", "1Gi")


def _node_agent(resource_name: str, name: str, component: str, pod: dict[str, Any],
                child: pulumi.ResourceOptions) -> k8s.apps.v1.DaemonSet:
    """A DaemonSet (and its ServiceAccount) on every GPU node, staying through taints and drains."""
    namespace = NODE_AGENTS_NAMESPACE
    labels = app_labels(name, component)
    service_account(f"{resource_name}-sa", name, namespace, labels, None, child)
    spec = {
        "serviceAccountName": name,
        "automountServiceAccountToken": False,  # neither agent calls the Kubernetes API
        "enableServiceLinks": False,
        "priorityClassName": PRIORITY_NODE_AGENT,
        "nodeSelector": {ACCELERATOR_LABEL: GPU_ACCELERATOR},
        "tolerations": [{"operator": "Exists"}],
        **pod,
    }
    return k8s.apps.v1.DaemonSet(resource_name, metadata=metadata(name, namespace, labels), spec={
        "selector": {"matchLabels": selector_labels(name)},
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        "template": {"metadata": {"labels": labels}, "spec": spec},
    }, opts=child)


class GpuNodeAgents(pulumi.ComponentResource):
    """NVIDIA device plugin and DCGM exporter DaemonSets in the node-agents namespace."""

    device_plugin: Optional[k8s.apps.v1.DaemonSet]
    dcgm_exporter: Optional[k8s.apps.v1.DaemonSet]

    def __init__(self, name: str, args: GpuNodeAgentsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:k8s:GpuNodeAgents", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.device_plugin = self._device_plugin(name, child) if args.device_plugin else None
        self.dcgm_exporter = self._dcgm_exporter(name, child) if args.dcgm_exporter else None
        self.register_outputs({"devicePluginImage": DEVICE_PLUGIN_IMAGE if args.device_plugin else None,
                               "dcgmExporterImage": DCGM_EXPORTER_IMAGE if args.dcgm_exporter else None})

    @staticmethod
    def _device_plugin(name: str, child: pulumi.ResourceOptions) -> k8s.apps.v1.DaemonSet:
        container = {
            "name": DEVICE_PLUGIN_NAME, "image": DEVICE_PLUGIN_IMAGE,
            "env": [{"name": "FAIL_ON_INIT_ERROR", "value": "false"}, {"name": "MIG_STRATEGY", "value": "none"}],
            "resources": resources(DEVICE_PLUGIN_RESOURCES),
            # Root is needed for the kubelet's socket directory; nothing else is granted.
            "securityContext": container_security_context(uid=0),
            "volumeMounts": [{"name": "device-plugin", "mountPath": DEVICE_PLUGIN_DIR}],
        }
        return _node_agent(f"{name}-device-plugin", DEVICE_PLUGIN_NAME, "gpu-device-plugin", {
            "securityContext": {"runAsUser": 0, "runAsNonRoot": False, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container],
            "volumes": [{"name": "device-plugin", "hostPath": {"path": DEVICE_PLUGIN_DIR, "type": "Directory"}}],
        }, child)

    @staticmethod
    def _dcgm_exporter(name: str, child: pulumi.ResourceOptions) -> k8s.apps.v1.DaemonSet:
        namespace = NODE_AGENTS_NAMESPACE
        labels = app_labels(DCGM_EXPORTER_NAME, "gpu-metrics")
        container = {
            "name": DCGM_EXPORTER_NAME, "image": DCGM_EXPORTER_IMAGE,
            "env": [
                {"name": "DCGM_EXPORTER_LISTEN", "value": f":{DCGM_EXPORTER_PORT}"},
                # Per-pod attribution needs the kubelet's root-only pod-resources socket; pool-level
                # views join on the node instead.
                {"name": "DCGM_EXPORTER_KUBERNETES", "value": "false"},
                {"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"},
                {"name": "NVIDIA_DRIVER_CAPABILITIES", "value": "utility"},
                {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            ],
            "ports": [{"name": "metrics", "containerPort": DCGM_EXPORTER_PORT, "protocol": "TCP"}],
            "resources": resources(DCGM_EXPORTER_RESOURCES),
            "securityContext": container_security_context(uid=DCGM_EXPORTER_UID),
            **health_probes("metrics", startup_seconds=120),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }
        daemonset = _node_agent(f"{name}-dcgm-exporter", DCGM_EXPORTER_NAME, "gpu-metrics", {
            "securityContext": pod_security_context(DCGM_EXPORTER_UID),
            "containers": [container], "volumes": [writable_dir("tmp", "64Mi")],
        }, child)
        k8s.core.v1.Service(f"{name}-dcgm-exporter-service", metadata=metadata(DCGM_EXPORTER_NAME, namespace, labels), spec={
            "type": "ClusterIP", "selector": selector_labels(DCGM_EXPORTER_NAME),
            "ports": [{"name": "metrics", "port": DCGM_EXPORTER_PORT, "targetPort": "metrics", "protocol": "TCP"}],
        }, opts=child)
        k8s.networking.v1.NetworkPolicy(f"{name}-dcgm-exporter-netpol", metadata=metadata(DCGM_EXPORTER_NAME, namespace, labels), spec={
            "podSelector": {"matchLabels": selector_labels(DCGM_EXPORTER_NAME)}, "policyTypes": ["Ingress"],
            "ingress": [{"from": from_namespaces([MONITORING_NAMESPACE]), "ports": tcp_ports(["metrics"])}],
        }, opts=child)
        return daemonset
