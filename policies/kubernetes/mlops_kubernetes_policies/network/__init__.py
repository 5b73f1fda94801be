"""Rules about Kubernetes network resources, and over what workloads may reach (NetworkPolicies correlated with the workloads they select)."""
