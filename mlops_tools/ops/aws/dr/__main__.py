import sys

from mlops_tools.ops.aws.dr import main

sys.exit(main())
