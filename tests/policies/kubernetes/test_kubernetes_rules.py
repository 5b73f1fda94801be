"""Kubernetes rules: every workload kind (and init containers) is checked; Helm releases are not failed."""
import copy

import pytest

from mlops_kubernetes_policies.rbac import binding_cluster_admin, role_wildcards
from mlops_kubernetes_policies.workload import (
    container_drop_capabilities,
    container_privilege_escalation,
    container_privileged,
    container_readonly_root_filesystem,
    container_resource_limits,
    container_run_as_non_root,
    pod_host_namespaces,
    pod_hostpath_volumes,
)
from tests.policies.cloud_policy_harness import UNKNOWN, check_resource

HARDENED_CONTAINER = {
    "name": "app", "image": "ghcr.io/acme/app@sha256:" + "0" * 64,
    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                        "runAsUser": 10001, "capabilities": {"drop": ["ALL"]}, "privileged": False},
    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "256Mi"}},
}
HARDENED_POD_SPEC = {"containers": [HARDENED_CONTAINER], "initContainers": [dict(copy.deepcopy(HARDENED_CONTAINER), name="migrate")],
                     "volumes": [{"name": "tmp", "emptyDir": {}}]}

WORKLOAD_RULES = [container_privileged, container_privilege_escalation, container_run_as_non_root,
                  container_readonly_root_filesystem, container_drop_capabilities, pod_host_namespaces,
                  pod_hostpath_volumes, container_resource_limits]


def wrap(kind_token: str, pod_spec: dict) -> dict:
    """The props of a workload of ``kind_token`` whose pod template is ``pod_spec``."""
    kind = kind_token.rsplit(":", 1)[-1]
    meta = {"metadata": {"name": "w", "namespace": "mlops"}}
    if kind == "Pod":
        return {**meta, "spec": pod_spec}
    template = {"metadata": {"labels": {"app": "w"}}, "spec": pod_spec}
    if kind == "CronJob":
        return {**meta, "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}}
    return {**meta, "spec": {"selector": {"matchLabels": {"app": "w"}}, "template": template}}


KINDS = ["kubernetes:core/v1:Pod", "kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet",
         "kubernetes:apps/v1:DaemonSet", "kubernetes:apps/v1:ReplicaSet", "kubernetes:batch/v1:Job",
         "kubernetes:batch/v1:CronJob"]


def insecure(rule_module, spec: dict) -> dict:
    """Break exactly the property ``rule_module`` checks, in the INIT container."""
    spec = copy.deepcopy(spec)
    init = spec["initContainers"][0]
    ctx = init["securityContext"]
    if rule_module is container_privileged:
        ctx["privileged"] = True
    elif rule_module is container_privilege_escalation:
        del ctx["allowPrivilegeEscalation"]
    elif rule_module is container_run_as_non_root:
        ctx["runAsUser"] = 0
    elif rule_module is container_readonly_root_filesystem:
        ctx["readOnlyRootFilesystem"] = False
    elif rule_module is container_drop_capabilities:
        ctx["capabilities"] = {"drop": ["NET_RAW"]}
    elif rule_module is pod_host_namespaces:
        spec["hostPID"] = True
    elif rule_module is pod_hostpath_volumes:
        spec["volumes"].append({"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}})
    elif rule_module is container_resource_limits:
        init["resources"] = {"requests": {"cpu": "1"}}
    return spec


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rule_module", WORKLOAD_RULES, ids=lambda m: m.RULE.name)
def test_hardened_workload_passes_and_insecure_init_container_fails(rule_module, kind):
    assert check_resource(rule_module.RULE, kind, wrap(kind, HARDENED_POD_SPEC)).passed
    outcome = check_resource(rule_module.RULE, kind, wrap(kind, insecure(rule_module, HARDENED_POD_SPEC)))
    assert len(outcome.messages) == 1 and outcome.cannot_check is None, outcome


@pytest.mark.parametrize("rule_module", WORKLOAD_RULES, ids=lambda m: m.RULE.name)
def test_helm_release_is_not_failed(rule_module):
    props = {"chart": "kube-prometheus-stack", "values": {"prometheus": {"privileged": True}}}
    assert check_resource(rule_module.RULE, "kubernetes:helm.sh/v3:Release", props).passed


@pytest.mark.parametrize("rule_module", [container_privileged, container_run_as_non_root, container_resource_limits],
                         ids=lambda m: m.RULE.name)
def test_unknown_containers_are_advisory(rule_module):
    outcome = check_resource(rule_module.RULE, "kubernetes:apps/v1:Deployment",
                             wrap("kubernetes:apps/v1:Deployment", {"containers": UNKNOWN}))
    assert outcome.messages == [] and "spec.template.spec.containers" in outcome.cannot_check


def test_non_root_takes_the_pod_security_context_and_container_overrides_it():
    container = {"name": "app", "image": "app"}
    pod_level = {"securityContext": {"runAsNonRoot": True}, "containers": [container]}
    assert check_resource(container_run_as_non_root.RULE, "kubernetes:core/v1:Pod", wrap("kubernetes:core/v1:Pod", pod_level)).passed
    override = {"securityContext": {"runAsNonRoot": True},
                "containers": [dict(container, securityContext={"runAsUser": 0})]}
    assert "runAsUser 0" in check_resource(container_run_as_non_root.RULE, "kubernetes:core/v1:Pod",
                                           wrap("kubernetes:core/v1:Pod", override)).messages[0]
    unset = {"containers": [container]}
    assert "may run as root" in check_resource(container_run_as_non_root.RULE, "kubernetes:core/v1:Pod",
                                               wrap("kubernetes:core/v1:Pod", unset)).messages[0]


def test_capabilities_allow_only_net_bind_service_to_be_added():
    spec = copy.deepcopy(HARDENED_POD_SPEC)
    spec["containers"][0]["securityContext"]["capabilities"] = {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
    assert check_resource(container_drop_capabilities.RULE, "kubernetes:core/v1:Pod", wrap("kubernetes:core/v1:Pod", spec)).passed
    spec["containers"][0]["securityContext"]["capabilities"]["add"].append("SYS_ADMIN")
    outcome = check_resource(container_drop_capabilities.RULE, "kubernetes:core/v1:Pod", wrap("kubernetes:core/v1:Pod", spec))
    assert outcome.messages == ["container 'app' adds capabilities SYS_ADMIN."]


def test_resource_limits_are_configurable():
    spec = copy.deepcopy(HARDENED_POD_SPEC)
    for c in spec["containers"] + spec["initContainers"]:
        c["resources"] = {"limits": {"memory": "1Gi"}}
    props = wrap("kubernetes:apps/v1:Deployment", spec)
    assert len(check_resource(container_resource_limits.RULE, "kubernetes:apps/v1:Deployment", props).messages) == 2
    assert check_resource(container_resource_limits.RULE, "kubernetes:apps/v1:Deployment", props,
                          config={"requiredLimits": ["memory"]}).passed


# --- RBAC -----------------------------------------------------------------------------------------------

ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"


@pytest.mark.parametrize("type_token", [ROLE, CLUSTER_ROLE])
def test_roles_with_named_verbs_pass_and_wildcards_fail(type_token):
    named = {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]}
    assert check_resource(role_wildcards.RULE, type_token, named).passed
    verbs = {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}]}
    resources = {"rules": [{"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get"]}]}
    assert check_resource(role_wildcards.RULE, type_token, verbs).messages == ['rules[0].verbs contains "*".']
    assert check_resource(role_wildcards.RULE, type_token, resources).messages == ['rules[0].resources contains "*".']
    assert check_resource(role_wildcards.RULE, type_token, {"rules": UNKNOWN}).cannot_check


