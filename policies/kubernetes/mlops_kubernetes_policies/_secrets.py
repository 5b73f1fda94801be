"""Spot credentials written in clear text into env values and ConfigMap data.

A name that says it holds a secret (PASSWORD, SECRET, TOKEN, API key, credentials) with a literal
value, or any value carrying a URL with a password (``postgresql://user:pw@host/db``) or a
``password: ...`` line in an embedded file. Names that only point at a secret (``*_FILE``,
``*_PATH``, ``*_NAME``, ``*_ARN``, ``*_ID``) and placeholders (``$(VAR)``, ``${VAR}``,
``{{ ... }}``) are not secrets.
"""
from __future__ import annotations

import re
from typing import Optional

from mlops_policy import is_unknown

SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)", re.IGNORECASE)
POINTER_SUFFIX = re.compile(r"(_FILE|_PATH|_DIR|_NAME|_ARN|_ID|_REF|_KEY_ID|_SECRET_NAME)$", re.IGNORECASE)
PLACEHOLDER = re.compile(r"^\s*(\$\([A-Za-z0-9_]+\)|\$\{[^}]+\}|\{\{.*\}\}|\[secret\])\s*$")
URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:(?P<pw>[^@\s/]+)@")
FILE_PASSWORD = re.compile(r"^\s*[\"']?(?P<key>[A-Za-z_]*(password|passwd|secret|token|api_?key)[A-Za-z_]*)[\"']?\s*[:=]\s*"
                           r"(?P<value>[^\s#]+)", re.IGNORECASE | re.MULTILINE)


def _placeholder(value: str) -> bool:
    return bool(PLACEHOLDER.match(value)) or value.strip() in ("", "''", '""', "null", "~")


def secret_problem(name: str, value) -> Optional[str]:
    """Why ``name=value`` holds a clear-text secret, or None."""
    if not isinstance(value, str) or is_unknown(value) or _placeholder(value):
        return None
    if SECRET_NAME.search(name or "") and not POINTER_SUFFIX.search(name or ""):
        return f"{name} holds a literal value"
    match = URL_PASSWORD.search(value)
    if match and not _placeholder(match["pw"]) and not match["pw"].startswith(("$", "{")):
        return f"{name} holds a URL with a password"
    for line in FILE_PASSWORD.finditer(value):
        if not _placeholder(line["value"]) and not line["value"].startswith(("$", "{", "/")) and \
                not POINTER_SUFFIX.search(line["key"]):
            return f"{name} contains '{line['key']}: ...' in clear text"
    return None
