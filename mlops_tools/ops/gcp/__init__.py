"""GCP operations: the DR runbook (`dr`)."""
