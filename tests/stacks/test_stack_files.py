"""Every stack file is previewed by a stack test, and every stack's Kubernetes manifests are valid."""

import pytest

from tests.stacks import test_aws_stacks, test_azure_stacks, test_gcp_stacks
from tests.stacks.matrix import stack_files

COVERED = {*test_aws_stacks.STACKS, *test_azure_stacks.STACKS, *test_gcp_stacks.STACKS}


def test_every_stack_file_is_previewed_by_a_stack_test():
    """A new Pulumi.<stack>.yaml must join a stack test (and so the policy and manifest checks) to ship."""
    assert sorted(COVERED) == stack_files()
