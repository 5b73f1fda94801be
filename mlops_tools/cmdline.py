"""What every command of mlops_tools shares: the exit codes and argument parsing that returns a code.

Why a module of its own at the bottom layer: the validators, drift report and operations commands all
promise the same exit codes (0 ok, 1 the check ran and failed, 2 bad input) and must not import each
other to get them. It imports nothing from mlops_tools.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

EXIT_OK = 0
EXIT_FAILED = 1  # the operation ran and found a problem (unhealthy, precondition not met)
EXIT_USAGE = 2  # bad input: arguments, outputs file, missing tools
EXIT_INTERNAL = 3  # a bug in the tooling: one line, MLOPS_DEBUG=1 shows the traceback

# The preview's names for the same codes (README "Exit codes"): 1 policy, 2 config, 3 internal.
EXIT_POLICY = EXIT_FAILED
EXIT_CONFIG = EXIT_USAGE


def parse_args(parser: Any, argv: Optional[Sequence[str]]) -> Any:
    """argparse prints its one-line usage error and exits 2; return that code instead of raising."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exit_request:
        code = exit_request.code
        return code if isinstance(code, int) else EXIT_USAGE
