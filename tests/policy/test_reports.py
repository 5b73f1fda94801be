"""Reports from a plan's policy section: text, JSON, SARIF 2.1.0 (validated against the official schema), JUnit."""
import hashlib
import json
import shutil
import subprocess
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from mlops_tools.policy.runner import PackInfo, PolicyInfo
from mlops_tools.policy.reports import render

ROOT = Path(__file__).resolve().parents[2]
# The OASIS SARIF 2.1.0 schema is not vendored here; it ships inside this pinned npm package.
SARIF_SCHEMA_PACKAGE = "@microsoft/jest-sarif@1.0.0-beta.0"
SARIF_SCHEMA_MEMBER = "package/lib/schemas/sarif-2.1.0-rtm.5.json"
SARIF_SCHEMA_SHA256 = "2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8"
SARIF_SCHEMA_CACHE = ROOT / "build" / "cache" / "sarif-2.1.0-rtm.5.json"

BUCKET_URN = "urn:pulumi:prod::mlops-platform::mlops:tracking:TrackingServer$aws:s3/bucket:Bucket::artifacts"
DB_URN = "urn:pulumi:prod::mlops-platform::mlops:tracking:TrackingServer$aws:rds/instance:Instance::tracking-db"
KEY_URN = "urn:pulumi:prod::mlops-platform::aws:kms/key:Key::legacy-key"


def policy(name, severity, level, frameworks=("soc2:CC6.1",)):
    return PolicyInfo(name=name, description=f"{name} description.", severity=severity, enforcement_level=level,
                      remediation=f"fix {name}", frameworks=list(frameworks), tags=["aws"])


PACKS = [PackInfo("mlops-aws", "1.0.0", [
    policy("aws-s3-bucket-enable-kms-encryption", "high", "mandatory", ("soc2:CC6.1", "pci-dss-v4.0:3.5.1")),
    policy("aws-rds-database-disallow-public-access", "critical", "mandatory", ("cis-aws-foundations-v3.0.0:2.3.3",)),
    policy("aws-kms-key-enable-key-rotation", "medium", "mandatory"),
    policy("aws-ecr-repository-enable-immutable-tags", "medium", "advisory"),
])]
PLAN = {
    "project": "mlops-platform", "stack": "prod",
    "policy": {
        "packs": [{"name": "mlops-aws", "version": "1.0.0", "policies": 4}],
        "violations": [
            {"pack": "mlops-aws", "policy": "aws-s3-bucket-enable-kms-encryption", "severity": "high",
             "enforcement": "mandatory", "urn": BUCKET_URN, "message": "bucket artifacts has no default encryption."},
            {"pack": "mlops-aws", "policy": "aws-rds-database-disallow-public-access", "severity": "critical",
             "enforcement": "advisory", "urn": DB_URN,
             "message": "can't run policy during preview: cannot check during preview: tracking-db: publiclyAccessible"},
        ],
        "waived": [
            {"pack": "mlops-aws", "policy": "aws-kms-key-enable-key-rotation", "severity": "medium",
             "enforcement": "mandatory", "urn": KEY_URN, "message": "key legacy-key has automatic rotation off.",
             "waiver": {"reason": "imported key, rotated by HSM runbook", "owner": "sec@acme.test", "expires": "2031-01-31"}},
        ],
    },
}


