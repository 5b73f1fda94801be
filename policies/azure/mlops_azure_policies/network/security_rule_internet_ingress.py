"""Network security groups do not admit the internet to SSH, RDP, HTTP or any UDP port.

An inbound Allow rule whose source is the internet (``*``, ``Internet``, ``Any``, ``0.0.0.0/0``,
``::/0``) exposes remote administration (22, 3389) to brute force, plaintext HTTP (80) to
scraping, and UDP services (DNS, NTP, QUIC...) to amplification. The platform's NSGs admit only
VNet ranges; UIs leave the cluster through internal load balancers behind SSO. Rules are read
inline (``securityRules``) and as separate ``network.SecurityRule`` resources.
"""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, ResourceRule, as_list, cannot_check, is_unknown

from .._azure import azure_types, lower

NSG = "azure-native:network:NetworkSecurityGroup"
SECURITY_RULE = "azure-native:network:SecurityRule"
INTERNET = ("*", "internet", "any", "0.0.0.0/0", "0.0.0.0", "::/0")
WATCHED = {22: "SSH", 3389: "RDP", 80: "HTTP"}


def _ranges(rule) -> list:
    """(low, high) for each destination port range of the rule; '*' is every port."""
    ranges = []
    for value in as_list(rule.get("destinationPortRange")) + as_list(rule.get("destinationPortRanges")):
        text = str(value).strip()
        if text == "*":
            ranges.append((0, 65535))
        elif "-" in text:
            low, high = text.split("-", 1)
            ranges.append((int(low), int(high)))
        elif text.isdigit():
            ranges.append((int(text), int(text)))
    return ranges


def _exposed(rule) -> list:
    protocol = lower(rule.get("protocol") or "*")
    ranges = _ranges(rule)
    found = [f"{port} ({name})" for port, name in WATCHED.items() if protocol in ("*", "tcp", "udp")
             and any(low <= port <= high for low, high in ranges)]
    if protocol in ("*", "udp") and ranges:
        found.append("UDP" if protocol == "udp" else "UDP (protocol *)")
    return found


def _rules(resource):
    if resource.type in azure_types(SECURITY_RULE):
        return [("", resource.props)]
    rules = resource.props.get("securityRules")
    if is_unknown(rules):
        return [("securityRules", rules)]
    return [(f"securityRules[{i}]" + ("" if is_unknown(r) else f" ({(r or {}).get('name', '')})"),
             r if is_unknown(r) else r or {}) for i, r in enumerate(rules or [])]


def check(resource, config):
    for label, rule in _rules(resource):
        if is_unknown(rule) or any(is_unknown(rule.get(k)) for k in
                                   ("access", "direction", "sourceAddressPrefix", "sourceAddressPrefixes",
                                    "destinationPortRange", "destinationPortRanges", "protocol")):
            yield cannot_check(label or "security rule")
            continue
        if lower(rule.get("access")) != "allow" or lower(rule.get("direction")) != "inbound":
            continue
        sources = [lower(str(s)) for s in as_list(rule.get("sourceAddressPrefix")) + as_list(rule.get("sourceAddressPrefixes"))]
        if not any(s in INTERNET for s in sources):
            continue
        exposed = _exposed(rule)
        if exposed:
            where = f"{label} " if label else ""
            yield f"{where}allows inbound traffic from the internet to {', '.join(exposed)}."


RULE = ResourceRule(
    name="azure-network-securitygroup-disallow-internet-ingress",
    description="NSG rules must not allow inbound traffic from the internet to SSH (22), RDP (3389), HTTP (80) or UDP.",
    severity="critical",
    remediation="Restrict sourceAddressPrefix to VNet ranges or service tags other than Internet; reach nodes through "
                "Azure Bastion or the AKS API, and serve UIs through internal load balancers.",
    frameworks=CIS_AZURE("6.1", "6.2", "6.3", "6.4") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    enforcement="mandatory",
    tags=("network", "public-access"),
    resource_types=azure_types(NSG, SECURITY_RULE),
    check=check,
)
