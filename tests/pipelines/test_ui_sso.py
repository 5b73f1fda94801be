"""The pipeline UI behind Argo's SSO mode: chart values, group -> ServiceAccount rules (read vs submit,
least privilege both ways), every object schema-valid, the client secret never in the plan."""

import dataclasses
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s"))
from k8s_helpers import named, preview_components  # noqa: E402

from components.k8s._common import InvalidInput  # noqa: E402
from components.pipelines.argo import ArtifactStore, argo_values  # noqa: E402
from components.pipelines.component import RetrainingPipeline, RetrainingPipelineArgs  # noqa: E402
from components.pipelines.ui_sso import PipelineUiSso, rbac_manifests, server_values  # noqa: E402
from mlops_tools.validate.manifests import schema_version_for, validate_manifest  # noqa: E402
from test_component import DIGEST_IMAGE  # noqa: E402
from test_retraining_workflows import ARGS  # noqa: E402

SECRET = "argo-client-secret-value-987"
SSO = PipelineUiSso(issuer_url="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc", client_id="ui-client",
                    client_secret=SECRET, redirect_url="https://pipelines.ml.prod.example.internal/oauth2/callback",
                    groups_claim="cognito:groups", read_group="pipelines-readers", submit_group="pipelines-submitters")
STORE = ArtifactStore("s3", "mlops-prod-artifacts", region="us-east-1")


def _verbs(role, group, resource):
    return {verb for rule in role["rules"] if group in rule["apiGroups"] and resource in rule["resources"]
            for verb in rule["verbs"]}


def test_server_runs_sso_mode_with_the_issuer_and_secret_references():
    server = argo_values(STORE, {}, sso=SSO)["server"]
    assert server["authModes"] == ["sso"] and server["serviceType"] == "ClusterIP"
    sso = server["sso"]
    assert sso["enabled"] is True and sso["issuer"] == SSO.issuer_url and sso["customGroupClaimName"] == "cognito:groups"
    assert sso["clientSecret"] == {"name": "argo-server-sso", "key": "client-secret"} and SECRET not in json.dumps(server)
    assert sso["rbac"]["enabled"] is True and sso["insecureSkipVerify"] is False
    assert sso["rbac"]["secretWhitelist"] == ["pipelines-ui-read.service-account-token",
                                              "pipelines-ui-submit.service-account-token"]
    assert argo_values(STORE, {})["server"]["authModes"] == ["client"]  # without SSO nothing changes


def test_groups_pick_the_service_account_submitters_first():
    accounts = {m["metadata"]["name"]: m["metadata"]["annotations"] for m in rbac_manifests(SSO, "pipelines")
                if m["kind"] == "ServiceAccount"}
    assert accounts["pipelines-ui-read"]["workflows.argoproj.io/rbac-rule"] == '"pipelines-readers" in groups'
    assert accounts["pipelines-ui-submit"]["workflows.argoproj.io/rbac-rule"] == '"pipelines-submitters" in groups'
    assert int(accounts["pipelines-ui-submit"]["workflows.argoproj.io/rbac-rule-precedence"]) > \
        int(accounts["pipelines-ui-read"]["workflows.argoproj.io/rbac-rule-precedence"])


def test_readers_read_and_submitters_submit_and_neither_touches_secrets_or_templates():
    roles = {m["metadata"]["name"]: m for m in rbac_manifests(SSO, "pipelines") if m["kind"] == "Role"}
    read, submit = roles["pipelines-ui-read"], roles["pipelines-ui-submit"]
    assert _verbs(read, "argoproj.io", "workflows") == {"get", "list", "watch"}
    assert _verbs(read, "", "pods/log") == {"get", "list", "watch"}
    assert {"create", "delete"} <= _verbs(submit, "argoproj.io", "workflows")
    for role in (read, submit):
        assert not _verbs(role, "", "secrets") and not _verbs(role, "", "serviceaccounts")
        assert _verbs(role, "argoproj.io", "workflowtemplates") == {"get", "list", "watch"}
        assert "create" not in _verbs(role, "argoproj.io", "cronworkflows")
        assert not any("*" in rule["verbs"] or "*" in rule["resources"] for rule in role["rules"])


def test_every_rbac_object_is_schema_valid():
    version, _ = schema_version_for("1.35")
    manifests = rbac_manifests(SSO, "pipelines")
    assert sorted(m["kind"] for m in manifests) == ["Role", "Role", "RoleBinding", "RoleBinding", "Secret", "Secret",
                                                     "ServiceAccount", "ServiceAccount"]
    for manifest in manifests:
        _, errors, _, has_schema = validate_manifest(manifest, version)
        assert has_schema and errors == [], (manifest["kind"], errors)


@pytest.mark.parametrize("change, words", [
    ({"redirect_url": "http://pipelines.example.internal/oauth2/callback"}, "https://<host>/oauth2/callback"),
    ({"session_hours": 0}, "1..24"),
    ({"submit_group": "pipelines-readers"}, "must differ"),
])
def test_bad_input_is_refused_with_a_message(change, words):
    with pytest.raises(InvalidInput, match=words.replace("(", r"\(").replace(".", r"\.")):
        bad = dataclasses.replace(SSO, **change)
        server_values(bad)
        rbac_manifests(bad, "pipelines")


@pytest.fixture(scope="module")
def result():
    args = RetrainingPipelineArgs(dataclasses.replace(ARGS, image=DIGEST_IMAGE), STORE, {}, ui_sso=SSO)
    return preview_components(lambda opts: RetrainingPipeline("pipelines", args, opts=opts))


def test_component_creates_the_sso_objects_before_the_release_and_hides_the_secret(result):
    [release] = result.by_type("kubernetes:helm.sh/v3:Release")
    client = named(result, "kubernetes:core/v1:Secret", "argo-server-sso", "pipelines")
    assert client["urn"] in release["dependencies"]
    for kind, name in (("core/v1:ServiceAccount", "pipelines-ui-submit"), ("rbac.authorization.k8s.io/v1:RoleBinding",
                                                                         "pipelines-ui-read")):
        assert named(result, f"kubernetes:{kind}", name, "pipelines")["urn"] in release["dependencies"]
    assert SECRET not in json.dumps(result.masked_resources())


def test_kubernetes_pack_finds_no_violation_with_sso(result):
    from mlops_tools.policy.runner import run_policy_packs

    root = Path(__file__).resolve().parents[2]
    _, violations = run_policy_packs(result.resources, [root / "policies" / "kubernetes"])
    assert violations == []


def test_google_sign_in_rules_test_a_verified_domain_e_mail_against_the_groups_members():
    from components.pipelines.ui_sso import _email_rule

    rule = _email_rule("example.com", ["zoe@example.com", "al@example.com"])
    assert rule == 'email_verified == true && hd == "example.com" && email in ["al@example.com", "zoe@example.com"]'
    assert _email_rule("example.com", []).endswith("email in []")  # an empty group matches nobody
    google = dataclasses.replace(SSO, members={"pipelines-readers": ["al@example.com"]}, hosted_domain=None)
    with pytest.raises(InvalidInput, match="hosted domain"):
        rbac_manifests(google, "pipelines")
    google = dataclasses.replace(google, hosted_domain="example.com")
    with pytest.raises(InvalidInput, match="pipelines-submitters"):  # no members known for the submit group
        rbac_manifests(google, "pipelines")
