"""The Kubernetes rules that close Checkov's coverage gaps (issue 13): the platform's hardened shape passes,
each insecure spelling fails with exactly one finding, unknowns are advisory."""
import copy


from mlops_kubernetes_policies.namespace import resource_default_namespace as default_namespace
from mlops_kubernetes_policies.network import workload_network_policy as network_policy
from mlops_kubernetes_policies.workload import container_health_probes as probes
from mlops_kubernetes_policies.workload import pod_default_service_account as default_sa
from mlops_kubernetes_policies.workload import pod_service_account_token as token
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_resource, check_stack, variant

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
JOB = "kubernetes:batch/v1:Job"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PROBE = {"httpGet": {"path": "/health", "port": 5000}}
# The shape components/k8s/mlflow.py renders.
MLFLOW = {
    "metadata": {"name": "mlflow", "namespace": "mlops", "labels": {"app.kubernetes.io/name": "mlflow"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": "mlflow"}}, "template": {
        "metadata": {"labels": {"app.kubernetes.io/name": "mlflow"}},
        "spec": {"serviceAccountName": "mlflow", "automountServiceAccountToken": False,
                 "initContainers": [{"name": "migrate", "image": "ghcr.io/mlflow/mlflow:v3"}],
                 "containers": [{"name": "mlflow", "image": "ghcr.io/mlflow/mlflow:v3",
                                 "livenessProbe": PROBE, "readinessProbe": PROBE}]}}},
}


def deployment(**changes):
    return variant(MLFLOW, **{f"spec__template__spec__{k}": v for k, v in changes.items()})


def test_health_probes():
    assert check_resource(probes.RULE, DEPLOYMENT, MLFLOW).passed
    container = {"name": "mlflow", "image": "x", "readinessProbe": PROBE}
    outcome = check_resource(probes.RULE, DEPLOYMENT, deployment(containers=[container]))
    assert outcome.messages == ["container 'mlflow' has no livenessProbe: Kubernetes cannot tell when it is ready or hung."]
    both = check_resource(probes.RULE, DAEMON_SET, deployment(containers=[{"name": "agent", "image": "x"}]))
    assert both.messages == ["container 'agent' has no livenessProbe / readinessProbe: Kubernetes cannot tell when it "
                             "is ready or hung."]
    # run-to-completion pods and patches are out of scope
    job = {"spec": {"template": {"spec": {"containers": [{"name": "train", "image": "x"}]}}}}
    assert check_resource(probes.RULE, JOB, job).passed
    assert check_resource(probes.RULE, "kubernetes:apps/v1:DeploymentPatch", deployment(containers=[container])).passed


def test_default_namespace():
    assert check_resource(default_namespace.RULE, DEPLOYMENT, MLFLOW).passed
    for props, provider in ((variant(MLFLOW, metadata__namespace="default"), None),
                            (variant(MLFLOW, metadata__namespace=...), None),
                            (variant(MLFLOW, metadata__namespace=...), {"namespace": "default"})):
        outcome = check_resource(default_namespace.RULE, DEPLOYMENT, props, provider_props=provider)
        assert len(outcome.violations) == 1 and "Deployment mlflow is created in the default namespace" in outcome.messages[0]
    # the provider's namespace applies; cluster-scoped kinds and the API server's own objects are out of scope
    assert check_resource(default_namespace.RULE, DEPLOYMENT, variant(MLFLOW, metadata__namespace=...),
                          provider_props={"namespace": "mlops"}).passed
    assert "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole" not in default_namespace.RULE.resource_types
    assert "kubernetes:helm.sh/v3:Release" not in default_namespace.RULE.resource_types
    # cert-manager's ClusterIssuer (the front door's CA) is cluster-scoped: no namespace to ask for
    assert "kubernetes:cert-manager.io/v1:ClusterIssuer" not in default_namespace.RULE.resource_types
    assert "kubernetes:cert-manager.io/v1:Certificate" in default_namespace.RULE.resource_types
    assert CONFIG_MAP in default_namespace.RULE.resource_types
    assert check_resource(default_namespace.RULE, SERVICE_ACCOUNT, {"metadata": {"name": "default"}}).passed
    assert "cannot check" in check_resource(default_namespace.RULE, CONFIG_MAP,
                                            {"metadata": {"name": "x", "namespace": UNKNOWN}}).cannot_check


def test_service_account_token_automount():
    assert check_resource(token.RULE, DEPLOYMENT, MLFLOW).passed
    for changes in ({"automountServiceAccountToken": ...}, {"automountServiceAccountToken": True}):
        outcome = check_resource(token.RULE, DEPLOYMENT, deployment(**changes))
        assert outcome.messages == ["the pod mounts the API token of service account mlflow "
                                    "(automountServiceAccountToken is not false)."]
    operator = deployment(automountServiceAccountToken=..., serviceAccountName="argo-server")
    assert check_resource(token.RULE, DEPLOYMENT, operator, config={"allowedServiceAccounts": ["argo-server"]}).passed
    assert "cannot check" in check_resource(token.RULE, DEPLOYMENT,
                                            deployment(automountServiceAccountToken=UNKNOWN)).cannot_check


