"""AWS IAM enforced on moto's server, deciding the way AWS decides for the calls our workloads make.

Why not moto's own evaluator as it is (moto 5.2.5, ``moto/iam/access_control.py``): it ignores the
``Condition`` of identity policies (an ``s3:prefix`` condition always passes), authorises S3 HeadBucket
as ``s3:HeadBucket`` (AWS: ``s3:ListBucket``), and checks every DynamoDB call against resource ``*``
(so a table-scoped policy can never allow anything). A least-privilege proof on top of that would pass
the very defects it is meant to catch. So this module keeps moto's server, its signature check, its
credentials and its policy store, and replaces only the decision with one that follows AWS's rules
for what our policies use:

- explicit Deny wins, then any Allow; ``Action``/``NotAction`` with ``*``/``?`` (case-insensitive),
  ``Resource``/``NotResource`` with wildcards;
- conditions ``String(Not)Equals``, ``String(Not)Like``, ``Bool``, ``Null``, ``Arn(Like|Equals)``, with
  ``IfExists``; a key the request does not carry fails the condition (AWS's rule), except ``Null``;
  an operator not modelled here stops the run with its name instead of guessing;
- S3: HeadBucket is ``s3:ListBucket`` (AWS S3 API reference, HeadBucket "Permissions"); a listing
  carries ``s3:prefix`` only when the request has a ``prefix`` parameter;
- S3 DeleteObjects is ``s3:DeleteObject`` on each key it names;
- DynamoDB: the resource is each table the request names (``TableName``, every table of
  ``RequestItems`` for the batch calls, ``ResourceArn`` for the tagging calls).

Only identity policies are evaluated (resource policies such as bucket policies are not), and each
decision is recorded, so a test can say which calls a workload made and which were refused.
"""

from __future__ import annotations

import fnmatch
import html
import json
import logging
import re
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional
from urllib.parse import parse_qs, urlsplit

import boto3
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam import access_control
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

ACCOUNT = "123456789012"  # moto's default account, also the one the offline preview's mocks use
SETUP_KEY = ("AKIASETUPSETUPSETUP0", "setup-secret")  # any key works while authorisation is off


class PolicyModelError(Exception):
    """A policy uses IAM syntax this evaluator does not model: the run stops rather than guess."""


@dataclass(frozen=True)
class Decision:
    principal: str
    action: str
    resource: str
    allowed: bool
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def describe(self) -> str:
        text = f"{self.action} on {self.resource}"
        if self.action == "s3:ListBucket":
            prefix = dict(self.context).get("s3:prefix")
            text += f" (s3:prefix={prefix[0]!r})" if prefix else " (no s3:prefix)"
        return text


# ------------------------------------------------------------------------------------- evaluation

def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    pattern = pattern.replace("[", "[[]")  # IAM has only * and ? as wildcards
    if not case_sensitive:
        return fnmatch.fnmatchcase(value.lower(), pattern.lower())
    return fnmatch.fnmatchcase(value, pattern)


_OPERATORS = {
    "StringEquals": lambda expected, actual: actual == expected,
    "StringNotEquals": lambda expected, actual: actual != expected,
    "StringLike": lambda expected, actual: _like(expected, actual),
    "StringNotLike": lambda expected, actual: not _like(expected, actual),
    "Bool": lambda expected, actual: actual.lower() == str(expected).lower(),
    "ArnEquals": lambda expected, actual: actual == expected,
    "ArnLike": lambda expected, actual: _like(expected, actual),
}
_NEGATED = {"StringNotEquals", "StringNotLike"}


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, list[str]]) -> bool:
    actual = context.get(key)
    if operator == "Null":
        return (actual is None) == (str(_as_list(expected)[0]).lower() == "true")
    if_exists = operator.endswith("IfExists")
    base = operator[:-len("IfExists")] if if_exists else operator
    if ":" in base or base not in _OPERATORS:
        raise PolicyModelError(f"condition operator {operator!r} (key {key}) is not modelled by the smoke evaluator")
    if actual is None:
        return if_exists
    test = _OPERATORS[base]
    expected_values = [str(v) for v in _as_list(expected)]
    if base in _NEGATED:
        return all(all(test(e, a) for e in expected_values) for a in actual)
    return any(test(e, a) for e in expected_values for a in actual)


