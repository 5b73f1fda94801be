"""A Cloud Billing budget's custom period must not start before the current month.

Budgets the platform creates follow the calendar month (``calendarPeriod: MONTH``), which never
goes stale. A custom period pins dates: a start date written into the program is in the past
the next time it runs, and the Budgets API rejects a period that has already ended.
"""
import datetime as dt

from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, get, is_unknown
from mlops_policy.support import AS_OF_SCHEMA, as_of


def _date(value):
    try:
        return dt.date(int(value["year"]), int(value["month"]), int(value.get("day") or 1))
    except (KeyError, TypeError, ValueError):
        return None


def check(resource, config):
    period = get(resource.props, "budgetFilter.customPeriod")
    if is_unknown(period):
        yield cannot_check("budgetFilter.customPeriod")
        return
    if not period:
        return
    today = as_of(config)
    start, end = _date(period.get("startDate") or {}), _date(period.get("endDate") or {}) if period.get("endDate") else None
    if start is None:
        yield cannot_check("budgetFilter.customPeriod.startDate")
    elif start < today.replace(day=1):
        yield (f"budgetFilter.customPeriod starts {start.isoformat()}, before the current month "
               f"({today:%Y-%m}): a date written into the program goes stale; use calendarPeriod or derive it from today.")
    if end is not None and end < today:
        yield f"budgetFilter.customPeriod ended {end.isoformat()}: the budget tracks nothing."


RULE = ResourceRule(
    name="gcp-billing-budget-require-current-period",
    description="Cloud Billing budgets follow the calendar period or a custom period that starts in the current month or later.",
    severity="medium",
    enforcement="mandatory",
    remediation="Use budget_filter.calendar_period='MONTH' (or derive the custom period's start from today's date).",
    frameworks=SOC2("CC7.1") + ISO27001("A.5.9"),
    tags=("billing", "deployability"),
    config={"asOf": AS_OF_SCHEMA},
    resource_types=("gcp:billing/budget:Budget",),
    check=check,
)
