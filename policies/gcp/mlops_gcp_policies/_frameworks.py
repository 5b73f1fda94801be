"""Benchmarks the shared library does not define yet (tell the lead: candidates for mlops_policy)."""
from mlops_policy import Framework

CIS_GKE = Framework("cis-gke-v1.5.0", "CIS Google Kubernetes Engine (GKE) Benchmark", "1.5.0")
