"""``mlops:serving:ModelServing``: KServe on the cluster serving the registered MLflow model, with canary rollouts.

Order (each after what it needs): operator namespaces and their NetworkPolicies -> cert-manager, Knative
Operator, KServe CRDs -> ``KnativeServing`` (after the operator: its CRD) and KServe's controller (after
cert-manager: its certificates) -> in ``serving`` (the baseline's namespace): the model server's
ServiceAccount (cloud identity from the cloud file's factory), the ServingRuntime, the PodMonitor, and the
InferenceService when the config names a first version (``ServingArgs.storage_uri``). With ``rollout`` (the
pipelines are installed): the ``canary-rollout`` WorkflowTemplate, its Role in ``serving`` and the
NetworkPolicies of its pods; without a first version in the config, that rollout creates the
InferenceService with the first promoted version, so serving is installed before any model exists.

After creation the rollout owns the model fields of the InferenceService (``storageUri``, the version
label, ``canaryTrafficPercent``): the program ignores changes to them, so ``pulumi up`` never undoes a
promotion or a rollback.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.k8s._common import InvalidInput, create_manifest
from components.serving import ServingArgs, RolloutArgs
from components.serving import inference, kserve, network, request_log, rollout as canary_rollout

OPERATOR_NAMESPACES = (kserve.CERT_MANAGER_NAMESPACE, kserve.KNATIVE_OPERATOR_NAMESPACE,
                       kserve.KNATIVE_SERVING_NAMESPACE, kserve.KSERVE_NAMESPACE)
# The model fields the canary rollout patches (component docstring).
ROLLOUT_OWNED = ["spec.predictor.model.storageUri", "spec.predictor.canaryTrafficPercent", "spec.predictor.labels"]


@dataclass(frozen=True)
class ServingIdentity:
    """What a cloud gives the model server: ServiceAccount annotations and pod labels binding its identity."""

    annotations: dict[str, Any]
    pod_labels: dict[str, str] = field(default_factory=dict)


@dataclass
class ModelServingArgs:
    serving: ServingArgs
    # Called with the component as parent: creates the cloud identity (aws.py / azure.py / gcp.py).
    identity: Callable[[pulumi.Resource], ServingIdentity]
    rollout: Optional[RolloutArgs] = None
    artifacts_destination: pulumi.Input[str] = ""
    # The serving namespace (the baseline's) and the monitoring release (PodMonitor CRD).
    depends_on: Sequence[pulumi.Resource] = ()
    # The pipelines install (Argo's CRDs) the rollout template waits for.
    rollout_depends_on: Sequence[pulumi.Resource] = ()
    # With ``serving.request_log``: the sink's cloud identity (write under its prefix only), as ``identity``.
    request_log_identity: Optional[Callable[[pulumi.Resource], ServingIdentity]] = None


def _release(name: str, chart: str, version: str, namespace: str, values: dict, repo: Optional[str],
             opts: pulumi.ResourceOptions) -> k8s.helm.v3.Release:
    return k8s.helm.v3.Release(
        name, name=chart.rsplit("/", 1)[-1], chart=chart, version=version,
        repository_opts={"repo": repo} if repo else None, namespace=namespace, create_namespace=False, values=values,
        atomic=True, cleanup_on_fail=True, timeout=900, max_history=10, opts=opts)


class ModelServing(pulumi.ComponentResource):
    def __init__(self, name: str, args: ModelServingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:serving:ModelServing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = args.identity(self)
        serving = ServingArgs(**{**args.serving.__dict__, "identity_annotations": identity.annotations,
                                 "identity_pod_labels": identity.pod_labels})
        log_manifests: list = []
        if serving.request_log is not None:
            if args.request_log_identity is None:
                raise InvalidInput("ModelServingArgs.request_log_identity is required with ServingArgs.request_log")
            request_log.check(serving.request_log)  # bad input fails before the identity is registered
            writer = args.request_log_identity(self)
            serving = dataclasses.replace(serving, request_log=dataclasses.replace(
                serving.request_log, identity_annotations=writer.annotations, identity_pod_labels=writer.pod_labels))
            log_manifests = (request_log.network_policies(serving.namespace, serving.inference_service)
                             + request_log.manifests(serving.request_log, serving.namespace))
        # Render (and check) everything before registering the in-cluster resources.
        if serving.storage_uri is None and args.rollout is None:
            raise InvalidInput("ModelServing: no first model version (ServingArgs.storage_uri) and no canary rollout "
                               "(ModelServingArgs.rollout): nothing would ever create the InferenceService")
        runtime, monitor = inference.serving_runtime(serving), inference.pod_monitor(serving)
        service = inference.inference_service(serving) if serving.storage_uri is not None else None
        template = (canary_rollout.workflow_template(serving, args.rollout, args.artifacts_destination)
                    if args.rollout else None)

        namespaces = {ns: k8s.core.v1.Namespace(f"{name}-{ns}", metadata={"name": ns, "labels": {
            "app.kubernetes.io/part-of": "mlops-platform", "kubernetes.io/metadata.name": ns,
            # Third-party operators: baseline enforced, restricted warned and audited (as for monitoring).
            "pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "restricted"}},
            opts=child) for ns in OPERATOR_NAMESPACES}
        policies = [self._object(name, p, k8s.networking.v1.NetworkPolicy, [namespaces[p["metadata"]["namespace"]]])
                    for p in network.operator_policies(list(serving.private_network_cidrs))]

        def after(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=[*deps])

        cert_manager = _release(f"{name}-cert-manager", kserve.CERT_MANAGER_CHART, kserve.CERT_MANAGER_VERSION,
                                kserve.CERT_MANAGER_NAMESPACE, kserve.cert_manager_values(), kserve.CERT_MANAGER_REPOSITORY,
                                after(*namespaces.values(), *policies))
        operator = _release(f"{name}-knative-operator", kserve.KNATIVE_OPERATOR_CHART, kserve.KNATIVE_OPERATOR_VERSION,
                            kserve.KNATIVE_OPERATOR_NAMESPACE, kserve.knative_operator_values(),
                            kserve.KNATIVE_OPERATOR_REPOSITORY, after(*namespaces.values(), *policies))
        crds = _release(f"{name}-kserve-crd", kserve.KSERVE_CRD_CHART, kserve.KSERVE_VERSION, kserve.KSERVE_NAMESPACE,
                        {}, None, after(*namespaces.values()))
        controller = _release(f"{name}-kserve", kserve.KSERVE_CHART, kserve.KSERVE_VERSION, kserve.KSERVE_NAMESPACE,
                              kserve.kserve_values(), None, after(cert_manager, crds, *policies))
        knative = self._custom(f"{name}-knative-serving", kserve.knative_serving(serving.min_replicas == 0),
                               after(operator))

        in_serving = [*args.depends_on]
        account = inference.service_account(serving)
        self.service_account = k8s.core.v1.ServiceAccount(f"{name}-model-server", opts=after(*in_serving), **account)
        self.runtime = self._custom(f"{name}-runtime", runtime, after(controller, *in_serving))
        self.inference_service = None if service is None else self._custom(
            f"{name}-isvc", service, pulumi.ResourceOptions(parent=self, depends_on=[
                controller, knative, self.runtime, self.service_account, *in_serving], ignore_changes=ROLLOUT_OWNED))
        self._custom(f"{name}-podmonitor", monitor, after(*in_serving))
        log_policies = [create_manifest(f"{name}-{m['metadata']['name']}-netpol", m, after(*in_serving))
                        for m in log_manifests if m["kind"] == "NetworkPolicy"]
        for m in log_manifests:
            if m["kind"] != "NetworkPolicy":
                create_manifest(f"{name}-request-log-{m['kind'].lower()}", m, after(*in_serving, *log_policies))

        if args.rollout is not None and template is not None:
            role, binding = canary_rollout.rbac(serving, args.rollout)
            k8s.rbac.v1.Role(f"{name}-rollout", opts=after(*in_serving), **role)
            k8s.rbac.v1.RoleBinding(f"{name}-rollout", opts=after(*in_serving), **binding)
            for p in network.rollout_policies(args.rollout.pipelines_namespace):
                self._object(name, p, k8s.networking.v1.NetworkPolicy, list(args.rollout_depends_on))
            # After KServe and the runtime too: its first run may create the InferenceService.
            self._custom(f"{name}-canary-rollout", template,
                         after(*args.rollout_depends_on, controller, knative, self.runtime, self.service_account))

        self.namespace = serving.namespace
        self.url = f"http://{serving.inference_service}.{serving.namespace}.svc.cluster.local"
        self.request_log_url = request_log.url(serving.namespace) if serving.request_log is not None else None
        self.register_outputs({"namespace": self.namespace, "inferenceService": serving.inference_service,
                               "url": self.url, "createdBy": "program" if service is not None else "canary-rollout",
                               "requestLog": self.request_log_url})

    def _custom(self, name: str, manifest: dict, opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(name, api_version=manifest["apiVersion"], kind=manifest["kind"],
                                                metadata=manifest["metadata"], spec=manifest["spec"], opts=opts)

    def _object(self, name: str, manifest: dict, cls: Any, deps: list) -> Any:
        meta = manifest["metadata"]
        return cls(f"{name}-{meta['namespace']}-{meta['name']}", metadata=meta, spec=manifest["spec"],
                   opts=pulumi.ResourceOptions(parent=self, depends_on=deps))