def test_aggregated_cluster_role_without_rules_passes():
    props = {"aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate": "true"}}]}}
    assert check_resource(role_wildcards.RULE, CLUSTER_ROLE, props).passed


ADMIN_REF = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}


def test_cluster_admin_bound_to_people_fails():
    crb = {"roleRef": ADMIN_REF, "subjects": [{"kind": "Group", "name": "ml-team", "apiGroup": "rbac.authorization.k8s.io"}]}
    outcome = check_resource(binding_cluster_admin.RULE, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", crb)
    assert outcome.messages == ["binds cluster-admin to Group ml-team."]
    rb = {"metadata": {"namespace": "mlops"}, "roleRef": ADMIN_REF,
          "subjects": [{"kind": "ServiceAccount", "name": "mlflow", "namespace": "mlops"}]}
    assert not check_resource(binding_cluster_admin.RULE, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", rb).passed


def test_cluster_admin_inside_kube_system_and_other_roles_pass():
    in_system = {"metadata": {"namespace": "kube-system"}, "roleRef": ADMIN_REF, "subjects": [{"kind": "User", "name": "x"}]}
    assert check_resource(binding_cluster_admin.RULE, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", in_system).passed
    system_sa = {"roleRef": ADMIN_REF, "subjects": [{"kind": "ServiceAccount", "name": "addon", "namespace": "kube-system"}]}
    assert check_resource(binding_cluster_admin.RULE, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", system_sa).passed
    view = {"roleRef": {**ADMIN_REF, "name": "view"}, "subjects": [{"kind": "Group", "name": "ml-team"}]}
    assert check_resource(binding_cluster_admin.RULE, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", view).passed
