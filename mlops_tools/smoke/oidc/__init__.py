"""A real OpenID provider on 127.0.0.1 for the SSO smoke proof, and a browser-like login against it.

``start_oidc_provider`` runs panva's ``oidc-provider`` (npm, pinned in ``requirements/oidc-provider``)
with the clients and accounts a test names; ``browser_login`` walks the authorization-code flow the way
a browser does (follow redirects, submit the provider's own login and consent forms) and returns the
relying party's session, so the test then acts as that person.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.envs import npm_set, system_program
from mlops_tools.smoke.procs import HOST, Proc, Processes, free_port

SCRIPT = Path(__file__).resolve().parent / "provider.mjs"


@dataclass
class OidcProvider:
    issuer: str
    proc: Proc

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"


def start_oidc_provider(procs: Processes, clients: list[dict], accounts: dict[str, dict], groups_claim: str) -> OidcProvider:
    work = npm_set("oidc-provider")  # node resolves 'oidc-provider' from the script's directory
    script = work / SCRIPT.name
    script.write_text(SCRIPT.read_text())
    port = free_port()
    config = {"port": port, "clients": clients, "accounts": accounts, "groupsClaim": groups_claim,
              "cookieKey": secrets.token_urlsafe(32)}
    proc = procs.start("oidc-provider", [system_program("node"), str(script)],
                       {"OIDC_SMOKE_CONFIG": json.dumps(config), "PATH": "/usr/bin:/bin", "NODE_ENV": "development"},
                       cwd=work)
    issuer = f"http://{HOST}:{port}"
    procs.wait_url(proc, f"{issuer}/.well-known/openid-configuration", timeout=60, ready=lambda status: status == 200)
    return OidcProvider(issuer, proc)


_FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"', re.IGNORECASE)
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.IGNORECASE)


def _submit(session: requests.Session, page: requests.Response, fields: dict[str, str]) -> requests.Response:
    action = _FORM_ACTION.search(page.text)
    if action is None:
        raise SmokeFailure(f"no form on {page.url} (status {page.status_code}): {page.text[:300]}")
    data = dict(_HIDDEN.findall(page.text))
    data.update(fields)
    return session.post(urljoin(page.url, action.group(1)), data=data, allow_redirects=True, timeout=60)


def browser_login(app_login_url: str, account: str) -> requests.Session:
    """Sign in to the relying party at ``app_login_url`` as ``account``; returns the logged-in session."""
    session = requests.Session()
    page = session.get(app_login_url, allow_redirects=True, timeout=60)
    for _ in range(4):  # login form, then consent form, then back at the relying party
        if "/interaction/" not in page.url:
            break
        fields = {"login": account, "password": "any"} if 'name="login"' in page.text else {}
        page = _submit(session, page, fields)
    if "/interaction/" in page.url or page.status_code >= 400 or "error=" in page.url:
        raise SmokeFailure(f"login as {account!r} did not come back to the application: {page.url} "
                           f"{page.status_code} {page.text[:300]}")
    return session
