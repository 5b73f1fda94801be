"""Cloud SQL for PostgreSQL instances audit DDL and role changes with pgAudit, and the extension is created.

pgAudit on Cloud SQL takes three steps (Google's "Audit for PostgreSQL using pgAudit"): the flag
``cloudsql.enable_pgaudit=on`` loads the library, ``pgaudit.log`` chooses the statement classes (its
default is ``none``: loaded but silent), and ``CREATE EXTENSION pgaudit`` runs in the database over
SQL (no Cloud SQL API call or Terraform resource does it). A rule that looked at the flag alone
(Checkov CKV_GCP_110) would pass an instance that audits nothing, so this one checks all three:

- the flag is on;
- ``pgaudit.log`` covers the classes in ``requiredClasses`` (default ``ddl`` and ``role``: schema and
  privilege changes; ``all`` covers every class, a ``-class`` entry removes one);
- something in the program creates the extension: a workload container whose environment lists it in
  ``MLOPS_DB_EXTENSIONS`` (the platform's MLflow migrate step runs ``CREATE EXTENSION IF NOT EXISTS``
  for each name there, components/k8s/mlflow.py), or a ``postgresql`` provider ``Extension`` named
  ``pgaudit``. Whether the statement then succeeds is not visible at preview: the migrate step's
  database user must be a member of ``cloudsqlsuperuser`` (every user made through the Cloud SQL API
  is), and it fails the pod, loudly, when the library is not loaded.

Read replicas are checked too (a promoted replica keeps auditing). Only POSTGRES_* instances are in scope.
"""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, StackRule, as_list, cannot_check, is_unknown, violation

from .._gcp import path

SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
EXTENSION = "postgresql:index/extension:Extension"
POD_TEMPLATE_OWNERS = {  # workload kind -> path to its pod spec
    "kubernetes:apps/v1:Deployment": "spec.template.spec",
    "kubernetes:apps/v1:StatefulSet": "spec.template.spec",
    "kubernetes:apps/v1:DaemonSet": "spec.template.spec",
    "kubernetes:batch/v1:Job": "spec.template.spec",
    "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
}
# Same name as components.k8s.mlflow.EXTENSIONS_ENV (a test keeps them equal; packs cannot import components).
EXTENSIONS_ENV = "MLOPS_DB_EXTENSIONS"
REQUIRED = ["ddl", "role"]
ON = {"on", "true", "1", "yes"}


def _flag_values(instance):
    """{flag name: value}, or None when the preview does not know them yet."""
    flags = path(instance.props.get("settings"), "databaseFlags")
    if is_unknown(flags):
        return None
    values = {}
    for flag in as_list(flags):
        if isinstance(flag, dict) and isinstance(flag.get("name"), str):
            values[flag["name"]] = flag.get("value")
    return None if any(is_unknown(v) for v in values.values()) else values


def audited(setting) -> set:
    """The classes a ``pgaudit.log`` value turns on (pgAudit's syntax: comma list, ``all``, ``-class``)."""
    included, excluded = set(), set()
    for token in str(setting or "none").lower().split(","):
        token = token.strip()
        if token.startswith("-"):
            excluded.add(token[1:].strip())
        elif token and token != "none":
            included.add(token)
    classes = {"read", "write", "function", "role", "ddl", "misc", "misc_set"} if "all" in included else included
    return classes - excluded


def _creators(stack):
    """(does something create pgaudit, what the preview could not tell)."""
    unknown = []
    for resource in stack.of_type(EXTENSION):
        name = resource.props.get("name")
        if is_unknown(name):
            unknown.append(resource)
        elif str(name) == "pgaudit":
            return True, []
    for resource in stack.of_types(POD_TEMPLATE_OWNERS):
        pod = path(resource.props, POD_TEMPLATE_OWNERS[resource.type])
        if is_unknown(pod):
            unknown.append(resource)
            continue
        containers = as_list(path(pod, "initContainers")) + as_list(path(pod, "containers"))
        for container in containers:
            for env in as_list(path(container, "env")):
                if not isinstance(env, dict) or env.get("name") != EXTENSIONS_ENV:
                    continue
                if is_unknown(env.get("value")):
                    unknown.append(resource)
                elif "pgaudit" in str(env.get("value") or "").split():
                    return True, []
    return False, unknown


def check(stack, config):
    """One finding per instance, naming every missing step."""
    required = [c.lower() for c in (config.get("requiredClasses") or REQUIRED)]
    creators = None
    for instance in stack.of_type(SQL_INSTANCE):
        version = instance.props.get("databaseVersion")
        values = _flag_values(instance)
        if is_unknown(version) or values is None:
            yield cannot_check("databaseVersion or settings.databaseFlags", instance)
            continue
        if not str(version or "").upper().startswith("POSTGRES"):
            continue
        problems = []
        if str(values.get("cloudsql.enable_pgaudit", "off")).strip().lower() not in ON:
            problems.append("settings.databaseFlags do not set cloudsql.enable_pgaudit to on (Cloud SQL does not load "
                            "pgAudit, so no statement is audited)")
        missing = [c for c in required if c not in audited(values.get("pgaudit.log"))]
        if missing:
            problems.append(f"pgaudit.log is {values.get('pgaudit.log', 'unset (none)')!r}, which does not audit "
                            f"{', '.join(missing)} statements")
        if creators is None:
            creators = _creators(stack)
        found, unknown = creators
        if not found and unknown and not problems:
            yield cannot_check(f"whether {', '.join(r.name for r in unknown)} creates the pgaudit extension", instance)
        elif not found and not unknown:
            problems.append(f"nothing in the program runs CREATE EXTENSION pgaudit (no container lists it in "
                            f"{EXTENSIONS_ENV}, no postgresql Extension), so pgAudit is not installed in the database")
        if problems:
            yield violation(f"{instance.name}: " + "; ".join(problems) + ".", instance)


RULE = StackRule(
    name="gcp-sql-databaseinstance-enable-pgaudit",
    description="Cloud SQL for PostgreSQL instances load pgAudit, log DDL and role statements, and the program "
                "creates the pgaudit extension in the database.",
    severity="medium",
    remediation="Add {'name': 'cloudsql.enable_pgaudit', 'value': 'on'} and {'name': 'pgaudit.log', 'value': "
                "'ddl,role'} to settings.database_flags and create the extension over SQL as a cloudsqlsuperuser "
                "member (the platform: TrackingServer.db_extensions -> MlflowServerArgs.database_extensions, which "
                "the MLflow migrate step creates).",
    frameworks=CIS_GCP("6.2.8") + SOC2("CC7.2") + ISO27001("A.8.15") + PCI_DSS("10.2.1"),
    enforcement="mandatory",  # audit trail of schema and privilege changes on the tracking database
    tags=("cloudsql", "logging", "audit"),
    config={"requiredClasses": {"type": "array", "items": {"type": "string"}, "default": REQUIRED,
                                "description": "pgAudit statement classes pgaudit.log must cover."}},
    resource_types=(SQL_INSTANCE, EXTENSION, *POD_TEMPLATE_OWNERS),
    check=check,
)
