"""GCP: Google sign-in (``access.issuer: google``), an external OIDC issuer (``external``), and the UIs'
private DNS zone.

Google as the issuer (https://accounts.google.com; endpoints from its discovery document,
https://accounts.google.com/.well-known/openid-configuration). Google ID tokens carry ``email``,
``email_verified`` and ``hd`` (the Workspace domain) but no groups, so each UI gets its groups another way:

- MLflow: mlflow-oidc-auth's ``OIDC_GROUP_DETECTION_PLUGIN`` runs components/access/runtime/
  mlops_google_groups.py, which asks the Cloud Identity API (``searchTransitiveGroups``) under the MLflow
  pod's own Google service account (Workload Identity, no key). That account needs the Workspace admin
  role Groups Reader, which no Google Cloud API grants: the stack exports its e-mail
  (``mlflowGroupsReaderAccount``) for the one-time assignment in the Admin console (docs/access.md).
- Grafana: its Google connector reads the person's groups from Cloud Identity with their own token (scope
  ``cloud-identity.groups.readonly``; components/k8s/grafana_sso.py).
- Argo (pipeline UI): its SSO reads groups only from the token or userinfo, and Google puts them in
  neither. Its RBAC rules therefore test the verified e-mail (and ``hd``) against the members of the two
  pipeline groups, read from Cloud Identity at deploy time (``getGroupLookup`` + ``getGroupTransitiveMemberships``,
  users only, nested groups included). Membership changes take effect at the next ``pulumi up`` (the
  preview shows them as a diff of the rule); see docs/access.md for why not IAP or a broker.

The OAuth client cannot be made by a program (the IAP OAuth admin API, ``google_iap_client``, is
deprecated and made only IAP clients): the operator creates a "Web application" client in the console and
gives ``clientId`` + the secret ``mlops:accessClientSecret``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_gcp as gcp

from components.access import AccessArgs, ExternalIssuer

GOOGLE_ISSUER = "https://accounts.google.com"
# From https://accounts.google.com/.well-known/openid-configuration (authorization_endpoint, token_endpoint,
# userinfo_endpoint); Grafana's Google connector has the same defaults built in.
GOOGLE_ENDPOINTS = ("https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token",
                    "https://openidconnect.googleapis.com/v1/userinfo")
GROUPS_READONLY_SCOPE = "https://www.googleapis.com/auth/cloud-identity.groups.readonly"

__all__ = ["ExternalIssuer", "GoogleIssuer", "PrivateDns", "group_member_emails"]


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


def group_member_emails(group_email: str, opts: Optional[pulumi.InvokeOptions] = None) -> pulumi.Output[list[str]]:
    """The user members (direct and through nested groups) of a Google group, as lower-case e-mails, sorted.

    ``getGroupLookup`` turns the group's e-mail into ``groups/<id>``; ``getGroupTransitiveMemberships``
    (Cloud Identity ``searchTransitiveMemberships``) lists members; a member named ``users/...`` is a person
    (``groups/...`` are nested groups, already expanded). The deploying identity needs to see the groups'
    members (Workspace role Groups Reader, or group owner/manager): not visible offline."""
    group = gcp.cloudidentity.get_group_lookup_output(group_key={"id": group_email}, opts=opts)
    members = gcp.cloudidentity.get_group_transitive_memberships_output(group=group.name, opts=opts)
    return members.memberships.apply(lambda memberships: sorted({
        key.id.lower() for m in memberships if m.member.startswith("users/") for key in m.preferred_member_keys}))


@dataclass
class GoogleAccessInputs:
    invoke_opts: Optional[pulumi.InvokeOptions] = None


class GoogleIssuer(pulumi.ComponentResource):
    """Google sign-in for the platform UIs: the client the operator made, the domain, and the pipeline
    groups' members for Argo's rules."""

    issuer_url: pulumi.Output[str]
    client_id: pulumi.Output[str]
    client_secret: pulumi.Output[str]
    groups_claim: str
    hosted_domain: str
    pipelines_members: dict[str, pulumi.Output[list[str]]]

    def __init__(self, name: str, args: AccessArgs, inputs: GoogleAccessInputs = GoogleAccessInputs(),
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:access:GoogleIssuer", name, None, opts)
        if not (args.client_id and args.client_secret is not None and args.hosted_domain):
            raise ValueError("a Google issuer needs access.clientId, access.hostedDomain and mlops:accessClientSecret")
        self.issuer_url = pulumi.Output.from_input(GOOGLE_ISSUER)
        self.client_id = pulumi.Output.from_input(args.client_id)
        self.client_secret = pulumi.Output.secret(args.client_secret)
        self.authorize_url, self.token_url, self.userinfo_url = GOOGLE_ENDPOINTS
        # Not a token claim: the name under which the UIs see the groups they looked up (the plugin's list,
        # Grafana's {"groups": [...]} document).
        self.groups_claim = "groups"
        self.hosted_domain = args.hosted_domain
        self.pipelines_members = {group: group_member_emails(group, inputs.invoke_opts)
                                  for group in dict.fromkeys([args.groups.pipelines_read, args.groups.pipelines_submit])}
        self.register_outputs({"issuerUrl": self.issuer_url, "clientId": self.client_id,
                               "hostedDomain": self.hosted_domain})
