"""Access rules: who can reach the platform UIs from outside the cluster."""
