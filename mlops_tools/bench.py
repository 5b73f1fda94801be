"""Alias kept for one release (CHANGELOG.md): this module moved to `mlops_tools.review.bench`."""

import sys

from mlops_tools.review import bench as _moved

if __name__ == "__main__":
    sys.exit(_moved.main())
sys.modules[__name__] = _moved
