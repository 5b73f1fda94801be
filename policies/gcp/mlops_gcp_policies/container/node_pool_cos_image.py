"""GKE nodes run Container-Optimized OS (hardened, read-only root, auto-updated; the default image).

Checked wherever node settings are written: the cluster's default pool and inline pools
(``nodeConfig.imageType``), auto-provisioning defaults, and separate ``NodePool`` resources. An unset
``imageType`` is GKE's default, COS_CONTAINERD.
"""
from mlops_policy import ISO27001, SOC2, Finding, ResourceRule, cannot_check, is_unknown

from .._frameworks import CIS_GKE
from .._gcp import NODE_POOL, node_settings, path


def _image(label, node_config):
    value = path(node_config, "imageType")
    if is_unknown(value):
        yield cannot_check(f"{label} imageType")
    elif isinstance(value, str) and value and not value.upper().startswith("COS"):
        yield (f"{label}: imageType is {value}: nodes run a general-purpose OS instead of Container-Optimized OS "
               "(larger attack surface, writable root).")


def check(resource, config):
    for item in node_settings(resource):
        if isinstance(item, Finding):
            yield item
        else:
            yield from _image(*item)
    defaults = path(resource.props.get("clusterAutoscaling"), "autoProvisioningDefaults")
    if resource.type != NODE_POOL and defaults:
        yield from _image("clusterAutoscaling.autoProvisioningDefaults", defaults)


RULE = ResourceRule(
    name="gcp-container-nodepool-require-cos-image",
    description="GKE node pools run Container-Optimized OS images.",
    severity="low",
    remediation="Leave node_config.image_type unset or set it to 'COS_CONTAINERD'.",
    frameworks=CIS_GKE("5.5.1") + SOC2("CC6.8") + ISO27001("A.8.9"),
    enforcement="advisory",  # hardening; Ubuntu images are supported for drivers COS cannot load
    tags=("gke", "node-integrity"),
    resource_types=("gcp:container/cluster:Cluster", NODE_POOL),
    check=check,
)
