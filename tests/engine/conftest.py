import textwrap
from pathlib import Path

import pytest

PROGRAM = '''
import pulumi, pulumi_aws as aws
from stacks.config import ConfigError, load_from_pulumi
try:
    cfg = load_from_pulumi()
except ConfigError as error:
    raise pulumi.RunError(f"invalid stack configuration:\\n{error}") from None
if pulumi.Config("t").get_bool("explode"):
    {}["boom"]
primary = aws.Provider("primary", region=cfg.region)
key = aws.kms.Key("artifacts", enable_key_rotation=True, opts=pulumi.ResourceOptions(provider=primary))
bucket = aws.s3.Bucket("artifacts", opts=pulumi.ResourceOptions(provider=primary, protect=cfg.deletion_protection))
aws.s3.BucketServerSideEncryptionConfiguration("artifacts", bucket=bucket.id, rules=[{
    "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key.arn}}],
    opts=pulumi.ResourceOptions(provider=primary))
aws.secretsmanager.Secret("db", opts=pulumi.ResourceOptions(provider=primary))
aws.secretsmanager.SecretVersion("db", secret_id="db", secret_string=pulumi.Output.secret("hunter2-password"),
    opts=pulumi.ResourceOptions(provider=primary))
pulumi.export("artifactBucket", bucket.id)
pulumi.export("token", pulumi.Output.secret("s3cr3t-token"))
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A tiny Pulumi project on disk, shaped like ours, for exercising the preview CLI."""
    (tmp_path / "Pulumi.yaml").write_text("name: t\nruntime: python\nconfig:\n  mlops:environment:\n    default: dev\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  mlops:cloud: aws\n  mlops:region: us-east-1\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    return tmp_path
