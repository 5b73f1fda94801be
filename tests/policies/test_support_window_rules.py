"""Pinned versions and calendar dates are judged against today: RDS/EKS, Cloud SQL/GKE, and GCP budgets."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "policies" / "aws"), str(ROOT / "policies" / "gcp")]

from mlops_aws_policies.eks import cluster_supported_version as eks  # noqa: E402
from mlops_aws_policies.rds import database_supported_version as rds  # noqa: E402
from mlops_gcp_policies.billing import budget_current_period as budget  # noqa: E402
from mlops_gcp_policies.container import cluster_supported_version as gke  # noqa: E402
from mlops_gcp_policies.sql import database_instance_supported_version as cloudsql  # noqa: E402
from tests.policies.cloud_policy_harness import UNKNOWN, check_resource  # noqa: E402

AS_OF = {"asOf": "2026-12-05"}
CASES = [
    (rds, "aws:rds/instance:Instance", {"engine": "postgres", "engineVersion": "16"},
     {"engine": "postgres", "engineVersion": "16.6"}, "'16.6' can no longer be created since 2026-05-01"),
    (eks, "aws:eks/cluster:Cluster", {"version": "1.35"}, {"version": "1.34"}, "since 2026-12-02"),
    (cloudsql, "gcp:sql/databaseInstance:DatabaseInstance", {"databaseVersion": "POSTGRES_16"},
     {"databaseVersion": "POSTGRES_14"}, "since 2026-11-12"),
    (gke, "gcp:container/cluster:Cluster", {"minMasterVersion": "1.35.1-gke.1396000"}, {"minMasterVersion": "1.33"},
     "since 2026-06-30"),
]


@pytest.mark.parametrize("module,type_,good,bad,expected", CASES, ids=[c[0].RULE.name for c in CASES])
def test_supported_version_passes_and_an_ended_one_fails_naming_the_date_and_what_is_allowed(module, type_, good, bad, expected):
    assert check_resource(module.RULE, type_, good, config=AS_OF).passed
    outcome = check_resource(module.RULE, type_, bad, config=AS_OF)
    assert len(outcome.violations) == 1 and expected in outcome.messages[0] and "use one of:" in outcome.messages[0]


def test_unpinned_versions_pass_unknown_ones_cannot_be_checked_and_replicas_or_other_engines_are_skipped():
    assert check_resource(eks.RULE, "aws:eks/cluster:Cluster", {}, config=AS_OF).passed  # the cloud's current default
    assert check_resource(eks.RULE, "aws:eks/cluster:Cluster", {"version": UNKNOWN}, config=AS_OF).cannot_check
    assert check_resource(rds.RULE, "aws:rds/instance:Instance", {"engine": "mysql", "engineVersion": "5.7"}, config=AS_OF).passed
    assert check_resource(rds.RULE, "aws:rds/instance:Instance",
                          {"engine": "postgres", "replicateSourceDb": "arn:aws:rds:us-east-1:1:db:x"}, config=AS_OF).passed
    assert check_resource(cloudsql.RULE, "gcp:sql/databaseInstance:DatabaseInstance",
                          {"databaseVersion": "POSTGRES_16", "masterInstanceName": "primary"}, config=AS_OF).passed


def test_a_budget_following_the_calendar_passes_and_a_stale_custom_period_fails():
    type_ = "gcp:billing/budget:Budget"
    assert check_resource(budget.RULE, type_, {"budgetFilter": {"calendarPeriod": "MONTH"}}, config=AS_OF).passed
    current = {"budgetFilter": {"customPeriod": {"startDate": {"year": 2026, "month": 12, "day": 1}}}}
    assert check_resource(budget.RULE, type_, current, config=AS_OF).passed
    stale = {"budgetFilter": {"customPeriod": {"startDate": {"year": 2026, "month": 11, "day": 1}}}}
    outcome = check_resource(budget.RULE, type_, stale, config=AS_OF)
    assert outcome.messages == ["budgetFilter.customPeriod starts 2026-11-01, before the current month (2026-12): a date "
                                "written into the program goes stale; use calendarPeriod or derive it from today."]
