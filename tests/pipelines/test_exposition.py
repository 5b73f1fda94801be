"""The drift scores as Prometheus reads them: names the alert rule uses, labels escaped, one TYPE per family."""

import re

from pipelines.decision import drift_verdict
from pipelines.exposition import METRIC_PREFIX, render

SAMPLE = re.compile(r'^([a-z_]+)\{((?:[a-z_]+="(?:[^"\\]|\\.)*",?)+)\} (\S+)$')


def parse(text):
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types
            types[name] = kind
        elif not line.startswith("#"):
            match = SAMPLE.match(line)
            assert match, line
            samples[(match.group(1), match.group(2))] = float(match.group(3))
    return samples, types


def test_scores_and_verdict_are_exported():
    text = render("churn", drift_verdict({"age": 0.001, "spend": 0.5}, share_threshold=0.5), 1700000000.0)
    samples, types = parse(text)
    assert set(types.values()) == {"gauge"}
    assert samples[(f"{METRIC_PREFIX}_detected", 'model="churn"')] == 1
    assert samples[(f"{METRIC_PREFIX}_share", 'model="churn"')] == 0.5
    assert samples[(f"{METRIC_PREFIX}_feature_drifted", 'model="churn",feature="age"')] == 1
    assert samples[(f"{METRIC_PREFIX}_feature_drifted", 'model="churn",feature="spend"')] == 0
    assert samples[(f"{METRIC_PREFIX}_feature_p_value", 'model="churn",feature="spend"')] == 0.5
    assert samples[(f"{METRIC_PREFIX}_last_run_timestamp_seconds", 'model="churn"')] == 1700000000.0
    assert text.endswith("\n")


def test_label_values_are_escaped():
    text = render('a"b\\c', drift_verdict({"x\ny": 0.9}), 0)
    samples, _ = parse(text)
    assert (f"{METRIC_PREFIX}_share", 'model="a\\"b\\\\c"') in samples
    assert any('feature="x\\ny"' in labels for _, labels in samples)
