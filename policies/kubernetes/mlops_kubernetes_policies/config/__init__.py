"""Rules about Kubernetes config resources."""
