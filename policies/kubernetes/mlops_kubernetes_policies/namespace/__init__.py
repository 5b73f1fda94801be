"""Rules about Kubernetes namespace resources."""
