"""Facts about the AWS account a stack deploys into, shared by every AWS component.

Read from the provider (invokes) or from resources' own ARNs, never hard-coded, so the same code
works in any account, partition and region.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AccountContext:
    """Account id and partition facts for ARNs and service principals (from invokes, no hard-coding)."""

    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    dns_suffix: pulumi.Output[str]


def account_context(parent: pulumi.Resource) -> AccountContext:
    """The caller's account and partition, via the parent's provider."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    identity = aws.get_caller_identity_output(opts=opts)
    partition = aws.get_partition_output(opts=opts)
    return AccountContext(identity.account_id, partition.partition, partition.dns_suffix)


def arn_part(arn: pulumi.Input[str], index: int) -> pulumi.Output[str]:
    """Field `index` of an ARN (3 = region, 4 = account), read from a resource's own ARN."""
    return pulumi.Output.from_input(arn).apply(lambda value: value.split(":")[index])
