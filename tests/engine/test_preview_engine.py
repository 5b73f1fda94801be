"""The offline preview: what it records, what it masks, how it fails, and that it is deterministic."""

import asyncio
import json

import pulumi
import pulumi_aws as aws
import pytest

from mlops_tools.cli import run_preview, CliError
from mlops_tools.engine.plan import read_plan
from mlops_tools.engine.preview import PreviewError, SECRET_MASK, preview_program, preview_stack


def program():
    dr = aws.Provider("dr", region="us-west-2")
    key = aws.kms.Key("k", enable_key_rotation=True)
    replica = aws.kms.Key("k-dr", opts=pulumi.ResourceOptions(provider=dr))
    bucket = aws.s3.Bucket("b", opts=pulumi.ResourceOptions(protect=True))
    aws.s3.BucketServerSideEncryptionConfiguration("enc", bucket=bucket.id, rules=[{
        "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn}}])
    aws.secretsmanager.SecretVersion("sv", secret_id="x", secret_string=pulumi.Output.secret("hunter2"))
    pulumi.export("replicaKey", replica.arn)
    pulumi.export("password", pulumi.Output.secret("hunter2"))


@pytest.fixture(scope="module")
def result():
    return preview_program(program, project="p", stack="dev", config={"aws:region": "eu-west-1"})


def test_records_engine_property_names_and_realistic_ids(result):
    enc = result.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    rule = enc["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    key = result.one("aws:kms/key:Key", "k")
    assert rule["kmsMasterKeyId"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    assert enc["inputs"]["bucket"].startswith("b-")  # a bucket's id is its (autonamed) name
    assert sorted(enc["dependencies"]) == sorted([key["urn"], result.one("aws:s3/bucket:Bucket")["urn"]])


def test_explicit_provider_is_a_resource_and_sets_the_region(result):
    provider = result.one("pulumi:providers:aws", "dr")
    replica = result.one("aws:kms/key:Key", "k-dr")
    assert provider["inputs"]["region"] == "us-west-2"
    assert replica["provider"].startswith(provider["urn"] + "::")
    assert result.outputs["replicaKey"].startswith("arn:aws:kms:us-west-2:")


def test_protect_and_parent_are_recorded(result):
    bucket = result.one("aws:s3/bucket:Bucket")
    assert bucket["protect"] is True
    assert bucket["parent"].endswith("pulumi:pulumi:Stack::p-dev")


def test_secrets_masked_for_files_but_real_for_policies(result):
    sv = result.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert sv["inputs"]["secretString"] == "hunter2"
    masked = next(r for r in result.masked_resources() if r["urn"] == sv["urn"])
    assert masked["inputs"]["secretString"] == SECRET_MASK
    assert result.masked_outputs()["password"] == SECRET_MASK
    assert "hunter2" not in json.dumps([result.masked_resources(), result.masked_outputs()])


def test_program_errors_are_one_readable_line():
    def broken():
        raise pulumi.RunError("invalid stack configuration:\nPulumi.dev.yaml: mlops:cloud = \"x\": bad")

    with pytest.raises(PreviewError) as caught:
        preview_program(broken)
    assert str(caught.value).startswith("invalid stack configuration:")

    def crashing():
        {}["missing"]

    with pytest.raises(PreviewError, match=r"program failed: KeyError: 'missing' \(at test_preview_engine.py:\d+\)"):
        preview_program(crashing)


def test_duplicate_urns_are_reported():
    def twice():
        aws.s3.Bucket("same")
        aws.s3.Bucket("same")

    with pytest.raises(PreviewError, match="duplicate resource URNs"):
        preview_program(twice)


def test_plan_file_is_byte_identical_across_runs(project):
    first = run_preview(project, "dev", [], policies=False, quiet=True)
    plan_path = project / "build" / "plan" / "dev.json"
    before = plan_path.read_bytes()
    second = run_preview(project, "dev", [], policies=False, quiet=True)
    assert first == second == 0
    assert plan_path.read_bytes() == before
    plan = read_plan(plan_path)
    assert set(plan) == {"project", "stack", "cloud", "resources", "outputs", "policy", "cost"}
    assert plan["outputs"]["token"] == SECRET_MASK and b"s3cr3t-token" not in before and b"hunter2" not in before


def test_config_override_changes_the_plan(project):
    run_preview(project, "dev", ["mlops:region=eu-west-1"], policies=False, quiet=True)
    plan = read_plan(project / "build" / "plan" / "dev.json")
    provider = next(r for r in plan["resources"] if r["type"] == "pulumi:providers:aws")
    assert provider["inputs"]["region"] == "eu-west-1"


def test_bad_stack_config_fails_before_any_resource_with_one_line_per_problem(project):
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n  mlops:cloud: azur\n  mlops:region: us-east-1\n  mlops:dr:\n    enabled: true\n    replicaRegion: us-east-1\n"
        "  mlops:trainingPools:\n    - {name: cpu, instanceTypes: [m6i.large, m6a.large], minNodes: 4, maxNodes: 1}\n")
    with pytest.raises(CliError) as caught:
        run_preview(project, "dev", [], policies=False, quiet=True)
    lines = str(caught.value).splitlines()
    assert lines[0] == "invalid stack configuration:"
    assert len(lines) == 4 and all(l.startswith("Pulumi.dev.yaml: mlops:") for l in lines[1:])
    assert not (project / "build" / "plan" / "dev.json").exists()


def test_program_crash_is_reported_with_its_location(project):
    with pytest.raises(CliError, match=r"dev: program failed: KeyError: 'boom' \(at __main__.py:\d+\)"):
        run_preview(project, "dev", ["t:explode=true"], policies=False, quiet=True)


def test_missing_stack_file_lists_the_stacks(project):
    with pytest.raises(CliError, match="no stack file Pulumi.qa.yaml; stacks here: dev"):
        run_preview(project, "qa", [], policies=False, quiet=True)


def test_preview_stack_runs_the_projects_main(project):
    result = preview_stack(project, "dev")
    assert {r["type"] for r in result.resources} >= {"aws:s3/bucket:Bucket", "aws:kms/key:Key", "pulumi:providers:aws"}


def test_a_program_that_never_resolves_names_the_stuck_resources():
    def cycle():
        never = pulumi.Output(set(), asyncio.get_event_loop().create_future(), asyncio.get_event_loop().create_future())
        aws.s3.Bucket("stuck", bucket=never)

    with pytest.raises(PreviewError, match=r"did not finish within 1 s: aws:s3/bucket:Bucket 'stuck' wait on values that never resolve"):
        preview_program(cycle, deadline_seconds=1)


def test_yaml_dates_in_stack_files_reach_the_program_as_iso_strings(project):
    from mlops_tools.engine.preview import load_stack_config
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n  mlops:cloud: aws\n  mlops:region: us-east-1\n  mlops:waivers:\n"
        "    - {policy: p, resource: r, reason: reviewed by the team, owner: me, expires: 2027-05-31}\n")
    _, config = load_stack_config(project, "dev")
    assert json.loads(config.values["mlops:waivers"])[0]["expires"] == "2027-05-31"
    assert run_preview(project, "dev", [], policies=False, quiet=True) == 0
