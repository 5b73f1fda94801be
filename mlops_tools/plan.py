"""Alias kept for one release (CHANGELOG.md): this module moved to `mlops_tools.engine.plan`."""

import sys

from mlops_tools.engine import plan as _moved

sys.modules[__name__] = _moved
