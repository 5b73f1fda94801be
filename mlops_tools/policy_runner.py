"""Alias kept for one release (CHANGELOG.md): this module moved to `mlops_tools.policy.runner`."""

import sys

from mlops_tools.policy import runner as _moved

sys.modules[__name__] = _moved
