"""Review: what a person reads about a change — the plan summary, the plan diff, the architecture picture,
the preview benchmark, the cost estimate (`review/cost/`).

May import: engine, policy. Never imports validate or ops.
"""
