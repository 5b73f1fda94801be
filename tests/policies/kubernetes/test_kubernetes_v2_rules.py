"""Policy packs v2 (issue 13), Kubernetes: patches, pod templates inside custom resources, and the new rules.
Each case: the hardened resource passes, one insecure change gives exactly the expected violation."""
import copy

import pytest

from mlops_kubernetes_policies.config import configmap_plaintext_secrets as cm_secrets
from mlops_kubernetes_policies.namespace import namespace_privileged_pod_security as ns_privileged
from mlops_kubernetes_policies.network import service_public_load_balancer as public_lb
from mlops_kubernetes_policies.rbac import binding_cluster_admin, cluster_binding_admin_roles as admin_binding
from mlops_kubernetes_policies.rbac import cluster_role_dangerous_permissions as dangerous_role
from mlops_kubernetes_policies.workload import (
    container_env_plaintext_secrets as env_secrets,
    container_host_ports as host_ports,
    container_image_digest as image_digest,
    container_privileged,
    pod_hostpath_volumes,
    pod_seccomp_unconfined as seccomp,
)
from tests.policies.cloud_policy_harness import UNKNOWN, check_resource

DIGEST = "ghcr.io/acme/train@sha256:" + "a" * 64
CONTAINER = {"name": "main", "image": DIGEST, "ports": [{"containerPort": 8080}],
             "env": [{"name": "LOG_LEVEL", "value": "info"},
                     {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
             "securityContext": {"privileged": False, "seccompProfile": {"type": "RuntimeDefault"}}}


def pod(**extra):
    return {"containers": [copy.deepcopy(CONTAINER)], "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": [{"name": "scratch", "emptyDir": {}}], **extra}


def template(**extra):
    return {"metadata": {"labels": {"app": "x"}}, "spec": pod(**extra)}


# Every custom resource kind with a pod template, in the shape its CRD defines.
CUSTOM = {
    "kubernetes:argoproj.io/v1alpha1:Workflow": lambda p: {"spec": {
        "securityContext": p["securityContext"], "volumes": p["volumes"],
        "templates": [{"name": "train", "container": p["containers"][0]}]}},
    "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate": lambda p: {"spec": {
        "templates": [{"name": "prep", "script": {**p["containers"][0], "source": "print(1)"},
                       "securityContext": p["securityContext"], "volumes": p["volumes"]}]}},
    "kubernetes:argoproj.io/v1alpha1:CronWorkflow": lambda p: {"spec": {"schedule": "0 * * * *", "workflowSpec": {
        "securityContext": p["securityContext"], "volumes": p["volumes"],
        "templates": [{"name": "t", "containerSet": {"containers": p["containers"]}}]}}},
    "kubernetes:kubeflow.org/v1:PyTorchJob": lambda p: {"spec": {"pytorchReplicaSpecs": {
        "Master": {"replicas": 1, "template": {"spec": p}}, "Worker": {"replicas": 2, "template": {"spec": p}}}}},
    "kubernetes:trainer.kubeflow.org/v1alpha1:TrainingRuntime": lambda p: {"spec": {"template": {"spec": {
        "replicatedJobs": [{"name": "node", "template": {"spec": {"template": {"spec": p}}}}]}}}},
    "kubernetes:ray.io/v1:RayCluster": lambda p: {"spec": {
        "headGroupSpec": {"template": {"spec": p}}, "workerGroupSpecs": [{"groupName": "gpu", "template": {"spec": p}}]}},
    "kubernetes:ray.io/v1:RayJob": lambda p: {"spec": {"entrypoint": "python train.py", "rayClusterSpec": {
        "headGroupSpec": {"template": {"spec": p}}, "workerGroupSpecs": [{"template": {"spec": p}}]}}},
    "kubernetes:serving.kserve.io/v1beta1:InferenceService": lambda p: {"spec": {"predictor": {
        "securityContext": p["securityContext"], "volumes": p["volumes"],
        "model": {**p["containers"][0], "modelFormat": {"name": "sklearn"}, "storageUri": "s3://models/m"}}}},
    "kubernetes:apps/v1:DeploymentPatch": lambda p: {"metadata": {"name": "mlflow", "namespace": "mlops"},
                                                      "spec": {"template": {"spec": p}}},
    "kubernetes:batch/v1:JobPatch": lambda p: {"spec": {"template": {"spec": p}}},
}


def _privileged(p):
    p["containers"][0]["securityContext"]["privileged"] = True


def _host_port(p):
    p["containers"][0]["ports"][0]["hostPort"] = 8080


def _unconfined(p):
    p["containers"][0]["securityContext"]["seccompProfile"]["type"] = "Unconfined"


def _plain_password(p):
    p["containers"][0]["env"].append({"name": "MLFLOW_DB_PASSWORD", "value": "hunter2"})


def _tag(p):
    p["containers"][0]["image"] = "ghcr.io/acme/train:1.0.0"


def _host_path(p):
    p["volumes"].append({"name": "host", "hostPath": {"path": "/var/run"}})


MUTATIONS = [(container_privileged, _privileged, "privileged"), (host_ports, _host_port, "hostPort 8080"),
             (seccomp, _unconfined, "Unconfined"), (env_secrets, _plain_password, "MLFLOW_DB_PASSWORD"),
             (image_digest, _tag, "not pinned by digest"), (pod_hostpath_volumes, _host_path, "/var/run")]


@pytest.mark.parametrize("type_", sorted(CUSTOM))
@pytest.mark.parametrize("module,mutate,expected", MUTATIONS, ids=[m[0].RULE.name for m in MUTATIONS])
def test_pod_templates_in_custom_resources_and_patches(type_, module, mutate, expected):
    assert check_resource(module.RULE, type_, CUSTOM[type_](pod())).passed
    bad = pod()
    mutate(bad)
    outcome = check_resource(module.RULE, type_, CUSTOM[type_](bad))
    assert outcome.violations and all(expected in m for m in outcome.messages), outcome


def test_trainjob_overrides_are_checked_at_pod_level():
    type_ = "kubernetes:trainer.kubeflow.org/v1alpha1:TrainJob"
    job = {"spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": {"image": DIGEST},
                    "podSpecOverrides": [{"targetJobs": [{"name": "node"}], "volumes": [{"name": "d", "emptyDir": {}}]}]}}
    assert check_resource(pod_hostpath_volumes.RULE, type_, job).passed
    job["spec"]["podSpecOverrides"][0]["volumes"].append({"name": "h", "hostPath": {"path": "/"}})
    assert len(check_resource(pod_hostpath_volumes.RULE, type_, job).messages) == 1


def test_unknown_pod_template_in_custom_resource_is_advisory():
    outcome = check_resource(container_privileged.RULE, "kubernetes:ray.io/v1:RayCluster",
                             {"spec": {"headGroupSpec": {"template": UNKNOWN}}})
    assert outcome.violations == [] and "cannot check during preview" in outcome.cannot_check


def test_seccomp_legacy_annotation_fails():
    props = {"spec": {"template": {"metadata": {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}},
                                   "spec": pod()}}}
    assert len(check_resource(seccomp.RULE, "kubernetes:apps/v1:Deployment", props).messages) == 1


