"""What every cloud's mocks share: the offline identities, stable derived values, and the request context.

Every value is derived from the resource's URN (`stable_hex`, `stable_uuid`), so the same program gives
the same plan, byte for byte.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

AWS_ACCOUNT_ID = "123456789012"
AZURE_SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000000"
AZURE_TENANT_ID = "11111111-1111-4111-8111-111111111111"
GCP_PROJECT = "mlops-offline-preview"


def stable_hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def stable_uuid(seed: str) -> str:
    return str(uuid.UUID(hashlib.sha256(seed.encode()).hexdigest()[:32], version=4))


@dataclass
class MockContext:
    """What an output function may use: the request and where its provider points."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    region: str
    provider_inputs: dict[str, Any]

    def hex(self, length: int, salt: str = "") -> str:
        return stable_hex(self.urn + salt, length)

    def autoname(self, key: str = "name", max_length: int = 63) -> str:
        """The physical name: the input if given, else Pulumi's autoname (name + 7 hex chars)."""
        given = self.inputs.get(key)
        if isinstance(given, str) and given:
            return given
        prefix = self.inputs.get(f"{key}Prefix")
        if isinstance(prefix, str) and prefix:
            return (prefix + self.hex(26))[:max_length]
        return f"{self.name}-{self.hex(7)}"[:max_length]

    def arn(self, service: str, resource: str, regional: bool = True, account: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if regional else ''}:{AWS_ACCOUNT_ID if account else ''}:{resource}"


Outputs = tuple[str, dict[str, Any]]  # (physical id, outputs that add to or override the inputs)


def random_resource(ctx: MockContext) -> Outputs:
    """pulumi_random: a stable value of the requested length (RandomPassword.result stays secret)."""
    length = int(ctx.inputs.get("length") or 16)
    value = (ctx.hex(64, "random") * (length // 64 + 1))[:length]
    return ctx.hex(12), {"result": value}
