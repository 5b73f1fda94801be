"""Alias kept for one release (CHANGELOG.md): this module moved to `mlops_tools.review.diff`."""

import sys

from mlops_tools.review import diff as _moved

sys.modules[__name__] = _moved
