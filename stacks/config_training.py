"""``mlops:training``: distributed training on the spot pools (issue 11, capability 2): the KubeRay operator
and one ``RayJob`` per training pool, ready to start, that runs ``python -m pipelines train-distributed``
on the pool's nodes, checkpoints to the platform's object store and resumes after losing a node. Off by
default; see docs/training.md ("Distributed training on spot"). Part of the model in ``stacks/config.py``."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import Field, field_validator

from stacks.config_base import ConfigModel


class TrainingConfig(ConfigModel):
    enabled: bool = False
    # The image tag in the platform registry's training repository, built from pipelines/Dockerfile.ray
    # (the Ray image of RAY_VERSION + the step package). Registries keep tags immutable.
    image_tag: str = Field(default="ray-2.60.0-1", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    # The offline-store parquet and its columns (default: mlops:pipelines' featuresPath, label, entity; without
    # either, <the feature store's offline prefix>/<pipelines.modelName>.parquet).
    features_path: Optional[str] = Field(default=None, pattern=r"^(s3://|gs://|abfs://|abfss://|/)\S+\.parquet$")
    label: Optional[str] = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    entity: Optional[str] = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    # The training pools a RayJob is rendered for (names from mlops:trainingPools); empty = every spot pool.
    pools: list[str] = Field(default_factory=list)
    # Ray Train workers per job (one per node: each worker asks for a whole node's worth of the pool).
    workers: int = Field(default=2, ge=1, le=64)
    # What each worker pod requests (= its limit): CPU cores and memory; GPU pools add one GPU per worker.
    worker_cpu: int = Field(default=4, ge=1, le=192)
    worker_memory_gi: int = Field(default=16, ge=1, le=2048)
    # A checkpoint every N training steps: what a lost node costs at most (plus the step in flight).
    checkpoint_every: int = Field(default=50, ge=1, le=100000)
    # Worker-group restarts Ray Train allows per job (each lost node is one); -1 would be unlimited.
    max_failures: int = Field(default=5, ge=0, le=100)
    # Checkpoints kept in the object store (older ones are deleted by Ray Train).
    keep_checkpoints: int = Field(default=2, ge=1, le=20)
    # Resubmissions of the whole RayJob by KubeRay when the job fails after max_failures (or the head pod).
    backoff_limit: int = Field(default=2, ge=0, le=10)
    # The job's wall-clock limit: the RayJob fails (and its cluster is deleted) after this.
    active_deadline_seconds: int = Field(default=86400, ge=600, le=7 * 86400)
    # Training steps of the shipped job (python -m pipelines train-distributed --steps).
    steps: int = Field(default=2000, ge=1, le=10_000_000)

    @field_validator("pools")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a pool twice")
        return value


def training_problems(cfg: Any) -> list[tuple[tuple[Any, ...], Any, str]]:
    """The pools a RayJob runs on exist and are spot pools (on-demand pools need no interruption handling
    and are not what this job is for); the checkpoint interval leaves room for at least one checkpoint."""
    training = cfg.training
    if not training.enabled:
        return []
    problems: list[tuple[tuple[Any, ...], Any, str]] = []
    pools = {pool.name: pool for pool in cfg.training_pools}
    for index, name in enumerate(training.pools):
        if name not in pools:
            problems.append((("training", "pools", index), name,
                             f"is not a training pool of this stack (mlops:trainingPools: {', '.join(sorted(pools)) or 'none'})"))
        elif not pools[name].spot:
            problems.append((("training", "pools", index), name, "is an on-demand pool; distributed training on "
                             "spot runs on pools with spot: true"))
    if not training.pools and not any(pool.spot for pool in cfg.training_pools):
        problems.append((("training", "enabled"), True, "needs at least one training pool with spot: true"))
    for key in ("label", "entity"):
        if getattr(training, key) is None and getattr(cfg.pipelines, key) is None:
            problems.append((("training", key), None, f"is required when training.enabled is true (or set "
                             f"pipelines.{key}): the {key} column of the offline store's parquet"))
    if training.checkpoint_every > training.steps:
        problems.append((("training", "checkpointEvery"), training.checkpoint_every,
                         f"must be <= training.steps ({training.steps}): no checkpoint would be written"))
    return problems


def job_pools(cfg: Any) -> list[Any]:
    """The ``mlops:trainingPools`` entries a RayJob is rendered for, in stack-file order."""
    wanted: Optional[set[str]] = set(cfg.training.pools) or None
    return [pool for pool in cfg.training_pools
            if (pool.name in wanted if wanted else pool.spot)]
