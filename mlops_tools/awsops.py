"""Alias kept for one release (CHANGELOG.md): this module moved to `mlops_tools.ops.aws.clients`."""

import sys

from mlops_tools.ops.aws import clients as _moved

sys.modules[__name__] = _moved