def test_default_service_account():
    assert check_resource(default_sa.RULE, DEPLOYMENT, MLFLOW).passed
    for changes in ({"serviceAccountName": ...}, {"serviceAccountName": "default"}):
        outcome = check_resource(default_sa.RULE, DEPLOYMENT, deployment(**changes))
        assert outcome.messages == ["the pod runs as the namespace's default service account: give the workload its own."]
    managed_default = {"metadata": {"name": "default", "namespace": "mlops"}, "automountServiceAccountToken": False}
    assert check_resource(default_sa.RULE, SERVICE_ACCOUNT, managed_default).passed
    outcome = check_resource(default_sa.RULE, SERVICE_ACCOUNT, variant(managed_default, automountServiceAccountToken=...))
    assert len(outcome.violations) == 1 and "every pod gets its token" in outcome.messages[0]
    assert check_resource(default_sa.RULE, SERVICE_ACCOUNT, {"metadata": {"name": "mlflow", "namespace": "mlops"}}).passed


def policy(name, namespace="mlops", selector=None):
    return Res(NETWORK_POLICY, name, {"metadata": {"name": name, "namespace": namespace},
                                      "spec": {"podSelector": {} if selector is None else selector,
                                               "policyTypes": ["Ingress", "Egress"]}})


def test_every_workload_needs_a_network_policy_selecting_it():
    mlflow = Res(DEPLOYMENT, "mlflow", copy.deepcopy(MLFLOW))
    assert check_stack(network_policy.RULE, [mlflow, policy("default-deny")]).passed
    assert check_stack(network_policy.RULE, [mlflow, policy("mlflow-ingress", selector={
        "matchLabels": {"app.kubernetes.io/name": "mlflow"}})]).passed
    for others in ([], [policy("default-deny", namespace="monitoring")],
                   [policy("feast", selector={"matchLabels": {"app.kubernetes.io/name": "feast"}})]):
        outcome = check_stack(network_policy.RULE, [mlflow, *others])
        assert outcome.violations == [(outcome.messages[0], mlflow.urn)], others
        assert outcome.messages[0].startswith("mlops/mlflow: no NetworkPolicy selects its pods")
    unknown = Res(NETWORK_POLICY, "p", {"metadata": {"name": "p", "namespace": "mlops"}, "spec": {"podSelector": UNKNOWN}})
    assert "cannot check" in check_stack(network_policy.RULE, [mlflow, unknown]).cannot_check


def test_argo_workflows_name_their_service_account_and_token_mount_at_workflow_or_template_level():
    workflow = {"spec": {"serviceAccountName": "trainer", "automountServiceAccountToken": False, "templates": [
        {"name": "train", "container": {"name": "main", "image": "x"}}]}}
    kind = "kubernetes:argoproj.io/v1alpha1:Workflow"
    assert check_resource(default_sa.RULE, kind, workflow).passed and check_resource(token.RULE, kind, workflow).passed
    opened = copy.deepcopy(workflow)
    opened["spec"]["templates"][0]["automountServiceAccountToken"] = True
    outcome = check_resource(token.RULE, kind, opened)
    assert len(outcome.violations) == 1 and "service account trainer" in outcome.messages[0]
    unnamed = copy.deepcopy(workflow)
    del unnamed["spec"]["serviceAccountName"]
    assert len(check_resource(default_sa.RULE, kind, unnamed).violations) == 1


def test_a_workflow_running_a_referenced_template_inherits_its_service_account_and_token_setting():
    kind = "kubernetes:argoproj.io/v1alpha1:CronWorkflow"
    cron = {"spec": {"schedules": ["0 3 * * *"], "workflowSpec": {"workflowTemplateRef": {"name": "retraining"}}}}
    assert check_resource(default_sa.RULE, kind, cron).passed and check_resource(token.RULE, kind, cron).passed
    overriding = copy.deepcopy(cron)
    overriding["spec"]["workflowSpec"].update(serviceAccountName="default", automountServiceAccountToken=True)
    assert len(check_resource(default_sa.RULE, kind, overriding).violations) == 1
    assert len(check_resource(token.RULE, kind, overriding).violations) == 1


def test_custom_resource_pods_count_any_policy_of_their_namespace():
    cron = Res("kubernetes:argoproj.io/v1alpha1:CronWorkflow", "drift", {"metadata": {"namespace": "pipelines"}, "spec": {
        "workflowSpec": {"workflowTemplateRef": {"name": "drift"}}}})
    steps = policy("drift-steps", namespace="pipelines", selector={"matchLabels": {"app.kubernetes.io/name": "drift"}})
    assert check_stack(network_policy.RULE, [cron, steps]).passed
    outcome = check_stack(network_policy.RULE, [cron, policy("elsewhere", namespace="mlops")])
    assert outcome.violations == [(outcome.messages[0], cron.urn)]
