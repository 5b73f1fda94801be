"""Keys: one rotated multi-Region CMK per domain, key policies naming their principals, DR twins."""

import pytest

from components.keys import DOMAINS
from components.keys.aws import ADMIN_ACTIONS, CRYPTO_ACTIONS, DOMAIN_SERVICES

from .foundation import DR, NAME, PRIMARY, as_list, bound_to, foundation, policy, preview, provider_urn, statements

ROOT = "arn:aws:iam::123456789012:root"


@pytest.fixture(scope="module")
def with_dr():
    return preview(lambda: foundation(dr=True, network=False, cluster=False, protect=True))


@pytest.fixture(scope="module")
def without_dr():
    return preview(lambda: foundation(dr=False, network=False, cluster=False))


def key_of(result, domain):
    return result.one("aws:kms/key:Key", f"keys-{domain}")


def test_one_rotated_multi_region_key_per_domain(with_dr):
    assert sorted(k["name"] for k in with_dr.by_type("aws:kms/key:Key")) == sorted(f"keys-{d}" for d in DOMAINS)
    for domain in DOMAINS:
        inputs = key_of(with_dr, domain)["inputs"]
        assert inputs["enableKeyRotation"] is True
        assert inputs["multiRegion"] is True
        assert inputs["tags"]["data-domain"] == domain and inputs["tags"]["component"] == "keys"


def test_keys_are_protected_when_asked(with_dr, without_dr):
    assert all(k["protect"] for k in with_dr.by_type("aws:kms/key:Key") + with_dr.by_type("aws:kms/replicaKey:ReplicaKey"))
    assert not any(k["protect"] for k in without_dr.by_type("aws:kms/key:Key"))


@pytest.mark.parametrize("domain", DOMAINS)
def test_account_administers_but_uses_only_through_the_domain_services(with_dr, domain):
    document = statements(policy(key_of(with_dr, domain)))
    admin = document["AccountAdministersKey"]
    assert admin["Principal"] == {"AWS": ROOT}
    assert "kms:Decrypt" not in admin["Action"] and "kms:*" not in admin["Action"]
    assert set(admin["Action"]) == set(ADMIN_ACTIONS)

    use = document["UseOnlyThroughDomainServices"]
    assert set(use["Action"]) == set(CRYPTO_ACTIONS)
    condition = use["Condition"]["StringEquals"]
    assert condition["kms:CallerAccount"] == "123456789012"
    assert sorted(condition["kms:ViaService"]) == sorted(f"{s}.{PRIMARY}.amazonaws.com" for s in DOMAIN_SERVICES[domain])

    grants = document["GrantsOnlyForDomainServices"]
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert grants["Condition"]["StringEquals"]["kms:ViaService"] == condition["kms:ViaService"]


def test_a_wildcard_principal_is_always_pinned_to_this_account_and_a_service(with_dr):
    for key in with_dr.by_type("aws:kms/key:Key") + with_dr.by_type("aws:kms/replicaKey:ReplicaKey"):
        for statement in policy(key)["Statement"]:
            assert all(not a.endswith(":*") for a in as_list(statement["Action"])), key["name"]
            if statement["Principal"] == "*" or statement["Principal"].get("AWS") == "*":
                condition = statement["Condition"]["StringEquals"]
                assert condition["kms:CallerAccount"] == "123456789012", key["name"]
                assert condition["kms:ViaService"].startswith("ec2."), key["name"]


