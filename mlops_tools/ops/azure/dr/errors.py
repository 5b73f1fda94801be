"""How an Azure SDK failure reads as one line: the HTTP status, ARM's error code and message."""

from __future__ import annotations

from azure.core.exceptions import AzureError, HttpResponseError


def describe_failure(error: AzureError) -> str:
    if isinstance(error, HttpResponseError):
        code = getattr(error.error, "code", None) if error.error else None
        message = getattr(error.error, "message", None) if error.error else None
        return f"Azure refused: {error.status_code} {code or error.reason}: {message or error.message}"
    return f"Azure call failed: {error.message if hasattr(error, 'message') else error}"
