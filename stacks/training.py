"""``mlops:training`` into components: the RayJob of each training pool with that cloud's interruption
notice, image, checkpoint store and identity labels (the cloud builders pass what differs)."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi_random as random

from components.k8s import MlflowServiceUser
from components.training.distributed import (CHECKPOINT_PREFIX, MLFLOW_USER_SECRET, MLFLOW_USERNAME,
                                             InterruptionNotice, RayJobArgs)
from components.training.kuberay import DistributedTraining, DistributedTrainingArgs
from stacks.config_training import job_pools


def training_mlflow_user(cfg: Any) -> Optional[MlflowServiceUser]:
    """The training jobs' MLflow user (None when ``mlops:training`` is off), made before MlflowServerArgs so
    the server seeds it; ``distributed_training`` keeps its Secret in the training namespace.

    What it may do, the least MLflow's permission model allows for logging runs: the job creates its
    experiment (``<model>-distributed``) and MLflow makes the creator MANAGE on that experiment only (MLflow has
    no grant that lets a user create an experiment with less); on the registered model it gets READ, the
    lowest grant a service user holds (it registers nothing); everything else it sees with the server's
    default permission (READ). It can delete or re-permission nothing it did not create."""
    if not cfg.training.enabled:
        return None
    password = random.RandomPassword("distributed-training-mlflow-password", length=32, special=False)
    return MlflowServiceUser(secret=MLFLOW_USER_SECRET, username=MLFLOW_USERNAME, password=password.result,
                             registered_model=cfg.pipelines.model_name, permission="READ")


def distributed_training(cfg: Any, pools: Mapping[str, Any], image_repository: pulumi.Input[str],
                         storage_uri: pulumi.Input[str], notice_for: Any, offline_store_path: pulumi.Input[str], *,
                         mlflow_user: Optional[MlflowServiceUser] = None,
                         env: Optional[Mapping[str, str]] = None, pod_labels: Optional[Mapping[str, str]] = None,
                         depends_on: Sequence[pulumi.Resource] = (),
                         opts: Optional[pulumi.ResourceOptions] = None) -> Optional[DistributedTraining]:
    """``pools``: pool name -> the cloud's TrainingPool (its ``taints``); ``notice_for(pool) ->
    InterruptionNotice``. None when ``mlops:training.enabled`` is false."""
    training = cfg.training
    if not training.enabled:
        return None
    image = pulumi.Output.concat(image_repository, ":", training.image_tag)
    features = (training.features_path or cfg.pipelines.features_path
                or pulumi.Output.concat(offline_store_path, "/", cfg.pipelines.model_name, ".parquet"))
    jobs = []
    for pool in job_pools(cfg):
        notice: InterruptionNotice = notice_for(pools[pool.name])
        jobs.append(RayJobArgs(
            pool=pool.name, gpu=pool.accelerator == "nvidia-gpu", taints=tuple(pools[pool.name].taints), image=image,
            notice=notice, workers=training.workers, worker_cpu=training.worker_cpu,
            worker_memory_gi=training.worker_memory_gi, steps=training.steps, checkpoint_every=training.checkpoint_every,
            max_failures=training.max_failures, keep_checkpoints=training.keep_checkpoints,
            backoff_limit=training.backoff_limit, active_deadline_seconds=training.active_deadline_seconds,
            features=features,
            label=training.label or cfg.pipelines.label, entity=training.entity or cfg.pipelines.entity,
            experiment=f"{cfg.pipelines.model_name}-distributed", env=dict(env or {}),
            pod_labels=dict(pod_labels or {})))
    return DistributedTraining("distributed-training", DistributedTrainingArgs(
        jobs=jobs, features=features, storage_uri=storage_uri, depends_on=tuple(depends_on),
        mlflow_user=mlflow_user), opts=opts)


def checkpoint_uri(scheme_and_bucket: pulumi.Input[str]) -> pulumi.Output[str]:
    """``<scheme>://<bucket>`` + the checkpoint prefix."""
    return pulumi.Output.concat(scheme_and_bucket, "/", CHECKPOINT_PREFIX)
