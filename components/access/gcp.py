"""GCP: an external OIDC issuer (``access.issuer: external``) and the UIs' private DNS zone.

Google's own sign-in does not fit the role model by itself: Google ID tokens carry no groups claim, and the
IAP OAuth admin API that created OAuth clients (``google_iap_brand`` / ``google_iap_client``) is deprecated,
so a program cannot make the client either. IAP (Google-managed client) needs a Google L7 load balancer in
front; docs/access.md, "GCP and Google identity", says what that and Cloud Identity groups would take. Teams on GCP connect the IdP they already run (Google
Workspace through a broker such as Keycloak or Dex, Okta, Entra ID) with three keys: ``issuerUrl``,
``clientId`` and the secret ``mlops:accessClientSecret``. The cluster side is the same as elsewhere.
"""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_gcp as gcp

from components.access import ExternalIssuer

__all__ = ["ExternalIssuer", "PrivateDns"]


class PrivateDns(pulumi.ComponentResource):
    """A Cloud DNS private zone for the UI hostnames, visible only to the platform's VPC, and one A record
    per UI to the front door's internal load balancer IP."""

    def __init__(self, name: str, zone_name: str, domain: str, project: pulumi.Input[str], network: pulumi.Input[str],
                 address: pulumi.Input[str], hostnames: list[str], labels: dict,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:access:PrivateDns", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.zone = gcp.dns.ManagedZone(
            f"{name}-zone", name=zone_name, project=project, dns_name=f"{domain}.", visibility="private",
            description="platform UIs (front door)", labels={**labels, "component": "access"},
            private_visibility_config={"networks": [{"network_url": network}]}, opts=child)
        for host in hostnames:
            gcp.dns.RecordSet(f"{name}-{host.split('.')[0]}", name=f"{host}.", type="A", ttl=300, project=project,
                              managed_zone=self.zone.name, rrdatas=[address], opts=child)
        self.register_outputs({"zone": self.zone.name})
