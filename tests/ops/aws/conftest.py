"""Fixtures for the operations tests: fake credentials so nothing can reach a real account."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """moto accepts any credentials; these make sure a mistake can never use a real profile."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    # The DR topology has VPCs and security groups, never a machine image; by default moto fills every
    # region's EC2 backend a test touches with ~870 public AMIs, each with a volume and a snapshot (50k
    # random ids, ~3 s of the suite's CPU).
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
