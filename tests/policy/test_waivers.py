"""Waivers: they cover exactly the named policy and resource, until they expire."""

import datetime as dt

from mlops_tools.policy.waivers import apply_waivers
from stacks.config import Waiver

URN = "urn:pulumi:dev::mlops-platform::mlops:tracking:TrackingServer$aws:s3/bucket:Bucket::artifacts"
TODAY = dt.date(2026, 11, 22)


def violation(policy="aws-s3-bucket-enable-server-side-encryption", urn=URN, enforcement="mandatory"):
    return {"pack": "aws", "policy": policy, "severity": "high", "enforcement": enforcement, "urn": urn, "message": "m"}


def waiver(resource="artifacts", policy="aws-s3-bucket-enable-server-side-encryption", expires="2026-12-31"):
    return Waiver(policy=policy, resource=resource, reason="vendor bucket, encrypted by the vendor", owner="alice",
                  expires=dt.date.fromisoformat(expires))


def test_waiver_by_resource_name_covers_the_violation_and_records_why():
    outcome = apply_waivers([violation()], [waiver()], TODAY)
    assert outcome.active == []
    assert outcome.waived[0]["waiver"] == {"reason": "vendor bucket, encrypted by the vendor", "owner": "alice", "expires": "2026-12-31"}


def test_waiver_by_urn_pattern():
    outcome = apply_waivers([violation()], [waiver(resource="urn:pulumi:dev::*$aws:s3/bucket:Bucket::*")], TODAY)
    assert len(outcome.waived) == 1


def test_waiver_for_another_policy_or_resource_covers_nothing():
    outcome = apply_waivers([violation()], [waiver(policy="aws-s3-bucket-block-public-access"), waiver(resource="other")], TODAY)
    assert len(outcome.active) == 1 and outcome.waived == []
    assert len(outcome.unused) == 2


def test_expired_waiver_no_longer_applies_and_says_so():
    outcome = apply_waivers([violation()], [waiver(expires="2026-11-21")], TODAY)
    assert len(outcome.active) == 1 and outcome.waived == []
    assert outcome.expired == ["waiver for aws-s3-bucket-enable-server-side-encryption on artifacts (owner alice) expired on "
                               "2026-11-21: renew it with a new review date or fix the resource"]


def test_waiver_expiring_today_still_applies():
    assert apply_waivers([violation()], [waiver(expires="2026-11-22")], TODAY).active == []


KNOWN = {"aws-s3-bucket-enable-server-side-encryption", "aws-s3-bucket-block-public-access"}


def test_waiver_for_a_policy_no_pack_has_says_so_with_the_nearest_name():
    outcome = apply_waivers([], [waiver(policy="aws-s3-bucket-block-public-acess")], TODAY, KNOWN)
    assert outcome.unused == ["waiver for aws-s3-bucket-block-public-acess on artifacts: no policy pack has a policy "
                              "named aws-s3-bucket-block-public-acess (did you mean aws-s3-bucket-block-public-access?)"]


def test_without_policy_packs_no_waiver_is_called_stale():
    outcome = apply_waivers([], [waiver()], TODAY, policies_ran=False)
    assert outcome.unused == [] and outcome.expired == []
