"""MLflow service users of other workloads (``MlflowServiceUser``): their Secret copy in ``mlops`` and the
code MLflow's init containers run to create them with one permission on one registered model.

Why the registered model is created here: MLflow (basic-auth and the SSO plugin alike) makes the creator of
a registered model its MANAGE holder. Created by the init container, the model's only grant to the service
user is the one it is given (EDIT: new versions, tags, aliases; not delete, not permissions).
Both auth stores are seeded the same way: the basic-auth store by ``migrate``, the SSO plugin's store by
``oidc-config`` (the model exists by then: ``migrate`` runs first).
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import PLATFORM_NAMESPACE, MlflowServiceUser, SecretKeyRef
from components.k8s._common import InvalidInput, metadata, secret_env

SERVICE_USERS_ENV = "MLFLOW_SERVICE_USERS"
GRANTABLE = ("READ", "EDIT")  # a service user never manages a model (delete, permissions)


def check_service_users(users: Sequence[MlflowServiceUser]) -> None:
    seen: set[str] = set()
    for user in users:
        if user.permission not in GRANTABLE:
            raise InvalidInput(f"MlflowServiceUser {user.username!r}: permission {user.permission!r} must be one of "
                               f"{', '.join(GRANTABLE)}")
        if user.username in seen or user.username == "admin":
            raise InvalidInput(f"MlflowServiceUser {user.username!r}: user names must be unique and not the admin's")
        seen.add(user.username)


def service_user_secrets(name: str, users: Sequence[MlflowServiceUser], labels: dict[str, str],
                         opts: pulumi.ResourceOptions) -> list[k8s.core.v1.Secret]:
    """The ``mlops`` copy of each user's Secret (the init containers read it; the owner keeps its own)."""
    return [k8s.core.v1.Secret(f"{name}-user-{user.secret}", metadata=metadata(user.secret, PLATFORM_NAMESPACE, labels),
                               type="Opaque", string_data={"username": user.username,
                                                           "password": pulumi.Output.secret(user.password)},
                               opts=opts)
            for user in users]


def service_user_env(users: Sequence[MlflowServiceUser]) -> list[dict[str, Any]]:
    """What the seeding code reads: the list (env prefix, model, permission) and each user's Secret keys."""
    if not users:
        return []
    listing = [{"env": f"MLFLOW_SERVICE_USER_{i}", "model": user.registered_model, "permission": user.permission}
               for i, user in enumerate(users)]
    env: list[dict[str, Any]] = [{"name": SERVICE_USERS_ENV, "value": json.dumps(listing, sort_keys=True)}]
    for i, user in enumerate(users):
        env += [secret_env(f"MLFLOW_SERVICE_USER_{i}_USERNAME", SecretKeyRef(user.secret, "username")),
                secret_env(f"MLFLOW_SERVICE_USER_{i}_PASSWORD", SecretKeyRef(user.secret, "password"))]
    return env


# Defines seed_service_users(store, create_user, update_user, uri) in the init container's script:
# `create_user(name, password)` / `update_user(name, password)` are the auth store's own calls (basic-auth
# and the SSO plugin differ in their arguments; the plugin marks the user a service account).
SEED_SERVICE_USERS = '''
def seed_service_users(store, create_user, update_user, uri):
    import json
    from mlflow.exceptions import MlflowException
    users = json.loads(os.environ.get("MLFLOW_SERVICE_USERS", "[]"))
    if not users:
        return
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    registry = RegistryStore(uri)

    def missing(call, *args):
        try:
            call(*args)
            return False
        except MlflowException as error:
            if error.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            return True

    for user in users:
        name, password = os.environ[user["env"] + "_USERNAME"], os.environ[user["env"] + "_PASSWORD"]
        if store.has_user(name):
            update_user(name, password)
        else:
            create_user(name, password)
        if missing(registry.get_registered_model, user["model"]):
            registry.create_registered_model(user["model"])
        if missing(store.get_registered_model_permission, user["model"], name):
            store.create_registered_model_permission(user["model"], name, user["permission"])
        else:
            store.update_registered_model_permission(user["model"], name, user["permission"])
        print("user", name, "ready:", user["permission"], "on registered model", user["model"])
'''.strip()
