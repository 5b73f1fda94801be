"""GKE nodes must boot with Secure Boot (off by default) and keep integrity monitoring (on by default).

Checked wherever node settings are written: the cluster's default pool (``nodeConfig``), its inline
``nodePools``, node auto-provisioning defaults, and separate ``NodePool`` resources. Autopilot
clusters enforce both themselves.
"""
from mlops_policy import ISO27001, SOC2, Finding, ResourceRule, cannot_check, is_unknown, truthy

from .._frameworks import CIS_GKE
from .._gcp import NODE_POOL, is_autopilot, node_settings, path


def _shielded_findings(label, shielded):
    secure_boot = path(shielded, "enableSecureBoot")
    integrity = path(shielded, "enableIntegrityMonitoring")
    if is_unknown(shielded) or is_unknown(secure_boot):
        yield cannot_check(f"{label} shieldedInstanceConfig.enableSecureBoot")
    elif not (secure_boot is not None and truthy(secure_boot)):
        yield f"{label}: shieldedInstanceConfig.enableSecureBoot is not true, so unsigned boot components can run."
    if is_unknown(integrity):
        yield cannot_check(f"{label} shieldedInstanceConfig.enableIntegrityMonitoring")
    elif integrity is not None and not truthy(integrity):
        yield f"{label}: shieldedInstanceConfig.enableIntegrityMonitoring is false."


def check(resource, config):
    for item in node_settings(resource):
        if isinstance(item, Finding):
            yield item
        else:
            label, node_config = item
            yield from _shielded_findings(label, path(node_config, "shieldedInstanceConfig"))
    if resource.type == NODE_POOL or is_autopilot(resource.props) is not False:
        return
    autoscaling = resource.props.get("clusterAutoscaling")
    provisioning = path(autoscaling, "enabled")
    if is_unknown(provisioning):
        yield cannot_check("clusterAutoscaling.enabled")
    elif provisioning is not None and truthy(provisioning):
        yield from _shielded_findings("clusterAutoscaling.autoProvisioningDefaults",
                                      path(autoscaling, "autoProvisioningDefaults.shieldedInstanceConfig"))


RULE = ResourceRule(
    name="gcp-container-nodepool-enable-secure-boot",
    description="GKE node pools boot with Secure Boot and integrity monitoring.",
    severity="medium",
    remediation="Set node_config.shielded_instance_config={'enable_secure_boot': True, 'enable_integrity_monitoring': "
                "True} on every node pool (and on cluster_autoscaling.auto_provisioning_defaults when auto-provisioning).",
    frameworks=CIS_GKE("5.5.7", "5.5.6") + SOC2("CC6.8") + ISO27001("A.8.9"),
    enforcement="advisory",  # CIS GKE Level 2: GPU drivers and custom kernel modules must be signed
    tags=("gke", "node-integrity"),
    resource_types=("gcp:container/cluster:Cluster", NODE_POOL),
    check=check,
)
