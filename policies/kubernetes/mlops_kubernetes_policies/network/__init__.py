"""Rules about Kubernetes network resources."""
