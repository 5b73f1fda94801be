"""Review: what a person reads about a change — the plan summary, the plan diff, the architecture picture,
the preview benchmark. The cost estimator will be added as `review/cost/`.

May import: engine, policy. Never imports validate or ops.
"""
