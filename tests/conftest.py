"""Suite-wide collection rule: the smoke tests (tests/smoke/) run real servers and need system
packages, so `make test` does not collect them; `make smoke` sets MLOPS_SMOKE=1 and runs only them."""

import os

collect_ignore_glob = [] if os.environ.get("MLOPS_SMOKE") == "1" else ["smoke/*"]
