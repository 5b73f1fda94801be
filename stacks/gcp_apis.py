"""Enable the Google APIs the platform calls, and make every GCP resource wait for its API.

On a fresh project each API must be enabled (``projects.Service``) before the first resource that uses
it is created, or the create fails (SERVICE_DISABLED). Rather than threading the Services through
every component, one stack transformation adds the Service of each GCP resource's API (the table in
``policies/common/mlops_policy/gcp_apis.py``, which the GCP pack's api-dependency rule checks against)
to that resource's ``depends_on``. Invokes (zone and project lookups) cannot wait for a resource: their
APIs are first-deploy prerequisites (docs/first-deploy.md).
"""
from __future__ import annotations

from types import ModuleType

import pulumi
import pulumi_gcp as gcp

from stacks.policy_data import policy_data_module


def table() -> ModuleType:
    return policy_data_module("gcp_apis")


# The APIs the platform calls, enabled by the program. Resources need theirs (the table); the running
# platform also calls IAM Service Account Credentials (GKE Workload Identity mints the Google service
# accounts' tokens through it). A resource whose API is missing here is reported by the GCP pack.
PROJECT_APIS = ("artifactregistry", "bigtableadmin", "billingbudgets", "cloudkms", "cloudresourcemanager", "compute",
                "container", "dns", "iam", "iamcredentials", "logging", "monitoring", "pubsub", "servicenetworking",
                "sqladmin", "storage", "storagetransfer")


def project_apis(extra: tuple[str, ...] = ()) -> list[str]:
    return [f"{api}.googleapis.com" for api in sorted({*PROJECT_APIS, *extra})]


def enable_apis(project: str, opts: pulumi.ResourceOptions, extra: tuple[str, ...] = ()) -> dict[str, gcp.projects.Service]:
    """One Service per API (``extra``: ones only some stacks call, e.g. cloudidentity with Google sign-in),
    never disabled on destroy (other workloads of the project may use them)."""
    return {api: gcp.projects.Service(f"api-{api.split('.')[0]}", project=project, service=api,
                                      disable_on_destroy=False, opts=opts) for api in project_apis(extra)}


def wait_for_apis(apis: dict[str, gcp.projects.Service]) -> None:
    """Register the stack transformation: every GCP resource created after this depends on its API's Service."""
    def add_api_dependency(args: pulumi.ResourceTransformationArgs):
        if not args.type_.startswith("gcp:") or args.resource is None:
            return None
        props = args.props if isinstance(args.props, dict) else {}
        api = table().required_api(args.type_, {"service": props.get("service")})
        if api is None or api not in apis:
            return None
        return pulumi.ResourceTransformationResult(
            props=args.props, opts=pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(depends_on=[apis[api]])))

    pulumi.runtime.register_stack_transformation(add_api_dependency)
