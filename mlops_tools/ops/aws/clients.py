"""Shared plumbing for the AWS operations commands (backend bootstrap, DR runbook).

Why a module of its own: both commands must reach any AWS-compatible endpoint, and say every
AWS SDK failure in one clear line with a non-zero exit instead of a traceback. The cloud-neutral
part (errors, step log, main loop) is `mlops_tools.ops.common`.
"""

from __future__ import annotations

import difflib
import logging
import re
from typing import Any, Callable, Optional

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

from mlops_tools.cmdline import EXIT_FAILED, EXIT_OK, EXIT_USAGE, parse_args
from mlops_tools.ops.common import OpsError, UsageError, configure_logging
from mlops_tools.ops.common import run_main as _run_main

# Re-exported for the AWS commands (bootstrap, dr) that import their plumbing from here.
__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "Clients", "OpsError", "UsageError", "check_region",
           "configure_logging", "describe_failure", "error_code", "parse_args", "run_main"]

REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$")


def check_region(region: str, what: str = "region") -> str:
    """A region AWS has (botocore's bundled endpoint data), or a UsageError naming the nearest ones."""
    from stacks.regions import regions_for

    known = regions_for("aws")
    if region in known:
        return region
    close = difflib.get_close_matches(region or "", sorted(known), n=3, cutoff=0.6)
    shape = "is not an AWS region name" if not region or not REGION_PATTERN.match(region) else "is not an AWS region"
    hint = f"; did you mean {', '.join(close)}?" if close else f" (e.g. {', '.join(sorted(known)[:3])})"
    raise UsageError(f"{what} {region!r} {shape}{hint}")


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
    """Run a command body; every expected failure (AWS SDK errors included) becomes one line on stderr and an exit code."""
    return _run_main(logger, body, (ClientError, BotoCoreError), describe_failure)
