"""Bootstrap the self-managed Pulumi state backend on AWS: an S3 bucket and a KMS key.

Pulumi's DIY backend keeps every stack's state (with secrets encrypted by the stack's
secrets provider) in a bucket. That bucket is the crown jewels of the platform, so it gets
versioning (state history and undo), SSE-KMS with a customer-managed key and bucket keys,
a public access block, a TLS-only bucket policy and a lifecycle rule that ages out old
state versions. A second key (alias) is the `awskms://` secrets provider for the stacks.

Every step reads the current setting first and only writes when it differs, so a second
run changes nothing and says so.

    python -m mlops_tools.ops.aws.bootstrap --region eu-west-1 [--bucket-name N] [--endpoint-url U]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from botocore.exceptions import ClientError

from mlops_tools.ops.aws.clients import (
    EXIT_OK,
    Clients,
    OpsError,
    UsageError,
    check_region,
    configure_logging,
    error_code,
    parse_args,
    run_main,
)

log = configure_logging("mlops.bootstrap")

DEFAULT_STATE_KEY_ALIAS = "alias/mlops-pulumi-state"
DEFAULT_SECRETS_KEY_ALIAS = "alias/mlops-pulumi-secrets"
LIFECYCLE_RULE_ID = "mlops-expire-old-state-versions"
TLS_ONLY_SID = "DenyInsecureTransport"
BUCKET_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
ALIAS_PATTERN = re.compile(r"^alias/[a-zA-Z0-9/_-]{1,250}$")


@dataclass
class BackendSpec:
    region: str
    bucket: str
    state_key_alias: str
    secrets_key_alias: str
    noncurrent_days: int


@dataclass
class Outcome:
    changes: list[str] = field(default_factory=list)

    def changed(self, what: str) -> None:
        self.changes.append(what)
        log.info("changed: %s", what)

    @staticmethod
    def unchanged(what: str) -> None:
        log.info("ok: %s", what)


def validate_bucket_name(name: str) -> str:
    """S3's naming rules, checked before any call so a typo costs no API round trip."""
    if (
        not BUCKET_NAME_PATTERN.match(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or re.match(r"^\d+\.\d+\.\d+\.\d+$", name)
        or name.startswith(("xn--", "sthree-"))
        or name.endswith(("-s3alias", "--ol-s3"))
    ):
        raise UsageError(
            f"bucket name {name!r} is not a valid S3 bucket name "
            "(3-63 characters: lowercase letters, digits, hyphens, dots; starts and ends with a letter or digit)"
        )
    return name


def ensure_key(kms: Any, alias: str, purpose: str, outcome: Outcome) -> str:
    """A symmetric customer-managed key behind `alias`, rotation on. Returns the key ARN."""
    try:
        metadata = kms.describe_key(KeyId=alias)["KeyMetadata"]
        Outcome.unchanged(f"KMS key {alias} exists ({metadata['Arn']})")
    except ClientError as error:
        if error_code(error) != "NotFoundException":
            raise
        metadata = kms.create_key(
            Description=f"mlops-platform: {purpose}",
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
            Tags=[{"TagKey": "managed-by", "TagValue": "mlops-bootstrap"}],
        )["KeyMetadata"]
        kms.create_alias(AliasName=alias, TargetKeyId=metadata["KeyId"])
        outcome.changed(f"created KMS key {alias} ({metadata['Arn']})")
    state = metadata.get("KeyState", "Enabled")
    if state != "Enabled":
        raise OpsError(f"KMS key {alias} is {state}; enable it (or cancel its deletion) and re-run")
    if kms.get_key_rotation_status(KeyId=metadata["KeyId"]).get("KeyRotationEnabled"):
        Outcome.unchanged(f"rotation enabled on {alias}")
    else:
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
        outcome.changed(f"enabled rotation on {alias}")
    return metadata["Arn"]


def bucket_exists(s3: Any, spec: BackendSpec, account: str) -> bool:
    """True when our account already owns the bucket in the right region; stops on anything else.

    Checked before any write, so a name taken by someone else leaves nothing half-created.
    """
    try:
        s3.head_bucket(Bucket=spec.bucket, ExpectedBucketOwner=account)
    except ClientError as error:
        code = error_code(error)
        if code in ("403", "AccessDenied", "Forbidden"):
            raise OpsError(
                f"bucket {spec.bucket} exists but is not owned by account {account} (or access is denied); "
                "choose another --bucket-name"
            ) from None
        if code in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    location = s3.get_bucket_location(Bucket=spec.bucket).get("LocationConstraint") or "us-east-1"
    if location != spec.region:
        raise OpsError(f"bucket {spec.bucket} is in {location}, not {spec.region}; pass --region {location}")
    return True


def ensure_bucket(s3: Any, spec: BackendSpec, account: str, exists: bool, outcome: Outcome) -> None:
    if exists:
        Outcome.unchanged(f"bucket {spec.bucket} exists in account {account}, region {spec.region}")
        return
    arguments: dict[str, Any] = {"Bucket": spec.bucket, "ObjectOwnership": "BucketOwnerEnforced"}
    if spec.region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": spec.region}
    s3.create_bucket(**arguments)
    outcome.changed(f"created bucket {spec.bucket} in {spec.region}")


def ensure_public_access_block(s3: Any, bucket: str, outcome: Outcome) -> None:
    wanted = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    try:
        current = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as error:
        if error_code(error) != "NoSuchPublicAccessBlockConfiguration":
            raise
        current = {}
    if all(current.get(name) is True for name in wanted):
        Outcome.unchanged("public access fully blocked")
        return
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=wanted)
    outcome.changed("blocked all public access")


