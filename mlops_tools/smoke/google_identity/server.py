"""Google's metadata server (Workload Identity's token source) and the Cloud Identity API's
``groups.memberships.searchTransitiveGroups``, replaying ``recorded.json`` on 127.0.0.1 for make smoke.

``python server.py PORT CALLS_LOG``. Behaviour kept from Google's documentation (sources in recorded.json):

- metadata: every request needs ``Metadata-Flavor: Google`` (else 403) and every response carries it;
  ``/`` answers the client libraries' ping; ``instance/service-accounts/default/?recursive=true`` the
  account; ``.../token?scopes=a,b`` a fresh opaque access token for exactly those scopes;
- Cloud Identity: ``GET /v1/groups/-/memberships:searchTransitiveGroups``; a bearer token this server
  minted (else 401 UNAUTHENTICATED) with ``cloud-identity.groups.readonly`` or a broader documented scope
  (else 403 PERMISSION_DENIED); the query must name the member *and* a label (else 400 INVALID_ARGUMENT);
  pages of ``page_size`` GroupRelations with ``nextPageToken``.

Every request is appended to CALLS_LOG as one JSON line (path, query, which token and scopes) so a test can
show which identity asked for what. Standard library only.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

RECORDED = json.loads((Path(__file__).resolve().parent / "recorded.json").read_text())
SEARCH = "/v1/groups/-/memberships:searchTransitiveGroups"
ACCOUNT = "/computeMetadata/v1/instance/service-accounts/default/"
# searchTransitiveGroups "Authorization scopes" (any one of them), from the method's reference page.
GROUP_SCOPES = {"https://www.googleapis.com/auth/cloud-identity.groups.readonly",
                "https://www.googleapis.com/auth/cloud-identity.groups",
                "https://www.googleapis.com/auth/cloud-identity", "https://www.googleapis.com/auth/cloud-platform"}
QUERY = re.compile(r"^member_key_id == '([^']+)' && '([^']+)' in labels$")
LABEL = "cloudidentity.googleapis.com/groups.discussion_forum"
TOKENS: dict[str, list[str]] = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    calls_log: Path

    def log_message(self, *args) -> None:  # the calls log says it all
        return

    def _reply(self, status: int, body, metadata: bool = False) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/text" if isinstance(body, str) else "application/json")
        if metadata:
            self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: int, status: str, message: str) -> None:
        self._reply(code, {"error": {"code": code, "message": message, "status": status}})

    def _record(self, **fields) -> None:
        with LOCK, open(self.calls_log, "a") as handle:
            handle.write(json.dumps({"path": urlsplit(self.path).path, **fields}) + "\n")

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path == "/" or url.path.startswith("/computeMetadata/"):
            return self._metadata(url.path, query)
        if url.path == SEARCH:
            return self._search(query)
        self._record(status=404)
        return self._error(404, "NOT_FOUND", f"no such method {url.path}")

    def _metadata(self, path: str, query: dict) -> None:
        meta = RECORDED["metadata"]
        if self.headers.get("Metadata-Flavor") != "Google":
            self._record(status=403)
            return self._reply(403, "Missing Metadata-Flavor:Google header.", metadata=True)
        if path == "/":
            return self._reply(200, "computeMetadata/\n", metadata=True)
        if path == ACCOUNT and query.get("recursive") == "true":
            return self._reply(200, meta["service_account_info"], metadata=True)
        if path == ACCOUNT + "token":
            scopes = sorted(filter(None, query.get("scopes", "").split(","))) or meta["service_account_info"]["scopes"]
            token = f"ya29.smoke-{secrets.token_urlsafe(24)}"
            with LOCK:
                TOKENS[token] = scopes
            self._record(status=200, minted_for=meta["service_account_info"]["email"], scopes=scopes)
            return self._reply(200, {"access_token": token, **meta["token"]}, metadata=True)
        if path == "/computeMetadata/v1/project/project-id":
            return self._reply(200, meta["project_id"], metadata=True)
        self._record(status=404)
        return self._reply(404, "Not found", metadata=True)

    def _search(self, query: dict) -> None:
        recorded = RECORDED["searchTransitiveGroups"]
        auth = self.headers.get("Authorization", "")
        scopes = TOKENS.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if scopes is None:
            self._record(status=401, query=query.get("query"))
            return self._error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if not GROUP_SCOPES & set(scopes):
            self._record(status=403, query=query.get("query"), scopes=scopes)
            return self._error(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.")
        match = QUERY.match(query.get("query", ""))
        if match is None:
            self._record(status=400, query=query.get("query"))
            return self._error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")
        member, label = match.groups()
        relations = [] if label != LABEL else [
            {"groupKey": {"id": group}, **recorded["groups"][group], "labels": {LABEL: ""},
             "relationType": relation, "roles": [{"role": "MEMBER"}]}
            for group, relation in recorded["members"].get(member, [])]
        start = int(query.get("pageToken") or 0)
        page = relations[start:start + recorded["page_size"]]
        more = start + recorded["page_size"] < len(relations)
        self._record(status=200, query=query["query"], scopes=scopes, page_start=start, returned=len(page))
        return self._reply(200, {"memberships": page, **({"nextPageToken": str(start + len(page))} if more else {})})


def main(port: int, calls_log: str) -> None:
    Handler.calls_log = Path(calls_log)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"google identity replay on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
