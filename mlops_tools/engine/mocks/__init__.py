"""Realistic engine answers for the offline preview, one module per cloud like `components/`.

Policies correlate resources by the values a real preview would show (a bucket's id is its name,
a key's ARN carries its region), so the mocks answer in the clouds' real shapes. Every value is
derived from the resource's URN: the same program gives the same plan, byte for byte.

Add a resource type by writing one function in the cloud module's `OUTPUTS` (`aws.py`, `azure.py`,
`gcp.py`): it receives a `MockContext` and returns the physical id and the outputs that differ from
the inputs. Add an invoke in that module's `INVOKES`. What they share is in `common.py`.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional

import pulumi

from mlops_tools.engine.mocks import aws, azure, gcp, kubernetes
from mlops_tools.engine.mocks.aws import arn_region
from mlops_tools.engine.mocks.common import (
    AWS_ACCOUNT_ID,
    AZURE_SUBSCRIPTION_ID,
    AZURE_TENANT_ID,
    GCP_PROJECT,
    MockContext,
    Outputs,
    random_resource,
    stable_hex,
    stable_uuid,
)

__all__ = ["AWS_ACCOUNT_ID", "AZURE_SUBSCRIPTION_ID", "AZURE_TENANT_ID", "GCP_PROJECT", "MockContext", "Outputs",
           "PlatformMocks", "arn_region", "stable_hex", "stable_uuid"]

# Resource answers per provider package; anything else gets a stable generated id and its inputs back.
PACKAGES: dict[str, Callable[[MockContext], Outputs]] = {
    "aws": aws.answer, "azure-native": azure.answer, "gcp": gcp.answer,
    "kubernetes": kubernetes.answer, "random": random_resource,
}
INVOKES: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {**aws.INVOKES, **azure.INVOKES, **gcp.INVOKES}
CLOUD_MODULES = {"aws": "aws", "azure-native": "azure", "gcp": "gcp"}


class PlatformMocks(pulumi.runtime.Mocks):
    """Answers RegisterResource and Invoke in the clouds' real shapes.

    `providers` maps a provider URN to its inputs; the recording monitor fills it, so resources
    bound to an explicit provider get that provider's region in their ARNs.
    """

    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.providers: dict[str, dict[str, Any]] = {}
        # The URN of the registration being answered, set per thread by the recording monitor
        # (MockResourceArgs carries no URN, and every derived value is seeded from it).
        self.current = threading.local()

    def _region(self, provider_ref: Optional[str], package: str) -> tuple[str, dict[str, Any]]:
        provider_inputs: dict[str, Any] = {}
        if provider_ref:
            provider_inputs = self.providers.get(provider_ref.rsplit("::", 1)[0], {})
        defaults = {"aws": self.config.get("aws:region") or self.config.get("mlops:region") or "us-east-1",
                    "azure-native": self.config.get("azure-native:location") or self.config.get("mlops:region") or "westeurope",
                    "gcp": self.config.get("gcp:region") or self.config.get("mlops:region") or "us-central1"}
        region = provider_inputs.get("region") or provider_inputs.get("location") or defaults.get(package, "")
        return str(region), provider_inputs

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        urn = getattr(self.current, "urn", None) or f"{args.typ}::{args.name}"
        if args.typ.startswith("pulumi:providers:"):
            return stable_uuid(urn), dict(args.inputs)
        package = args.typ.split(":")[0]
        region, provider_inputs = self._region(args.provider, package)
        ctx = MockContext(args.typ, args.name, urn, dict(args.inputs), region, provider_inputs)
        answer = PACKAGES.get(package)
        physical_id, extra = answer(ctx) if answer else (f"{args.name}-{ctx.hex(7)}", {})
        return physical_id, {**args.inputs, **extra}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        # The SDK's MockMonitor iterates the failures of a tuple answer; a plain dict means "no failures".
        answer, failures = self._answer(args)
        return answer if failures is None else (answer, failures)  # type: ignore[return-value]

    def _answer(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        package = args.token.split(":")[0]
        region, _ = self._region(args.provider, package)
        invoke = INVOKES.get(args.token)
        if invoke is not None:
            return invoke(args.args, region), None
        where = f"mlops_tools/engine/mocks/{CLOUD_MODULES.get(package, 'common')}.py"
        raise NotImplementedError(f"offline preview has no answer for invoke {args.token}; add one in {where}")
