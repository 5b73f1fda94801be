"""Any valid Pulumi stack name previews: long names used to crash AWS on the S3 bucket prefix limit."""

import shutil
from pathlib import Path

from mlops_tools.engine.preview import load_stack_config, preview_stack

ROOT = Path(__file__).resolve().parents[2]
LONG = "team-recommendations-staging-eu-west"


def test_aws_stack_with_a_long_name_previews_with_names_within_the_limits(tmp_path):
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "Pulumi.dev.yaml", tmp_path / f"Pulumi.{LONG}.yaml")
    result = preview_stack(ROOT, LONG, loaded=load_stack_config(tmp_path, LONG))
    prefixes = [r["inputs"]["bucketPrefix"] for r in result.resources
                if r["type"] == "aws:s3/bucket:Bucket" and "bucketPrefix" in r["inputs"]]
    assert prefixes and all(len(prefix) <= 37 for prefix in prefixes), prefixes
