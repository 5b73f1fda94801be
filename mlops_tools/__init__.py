"""mlops_tools: the platform's own tooling, one package per job (see docs/architecture.md).

Layers, lowest first; a package imports only from its own layer or below:

- `cmdline`   exit codes and argument parsing shared by every command (imports nothing here);
- `engine`    runs a Pulumi program under the mock monitor and writes the plan file;
- `policy`    runs the policy packs over the Analyzer protocol, waivers, reports (imports engine);
- `review`    what a reviewer reads: plan summary, plan diff, architecture picture, benchmark
              (imports engine, policy); the cost estimate will live in `review/cost/`;
- `validate`  validators of rendered artifacts: Kubernetes manifests, GitHub workflows (imports engine);
- `ops`       commands against live clouds: the cloud-neutral DR runbook engine (`ops/runbook`),
              drift report, and one package per cloud (`ops/aws` today) — imports only cmdline;
- `cli`       the one command line, `python -m mlops_tools ...`, dispatching to all of the above.

The old flat module paths (`mlops_tools.dr`, `mlops_tools.preview`, ...) are aliases kept for one
release (CHANGELOG.md).
"""
