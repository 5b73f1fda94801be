"""Shared previews of the in-cluster platform: one prod (GPU pools, internal LB), one dev (no GPU).

Each preview is the real component code run under the SDK's mock monitor with a Kubernetes
provider; session scope keeps the suite to two previews.
"""

from __future__ import annotations

import pytest
from k8s_helpers import platform_args, preview_platform

from mlops_tools.engine.preview import PreviewResult


@pytest.fixture(scope="session")
def prod() -> PreviewResult:
    return preview_platform(platform_args("prod", gpu=True), "prod")


@pytest.fixture(scope="session")
def dev() -> PreviewResult:
    return preview_platform(platform_args("dev", gpu=False), "dev")
