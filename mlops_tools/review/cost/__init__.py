"""Cost estimate of a plan: monthly figures per resource, component and stack, from a committed price snapshot.

Contract (cloud-neutral):
    cost_section(plan, snapshot=None, budget_usd=None) -> dict     the plan file's `cost` section
    estimate_items(plan, snapshot=None) -> list[Item]              every custom resource, priced/free/unpriced
    render_summary(section) / render_table(section, fmt)           preview lines / `make cost` table
    render_cost_delta(old_plan, new_plan) -> str                   the PR comment's cost section
One pricing module per cloud (aws.py, azure.py, gcp.py; kubernetes.py for cluster objects) maps plan
resources to priced quantities; api/ holds the price-API clients that `make prices` uses to refresh
snapshot/<cloud>.json. The preview never touches the network.
"""

from mlops_tools.review.cost.estimate import budget_from_plan, cost_section, estimate_items, price_keys
from mlops_tools.review.cost.render import render_cost_delta, render_summary, render_table

__all__ = ["budget_from_plan", "cost_section", "estimate_items", "price_keys", "render_cost_delta",
           "render_summary", "render_table"]