def ensure_versioning(s3: Any, bucket: str, outcome: Outcome) -> None:
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled":
        Outcome.unchanged("versioning enabled")
        return
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    outcome.changed("enabled versioning")


def ensure_encryption(s3: Any, bucket: str, key_arn: str, outcome: Outcome) -> None:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError as error:
        if error_code(error) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        rules = []
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        if (
            default.get("SSEAlgorithm") == "aws:kms"
            and default.get("KMSMasterKeyID") == key_arn
            and rule.get("BucketKeyEnabled") is True
        ):
            Outcome.unchanged(f"default encryption is SSE-KMS with {key_arn} and bucket key")
            return
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    outcome.changed(f"set default encryption to SSE-KMS with {key_arn} and bucket key")


def tls_only_statement(bucket: str) -> dict[str, Any]:
    return {
        "Sid": TLS_ONLY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def ensure_tls_only_policy(s3: Any, bucket: str, outcome: Outcome) -> None:
    """Add (or correct) our TLS-only statement; statements others added to the policy are kept."""
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if error_code(error) != "NoSuchBucketPolicy":
            raise
        policy = {"Version": "2012-10-17", "Statement": []}
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    wanted = tls_only_statement(bucket)
    if any(statement == wanted for statement in statements):
        Outcome.unchanged("bucket policy denies non-TLS access")
        return
    policy["Statement"] = [s for s in statements if s.get("Sid") != TLS_ONLY_SID] + [wanted]
    policy.setdefault("Version", "2012-10-17")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    outcome.changed("bucket policy now denies non-TLS access")


def lifecycle_rule(spec: BackendSpec) -> dict[str, Any]:
    return {
        "ID": LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": spec.noncurrent_days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }


def _rule_matches(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    filter_prefix = (current.get("Filter") or {}).get("Prefix", current.get("Prefix", ""))
    return (
        current.get("Status") == wanted["Status"]
        and filter_prefix == ""
        and set((current.get("Filter") or {}).keys()) <= {"Prefix"}
        and current.get("NoncurrentVersionExpiration") == wanted["NoncurrentVersionExpiration"]
        and current.get("AbortIncompleteMultipartUpload") == wanted["AbortIncompleteMultipartUpload"]
    )


def ensure_lifecycle(s3: Any, spec: BackendSpec, outcome: Outcome) -> None:
    """Old state versions expire after N days (keeping the newest few); other rules are kept."""
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=spec.bucket)["Rules"]
    except ClientError as error:
        if error_code(error) != "NoSuchLifecycleConfiguration":
            raise
        rules = []
    wanted = lifecycle_rule(spec)
    ours = [rule for rule in rules if rule.get("ID") == LIFECYCLE_RULE_ID]
    if len(ours) == 1 and _rule_matches(ours[0], wanted):
        Outcome.unchanged(
            f"lifecycle expires noncurrent state versions after {spec.noncurrent_days} days"
        )
        return
    others = [rule for rule in rules if rule.get("ID") != LIFECYCLE_RULE_ID]
    s3.put_bucket_lifecycle_configuration(
        Bucket=spec.bucket, LifecycleConfiguration={"Rules": others + [wanted]}
    )
    outcome.changed(
        f"lifecycle now expires noncurrent state versions after {spec.noncurrent_days} days"
    )


def login_commands(spec: BackendSpec, endpoint_url: Optional[str]) -> list[str]:
    backend = f"s3://{spec.bucket}?region={spec.region}&awssdk=v2"
    if endpoint_url:
        backend += f"&endpoint={endpoint_url}&use_path_style=true"
    provider = f"awskms://{spec.secrets_key_alias}?region={spec.region}"
    return [
        f"pulumi login '{backend}'",
        f"pulumi stack init dev --secrets-provider '{provider}'",
        f"pulumi stack init prod --secrets-provider '{provider}'",
        f"# an existing stack: pulumi stack change-secrets-provider --stack <stack> '{provider}'",
    ]


def bootstrap(spec: BackendSpec, clients: Clients) -> Outcome:
    outcome = Outcome()
    account = clients("sts", spec.region).get_caller_identity()["Account"]
    log.info("bootstrapping Pulumi state backend in account %s, region %s", account, spec.region)
    s3 = clients("s3", spec.region)
    exists = bucket_exists(s3, spec, account)
    kms = clients("kms", spec.region)
    state_key_arn = ensure_key(kms, spec.state_key_alias, "Pulumi state bucket encryption", outcome)
    ensure_key(kms, spec.secrets_key_alias, "Pulumi stack secrets provider (awskms://)", outcome)
    ensure_bucket(s3, spec, account, exists, outcome)
    ensure_public_access_block(s3, spec.bucket, outcome)
    ensure_versioning(s3, spec.bucket, outcome)
    ensure_encryption(s3, spec.bucket, state_key_arn, outcome)
    ensure_tls_only_policy(s3, spec.bucket, outcome)
    ensure_lifecycle(s3, spec, outcome)
    return outcome


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mlops_tools.ops.aws.bootstrap",
        description="Create (idempotently) the S3 bucket and KMS keys for a self-managed Pulumi backend.",
    )
    parser.add_argument("--region", required=True, help="AWS region for the bucket and keys")
    parser.add_argument("--bucket-name", help="state bucket name (default: mlops-pulumi-state-<account>-<region>)")
    parser.add_argument("--state-key-alias", default=DEFAULT_STATE_KEY_ALIAS, help="KMS alias encrypting the bucket")
    parser.add_argument("--secrets-key-alias", default=DEFAULT_SECRETS_KEY_ALIAS, help="KMS alias for awskms://")
    parser.add_argument("--noncurrent-days", type=int, default=90, help="days before an old state version expires")
    parser.add_argument("--endpoint-url", help="AWS-compatible endpoint (e.g. a local emulator)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(build_parser(), argv)
    if isinstance(args, int):
        return args

    def body() -> int:
        region = check_region(args.region)
        for alias in (args.state_key_alias, args.secrets_key_alias):
            if not ALIAS_PATTERN.match(alias) or alias.startswith("alias/aws/"):
                raise UsageError(f"KMS alias {alias!r} must look like alias/<name> and not be an alias/aws/ name")
        if args.state_key_alias == args.secrets_key_alias:
            raise UsageError("--state-key-alias and --secrets-key-alias must differ (one key per purpose)")
        if not 1 <= args.noncurrent_days <= 3650:
            raise UsageError("--noncurrent-days must be between 1 and 3650")
        clients = Clients(args.endpoint_url)
        bucket = args.bucket_name
        if bucket is None:
            account = clients("sts", region).get_caller_identity()["Account"]
            bucket = f"mlops-pulumi-state-{account}-{region}"
        spec = BackendSpec(
            region=region,
            bucket=validate_bucket_name(bucket),
            state_key_alias=args.state_key_alias,
            secrets_key_alias=args.secrets_key_alias,
            noncurrent_days=args.noncurrent_days,
        )
        outcome = bootstrap(spec, clients)
        if outcome.changes:
            print(f"backend bootstrapped: {len(outcome.changes)} change(s)")
            for change in outcome.changes:
                print(f"  - {change}")
        else:
            print("nothing changed: the backend was already bootstrapped exactly as wanted")
        print("\nuse it with:")
        for command in login_commands(spec, args.endpoint_url):
            print(f"  {command}")
        return EXIT_OK

    return run_main(log, body)


if __name__ == "__main__":
    sys.exit(main())
