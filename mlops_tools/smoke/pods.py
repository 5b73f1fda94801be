"""Run a rendered pod's containers as local processes, changing only what a laptop must.

What is kept from the plan: each container's command and args, its environment (literal values and
Secret/ConfigMap references), the init containers and their order. What a local run changes, and
only this:

- each pod volume becomes a private directory; every mount path in argv and env is rewritten to it
  (e.g. ``/tmp`` -> ``<dir>/tmp``), so containers share files exactly as their mounts say;
- the program (``argv[0]``) is taken from the software's pinned virtualenv (``bin_dir``);
- ``overrides`` replace the values of named flags (bind ``--host 127.0.0.1`` and a free ``--port``
  instead of ``0.0.0.0`` and the container port);
- ``extra_env`` adds what the cluster would provide around the pod (workload identity -> the
  emulator's endpoint and the run's credentials). Tests say what they add.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.plan import Container, Workload
from mlops_tools.smoke.procs import Proc, Processes


@dataclass
class LocalPod:
    workload: Workload
    bin_dir: Path
    secrets: Mapping[str, str]
    extra_env: Mapping[str, str] = field(default_factory=dict)
    volumes: dict[str, Path] = field(default_factory=dict)

    def _mounts(self, container: Container) -> list[tuple[str, Path]]:
        mounts = []
        for mount in container.spec.get("volumeMounts", []):
            if mount["name"] not in self.volumes:
                raise SmokeFailure(f"{self.workload.component} container {container.name}: volumeMount "
                                   f"{mount['name']!r} names no pod volume")
            mounts.append((mount["mountPath"].rstrip("/"), self.volumes[mount["name"]]))
        # Longest path first, so /tmp/x is matched before /tmp.
        return sorted(mounts, key=lambda item: -len(item[0]))

    def localize(self, container: Container, value: str) -> str:
        """Rewrite container paths under a mount to the volume's local directory (one pass, whole
        path segments only, so a rewritten path is never rewritten again)."""
        mounts = dict(self._mounts(container))
        if not mounts:
            return value
        pattern = re.compile(r"(?<![\w./-])(" + "|".join(re.escape(path) for path in mounts) + r")(?=/|$|[^\w.-])")
        return pattern.sub(lambda match: str(mounts[match.group(1)]), value)

    def argv(self, container: Container, overrides: Optional[Mapping[str, str]] = None) -> list[str]:
        argv = [self.localize(container, arg) for arg in container.argv]
        program = self.bin_dir / argv[0]
        if program.exists():
            argv[0] = str(program)
        for flag, value in (overrides or {}).items():
            if flag not in argv:
                raise SmokeFailure(f"{self.workload.component} container {container.name}: no {flag} in the rendered "
                                   f"command {container.argv}")
            argv[argv.index(flag) + 1] = value
        return argv

    def env(self, container: Container) -> dict[str, str]:
        rendered = self.workload.env(container, self.secrets)
        env = {"PATH": f"{self.bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
        env.update({key: self.localize(container, value) for key, value in rendered.items()})
        env.update(self.extra_env)
        return env

    def run_init_containers(self, procs: Processes, timeout: float = 180) -> None:
        """Run every init container to completion, in order, as the kubelet does."""
        for container in self.workload.init_containers:
            try:
                procs.run(f"{self.workload.name}-init-{container.name}", self.argv(container), self.env(container),
                          timeout=timeout)
            except SmokeFailure as error:
                raise SmokeFailure(f"{self.workload.component} init container {container.name} failed: {error}") from None

    def start(self, procs: Processes, name: str, overrides: Optional[Mapping[str, str]] = None) -> Proc:
        container = self.workload.container(name)
        return procs.start(f"{self.workload.name}-{name}", self.argv(container, overrides), self.env(container))


def local_pod(procs: Processes, workload: Workload, bin_dir: Path, secrets: Mapping[str, str],
              extra_env: Optional[Mapping[str, str]] = None) -> LocalPod:
    """A ``LocalPod`` with one private directory per pod volume (emptyDir, ConfigMap, Secret alike)."""
    pod = LocalPod(workload, bin_dir, secrets, dict(extra_env or {}))
    base = procs.temp_dir(f"pod-{workload.name}")
    for volume in workload.pod.get("volumes", []):
        path = base / volume["name"]
        path.mkdir()
        os.chmod(path, 0o700)
        if "configMap" in volume:
            data = workload.plan.k8s_object("ConfigMap", volume["configMap"]["name"], workload.namespace).get("data", {})
            for key, content in data.items():
                (path / key).write_text(content)
        pod.volumes[volume["name"]] = path
    return pod
