"""Alias kept for one release (CHANGELOG.md): this module moved to `mlops_tools.engine.preview`."""

import sys

from mlops_tools.engine import preview as _moved

sys.modules[__name__] = _moved
