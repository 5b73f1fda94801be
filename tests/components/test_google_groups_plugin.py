"""The MLflow group-detection plugin for Google sign-in (components/access/runtime/mlops_google_groups.py),
against the replayed metadata server + Cloud Identity API (mlops_tools/smoke/google_identity/server.py over
real HTTP, in a thread): groups across pages, only the platform's groups, and every failure refuses."""

from __future__ import annotations

import importlib.util
import json
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


plugin = _load(ROOT / "components/access/runtime/mlops_google_groups.py", "mlops_google_groups")
replay = _load(ROOT / "mlops_tools/smoke/google_identity/server.py", "google_identity_replay")


@pytest.fixture()
def google(tmp_path, monkeypatch):
    from google.auth.compute_engine import _metadata

    replay.Handler.calls_log = tmp_path / "calls.jsonl"
    server = ThreadingHTTPServer(("127.0.0.1", 0), replay.Handler)
    # shutdown() waits up to one poll interval for the serve loop (default 0.5 s, most of each test's time).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(_metadata, "_GCE_METADATA_HOST", host)  # read by google-auth at import
    for key, value in {"GCE_METADATA_IP": host, "CLOUD_IDENTITY_ENDPOINT": f"http://{host}", "HOME": str(tmp_path),
                       "OIDC_GROUP_NAME": "mlflow-readers@example.com,MLflow-Editors@example.com",
                       "OIDC_ADMIN_GROUP_NAME": "mlflow-admins@example.com", "GOOGLE_HOSTED_DOMAIN": "example.com",
                       "OIDC_DISCOVERY_URL": "https://accounts.example/.well-known/openid-configuration"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    yield replay.Handler.calls_log
    server.shutdown()
    server.server_close()


class _Response:
    def __init__(self, status, body):
        self.status_code, self._body = status, body

    def json(self):
        return self._body

    def raise_for_status(self):
        if self.status_code >= 400:
            raise RuntimeError(self.status_code)


def _userinfo(monkeypatch, status=200, **claims):
    """The issuer's discovery and userinfo answers (Google's claim names) for one access token."""
    def get(url, headers=None, timeout=None):
        if url.endswith("/openid-configuration"):
            return _Response(200, {"userinfo_endpoint": "https://accounts.example/userinfo"})
        assert headers == {"Authorization": "Bearer user-token"}
        return _Response(status, claims)
    monkeypatch.setattr(plugin.requests, "get", get)


def test_transitive_groups_follow_pages_under_the_pods_token_with_the_groups_scope_only(google):
    assert plugin.transitive_groups("eddie@example.com") == [
        "ml-engineering@example.com", "mlflow-editors@example.com", "all-staff@example.com", "grafana-editors@example.com"]
    calls = [json.loads(line) for line in google.read_text().splitlines()]
    assert [c["scopes"] for c in calls if c["path"].endswith("/token")] == [[plugin.SCOPE]]
    assert [c["page_start"] for c in calls if c["path"].endswith("searchTransitiveGroups")] == [0, 2]


def test_only_the_platform_groups_come_back_in_their_configured_spelling(google, monkeypatch):
    _userinfo(monkeypatch, email="eddie@example.com", email_verified=True, hd="example.com")
    assert plugin.get_user_groups("user-token") == ["MLflow-Editors@example.com"]
    _userinfo(monkeypatch, email="olga@example.com", email_verified=True, hd="example.com")
    assert plugin.get_user_groups("user-token") == []


@pytest.mark.parametrize("status,claims,why", [
    (401, {}, "userinfo answered 401"),
    (200, {"email": "rita@example.com", "email_verified": False, "hd": "example.com"}, "not verified"),
    (200, {"email": "rita@example.com", "email_verified": True}, "not of the hosted domain"),
    (200, {"email": "rita@other.example", "email_verified": True, "hd": "other.example"}, "not of the hosted domain"),
    (200, {"email": "x' || true || '@example.com", "email_verified": True, "hd": "example.com"}, "not an address"),
])
def test_an_unproven_identity_is_refused_before_any_group_lookup(google, monkeypatch, status, claims, why):
    _userinfo(monkeypatch, status, **claims)
    with pytest.raises(plugin.GroupLookupError, match=why):
        plugin.get_user_groups("user-token")
    assert not google.exists() or "searchTransitiveGroups" not in google.read_text()


def test_a_denied_group_lookup_refuses_the_login(google, monkeypatch):
    # A token without a Cloud Identity scope: the API answers 403 PERMISSION_DENIED, the plugin raises.
    monkeypatch.setattr(plugin, "SCOPE", "https://www.googleapis.com/auth/userinfo.email")
    _userinfo(monkeypatch, email="rita@example.com", email_verified=True, hd="example.com")
    with pytest.raises(plugin.GroupLookupError, match="answered 403"):
        plugin.get_user_groups("user-token")
