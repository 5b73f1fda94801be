"""MonitoringStack: kube-prometheus-stack (Prometheus, Alertmanager, Grafana) plus the platform's views.

- One pinned Helm chart (``helm.v3.Release``): CRDs, operator, Prometheus with persistent storage
  and retention, Alertmanager with routes from config, Grafana whose admin password is generated
  into a Secret the chart reads (``admin.existingSecret``), never a chart value.
- ServiceMonitors for MLflow, Feast and the DCGM exporter are chart values
  (``prometheus.additionalServiceMonitors``), so they are created after the CRDs in the same release.
- Dashboards are ConfigMaps the Grafana sidecar loads (training pools, spot interruptions, MLflow).
- node-exporter runs in the ``node-agents`` namespace (it needs the host's /proc and /sys), so the
  ``monitoring`` namespace keeps the baseline Pod Security level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.k8s import (
    ACCELERATOR_LABEL,
    ALERTMANAGER_FILES_SECRET,
    ALERTMANAGER_SERVICE_ACCOUNT,
    CAPACITY_TYPE_LABEL,
    DCGM_EXPORTER_NAME,
    GRAFANA_ADMIN_SECRET,
    MONITORING_NAMESPACE,
    NODE_AGENTS_NAMESPACE,
    POOL_LABEL,
    PRIORITY_NODE_AGENT,
    PRIORITY_SERVING,
    TRAINING_NAMESPACE,
    MonitoringStackArgs,
    ResourceBudget,
    ScrapeTarget,
)
from components.k8s import dashboards, grafana_sso
from components.k8s._common import (
    InvalidInput,
    app_labels,
    find_credential_keys,
    from_cidrs,
    metadata,
    require_cidrs,
    require_environment,
    resources,
    tcp_ports,
)

CHART = "kube-prometheus-stack"
CHART_VERSION = "77.10.0"
CHART_REPOSITORY = "https://prometheus-community.github.io/helm-charts"
RELEASE_NAME = "kube-prometheus-stack"
NULL_RECEIVER = "null"
OPERATOR_WEBHOOK_PORT = 10250
# The drift job's alert (pipelines/exposition.py names the metric); the retraining trigger routes on it
# (components/pipelines/events.py) and reads its ``model`` label.
DRIFT_ALERT = "ModelDriftDetected"

DCGM_SCRAPE_TARGET = ScrapeTarget(name=DCGM_EXPORTER_NAME, namespace=NODE_AGENTS_NAMESPACE,
                                  service_labels={"app.kubernetes.io/name": DCGM_EXPORTER_NAME}, port="metrics")

_RESOURCES = {
    "prometheus": {"dev": ResourceBudget("500m", "2Gi", "2", "4Gi"), "prod": ResourceBudget("1", "4Gi", "4", "8Gi")},
    "alertmanager": ResourceBudget("50m", "64Mi", "200m", "256Mi"),
    "grafana": ResourceBudget("100m", "256Mi", "500m", "512Mi"),
    "operator": ResourceBudget("100m", "128Mi", "500m", "512Mi"),
    "kube-state-metrics": ResourceBudget("50m", "128Mi", "500m", "512Mi"),
    "node-exporter": ResourceBudget("20m", "32Mi", "250m", "128Mi"),
}

_RESTRICTED_POD = {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 2000, "fsGroup": 2000,
                   "seccompProfile": {"type": "RuntimeDefault"}}
_RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                         "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def prometheus_storage_gb(environment: str, retention_days: int, requested: Optional[int]) -> int:
    """A volume sized for the retention: ~2 GB/day in dev, ~5 GB/day in staging/prod, at least 20 GB."""
    if requested is not None:
        return requested
    return max(20, retention_days * (2 if environment == "dev" else 5))


def alertmanager_config(args: MonitoringStackArgs) -> dict[str, Any]:
    """Alertmanager's config: routes from the stack config, a no-op sink for the chart's heartbeat."""
    names = [receiver.name for receiver in args.alert_receivers]
    if len(set(names)) != len(names) or NULL_RECEIVER in names:
        raise InvalidInput(f"MonitoringStackArgs.alert_receivers: names must be unique and not {NULL_RECEIVER!r} "
                           f"(got {names})")
    for receiver in args.alert_receivers:
        if not isinstance(receiver.config, Mapping):
            raise InvalidInput(f"alert receiver {receiver.name!r}: config must be the receiver's body as a mapping "
                               f"(e.g. {{'sns_configs': [...]}}), got {type(receiver.config).__name__}")
        leaked = find_credential_keys(receiver.config)
        if leaked:
            raise InvalidInput(f"alert receiver {receiver.name!r}: {', '.join(leaked)} would put a credential in the "
                               "Alertmanager config; use the *_file variant or workload identity (e.g. SNS with sigv4)")
    for route in args.alert_routes:
        if route.receiver not in names:
            raise InvalidInput(f"alert route to {route.receiver!r}: no such receiver (receivers: {', '.join(names) or 'none'})")
        if not route.matchers:
            raise InvalidInput(f"alert route to {route.receiver!r} needs at least one matcher (e.g. severity=\"critical\")")
    default = names[0] if names else NULL_RECEIVER
    routes: list[dict[str, Any]] = [{"receiver": NULL_RECEIVER, "matchers": ['alertname = "Watchdog"']}]
    routes += [{"receiver": route.receiver, "matchers": list(route.matchers), "group_by": list(route.group_by),
                "repeat_interval": route.repeat_interval, "continue": route.continue_matching}
               for route in args.alert_routes]
    return {
        "route": {"receiver": default, "group_by": ["alertname", "namespace"], "group_wait": "30s",
                  "group_interval": "5m", "repeat_interval": "12h", "routes": routes},
        "receivers": [{"name": NULL_RECEIVER}] + [{"name": r.name, **dict(r.config)} for r in args.alert_receivers],
        "inhibit_rules": [{"source_matchers": ['severity = "critical"'], "target_matchers": ['severity = "warning"'],
                           "equal": ["alertname", "namespace"]}],
    }


def service_monitor(target: ScrapeTarget) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"port": target.port, "path": target.path, "interval": target.interval,
                                # Dashboards join on the node a target runs on.
                                "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node"}]}
    if target.honor_labels:
        endpoint["honorLabels"] = True
    if target.basic_auth_secret is not None:
        endpoint["basicAuth"] = {"username": {"name": target.basic_auth_secret, "key": "username"},
                                 "password": {"name": target.basic_auth_secret, "key": "password"}}
    return {"name": target.name, "selector": {"matchLabels": dict(target.service_labels)},
            "namespaceSelector": {"matchNames": [target.namespace]}, "endpoints": [endpoint]}


def platform_alert_rules(gpu_metrics: bool) -> dict[str, Any]:
    rules = [
        {"alert": "MlflowTrackingServerDown", "expr": 'absent(up{job="mlflow"} == 1)', "for": "5m",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "No MLflow tracking server replica is up: training runs cannot log."}},
        {"alert": "FeatureServerDown", "expr": 'absent(up{job="feast"} == 1)', "for": "5m",
         "labels": {"severity": "critical"},
         "annotations": {"summary": "No Feast feature server replica is up: online features are unavailable."}},
        {"alert": "SpotNodesReclaimed",
         "expr": ("sum(kube_node_spec_unschedulable * on (node) group_left () "
                  'kube_node_labels{label_mlops_dev_capacity_type="spot"}) > 0'),
         "for": "2m", "labels": {"severity": "warning"},
         "annotations": {"summary": "Spot nodes are being drained after a reclaim notice; training jobs restart from checkpoints."}},
        {"alert": "TrainingPodsEvicted",
         "expr": f'sum(kube_pod_status_reason{{namespace="{TRAINING_NAMESPACE}",reason="Evicted"}}) > 0',
         "for": "10m", "labels": {"severity": "warning"},
         "annotations": {"summary": "Training pods were evicted (node pressure or reclaim)."}},
        # The drift CronWorkflow pushes a 0/1 verdict per model hourly; the Pushgateway keeps the last one, so
        # the alert holds until a run finds no drift (no "for": each value is already an hour's verdict).
        {"alert": DRIFT_ALERT, "expr": "max by (model) (mlops_model_drift_detected) == 1", "for": "0m",
         "labels": {"severity": "warning"},
         "annotations": {"summary": "Input drift on model {{ $labels.model }}: the share of drifted features reached "
                                    "the drift job's threshold; retraining starts if the drift trigger is installed."}},
    ]
    if gpu_metrics:
        rules.append({"alert": "GpuXidError", "expr": "changes(DCGM_FI_DEV_XID_ERRORS[10m]) > 0", "for": "0m",
                      "labels": {"severity": "warning"},
                      "annotations": {"summary": "GPU {{ $labels.gpu }} on {{ $labels.node }} reported an XID error."}})
    return {"groups": [{"name": "mlops-platform", "rules": rules}]}


class MonitoringStack(pulumi.ComponentResource):
    """kube-prometheus-stack release, Grafana admin Secret, dashboards and the namespace's network policy."""

    release: k8s.helm.v3.Release
    grafana_admin_secret_name: str
    namespace: str

    def __init__(self, name: str, args: MonitoringStackArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:k8s:MonitoringStack", name, None, opts)
        environment = require_environment(args.environment)
        if not 1 <= args.metrics_retention_days <= 400:
            raise InvalidInput(f"MonitoringStackArgs.metrics_retention_days must be 1..400 (got {args.metrics_retention_days})")
        private_cidrs = require_cidrs(args.private_network_cidrs, "MonitoringStackArgs.private_network_cidrs")
        storage_gb = prometheus_storage_gb(environment, args.metrics_retention_days, args.prometheus_storage_gb)
        if storage_gb < 10:
            raise InvalidInput(f"MonitoringStackArgs.prometheus_storage_gb must be >= 10 (got {storage_gb})")
        namespace = MONITORING_NAMESPACE
        labels = app_labels("monitoring", "monitoring")
        child = pulumi.ResourceOptions(parent=self)

        password = random.RandomPassword(f"{name}-grafana-admin-password", length=32, special=False, opts=child)
        grafana_secret = k8s.core.v1.Secret(
            f"{name}-grafana-admin", metadata=metadata(GRAFANA_ADMIN_SECRET, namespace, labels), type="Opaque",
            string_data={"admin-user": "admin", "admin-password": password.result}, opts=child)

        dashboard_maps = []
        for key, model in (("training-pools", dashboards.training_pools(args.gpu_metrics)),
                           ("spot-interruptions", dashboards.spot_interruptions(args.interruption_queries)),
                           ("mlflow", dashboards.mlflow()), ("model-drift", dashboards.model_drift())):
            dashboard_maps.append(k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{key}",
                metadata=metadata(f"dashboard-{key}", namespace, {**labels, "grafana_dashboard": "1"}),
                data={f"{key}.json": model}, opts=child))

        self._network_policies(name, private_cidrs, labels, child)

        secrets = [grafana_secret]
        if args.sso is not None:
            secrets.append(k8s.core.v1.Secret(
                f"{name}-grafana-oidc", metadata=metadata(grafana_sso.GRAFANA_OIDC_SECRET, namespace, labels),
                type="Opaque", string_data={"client-secret": pulumi.Output.secret(args.sso.client_secret)},
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stringData", "data"])))
        if args.alertmanager_files:
            secrets.append(k8s.core.v1.Secret(
                f"{name}-alertmanager-files", metadata=metadata(ALERTMANAGER_FILES_SECRET, namespace, labels),
                type="Opaque", string_data=dict(args.alertmanager_files),
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["stringData", "data"])))
        values = self._values(args, environment, storage_gb)
        self.release = k8s.helm.v3.Release(
            name, name=RELEASE_NAME, chart=CHART, version=CHART_VERSION,
            repository_opts={"repo": CHART_REPOSITORY}, namespace=namespace, create_namespace=False,
            values=values, atomic=True, cleanup_on_fail=True, timeout=900, max_history=10,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*secrets, *dashboard_maps]))

        self.namespace = namespace
        self.grafana_admin_secret_name = GRAFANA_ADMIN_SECRET
        self.register_outputs({"chartVersion": CHART_VERSION, "grafanaAdminSecret": GRAFANA_ADMIN_SECRET,
                               "prometheusStorageGb": storage_gb})

    @staticmethod
    def _values(args: MonitoringStackArgs, environment: str, storage_gb: int) -> dict[str, Any]:
        replicas = 1 if environment == "dev" else 2
        prom_resources = _RESOURCES["prometheus"]["dev" if environment == "dev" else "prod"]
        storage_class = {"storageClassName": args.storage_class_name} if args.storage_class_name else {}
        targets = list(args.scrape_targets) + ([DCGM_SCRAPE_TARGET] if args.gpu_metrics else [])
        node_labels = ",".join((POOL_LABEL, CAPACITY_TYPE_LABEL, ACCELERATOR_LABEL))
        return {
            "fullnameOverride": "kps",
            "crds": {"enabled": True},
            # Managed control planes (EKS, AKS, GKE) do not expose these components to scrape.
            "kubeControllerManager": {"enabled": False}, "kubeScheduler": {"enabled": False},
            "kubeEtcd": {"enabled": False}, "kubeProxy": {"enabled": False},
            "additionalPrometheusRulesMap": {"mlops-platform": platform_alert_rules(args.gpu_metrics)},
            "prometheusOperator": {
                "resources": resources(_RESOURCES["operator"]),
                "securityContext": _RESTRICTED_POD, "containerSecurityContext": _RESTRICTED_CONTAINER,
            },
            "prometheus": {
                "additionalServiceMonitors": [service_monitor(target) for target in targets],
                "prometheusSpec": {
                    "replicas": replicas,
                    "retention": f"{args.metrics_retention_days}d",
                    # Drop the oldest blocks before the volume fills up, whatever the retention says.
                    "retentionSize": f"{int(storage_gb * 0.85)}GB",
                    "storageSpec": {"volumeClaimTemplate": {"spec": {
                        **storage_class, "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": f"{storage_gb}Gi"}}}}},
                    # Select every ServiceMonitor/PodMonitor/rule in the cluster, not just this release's.
                    "serviceMonitorSelectorNilUsesHelmValues": False, "podMonitorSelectorNilUsesHelmValues": False,
                    "ruleSelectorNilUsesHelmValues": False, "probeSelectorNilUsesHelmValues": False,
                    "resources": resources(prom_resources),
                    "priorityClassName": PRIORITY_SERVING,
                    "securityContext": _RESTRICTED_POD,
                },
            },
            "alertmanager": {
                "serviceAccount": {"create": True, "name": ALERTMANAGER_SERVICE_ACCOUNT,
                                   "annotations": dict(args.alertmanager_service_account_annotations)},
                "config": alertmanager_config(args),
                "alertmanagerSpec": {
                    "replicas": replicas,
                    **({"secrets": [ALERTMANAGER_FILES_SECRET]} if args.alertmanager_files else {}),
                    "storage": {"volumeClaimTemplate": {"spec": {
                        **storage_class, "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}}},
                    "resources": resources(_RESOURCES["alertmanager"]),
                    "priorityClassName": PRIORITY_SERVING,
                    "securityContext": _RESTRICTED_POD,
                },
            },
            "grafana": {
                "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
                "persistence": {"enabled": True, "size": "10Gi", "accessModes": ["ReadWriteOnce"], **storage_class},
                # fsGroup gives Grafana its volume; the chart's root chown init container is not needed.
                "initChownData": {"enabled": False},
                "sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1",
                                           "searchNamespace": MONITORING_NAMESPACE}},
                "grafana.ini": {"analytics": {"reporting_enabled": False, "check_for_updates": False},
                                "users": {"allow_sign_up": False}, "auth.anonymous": {"enabled": False},
                                **(grafana_sso.grafana_ini(args.sso) if args.sso else {})},
                **({"envValueFrom": grafana_sso.env_value_from(args.sso)} if args.sso else {}),
                "service": {"type": "ClusterIP"}, "ingress": {"enabled": False},
                "resources": resources(_RESOURCES["grafana"]),
            },
            "kube-state-metrics": {
                # Node labels the dashboards group by (pool, spot/on-demand, accelerator).
                "metricLabelsAllowlist": [f"nodes=[{node_labels}]"],
                "resources": resources(_RESOURCES["kube-state-metrics"]),
            },
            "prometheus-node-exporter": {
                "namespaceOverride": NODE_AGENTS_NAMESPACE,
                "priorityClassName": PRIORITY_NODE_AGENT,
                "resources": resources(_RESOURCES["node-exporter"]),
            },
        }

    @staticmethod
    def _network_policies(name: str, private_cidrs: list[str], labels: dict[str, str],
                          child: pulumi.ResourceOptions) -> None:
        namespace = MONITORING_NAMESPACE
        k8s.networking.v1.NetworkPolicy(f"{name}-netpol", metadata=metadata("monitoring", namespace, labels), spec={
            "podSelector": {}, "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": [{"podSelector": {}}]},  # Grafana -> Prometheus, Prometheus -> Alertmanager, ...
                # The API server calls the operator's admission webhook from the cluster network.
                {"from": from_cidrs(private_cidrs), "ports": tcp_ports([OPERATOR_WEBHOOK_PORT])},
            ],
            "egress": [
                {"to": [{"podSelector": {}}]},
                # Scrape targets in every namespace.
                {"to": [{"namespaceSelector": {}}]},
                # Kubelets (10250), node-exporter on host network (9100), the API server (443/6443).
                {"to": from_cidrs(private_cidrs), "ports": tcp_ports([443, 6443, 9100, 10250])},
                # Notification endpoints (SNS, webhooks) and the API server behind its service IP.
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": tcp_ports([443])},
            ],
        }, opts=child)
