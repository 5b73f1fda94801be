"""The stack outputs every cloud exports under the same names (the README lists them).

Each builder adds its cloud's own keys (the alert channel, the online-store address, DR details).
"""

from __future__ import annotations

from typing import Any

from stacks.config import PlatformConfig


def shared_outputs(cfg: PlatformConfig, *, tracking: Any, registry: Any, features: Any, cluster: Any) -> dict[str, Any]:
    return {
        "cloud": cfg.cloud,
        "environment": cfg.environment,
        "region": cfg.region,
        "trackingUrl": tracking.tracking_url,
        "artifactBucket": tracking.artifact_bucket,
        "modelImageRepositoryUrl": registry.model_image_repository_url,
        "trainingImageRepositoryUrl": registry.training_image_repository_url,
        "featureRegistryPath": features.registry_path,
        "featureOfflineStorePath": features.offline_store_path,
        "clusterName": cluster.name,
        "kubeconfig": cluster.kubeconfig,
        "trackingDbInstanceId": tracking.db_instance_id,
        # The private name the tracking server uses for its database; the DR runbook repoints it.
        "trackingDbEndpointRecord": {"zoneId": tracking.db_endpoint_record["zone_id"],
                                     "name": tracking.db_endpoint_record["name"]},
    }
