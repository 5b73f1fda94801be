"""No VPC firewall rule allows ingress from the whole internet (0.0.0.0/0 or ::/0), on any port.

Checkov has one check per port (SSH 22, RDP 3389, FTP 20/21, MySQL 3306, HTTP 80) plus one for all
ports; the control behind them is one: an allow rule open to any source. A deny rule open to any
source (the platform's logged deny-all) is fine, as are disabled and egress rules. An ingress rule
that names no source at all (no sourceRanges, sourceTags or sourceServiceAccounts) matches 0.0.0.0/0
(Compute Engine firewall docs: the default source of an ingress rule), so it fails too.
"""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule, as_list, cannot_check, is_unknown, truthy

OPEN = {"0.0.0.0/0", "::/0", "0.0.0.0", "::0"}


def _open_source(props):
    ranges = props.get("sourceRanges")
    if is_unknown(ranges):
        return None
    ranges = [r for r in as_list(ranges) if r]
    if any(is_unknown(r) for r in ranges):
        return None
    if any(str(r).strip() in OPEN or str(r).strip().endswith("/0") for r in ranges):
        return ", ".join(str(r) for r in ranges)
    if not ranges and not as_list(props.get("sourceTags")) and not as_list(props.get("sourceServiceAccounts")):
        return "no source (which means 0.0.0.0/0)"
    return ""


def _ports(allow) -> str:
    protocol = allow.get("protocol", "?") if isinstance(allow, dict) else "?"
    ports = allow.get("ports") if isinstance(allow, dict) else None
    return f"{protocol} {','.join(str(p) for p in ports)}" if ports else f"{protocol} (all ports)"


def check(resource, config):
    props = resource.props
    direction, disabled, allows = props.get("direction"), props.get("disabled"), props.get("allows")
    if is_unknown(direction) or is_unknown(disabled) or is_unknown(allows):
        yield cannot_check("direction, disabled or allows")
        return
    if (direction or "INGRESS").upper() != "INGRESS" or (disabled is not None and truthy(disabled)) or not allows:
        return
    source = _open_source(props)
    if source is None:
        yield cannot_check("sourceRanges")
    elif source:
        yield (f"allows ingress of {'; '.join(_ports(a) for a in allows)} from {source}: anyone on the internet can "
               "reach the targets on those ports (SSH, RDP, databases, ...).")


RULE = ResourceRule(
    name="gcp-compute-firewall-disallow-open-ingress",
    description="VPC firewall rules do not allow ingress from 0.0.0.0/0 or ::/0 on any port.",
    severity="critical",
    remediation="Name the source ranges that need access (a VPN, Google's health-check ranges, IAP's 35.235.240.0/20 "
                "for SSH) or use source tags/service accounts; keep the open-source rule a deny.",
    frameworks=CIS_GCP("3.6", "3.7") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    enforcement="mandatory",  # public exposure
    tags=("vpc", "public-exposure"),
    resource_types=("gcp:compute/firewall:Firewall",),
    check=check,
)
