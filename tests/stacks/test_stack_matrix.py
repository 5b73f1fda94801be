"""What every stack file must give, whatever its cloud: zero unwaived mandatory violations from its packs,
stateful resources protected in prod, valid Kubernetes manifests, a priced plan, the retraining pipeline and
its drift trigger wired. Cloud-specific checks are in test_{aws,azure,gcp}_stacks.py (same shared Stacks)."""

import pytest

from tests.stacks.matrix import IN_CLUSTER_MAIL, STATEFUL, stack_files, stack_for


@pytest.fixture(scope="module", params=stack_files())
def stack(request):
    return stack_for(request.param)


def test_zero_unwaived_mandatory_violations_from_every_pack(stack):
    assert {p.name for p in stack.packs} >= {f"mlops-{stack.cfg.cloud}", "mlops-kubernetes"}
    assert stack.mandatory_violations() == []
    assert stack.policy.expired == []


def test_stateful_resources_are_protected_in_prod(stack):
    stateful, unprotected = stack.unprotected_stateful(STATEFUL[stack.cfg.cloud])
    assert stateful
    assert unprotected == ([] if stack.cfg.deletion_protection else stateful)


def test_every_kubernetes_manifest_is_valid_for_the_cluster_version(stack):
    report = stack.manifest_report()
    assert report.invalid == []
    assert len(report.validated) >= 40  # the whole in-cluster platform, not an empty render


def test_every_resource_type_is_priced_free_or_unpriced_with_a_reason(stack):
    assert stack.cost_problems() == []
    section = stack.cost()
    assert section["monthlyUsd"]["idle"] <= section["monthlyUsd"]["expected"] <= section["monthlyUsd"]["max"]


def test_retraining_pipeline_logs_in_as_its_own_mlflow_user_and_validates(stack, tmp_path):
    from tests.stacks.pipelines_checks import manifest_problems, mlflow_user_problems

    assert mlflow_user_problems(stack) == []
    assert manifest_problems(stack, tmp_path) == []


def test_drift_job_and_its_retraining_trigger_are_wired(stack):
    from tests.stacks.pipelines_checks import drift_problems

    assert drift_problems(stack) == []


@pytest.mark.parametrize("stack", [s for cloud in IN_CLUSTER_MAIL for s in stack_files(cloud)], indirect=True)
def test_in_cluster_alerts_are_mailed_to_the_alert_emails(stack):
    """Alertmanager's default route reaches alertEmails through the configured relay (not the null receiver).
    (AWS routes it to the alert SNS topic, whose email subscriptions tests/components/aws/test_monitoring.py checks.)"""
    receiver = stack.alertmanager_default_receiver()
    assert [c["to"] for c in receiver["email_configs"]] == stack.cfg.monitoring.alert_emails
    assert {c["smarthost"] for c in receiver["email_configs"]} == {stack.cfg.monitoring.alert_smtp.smarthost}
