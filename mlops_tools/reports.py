"""Alias kept for one release (CHANGELOG.md): this module moved to `mlops_tools.policy.reports`."""

import sys

from mlops_tools.policy import reports as _moved

sys.modules[__name__] = _moved
