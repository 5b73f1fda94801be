"""gcp-sql-databaseinstance-enable-pgaudit (Checkov CKV_GCP_110): the platform's tracking database with its
MLflow migrate step passes; a missing flag, a class list that leaves out DDL or role changes, or no step
that creates the extension fails with one finding; the pack reports it over the Analyzer protocol."""
from pathlib import Path

import pytest

from components.k8s import mlflow as mlflow_component
from components.tracking import gcp as tracking_gcp
from mlops_gcp_policies.sql import database_instance_pgaudit as pgaudit
from mlops_tools.policy.runner import run_policy_packs
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack, resource

RULE = pgaudit.RULE
PACK = Path(__file__).resolve().parents[3] / "policies" / "gcp"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def instance(flags=None, version="POSTGRES_16", name="tracking-db"):
    flags = tracking_gcp.tracking_db_flags() if flags is None else flags
    return Res(SQL, name, {"databaseVersion": version, "settings": {"tier": "db-custom-2-7680", "databaseFlags": flags}})


def flags_without(name, **replace):
    kept = [f for f in tracking_gcp.tracking_db_flags() if f["name"] != name]
    return kept + [{"name": k.replace("__", "."), "value": v} for k, v in replace.items()]


def migrate_step(extensions="pgaudit", name="mlflow"):
    env = [{"name": "MLFLOW_BACKEND_STORE_URI", "valueFrom": {"secretKeyRef": {"name": "mlflow-database", "key": "uri"}}}]
    if extensions is not None:
        env.append({"name": pgaudit.EXTENSIONS_ENV, "value": extensions})
    return Res(DEPLOYMENT, name, {"metadata": {"name": name}, "spec": {"template": {"spec": {
        "initContainers": [{"name": "migrate", "image": "ghcr.io/mlflow/mlflow:v3.10.1-full", "env": env}],
        "containers": [{"name": "mlflow", "image": "ghcr.io/mlflow/mlflow:v3.10.1-full"}]}}}})


def test_the_platforms_flags_and_migrate_step_pass():
    assert check_stack(RULE, [instance(), migrate_step()]).passed


def test_the_rule_reads_the_env_var_the_migrate_step_writes():
    assert pgaudit.EXTENSIONS_ENV == mlflow_component.EXTENSIONS_ENV
    assert "pgaudit" in tracking_gcp.DB_EXTENSIONS


@pytest.mark.parametrize("flags,fragment", [
    (flags_without("cloudsql.enable_pgaudit"), "cloudsql.enable_pgaudit to on"),
    (flags_without("cloudsql.enable_pgaudit", cloudsql__enable_pgaudit="off"), "cloudsql.enable_pgaudit to on"),
    (flags_without("pgaudit.log"), "does not audit ddl, role"),
    (flags_without("pgaudit.log", pgaudit__log="write"), "does not audit ddl, role"),
    (flags_without("pgaudit.log", pgaudit__log="all,-role"), "does not audit role"),
    (flags_without("pgaudit.log", pgaudit__log="none"), "does not audit ddl, role"),
], ids=["flag-missing", "flag-off", "log-unset", "log-write-only", "log-all-but-role", "log-none"])
def test_an_instance_that_does_not_audit_fails_once(flags, fragment):
    db = instance(flags)
    outcome = check_stack(RULE, [db, migrate_step()])
    assert len(outcome.violations) == 1 and outcome.violations[0][1] == db.urn
    assert fragment in outcome.messages[0]


@pytest.mark.parametrize("setting", ["ddl,role", " DDL , Role ,write", "all", "all,-read"])
def test_class_lists_that_cover_ddl_and_role_pass(setting):
    assert check_stack(RULE, [instance(flags_without("pgaudit.log", pgaudit__log=setting)), migrate_step()]).passed


@pytest.mark.parametrize("step", [None, migrate_step(extensions=None), migrate_step(extensions="pg_trgm")],
                         ids=["no-workload", "migrate-without-extensions", "other-extension"])
def test_flags_without_a_step_that_creates_the_extension_fail(step):
    db = instance()
    outcome = check_stack(RULE, [db, *([step] if step else [])])
    assert len(outcome.violations) == 1 and "nothing in the program runs CREATE EXTENSION pgaudit" in outcome.messages[0]


def test_an_instance_without_pgaudit_gets_one_finding_naming_every_missing_step():
    db = instance(flags=[{"name": "log_connections", "value": "on"}])
    outcome = check_stack(RULE, [db])
    assert len(outcome.violations) == 1
    assert all(part in outcome.messages[0] for part in ("cloudsql.enable_pgaudit to on", "does not audit ddl, role",
                                                         "nothing in the program runs CREATE EXTENSION pgaudit"))


def test_a_postgresql_provider_extension_also_creates_it():
    extension = Res(pgaudit.EXTENSION, "pgaudit", {"name": "pgaudit", "database": "mlflow"})
    assert check_stack(RULE, [instance(), extension]).passed


def test_mysql_instances_are_out_of_scope():
    assert check_stack(RULE, [instance(flags=[], version="MYSQL_8_0")]).passed


def test_unknown_flags_or_extension_list_are_cannot_check():
    assert "databaseFlags" in check_stack(RULE, [Res(SQL, "db", {"databaseVersion": "POSTGRES_16",
                                                                "settings": {"databaseFlags": UNKNOWN}})]).cannot_check
    outcome = check_stack(RULE, [instance(), migrate_step(extensions=UNKNOWN)])
    assert outcome.violations == [] and "whether mlflow creates the pgaudit extension" in outcome.cannot_check


def test_required_classes_config_applies():
    outcome = check_stack(RULE, [instance(), migrate_step()], config={"requiredClasses": ["ddl", "role", "write"]})
    assert "does not audit write" in outcome.messages[0]


def _as_planned(res):
    return resource(res.type, res.name, res.props)


def test_the_pack_passes_the_platform_and_reports_a_flag_only_instance_over_the_protocol():
    ok = [_as_planned(instance(name="ok-db")), _as_planned(migrate_step())]
    _, violations = run_policy_packs(ok, [PACK])
    assert [v for v in violations if v.policy == RULE.name] == []

    flag_only = _as_planned(instance(name="flag-only-db"))
    _, violations = run_policy_packs([flag_only], [PACK])
    found = [(v.urn, v.enforcement) for v in violations if v.policy == RULE.name]
    assert found == [(flag_only["urn"], "mandatory")]
