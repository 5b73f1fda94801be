import sys

from mlops_tools.ops.gcp.dr import main

sys.exit(main())
