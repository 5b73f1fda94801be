"""The rendered managed-database flags as settings of the smoke run's local PostgreSQL.

A GCP plan's Cloud SQL primary carries ``settings.databaseFlags``. Most are PostgreSQL's own settings
(``log_connections``, ``pgaudit.log``, ...) and go to the local server unchanged, so a value PostgreSQL
would refuse fails the run here as it would fail the instance. Cloud SQL's own ``cloudsql.*`` flags
have no PostgreSQL name: ``cloudsql.enable_pgaudit=on`` is what Cloud SQL does for it, loading the
pgAudit library (``shared_preload_libraries``; Debian package ``postgresql-15-pgaudit``); the others
(IAM database login) have no local counterpart and are listed as not reproduced. AWS and Azure plans
keep their parameters elsewhere (parameter group, server configurations) and give no settings here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.envs import system_program
from mlops_tools.smoke.plan import Plan

SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
ON = {"on", "true", "1", "yes"}


@dataclass
class DatabaseSettings:
    settings: dict[str, str] = field(default_factory=dict)  # -c name=value for the local server
    not_reproduced: list[str] = field(default_factory=list)  # Cloud SQL flags with no local counterpart

    @property
    def pgaudit(self) -> bool:
        return "pgaudit" in self.settings.get("shared_preload_libraries", "").split(",")


def _flags(instance: dict[str, Any]) -> dict[str, str]:
    flags = (instance["inputs"].get("settings") or {}).get("databaseFlags") or []
    return {str(f["name"]): str(f.get("value", "")) for f in flags if isinstance(f, dict) and "name" in f}


def database_settings(plan: Plan) -> DatabaseSettings:
    """The settings of the plan's Cloud SQL for PostgreSQL primary (replicas carry the same flags)."""
    primaries = [r for r in plan.resources(SQL_INSTANCE)
                 if str(r["inputs"].get("databaseVersion", "")).startswith("POSTGRES")
                 and not r["inputs"].get("masterInstanceName")]
    if not primaries:
        return DatabaseSettings()
    if len(primaries) > 1:
        raise SmokeFailure(f"{plan.source}: {len(primaries)} Cloud SQL for PostgreSQL primaries "
                           f"({', '.join(r['name'] for r in primaries)}); the MLflow smoke knows one tracking database")
    result = DatabaseSettings()
    for name, value in sorted(_flags(primaries[0]).items()):
        if name == "cloudsql.enable_pgaudit":
            if value.lower() in ON:
                system_program("pgaudit.so")  # installs postgresql-15-pgaudit where allowed, else says so
                result.settings["shared_preload_libraries"] = "pgaudit"
        elif name.startswith("cloudsql."):
            result.not_reproduced.append(f"{name}={value}")
        else:
            result.settings[name] = value
    return result
