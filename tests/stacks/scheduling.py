"""Where each pod of a rendered stack can run: node pools (labels, taints) against pod placement (nodeSelector,
tolerations), read from the plan. Used by the stack tests: since the AKS System pool is tainted for critical
add-ons only (issue 13, CKV_AZURE_232), every platform pod must still find an untainted or tolerated pool.

Pod specs come from the Kubernetes pack's own walker (built-in kinds, RayJobs, KServe), Argo workflow specs
(workflow-level placement, overridden per template) and Helm values (every mapping that sets a nodeSelector or
tolerations is one pod's placement; a chart pod without either lands on any untainted pool).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator

from mlops_policy import Resource, get

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policies" / "kubernetes"))
from mlops_kubernetes_policies._kinds import group_kind  # noqa: E402
from mlops_kubernetes_policies._workloads import ARGO, ARGO_WORKFLOW_SPEC, pods_of  # noqa: E402

AKS_SPOT_TAINT = {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"}


def _taint(text: str) -> dict:
    key_value, _, effect = text.rpartition(":")
    key, _, value = key_value.partition("=")
    return {"key": key, "value": value, "effect": effect}


def aks_pools(plan: dict) -> dict:
    """AKS pool name -> (labels, taints), with the labels and taints AKS itself adds."""
    pools = {}
    for resource in plan["resources"]:
        inputs = resource["inputs"]
        if resource["type"] == "azure-native:containerservice:ManagedCluster":
            entries = [(p["name"], p) for p in inputs.get("agentPoolProfiles", [])]
        elif resource["type"] == "azure-native:containerservice:AgentPool":
            entries = [(inputs["agentPoolName"], inputs)]
        else:
            continue
        for name, pool in entries:
            labels = {**(pool.get("nodeLabels") or {}), "kubernetes.io/os": "linux", "agentpool": name,
                      "kubernetes.azure.com/mode": str(pool.get("mode", "User")).lower()}
            taints = [_taint(t) for t in pool.get("nodeTaints") or []]
            if pool.get("scaleSetPriority") == "Spot":
                taints.append(AKS_SPOT_TAINT)
            pools[name] = (labels, taints)
    return pools


def _tolerates(tolerations: list, taint: dict) -> bool:
    for toleration in tolerations or []:
        if toleration.get("effect") not in (None, "", taint["effect"]):
            continue
        if toleration.get("operator") == "Exists" and not toleration.get("key"):
            return True
        if toleration.get("key") == taint["key"] and (
                toleration.get("operator") == "Exists" or toleration.get("value", "") == taint["value"]):
            return True
    return False


def fits(placement: dict, pool: tuple) -> bool:
    labels, taints = pool
    selector = placement.get("nodeSelector") or {}
    return all(labels.get(k) == v for k, v in selector.items()) and all(
        _tolerates(placement.get("tolerations"), t) for t in taints if t["effect"] in ("NoSchedule", "NoExecute"))


def _helm_placements(values: Any, path: str) -> Iterator[tuple]:
    if isinstance(values, dict):
        if "nodeSelector" in values or "tolerations" in values:
            yield path, {"nodeSelector": values.get("nodeSelector"), "tolerations": values.get("tolerations")}
        for key, value in values.items():
            yield from _helm_placements(value, f"{path}.{key}")
    elif isinstance(values, list):
        for i, value in enumerate(values):
            yield from _helm_placements(value, f"{path}[{i}]")


def placements(plan: dict) -> Iterator[tuple]:
    """(where, {nodeSelector, tolerations}) for every pod the plan renders or configures."""
    for r in plan["resources"]:
        if not r["type"].startswith("kubernetes:"):
            continue
        where = f"{r['type'].split(':')[-1]} {r['name']}"
        if r["type"] == "kubernetes:helm.sh/v3:Release":
            chart_default = {"nodeSelector": None, "tolerations": None}
            yield f"{where} (chart pods without placement values)", chart_default
            yield from ((f"{where} values{p}", placement) for p, placement in _helm_placements(r["inputs"].get("values"), ""))
            continue
        parsed = group_kind(r["type"])
        if parsed and parsed[0] == ARGO and parsed[1] in ARGO_WORKFLOW_SPEC:
            spec = get(r["inputs"], ARGO_WORKFLOW_SPEC[parsed[1]]) or {}
            for template in spec.get("templates") or []:
                if not any(k in template for k in ("container", "script", "containerSet", "resource")):
                    continue  # steps/dag templates run no pod of their own
                yield f"{where} template {template.get('name')}", {
                    "nodeSelector": template.get("nodeSelector", spec.get("nodeSelector")),
                    "tolerations": template.get("tolerations", spec.get("tolerations"))}
            continue
        resource = Resource(r["type"], r["name"], r["urn"], r["inputs"])
        for pod in pods_of(resource, []):
            yield f"{where} {pod.path}", pod.spec


def unschedulable(plan: dict) -> list:
    """Pods no pool of the plan admits (nodeSelector unmatched or a NoSchedule taint not tolerated)."""
    pools = aks_pools(plan)
    return [where for where, placement in placements(plan) if not any(fits(placement, p) for p in pools.values())]


def pools_admitting(plan: dict, placement: dict) -> list:
    return sorted(name for name, pool in aks_pools(plan).items() if fits(placement, pool))
