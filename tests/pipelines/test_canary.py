"""The canary analysis: the PromQL it asks, the verdict from the numbers, the storage URI KServe gets, and the
CLI's one-line errors. (The real MLServer and Prometheus judge real canaries in tests/smoke/test_serving.py.)"""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from pipelines import StepError, canary
from pipelines.__main__ import main

OBJECTIVES = canary.Objectives(max_error_ratio=0.01, max_p95_seconds=0.5, min_requests=100)


def test_queries_select_the_version_the_service_and_the_inference_path():
    q = canary.queries("rest_server", "churn", "7", "5m")
    assert q["requests"] == ('sum(increase(rest_server_requests_total{inference_service="churn",model_version="7",'
                             'path=~".*/infer"}[5m]))')
    assert 'status_code=~"5.."' in q["errors"] and "[5m]" in q["errors"]
    assert q["p95_seconds"].startswith("histogram_quantile(0.95, sum by (le) (rate(rest_server_request_duration_seconds_bucket{")


@pytest.mark.parametrize("window", ["5", "5 m", "0m", "5d", "1m]"])
def test_a_bad_window_is_refused(window):
    with pytest.raises(StepError, match="--window"):
        canary.queries("rest_server", "churn", "7", window)


def test_a_label_value_that_could_escape_the_selector_is_refused():
    with pytest.raises(StepError, match="--service"):
        canary.queries("rest_server", 'churn"}or vector(1', "7", "5m")


@pytest.mark.parametrize("m, final, expected", [
    (canary.Measurement(500, 0.0, 0.1), True, "promote"),
    (canary.Measurement(500, 0.0, 0.1), False, None),            # healthy so far: keep watching
    (canary.Measurement(500, 0.02, 0.1), False, "rollback"),     # breach with enough requests: at once
    (canary.Measurement(500, 0.0, 0.6), True, "rollback"),       # too slow
    (canary.Measurement(99, 0.0, 0.1), True, "rollback"),        # not enough traffic proves nothing
    (canary.Measurement(0, None, None), False, None),
    (canary.Measurement(100, 0.01, 0.5), True, "promote"),       # objectives are inclusive
])
def test_judge(m, final, expected):
    verdict = canary.judge(m, OBJECTIVES, final)
    assert (verdict[0] if verdict else None) == expected


def test_error_ratio_is_capped_at_one_when_extrapolation_overshoots():
    answers = {"status_code": 30.0014, "histogram_quantile": 0.01}
    m = canary.measure(lambda q: next((v for k, v in answers.items() if k in q), 30.0), canary.queries("rest_server", "s", "1", "5m"))
    assert m.error_ratio == 1.0 and m.requests == 30.0


def test_analyze_rolls_back_at_the_first_breach_and_promotes_at_the_deadline():
    now = [0.0]
    values = iter([(200, 0, 0.1), (400, 40, 0.1)])
    current = {}

    def query(promql):
        if "status_code" in promql:
            return current["errors"]
        if "histogram_quantile" in promql:
            return current["p95"]
        current["requests"], current["errors"], current["p95"] = next(values)
        return current["requests"]

    decision, reasons, m = canary.analyze(query, canary.queries("rest_server", "s", "1", "5m"), OBJECTIVES, 60, 10,
                                          clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert decision == "rollback" and m.error_ratio == 0.1 and now[0] == 10
    steady = iter([(300, 0, 0.2)] * 10)
    values = steady
    decision, _, _ = canary.analyze(query, canary.queries("rest_server", "s", "1", "5m"), OBJECTIVES, 30, 10,
                                    clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert decision == "promote"


@pytest.mark.parametrize("uri, destination, expected", [
    ("s3://art/mlflow/1/models/m-1/artifacts", "", "s3://art/mlflow/1/models/m-1/artifacts"),
    ("mlflow-artifacts:/1/models/m-1/artifacts", "gs://art/mlflow", "gs://art/mlflow/1/models/m-1/artifacts"),
    ("mlflow-artifacts://mlflow:5000/1/m", "s3://art/mlflow/", "s3://art/mlflow/1/m"),
    ("wasbs://mlflow@acct.blob.core.windows.net/1/models/m", "", "https://acct.blob.core.windows.net/mlflow/1/models/m"),
    ("mlflow-artifacts:/1/m", "wasbs://mlflow@acct.blob.core.windows.net/", "https://acct.blob.core.windows.net/mlflow/1/m"),
])
def test_storage_uri_is_one_kserve_reads(uri, destination, expected):
    assert canary.storage_uri(uri, destination) == expected


def test_proxied_artifacts_need_the_destination_and_foreign_stores_are_refused():
    with pytest.raises(StepError, match="--artifacts-destination"):
        canary.storage_uri("mlflow-artifacts:/1/m")
    with pytest.raises(StepError, match="object store"):
        canary.storage_uri("dbfs:/models/m")


class _Prometheus(BaseHTTPRequestHandler):
    answers: dict = {}

    def do_GET(self):  # noqa: N802
        from urllib.parse import parse_qs, urlparse
        q = parse_qs(urlparse(self.path).query)["query"][0]
        value = next((v for k, v in self.answers.items() if k in q), None)
        result = [] if value is None else [{"metric": {}, "value": [0, str(value)]}]
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_prometheus_value_reads_the_first_sample_and_treats_nan_as_none():
    server = HTTPServer(("127.0.0.1", 0), _Prometheus)
    # shutdown() waits up to one poll interval for the serve loop (the default is 0.5 s).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        _Prometheus.answers = {"histogram_quantile": "NaN", "increase": "42"}
        assert canary.prometheus_value(url, "histogram_quantile(0.95, x)") is None
        assert canary.prometheus_value(url, "sum(increase(x[5m]))") == 42.0
        assert canary.prometheus_value(url, "absent") is None
    finally:
        server.shutdown()
    try:  # the socket still accepts connections but nobody answers: the query times out
        with pytest.raises(RuntimeError, match="did not answer"):
            canary.prometheus_value(url, "up", timeout=0.1)
    finally:
        server.server_close()


@pytest.mark.parametrize("argv, words", [
    (["--max-error-ratio", "2"], ["--max-error-ratio", "between 0 and 1"]),
    (["--max-p95-seconds", "-1"], ["--max-p95-seconds", "positive"]),
    (["--window", "5"], ["--window", "'5'"]),
    (["--prometheus", "kps:9090"], ["--prometheus", "http"]),
])
def test_cli_bad_input_is_one_line_exit_2(argv, words, capsys):
    base = {"--model-name": "m", "--version": "1", "--service": "m", "--prometheus": "http://127.0.0.1:1"}
    for flag, value in zip(argv[::2], argv[1::2]):
        base[flag] = value
    code = main(["canary", *[x for kv in base.items() for x in kv]])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and all(w in err for w in words), err