def _matches(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, list[str]]) -> bool:
    if "NotAction" in statement:
        if any(_like(p, action, case_sensitive=False) for p in _as_list(statement["NotAction"])):
            return False
    elif not any(_like(p, action, case_sensitive=False) for p in _as_list(statement.get("Action", []))):
        return False
    if "NotResource" in statement:
        if any(_like(p, resource) for p in _as_list(statement["NotResource"])):
            return False
    elif not any(_like(p, resource) for p in _as_list(statement.get("Resource", []))):
        return False
    return all(_condition_holds(operator, key, expected, context)
               for operator, pairs in (statement.get("Condition") or {}).items()
               for key, expected in pairs.items())


def is_allowed(documents: Iterable[Mapping[str, Any]], action: str, resource: str,
               context: Optional[Mapping[str, list[str]]] = None) -> bool:
    """AWS's identity-policy logic: an explicit Deny wins, otherwise any matching Allow, otherwise denied."""
    allowed = False
    for document in documents:
        for statement in _as_list(document.get("Statement", [])):
            if _matches(statement, action, resource, context or {}):
                if statement.get("Effect") == "Deny":
                    return False
                allowed = True
    return allowed


# ------------------------------------------------------------------------------- request model

def _request_context(request: Any) -> dict[str, list[str]]:
    context: dict[str, list[str]] = {}
    if request._service == "s3":
        query = parse_qs(urlsplit(request._path).query, keep_blank_values=True)
        if "prefix" in query:
            context["s3:prefix"] = query["prefix"]
    return context


def _resources(request: Any, resource: str) -> list[str]:
    if request._service == "s3":
        if request._action == "s3:DeleteObject" and "delete" in parse_qs(urlsplit(request._path).query,
                                                                          keep_blank_values=True):
            # DeleteObjects: AWS authorises s3:DeleteObject on each key of the request.
            body = request._body.decode() if isinstance(request._body, bytes) else str(request._body or "")
            return [f"{resource}/{html.unescape(key)}" for key in re.findall(r"<Key>(.*?)</Key>", body)] or [resource]
        return [resource]
    if request._service != "dynamodb":
        return [resource]
    body = json.loads(request._body or b"{}")
    if "ResourceArn" in body:  # tagging calls name the table by ARN
        return [body["ResourceArn"]]
    names = list(body.get("RequestItems", {})) or ([body["TableName"]] if "TableName" in body else [])
    if not names:
        return [resource]
    return [f"arn:aws:dynamodb:{request._region}:{request.account_id}:table/{name}" for name in names]


def _action(request: Any) -> str:
    return "s3:ListBucket" if request._action == "s3:HeadBucket" else request._action