def test_notifications_key_names_the_services_that_publish_into_encrypted_channels(with_dr):
    document = statements(policy(key_of(with_dr, "notifications")))
    logs = document["CloudWatchLogsEncryptsPlatformLogGroups"]
    assert logs["Principal"] == {"Service": f"logs.{PRIMARY}.amazonaws.com"}
    assert logs["Condition"]["ArnLike"] == {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{PRIMARY}:123456789012:log-group:*"}
    for sid, service in (("EventBridgePublishesToEncryptedQueuesAndTopics", "events.amazonaws.com"),
                         ("CloudWatchAlarmsPublishToEncryptedTopics", "cloudwatch.amazonaws.com"),
                         ("BudgetsPublishToEncryptedTopics", "budgets.amazonaws.com")):
        statement = document[sid]
        assert statement["Principal"] == {"Service": service}
        assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_cluster_key_encrypts_volumes_for_this_accounts_principals_through_ec2_only(with_dr):
    """Auto Scaling and EC2 Fleet launch node volumes through service-linked roles; like aws/ebs."""
    document = statements(policy(key_of(with_dr, "cluster")))
    through_ec2 = {"kms:CallerAccount": "123456789012", "kms:ViaService": f"ec2.{PRIMARY}.amazonaws.com"}
    use = document["AccountPrincipalsEncryptVolumesThroughEc2"]
    assert use["Principal"] == {"AWS": "*"} and set(use["Action"]) == set(CRYPTO_ACTIONS)
    assert use["Condition"] == {"StringEquals": through_ec2}
    grant = document["AccountPrincipalsAttachVolumesThroughEc2"]
    assert grant["Action"] == ["kms:CreateGrant"]
    assert grant["Condition"] == {"StringEquals": through_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}}
    replica = statements(policy(with_dr.one("aws:kms/replicaKey:ReplicaKey", "keys-cluster-dr")))
    assert replica["AccountPrincipalsEncryptVolumesThroughEc2"]["Condition"]["StringEquals"]["kms:ViaService"] \
        == f"ec2.{DR}.amazonaws.com"


def test_data_keys_name_no_service_principal_but_s3_access_log_delivery(with_dr):
    base = {"AccountAdministersKey", "UseOnlyThroughDomainServices", "GrantsOnlyForDomainServices"}
    assert set(statements(policy(key_of(with_dr, "database")))) == base
    for domain in ("artifacts", "features"):  # their buckets' access logs are encrypted with the same key
        document = statements(policy(key_of(with_dr, domain)))
        assert set(document) == base | {"S3ServerAccessLogsEncrypt"}
        logs = document["S3ServerAccessLogsEncrypt"]
        assert logs["Principal"] == {"Service": "logging.s3.amazonaws.com"} and logs["Action"] == ["kms:GenerateDataKey"]
        assert logs["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_aliases_point_at_their_keys(with_dr):
    for domain in DOMAINS:
        alias = with_dr.one("aws:kms/alias:Alias", f"keys-{domain}")
        assert alias["inputs"]["name"] == f"alias/{NAME}-{domain}"
        assert key_of(with_dr, domain)["urn"] in alias["dependencies"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_dr_twin_replicates_that_key_in_the_dr_region(with_dr, domain):
    replica = with_dr.one("aws:kms/replicaKey:ReplicaKey", f"keys-{domain}-dr")
    assert replica["inputs"]["primaryKeyArn"] == with_dr.outputs[f"key:{domain}"]
    assert bound_to(replica, provider_urn(with_dr, "dr"))
    assert with_dr.outputs[f"replica:{domain}"].startswith(f"arn:aws:kms:{DR}:")
    via = statements(policy(replica))["UseOnlyThroughDomainServices"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert sorted(via) == sorted(f"{s}.{DR}.amazonaws.com" for s in DOMAIN_SERVICES[domain])
    alias = with_dr.one("aws:kms/alias:Alias", f"keys-{domain}-dr")
    assert bound_to(alias, provider_urn(with_dr, "dr")) and replica["urn"] in alias["dependencies"]


def test_primary_keys_live_in_the_primary_region(with_dr):
    primary = provider_urn(with_dr, "primary")
    assert all(bound_to(k, primary) for k in with_dr.by_type("aws:kms/key:Key"))
    assert all(with_dr.outputs[f"key:{d}"].startswith(f"arn:aws:kms:{PRIMARY}:") for d in DOMAINS)


def test_no_replicas_without_dr(without_dr):
    assert without_dr.by_type("aws:kms/replicaKey:ReplicaKey") == []
    assert all(key["inputs"]["multiRegion"] is True for key in without_dr.by_type("aws:kms/key:Key"))
