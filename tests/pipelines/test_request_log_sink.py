"""The request-log sink's event handling: KServe's logger events (a request and its response as separate
CloudEvents sharing an id, either first) become one row per request row with its prediction; memory stays
bounded; SIGTERM writes what is held. Parquet writing and the drift job reading it run in make smoke
(tests/smoke/test_request_log.py): pyarrow is in the step image, not in this venv."""

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from pipelines.__main__ import main
from pipelines.request_log import (REQUEST_TYPE, RESPONSE_TYPE, BadEvent, RequestLog, parse_event, parse_time)

REPO = Path(__file__).resolve().parents[2]

# A request and its response as KServe v0.20.0's logger sends them (pkg/logger/worker.go sendHttpCloudEvent:
# binary mode through cloudevents/sdk-go v2.16.2, go.mod at the tag; attributes set there, the id from
# pkg/logger/handler.go getOrCreateID, Content-Type the request's on both events, ce-time with nanoseconds
# as Go formats time.Time). The body is the V2 request MLServer's pandas codec answers.
SAMPLE_HEADERS = {
    "Ce-Specversion": "1.0", "Ce-Id": "5e2c39a4-8d0b-4c1e-9a55-0f3c2b1d7e90",
    "Ce-Source": "http://localhost:9081/", "Ce-Type": REQUEST_TYPE, "Ce-Time": "2026-12-05T11:20:31.123456789Z",
    "Ce-Recordedtime": "2026-12-05T11:20:31.125000001Z", "Ce-Inferenceservicename": "churn",
    "Ce-Namespace": "serving", "Ce-Component": "predictor", "Ce-Endpoint": "default", "Ce-Metadata": "{}",
    "Content-Type": "application/json",
}
SAMPLE_REQUEST = {"parameters": {"content_type": "pd"}, "inputs": [
    {"name": "age", "shape": [2], "datatype": "FP64", "data": [70.0, 20.0]},
    {"name": "spend", "shape": [2], "datatype": "FP64", "data": [400.0, 10.0]},
    {"name": "visits", "shape": [2], "datatype": "INT64", "data": [12, 0]}]}
SAMPLE_RESPONSE = {"model_name": "churn", "id": "5e2c39a4-8d0b-4c1e-9a55-0f3c2b1d7e90", "parameters": {},
                   "outputs": [{"name": "output-1", "shape": [2, 1], "datatype": "INT64", "data": [1, 0]}]}


def _event(kind=REQUEST_TYPE, body=None, id_="5e2c39a4-8d0b-4c1e-9a55-0f3c2b1d7e90", time_="2026-12-05T11:20:31.123456789Z"):
    headers = {k.lower(): v for k, v in SAMPLE_HEADERS.items()}
    headers.update({"ce-type": kind, "ce-id": id_, "ce-time": time_})
    default = SAMPLE_REQUEST if kind == REQUEST_TYPE else SAMPLE_RESPONSE
    return parse_event(headers, json.dumps(body if body is not None else default).encode())


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _log(**kw):
    parts = []
    clock = Clock()
    log = RequestLog(store=lambda data: parts.append(json.loads(data)) or "x", entity="customer_id", clock=clock,
                     encode=lambda rows, entity: json.dumps(rows, default=str).encode(), **kw)
    return log, parts, clock


@pytest.mark.parametrize("order", [(REQUEST_TYPE, RESPONSE_TYPE), (RESPONSE_TYPE, REQUEST_TYPE)])
def test_a_request_and_its_response_become_rows_with_predictions_in_either_order(order):
    log, parts, _ = _log(flush_rows=2)
    for kind in order:
        log.add(_event(kind))
    [rows] = parts
    assert [(r["customer_id"], r["age"], r["spend"], r["visits"], r["prediction"]) for r in rows] == [
        ("5e2c39a4-8d0b-4c1e-9a55-0f3c2b1d7e90/0", 70.0, 400.0, 12.0, 1.0),
        ("5e2c39a4-8d0b-4c1e-9a55-0f3c2b1d7e90/1", 20.0, 10.0, 0.0, 0.0)]
    assert rows[0]["event_timestamp"] == "2026-12-05 11:20:31.123456+00:00"  # the request's ce-time, UTC
    assert (rows[0]["endpoint"], rows[0]["inference_service"]) == ("default", "churn")


def test_an_entity_input_names_the_rows():
    body = {"inputs": [*SAMPLE_REQUEST["inputs"], {"name": "customer_id", "shape": [2], "datatype": "INT64",
                                                   "data": [7, 8]}]}
    log, parts, _ = _log(flush_rows=2)
    log.add(_event(body=body))
    log.add(_event(RESPONSE_TYPE))
    assert [r["customer_id"] for r in parts[0]] == ["7", "8"] and "customer_id" not in {"age"}


def test_parts_wait_for_the_batch_then_for_the_flush_interval():
    log, parts, clock = _log(flush_rows=100, flush_seconds=300, pair_seconds=60)
    for i in range(3):
        log.add(_event(id_=f"r{i}"))
        log.add(_event(RESPONSE_TYPE, id_=f"r{i}"))
    log.tick()
    assert parts == []  # 6 rows held: one part per batch, not one object per request
    clock.now = 300
    log.tick()
    assert len(parts) == 1 and len(parts[0]) == 6


