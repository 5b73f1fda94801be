"""Azure: the roles the plan grants Feast's identity hold every data action Feast's Azure registry store and
its offline store's calls need, on the container the rendered config names (Azure's built-in role
definitions, mlops_tools/smoke/roles/azure.json), and nothing outside that container.

Not run with the real Feast here: Feast's Azure registry store builds its account URL from the registry
path (https://<account>.blob.core.windows.net), which no local emulator can answer without DNS and TLS
for that name."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from mlops_tools.smoke import SmokeFailure, feast_smoke
from mlops_tools.smoke.iam_roles import azure_feast_needs, azure_missing
from mlops_tools.smoke.plan import Plan

STACKS = feast_smoke.stacks("azure")
pytestmark = pytest.mark.skipif(not STACKS, reason="no Azure stack in SMOKE_STACKS")
FEATURE_STORE = "mlops:features:FeatureStore"


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> str:
    """This cloud's stacks only (conftest groups a stack's tests on one worker)."""
    return request.param


@pytest.fixture(scope="module")
def feast(stack, plan_for):
    return feast_smoke.rendered(plan_for(stack))


def check(feast) -> None:
    url = urlparse(str(feast.setting("registry", "path")))
    account, container = url.netloc.split(".")[0], url.path.lstrip("/").split("/")[0]
    missing = azure_missing(feast.plan, FEATURE_STORE, azure_feast_needs(account, container))
    if missing:
        raise SmokeFailure(f"{feast.component}: the roles the plan grants Feast's identity lack " + "; ".join(missing))


def test_feast_identity_holds_the_data_actions_its_calls_need_on_its_container(feast):
    assert feast.setting("registry", "registry_store_type") == "AzureRegistryStore"
    check(feast)


def test_a_reader_role_fails_naming_component_and_data_action(feast):
    data = {**feast.plan.data, "resources": [dict(r) for r in feast.plan.data["resources"]]}
    for resource in data["resources"]:
        if resource["type"] == "azure-native:authorization:RoleAssignment" and f"{FEATURE_STORE}::" in (resource["parent"] or ""):
            resource["inputs"] = {**resource["inputs"], "roleDefinitionId": resource["inputs"]["roleDefinitionId"].replace(
                "ba92f5b4-2d11-453d-a403-e96b0029c9fe", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")}
    broken = feast_smoke.RenderedFeast(Plan(data, "broken"), feast.workload, feast.feature_store_yaml, feast.config,
                                       feast.argv, feast.view)
    with pytest.raises(SmokeFailure) as failure:
        check(broken)
    assert f"{feast.plan.stack}: Feast" in str(failure.value) and "containers/blobs/write" in str(failure.value)
