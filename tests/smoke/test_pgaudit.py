"""pgAudit on the tracking database (Checkov CKV_GCP_110), with real PostgreSQL and pgAudit: the plan's Cloud
SQL flags become the local server's settings (``cloudsql.enable_pgaudit`` loads the library, ``pgaudit.log``
as rendered), the rendered MLflow migrate step creates the extension in the mlflow database, and the
server log then has an AUDIT line for every DDL and role statement, and none for reads and writes."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from mlops_tools.smoke.db_flags import database_settings
from mlops_tools.smoke.envs import system_program

PROBE_ROLE, PROBE_TABLE = "smoke_audit_probe", "smoke_audit_rows"


def _psql(db, sql: str) -> str:
    result = subprocess.run([system_program("psql"), "-v", "ON_ERROR_STOP=1", "-h", db.host, "-p", str(db.port),
                             "-U", db.user, "-d", db.database, "-tAc", sql],
                            env={"PATH": os.environ["PATH"], "PGPASSWORD": db.password, "PGSSLMODE": "require"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _audit_lines(db, since=None) -> list[str]:
    return [line for line in db.server_log(since).splitlines() if "AUDIT: SESSION," in line]


def test_the_rendered_flags_and_migrate_step_audit_ddl_and_role_changes_but_not_reads_or_writes(plan, mlflow_run, report):
    if plan.cloud != "gcp":
        pytest.skip(f"{plan.stack}: pgAudit is a Cloud SQL control (the MLflow smoke of this cloud runs without it)")
    settings = database_settings(plan)
    assert settings.pgaudit, f"{plan.stack}: the Cloud SQL flags do not set cloudsql.enable_pgaudit=on"
    db = mlflow_run.database
    # The rendered migrate step ran CREATE EXTENSION; nothing else in the run does.
    assert _psql(db, "SELECT extname FROM pg_extension WHERE extname = 'pgaudit'") == "pgaudit"
    assert _psql(db, "SHOW pgaudit.log") == settings.settings["pgaudit.log"]
    # MLflow's own migrations (run after the extension) are on the audit trail.
    assert any(",DDL,CREATE TABLE," in line for line in _audit_lines(db)), db.log

    before = db.log.stat().st_size
    _psql(db, f"CREATE ROLE {PROBE_ROLE} NOLOGIN; CREATE TABLE {PROBE_TABLE} (x int); "
              f"INSERT INTO {PROBE_TABLE} VALUES (1); UPDATE {PROBE_TABLE} SET x = 2; SELECT x FROM {PROBE_TABLE}; "
              f"GRANT SELECT ON {PROBE_TABLE} TO {PROBE_ROLE}; REVOKE SELECT ON {PROBE_TABLE} FROM {PROBE_ROLE}; "
              f"DROP TABLE {PROBE_TABLE}; DROP ROLE {PROBE_ROLE}")
    probes = [line for line in _audit_lines(db, before) if PROBE_ROLE in line or PROBE_TABLE in line]
    classes = {re.search(r"AUDIT: SESSION,\d+,\d+,(\w+),([A-Z ]+),", line).groups() for line in probes}
    assert len(probes) == 6 and classes == {("ROLE", "CREATE ROLE"), ("DDL", "CREATE TABLE"), ("ROLE", "GRANT"),
                                            ("ROLE", "REVOKE"), ("DDL", "DROP TABLE"), ("ROLE", "DROP ROLE")}, probes
    report(f"pgAudit: extension created by the rendered migrate step; pgaudit.log={settings.settings['pgaudit.log']} "
           f"audited {len(probes)} probe statements (DDL, ROLE) and no INSERT/UPDATE/SELECT; "
           f"Cloud SQL flags not reproduced locally: {', '.join(settings.not_reproduced) or 'none'}")
