"""`mlops:access`: issuer per cloud, external issuer keys, private by default, public only with an allow-list."""

import json

import pytest

from stacks.config import ConfigError, load_config


def cfg(cloud="aws", region="us-east-1", secret=None, **access):
    base = {"mlops:cloud": cloud, "mlops:region": region}
    if secret is not None:
        base["mlops:accessClientSecret"] = secret
    if access.get("issuer") is not None:
        access.setdefault("mlflowImage", "registry.example.com/mlflow-oidc:3.10.1-oidc7.2.0")
    if access:
        base["mlops:access"] = json.dumps(access)
    return base


ENDPOINTS = {"authorizeUrl": "https://login.example.com/realms/ml/protocol/openid-connect/auth",
             "tokenUrl": "https://login.example.com/realms/ml/protocol/openid-connect/token",
             "userinfoUrl": "https://login.example.com/realms/ml/protocol/openid-connect/userinfo"}


def test_endpoints_must_be_https_and_only_for_an_external_issuer():
    got = problems(cloud="gcp", region="us-central1", secret="s", issuer="external",
                   issuerUrl="https://login.example.com", clientId="x", **{**ENDPOINTS, "tokenUrl": "http://idp/token"})
    assert any("mlops:access.tokenUrl" in p and "http://idp/token" in p and "https://" in p for p in got)
    assert any("mlops:access.authorizeUrl" in p and "only for issuer external" in p
               for p in problems(issuer="cognito", authorizeUrl=ENDPOINTS["authorizeUrl"]))


def problems(**kw):
    with pytest.raises(ConfigError) as caught:
        load_config("dev", cfg(**kw))
    return caught.value.problems


def test_sso_needs_the_plugin_image():
    got = problems(issuer="cognito", mlflowImage=None)
    assert any("mlops:access.mlflowImage" in p and "images/mlflow-oidc" in p for p in got)


def test_default_is_no_sso_and_private_only_and_each_cloud_takes_its_identity_service():
    aws = load_config("dev", cfg()).access
    assert aws.issuer_for("aws") is None and not aws.public.enabled and aws.public.allowed_cidrs == []
    assert load_config("dev", cfg(issuer="cognito")).access.issuer_for("aws") == "cognito"
    assert load_config("dev", cfg("azure", "westeurope", issuer="entra")).access.issuer_for("azure") == "entra"
    assert aws.groups.mlflow_read == "mlflow-readers" and aws.groups.grafana_admin == "grafana-admins"


def test_gcp_needs_an_external_issuer_with_url_and_client_id():
    got = problems(cloud="gcp", region="us-central1", issuer="external")
    assert any("mlops:access.issuerUrl" in p and "required when access.issuer is external" in p for p in got)
    assert any("mlops:access.clientId" in p for p in got)
    # Grafana reads no discovery document: the endpoints are named too.
    assert all(any(f"mlops:access.{key}" in p and "required" in p for p in got)
               for key in ("authorizeUrl", "tokenUrl", "userinfoUrl"))
    assert any("mlops:accessClientSecret" in p and "--secret" in p for p in got)
    ok = load_config("dev", cfg("gcp", "us-central1", secret="s3cr3t-value", issuer="external",
                                issuerUrl="https://login.example.com/realms/ml", clientId="mlops", **ENDPOINTS))
    assert "s3cr3t-value" not in repr(ok)
    assert ok.access.issuer_url == "https://login.example.com/realms/ml"


def test_an_issuer_the_cloud_does_not_offer_names_the_choices():
    got = problems(cloud="gcp", region="us-central1", issuer="cognito")
    assert any("Pulumi.dev.yaml" in p and "mlops:access.issuer" in p and '"cognito"' in p and "external" in p for p in got)
    assert any("must be one of cognito, external on aws" in p for p in problems(issuer="entra"))


def test_public_endpoint_needs_an_allow_list_and_never_the_whole_internet():
    assert any("mlops:access.public.allowedCidrs" in p and "must list" in p for p in problems(issuer="cognito", public={"enabled": True}))
    got = problems(issuer="cognito", public={"enabled": True, "allowedCidrs": ["0.0.0.0/0"]})
    assert any("mlops:access.public.allowedCidrs[0]" in p and "0.0.0.0/0" in p for p in got)
    assert any("mlops:access.public.enabled" in p for p in problems(public={"allowedCidrs": ["203.0.113.0/24"]}))
    ok = load_config("dev", cfg(issuer="cognito", public={"enabled": True, "allowedCidrs": ["203.0.113.0/24"]}))
    assert [str(c) for c in ok.access.public.allowed_cidrs] == ["203.0.113.0/24"]


def test_managed_issuer_rejects_external_keys_and_bad_values():
    assert any("mlops:access.issuerUrl" in p and "only for issuer external" in p
               for p in problems(issuer="cognito", issuerUrl="https://idp.example.com"))
    assert any("mlops:access.issuerUrl" in p and "http://idp" in p and "https://" in p
               for p in problems(issuer="external", issuerUrl="http://idp", clientId="x", secret="y"))
    assert any("mlops:access.grups" in p for p in problems(grups={}))


GOOGLE_GROUPS = {"mlflowRead": "mlflow-readers@example.com", "mlflowEdit": "mlflow-editors@example.com",
                 "mlflowManage": "mlflow-admins@example.com", "grafanaViewer": "grafana-viewers@example.com",
                 "grafanaEditor": "grafana-editors@example.com", "grafanaAdmin": "grafana-admins@example.com",
                 "pipelinesRead": "pipelines-readers@example.com", "pipelinesSubmit": "pipelines-submitters@example.com"}


def test_google_sign_in_needs_its_client_the_domain_and_groups_by_e_mail():
    got = problems(cloud="gcp", region="us-central1", issuer="google")
    assert any("mlops:access.clientId" in p and "Web application" in p for p in got)
    assert any("mlops:access.hostedDomain" in p and "required" in p for p in got)
    assert any("mlops:accessClientSecret" in p and "--secret" in p for p in got)
    assert any("mlops:access.groups.mlflowRead" in p and '"mlflow-readers"' in p and "e-mail" in p for p in got)
    ok = load_config("dev", cfg("gcp", "us-central1", secret="s3cr3t", issuer="google", clientId="1-x.apps.googleusercontent.com",
                                hostedDomain="example.com", groups=GOOGLE_GROUPS))
    assert ok.access.issuer_for("gcp") == "google" and ok.access.hosted_domain == "example.com"


def test_google_takes_no_issuer_endpoints_or_claim_and_only_gcp_offers_it():
    got = problems(cloud="gcp", region="us-central1", secret="s", issuer="google", clientId="x", hostedDomain="example.com",
                   groups=GOOGLE_GROUPS, issuerUrl="https://accounts.google.com", groupsClaim="groups")
    assert any("mlops:access.issuerUrl" in p and "not used with issuer google" in p for p in got)
    assert any("mlops:access.groupsClaim" in p and "Cloud Identity" in p for p in got)
    assert any("must be one of cognito, external on aws" in p for p in problems(issuer="google"))
    assert any("mlops:access.hostedDomain" in p and "only for issuer google" in p
               for p in problems(issuer="cognito", hostedDomain="example.com"))
