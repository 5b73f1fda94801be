"""The GCP runbook tests: Google's API client (its shipped discovery documents) against a fake on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ops: local_http

from gcp_fake import Google, prod_outputs  # noqa: E402
from local_http import serving, write_outputs  # noqa: E402


@pytest.fixture(autouse=True)
def no_real_google(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-credentials.json"))
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)


@pytest.fixture
def google():
    with serving(Google()) as api:
        yield api


@pytest.fixture
def outputs_file(tmp_path):
    return write_outputs(tmp_path / "gcp-prod-outputs.json", prod_outputs())