@pytest.fixture(scope="module")
def sarif_schema():
    if not SARIF_SCHEMA_CACHE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot fetch the SARIF 2.1.0 schema")
        work = SARIF_SCHEMA_CACHE.parent / "npm"
        work.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run([npm, "pack", SARIF_SCHEMA_PACKAGE, "--silent"], cwd=work, capture_output=True,
                                  text=True, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.skip("npm registry did not answer: cannot fetch the SARIF 2.1.0 schema")
        if done.returncode != 0:
            pytest.skip(f"npm pack {SARIF_SCHEMA_PACKAGE} failed: {done.stderr.strip()[-200:]}")
        with tarfile.open(work / done.stdout.strip().splitlines()[-1]) as archive:
            data = archive.extractfile(SARIF_SCHEMA_MEMBER).read()
        shutil.rmtree(work)
        assert hashlib.sha256(data).hexdigest() == SARIF_SCHEMA_SHA256, "unexpected SARIF schema content"
        SARIF_SCHEMA_CACHE.write_bytes(data)
    return json.loads(SARIF_SCHEMA_CACHE.read_text())


def test_sarif_is_valid_against_the_sarif_2_1_0_schema(sarif_schema):
    log = json.loads(render("sarif", PLAN, PACKS))
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    # The validator is strict enough to reject a broken log.
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(sarif_schema).validate(broken)


def test_sarif_rules_results_locations_and_suppressions():
    log = json.loads(render("sarif", PLAN, PACKS))
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [p.name for p in PACKS[0].policies]
    s3_rule = rules[0]
    assert s3_rule["help"]["text"] == "fix aws-s3-bucket-enable-kms-encryption"
    assert s3_rule["properties"]["severity"] == "high" and s3_rule["properties"]["security-severity"] == "8.0"
    assert s3_rule["properties"]["frameworks"] == ["soc2:CC6.1", "pci-dss-v4.0:3.5.1"]
    assert "pci-dss-v4.0:3.5.1" in s3_rule["properties"]["tags"]
    results = {r["ruleId"]: r for r in run["results"]}
    bucket = results["aws-s3-bucket-enable-kms-encryption"]
    assert bucket["level"] == "error" and bucket["ruleIndex"] == 0
    location = bucket["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "Pulumi.prod.yaml"
    assert location["logicalLocations"][0]["fullyQualifiedName"] == BUCKET_URN
    assert location["logicalLocations"][0]["name"] == "artifacts"
    assert results["aws-rds-database-disallow-public-access"]["level"] == "warning"
    assert "suppressions" not in bucket
    waived = results["aws-kms-key-enable-key-rotation"]
    assert waived["suppressions"] == [{"kind": "external", "status": "accepted",
                                       "justification": "imported key, rotated by HSM runbook (owner sec@acme.test, expires 2031-01-31)"}]
    assert run["automationDetails"]["id"] == "mlops-policy/prod/"


def test_text_groups_by_severity_and_lists_waivers_separately():
    text = render("text", PLAN, PACKS)
    assert text.index("CRITICAL (1)") < text.index("HIGH (1)") < text.index("WAIVED (1)")
    assert "[mandatory] aws-s3-bucket-enable-kms-encryption (mlops-aws) on aws:s3/bucket:Bucket artifacts" in text
    assert "fix: fix aws-s3-bucket-enable-kms-encryption" in text
    waived_section = text[text.index("WAIVED"):]
    assert "imported key, rotated by HSM runbook (owner sec@acme.test, expires 2031-01-31)" in waived_section
    assert "2 violation(s), 1 mandatory, 1 waived" in text


def test_json_report_summarises_and_keeps_rule_metadata():
    report = json.loads(render("json", PLAN, PACKS))
    assert report["summary"] == {"violations": 2, "mandatory": 1, "advisory": 1, "waived": 1}
    assert report["violations"][0]["policy"] == "aws-rds-database-disallow-public-access"  # critical first
    assert report["packs"][0]["rules"][0]["frameworks"] == ["soc2:CC6.1", "pci-dss-v4.0:3.5.1"]
    assert report["waived"][0]["waiver"]["owner"] == "sec@acme.test"


def test_junit_has_one_testcase_per_policy_and_fails_only_unwaived():
    suites = ET.fromstring(render("junit", PLAN, PACKS))
    assert suites.get("tests") == "4" and suites.get("failures") == "2"
    cases = {c.get("name"): c for c in suites.iter("testcase")}
    assert set(cases) == {p.name for p in PACKS[0].policies}
    assert cases["aws-s3-bucket-enable-kms-encryption"].find("failure").get("type") == "mandatory"
    assert cases["aws-rds-database-disallow-public-access"].find("failure").get("type") == "advisory"
    rotation = cases["aws-kms-key-enable-key-rotation"]
    assert rotation.find("failure") is None and "waived" in rotation.find("system-out").text
    assert cases["aws-ecr-repository-enable-immutable-tags"].find("failure") is None


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit"])
def test_reports_are_deterministic_and_handle_an_empty_plan(fmt):
    assert render(fmt, PLAN, PACKS) == render(fmt, json.loads(json.dumps(PLAN)), list(PACKS))
    empty = {"project": "p", "stack": "dev", "policy": {"packs": [], "violations": [], "waived": []}}
    assert render(fmt, empty, [])


def test_unknown_format_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown report format 'html'"):
        render("html", PLAN, PACKS)
