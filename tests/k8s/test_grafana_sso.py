"""Grafana's role expression: valid JMESPath for any claim and group name the config allows, strongest
role first, nothing for anyone else (the smoke test applies it to real ID tokens)."""

import jmespath
import pytest

from components.k8s._common import InvalidInput
from components.k8s.grafana_sso import role_attribute_path


@pytest.mark.parametrize("claim", ["groups", "cognito:groups", "roles.ml", "x-groups"])
def test_claim_names_with_punctuation_are_quoted(claim):
    expression = role_attribute_path(claim, "admins", "editors", "viewers")
    assert jmespath.search(expression, {claim: ["editors"]}) == "Editor"
    assert jmespath.search(expression, {"other": ["admins"]}) is False


@pytest.mark.parametrize("group", ["O'Brien team", "a\\b"])
def test_group_names_with_quotes_or_backslashes_are_refused(group):
    # JMESPath implementations differ on escapes inside raw strings; the config forbids both characters.
    with pytest.raises(InvalidInput, match="quotes and backslashes"):
        role_attribute_path("groups", group, "editors", "viewers")


def test_group_names_the_config_allows_stay_literal():
    expression = role_attribute_path("groups", "ML Platform/admins@corp", "6f1e0c7a-8d3b-4a52-9b1e-2c4d5e6f7a81", "v.1")
    assert jmespath.search(expression, {"groups": ["ML Platform/admins@corp"]}) == "Admin"
    assert jmespath.search(expression, {"groups": ["6f1e0c7a-8d3b-4a52-9b1e-2c4d5e6f7a81"]}) == "Editor"
    assert jmespath.search(expression, {"groups": ["v.1"]}) == "Viewer"


def test_strongest_role_wins_and_a_string_claim_is_not_a_list():
    expression = role_attribute_path("groups", "admins", "editors", "viewers")
    assert jmespath.search(expression, {"groups": ["viewers", "admins"]}) == "Admin"
    assert jmespath.search(expression, {"groups": []}) is False
