"""Containers do not get passwords, tokens or keys as literal env values.

A literal env value is in the workload's spec for anyone who can read Deployments (far more
people than can read Secrets), in the Pulumi state, and in every rendered manifest. Use
``valueFrom.secretKeyRef`` (or a mounted Secret / External Secrets) instead.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._secrets import secret_problem
from .._workloads import WORKLOAD_TYPES, Workload


def check(resource, config):
    workload = Workload(resource)
    yield from workload.findings
    for label, container in workload.containers:
        env = container.get("env")
        if is_unknown(env):
            yield cannot_check(f"{label} env")
            continue
        for item in env or []:
            if not isinstance(item, dict) or item.get("valueFrom") is not None:
                continue
            problem = secret_problem(str(item.get("name", "")), item.get("value"))
            if problem:
                yield f"{label} env {problem}; reference a Secret with valueFrom.secretKeyRef."


RULE = ResourceRule(
    name="kubernetes-workload-container-disallow-plaintext-secrets",
    description="Container env values must not hold passwords, tokens, keys or URLs with credentials.",
    severity="high",
    enforcement="mandatory",
    remediation="Put the value in a Secret (or an ExternalSecret) and reference it with env[].valueFrom.secretKeyRef.",
    frameworks=CIS_KUBERNETES("5.4.1") + SOC2("CC6.1") + ISO27001("A.5.17", "A.8.24") + PCI_DSS("3.5.1", "8.3.2"),
    tags=("secrets",),
    resource_types=WORKLOAD_TYPES,
    check=check,
)
