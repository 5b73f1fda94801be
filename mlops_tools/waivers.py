"""Alias kept for one release (CHANGELOG.md): this module moved to `mlops_tools.policy.waivers`."""

import sys

from mlops_tools.policy import waivers as _moved

sys.modules[__name__] = _moved
