"""End to end: a Pulumi program with one insecure and one hardened resource per AWS and Kubernetes rule,
previewed offline and run through both packs, yields exactly the expected (policy, resource) violations."""
import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest

from mlops_tools.policy.runner import run_policy_packs
from mlops_tools.engine.preview import preview_program
from tests.policies.aws_gap_program import ALL_CONTROL_PLANE_LOGS, GAP_EXPECTED, IMDSV2, gap_program, hardened_db

ROOT = Path(__file__).resolve().parents[3]
CONFIG = {"aws:region": "eu-west-1", "mlops:cloud": "aws"}


def _doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _key_policy() -> str:
    return _doc({"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                 "Action": "kms:*", "Resource": "*"})


def _bucket(name, key, *, sse="aws:kms", pab=True, tls=True, log_to=None, public=False, versioning=True,
            lifecycle=True, ownership=True):
    bucket = aws.s3.Bucket(name)
    if versioning:
        aws.s3.BucketVersioning(f"{name}-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"})
    if lifecycle:
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=bucket.id, rules=[{
            "id": "abort-uploads", "status": "Enabled", "filter": {},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7}}])
    if ownership:
        aws.s3.BucketOwnershipControls(f"{name}-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"})
    rule = {"apply_server_side_encryption_by_default": {"sse_algorithm": sse, **({"kms_master_key_id": key.arn} if sse != "AES256" else {})}}
    aws.s3.BucketServerSideEncryptionConfiguration(f"{name}-sse", bucket=bucket.id, rules=[rule])
    if pab:
        aws.s3.BucketPublicAccessBlock(f"{name}-pab", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                                       ignore_public_acls=True, restrict_public_buckets=True)
    if tls:
        extra = [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}] if public else []
        aws.s3.BucketPolicy(f"{name}-policy", bucket=bucket.id, policy=bucket.arn.apply(lambda arn: _doc({
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}, *extra)))
    if log_to is not None:
        aws.s3.BucketLogging(f"{name}-logging", bucket=bucket.id, target_bucket=log_to.id, target_prefix=f"{name}/")
    return bucket


