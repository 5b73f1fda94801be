"""Shared plumbing for the AWS operations commands (backend bootstrap, DR runbook).

Why a module of its own: both commands must log every step with a timestamp to stderr,
reach any AWS-compatible endpoint, and turn every failure into one clear line and a
non-zero exit instead of a traceback. Doing that once keeps the two commands honest.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, Callable, Optional, Sequence

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$")

from mlops_tools.cmdline import EXIT_FAILED, EXIT_OK, EXIT_USAGE, parse_args  # noqa: F401 (re-exported)


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


def check_region(region: str, what: str = "region") -> str:
    if not region or not REGION_PATTERN.match(region):
        raise UsageError(f"{what} {region!r} is not an AWS region name (e.g. us-east-1)")
    return region


_SESSION: Optional[boto3.session.Session] = None
_CLIENTS: dict[tuple[Optional[str], str, str], Any] = {}


class Clients:
    """boto3 clients per (service, region), all pointed at the same endpoint when one is given.

    An explicit endpoint means an AWS-compatible service (moto, LocalStack, a proxy): S3 then
    needs path-style addressing because bucket names cannot become host names of an IP address.
    Clients are shared per process: building one parses its service model (tens of ms each).
    """

    def __init__(self, endpoint_url: Optional[str] = None):
        self.endpoint_url = endpoint_url

    def __call__(self, service: str, region: str) -> Any:
        global _SESSION
        key = (self.endpoint_url, service, region)
        if key not in _CLIENTS:
            if _SESSION is None:
                _SESSION = boto3.session.Session()
            config = Config(
                retries={"max_attempts": 5, "mode": "standard"},
                s3={"addressing_style": "path"} if self.endpoint_url else None,
            )
            _CLIENTS[key] = _SESSION.client(
                service, region_name=region, endpoint_url=self.endpoint_url, config=config
            )
        return _CLIENTS[key]


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def describe_failure(error: BaseException) -> str:
    """One line for any AWS/SDK failure, naming the operation and what the service said."""
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        operation = getattr(error, "operation_name", "request")
        return f"AWS {operation} failed: {info.get('Code', 'Error')}: {info.get('Message', '').strip()}"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return "no usable AWS credentials: configure a profile, environment variables or OIDC role"
    if isinstance(error, NoRegionError):
        return "no AWS region given"
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach the AWS endpoint: {error}"
    return f"AWS SDK error: {error}"


def run_main(logger: logging.Logger, body: Callable[[], int]) -> int:
    """Run a command body; every expected failure becomes one line on stderr and an exit code."""
    try:
        return body()
    except OpsError as error:
        logger.error("%s", error)
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except (ClientError, BotoCoreError) as error:
        message = describe_failure(error)
        logger.error("%s", message)
        print(f"error: {message}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("error: interrupted; re-run the same command to continue (every step is idempotent)", file=sys.stderr)
        return 130
