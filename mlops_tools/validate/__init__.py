"""Validate: check rendered artifacts against their real schemas — Kubernetes manifests (`manifests`),
GitHub workflows (`workflows`); custom resources will come here too.

May import: engine, cmdline. Never imports policy, review or ops.
"""
