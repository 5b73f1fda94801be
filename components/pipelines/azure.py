"""The retraining pipeline on Azure: the steps' user-assigned identity and the artifact repository in the
``argo`` container of the platform's artifacts account.

The identity (federated credential on ``system:serviceaccount:pipelines:pipeline-steps`` only) holds two
role assignments, each on one container (tests/smoke/test_iam_models.py checks them against Azure's
published role definitions, both ways):

- ``Storage Blob Data Contributor`` on the ``argo`` container: step logs and the training frame, read and
  write; MLflow's ``mlflow`` container (the model registry's artifacts) is out of reach;
- ``Storage Blob Data Reader`` on the Feast container: the registry and the offline store, read-only.

The account's customer-managed key is applied by the storage service, so the identity needs no key role.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

import pulumi

from components.cluster.azure import CLIENT_ID_ANNOTATION, WORKLOAD_IDENTITY_POD_LABELS
from components.pipelines import ARTIFACT_PREFIX, NAMESPACE, STEP_SERVICE_ACCOUNT, RetrainingArgs
from components.pipelines.argo import ArtifactStore
from components.pipelines.component import RetrainingPipeline, RetrainingPipelineArgs
from components.storage.azure import STORAGE_BLOB_DATA_CONTRIBUTOR, STORAGE_BLOB_DATA_READER, grant



@dataclass(frozen=True)
class AzurePipelineInputs:
    cluster: "pulumi.Resource"  # components.cluster.azure.Cluster (workload_identity())
    artifacts_account: pulumi.Input[str]  # the tracking artifacts account (it has the "argo" container)
    artifacts_container_id: pulumi.Input[str]  # that container's resource id
    features_container_id: pulumi.Input[str]  # the Feast container (registry + offline store)


class StepIdentity(pulumi.ComponentResource):
    """The user-assigned identity of ``pipelines/pipeline-steps`` and its two container-scoped grants."""

    def __init__(self, name: str, inputs: AzurePipelineInputs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:pipelines:StepIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.identity = inputs.cluster.workload_identity(f"{name}-steps", NAMESPACE, STEP_SERVICE_ACCOUNT, child)
        self.grants = [
            grant(f"{name}-artifacts", scope=inputs.artifacts_container_id, role_guid=STORAGE_BLOB_DATA_CONTRIBUTOR,
                  principal_id=self.identity.principal_id, opts=child,
                  description="retraining steps read and write workflow artifacts in the argo container only"),
            grant(f"{name}-features", scope=inputs.features_container_id, role_guid=STORAGE_BLOB_DATA_READER,
                  principal_id=self.identity.principal_id, opts=child,
                  description="retraining steps read feature data (offline store, registry)"),
        ]
        self.annotations = {CLIENT_ID_ANNOTATION: self.identity.client_id}
        self.register_outputs({"clientId": self.identity.client_id})


def retraining_pipeline(name: str, retraining: RetrainingArgs, environment: str, inputs: AzurePipelineInputs,
                        opts: pulumi.ResourceOptions, k8s_opts: pulumi.ResourceOptions) -> RetrainingPipeline:
    identity = StepIdentity(f"{name}-identity", inputs, opts=opts)
    store = ArtifactStore("azure", ARTIFACT_PREFIX, key_prefix=ARTIFACT_PREFIX,
                          endpoint=pulumi.Output.format("https://{0}.blob.core.windows.net", inputs.artifacts_account))
    retraining = dataclasses.replace(retraining, pod_labels={**retraining.pod_labels, **WORKLOAD_IDENTITY_POD_LABELS})
    return RetrainingPipeline(name, RetrainingPipelineArgs(
        retraining=retraining, artifact_store=store, step_identity_annotations=identity.annotations,
        environment=environment, depends_on=[*identity.grants]), opts=k8s_opts)
