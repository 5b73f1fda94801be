"""Issue 11, capability 2: distributed training on spot survives losing a node, with the stack's rendered
RayJob settings on the real Ray (``ray`` smoke venv, the version the RayJob pins).

A local Ray cluster (head without CPUs, two worker nodes advertising the rendered worker CPUs) runs
``python -m pipelines train-distributed`` with the rendered flags (workers, checkpoint interval, max
failures, checkpoints kept) and checkpoints in moto's S3; the worker nodes get the rendered env (Ray's
drain deadline on SIGTERM, Ray Train's preemption poll). Half an interval after a periodic checkpoint one
node gets SIGTERM, as the kubelet sends it on a spot notice, and SIGKILL at the rendered grace period;
a replacement node joins; on Azure the other node is then killed without notice (SIGKILL) and replaced too. The run must resume from a checkpoint past step 0, train no step twice beyond
one checkpoint interval, keep at most the rendered number of checkpoints, and finish; MLflow (its file
store: the cluster runs in its own network namespace, see clients/ray_spot.py) holds the step history.
"""

from __future__ import annotations

import collections
import json
import shlex
import subprocess

import pytest

from mlops_tools.smoke import envs
from mlops_tools.smoke.mlflow import CLIENTS

STEPS_IN_INTERVALS = 5  # the smoke trains 5 checkpoint intervals (the rendered --steps would take hours)
STEP_SECONDS = 0.05


def rendered_job(plan) -> dict:
    """The RayJob of the stack's first CPU spot pool (the GPU one differs only in GPU requests/tolerations)."""
    jobs = [r for r in plan.resources("kubernetes:ray.io/v1:RayJob")
            if "--gpu" not in shlex.split(r["inputs"]["spec"]["entrypoint"])]
    assert jobs, f"{plan.stack}: no CPU RayJob in the plan (mlops:training.enabled?)"
    return jobs[0]["inputs"]


@pytest.fixture(scope="session")
def ray_bin():
    return envs.venv("ray")


def test_spot_interruption_resumes_from_checkpoint(plan, ray_bin, tmp_path, report):
    job = rendered_job(plan)
    spec = job["spec"]
    assert spec["rayClusterSpec"]["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    worker = spec["rayClusterSpec"]["workerGroupSpecs"][0]["template"]["spec"]
    env = {e["name"]: e["value"] for e in worker["containers"][0]["env"] if e["name"].startswith("RAY_") and "value" in e}
    assert set(env) == {"RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S", "RAY_TRAIN_PREEMPTION_POLL_INTERVAL_S"}, env
    entrypoint = shlex.split(spec["entrypoint"])
    every = int(entrypoint[entrypoint.index("--checkpoint-every") + 1])
    keep = int(entrypoint[entrypoint.index("--keep-checkpoints") + 1])
    features = tmp_path / "features.parquet"
    subprocess.run([str(ray_bin / "python"), str(CLIENTS / "pipeline_data.py"), "clean", str(features), "7"],
                   check=True, timeout=120)
    settings = {"entrypoint": entrypoint, "env": env, "grace": worker["terminationGracePeriodSeconds"],
                "features": str(features), "steps": STEPS_IN_INTERVALS * every, "step_seconds": STEP_SECONDS,
                "work": str(tmp_path / "work"),
                # Azure: AKS drains nothing on the 30 s notice by default, so a node can go without SIGTERM;
                # the run also loses a node that way and must resume from the last periodic checkpoint.
                "kill_without_notice": plan.cloud == "azure"}
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    unshare, _ = envs.system_program("unshare"), envs.system_program("ip")
    # Own network and PID namespaces: nothing Ray opens is reachable from outside, and when the runner
    # ends (or is killed on timeout) the kernel ends every process of the cluster with it.
    result = subprocess.run([unshare, "--net", "--pid", "--fork", "--kill-child", "--mount-proc",
                             str(ray_bin / "python"), str(CLIENTS / "ray_spot.py"), str(tmp_path / "settings.json"),
                             str(tmp_path / "report.json")], capture_output=True, text=True, timeout=600,
                            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONWARNINGS": "ignore::FutureWarning"})
    assert result.returncode == 0, result.stderr[-3000:]
    run = json.loads((tmp_path / "report.json").read_text())
    assert run["driver_exit"] == 0 and run["result"], run["driver_tail"]
    assert run["result"]["steps"] == settings["steps"]
    assert "received SIGTERM. Draining" in run["node_b_log"], run["node_b_log"]
    resumed = run["result"]["resumed_from"]
    assert resumed and 0 < resumed[0] < settings["steps"], run["result"]  # the checkpoint written on the notice
    if settings["kill_without_notice"]:  # the node lost without notice: back to the last periodic checkpoint
        assert "sigkill" in run["timings"], run["timings"]
        assert len(resumed) == 2 and resumed[1] > resumed[0] and resumed[1] % every == 0, resumed
    assert run["resumed_from_mlflow"] == [float(step) for step in resumed]
    logged = collections.Counter(step for step, _ in run["history"])
    assert set(logged) == set(range(1, settings["steps"] + 1)), "every step logged to MLflow once at least"
    twice = sorted(step for step, count in logged.items() if count > 1)
    assert len(twice) <= every, f"steps trained twice beyond one interval ({every}): {twice}"
    kept = [c for c in run["checkpoints_after"] if c != "manager_snapshot.json"]
    assert 1 <= len(kept) <= keep, run["checkpoints_after"]
    timings = run["timings"]
    report(f"distributed training (Ray {envs_version(ray_bin)}): 2 workers x {entrypoint[entrypoint.index('--worker-cpus') + 1]} "
           f"CPUs, checkpoint every {every} steps; SIGTERM at {timings['sigterm']:.0f}s, drain "
           f"{env['RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S']}s, resumed from steps {resumed}{' (notice, then SIGKILL)' if settings['kill_without_notice'] else ''}, {len(twice)} steps "
           f"trained twice, done at {timings['driver_done']:.0f}s ({len(kept)} checkpoints kept)")


def envs_version(ray_bin) -> str:
    return subprocess.run([str(ray_bin / "python"), "-c", "import ray; print(ray.__version__)"], capture_output=True,
                          text=True, timeout=60).stdout.strip()


def test_rendered_mlflow_env_is_what_the_training_images_client_reads(plan, ray_bin):
    """The head (driver) and workers (train loop) carry the env names the ray venv's MLflow client (the
    image's mlflow-skinny) reads for the tracking URL and basic-auth, the credentials from a Secret."""
    spec = rendered_job(plan)["spec"]
    probe = ("import json, mlflow.environment_variables as v; print(json.dumps("
             "[v.MLFLOW_TRACKING_URI.name, v.MLFLOW_TRACKING_USERNAME.name, v.MLFLOW_TRACKING_PASSWORD.name]))")
    uri, user, password = json.loads(subprocess.run([str(ray_bin / "python"), "-c", probe], check=True, timeout=120,
                                                    capture_output=True, text=True).stdout)
    for pod in (spec["rayClusterSpec"]["headGroupSpec"]["template"], spec["rayClusterSpec"]["workerGroupSpecs"][0]["template"]):
        env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
        assert env[uri]["value"].startswith("http://") and env[uri]["value"].endswith(":5000"), env.get(uri)
        assert all("secretKeyRef" in env[name]["valueFrom"] for name in (user, password)), env
