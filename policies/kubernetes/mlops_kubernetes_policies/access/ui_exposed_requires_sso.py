"""A platform UI reachable from outside the cluster has single sign-on in front of it.

A UI is a workload running MLflow, Grafana or a pipeline UI (Kubeflow Pipelines' frontend, Argo
Workflows' server). It is exposed when a Service of type LoadBalancer or NodePort selects its pods, or
an Ingress routes to such a Service, or (Helm) the chart's values give Grafana such a Service or an
Ingress. SSO in front means: MLflow runs the OIDC auth app (``--app-name oidc-auth``), Grafana has
``auth.generic_oauth`` or ``auth.google`` enabled, the pod has an oauth2-proxy container, or the Ingress delegates
authentication to one (``nginx.ingress.kubernetes.io/auth-url``). Internal load balancers count as
exposed: a private network is not an identity check.

A front door (a workload labelled ``app.kubernetes.io/component: front-door``, the platform's TLS proxy in
front of the UIs) that is exposed exposes every UI of the stack: then each UI workload must run SSO and
Grafana's chart values must enable ``auth.generic_oauth`` or ``auth.google``.
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, StackRule, get, violation

WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
UI_IMAGES = {"mlflow": "MLflow", "grafana": "Grafana", "ml-pipeline/frontend": "Kubeflow Pipelines UI",
             "argoproj/argocli": "Argo Workflows UI", "mlflow-oidc": "MLflow"}
AUTH_URL = "nginx.ingress.kubernetes.io/auth-url"
FRONT_DOOR = ("app.kubernetes.io/component", "front-door")


def _namespace(resource) -> str:
    return get(resource.props, "metadata.namespace") or "default"


def _ui(workload) -> str | None:
    for container in get(workload.props, "spec.template.spec.containers") or []:
        image = str(container.get("image", "")).rsplit("/", 2)
        path = "/".join(image[-2:]).split(":")[0].split("@")[0]
        for marker, ui in UI_IMAGES.items():
            if path.endswith(marker) or path.split("/")[-1] == marker:
                return ui
    return None


def _has_sso(workload) -> bool:
    pod = get(workload.props, "spec.template.spec") or {}
    for container in [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]:
        argv = [str(a) for a in [*(container.get("command") or []), *(container.get("args") or [])]]
        if "--app-name" in argv and argv[argv.index("--app-name") + 1:][:1] == ["oidc-auth"]:
            return True
        if "oauth2-proxy" in str(container.get("image", "")):
            return True
        env = {e.get("name"): str(e.get("value", "")).lower() for e in container.get("env") or []}
        if "true" in (env.get("GF_AUTH_GENERIC_OAUTH_ENABLED"), env.get("GF_AUTH_GOOGLE_ENABLED")):
            return True
    return False


def _selects(service, workload) -> bool:
    selector = get(service.props, "spec.selector") or {}
    labels = get(workload.props, "spec.template.metadata.labels") or {}
    return bool(selector) and _namespace(service) == _namespace(workload) and \
        all(labels.get(key) == value for key, value in selector.items())


def _grafana(release) -> dict | None:
    """Grafana's chart values in a release (kube-prometheus-stack: the "grafana" subchart), else None."""
    values, chart = get(release.props, "values") or {}, str(release.props.get("chart", ""))
    if "kube-prometheus-stack" in chart:
        return values.get("grafana") or {}
    return values if "grafana" in chart else None


# Grafana login providers that are single sign-on: the generic OIDC client and the Google connector (Google
# sign-in, whose groups Grafana reads from Cloud Identity).
GRAFANA_SSO_SECTIONS = ("auth.generic_oauth", "auth.google")


def _grafana_sso(grafana: dict) -> bool:
    ini = grafana.get("grafana.ini") or {}
    return any(str((ini.get(section) or {}).get("enabled")).lower() == "true" for section in GRAFANA_SSO_SECTIONS)


def _grafana_values(release) -> list[str]:
    grafana = _grafana(release)
    if grafana is None:
        return []
    exposed = []
    if get(grafana, "service.type") in ("LoadBalancer", "NodePort"):
        exposed.append(f"Service type {get(grafana, 'service.type')}")
    if get(grafana, "ingress.enabled") is True:
        exposed.append("an Ingress")
    return [] if _grafana_sso(grafana) else exposed


def _front_door_gaps(stack, workloads) -> list[str]:
    """The UIs an exposed front door would put on the network without SSO."""
    gaps = [f"{_ui(w)} ({get(w.props, 'metadata.name')})" for w in workloads if not _has_sso(w)]
    for release in stack.of_type("kubernetes:helm.sh/v3:Release"):
        grafana = _grafana(release)
        if grafana is not None and not _grafana_sso(grafana):
            gaps.append(f"Grafana of Helm release {release.name}")
    return gaps


def check(stack, config):
    services = stack.of_type("kubernetes:core/v1:Service")
    workloads = [w for w in stack.of_type(*WORKLOADS) if _ui(w)]
    exposed_services = {(_namespace(s), get(s.props, "metadata.name")): s for s in services}
    routes: list[tuple] = []  # (how it is exposed, service, ingress or None)
    for service in services:
        if get(service.props, "spec.type") in ("LoadBalancer", "NodePort"):
            routes.append((f"Service type {get(service.props, 'spec.type')}", service, None))
    for ingress in stack.of_type("kubernetes:networking.k8s.io/v1:Ingress"):
        if AUTH_URL in (get(ingress.props, "metadata.annotations") or {}):
            continue
        for rule in get(ingress.props, "spec.rules") or []:
            for path in get(rule, "http.paths") or []:
                backend = get(path, "backend.service.name")
                service = exposed_services.get((_namespace(ingress), backend))
                if service is not None:
                    routes.append((f"Ingress {get(ingress.props, 'metadata.name')}", service, ingress))
    doors = [w for w in stack.of_type(*WORKLOADS)
             if (get(w.props, "spec.template.metadata.labels") or {}).get(FRONT_DOOR[0]) == FRONT_DOOR[1]]
    for how, service, ingress in routes:
        for door in doors:
            if _selects(service, door):
                for gap in _front_door_gaps(stack, workloads):
                    yield violation(f"{gap} is reachable through the front door {get(door.props, 'metadata.name')} "
                                    f"({how}) without single sign-on.", ingress or service)
        for workload in workloads:
            if _selects(service, workload) and not _has_sso(workload):
                yield violation(f"{_ui(workload)} ({get(workload.props, 'metadata.name')}) is reachable from outside "
                                f"the cluster through {how} without single sign-on in front of it.", ingress or service)
    for release in stack.of_type("kubernetes:helm.sh/v3:Release"):
        for how in _grafana_values(release):
            yield violation(f"Grafana of Helm release {release.name} is exposed through {how} without "
                            "auth.generic_oauth or auth.google (single sign-on).", release)


RULE = StackRule(
    name="kubernetes-ui-exposed-requires-sso",
    description="A platform UI (MLflow, Grafana, pipeline UI) exposed outside the cluster must have single sign-on in front.",
    severity="high",
    enforcement="mandatory",
    remediation="Set mlops:access (docs/access.md) so the UI runs behind OIDC, or keep its Service ClusterIP and "
                "reach it with kubectl port-forward.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.5"),
    tags=("access",),
    check=check,
)
