"""`make smoke`'s set-up builds every venv the smoke tests use before the per-stack processes start side
by side; a venv left to its first test is built by two processes at once into the same directory."""
from mlops_tools.smoke.envs import REQUIREMENTS
from mlops_tools.smoke.setup import VENVS


def test_the_set_up_builds_every_pinned_smoke_venv():
    assert sorted(VENVS) == sorted(path.stem for path in REQUIREMENTS.glob("*.txt"))


def test_the_plans_cloud_sql_flags_become_local_postgres_settings(monkeypatch):
    """make smoke runs the GCP stacks' tracking database with the rendered flags: cloudsql.enable_pgaudit loads the
    pgAudit library as Cloud SQL does, PostgreSQL's own flags pass unchanged, Cloud SQL-only ones are listed."""
    from mlops_tools.smoke import db_flags
    from mlops_tools.smoke.plan import Plan

    asked = []
    monkeypatch.setattr(db_flags, "system_program", asked.append)
    flags = [{"name": "cloudsql.iam_authentication", "value": "on"}, {"name": "log_connections", "value": "on"},
             {"name": "cloudsql.enable_pgaudit", "value": "on"}, {"name": "pgaudit.log", "value": "ddl,role"}]

    def plan(*resources):
        return Plan({"stack": "gcp-dev", "cloud": "gcp", "resources": list(resources)})

    def instance(name, **inputs):
        return {"type": db_flags.SQL_INSTANCE, "name": name, "inputs": {"databaseVersion": "POSTGRES_16", **inputs}}

    primary = instance("tracking-db", settings={"databaseFlags": flags})
    replica = instance("tracking-db-replica", masterInstanceName="x", settings={"databaseFlags": []})
    result = db_flags.database_settings(plan(primary, replica))
    assert result.settings == {"shared_preload_libraries": "pgaudit", "log_connections": "on", "pgaudit.log": "ddl,role"}
    assert result.pgaudit and result.not_reproduced == ["cloudsql.iam_authentication=on"] and asked == ["pgaudit.so"]
    assert db_flags.database_settings(plan()).settings == {}  # AWS and Azure plans: no Cloud SQL
