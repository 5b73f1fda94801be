"""The Azure runbook tests: the real Azure SDK clients against a fake ARM on 127.0.0.1, no real sleeps."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ops: local_http

from arm_fake import Arm, prod_outputs  # noqa: E402
from local_http import LocalApi  # noqa: E402


@pytest.fixture(autouse=True)
def no_real_azure(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def arm():
    state = Arm()
    api = LocalApi(state.route)
    api.state = state
    yield api
    api.close()


@pytest.fixture
def outputs_file(tmp_path):
    path = tmp_path / "azure-prod-outputs.json"
    path.write_text(json.dumps(prod_outputs()))
    return path
