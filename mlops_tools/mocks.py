"""Alias kept for one release (CHANGELOG.md): this module moved to `mlops_tools.engine.mocks`."""

import sys

from mlops_tools.engine import mocks as _moved

sys.modules[__name__] = _moved
