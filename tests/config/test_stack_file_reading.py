"""Reading stack files and overrides as a new user writes them: every mistake is one clear line.

Each case here was an internal error, a silently accepted mistake, or a rejected valid input before
stacks/stackfile.py; the message must name the file (or --config), the key and the value.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.catalog import botocore_instance_types, known_machine_types, machine_type_problem
from stacks.config import ConfigError, load_config
from stacks.naming import platform_name
from stacks.regions import aws_regions, botocore_regions
from stacks.stackfile import load_stack_files, split_overrides

ROOT = Path(__file__).resolve().parents[2]

DEV = """config:
  mlops:cloud: aws
  mlops:region: us-east-1
"""


@pytest.fixture
def project(tmp_path):
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


def read(project, text, *overrides, stack="t"):
    path = project / f"Pulumi.{stack}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return load_stack_files(project, stack, overrides)[1].values


def problems(project, text, *overrides):
    with pytest.raises(ConfigError) as caught:
        read(project, text, *overrides)
    return caught.value.problems


def config_problems(project, text, *overrides):
    with pytest.raises(ConfigError) as caught:
        load_config("t", read(project, text, *overrides))
    return caught.value.problems


def validated(project, text, *overrides):
    return load_config("t", read(project, text, *overrides))


def test_config_that_is_a_list_names_the_file(project):
    [line] = problems(project, "config:\n  - mlops:cloud: aws\n")
    assert line == "Pulumi.t.yaml: `config:` must be a mapping of key: value, not a list"


def test_top_level_list_names_the_file(project):
    [line] = problems(project, "- config: {}\n")
    assert line.startswith("Pulumi.t.yaml: the file must be a mapping with a `config:` key, not a list")


def test_impossible_unquoted_date_names_file_line_and_value(project):
    text = DEV + "  mlops:waivers:\n    - {policy: p, resource: r, reason: a real reason, owner: me, expires: 2027-13-45}\n"
    [line] = problems(project, text)
    assert line.startswith("Pulumi.t.yaml:5: '2027-13-45' is not a real date")


def test_file_that_is_not_utf8_names_line_and_byte(project):
    [line] = problems(project, DEV.encode() + b"  mlops:owner: caf\xe9\n")
    assert line.startswith("Pulumi.t.yaml:4: not UTF-8 (byte 0xe9")


def test_yaml_syntax_error_keeps_file_line_column_and_the_snippet(project):
    [message] = problems(project, DEV + "  mlops:tags: {team: [ml\n")
    first, *rest = message.split("\n")
    assert first.startswith("Pulumi.t.yaml:5:") and "YAML syntax error" in first
    assert rest, "the offending line is shown under the message"


def test_duplicate_keys_are_rejected_not_last_wins(project):
    [line] = problems(project, DEV + "  mlops:region: eu-west-1\n")
    assert line == ("Pulumi.t.yaml:4: key 'mlops:region' appears twice (first on line 3); "
                    "YAML keeps only the last one: remove or merge the duplicate")


def test_key_without_namespace_is_not_silently_ignored(project):
    [line] = problems(project, "config:\n  cloud: aws\n  mlops:region: us-east-1\n")
    assert "'cloud' has no namespace" in line and "did you mean mlops:cloud?" in line
    [line] = problems(project, DEV, "region=eu-west-1")
    assert line.startswith("--config 'region=eu-west-1'") and "did you mean mlops:region?" in line


def test_misspelt_namespace_gets_a_suggestion(project):
    [line] = problems(project, DEV + "  mlop:owner: me\n")
    assert "unknown config namespace 'mlop' (did you mean mlops:owner?)" in line


def test_bad_json_override_names_the_override(project):
    [line] = problems(project, DEV, 'mlops:tags={"team": ml')
    assert line.startswith("--config 'mlops:tags={\"team\": ml': value") and "is not valid JSON/YAML" in line


def test_dotted_overrides_change_one_field(project):
    text = DEV + "  mlops:dr:\n    enabled: true\n    replicaRegion: us-west-1\n    rpoMinutes: 30\n"
    cfg = validated(project, text, "mlops:dr.replicaRegion=us-west-2")
    assert (cfg.dr.enabled, cfg.dr.replica_region, cfg.dr.rpo_minutes) == (True, "us-west-2", 30)


def test_indexed_override_changes_one_pool(project):
    text = DEV + ("  mlops:trainingPools:\n"
                  "    - {name: cpu, instanceTypes: [m6i.large, m6a.large], maxNodes: 4}\n"
                  "    - {name: big, instanceTypes: [m6i.4xlarge, m6a.4xlarge], maxNodes: 2}\n")
    [line] = config_problems(project, text, "mlops:trainingPools[0].maxNodes=0")
    assert line.startswith("Pulumi.t.yaml: mlops:trainingPools[0].maxNodes = 0: Input should be greater than or equal to 1")
    values = read(project, text, "mlops:trainingPools[1].maxNodes=7")
    assert [p["maxNodes"] for p in json.loads(values["mlops:trainingPools"])] == [4, 7]


def test_index_past_the_end_says_how_to_append(project):
    [line] = problems(project, DEV + "  mlops:trainingPools: []\n", "mlops:trainingPools[3].maxNodes=1")
    assert "index [3] is past the end of a list of 0; use [0] to append" in line


def test_object_override_merges_into_the_section(project):
    prod_like = DEV + "  mlops:tracking:\n    dbAllocatedStorageGb: 100\n    dbInstanceClass: db.t4g.medium\n"
    cfg = validated(project, prod_like, 'mlops:tracking={"dbInstanceClass": "db.r6g.large"}')
    assert (cfg.tracking.db_instance_class, cfg.tracking.db_allocated_storage_gb) == ("db.r6g.large", 100)


def test_makefile_config_string_keeps_values_with_spaces_whole():
    assert split_overrides('mlops:tags={"team": "ml ops", "cost": "a b"} mlops:region=eu-west-1') == [
        'mlops:tags={"team": "ml ops", "cost": "a b"}', "mlops:region=eu-west-1"]
    assert split_overrides("") == []


def test_infinite_numbers_are_rejected(project):
    lines = config_problems(project, DEV + "  mlops:monitoring: {monthlyBudgetUsd: 1e400}\n")
    assert any("mlops:monitoring.monthlyBudgetUsd" in line and "finite" in line for line in lines), lines


def test_unknown_key_gets_did_you_mean(project):
    lines = config_problems(project, DEV + "  mlops:tracking: {dbInstanceClas: db.t4g.medium}\n")
    assert lines == ['Pulumi.t.yaml: mlops:tracking.dbInstanceClas = "db.t4g.medium": '
                     "unknown key; did you mean 'dbInstanceClass'?"]


def test_region_of_another_cloud_says_which_cloud(project):
    [line] = config_problems(project, "config:\n  mlops:cloud: aws\n  mlops:region: westeurope\n")
    assert "westeurope is an Azure region; mlops:cloud is aws" in line


@pytest.mark.parametrize("cloud,good,bad,expected", [
    ("aws", "m6i.2xlarge", "m6i.2xlarg", "did you mean m6i.2xlarge"),
    ("aws", "g5.xlarge", "Standard_D8s_v5", "is an azure size"),
    ("azure", "Standard_NC8as_T4_v3", "Standard_D7s_v5", "is not a azure machine size"),
    ("gcp", "n2-standard-8", "n2-standard-7", "did you mean"),
    ("gcp", "n2-custom-8-32768", "m6i.large", "is an aws size"),
])
def test_machine_types_must_exist_on_the_stack_cloud(cloud, good, bad, expected):
    assert machine_type_problem(cloud, good) is None
    assert expected in machine_type_problem(cloud, bad)


def test_pool_with_unknown_type_is_a_config_error(project):
    text = DEV + "  mlops:trainingPools:\n    - {name: cpu, instanceTypes: [m6i.large, m6i.larg], maxNodes: 2}\n"
    lines = config_problems(project, text)
    assert lines[0].startswith('Pulumi.t.yaml: mlops:trainingPools[0].instanceTypes[1] = "m6i.larg": is not a aws machine size')


def test_every_type_in_the_repo_stacks_exists():
    for path in ROOT.glob("Pulumi.*.yaml"):
        stack = path.name[len("Pulumi."):-len(".yaml")]
        load_config(stack, load_stack_files(ROOT, stack)[1].values)  # raises on an unknown type


def test_aws_copy_matches_the_pinned_botocore():
    assert sorted(known_machine_types("aws")) == botocore_instance_types(), "run python -m stacks.catalog"


def test_aws_region_copy_matches_the_pinned_botocore():
    assert sorted(aws_regions()) == botocore_regions(), "run python -m stacks.regions"


def test_checking_an_aws_stack_does_not_import_botocore():
    """botocore's import and endpoint data were 1.5 s of CPU in every AWS preview (issue 18)."""
    code = ("import sys; from pathlib import Path; from stacks.config import load_config; "
            "from stacks.stackfile import load_stack_files; "
            f"load_config('prod', load_stack_files(Path({str(ROOT)!r}), 'prod')[1].values); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('botocore', 'boto3')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_any_stack_name_gives_a_bounded_stable_distinct_platform_name():
    assert [platform_name(s) for s in ("dev", "azure-prod", "gcp-dev")] == ["mlops-dev", "mlops-azure-prod", "mlops-gcp-dev"]
    long_a, long_b = "team-recommendations-staging-eu", "team-recommendations-staging-us"
    assert len(platform_name(long_a)) <= 20 and platform_name(long_a) == platform_name(long_a)
    assert platform_name(long_a) != platform_name(long_b)
    assert platform_name("Org.Project_Stack") == "mlops-org-proje-" + platform_name("Org.Project_Stack")[-4:]
