"""The Azure runbook tests: the real Azure SDK clients against a fake ARM on 127.0.0.1, no real sleeps."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ops: local_http

from arm_fake import Arm, prod_outputs  # noqa: E402
from local_http import serving, write_outputs  # noqa: E402


@pytest.fixture(autouse=True)
def no_real_azure(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def arm():
    with serving(Arm()) as api:
        yield api


@pytest.fixture
def outputs_file(tmp_path):
    return write_outputs(tmp_path / "azure-prod-outputs.json", prod_outputs())