def test_an_unanswered_request_is_written_without_a_prediction_and_an_orphan_response_dropped():
    log, parts, clock = _log(pair_seconds=60, flush_seconds=1)
    log.add(_event(id_="failed"))          # a 500: KServe logs no response
    log.add(_event(RESPONSE_TYPE, id_="lost"))
    clock.now = 61
    log.tick()
    clock.now = 62
    log.tick()
    assert [r["request_id"] for r in parts[0]] == ["failed", "failed"] and "prediction" not in parts[0][0]
    assert (log.counters.unanswered, log.counters.orphan_responses) == (1, 1)


def test_memory_is_bounded_by_max_pending_and_failing_writes():
    log, parts, _ = _log(max_pending=3, flush_rows=1000)
    for i in range(10):
        log.add(_event(id_=f"r{i}"))
    assert len(log._pending) == 3 and log.counters.evicted == 7

    def down(data):
        raise OSError("object store unreachable")
    failing = RequestLog(store=down, entity="customer_id", flush_rows=2, encode=lambda rows, e: b"x")
    for i in range(10):
        failing.add(_event(id_=f"r{i}"))
        failing.add(_event(RESPONSE_TYPE, id_=f"r{i}"))
    assert len(failing._rows) <= 4 and failing.counters.rows_dropped > 0
    assert failing.counters.last_error == "OSError: object store unreachable"


@pytest.mark.parametrize("change, message", [
    ({"ce-specversion": "0.3"}, "specversion"),
    ({"ce-type": "dev.knative.other"}, "ce-type"),
    ({"ce-id": ""}, "ce-id"),
    ({"ce-time": "yesterday"}, "RFC 3339"),
])
def test_events_that_are_not_kserve_logger_events_are_refused(change, message):
    headers = {k.lower(): v for k, v in SAMPLE_HEADERS.items()}
    headers.update(change)
    with pytest.raises(BadEvent, match=message):
        parse_event(headers, json.dumps(SAMPLE_REQUEST).encode())


def test_a_tensor_the_log_cannot_turn_into_a_column_is_refused():
    image = {"inputs": [{"name": "pixels", "shape": [1, 28, 28], "datatype": "FP32", "data": [0.0] * 784}]}
    log, _, _ = _log()
    with pytest.raises(BadEvent, match="shape"):
        log.add(_event(body=image))


def test_times_as_go_writes_them():
    assert parse_time("2026-12-05T11:20:31.123456789+01:00").isoformat() == "2026-12-05T10:20:31.123456+00:00"
    with pytest.raises(BadEvent, match="time zone"):
        parse_time("2026-12-05T11:20:31")


@pytest.mark.parametrize("argv, words", [
    (["request-log", "--output", "s3://bucket/no-slash", "--entity", "id"], ["--output", "ending in '/'"]),
    (["request-log", "--output", "http://x/", "--entity", "id"], ["--output", "s3://"]),
    (["request-log", "--output", "/tmp/x/", "--entity", "id", "--flush-rows", "0"], ["--flush-rows"]),
])
def test_bad_sink_arguments_are_one_line_and_exit_2(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and all(w in err for w in words), err


def test_the_sink_answers_over_http_and_writes_what_it_holds_on_sigterm(tmp_path):
    """The real server process: 200 to logger events, 400 to others, 413 over the body limit; SIGTERM writes
    the held rows (the unanswered request without a prediction) before exit."""
    out = tmp_path / "recent"
    written = []
    # JSON parts instead of parquet: this venv has no pyarrow (the smoke test writes real parquet).
    code = ("import functools, json, sys; import pipelines.request_log_server as s; "
            "s.RequestLog = functools.partial(s.RequestLog, encode=lambda rows, e: json.dumps(rows, default=str).encode()); "
            "from pipelines.__main__ import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.Popen([sys.executable, "-c", code, "request-log", "--output", f"{out}/", "--entity",
                             "customer_id", "--port", "0", "--host", "127.0.0.1", "--max-body", "4096"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        port = json.loads(proc.stdout.readline())["listening"]

        def post(kind, body, id_="abc"):
            headers = {**SAMPLE_HEADERS, "Ce-Type": kind, "Ce-Id": id_}
            request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=json.dumps(body).encode(),
                                             headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        assert post(REQUEST_TYPE, SAMPLE_REQUEST) == 200
        assert post(RESPONSE_TYPE, SAMPLE_RESPONSE) == 200
        assert post(REQUEST_TYPE, SAMPLE_REQUEST, id_="no-answer") == 200
        assert post("other.type", SAMPLE_REQUEST, id_="x") == 400
        assert post(REQUEST_TYPE, {"inputs": [{"name": "a", "shape": [1], "datatype": "FP64",
                                               "data": [0.0] * 2000}]}, id_="big") == 413
        assert list(out.glob("*.parquet")) == []  # held until the batch or the interval
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["rows_written"] == 4 and summary["parts_written"] == 1 and summary["unanswered"] == 1
    [part] = out.glob("part-*.parquet")
    written = json.loads(part.read_text())
    assert sorted((r["request_id"], r.get("prediction")) for r in written) == [
        ("abc", 0.0), ("abc", 1.0), ("no-answer", None), ("no-answer", None)]
