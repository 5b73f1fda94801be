"""``mlops:pipelines:DriftMonitoring``: the drift job and, when ``retrain`` is on, the drift -> retraining
trigger, in the pipelines namespace that ``RetrainingPipeline`` creates (pass it as ``depends_on``: the
namespace, its default deny, and Argo's CRDs come from there).

What the monitoring stack needs from this (the stack builder passes them to ``MonitoringStackArgs``):
``monitoring_inputs()`` -> the Pushgateway scrape target, the ``retrain`` receiver and route, and the
Alertmanager file holding the webhook's bearer token (``DriftMonitoring.webhook_token``, generated here per
stack and secret: the plan shows ``[secret]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.k8s import AlertReceiver, AlertRoute, ScrapeTarget
from components.k8s._common import create_manifest
from components.pipelines import RetrainingArgs
from components.pipelines import events
from components.pipelines.drift import DriftArgs, drift_cron_workflow, pushgateway_manifests, pushgateway_scrape_target
from components.pipelines.drift_network import drift_policies, trigger_policies

EVENTS_RELEASE = "argo-events"


@dataclass(frozen=True)
class DriftMonitoringArgs:
    pipeline: RetrainingArgs
    drift: DriftArgs
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


def monitoring_inputs(args: DriftMonitoringArgs, webhook_token: Optional[pulumi.Input[str]] = None) -> tuple[
        list[ScrapeTarget], list[AlertReceiver], list[AlertRoute], Mapping[str, pulumi.Input[str]]]:
    """(scrape targets, receivers, routes, Alertmanager files). With ``retrain`` the receiver sends the
    token from its file, so the token (``DriftMonitoring.webhook_token``) is required."""
    namespace = args.pipeline.namespace
    if not args.drift.retrain:
        return [pushgateway_scrape_target(namespace)], [], [], {}
    if webhook_token is None:
        raise ValueError("monitoring_inputs: retrain is on, so the webhook's bearer token is required "
                         "(DriftMonitoring.webhook_token)")
    return ([pushgateway_scrape_target(namespace)], [events.alert_receiver(namespace)], [events.alert_route()],
            {events.WEBHOOK_TOKEN_FILE: webhook_token})


_create = create_manifest  # (moved to components/k8s/_common.py: the serving request log uses it too)


class DriftMonitoring(pulumi.ComponentResource):
    def __init__(self, name: str, args: DriftMonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:pipelines:DriftMonitoring", name, None, opts)
        namespace = args.pipeline.namespace
        # Render (and check) everything first: bad input fails before anything is registered.
        cron = drift_cron_workflow(args.pipeline, args.drift)
        gateway = pushgateway_manifests(namespace)
        policies = drift_policies(namespace) + (trigger_policies(namespace) if args.drift.retrain else [])
        base = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        netpols = [_create(f"{name}-{p['metadata']['name']}", p, base) for p in policies]
        after_policies = pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, *netpols])
        for manifest in gateway:
            _create(f"{name}-pushgateway-{manifest['kind'].lower()}", manifest, after_policies)
        _create(f"{name}-cron", cron, base)
        self.args = args
        self.webhook_token: Optional[pulumi.Output[str]] = None
        outputs = {"namespace": namespace, "schedule": args.drift.schedule, "retrain": args.drift.retrain}
        if args.drift.retrain:
            # The webhook's bearer token: per stack, secret in state; `pulumi state taint` of this resource and
            # `pulumi up` rotates it in both Secrets (Alertmanager reads its file at every request).
            token = random.RandomPassword(f"{name}-webhook-token", length=48, special=False,
                                          opts=pulumi.ResourceOptions(parent=self))
            self.webhook_token = pulumi.Output.secret(token.result)
            secret = events.token_secret(namespace)
            token_secret = k8s.core.v1.Secret(
                f"{name}-webhook-token", metadata=secret["metadata"], type=secret["type"],
                string_data={events.WEBHOOK_TOKEN_KEY: self.webhook_token},
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on),
                                            additional_secret_outputs=["stringData", "data"]))
            release = k8s.helm.v3.Release(
                f"{name}-argo-events", name=EVENTS_RELEASE, chart=events.EVENTS_CHART,
                version=events.EVENTS_CHART_VERSION, repository_opts={"repo": events.EVENTS_CHART_REPOSITORY},
                namespace=namespace, create_namespace=False, values=events.events_values(namespace), atomic=True,
                cleanup_on_fail=True, timeout=600, max_history=10, opts=after_policies)
            rbac = [_create(f"{name}-{m['kind'].lower()}-{m['metadata']['name']}", m, base)
                    for m in events.sensor_rbac(namespace)]
            after_release = pulumi.ResourceOptions(parent=self, depends_on=[release, *rbac, token_secret])
            for manifest in (events.event_bus(namespace), events.event_source(namespace), events.sensor(args.pipeline)):
                _create(f"{name}-{manifest['kind'].lower()}", manifest, after_release)
            outputs["webhook"] = events.webhook_url(namespace)
        self.register_outputs(outputs)
