"""Feast feature store: object-store registry and offline store, a managed online store, and the
identity of the in-cluster feature server (the server itself is ``components/k8s``' FeatureServer).

Contract (every cloud's implementation exposes these outputs as attributes):

- ``feast_project``: the Feast project name the server and ``feast apply`` use.
- ``bucket_name``: the bucket holding the registry and the offline store.
- ``registry_path``: the Feast ``registry`` URI (e.g. ``s3://<bucket>/registry/registry.db``).
- ``offline_store_path``: the offline store root URI (e.g. ``s3://<bucket>/offline``).
- ``online_tables[view]``: the online-store table name per online feature view;
  ``online_store_table``: the first one (the stack output of the same name).
- ``online_store``: the ``online_store`` block of ``feature_store.yaml`` for this cloud.
- ``service_account_role``: the cloud identity bound to the feature server's service account,
  scoped to exactly these tables and prefixes.

Why the online tables are created here and not by ``feast apply``: a table Feast creates has the
provider-managed key, no point-in-time recovery and no DR replica. The platform creates one per
declared online feature view with Feast's own naming, so ``feast apply`` finds it and uses it; the
feature server's identity cannot create tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from components.k8s import FEAST_SERVICE_ACCOUNT, PLATFORM_NAMESPACE

REGISTRY_PREFIX = "registry"
OFFLINE_PREFIX = "offline"
REGISTRY_OBJECT = f"{REGISTRY_PREFIX}/registry.db"


def online_table_name(feast_project: str, view: str) -> str:
    """Feast's default online table naming (``table_name_template`` = ``{project}.{table_name}``)."""
    return f"{feast_project}.{view}"


@dataclass(frozen=True)
class FeaturesArgs:
    """What every cloud needs for the feature store."""

    name: str  # resource-name prefix, e.g. "mlops-dev"
    feast_project: str  # e.g. "mlops_dev"
    online_feature_views: tuple[str, ...]
    deletion_protection: bool = False  # prod: tables and bucket protected, table deletion protection on
    namespace: str = PLATFORM_NAMESPACE
    service_account: str = FEAST_SERVICE_ACCOUNT
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.online_feature_views:
            raise ValueError("at least one online feature view is needed")
        if len(set(self.online_feature_views)) != len(self.online_feature_views):
            raise ValueError("online feature view names must be unique")

    @property
    def online_table_names(self) -> dict[str, str]:
        return {view: online_table_name(self.feast_project, view) for view in self.online_feature_views}

    @classmethod
    def from_config(cls, cfg, name: str, tags: Mapping[str, str]) -> "FeaturesArgs":
        return cls(name=name, feast_project=f"{cfg.features.project}_{cfg.environment}",
                   online_feature_views=tuple(cfg.features.online_feature_views),
                   deletion_protection=cfg.deletion_protection, tags=dict(tags))
