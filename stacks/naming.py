"""The platform's name prefix, derived from the stack name so two stacks can share an account.

Every cloud caps some names its resources take (an S3 `bucketPrefix` at 37 characters, a GKE
cluster at 40, an Azure storage account at 24, a Key Vault at 24). Any valid Pulumi stack name
must still work, so a long stack name is shortened to a readable head plus a short hash of the
whole name (stable: the same stack always gets the same name; distinct: two long names that share
a head still differ). Names of 14 characters or fewer are used as they are.
"""

from __future__ import annotations

import hashlib
import re

PREFIX = "mlops-"
MAX_STACK_PART = 14   # "mlops-" + 14 = 20 characters, which leaves every per-resource suffix room
HEAD = MAX_STACK_PART - 5


def platform_name(stack: str) -> str:
    """`mlops-<stack>` in lowercase letters, digits and hyphens, at most 20 characters."""
    slug = re.sub(r"[^a-z0-9-]+", "-", stack.lower()).strip("-") or "stack"
    if len(slug) > MAX_STACK_PART:
        digest = hashlib.sha256(stack.encode()).hexdigest()[:4]
        slug = f"{slug[:HEAD].rstrip('-')}-{digest}"
    return PREFIX + slug
