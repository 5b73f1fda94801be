"""``train-distributed``: data-parallel training on a Ray cluster (the RayJob's entrypoint) with Ray Train's
fault tolerance, checkpoints in the object store and the run logged to MLflow.

The model is the ``train`` step's (logistic regression on the offline store's features), trained by
mini-batch gradient descent: every worker computes the gradient on its shard of the rows, the gradients are
averaged across workers each step (``Averager``, an actor on the head node, which never runs on spot), and
every worker applies the same update, so all replicas stay identical (plain synchronous data parallelism).
A team's PyTorch model swaps this loop for ``TorchTrainer`` and keeps everything else.

What makes a lost node cost at most one checkpoint interval (docs/training.md):

- a checkpoint (weights, step, standardisation) every ``--checkpoint-every`` steps, uploaded by Ray Train
  to ``--storage`` (s3://, gs://, abfs:// through the pod's workload identity, or a local path);
- ``FailureConfig(max_failures, max_preemption_failures)``: Ray Train restarts the worker group and every
  worker resumes from ``ray.train.get_checkpoint()``;
- the preemption notice: on the pod's SIGTERM ``ray start --block`` drains its node with reason PREEMPTION
  (``RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S``); ``ray.train.get_preemption_info()`` (a consensus across
  workers) then makes every worker write a checkpoint at once and hold, so no step after it is trained twice;
- a stable run name and storage path: a resubmitted job (KubeRay ``backoffLimit``) resumes the same run.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from pipelines import StepError, features

STATE = "state.json"


def _averager_class():
    import asyncio

    import ray

    @ray.remote(num_cpus=0, max_concurrency=1000)
    class Averager:
        """All-reduce (mean) of one vector per worker and step; a new worker group gets a new ``group`` id."""

        def __init__(self, world_size: int):
            self.world_size = world_size
            self.rounds: dict = {}

        async def mean(self, group: str, step: int, vector: list[float]) -> list[float]:
            key = (group, step)
            entry = self.rounds.setdefault(key, {"parts": [], "done": asyncio.Event(), "result": None})
            entry["parts"].append(vector)
            if len(entry["parts"]) == self.world_size:
                width = len(vector)
                entry["result"] = [sum(part[i] for part in entry["parts"]) / self.world_size for i in range(width)]
                entry["done"].set()
                for stale in [k for k in self.rounds if k[0] != group or k[1] < step - 1]:
                    self.rounds.pop(stale, None)
            await entry["done"].wait()
            return entry["result"]

    return Averager


def _sigmoid(z):
    import numpy as np

    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _mlflow_client():
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        return None
    from mlflow.tracking import MlflowClient

    return MlflowClient()


def train_loop(config: dict) -> None:
    """One worker of the group (every worker runs this)."""
    import numpy as np
    import ray
    import ray.train
    import ray.train.collective
    from ray.train import Checkpoint

    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    frame, columns = features.read(config["features"], config["label"], config["entity"])
    x_all = frame[columns].to_numpy(dtype=float)
    mean, std = x_all.mean(axis=0), x_all.std(axis=0) + 1e-9
    x = np.c_[(x_all - mean) / std, np.ones(len(x_all))][rank::world]
    y = frame[config["label"]].to_numpy(dtype=float)[rank::world]
    weights, start, resumes = np.zeros(x.shape[1]), 0, []
    checkpoint = ray.train.get_checkpoint()
    if checkpoint:
        with checkpoint.as_directory() as directory:
            state = json.loads((Path(directory) / STATE).read_text())
        weights, start, resumes = np.array(state["weights"]), state["step"], state["resumes"] + [state["step"]]
    group = ray.train.collective.broadcast_from_rank_zero(uuid.uuid4().hex)
    averager, every, steps = config["averager"], config["checkpoint_every"], config["steps"]
    client = _mlflow_client() if rank == 0 and config.get("mlflow_run_id") else None
    if client and checkpoint:
        client.log_metric(config["mlflow_run_id"], "resumed_from_step", start, step=start)

    def save(step: int, loss: float, reason: str) -> None:
        metrics = {"step": step, "loss": loss, "reason": reason, "resumes": ",".join(map(str, resumes))}
        with tempfile.TemporaryDirectory() as directory:
            saved = None
            if rank == 0:
                (Path(directory) / STATE).write_text(json.dumps(
                    {"weights": weights.tolist(), "step": step, "resumes": resumes, "columns": columns,
                     "mean": mean.tolist(), "std": std.tolist()}))
                saved = Checkpoint.from_directory(directory)
            ray.train.report(metrics, checkpoint=saved)

    rng = np.random.default_rng([config["seed"], rank, start])
    loss = float("nan")
    for step in range(start, steps):
        batch = rng.integers(0, len(y), size=min(config["batch_size"], len(y)))
        p = _sigmoid(x[batch] @ weights)
        gradient = x[batch].T @ (p - y[batch]) / len(batch)
        local_loss = float(-np.mean(y[batch] * np.log(p + 1e-12) + (1 - y[batch]) * np.log(1 - p + 1e-12)))
        reduced = ray.get(averager.mean.remote(group, step, [*gradient.tolist(), local_loss]))
        weights = weights - config["learning_rate"] * np.array(reduced[:-1])
        loss, done = reduced[-1], step + 1
        if client:
            client.log_metric(config["mlflow_run_id"], "train_loss", loss, step=done)
        if config.get("step_seconds"):
            time.sleep(config["step_seconds"])
        if ray.train.get_preemption_info() is not None:
            # A node of this group is being reclaimed: checkpoint now and train nothing more until Ray
            # Train restarts the group from this checkpoint (at the drain deadline or when the node is gone).
            save(done, loss, "preemption")
            while True:
                time.sleep(1)
        if done % every == 0 or done == steps:
            save(done, loss, "interval" if done < steps else "final")


def run(features_path: str, label: str, entity: str, experiment: str, run_name: str, storage: str,
        workers: int, worker_cpus: int, steps: int, checkpoint_every: int, max_failures: int,
        keep_checkpoints: int, gpu: bool = False, learning_rate: float = 0.5, batch_size: int = 256,
        seed: int = 0, step_seconds: float = 0.0, address: str | None = None) -> dict:
    for flag, value in (("--workers", workers), ("--worker-cpus", worker_cpus), ("--steps", steps),
                        ("--checkpoint-every", checkpoint_every), ("--keep-checkpoints", keep_checkpoints),
                        ("--batch-size", batch_size)):
        if value < 1:
            raise StepError(f"train-distributed: {flag} {value!r} must be >= 1")
    if max_failures < 0:
        raise StepError(f"train-distributed: --max-failures {max_failures!r} must be >= 0")
    if checkpoint_every > steps:
        raise StepError(f"train-distributed: --checkpoint-every {checkpoint_every} must be <= --steps {steps}")
    features.read(features_path, label, entity)  # bad input fails here, with one line, before any cluster work
    import ray
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.v2.api.data_parallel_trainer import DataParallelTrainer
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    ray.init(address=address or os.environ.get("RAY_ADDRESS") or "auto")
    try:
        # The averager lives where the driver runs (the head node, never on spot).
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        averager = _averager_class().options(scheduling_strategy=here).remote(workers)
        client = _mlflow_client()
        mlflow_run_id = None
        if client:
            experiment_id = _experiment_id(client, experiment)
            mlflow_run_id = client.create_run(experiment_id, run_name=run_name, tags={"mlops.dev/engine": "ray-train"}).info.run_id
            for key, value in {"workers": workers, "worker_cpus": worker_cpus, "steps": steps, "gpu": gpu,
                               "checkpoint_every": checkpoint_every, "max_failures": max_failures,
                               "learning_rate": learning_rate, "batch_size": batch_size, "storage": storage,
                               "features": features_path}.items():
                client.log_param(mlflow_run_id, key, value)
        trainer = DataParallelTrainer(
            train_loop,
            train_loop_config={"features": features_path, "label": label, "entity": entity, "steps": steps,
                               "checkpoint_every": checkpoint_every, "learning_rate": learning_rate,
                               "batch_size": batch_size, "seed": seed, "averager": averager,
                               "mlflow_run_id": mlflow_run_id, "step_seconds": step_seconds},
            scaling_config=ScalingConfig(num_workers=workers, use_gpu=gpu,
                                         resources_per_worker={"CPU": worker_cpus}),
            run_config=RunConfig(
                name=run_name, storage_path=storage,
                failure_config=FailureConfig(max_failures=max_failures, max_preemption_failures=max_failures),
                checkpoint_config=CheckpointConfig(num_to_keep=keep_checkpoints)))
        result = trainer.fit()
        metrics = dict(result.metrics or {})
        resumes = [int(s) for s in str(metrics.get("resumes", "")).split(",") if s]
        if client:
            client.log_metric(mlflow_run_id, "final_loss", float(metrics["loss"]), step=int(metrics["step"]))
            client.set_terminated(mlflow_run_id)
        return {"run_name": run_name, "steps": int(metrics["step"]), "loss": float(metrics["loss"]),
                "resumed_from": resumes, "checkpoint": result.checkpoint.path if result.checkpoint else None,
                "mlflow_run_id": mlflow_run_id}
    finally:
        ray.shutdown()


def _experiment_id(client, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    return experiment.experiment_id if experiment else client.create_experiment(name)
