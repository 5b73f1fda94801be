"""The GCP runbook tests: Google's API client (its shipped discovery documents) against a fake on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ops: local_http

from gcp_fake import Google, prod_outputs  # noqa: E402
from local_http import LocalApi  # noqa: E402


@pytest.fixture(autouse=True)
def no_real_google(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-credentials.json"))
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)


@pytest.fixture
def google():
    state = Google()
    api = LocalApi(state.route)
    api.state = state
    yield api
    api.close()


@pytest.fixture
def outputs_file(tmp_path):
    path = tmp_path / "gcp-prod-outputs.json"
    path.write_text(json.dumps(prod_outputs()))
    return path
