"""A promotion that cannot finish stops the failover with what to look at, instead of waiting out the RTO."""

from types import SimpleNamespace

import pytest

from mlops_tools.ops.aws.dr.steps import PROMOTION_TIMEOUT_SECONDS, RdsSteps
from mlops_tools.ops.common import OpsError
from mlops_tools.ops.runbook import Wait


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def steps_with(statuses, rto_seconds=4 * 3600):
    clock = Clock()
    answers = iter(statuses)
    aws = SimpleNamespace(db=lambda region, identifier: {"DBInstanceStatus": next(answers, statuses[-1]),
                                                         "ReadReplicaSourceDBInstanceIdentifier": "arn:aws:rds:us-east-1:1:db:p"})
    return RdsSteps(aws=aws, wait=Wait(30, rto_seconds, clock.sleep, clock), assume_yes=True), clock


def test_a_status_promotion_never_leaves_stops_at_once_with_the_events_command():
    steps, clock = steps_with(["modifying", "storage-full"])
    with pytest.raises(OpsError) as error:
        steps.wait_promoted("us-west-2", "tracking-replica")
    assert "is 'storage-full', which promotion does not leave" in str(error.value)
    assert "aws rds describe-events --source-identifier tracking-replica --region us-west-2" in str(error.value)
    assert clock.now == 30  # one poll, not the RTO


def test_a_promotion_that_never_finishes_gives_up_long_before_the_rto():
    steps, clock = steps_with(["modifying"])
    with pytest.raises(OpsError) as error:
        steps.wait_promoted("us-west-2", "tracking-replica")
    assert clock.now == PROMOTION_TIMEOUT_SECONDS < 4 * 3600
    assert f"has not finished promotion after {PROMOTION_TIMEOUT_SECONDS} s (status 'modifying'" in str(error.value)
