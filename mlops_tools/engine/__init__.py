"""The offline engine: run a Pulumi program under the SDK's mock monitor and write its plan file.

Owns: `preview` (running a program or stack under the mock monitor), `mocks` (the answers a real
engine would give, one module per cloud like `components/`), `plan` (the plan file format).
May import: the Pulumi SDK, `stacks.config`. Never imports policy, review, validate or ops: every
other job builds on the plan this package writes.
"""
