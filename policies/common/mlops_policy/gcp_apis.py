"""Which Google API a GCP resource type needs enabled (``projects.Service``) before it can be created.

Standard library only: the stack program loads this file by path (stacks/gcp_apis.py) to make every
resource depend on its API's Service, and the GCP pack imports it as ``mlops_policy.gcp_apis`` to check
that every resource does. Longest type prefix wins; ``None`` = needs no API of its own.
Sources: each resource's API in the pulumi-gcp 10.2.0 docstrings ("API documentation" links) and
https://cloud.google.com/service-usage/docs/enabled-service.
"""
from __future__ import annotations

from typing import Optional

SERVICE = "gcp:projects/service:Service"
SERVICE_IDENTITY = "gcp:projects/serviceIdentity:ServiceIdentity"

API_BY_TYPE_PREFIX = {
    "gcp:artifactregistry/": "artifactregistry.googleapis.com",
    "gcp:bigtable/": "bigtableadmin.googleapis.com",
    "gcp:billing/budget:": "billingbudgets.googleapis.com",
    "gcp:compute/": "compute.googleapis.com",
    "gcp:container/": "container.googleapis.com",
    "gcp:dns/": "dns.googleapis.com",
    "gcp:folder/": "cloudresourcemanager.googleapis.com",
    "gcp:kms/": "cloudkms.googleapis.com",
    "gcp:logging/": "logging.googleapis.com",
    "gcp:monitoring/": "monitoring.googleapis.com",
    "gcp:organizations/": "cloudresourcemanager.googleapis.com",
    "gcp:projects/": "cloudresourcemanager.googleapis.com",  # project IAM (get/setIamPolicy)
    SERVICE: None,  # enabling an API needs only the Service Usage API (a prerequisite, docs/first-deploy.md)
    SERVICE_IDENTITY: "",  # needs the API it makes an agent for: its own `service` input
    "gcp:pubsub/": "pubsub.googleapis.com",
    "gcp:redis/": "redis.googleapis.com",
    "gcp:secretmanager/": "secretmanager.googleapis.com",
    "gcp:serviceaccount/": "iam.googleapis.com",
    "gcp:servicenetworking/": "servicenetworking.googleapis.com",
    "gcp:sql/": "sqladmin.googleapis.com",
    "gcp:storage/": "storage.googleapis.com",
    "gcp:storage/transferJob:": "storagetransfer.googleapis.com",
}


def required_api(resource_type: str, props: Optional[dict] = None) -> Optional[str]:
    """The API service name ``resource_type`` needs, or None (not a GCP resource, or none needed).

    Raises KeyError for a GCP type the table does not know, so a new resource type is a decision.
    """
    if not resource_type.startswith("gcp:"):
        return None
    matches = [prefix for prefix in API_BY_TYPE_PREFIX if resource_type.startswith(prefix)]
    if not matches:
        raise KeyError(resource_type)
    api = API_BY_TYPE_PREFIX[max(matches, key=len)]
    if api == "":
        service = (props or {}).get("service")
        return service if isinstance(service, str) else None
    return api
