"""kubernetes-argo-events-webhook-require-auth: pass and fail through the rule's policy, and through the
booted pack (the Analyzer protocol, as `pulumi preview --policy-pack` runs it), on the EventSource the
platform renders (components/pipelines/events.py) and the same without its authSecret."""
import copy
from pathlib import Path

import pytest

from components.pipelines import events
from mlops_kubernetes_policies.access import event_source_webhook_auth as rule_module
from mlops_tools.policy.runner import run_policy_packs
from tests.policies.cloud_policy_harness import check_resource

RULE = rule_module.RULE
PACK = Path(__file__).resolve().parents[3] / "policies" / "kubernetes"
TYPE = "kubernetes:argoproj.io/v1alpha1:EventSource"


def _source(auth=True):
    manifest = events.event_source("pipelines")
    props = {k: v for k, v in manifest.items() if k != "kind"}
    if not auth:
        props = copy.deepcopy(props)
        del props["spec"]["webhook"][events.EVENT_NAME]["authSecret"]
    return props


def test_the_rendered_event_source_passes():
    assert check_resource(RULE, TYPE, _source()).passed


def test_a_webhook_without_auth_secret_fails_naming_the_event_and_endpoint():
    outcome = check_resource(RULE, TYPE, _source(auth=False))
    [message] = outcome.messages
    assert f"webhook '{events.EVENT_NAME}'" in message and events.WEBHOOK_ENDPOINT in message and "authSecret" in message


@pytest.mark.parametrize("selector", [{"name": "drift-webhook-token"}, "drift-webhook-token"])
def test_an_incomplete_selector_fails(selector):
    props = _source()
    props["spec"]["webhook"][events.EVENT_NAME]["authSecret"] = selector
    assert not check_resource(RULE, TYPE, props).passed


def test_event_sources_without_webhooks_are_not_its_business():
    assert check_resource(RULE, TYPE, {"spec": {"calendar": {"tick": {"interval": "1h"}}}}).passed


def _plan_resource(inputs):
    return {"urn": f"urn:pulumi:test::mlops::{TYPE}::drift-eventsource", "type": TYPE, "name": "drift-eventsource",
            "custom": True, "parent": None, "provider": None, "inputs": inputs, "dependencies": [], "protect": False}


def test_through_the_analyzer_protocol_fails_without_and_passes_with_auth_secret():
    def violations(props):
        _, found = run_policy_packs([_plan_resource(props)], [PACK])
        return [v for v in found if v.policy == RULE.name]
    [failed] = violations(_source(auth=False))
    assert failed.enforcement == "mandatory" and failed.urn.endswith("::drift-eventsource")
    assert violations(_source()) == []
