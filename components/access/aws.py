"""AWS: an Amazon Cognito user pool as the platform's OIDC issuer (``access.issuer: cognito``).

- Sign-up is admin-only (``allow_admin_create_user_only``): people are invited or federated, never
  self-registered. MFA (TOTP) is required in prod and optional elsewhere; passwords of 14+ characters.
- One Cognito group per role group of the config; Cognito puts a user's groups in the ``cognito:groups``
  claim of the ID token, which the UIs map to roles.
- One confidential web client (authorization-code flow, a client secret kept as a Pulumi secret) whose
  callback URLs are the UIs' hostnames in the private zone. Cognito serves the login pages on the pool's
  domain (``<prefix>.auth.<region>.amazoncognito.com``); a corporate IdP can be added to the pool as a
  SAML/OIDC identity provider without changing anything in the cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.access import AccessArgs

GROUPS_CLAIM = "cognito:groups"


@dataclass
class AwsAccessInputs:
    region: str
    prod: bool


def _domain_prefix(name: str) -> str:
    # Cognito domain prefixes: lowercase letters, digits and hyphens; "aws", "amazon" and "cognito" are
    # reserved words (not visible offline: the API rejects them at create time).
    prefix = re.sub(r"(aws|amazon|cognito)", "x", name.lower())
    return re.sub(r"[^a-z0-9-]", "-", prefix)[:63].strip("-")


class CognitoIssuer(pulumi.ComponentResource):
    """User pool, its login domain, one group per role group and the UIs' web client."""

    issuer_url: pulumi.Output[str]
    client_id: pulumi.Output[str]
    client_secret: pulumi.Output[str]
    groups_claim: str

    def __init__(self, name: str, args: AccessArgs, inputs: AwsAccessInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:access:CognitoIssuer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.user_pool = aws.cognito.UserPool(
            f"{name}-users", name=f"{args.name}-users", tags={**args.tags, "component": "access"},
            username_attributes=["email"], auto_verified_attributes=["email"],
            admin_create_user_config={"allow_admin_create_user_only": True},
            mfa_configuration="ON" if inputs.prod else "OPTIONAL",
            software_token_mfa_configuration={"enabled": True},
            password_policy={"minimum_length": 14, "require_lowercase": True, "require_uppercase": True,
                             "require_numbers": True, "require_symbols": True, "temporary_password_validity_days": 3},
            account_recovery_setting={"recovery_mechanisms": [{"name": "verified_email", "priority": 1}]},
            deletion_protection="ACTIVE" if inputs.prod else "INACTIVE", opts=child)
        self.domain = aws.cognito.UserPoolDomain(
            f"{name}-domain", domain=_domain_prefix(f"{args.name}-login"), user_pool_id=self.user_pool.id, opts=child)
        self.groups = [aws.cognito.UserGroup(f"{name}-group-{index}", user_pool_id=self.user_pool.id, name=group,
                                             description=f"platform role group {group}", opts=child)
                       for index, group in enumerate(args.groups.all())]
        self.client = aws.cognito.UserPoolClient(
            f"{name}-ui-client", name=f"{args.name}-ui", user_pool_id=self.user_pool.id, generate_secret=True,
            allowed_oauth_flows=["code"], allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_scopes=["openid", "email", "profile"], supported_identity_providers=["COGNITO"],
            callback_urls=args.callback_urls, explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED", enable_token_revocation=True,
            access_token_validity=60, id_token_validity=60, refresh_token_validity=12,
            token_validity_units={"access_token": "minutes", "id_token": "minutes", "refresh_token": "hours"},
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["clientSecret"]))
        self.issuer_url = pulumi.Output.concat("https://cognito-idp.", inputs.region, ".amazonaws.com/",
                                               self.user_pool.id)
        self.client_id = self.client.id
        self.client_secret = pulumi.Output.secret(self.client.client_secret)
        self.groups_claim = args.groups_claim or GROUPS_CLAIM
        # The pool's hosted login (OAuth 2.0 endpoints of the Cognito domain).
        login = pulumi.Output.concat("https://", self.domain.domain, ".auth.", inputs.region, ".amazoncognito.com/oauth2/")
        self.authorize_url = pulumi.Output.concat(login, "authorize")
        self.token_url = pulumi.Output.concat(login, "token")
        self.userinfo_url = pulumi.Output.concat(login, "userInfo")
        self.register_outputs({"issuerUrl": self.issuer_url, "clientId": self.client_id,
                               "userPoolId": self.user_pool.id})


class PrivateDns(pulumi.ComponentResource):
    """A Route 53 private hosted zone for the UI hostnames, attached to the VPC, and one CNAME per UI to the
    front door's internal load balancer (its DNS name). Resolvable only from inside the VPC (and networks
    the operator associates or forwards to it)."""

    def __init__(self, name: str, domain: str, vpc_id: pulumi.Input[str], region: str, address: pulumi.Input[str],
                 hostnames: list[str], tags: dict, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:access:PrivateDns", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.zone = aws.route53.Zone(f"{name}-zone", name=domain, comment="platform UIs (front door)",
                                     vpcs=[{"vpc_id": vpc_id, "vpc_region": region}],
                                     tags={**tags, "component": "access"}, opts=child)
        for host in hostnames:
            aws.route53.Record(f"{name}-{host.split('.')[0]}", zone_id=self.zone.zone_id, name=host, type="CNAME",
                               ttl=300, records=[address], opts=child)
        self.register_outputs({"zoneId": self.zone.zone_id})
