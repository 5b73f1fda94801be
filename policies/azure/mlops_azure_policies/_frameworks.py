"""Benchmarks the shared library does not define yet (tell the lead: candidates for mlops_policy)."""
from mlops_policy import Framework

CIS_AKS = Framework("cis-aks-v1.5.0", "CIS Azure Kubernetes Service (AKS) Benchmark", "1.5.0")
