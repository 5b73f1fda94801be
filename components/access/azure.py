"""Azure: a Microsoft Entra ID app registration as the platform's OIDC client (``access.issuer: entra``).

- The app emits the user's security groups in the ID token's ``groups`` claim (group *object IDs*:
  ``mlops:access.groups`` names Entra group object IDs on Azure). Users with more than 200 groups get
  an overage claim instead (not visible offline): keep role groups assigned, or use app roles.
- Single-tenant sign-in (``AzureADMyOrg``); the redirect URIs are the UIs' hostnames in the private zone.
- The client secret is an app password valid for one year, rotated by changing ``rotate_when_changed``;
  it is a Pulumi secret and reaches the cluster only as a Kubernetes Secret.
- The issuer is ``https://login.microsoftonline.com/<tenant>/v2.0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_azure_native as azure
import pulumi_azuread as azuread

from components.access import AccessArgs


@dataclass
class AzureAccessInputs:
    tenant_id: pulumi.Input[str]


class EntraIssuer(pulumi.ComponentResource):
    """App registration, its service principal and client secret."""

    issuer_url: pulumi.Output[str]
    client_id: pulumi.Output[str]
    client_secret: pulumi.Output[str]
    groups_claim: str

    def __init__(self, name: str, args: AccessArgs, inputs: AzureAccessInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:access:EntraIssuer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.application = azuread.Application(
            f"{name}-app", display_name=f"{args.name} platform UIs", sign_in_audience="AzureADMyOrg",
            group_membership_claims=["SecurityGroup"],
            optional_claims={"id_tokens": [{"name": "groups"}], "access_tokens": [{"name": "groups"}]},
            web={"redirect_uris": args.callback_urls,
                 "implicit_grant": {"access_token_issuance_enabled": False, "id_token_issuance_enabled": False}},
            required_resource_accesses=[{
                # Microsoft Graph: openid, profile, email (delegated).
                "resource_app_id": "00000003-0000-0000-c000-000000000000",
                "resource_accesses": [{"id": "37f7f235-527c-4136-accd-4a02d197296e", "type": "Scope"},
                                      {"id": "14dad69e-099b-42c9-810b-d002981feec1", "type": "Scope"},
                                      {"id": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "type": "Scope"}]}],
            opts=child)
        self.service_principal = azuread.ServicePrincipal(
            f"{name}-sp", client_id=self.application.client_id, app_role_assignment_required=False, opts=child)
        self.password = azuread.ApplicationPassword(
            f"{name}-secret", application_id=self.application.id, display_name="platform UIs",
            end_date_relative="8760h", opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["value"]))
        self.issuer_url = pulumi.Output.concat("https://login.microsoftonline.com/", inputs.tenant_id, "/v2.0")
        self.client_id = self.application.client_id
        self.client_secret = pulumi.Output.secret(self.password.value)
        self.groups_claim = args.groups_claim or "groups"
        self.authorize_url = pulumi.Output.concat("https://login.microsoftonline.com/", inputs.tenant_id, "/oauth2/v2.0/authorize")
        self.token_url = pulumi.Output.concat("https://login.microsoftonline.com/", inputs.tenant_id, "/oauth2/v2.0/token")
        self.userinfo_url = "https://graph.microsoft.com/oidc/userinfo"
        self.register_outputs({"issuerUrl": self.issuer_url, "clientId": self.client_id})


class PrivateDns(pulumi.ComponentResource):
    """An Azure private DNS zone for the UI hostnames, linked to the VNet (no auto-registration), and one A
    record per UI to the front door's internal load balancer IP."""

    def __init__(self, name: str, domain: str, resource_group_name: pulumi.Input[str], vnet_id: pulumi.Input[str],
                 address: pulumi.Input[str], hostnames: list[str], tags: dict,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:access:PrivateDns", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.zone = azure.privatedns.PrivateZone(f"{name}-zone", resource_group_name=resource_group_name,
                                                 private_zone_name=domain, location="global",
                                                 tags={**tags, "component": "access"}, opts=child)
        azure.privatedns.VirtualNetworkLink(
            f"{name}-link", resource_group_name=resource_group_name, private_zone_name=self.zone.name,
            virtual_network_link_name="platform-vnet", location="global", registration_enabled=False,
            virtual_network=azure.privatedns.SubResourceArgs(id=vnet_id), tags={**tags, "component": "access"},
            opts=child)
        for host in hostnames:
            label = host[: -len(domain) - 1]
            azure.privatedns.PrivateRecordSet(
                f"{name}-{label}", resource_group_name=resource_group_name, private_zone_name=self.zone.name,
                record_type="A", relative_record_set_name=label, ttl=300,
                a_records=[azure.privatedns.ARecordArgs(ipv4_address=address)], opts=child)
        self.register_outputs({"zoneId": self.zone.id})
