"""Operations: commands that act on or read a live deployment.

Owns: `runbook` (the cloud-neutral DR runbook engine: stack outputs, confirmations, waiting, status
report, RPO/RTO verdicts, the `status/failover/failback` command line), `drift` (the nightly drift
verdict, cloud-neutral: it reads the Pulumi CLI's JSON), `dr` (picks the runbook from the stack file's
`mlops:cloud`), and one package per cloud with only that cloud's calls: `aws` (state backend bootstrap, DR
runbook), `azure` and `gcp` (DR runbooks), each plugged into `runbook` the same way.
May import: cmdline and the cloud SDKs. Never imports engine, policy, review or validate.
"""
