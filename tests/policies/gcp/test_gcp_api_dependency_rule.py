"""Every GCP resource waits for the projects.Service of its API (directly or through a parent component)."""
from mlops_gcp_policies.serviceusage import resource_api_dependency as api_rule
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack

RULE = api_rule.RULE
SERVICE = "gcp:projects/service:Service"
KMS = Res(SERVICE, "api-cloudkms", {"project": "p", "service": "cloudkms.googleapis.com"})
BIGTABLE = Res(SERVICE, "api-bigtableadmin", {"project": "p", "service": "bigtableadmin.googleapis.com"})


def ring(deps=(), parent=None):
    return Res("gcp:kms/keyRing:KeyRing", "ring", {"location": "europe-west4"}, deps=list(deps), parent=parent)


def test_a_key_ring_that_depends_on_the_kms_api_passes():
    assert check_stack(RULE, [KMS, ring(["api-cloudkms"])]).passed


def test_a_key_ring_without_the_api_dependency_fails_naming_the_api():
    outcome = check_stack(RULE, [KMS, ring()])
    assert outcome.violations == [("ring (gcp:kms/keyRing:KeyRing) does not depend on the projects.Service enabling "
                                   "cloudkms.googleapis.com: on a fresh project its creation fails with SERVICE_DISABLED.",
                                   ring().urn)]


def test_a_dependency_of_the_parent_component_counts():
    keys = Res("mlops:keys:Keys", "keys", {}, deps=["api-cloudkms"])
    assert check_stack(RULE, [KMS, keys, ring(parent="keys")]).passed


def test_the_wrong_api_does_not_count():
    assert not check_stack(RULE, [BIGTABLE, ring(["api-bigtableadmin"])]).passed


def test_a_service_identity_needs_the_api_it_makes_an_agent_for():
    agent = Res("gcp:projects/serviceIdentity:ServiceIdentity", "bigtable-agent",
                {"project": "p", "service": "bigtableadmin.googleapis.com"}, deps=["api-cloudkms"])
    assert "enabling bigtableadmin.googleapis.com" in check_stack(RULE, [KMS, BIGTABLE, agent]).messages[0]
    unknown = Res("gcp:projects/serviceIdentity:ServiceIdentity", "agent", {"project": "p", "service": UNKNOWN})
    assert check_stack(RULE, [unknown]).cannot_check


def test_apis_enabled_outside_the_program_can_be_declared():
    assert check_stack(RULE, [ring()], config={"enabledOutsideProgram": ["cloudkms.googleapis.com"]}).passed


def test_an_unknown_gcp_type_is_reported_so_the_table_stays_complete():
    outcome = check_stack(RULE, [Res("gcp:vertex/aiEndpoint:AiEndpoint", "endpoint", {})])
    assert "is not in the API table" in outcome.messages[0]


def test_services_and_non_gcp_resources_need_nothing():
    assert check_stack(RULE, [KMS, Res("kubernetes:core/v1:Namespace", "ns", {})]).passed
