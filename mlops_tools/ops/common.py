"""What every operations command shares, whatever the cloud: the one-line errors, the step log, the main loop.

Why: every command must log each step with a timestamp to stderr, and turn every failure into one clear
line and a non-zero exit instead of a traceback. A cloud adds only how its SDK's errors read
(`run_main(..., cloud_errors, describe)`).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Callable

from mlops_tools.cmdline import EXIT_FAILED, EXIT_USAGE

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OpsError(Exception):
    """A failure the user can act on; its message is the one line they will see."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED):
        super().__init__(message)
        self.exit_code = exit_code


class UsageError(OpsError):
    """Bad input (arguments, outputs file): exit code 2."""

    def __init__(self, message: str):
        super().__init__(message, EXIT_USAGE)


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at emit time (redirections and test capture included)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):  # noqa: D401
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(name: str) -> logging.Logger:
    """Timestamped step log on stderr; stdout stays free for the report a user may pipe."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = _CurrentStderrHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z"))
    logger.addHandler(handler)
    return logger


def run_main(logger: logging.Logger, body: Callable[[], int], cloud_errors: tuple[type[BaseException], ...] = (),
             describe: Callable[[Any], str] = str) -> int:
    """Run a command body; every expected failure becomes one line on stderr and an exit code.

    `cloud_errors` are the cloud SDK's exception types; `describe` turns one into its one line.
    """
    try:
        return body()
    except OpsError as error:
        # One line, once: the step log and the error line share stderr, so the error is not logged too.
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except cloud_errors as error:
        print(f"error: {describe(error)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("error: interrupted; re-run the same command to continue (every step is idempotent)", file=sys.stderr)
        return 130