class AwsIamServer:
    """moto's server on 127.0.0.1 (a free port) in this process, with the decision above.

    Set up with ``client()`` (authorisation off), create principals with ``role_credentials()``, then
    ``enforce()``: from there on every request is signed, checked and recorded in ``decisions``.
    """

    def __init__(self, region: str = "us-east-1"):
        self.region = region
        self.decisions: list[Decision] = []
        self._lock = threading.Lock()
        self._server: Optional[ThreadedMotoServer] = None
        self._saved: Optional[tuple[Any, Any]] = None

    # lifecycle
    def __enter__(self) -> "AwsIamServer":
        self._saved = (settings.INITIAL_NO_AUTH_ACTION_COUNT, access_control.IAMRequestBase.check_action_permitted)
        settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
        server = self

        def check_action_permitted(request: Any, resource: str) -> None:
            server._decide(request, resource)

        access_control.IAMRequestBase.check_action_permitted = check_action_permitted
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        # moto's backends live in this process: start from an empty account, whatever ran before.
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=10).close()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.stop()
        if self._saved is not None:
            settings.INITIAL_NO_AUTH_ACTION_COUNT, access_control.IAMRequestBase.check_action_permitted = self._saved
        ActionAuthenticatorMixin.request_count = 0

    def enforce(self) -> None:
        ActionAuthenticatorMixin.request_count = 0
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0

    # clients and principals
    def client(self, service: str, credentials: Optional[Mapping[str, str]] = None) -> Any:
        creds = credentials or {"AWS_ACCESS_KEY_ID": SETUP_KEY[0], "AWS_SECRET_ACCESS_KEY": SETUP_KEY[1]}
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint,
                            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=creds.get("AWS_SESSION_TOKEN"))

    def role_credentials(self, role_name: str, policy_document: str) -> dict[str, str]:
        """A role holding exactly ``policy_document`` (the plan's, as written) and a session of it, the way
        IRSA hands a pod temporary role credentials. Call before ``enforce()``."""
        iam = self.client("iam")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
        iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName=role_name, PolicyName=f"{role_name}-plan", PolicyDocument=policy_document)
        session = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role_name}",
                                                 RoleSessionName="smoke")["Credentials"]
        return {"AWS_ACCESS_KEY_ID": session["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": session["SecretAccessKey"],
                "AWS_SESSION_TOKEN": session["SessionToken"]}

    def environment(self, credentials: Mapping[str, str]) -> dict[str, str]:
        """Environment for a process that should reach this server as that principal (boto3 and pyarrow)."""
        return {**credentials, "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region, "AWS_EC2_METADATA_DISABLED": "true"}

    def refused(self, principal_role: Optional[str] = None) -> list[Decision]:
        return [d for d in self.decisions if not d.allowed
                and (principal_role is None or f":assumed-role/{principal_role}/" in d.principal)]

    def calls(self, principal_role: str) -> set[tuple[str, str]]:
        return {(d.action, d.resource) for d in self.decisions if f":assumed-role/{principal_role}/" in d.principal}

    # the decision
    def _decide(self, request: Any, resource: str) -> None:
        action = _action(request)
        if action == "sts:GetCallerIdentity":
            return
        documents = [access_control.IAMPolicy(policy)._policy_json
                     for policy in request._access_key.collect_policies()]
        context = _request_context(request)
        allowed = True
        for each in _resources(request, resource):
            verdict = is_allowed(documents, action, each, context)
            with self._lock:
                self.decisions.append(Decision(request._access_key.arn, action, each, verdict,
                                               tuple((k, tuple(v)) for k, v in sorted(context.items()))))
            allowed = allowed and verdict
        if not allowed:
            request._raise_access_denied()


def denied(attempt: Any) -> bool:
    """Whether calling ``attempt()`` (a boto3 call) is refused by the server's IAM decision."""
    try:
        attempt()
    except Exception as error:  # botocore ClientError
        return "AccessDenied" in str(error) or "403" in str(error)
    return False


# ------------------------------------------------------------------------------------ the plan's roles

def service_account_role(plan: Any, subject: str) -> dict[str, Any]:
    """The plan's IAM role whose trust policy names ``system:serviceaccount:<ns>:<name>`` (IRSA)."""
    for role in plan.resources("aws:iam/role:Role"):
        if f'"{subject}"' in json.dumps(role["inputs"].get("assumeRolePolicy", "")).replace('\\"', '"'):
            return role
    raise PolicyModelError(f"stack {plan.stack}: no IAM role trusts {subject} in {plan.source}")


def role_policy(plan: Any, role: Mapping[str, Any]) -> str:
    """The inline policy document the plan attaches to ``role`` (exactly as rendered)."""
    documents = [r["inputs"]["policy"] for r in plan.resources("aws:iam/rolePolicy:RolePolicy")
                 if role["urn"] in r["dependencies"]]
    if len(documents) != 1:
        raise PolicyModelError(f"stack {plan.stack}: role {role['name']} has {len(documents)} inline policies, expected 1")
    document = documents[0]
    return document if isinstance(document, str) else json.dumps(document)
