"""Every VPC network of the program has its own logged deny-all ingress firewall rule.

GCP's implied "deny all ingress" rule cannot log; a network without firewall rules of its own
silently drops (and never records) probing traffic, and nothing documents which ingress the
platform expects. Checkov asks for "a firewall on the network"; the rule asks for the one that
matters: an INGRESS rule that denies all protocols from 0.0.0.0/0, with ``logConfig`` set.
Firewalls are tied to their network through the ``network`` property (``mlops_policy.correlate``).
"""
from mlops_policy import CIS_GCP, ISO27001, SOC2, StackRule, as_list, cannot_check, correlate, is_set, is_unknown, violation

NETWORK = "gcp:compute/network:Network"
FIREWALL = "gcp:compute/firewall:Firewall"


def _named(network, value: str) -> bool:
    name = network.props.get("name")
    return isinstance(name, str) and not is_unknown(name) and value.rstrip("/").split("/")[-1] == name


def _deny_all(firewall) -> bool:
    props = firewall.props
    if (props.get("direction") or "INGRESS") != "INGRESS" or props.get("disabled") is True:
        return False
    denies = props.get("denies")
    if is_unknown(denies) or is_unknown(props.get("sourceRanges")):
        return True  # decided when the update runs; not this rule's finding
    everything = any(isinstance(d, dict) and str(d.get("protocol", "")).lower() == "all" for d in as_list(denies))
    return everything and "0.0.0.0/0" in as_list(props.get("sourceRanges")) and is_set(props.get("logConfig"))


def check(stack, config):
    networks = stack.of_type(NETWORK)
    firewalls = stack.of_type(FIREWALL)
    found = {n.urn: False for n in networks}
    for firewall in firewalls:
        matches, decided = correlate(firewall, "network", networks, _named)
        if not decided:
            yield cannot_check("which network it belongs to", firewall)
        for network in matches:
            found[network.urn] = found[network.urn] or _deny_all(firewall)
    for network in networks:
        if not found[network.urn]:
            yield violation(f"network {network.name} has no logged deny-all ingress firewall rule (INGRESS, deny all "
                            "from 0.0.0.0/0, logConfig set): dropped probes are never recorded.", network)


RULE = StackRule(
    name="gcp-compute-network-require-deny-ingress-firewall",
    description="Every VPC network has its own logged deny-all ingress firewall rule.",
    severity="low",
    remediation="Add a Firewall on the network with direction INGRESS, denies=[{'protocol': 'all'}], "
                "source_ranges=['0.0.0.0/0'], the lowest priority (65534) and log_config set; allow what is needed "
                "above it.",
    frameworks=CIS_GCP("3.6") + SOC2("CC7.2") + ISO27001("A.8.20", "A.8.16"),
    enforcement="advisory",  # GCP's implied deny already blocks the traffic; this adds the record of it
    tags=("vpc", "logging"),
    resource_types=(NETWORK, FIREWALL),
    check=check,
)
