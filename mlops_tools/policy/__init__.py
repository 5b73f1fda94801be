"""Policy: run the CrossGuard packs under `policies/` over the Analyzer protocol, apply waivers, render reports.

Owns: `runner` (pack discovery and the gRPC Analyzer client), `waivers`, `reports` (text, json, sarif, junit).
May import: engine. Never imports review, validate or ops.
"""
