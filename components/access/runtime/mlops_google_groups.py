"""Group detection for mlflow-oidc-auth with Google sign-in: who the user is from Google's userinfo, which
of the platform's groups they belong to from the Cloud Identity API, under the MLflow pod's own identity.

This file runs inside the MLflow image, not in the Pulumi program: the program ships it in ConfigMap
``mlflow-oidc-plugins`` (components/k8s/access.py), the server puts that directory on ``PYTHONPATH`` and
names this module in ``OIDC_GROUP_DETECTION_PLUGIN``. It imports only what the image already holds
(``requests`` and ``google-auth``, both in mlops_tools/smoke/requirements/mlflow-oidc.txt).

Why a plugin: Google ID tokens carry no groups claim. mlflow-oidc-auth 7.2.0 calls
``importlib.import_module(OIDC_GROUP_DETECTION_PLUGIN).get_user_groups(access_token)`` after the code
exchange (mlflow_oidc_auth/routers/auth.py) and uses the returned list instead of the claim; an exception
refuses the login ("Failed to update user/groups"), so every failure here fails closed.

1. Identity: the user's access token at the issuer's ``userinfo_endpoint`` (from ``OIDC_DISCOVERY_URL``;
   Google's is https://openidconnect.googleapis.com/v1/userinfo). The e-mail must be verified
   (``email_verified``) and the account must belong to the configured Workspace / Cloud Identity domain
   (``hd``, https://developers.google.com/identity/openid-connect/openid-connect#id_token-hd).
2. Groups: ``groups.memberships.searchTransitiveGroups`` (Cloud Identity API v1,
   https://cloud.google.com/identity/docs/reference/rest/v1/groups.memberships/searchTransitiveGroups):
   ``GET /v1/groups/-/memberships:searchTransitiveGroups?query=member_key_id == '<email>' &&
   'cloudidentity.googleapis.com/groups.discussion_forum' in labels`` (the query must name the member and
   a label), paged by ``nextPageToken``; each ``GroupRelation``'s ``groupKey.id`` is the group's e-mail.
   Nested groups count (transitive). The call uses the pod's Google service account through Application
   Default Credentials (GKE Workload Identity: the metadata server mints its token; no key file) with the
   single scope ``cloud-identity.groups.readonly``. Google requires the service account to hold the
   Workspace admin role *Groups Reader* (or be owner/manager of the role groups) and the edition to
   support transitive search (Workspace Enterprise / Cloud Identity Premium); neither is visible offline.
3. Only the platform's role groups are returned (``OIDC_GROUP_NAME`` + ``OIDC_ADMIN_GROUP_NAME``, in their
   configured spelling), so the plugin's database never stores the user's other groups.
"""

from __future__ import annotations

import os
import re

import google.auth
import google.auth.transport.requests
import requests

SCOPE = "https://www.googleapis.com/auth/cloud-identity.groups.readonly"
GROUP_LABEL = "cloudidentity.googleapis.com/groups.discussion_forum"
DEFAULT_ENDPOINT = "https://cloudidentity.googleapis.com"
TIMEOUT = 10
MAX_PAGES = 50  # 200 groups a page (the API's default page size): far beyond any real member
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$")  # no quote can reach the CEL query


class GroupLookupError(Exception):
    """The user cannot be identified or their groups cannot be read: the login is refused."""


def _wanted_groups() -> dict[str, str]:
    names = ",".join(os.environ.get(key, "") for key in ("OIDC_GROUP_NAME", "OIDC_ADMIN_GROUP_NAME"))
    return {name.strip().lower(): name.strip() for name in names.split(",") if name.strip()}


def verified_email(access_token: str) -> str:
    """The user's e-mail from the issuer's userinfo endpoint, checked for verification and domain."""
    discovery = requests.get(os.environ["OIDC_DISCOVERY_URL"], timeout=TIMEOUT)
    discovery.raise_for_status()
    response = requests.get(discovery.json()["userinfo_endpoint"], timeout=TIMEOUT,
                            headers={"Authorization": f"Bearer {access_token}"})
    if response.status_code != 200:
        raise GroupLookupError(f"userinfo answered {response.status_code}")
    claims = response.json()
    email, domain = str(claims.get("email", "")), os.environ["GOOGLE_HOSTED_DOMAIN"]
    if claims.get("email_verified") is not True:
        raise GroupLookupError(f"{email or 'the user'}: e-mail not verified")
    if claims.get("hd") != domain:
        raise GroupLookupError(f"{email}: account of {claims.get('hd')!r}, not of the hosted domain {domain!r}")
    if not EMAIL.match(email):
        raise GroupLookupError(f"userinfo e-mail {email!r} is not an address")
    return email


def transitive_groups(email: str) -> list[str]:
    """Every group ``email`` belongs to (directly or through other groups), as group e-mails."""
    credentials, _ = google.auth.default(scopes=[SCOPE])
    session = google.auth.transport.requests.AuthorizedSession(credentials)
    url = f"{os.environ.get('CLOUD_IDENTITY_ENDPOINT', DEFAULT_ENDPOINT).rstrip('/')}" \
          "/v1/groups/-/memberships:searchTransitiveGroups"
    params = {"query": f"member_key_id == '{email}' && '{GROUP_LABEL}' in labels"}
    groups: list[str] = []
    for _ in range(MAX_PAGES):
        response = session.get(url, params=params, timeout=TIMEOUT)
        if response.status_code != 200:
            raise GroupLookupError(f"searchTransitiveGroups for {email} answered {response.status_code}: "
                                   f"{response.text[:300]}")
        page = response.json()
        groups += [m["groupKey"]["id"] for m in page.get("memberships", []) if m.get("groupKey", {}).get("id")]
        if not page.get("nextPageToken"):
            return groups
        params["pageToken"] = page["nextPageToken"]
    raise GroupLookupError(f"searchTransitiveGroups for {email}: more than {MAX_PAGES} pages")


def get_user_groups(access_token: str) -> list[str]:
    """mlflow-oidc-auth's plugin entry point: the platform role groups the signed-in user belongs to."""
    wanted = _wanted_groups()
    member_of = {group.lower() for group in transitive_groups(verified_email(access_token))}
    return [name for key, name in wanted.items() if key in member_of]
