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
