"""docs/policies.md opens with each pack's rule count; it drifted twice while packs grew (issue 13), so the
test reads the sentence and compares it with the rules each pack really loads."""
import importlib
import re
import sys
from pathlib import Path

from mlops_policy import load_rules

ROOT = Path(__file__).resolve().parents[2]
PACKS = {"aws": "mlops_aws_policies", "azure": "mlops_azure_policies", "gcp": "mlops_gcp_policies",
         "kubernetes": "mlops_kubernetes_policies"}


def test_the_overview_states_each_packs_rule_count():
    text = (ROOT / "docs" / "policies.md").read_text()
    stated = {pack: int(count) for pack, count in re.findall(r"`policies/(\w+)` \((\d+)(?: rules)?\)", text)}
    actual = {}
    for pack, module in PACKS.items():
        sys.path.insert(0, str(ROOT / "policies" / pack))
        actual[pack] = len(load_rules(importlib.import_module(module)))
    assert stated == actual
