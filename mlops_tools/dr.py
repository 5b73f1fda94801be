"""Alias kept for one release (CHANGELOG.md): this module moved to `mlops_tools.ops.aws.dr`."""

import sys

from mlops_tools.ops.aws import dr as _moved

if __name__ == "__main__":
    sys.exit(_moved.main())
sys.modules[__name__] = _moved
