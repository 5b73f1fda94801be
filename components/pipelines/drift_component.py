"""``mlops:pipelines:DriftMonitoring``: the drift job and, when ``retrain`` is on, the drift -> retraining
trigger, in the pipelines namespace that ``RetrainingPipeline`` creates (pass it as ``depends_on``: the
namespace, its default deny, and Argo's CRDs come from there).

What the monitoring stack needs from this (the stack builder passes them to ``MonitoringStackArgs``):
``monitoring_inputs()`` -> the Pushgateway scrape target, and the ``retrain`` receiver and route.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

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


def monitoring_inputs(args: DriftMonitoringArgs) -> tuple[list[ScrapeTarget], list[AlertReceiver], list[AlertRoute]]:
    namespace = args.pipeline.namespace
    if not args.drift.retrain:
        return [pushgateway_scrape_target(namespace)], [], []
    return [pushgateway_scrape_target(namespace)], [events.alert_receiver(namespace)], [events.alert_route()]


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
        outputs = {"namespace": namespace, "schedule": args.drift.schedule, "retrain": args.drift.retrain}
        if args.drift.retrain:
            release = k8s.helm.v3.Release(
                f"{name}-argo-events", name=EVENTS_RELEASE, chart=events.EVENTS_CHART,
                version=events.EVENTS_CHART_VERSION, repository_opts={"repo": events.EVENTS_CHART_REPOSITORY},
                namespace=namespace, create_namespace=False, values=events.events_values(namespace), atomic=True,
                cleanup_on_fail=True, timeout=600, max_history=10, opts=after_policies)
            rbac = [_create(f"{name}-{m['kind'].lower()}-{m['metadata']['name']}", m, base)
                    for m in events.sensor_rbac(namespace)]
            after_release = pulumi.ResourceOptions(parent=self, depends_on=[release, *rbac])
            for manifest in (events.event_bus(namespace), events.event_source(namespace), events.sensor(args.pipeline)):
                _create(f"{name}-{manifest['kind'].lower()}", manifest, after_release)
            outputs["webhook"] = events.webhook_url(namespace)
        self.register_outputs(outputs)
