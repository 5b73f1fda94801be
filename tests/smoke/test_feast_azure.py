"""Feast on the Azure stacks with the rendered feature_store.yaml and server command: the registry through
Feast's AzureRegistryStore (the packages the upstream image lacks) and the abfs:// offline store on
Azurite over HTTPS under the rendered host names, the online store on Redis with TLS only and a password.
A connection string without TLS fails naming the component and the setting."""

from __future__ import annotations

import time

import pytest

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke import feast_azure, feast_smoke
from mlops_tools.smoke.procs import Processes

STACKS = feast_smoke.stacks("azure")
pytestmark = pytest.mark.skipif(not STACKS, reason="no Azure stack in SMOKE_STACKS")


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> str:
    """This cloud's stacks only (conftest groups a stack's tests on one worker)."""
    return request.param


@pytest.fixture(scope="module")
def feast(stack, plan_for):
    return feast_smoke.rendered(plan_for(stack))


def run(feast, tmp_path, ssl=True):
    with Processes(tmp_path / "logs") as procs:
        env, offline, _ = feast_azure.prepare(procs, feast, ssl=ssl)
        repo = feast_smoke.write_repo(tmp_path / "repo", feast, offline, None)
        try:
            return feast_smoke.run(procs, feast, repo, env, offline)
        except SmokeFailure as failure:
            raise feast_azure.explain(feast, failure) from None


def test_feast_with_the_azure_registry_store_and_redis_over_tls(feast, tmp_path):
    assert feast.setting("registry", "registry_store_type") == "AzureRegistryStore"
    assert feast.setting("online_store", "connection_string") == "${REDIS_CONNECTION_STRING}"
    started = time.monotonic()
    result = run(feast, tmp_path)
    feast_smoke.record(feast, result, started)


def test_a_redis_connection_string_without_tls_fails_naming_component_and_setting(feast, tmp_path):
    with pytest.raises(SmokeFailure) as failure:
        run(feast, tmp_path, ssl=False)
    message = str(failure.value)
    assert f"{feast.plan.stack}: Feast" in message and "online_store.connection_string" in message
    assert "feast-online-store/connection_string" in message and "ssl=true" in message
