"""The Checkov coverage table: every answer names a real rule or says why, and the docs show the current table."""
import sys
from pathlib import Path

from mlops_policy import load_rules
from mlops_tools.policy import checkov_coverage

ROOT = Path(__file__).resolve().parents[2]
for pack in ("aws", "azure", "gcp", "kubernetes"):
    sys.path.insert(0, str(ROOT / "policies" / pack))

import mlops_aws_policies  # noqa: E402
import mlops_azure_policies  # noqa: E402
import mlops_gcp_policies  # noqa: E402
import mlops_kubernetes_policies  # noqa: E402

RULES = {r.name for p in (mlops_aws_policies, mlops_azure_policies, mlops_gcp_policies, mlops_kubernetes_policies)
         for r in load_rules(p)}


def test_every_rule_answer_names_a_rule_of_our_packs():
    doc = checkov_coverage.load()
    named = {entry["rule"] for entry in doc["checks"].values() if entry.get("rule")}
    assert named - RULES == set()
    assert len(doc["checks"]) > 300


def test_every_answer_gives_its_reason():
    for check, entry in checkov_coverage.load()["checks"].items():
        key, text = checkov_coverage.answer(entry)
        assert key == "rule" or len(text.split()) >= 2, check


def test_docs_show_the_current_table():
    assert checkov_coverage.main(["--check"]) == 0


def test_every_rule_a_covered_by_answer_names_is_a_rule_of_our_packs():
    """"covered by `<rule>` (one rule for ...)" answers: the backticked rule must exist, as for "rule:" answers."""
    import re

    named = {name for entry in checkov_coverage.load()["checks"].values()
             for name in re.findall(r"`((?:aws|azure|gcp|kubernetes)-[a-z0-9-]+)`", entry.get("covered_by") or "")}
    assert named and named - RULES == set()


def test_a_waived_answer_needs_a_current_waiver_in_the_one_waiver_file(tmp_path):
    """CKV_GCP_66/79 are deliberate trade-offs: their waiver (reason, owner, expires) lives in
    policies/checkov/waivers.yaml; the table shows its owner and expiry, and a missing or expired one is an error."""
    import datetime as dt

    import pytest

    doc = checkov_coverage.load()
    for check in ("CKV_GCP_66", "CKV_GCP_79"):
        key, _ = checkov_coverage.answer(doc["checks"][check])
        assert key == "waived" and doc["checks"][check]["_waivers"][0].owner
    coverage = tmp_path / "coverage.yaml"
    coverage.write_text("checkov: 3.3.30\ntypes: {}\nchecks:\n  CKV_GCP_79:\n    name: latest major\n"
                        "    waived: the major the smoke proves\n")
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers: []\n")
    with pytest.raises(checkov_coverage.CoverageError, match="has no waiver with check CKV_GCP_79"):
        checkov_coverage.load(coverage, waivers)
    waivers.write_text("waivers:\n  - {check: CKV_GCP_79, resource: x, reason: r, owner: o, expires: 2027-01-01}\n")
    assert checkov_coverage.load(coverage, waivers, dt.date(2026, 12, 5))["checks"]["CKV_GCP_79"]["_waivers"]
    with pytest.raises(checkov_coverage.CoverageError, match="expires"):
        checkov_coverage.load(coverage, waivers, dt.date(2027, 1, 2))
