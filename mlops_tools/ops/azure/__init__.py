"""Azure operations: the DR runbook (`dr`)."""
