"""A spot interruption of a real multi-node Ray cluster, with a RayJob's rendered settings (smoke, issue 11).

Runs inside a private network namespace (``unshare --net``, only loopback: Ray binds its servers to every
interface of the node and resolves a loopback node address to the host's, so an own namespace is how
nothing it opens is reachable from outside). Run with the ``ray`` smoke venv's Python:
``ray_spot.py <settings.json> <report.json>``.

Settings (from the plan's RayJob, read by tests/smoke/test_distributed_training.py): ``entrypoint`` (the
rendered ``train-distributed`` argv), ``env`` (the rendered worker container's literal env: the drain
deadline and the preemption poll), ``grace`` (its terminationGracePeriodSeconds), ``features`` (a local
parquet), ``steps`` (a shorter run), ``step_seconds``, ``work`` (a directory).

What happens: moto's S3 server; a head node (no CPUs, as rendered) and two worker nodes (``ray start
--block`` with the rendered env and ``--num-cpus`` = the rendered worker CPUs); the driver with the rendered
flags (checkpoint interval, max failures, checkpoints kept, workers) and checkpoints in the emulator's
bucket; half an interval after the first periodic checkpoint, node B gets SIGTERM (what the kubelet sends
on a spot notice) and SIGKILL at the grace period if it still runs; a replacement node joins when B is
gone (the autoscaler's part); with ``kill_without_notice`` (Azure, where no SIGTERM may come), half an
interval after the next periodic checkpoint node A is killed without notice (SIGKILL) and replaced too; the
driver must finish. The report has the driver's result, the MLflow metric
history (file store) and the timings.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


class Cluster:
    def __init__(self, work: Path, env: dict[str, str]):
        self.work, self.env, self.procs = work, env, {}
        self.gcs_port = free_port()
        self.address = None
        # Ray's unix sockets live under the temp dir, and their paths may not exceed 107 bytes.
        self.temp_dir = tempfile.mkdtemp(prefix="ray-smoke-", dir="/tmp")

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "w")
        proc = subprocess.Popen(argv, env=env or self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def head(self) -> None:
        self.start("head", [str(BIN / "ray"), "start", "--head", "--block", f"--port={self.gcs_port}", "--num-cpus=0",
                            f"--temp-dir={self.temp_dir}", "--include-dashboard=false", "--disable-usage-stats"])
        log = self.work / "head.log"
        self._wait_started("head")
        ip = [line.split("Local node IP: ")[1].strip() for line in log.read_text().splitlines() if "Local node IP: " in line][0]
        self.address = f"{ip}:{self.gcs_port}"

    def worker(self, name: str, node_env: dict[str, str], cpus: int, index: int, attempts: int = 2) -> None:
        """A worker node as the pod runs it: ``ray start --block`` as the process the signal goes to, with
        the rendered env (the ports differ per node here, because all nodes share one address)."""
        low = 20000 + 200 * index
        argv = [str(BIN / "ray"), "start", f"--address={self.address}", "--block", f"--num-cpus={cpus}",
                f"--node-manager-port={free_port()}", f"--object-manager-port={free_port()}",
                f"--min-worker-port={low}", f"--max-worker-port={low + 150}", "--disable-usage-stats"]
        self.start(name, argv, {**self.env, **node_env})
        try:
            self._wait_started(name)
        except RuntimeError:
            # `ray start` gives a raylet 30 s (fixed in Ray) to register with the GCS; on a busy machine that
            # can pass. A new node is what the autoscaler would bring too.
            if attempts <= 1:
                raise
            self.worker(name, node_env, cpus, index, attempts - 1)

    def _wait_started(self, name: str) -> None:
        log, proc = self.work / f"{name}.log", self.procs[name]

        def started():
            if proc.poll() is not None:
                raise RuntimeError(f"Ray node {name} exited ({proc.returncode}): {log.read_text()[-2000:]}")
            return "Ray runtime started" in log.read_text()
        wait_for(started, 90, f"Ray node {name}")

    def stop(self) -> None:
        for proc in self.procs.values():
            kill_node(proc)
        if not os.environ.get("RAY_SMOKE_KEEP"):
            shutil.rmtree(self.temp_dir, ignore_errors=True)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Ray's raylet and workers run in sessions of their own, so a process-group
    kill would leave them running; a container's end kills them all, and so does this)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_node(proc: subprocess.Popen) -> None:
    """SIGKILL to a node's process and everything it started, as when its VM disappears."""
    for pid in [proc.pid, *descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _with(argv: list[str], flag: str, value: str) -> list[str]:
    out = list(argv)
    out[out.index(flag) + 1] = value
    return out


def _flag(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def _last_value(work: Path, metric: str, step: bool = False) -> float:
    """The last logged value (or step) of a metric in the MLflow file store (lines: timestamp value step)."""
    files = sorted((work / "mlruns").glob(f"*/*/metrics/{metric}"))
    lines = files[-1].read_text().split("\n") if files else []
    last = [line.split() for line in lines if len(line.split()) == 3]  # a line being written is skipped
    return float(last[-1][2 if step else 1]) if last else 0.0


def start_moto(work: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(work / "moto.log", "w")
    proc = subprocess.Popen([str(BIN / "python"), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    import urllib.request

    def up():
        try:
            return urllib.request.urlopen(f"{url}/moto-api/", timeout=2).status == 200
        except OSError:
            return False
    wait_for(up, 60, "moto")
    return proc, url


def checkpoints(s3, bucket: str, prefix: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted({key["Key"].split("/checkpoint_")[1].split("/")[0] for key in listed if "/checkpoint_" in key["Key"]})


def main(settings_path: str, report_path: str) -> int:
    settings = json.loads(Path(settings_path).read_text())
    work = Path(settings["work"])
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(work), "PYTHONPATH": str(REPO), "RAY_USAGE_STATS_ENABLED": "0",
           "AWS_ACCESS_KEY_ID": "smoke", "AWS_SECRET_ACCESS_KEY": "smoke-secret", "AWS_REGION": "us-east-1",
           "AWS_DEFAULT_REGION": "us-east-1", "MLFLOW_TRACKING_URI": f"file://{work / 'mlruns'}"}
    env.update(settings["env"])  # the rendered drain deadline and preemption poll, on every node as rendered
    moto, url = start_moto(work, env)
    env["AWS_ENDPOINT_URL"] = url
    import boto3

    bucket = "smoke-checkpoints"
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="smoke",
                      aws_secret_access_key="smoke-secret")
    s3.create_bucket(Bucket=bucket)
    entry = list(settings["entrypoint"])
    rendered_storage = _flag(entry, "--storage")
    storage = f"s3://{bucket}/{rendered_storage.split('://', 1)[1].split('/', 1)[1]}"
    entry = _with(_with(_with(entry, "--storage", storage), "--features", settings["features"]), "--steps", str(settings["steps"]))
    run_name, every = _flag(entry, "--run-name"), int(_flag(entry, "--checkpoint-every"))
    cpus = int(_flag(entry, "--worker-cpus"))
    timings: dict[str, float] = {}
    cluster = Cluster(work, env)
    started = time.monotonic()
    try:
        cluster.head()
        cluster.worker("node-a", settings["env"], cpus, 0)
        cluster.worker("node-b", settings["env"], cpus, 1)
        timings["cluster_up"] = time.monotonic() - started
        driver = cluster.start("driver", [str(BIN / "python"), *entry[1:], "--address", cluster.address,
                                          "--step-seconds", str(settings["step_seconds"])])
        prefix = f"{storage.split('/', 3)[3]}/{run_name}/"
        wait_for(lambda: checkpoints(s3, bucket, prefix) or driver.poll() is not None, 150, "the first periodic checkpoint")
        if driver.poll() is not None:
            raise RuntimeError("the driver ended before the interruption: " + (work / "driver.log").read_text()[-2000:])
        time.sleep(every * settings["step_seconds"] / 2)  # half an interval past a checkpoint
        before = checkpoints(s3, bucket, prefix)
        node_b = cluster.procs["node-b"]
        timings["sigterm"] = time.monotonic() - started
        node_b.send_signal(signal.SIGTERM)
        try:
            node_b.wait(timeout=settings["grace"])
            timings["node_b_killed"] = 0.0
        except subprocess.TimeoutExpired:  # the kubelet's SIGKILL at the end of the grace period
            kill_node(node_b)
            timings["node_b_killed"] = 1.0
        timings["node_b_gone"] = time.monotonic() - started
        cluster.worker("node-c", settings["env"], cpus, 2)  # the replacement spot node
        # Then a node lost without notice (Azure without a drain handler, a hardware failure): SIGKILL of the
        # whole node half an interval after the next periodic checkpoint; the job resumes from that one.
        if settings.get("kill_without_notice"):
            # Half an interval past the first periodic checkpoint after the resume, read from the MLflow file
            # store's step history (the run is too quick for polling the object store).
            resumed = wait_for(lambda: _last_value(work, "resumed_from_step") or driver.poll() is not None, 150,
                               "the resume")
            target = (int(resumed) // every + 1) * every + every // 2
            wait_for(lambda: _last_value(work, "train_loss", step=True) >= target or driver.poll() is not None, 150,
                     f"step {target}", interval=0.05)
        if settings.get("kill_without_notice") and driver.poll() is None:
            time.sleep(every * settings["step_seconds"] / 2)
            timings["sigkill"] = time.monotonic() - started
            kill_node(cluster.procs["node-a"])
            cluster.worker("node-d", settings["env"], cpus, 3)
        driver.wait(timeout=300)
        timings["driver_done"] = time.monotonic() - started
        output = (work / "driver.log").read_text()
        result = None
        for line in reversed(output.splitlines()):
            if line.startswith("{"):
                result = json.loads(line)
                break
        history = []
        if result and result.get("mlflow_run_id"):
            from mlflow.tracking import MlflowClient

            client = MlflowClient(env["MLFLOW_TRACKING_URI"])
            history = [(m.step, m.timestamp) for m in client.get_metric_history(result["mlflow_run_id"], "train_loss")]
            resumed = [m.value for m in client.get_metric_history(result["mlflow_run_id"], "resumed_from_step")]
        else:
            resumed = []
        Path(report_path).write_text(json.dumps({
            "driver_exit": driver.returncode, "result": result, "driver_tail": output[-3000:],
            "node_b_log": (work / "node-b.log").read_text()[-3000:], "checkpoints_before_sigterm": before,
            "checkpoints_after": checkpoints(s3, bucket, prefix), "history": history, "resumed_from_mlflow": resumed,
            "timings": timings, "entrypoint": entry, "env": settings["env"], "checkpoint_every": every}, indent=1))
        return 0
    finally:
        cluster.stop()
        moto.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
