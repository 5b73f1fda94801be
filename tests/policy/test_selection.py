"""Which packs analyse a stack, what each receives, and that packs boot while the program runs."""
import os
import textwrap
from pathlib import Path

import pytest

from mlops_tools import cli
from mlops_tools.policy.requests import Requests
from mlops_tools.policy.runner import PolicyPacks, run_policy_packs
from mlops_tools.policy.selection import TypeFilter, pack_runs, packages_in
from tests.policy.test_runner import POLICIES, RESOURCES, _children, resource

PACKS = [POLICIES / name for name in ("aws", "azure", "gcp", "kubernetes")]
GCP_BUCKET = resource("gcp:storage/bucket:Bucket", "gcs", {"name": "gcs", "uniformBucketLevelAccess": False})


def test_packages_in_the_plan_count_resources_and_explicit_providers():
    assert packages_in(RESOURCES) == {"aws", "kubernetes"}
    assert packages_in([resource("pulumi:providers:gcp", "p", {})]) == {"gcp"}
    assert packages_in([resource("pulumi:pulumi:Stack", "s", {})]) == set()


def test_a_pack_runs_for_its_provider_kubernetes_always_and_a_pack_naming_none_always():
    assert pack_runs("aws", {"aws"}) and not pack_runs("azure-native", {"aws", "kubernetes"})
    assert pack_runs("kubernetes", set()) and pack_runs("", {"aws"})


@pytest.fixture(scope="module")
def selected_and_all():
    mixed = RESOURCES + [GCP_BUCKET]
    return run_policy_packs(mixed, PACKS, all_packs=False), run_policy_packs(mixed, PACKS)


def test_a_mixed_program_runs_each_cloud_pack_it_uses_plus_kubernetes(selected_and_all):
    (packs, _), (every, _) = selected_and_all
    assert [p.name for p in packs] == ["mlops-aws", "mlops-gcp", "mlops-kubernetes"]
    assert [p.name for p in every] == ["mlops-aws", "mlops-azure", "mlops-gcp", "mlops-kubernetes"]
    assert {p.name: p.provider for p in every}["mlops-azure"] == "azure-native"


def test_selection_and_type_filtering_change_no_violation(selected_and_all):
    (_, violations), (_, every_violation) = selected_and_all
    assert violations and violations == every_violation
    assert {v.pack for v in violations} >= {"mlops-aws", "mlops-gcp", "mlops-kubernetes"}


def test_packs_taking_the_same_resources_share_one_stack_request_and_others_get_their_own():
    requests = Requests(RESOURCES)
    every = requests.stack(lambda token: True)
    assert requests.stack(lambda token: not token.startswith("gcp:")) is every  # the same resources: one request
    queues = requests.stack(lambda token: token == "aws:sqs/queue:Queue")
    assert [r.name for r in queues.resources] == ["jobs"] and [r.name for r in every.resources] == [
        r["name"] for r in RESOURCES]


def test_each_pack_receives_only_the_types_its_rules_declare():
    declared = {"policies": ["a-rule"], "resource": [r"aws:sqs/queue:Queue"], "stack": []}
    requests = Requests(RESOURCES)
    wanted = TypeFilter(declared, ["a-rule"])
    assert [r.name for r in requests.analyze(wanted.resource)] == ["jobs"]
    assert len(requests.stack(wanted.stack).resources) == 0
    # The declaration must cover every policy the pack serves; otherwise the pack gets everything.
    partial = TypeFilter(declared, ["a-rule", "handwritten-policy"])
    assert len(requests.analyze(partial.resource)) == len(RESOURCES) - 1  # every resource but the provider
    assert len(requests.stack(partial.stack).resources) == len(RESOURCES)
    everything = TypeFilter(None, ["a-rule"])
    assert len(requests.analyze(everything.resource)) == len(RESOURCES) - 1


