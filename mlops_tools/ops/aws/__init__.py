"""AWS operations: `clients` (boto3 clients, AWS error messages), `bootstrap` (self-managed state backend),
`dr` (the DR runbook's AWS calls, checks and procedures, run by the cloud-neutral `ops.runbook` engine).
"""
