"""The drift step's push to the Pushgateway: the group URL, a bad URL refused before any scoring, and a
refused push reported with the gateway's reason (the real Pushgateway accepts it in make smoke)."""

import base64
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from pipelines import StepError, push
from pipelines.__main__ import main


def test_group_url_encodes_any_model_name():
    url = push.group_url("http://pushgateway.pipelines.svc.cluster.local:9091/", "team/churn model")
    prefix = "http://pushgateway.pipelines.svc.cluster.local:9091/metrics/job/mlops-drift/model@base64/"
    assert url.startswith(prefix)
    assert base64.urlsafe_b64decode(url[len(prefix):]).decode() == "team/churn model"


def test_bad_url_is_bad_input_before_scoring(capsys):
    code = main(["drift", "--model-name", "m", "--recent", "/nonexistent.parquet", "--entity", "e",
                 "--output", "/tmp/x.prom", "--pushgateway", "pushgateway:9091"])
    err = capsys.readouterr().err
    assert code == 2 and "--pushgateway" in err and "'pushgateway:9091'" in err and "Traceback" not in err


def test_a_refused_push_names_the_gateway_and_reason():
    class Refuse(BaseHTTPRequestHandler):
        def do_PUT(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"pushed metrics are invalid")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.handle_request, daemon=True).start()
    try:
        with pytest.raises(RuntimeError, match="HTTP 400 pushed metrics are invalid"):
            push.push(f"http://127.0.0.1:{server.server_address[1]}", "m", "x 1\n")
    finally:
        server.server_close()
    with pytest.raises(StepError):
        push.group_url("ftp://x", "m")
