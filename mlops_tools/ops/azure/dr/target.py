"""What the Azure DR runbook needs from the stack outputs, validated once (`parse_target`).

Everything comes from outputs the Azure stack already exports (stacks/azure.py): the replica's resource id
gives the subscription and the DR resource group; the writer endpoint's host name gives the virtual
endpoint's name; storage account names come from the artifact and Feast paths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlparse

from mlops_tools.ops.common import UsageError
from mlops_tools.ops.runbook.outputs import Objectives, dr_outputs, optional_str, require

WRITER_SUFFIX = ".writer.postgres.database.azure.com"
_SERVER_ID = re.compile(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/"
                        r"Microsoft\.DBforPostgreSQL/flexibleServers/([^/]+)$", re.IGNORECASE)
_REDIS_DB_ID = re.compile(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/"
                          r"Microsoft\.Cache/redisEnterprise/([^/]+)/databases/([^/]+)$", re.IGNORECASE)


@dataclass(frozen=True)
class AzureTarget(Objectives):
    stack: str
    region: str
    dr_region: str
    rpo_minutes: int
    rto_minutes: int
    subscription: str
    resource_group: str  # the primary's
    dr_resource_group: str
    primary_server: str
    replica_server: str
    writer_endpoint: str  # the virtual endpoint's name
    writer_host: str
    artifact_account: Optional[str]
    artifact_replica_account: Optional[str]
    feature_account: Optional[str]
    feature_replica_account: Optional[str]
    redis_database_id: Optional[str]  # the primary's Managed Redis database (geo-replication group member)
    registry: Optional[str]  # ACR name (geo-replicated: one login server for both regions)

    @property
    def replication_name(self) -> str:
        """The ACR replication's name as the stack creates it (components/dr/azure.py)."""
        return self.dr_region.replace("-", "")


def server_id(subscription: str, group: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{name}"


def _account_from_url(value: Optional[str], key: str, where: str) -> Optional[str]:
    """`https://<account>.blob.core.windows.net/...` or `abfs://<container>@<account>.dfs.core.windows.net/...`."""
    if not value:
        return None
    host = urlparse(value).hostname or ""
    account = host.split(".", 1)[0]
    if not account or ".core.windows.net" not in host:
        raise UsageError(f"{where}: output {key!r} should be an Azure storage URL, got {value!r}")
    return account


def parse_target(outputs: dict[str, Any], stack: str, where: str) -> AzureTarget:
    found = dr_outputs(outputs, stack, where, "azure")
    region, dr, dr_where, dr_region = found.region, found.dr, found.dr_where, found.dr_region
    rpo, rto = found.rpo_minutes, found.rto_minutes
    replica_id = require(dr, "dbReplicaArn", str, dr_where)
    match = _SERVER_ID.match(replica_id)
    if not match:
        raise UsageError(f"{dr_where}: output 'dbReplicaArn' should be a flexible server resource id, got {replica_id!r}")
    subscription, dr_group, replica = match.groups()
    record = require(outputs, "trackingDbEndpointRecord", dict, where)
    host = require(record, "name", str, f"{where} (trackingDbEndpointRecord)").rstrip(".")
    if not host.endswith(WRITER_SUFFIX):
        raise UsageError(f"{where} (trackingDbEndpointRecord): name {host!r} is not a writer virtual endpoint "
                         f"(<name>{WRITER_SUFFIX}); deploy the stack with DR on so MLflow uses one")
    redis_id = optional_str(outputs, "onlineStoreTable", where)
    if redis_id and not _REDIS_DB_ID.match(redis_id):
        raise UsageError(f"{where}: output 'onlineStoreTable' should be a Managed Redis database id, got {redis_id!r}")
    image_url = optional_str(outputs, "modelImageRepositoryUrl", where)
    return AzureTarget(
        stack=stack, region=region, dr_region=dr_region, rpo_minutes=rpo, rto_minutes=rto,
        subscription=subscription, resource_group=require(outputs, "resourceGroup", str, where),
        dr_resource_group=dr_group, primary_server=require(outputs, "trackingDbInstanceId", str, where),
        replica_server=replica, writer_endpoint=host[: -len(WRITER_SUFFIX)], writer_host=host,
        artifact_account=optional_str(outputs, "artifactBucket", where),
        artifact_replica_account=optional_str(dr, "artifactReplicaBucket", dr_where),
        feature_account=_account_from_url(optional_str(outputs, "featureRegistryPath", where),
                                          "featureRegistryPath", where),
        feature_replica_account=optional_str(dr, "featureReplicaBucket", dr_where),
        redis_database_id=redis_id,
        registry=image_url.split(".", 1)[0] if image_url else None,
    )