def test_packs_declare_their_types_at_boot_before_any_analysis():
    with PolicyPacks([POLICIES / "aws"]) as packs:
        info = packs._booting[POLICIES / "aws"].result(timeout=120)
        declared = packs._processes[POLICIES / "aws"].declared_types()
    assert declared["policies"] == [p.name for p in info.policies]
    assert declared["stack"] is None, "the key-rotation rule reads every resource (what uses the key)"
    assert r"aws:sqs/queue:Queue" in declared["resource"]


def test_the_cli_starts_the_packs_before_the_program_runs(tmp_path, monkeypatch):
    from mlops_tools.engine import preview as engine_preview

    seen = {}
    real = engine_preview.preview_stack

    def watched(*args, **kwargs):
        seen["packs_running_during_program"] = len(_children() - before)
        return real(*args, **kwargs)

    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  mlops:cloud: aws\n  mlops:region: us-east-1\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent('''
        import pulumi_aws as aws
        aws.sqs.Queue("jobs")
    '''))
    (tmp_path / "policies").symlink_to(POLICIES)
    monkeypatch.setattr(engine_preview, "preview_stack", watched)
    before = _children()
    code = cli.run_preview(tmp_path, "dev", [], quiet=True)
    assert seen["packs_running_during_program"] == 2, "mlops:cloud aws: the aws and kubernetes packs boot first"
    assert code == 1, "the unencrypted queue is a mandatory violation of the aws pack: it analysed the program"
    plan = (tmp_path / "build" / "plan" / "dev.json").read_text()
    assert '"mlops-aws"' in plan and '"mlops-kubernetes"' in plan and '"mlops-azure"' not in plan
    assert _children() <= before, "every pack process is stopped after the preview"


def test_runner_and_rule_library_agree_on_where_packs_declare_their_types():
    from mlops_policy.loader import TYPES_FILE_ENV
    from mlops_tools.policy import pack_process

    assert pack_process.TYPES_FILE_ENV == TYPES_FILE_ENV


def test_packs_of_other_clouds_boot_only_when_the_plan_needs_them():
    from mlops_tools.policy.pack_process import declared_provider
    from mlops_tools.policy.selection import boot_first

    assert [declared_provider(p) for p in PACKS] == ["aws", "azure-native", "gcp", "kubernetes"]
    aws_first = boot_first("aws")
    assert [aws_first(declared_provider(p)) for p in PACKS] == [True, False, False, True]
    assert boot_first(None)("gcp") and boot_first("aws")(None), "no cloud or no declared provider: boot at once"
    # The hint was wrong (an "aws" stack with a GCP bucket): the gcp pack still boots, late, and runs.
    with PolicyPacks(PACKS, boot_now=aws_first) as packs:
        assert len(packs._processes) == 2
        ran, violations = packs.analyze(RESOURCES + [GCP_BUCKET], all_packs=False)
    assert [p.name for p in ran] == ["mlops-aws", "mlops-gcp", "mlops-kubernetes"]
    assert any(v.pack == "mlops-gcp" for v in violations)


def test_a_policy_config_naming_a_deferred_packs_policy_is_still_valid():
    config = {"azure-storage-account-require-https-only": "mandatory"}
    with PolicyPacks(PACKS, config, boot_now=lambda provider: provider in ("aws", "kubernetes")) as packs:
        ran, _ = packs.analyze(RESOURCES, all_packs=False)
    assert [p.name for p in ran] == ["mlops-aws", "mlops-kubernetes"]


def test_the_boot_hint_reads_the_stack_file_and_overrides(tmp_path):
    from mlops_tools.policy.selection import stack_cloud_hint

    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  mlops:cloud: gcp\n")
    assert stack_cloud_hint(tmp_path, "dev") == "gcp"
    assert stack_cloud_hint(tmp_path, "dev", ["mlops:cloud=azure"]) == "azure"
    assert stack_cloud_hint(tmp_path, "missing") is None