def _aws_program():
    key = aws.kms.Key("good-key", enable_key_rotation=True, policy=_key_policy())
    aws.kms.Key("bad-rotation-key", enable_key_rotation=False, policy=_key_policy())
    aws.kms.Key("bad-policy-key", enable_key_rotation=True, policy=_doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}))

    # A key whose policy is a separate resource: a store must wait for that resource, not only the key.
    split_key = aws.kms.Key("split-policy-key", enable_key_rotation=True)
    split_policy = aws.kms.KeyPolicy("split-policy", key_id=split_key.id, policy=_key_policy())
    aws.sqs.Queue("split-key-queue", kms_master_key_id=split_key.arn,
                  opts=pulumi.ResourceOptions(depends_on=[split_policy]))
    aws.sqs.Queue("racing-queue", kms_master_key_id=split_key.arn)

    logs = _bucket("access-logs", key)
    _bucket("good-bucket", key, log_to=logs)
    _bucket("bad-sse-bucket", key, sse="AES256", log_to=logs)
    _bucket("bad-pab-bucket", key, pab=False, log_to=logs)
    _bucket("bad-tls-bucket", key, tls=False, log_to=logs)
    _bucket("bad-logging-bucket", key)
    _bucket("bad-public-bucket", key, log_to=logs, public=True)
    _bucket("bad-versioning-bucket", key, log_to=logs, versioning=False)
    _bucket("bad-lifecycle-bucket", key, log_to=logs, lifecycle=False)
    _bucket("bad-acl-bucket", key, log_to=logs, ownership=False)

    aws.cloudwatch.LogGroup("good-flow-logs", name="/mlops/p/vpc-flow-logs", retention_in_days=365, kms_key_id=key.arn)
    aws.cloudwatch.LogGroup("good-dr-flow-logs", name="/mlops/p-dr/vpc-flow-logs", retention_in_days=365,
                            kms_key_id=key.arn, region="eu-central-1")
    aws.cloudwatch.LogGroup("audit-logs", name="/mlops/p/audit", retention_in_days=400, kms_key_id=key.arn)
    aws.cloudwatch.LogGroup("bad-dr-audit-logs", name="/mlops/p-dr/audit", retention_in_days=30,
                            kms_key_id=key.arn, region="eu-central-1")

    db = dict(instance_class="db.t4g.micro", engine="postgres", allocated_storage=20, storage_encrypted=True,
              kms_key_id=key.arn, publicly_accessible=False, iam_database_authentication_enabled=True, **hardened_db(key))
    aws.rds.Instance("good-db", **db)
    aws.rds.Instance("bad-db-cmk", **{**db, "storage_encrypted": False, "kms_key_id": None})
    aws.rds.Instance("bad-db-public", **{**db, "publicly_accessible": True})
    aws.rds.Instance("bad-db-iam", **{**db, "iam_database_authentication_enabled": False})
    aws.rds.Instance("bad-db-version", **{**db, "engine_version": "16.6"})  # RDS stopped creating it 2026-05-01

    aws.ebs.Volume("good-volume", availability_zone="eu-west-1a", size=10, encrypted=True, kms_key_id=key.arn)
    aws.ebs.Volume("bad-volume", availability_zone="eu-west-1a", size=10)
    aws.ec2.LaunchTemplate("good-lt", metadata_options=IMDSV2,
                           block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {"encrypted": "true", "kms_key_id": key.arn}}])
    aws.ec2.LaunchTemplate("bad-lt", image_id="ami-0123456789abcdef0")

    role_arn = "arn:aws:iam::123456789012:role/eks"
    private = {"subnet_ids": ["subnet-1"], "endpoint_private_access": True, "endpoint_public_access": False}
    secrets = {"resources": ["secrets"], "provider": {"key_arn": key.arn}}
    eks = {"role_arn": role_arn, "enabled_cluster_log_types": ALL_CONTROL_PLANE_LOGS}
    aws.eks.Cluster("good-eks", **eks, vpc_config=private, encryption_config=secrets)
    aws.eks.Cluster("bad-eks-secrets", **eks, vpc_config=private)
    aws.eks.Cluster("bad-eks-version", **eks, vpc_config=private, encryption_config=secrets, version="1.33")
    aws.eks.Cluster("bad-eks-logging", role_arn=role_arn, vpc_config=private, encryption_config=secrets,
                    enabled_cluster_log_types=["api"])
    aws.eks.Cluster("bad-eks-endpoint", **eks, encryption_config=secrets,
                    vpc_config={"subnet_ids": ["subnet-1"], "endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"]})

    repo = dict(image_tag_mutability="IMMUTABLE", image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[{"encryption_type": "KMS", "kms_key": key.arn}])
    aws.ecr.Repository("good-repo", **repo)
    aws.ecr.Repository("bad-repo-kms", **{**repo, "encryption_configurations": None})
    aws.ecr.Repository("bad-repo-tags", **{**repo, "image_tag_mutability": "MUTABLE"})
    aws.ecr.Repository("bad-repo-scan", **{**repo, "image_scanning_configuration": {"scan_on_push": False}})

    table = dict(hash_key="id", billing_mode="PAY_PER_REQUEST", attributes=[{"name": "id", "type": "S"}],
                 point_in_time_recovery={"enabled": True})
    encrypted = {"server_side_encryption": {"enabled": True, "kms_key_arn": key.arn}}
    aws.dynamodb.Table("good-table", **encrypted, **table)
    aws.dynamodb.Table("bad-table", **table)
    aws.dynamodb.Table("bad-table-pitr", **encrypted, **{**table, "point_in_time_recovery": {"enabled": False}})
    aws.sns.Topic("good-topic", kms_master_key_id=key.id)
    aws.sns.Topic("bad-topic", kms_master_key_id="alias/aws/sns")
    aws.sqs.Queue("good-queue", kms_master_key_id=key.id)
    aws.sqs.Queue("bad-queue", sqs_managed_sse_enabled=True)
    aws.secretsmanager.Secret("good-secret", kms_key_id=key.arn)
    aws.secretsmanager.Secret("bad-secret")
    aws.efs.FileSystem("good-fs", encrypted=True, kms_key_id=key.arn)
    aws.efs.FileSystem("bad-fs", encrypted=False)
    cache = dict(description="feature cache", node_type="cache.t4g.small", at_rest_encryption_enabled=True,
                 kms_key_id=key.arn, transit_encryption_enabled=True)
    aws.elasticache.ReplicationGroup("good-cache", **cache)
    aws.elasticache.ReplicationGroup("bad-cache-rest", **{**cache, "at_rest_encryption_enabled": False})
    aws.elasticache.ReplicationGroup("bad-cache-transit", **{**cache, "transit_encryption_enabled": False})

    trust = _doc({"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"})
    role = aws.iam.Role("good-role", assume_role_policy=trust, inline_policies=[{"name": "read-artifacts", "policy": _doc(
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::artifacts/*"})}])
    aws.iam.Role("bad-trust-role", assume_role_policy=_doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}))
    github = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    aws.iam.Role("good-ci-role", assume_role_policy=_doc({
        "Effect": "Allow", "Principal": {"Federated": github}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                                       "token.actions.githubusercontent.com:sub": "repo:acme/mlops:ref:refs/heads/main"}}}))
    aws.iam.Role("bad-oidc-role", assume_role_policy=_doc({
        "Effect": "Allow", "Principal": {"Federated": github}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}))
    aws.iam.Policy("good-policy", policy=_doc({"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::artifacts/*"},
                                              {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}))
    aws.iam.Policy("bad-actions-policy", policy=_doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::artifacts"}))
    aws.iam.Policy("bad-resources-policy", policy=_doc({"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}))
    aws.iam.RolePolicyAttachment("good-attachment", role=role.name, policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
    aws.iam.RolePolicyAttachment("bad-admin-attachment", role=role.name, policy_arn="arn:aws:iam::aws:policy/AdministratorAccess")
    user = aws.iam.User("ci-user")
    aws.iam.UserPolicy("bad-user-policy", user=user.name, policy=_doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::artifacts/*"}))
    gap_program(key, db)


HARDENED_CONTAINER = {
    "name": "app", "image": "ghcr.io/acme/app@sha256:" + "1" * 64,
    "security_context": {"allow_privilege_escalation": False, "read_only_root_filesystem": True, "run_as_non_root": True,
                         "run_as_user": 10001, "capabilities": {"drop": ["ALL"]}},
    "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}},
    "liveness_probe": {"http_get": {"path": "/health", "port": 8080}},
    "readiness_probe": {"http_get": {"path": "/health", "port": 8080}},
}


def _deployment(name, container_patch=None, pod_patch=None, namespace="mlops"):
    container = {**HARDENED_CONTAINER, **(container_patch or {})}
    init = {**HARDENED_CONTAINER, "name": "init"}
    pod = {"containers": [container], "init_containers": [init], "service_account_name": name,
           "automount_service_account_token": False, **(pod_patch or {})}
    k8s.apps.v1.Deployment(name, metadata={"namespace": namespace}, spec={
        "selector": {"match_labels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": pod}})


def _camel(value):
    """Custom resources take the API's camelCase field names (no SDK translation)."""
    if isinstance(value, dict):
        return {k.split("_")[0] + "".join(p.title() for p in k.split("_")[1:]): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _kubernetes_program():
    ctx = HARDENED_CONTAINER["security_context"]
    _deployment("good-deploy")
    _deployment("bad-privileged", {"security_context": {**ctx, "privileged": True}})
    _deployment("bad-escalation", {"security_context": {k: v for k, v in ctx.items() if k != "allow_privilege_escalation"}})
    _deployment("bad-root", {"security_context": {**ctx, "run_as_user": 0}})
    _deployment("bad-rootfs", {"security_context": {**ctx, "read_only_root_filesystem": False}})
    _deployment("bad-caps", {"security_context": {**ctx, "capabilities": {"add": ["SYS_ADMIN"], "drop": ["ALL"]}}})
    _deployment("bad-hostns", pod_patch={"host_network": True})
    _deployment("bad-hostpath", pod_patch={"volumes": [{"name": "host", "host_path": {"path": "/var/lib"}}]})
    _deployment("bad-limits", {"resources": {"requests": {"cpu": "100m"}}})
    mlflow = {"image": "ghcr.io/mlflow/mlflow@sha256:" + "0" * 64}
    _deployment("bad-ui", {**mlflow, "command": ["mlflow", "server", "--app-name", "basic-auth"]})
    _deployment("good-ui", {**mlflow, "command": ["mlflow", "server", "--app-name", "oidc-auth"]})
    for ui in ("bad-ui", "good-ui"):
        k8s.core.v1.Service(f"{ui}-lb", metadata={"namespace": "mlops", "annotations": {
                                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}},
                            spec={"type": "LoadBalancer", "selector": {"app": ui}, "ports": [{"port": 5000}]})
    k8s.rbac.v1.Role("good-k8s-role", metadata={"namespace": "mlops"},
                     rules=[{"api_groups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}])
    k8s.rbac.v1.ClusterRole("bad-k8s-role", rules=[{"api_groups": ["*"], "resources": ["*"], "verbs": ["get"]}])
    ref = {"api_group": "rbac.authorization.k8s.io", "kind": "ClusterRole"}
    team = [{"kind": "Group", "name": "ml-team", "api_group": "rbac.authorization.k8s.io"}]
    k8s.rbac.v1.ClusterRoleBinding("good-binding", role_ref={**ref, "name": "view"}, subjects=team)
    k8s.rbac.v1.ClusterRoleBinding("bad-binding", role_ref={**ref, "name": "cluster-admin"}, subjects=team)
    _deployment("bad-hostport", {"ports": [{"container_port": 8080, "host_port": 8080}]})
    _deployment("bad-seccomp", {"security_context": {**ctx, "seccomp_profile": {"type": "Unconfined"}}})
    _deployment("bad-env-secret", {"env": [{"name": "DB_PASSWORD", "value": "hunter2"}]})
    _deployment("bad-digest", {"image": "ghcr.io/acme/app:1.0.0"})
    k8s.apps.v1.DeploymentPatch("bad-patch", metadata={"name": "mlflow", "namespace": "mlops"}, spec={"template": {"spec": {
        "containers": [{**HARDENED_CONTAINER, "security_context": {**ctx, "privileged": True}}]}}})
    k8s.apiextensions.CustomResource("bad-workflow", api_version="argoproj.io/v1alpha1", kind="Workflow",
                                     metadata={"namespace": "mlops"}, spec={
                                         "entrypoint": "train", "serviceAccountName": "trainer",
                                         "automountServiceAccountToken": False, "templates": [
                                         {"name": "train", "container": {**_camel(HARDENED_CONTAINER), "securityContext": {
                                             **_camel(ctx), "privileged": True}}}]})
    k8s.core.v1.Namespace("good-namespace", metadata={"name": "mlops", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}})
    k8s.core.v1.Namespace("bad-namespace", metadata={"name": "agents", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}})
    k8s.core.v1.ConfigMap("good-config", metadata={"namespace": "mlops"}, data={"LOG_LEVEL": "info"})
    k8s.core.v1.ConfigMap("bad-config", metadata={"namespace": "mlops"}, data={"DATABASE_URL": "postgresql://u:pw@db/mlflow"})
    k8s.core.v1.Service("good-service", metadata={"namespace": "mlops", "annotations": {
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}}, spec={"type": "LoadBalancer", "ports": [{"port": 80}]})
    k8s.core.v1.Service("bad-service", metadata={"namespace": "mlops"}, spec={"type": "LoadBalancer", "ports": [{"port": 80}]})
    k8s.rbac.v1.ClusterRole("bad-secrets-role", rules=[{"api_groups": [""], "resources": ["secrets"], "verbs": ["list"]}])
    k8s.rbac.v1.ClusterRoleBinding("bad-admin-binding", role_ref={**ref, "name": "admin"}, subjects=team)
    # Default-deny egress without a way to the database its config names; a Secret it reads but does not wait for.
    k8s.networking.v1.NetworkPolicy("deny-egress", metadata={"namespace": "mlops"},
                                    spec={"pod_selector": {"match_labels": {"app": "bad-egress"}}, "policy_types": ["Egress"]})
    _deployment("bad-egress", {"env": [{"name": "DB", "value": "postgresql://u@db.internal:5432/mlflow"}]})
    k8s.core.v1.Secret("db-uri", metadata={"name": "db-uri", "namespace": "mlops"}, string_data={"uri": "x"})
    _deployment("bad-unordered", {"env": [{"name": "DB", "value_from": {"secret_key_ref": {"name": "db-uri", "key": "uri"}}}]})
    # Every pod of mlops is selected by a default-deny ingress policy; "serving" has none.
    k8s.networking.v1.NetworkPolicy("default-deny-ingress", metadata={"namespace": "mlops"},
                                    spec={"pod_selector": {}, "policy_types": ["Ingress"]})
    _deployment("bad-probes", {"liveness_probe": None, "readiness_probe": None})
    _deployment("bad-token", pod_patch={"automount_service_account_token": True})
    _deployment("bad-default-sa", pod_patch={"service_account_name": None})
    _deployment("bad-no-netpol", namespace="serving")
    k8s.core.v1.ConfigMap("bad-default-ns", data={"LOG_LEVEL": "info"})  # no namespace: the provider's default
    # A webhook EventSource anyone reaching its Service can trigger (no authSecret).
    k8s.apiextensions.CustomResource("bad-webhook", api_version="argoproj.io/v1alpha1", kind="EventSource",
                                     metadata={"name": "hook", "namespace": "mlops"},
                                     spec={"webhook": {"go": {"endpoint": "/go", "method": "POST", "port": "12000"}}})
    k8s.helm.v3.Release("monitoring", chart="kube-prometheus-stack", namespace="monitoring",
                        values={"prometheus-node-exporter": {"hostNetwork": True}})


EXPECTED = {
    ("aws-kms-key-enable-key-rotation", "bad-rotation-key"),
    ("aws-kms-cmk-store-require-key-policy-first", "racing-queue"),
    ("aws-kms-key-disallow-public-principal", "bad-policy-key"),
    ("aws-s3-bucket-enable-kms-encryption", "bad-sse-bucket-sse"),
    ("aws-s3-bucket-enable-public-access-block", "bad-pab-bucket"),
    ("aws-s3-bucket-require-tls-policy", "bad-tls-bucket"),
    ("aws-rds-database-enable-cmk-encryption", "bad-db-cmk"),
    ("aws-rds-database-disallow-public-access", "bad-db-public"),
    ("aws-rds-database-enable-iam-authentication", "bad-db-iam"),
    ("aws-ec2-ebs-enable-volume-encryption", "bad-volume"),
    ("aws-ec2-ebs-enable-volume-encryption", "bad-lt"),
    ("aws-eks-cluster-enable-secrets-encryption", "bad-eks-secrets"),
    ("aws-eks-cluster-disallow-public-endpoint", "bad-eks-endpoint"),
    ("aws-ecr-repository-enable-kms-encryption", "bad-repo-kms"),
    ("aws-ecr-repository-enable-immutable-tags", "bad-repo-tags"),
    ("aws-ecr-repository-enable-scan-on-push", "bad-repo-scan"),
    ("aws-dynamodb-table-enable-cmk-encryption", "bad-table"),
    ("aws-sns-topic-enable-kms-encryption", "bad-topic"),
    ("aws-sqs-queue-enable-kms-encryption", "bad-queue"),
    ("aws-secretsmanager-secret-enable-kms-encryption", "bad-secret"),
    ("aws-efs-filesystem-enable-kms-encryption", "bad-fs"),
    ("aws-elasticache-cache-enable-kms-encryption", "bad-cache-rest"),
    ("aws-elasticache-cache-enable-transit-encryption", "bad-cache-transit"),
    ("aws-iam-role-disallow-wildcard-trust-principal", "bad-trust-role"),
    ("aws-iam-policy-disallow-wildcard-actions", "bad-actions-policy"),
    ("aws-iam-policy-disallow-wildcard-resources", "bad-resources-policy"),
    ("aws-iam-identity-disallow-admin-managed-policies", "bad-admin-attachment"),
    ("aws-iam-user-disallow-inline-policies", "bad-user-policy"),
    ("kubernetes-workload-container-disallow-privileged", "bad-privileged"),
    ("kubernetes-workload-container-disallow-privilege-escalation", "bad-escalation"),
    ("kubernetes-workload-container-require-non-root", "bad-root"),
    ("kubernetes-workload-container-require-readonly-root-filesystem", "bad-rootfs"),
    ("kubernetes-workload-container-require-drop-capabilities", "bad-caps"),
    ("kubernetes-workload-pod-disallow-host-namespaces", "bad-hostns"),
    ("kubernetes-workload-pod-disallow-hostpath-volumes", "bad-hostpath"),
    ("kubernetes-workload-container-require-resource-limits", "bad-limits"),
    ("kubernetes-rbac-role-disallow-wildcard-permissions", "bad-k8s-role"),
    ("kubernetes-rbac-binding-disallow-cluster-admin", "bad-binding"),
    ("aws-s3-bucket-enable-access-logging", "bad-logging-bucket"),
    ("aws-s3-bucket-disallow-public-policy-principal", "bad-public-bucket-policy"),
    ("aws-cloudwatch-loggroup-require-dr-retention-parity", "bad-dr-audit-logs"),
    ("aws-iam-role-require-oidc-subject-condition", "bad-oidc-role"),
    ("kubernetes-workload-container-disallow-host-ports", "bad-hostport"),
    ("kubernetes-workload-pod-disallow-seccomp-unconfined", "bad-seccomp"),
    ("kubernetes-workload-container-disallow-plaintext-secrets", "bad-env-secret"),
    ("kubernetes-workload-container-require-image-digest", "bad-digest"),
    ("kubernetes-workload-container-disallow-privileged", "bad-patch"),
    ("kubernetes-workload-container-disallow-privileged", "bad-workflow"),
    ("kubernetes-podsecurity-namespace-disallow-privileged-level", "bad-namespace"),
    ("kubernetes-config-configmap-disallow-plaintext-secrets", "bad-config"),
    ("kubernetes-network-service-disallow-public-load-balancer", "bad-service"),
    ("kubernetes-rbac-clusterrole-disallow-escalation-permissions", "bad-secrets-role"),
    ("kubernetes-rbac-clusterrole-disallow-escalation-permissions", "bad-k8s-role"),  # "*" resources include secrets
    ("kubernetes-rbac-clusterbinding-disallow-namespace-admin-roles", "bad-admin-binding"),
    ("aws-rds-database-require-supported-version", "bad-db-version"),
    ("aws-eks-cluster-require-supported-version", "bad-eks-version"),
    ("kubernetes-networkpolicy-workload-allow-required-egress", "bad-egress"),
    ("kubernetes-workload-pod-require-source-dependency", "bad-unordered"),
    ("kubernetes-ui-exposed-requires-sso", "bad-ui-lb"),
    # Checkov coverage rules (issue 13)
    ("kubernetes-workload-container-require-health-probes", "bad-probes"),
    ("kubernetes-workload-pod-disable-service-account-token-automount", "bad-token"),
    ("kubernetes-workload-pod-disallow-default-service-account", "bad-default-sa"),
    ("kubernetes-networkpolicy-workload-require-network-policy", "bad-no-netpol"),
    ("kubernetes-namespace-resource-disallow-default-namespace", "bad-default-ns"),
    ("kubernetes-argo-events-webhook-require-auth", "bad-webhook"),
} | GAP_EXPECTED


@pytest.fixture(scope="module")
def outcome():
    def program():
        _aws_program()
        _kubernetes_program()

    result = preview_program(program, project="policy-e2e", stack="test", config=CONFIG)
    packs, violations = run_policy_packs(result.resources, [ROOT / "policies" / "aws", ROOT / "policies" / "kubernetes"])
    return result, packs, violations


def test_program_yields_exactly_the_expected_violations(outcome):
    result, _, violations = outcome
    found = {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in violations}
    assert found == EXPECTED, {"missing": EXPECTED - found, "unexpected": found - EXPECTED}
    assert len(violations) == len(EXPECTED), "one violation per insecure resource"


def test_every_rule_of_both_packs_is_exercised(outcome):
    _, packs, _ = outcome
    assert {p.name for pack in packs for p in pack.policies} == {policy for policy, _ in EXPECTED}


def test_violation_levels_follow_rule_defaults(outcome):
    _, packs, violations = outcome
    defaults = {p.name: p.enforcement_level for pack in packs for p in pack.policies}
    assert all(v.enforcement == defaults[v.policy] for v in violations)
    assert {v.enforcement for v in violations if v.policy.startswith(("aws-iam-", "aws-s3-bucket-enable-kms"))} == {"mandatory"}
