"""An Argo Events webhook EventSource takes only requests that carry its bearer token.

A webhook EventSource turns any HTTP request to its endpoint into an event, and its Sensors act on events
(the platform's starts a retraining Workflow). Without ``authSecret`` anything that reaches the Service
(every pod its NetworkPolicy admits, or the world behind an Ingress) can trigger them. With it, Argo Events
(v1.9.10, ``WebhookContext.authSecret``) answers 401 unless ``Authorization: Bearer <the Secret's value>``
arrives. Only the generic ``webhook`` source is checked: the others (GitHub, GitLab, ...) authenticate with
their own provider secrets.
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, is_unknown

from .._kinds import kube_types

EVENT_SOURCE_TYPES = kube_types(("argoproj.io", "EventSource"))


def _selector_problem(selector) -> str | None:
    if not isinstance(selector, dict):
        return "names no Secret"
    missing = [field for field in ("name", "key") if not selector.get(field)]
    return f"has no {' or '.join(missing)}" if missing else None


def check(resource, config):
    webhooks = (resource.props.get("spec") or {}).get("webhook")
    if is_unknown(webhooks):
        yield cannot_check("spec.webhook")
        return
    for event, context in sorted((webhooks or {}).items()):
        if is_unknown(context):
            yield cannot_check(f"spec.webhook.{event}")
            continue
        selector = (context or {}).get("authSecret")
        if is_unknown(selector):
            yield cannot_check(f"spec.webhook.{event}.authSecret")
            continue
        if selector is None:
            yield (f"webhook {event!r} (endpoint {(context or {}).get('endpoint')}) accepts requests without a "
                   f"bearer token: spec.webhook.{event}.authSecret is not set.")
            continue
        problem = _selector_problem(selector)
        if problem:
            yield f"webhook {event!r}: authSecret {problem} (a Secret name and key holding the bearer token)."


RULE = ResourceRule(
    name="kubernetes-argo-events-webhook-require-auth",
    description="An Argo Events webhook EventSource must require a bearer token (authSecret).",
    severity="high",
    enforcement="mandatory",
    remediation="Set spec.webhook.<event>.authSecret to a Secret key holding a generated token, and send it from "
                "the caller (Alertmanager: http_config.authorization.credentials_file); see docs/pipelines.md.",
    frameworks=SOC2("CC6.1", "CC6.6") + ISO27001("A.8.5"),
    tags=("access",),
    resource_types=EVENT_SOURCE_TYPES,
    check=check,
)
