import sys

from mlops_tools.cli import FAST_EXIT_COMMANDS, main
from mlops_tools.engine.runtime import exit_now, tune_for_cli

if sys.argv[1:2] and sys.argv[1] in FAST_EXIT_COMMANDS:
    tune_for_cli()
    exit_now(main())
sys.exit(main())