@pytest.mark.parametrize("name,value", [
    ("API_TOKEN", "ghp_abc"), ("MLFLOW_BACKEND_STORE_URI", "postgresql://mlflow:s3cr3t@db:5432/mlflow"),
    ("REDIS_URL", "rediss://default:p4ss@cache:6380/0"),
])
def test_plaintext_env_secrets_fail(name, value):
    bad = pod()
    bad["containers"][0]["env"].append({"name": name, "value": value})
    outcome = check_resource(env_secrets.RULE, "kubernetes:apps/v1:Deployment", {"spec": {"template": {"spec": bad}}})
    assert len(outcome.messages) == 1 and name in outcome.messages[0]


@pytest.mark.parametrize("name,value", [
    ("DB_PASSWORD_FILE", "/var/run/secrets/db/password"), ("AWS_SECRET_NAME", "mlops/db"),
    ("MLFLOW_BACKEND_STORE_URI", "postgresql://mlflow:$(DB_PASSWORD)@db:5432/mlflow"),
    ("MLFLOW_TRACKING_URI", "http://mlflow.mlops:5000"), ("TOKEN", "[secret]"),
])
def test_pointers_and_placeholders_pass(name, value):
    ok = pod()
    ok["containers"][0]["env"].append({"name": name, "value": value})
    assert check_resource(env_secrets.RULE, "kubernetes:apps/v1:Deployment", {"spec": {"template": {"spec": ok}}}).passed


CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def test_configmap_secrets():
    good = {"data": {"feature_store.yaml": "project: mlops\nonline_store:\n  type: redis\n  connection_string: ${REDIS_CONNECTION}\n",
                     "LOG_LEVEL": "info"}}
    assert check_resource(cm_secrets.RULE, CONFIG_MAP, good).passed
    for data, expected in (({"DB_PASSWORD": "hunter2"}, "DB_PASSWORD"),
                           ({"feature_store.yaml": "registry:\n  path: postgresql://feast:pw@db/feast\n"}, "URL with a password"),
                           ({"app.ini": "[db]\npassword = hunter2\n"}, "'password: ...'")):
        outcome = check_resource(cm_secrets.RULE, CONFIG_MAP, {"data": data})
        assert len(outcome.messages) == 1 and expected in outcome.messages[0], outcome


NAMESPACE = "kubernetes:core/v1:Namespace"


def test_privileged_namespace():
    labels = {"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "privileged"}
    assert check_resource(ns_privileged.RULE, NAMESPACE, {"metadata": {"name": "mlops", "labels": labels}}).passed
    bad = {"metadata": {"name": "mlops", "labels": {**labels, "pod-security.kubernetes.io/enforce": "privileged"}}}
    assert len(check_resource(ns_privileged.RULE, NAMESPACE, bad).messages) == 1
    assert len(check_resource(ns_privileged.RULE, "kubernetes:core/v1:NamespacePatch", bad).messages) == 1


SERVICE = "kubernetes:core/v1:Service"


@pytest.mark.parametrize("props", [
    {"spec": {"type": "ClusterIP"}},
    {"metadata": {"annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}}, "spec": {"type": "LoadBalancer"}},
    {"metadata": {"annotations": {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}}, "spec": {"type": "LoadBalancer"}},
    {"metadata": {"annotations": {"networking.gke.io/load-balancer-type": "Internal"}}, "spec": {"type": "LoadBalancer"}},
    {"spec": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["203.0.113.0/24"]}},
])
def test_internal_or_restricted_load_balancers_pass(props):
    assert check_resource(public_lb.RULE, SERVICE, props).passed


@pytest.mark.parametrize("props", [
    {"spec": {"type": "LoadBalancer"}},
    {"metadata": {"annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"}},
     "spec": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["0.0.0.0/0"]}},
])
def test_public_load_balancers_fail(props):
    assert len(check_resource(public_lb.RULE, SERVICE, props).messages) == 1
    assert len(check_resource(public_lb.RULE, "kubernetes:core/v1:ServicePatch", props).messages) == 1


CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"


@pytest.mark.parametrize("rule,expected", [
    ({"apiGroups": [""], "resources": ["users", "groups", "serviceaccounts"], "verbs": ["impersonate"]}, "impersonate"),
    ({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind", "escalate"]}, "escalate/bind"),
    ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}, "every secret"),
])
def test_escalation_cluster_roles_fail(rule, expected):
    outcome = check_resource(dangerous_role.RULE, CLUSTER_ROLE, {"rules": [rule]})
    assert len(outcome.messages) == 1 and expected in outcome.messages[0]


def test_narrow_cluster_roles_pass():
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["feast-registry"]},
             {"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list", "watch"]}]
    assert check_resource(dangerous_role.RULE, CLUSTER_ROLE, {"rules": rules}).passed


CLUSTER_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
REF = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole"}
TEAM = [{"kind": "Group", "name": "ml-team", "apiGroup": "rbac.authorization.k8s.io"}]


def test_cluster_wide_admin_binding_fails_and_view_passes():
    assert check_resource(admin_binding.RULE, CLUSTER_BINDING, {"roleRef": {**REF, "name": "view"}, "subjects": TEAM}).passed
    for role in ("admin", "edit"):
        outcome = check_resource(admin_binding.RULE, CLUSTER_BINDING, {"roleRef": {**REF, "name": role}, "subjects": TEAM})
        assert len(outcome.messages) == 1 and role in outcome.messages[0]
    # A RoleBinding to admin inside a namespace is the intended use.
    assert check_resource(admin_binding.RULE, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
                          {"metadata": {"namespace": "ml-team"}, "roleRef": {**REF, "name": "admin"}, "subjects": TEAM}).passed


def test_cluster_admin_through_a_binding_patch_fails():
    outcome = check_resource(binding_cluster_admin.RULE, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBindingPatch",
                             {"roleRef": {**REF, "name": "cluster-admin"}, "subjects": TEAM})
    assert len(outcome.messages) == 1
