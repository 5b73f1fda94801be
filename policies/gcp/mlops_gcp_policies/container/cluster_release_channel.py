"""GKE clusters are enrolled in a release channel, so Google patches and upgrades them on a known cadence."""
from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, is_unknown

from .._frameworks import CIS_GKE
from .._gcp import path


def check(resource, config):
    channel = path(resource.props.get("releaseChannel"), "channel")
    if is_unknown(channel):
        yield cannot_check("releaseChannel.channel")
    elif not isinstance(channel, str) or channel.upper() in ("", "UNSPECIFIED"):
        yield ("releaseChannel.channel is not set: the cluster is on the static version path, upgraded only when "
               "its version reaches end of support.")


RULE = ResourceRule(
    name="gcp-container-cluster-require-release-channel",
    description="GKE clusters are enrolled in a release channel (RAPID, REGULAR, STABLE or EXTENDED).",
    severity="low",
    remediation="Set release_channel={'channel': 'REGULAR'} (or STABLE).",
    frameworks=CIS_GKE("5.5.4") + SOC2("CC7.1") + ISO27001("A.8.8"),
    enforcement="advisory",  # patch cadence; supported versions are the mandatory version rule's job
    tags=("gke", "patching"),
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
