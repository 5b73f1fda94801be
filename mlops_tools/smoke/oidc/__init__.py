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
from typing import Optional
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


def start_oidc_provider(procs: Processes, clients: list[dict], accounts: dict[str, dict], groups_claim: Optional[str]) -> OidcProvider:
    """``groups_claim`` None: the tokens carry no groups (Google's shape)."""
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


def code_flow_id_token(provider: OidcProvider, client_id: str, client_secret: str, redirect_uri: str,
                       account: str, scope: str) -> dict:
    """Act as a relying party the way Grafana does (authorization code + PKCE S256, client_secret_basic):
    sign in as ``account`` on the provider's own pages, redeem the code, and return the ID token's claims
    after checking its signature against the provider's JWKS, its audience, issuer and nonce."""
    import base64
    import hashlib
    from urllib.parse import parse_qs, urlencode, urlparse

    import jwt  # PyJWT, pinned in requirements.txt

    discovery = requests.get(provider.discovery_url, timeout=30).json()
    verifier, state, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    session = requests.Session()
    url = discovery["authorization_endpoint"] + "?" + urlencode({
        "client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope,
        "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"})
    page = session.get(url, allow_redirects=False, timeout=60)
    for _ in range(12):  # provider redirects, its login form, its consent form, back to the relying party
        location = page.headers.get("location")
        if location and urljoin(page.url, location).startswith(redirect_uri):
            break
        if location:
            page = session.get(urljoin(page.url, location), allow_redirects=False, timeout=60)
            continue
        action = _FORM_ACTION.search(page.text)
        if action is None:
            raise SmokeFailure(f"login as {account!r}: no form and no redirect at {page.url} ({page.status_code}): "
                               f"{page.text[:300]}")
        data = dict(_HIDDEN.findall(page.text))
        data.update({"login": account, "password": "any"} if 'name="login"' in page.text else {})
        page = session.post(urljoin(page.url, action.group(1)), data=data, allow_redirects=False, timeout=60)
    else:
        raise SmokeFailure(f"login as {account!r} never came back to {redirect_uri}")
    query = parse_qs(urlparse(urljoin(page.url, page.headers["location"])).query)
    if query.get("state") != [state] or "code" not in query:
        raise SmokeFailure(f"login as {account!r}: the provider answered {query}")
    token = requests.post(discovery["token_endpoint"], auth=(client_id, client_secret), timeout=60, data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": redirect_uri,
        "code_verifier": verifier})
    if token.status_code != 200:
        raise SmokeFailure(f"token request for {account!r}: {token.status_code} {token.text[:300]}")
    id_token = token.json()["id_token"]
    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(id_token, key.key, algorithms=discovery["id_token_signing_alg_values_supported"],
                        audience=client_id, issuer=provider.issuer)
    if claims.get("nonce") != nonce:
        raise SmokeFailure(f"ID token for {account!r} carries another nonce")
    return claims
