"""MLflow behind single sign-on: the in-cluster half of ``components/access`` (issue 16).

MLflow's own ``basic-auth`` app knows passwords only. With SSO the server runs the kept plugin
``mlflow-oidc-auth`` (pinned 7.2.0, the last release that supports MLflow 3.10; ``--app-name oidc-auth``):

- People log in at the issuer (authorization-code flow); the groups claim of their ID token decides the
  role. Each role group gets a regex permission on every experiment and registered model: readers READ,
  editors EDIT, managers MANAGE (and plugin admin). ``DEFAULT_MLFLOW_PERMISSION`` is NO_PERMISSIONS, so
  a user in none of the groups sees nothing.
- Jobs never use a human login or the admin password: each has its own service user with a generated
  token (Secret ``mlflow-machine`` in the training namespace), in the editors group. The admin user and
  password stay only as break-glass (basic auth to the plugin), and the scrape user stays for Prometheus.
- The plugin's tables would collide with MLflow's basic-auth tables (``users``, ``experiment_permissions``),
  so they live in their own Postgres schema of the tracking database. The init container ``oidc-config``
  creates it, migrates it under an advisory lock, seeds groups and users, and writes the schema-bound URI
  to a memory volume the plugin reads as a Kubernetes-secret config source (never into the manifest).
- The image must contain the plugin: ``images/mlflow-oidc/`` builds it from the official image and the
  pinned set that ``make smoke`` runs (``mlops_tools/smoke/requirements/mlflow-oidc.txt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.k8s import MLFLOW_ADMIN_SECRET, PLATFORM_NAMESPACE, TRAINING_NAMESPACE, ResourceBudget, SecretKeyRef
from components.k8s._common import container_security_context, metadata, resources, secret_env, writable_dir
from components.k8s.service_users import SEED_SERVICE_USERS

OIDC_SECRET = "mlflow-oidc"
MACHINE_SECRET = "mlflow-machine"
MACHINE_USERNAME = "svc-training-jobs"
OIDC_CONFIG_DIR = "/etc/mlflow-oidc"
OIDC_SCHEMA = "mlflow_oidc_auth"
OIDC_LOCK_KEY = 5_000_726_584  # pg_advisory_lock key of the oidc-config step (differs from MLflow's migrate)
# Google sign-in: the group-detection plugin (components/access/runtime/mlops_google_groups.py) reaches the
# server as ConfigMap files on PYTHONPATH, so the image stays the one images/mlflow-oidc builds.
PLUGIN_CONFIGMAP = "mlflow-oidc-plugins"
PLUGIN_DIR = "/opt/mlops/oidc-plugins"
GOOGLE_PLUGIN = "mlops_google_groups"
GOOGLE_PLUGIN_SOURCE = Path(__file__).resolve().parents[1] / "access" / "runtime" / f"{GOOGLE_PLUGIN}.py"


@dataclass
class MlflowSsoArgs:
    """What MLflow needs to trust the issuer; built by the stack from an ``mlops:access:*`` issuer."""

    image: str  # MLflow + mlflow-oidc-auth (images/mlflow-oidc), pinned
    issuer_url: pulumi.Input[str]
    client_id: pulumi.Input[str]
    client_secret: pulumi.Input[str]  # a Pulumi secret
    redirect_url: str  # https://mlflow.<private zone>/callback
    groups_claim: str
    read_group: str
    edit_group: str
    manage_group: str
    scopes: str = "openid email profile"
    # Google sign-in (no groups claim): the Workspace domain; groups come from Cloud Identity through the
    # plugin, under the MLflow pod's Google service account (Workload Identity).
    google_hosted_domain: Optional[str] = None


# Runs in the MLflow image before the server: schema, plugin migrations, groups, permissions, users.
_OIDC_CONFIG = f"""
import os, sqlalchemy
{SEED_SERVICE_USERS}
uri = os.environ["MLFLOW_BACKEND_STORE_URI"]
auth_uri = uri + ("&" if "?" in uri else "?") + "options=-csearch_path%3D{OIDC_SCHEMA}"
fd = os.open(os.path.join(os.environ["CONFIG_K8S_SECRETS_PATH"], "OIDC_USERS_DB_URI"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
with os.fdopen(fd, "w") as handle:
    handle.write(auth_uri)
os.environ["OIDC_USERS_DB_URI"] = auth_uri
engine = sqlalchemy.create_engine(uri)
with engine.connect() as lock:
    lock.execute(sqlalchemy.text("SELECT pg_advisory_lock({OIDC_LOCK_KEY})"))
    lock.execute(sqlalchemy.text("CREATE SCHEMA IF NOT EXISTS {OIDC_SCHEMA}"))
    lock.commit()
    from mlflow_oidc_auth.sqlalchemy_store import SqlAlchemyStore
    store = SqlAlchemyStore()
    store.init_db(auth_uri)
    roles = {{"READ": os.environ["SSO_READ_GROUP"], "EDIT": os.environ["SSO_EDIT_GROUP"], "MANAGE": os.environ["SSO_MANAGE_GROUP"]}}
    store.populate_groups(list(roles.values()))
    for permission, group in roles.items():
        for listed, grant in ((store.list_group_experiment_regex_permissions, store.create_group_experiment_regex_permission),
                              (store.list_group_registered_model_regex_permissions, store.create_group_registered_model_regex_permission)):
            if not any(p.regex == ".*" for p in listed(group)):
                grant(group, ".*", 0, permission)
    users = ((os.environ["MLFLOW_AUTH_ADMIN_USERNAME"], os.environ["MLFLOW_AUTH_ADMIN_PASSWORD"], True, False, None),
             (os.environ["MLFLOW_METRICS_USERNAME"], os.environ["MLFLOW_METRICS_PASSWORD"], False, True, None),
             (os.environ["SSO_MACHINE_USERNAME"], os.environ["SSO_MACHINE_TOKEN"], False, True, roles["EDIT"]))
    for user, password, admin, service, group in users:
        if store.has_user(user):
            store.update_user(user, password=password, is_admin=admin, is_service_account=service)
        else:
            store.create_user(user, password, user, is_admin=admin, is_service_account=service)
        if group:
            store.set_user_groups(user, [group])
        print("user", user, "ready")
    seed_service_users(store, lambda name, password: store.create_user(name, password, name, is_admin=False,
                                                                        is_service_account=True),
                       lambda name, password: store.update_user(name, password=password, is_admin=False,
                                                                is_service_account=True), uri)
    lock.execute(sqlalchemy.text("SELECT pg_advisory_unlock({OIDC_LOCK_KEY})"))
print("oidc-auth schema at head; groups", sorted(roles.values()))
""".strip()


def server_env(sso: MlflowSsoArgs) -> list[dict[str, Any]]:
    """The plugin's settings (literal ones are not secret; secrets come from Secret mlflow-oidc)."""
    literal = {
        "OIDC_DISCOVERY_URL": f"{str(sso.issuer_url).rstrip('/')}/.well-known/openid-configuration"
        if isinstance(sso.issuer_url, str) else pulumi.Output.concat(sso.issuer_url, "/.well-known/openid-configuration"),
        "OIDC_CLIENT_ID": sso.client_id,
        "OIDC_REDIRECT_URI": sso.redirect_url,
        "OIDC_SCOPE": sso.scopes,  # sent to the IdP as is: space-separated (smoke found commas refused)
        "OIDC_GROUPS_ATTRIBUTE": sso.groups_claim,
        "OIDC_GROUP_NAME": ",".join(dict.fromkeys([sso.read_group, sso.edit_group, sso.manage_group])),
        "OIDC_ADMIN_GROUP_NAME": sso.manage_group,
        "DEFAULT_MLFLOW_PERMISSION": "NO_PERMISSIONS",
        "SESSION_COOKIE_SECURE": "true",
        "AUTOMATIC_LOGIN_REDIRECT": "true",
    }
    if sso.google_hosted_domain is not None:
        literal.update({"OIDC_GROUP_DETECTION_PLUGIN": GOOGLE_PLUGIN, "PYTHONPATH": PLUGIN_DIR,
                        "GOOGLE_HOSTED_DOMAIN": sso.google_hosted_domain})
    return [*({"name": key, "value": value} for key, value in literal.items()),
            secret_env("OIDC_CLIENT_SECRET", SecretKeyRef(OIDC_SECRET, "client-secret")),
            secret_env("SECRET_KEY", SecretKeyRef(OIDC_SECRET, "session-key")),
            # Not secret, but the names say SECRETS and the pack refuses literal values under such names.
            secret_env("CONFIG_K8S_SECRETS_ENABLED", SecretKeyRef(OIDC_SECRET, "config-source-enabled")),
            secret_env("CONFIG_K8S_SECRETS_PATH", SecretKeyRef(OIDC_SECRET, "config-source-path"))]


def config_init_container(sso: MlflowSsoArgs, database: dict[str, Any], scrape_secret: str,
                          service_user_env: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return {
        "name": "oidc-config", "image": sso.image, "command": ["python", "-c", _OIDC_CONFIG],
        "env": [
            database,
            {"name": "PGSSLMODE", "value": "require"},
            {"name": "HOME", "value": "/tmp"},
            secret_env("CONFIG_K8S_SECRETS_PATH", SecretKeyRef(OIDC_SECRET, "config-source-path")),
            {"name": "SSO_READ_GROUP", "value": sso.read_group},
            {"name": "SSO_EDIT_GROUP", "value": sso.edit_group},
            {"name": "SSO_MANAGE_GROUP", "value": sso.manage_group},
            secret_env("MLFLOW_AUTH_ADMIN_USERNAME", SecretKeyRef(MLFLOW_ADMIN_SECRET, "username")),
            secret_env("MLFLOW_AUTH_ADMIN_PASSWORD", SecretKeyRef(MLFLOW_ADMIN_SECRET, "password")),
            secret_env("MLFLOW_METRICS_USERNAME", SecretKeyRef(scrape_secret, "username")),
            secret_env("MLFLOW_METRICS_PASSWORD", SecretKeyRef(scrape_secret, "password")),
            secret_env("SSO_MACHINE_USERNAME", SecretKeyRef(MACHINE_SECRET, "username")),
            secret_env("SSO_MACHINE_TOKEN", SecretKeyRef(MACHINE_SECRET, "token")),
            *service_user_env,
        ],
        "resources": resources(ResourceBudget("100m", "256Mi", "1", "512Mi")),
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, {"name": "oidc-config", "mountPath": OIDC_CONFIG_DIR}],
    }


SERVER_MOUNT = {"name": "oidc-config", "mountPath": OIDC_CONFIG_DIR, "readOnly": True}
VOLUME = writable_dir("oidc-config", "1Mi", memory=True)
PLUGIN_MOUNT = {"name": "oidc-plugins", "mountPath": PLUGIN_DIR, "readOnly": True}
PLUGIN_VOLUME = {"name": "oidc-plugins", "configMap": {"name": PLUGIN_CONFIGMAP, "defaultMode": 0o444}}


def server_mounts(sso: MlflowSsoArgs) -> list[dict[str, Any]]:
    return [SERVER_MOUNT, *([PLUGIN_MOUNT] if sso.google_hosted_domain is not None else [])]


def volumes(sso: MlflowSsoArgs) -> list[dict[str, Any]]:
    return [VOLUME, *([PLUGIN_VOLUME] if sso.google_hosted_domain is not None else [])]


class MlflowSso(pulumi.ComponentResource):
    """Secrets of MLflow's OIDC login and the training jobs' machine credential."""

    def __init__(self, name: str, sso: MlflowSsoArgs, labels: dict[str, str],
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:access:MlflowSso", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        session_key = random.RandomPassword(f"{name}-session-key", length=48, special=False, opts=child)
        self.oidc_secret = k8s.core.v1.Secret(
            f"{name}-oidc", metadata=metadata(OIDC_SECRET, PLATFORM_NAMESPACE, labels), type="Opaque",
            string_data={"client-secret": pulumi.Output.secret(sso.client_secret), "session-key": session_key.result,
                         "config-source-enabled": "true", "config-source-path": OIDC_CONFIG_DIR},
            opts=child)
        # One token per workload kind; the training namespace's copy is what jobs mount. Rotating it
        # (pulumi up after `pulumi state taint` of the RandomPassword) re-seeds the user at the next rollout.
        token = random.RandomPassword(f"{name}-machine-token", length=40, special=False, opts=child)
        self.machine_secrets = [k8s.core.v1.Secret(
            f"{name}-machine{suffix}", metadata=metadata(MACHINE_SECRET, namespace, labels), type="Opaque",
            string_data={"username": MACHINE_USERNAME, "token": token.result}, opts=child)
            for suffix, namespace in (("", PLATFORM_NAMESPACE), ("-training", TRAINING_NAMESPACE))]
        self.plugins = None
        if sso.google_hosted_domain is not None:
            self.plugins = k8s.core.v1.ConfigMap(
                f"{name}-plugins", metadata=metadata(PLUGIN_CONFIGMAP, PLATFORM_NAMESPACE, labels),
                data={f"{GOOGLE_PLUGIN}.py": GOOGLE_PLUGIN_SOURCE.read_text()}, opts=child)
        self.register_outputs({"machineSecret": MACHINE_SECRET})

    @property
    def resources(self) -> list[pulumi.Resource]:
        """What the MLflow Deployment mounts or reads from this component."""
        return [self.oidc_secret, *self.machine_secrets, *([self.plugins] if self.plugins else [])]
