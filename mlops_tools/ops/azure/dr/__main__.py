import sys

from mlops_tools.ops.azure.dr import main

sys.exit(main())
