"""Shared previews of the in-cluster platform: one prod (GPU pools, internal LB), one dev (no GPU).

Each preview is the real component code run under the SDK's mock monitor with a Kubernetes
provider; built once per test run (tests/shared.py), whichever worker runs the modules, the suite keeps to two.
"""

from __future__ import annotations

import pytest
from k8s_helpers import platform_args, preview_platform

from mlops_tools.engine.preview import PreviewResult
from tests.shared import shared


@pytest.fixture(scope="session")
def prod() -> PreviewResult:
    return shared("k8s/platform", ["prod"], lambda: preview_platform(platform_args("prod", gpu=True), "prod"))


@pytest.fixture(scope="session")
def dev() -> PreviewResult:
    return shared("k8s/platform", ["dev"], lambda: preview_platform(platform_args("dev", gpu=False), "dev"))
