"""Push the drift step's exposition to a Prometheus Pushgateway (the in-cluster drift CronWorkflow's pods
end, so Prometheus cannot scrape them; the Pushgateway keeps the last result until the next run).

The grouping key is ``job=<JOB>`` and ``model=<name>`` (base64-encoded in the URL, so any MLflow model
name is a valid path segment). ``PUT`` replaces the whole group: a feature the model no longer has does
not linger from an older run. Standard library only (the step image's pins stay MLflow's).
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

from pipelines import StepError

JOB = "mlops-drift"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def group_url(gateway: str, model: str) -> str:
    if not gateway.startswith(("http://", "https://")):
        raise StepError(f"drift: --pushgateway {gateway!r} must be an http(s) URL (e.g. http://pushgateway:9091)")
    encoded = base64.urlsafe_b64encode(model.encode()).decode()
    return f"{gateway.rstrip('/')}/metrics/job/{JOB}/model@base64/{encoded}"


def push(gateway: str, model: str, text: str, timeout: float = 30) -> str:
    """PUT ``text`` as the model's group; returns the URL. A rejected push raises (the step fails and Argo
    retries it) with the gateway's reason."""
    url = group_url(gateway, model)
    request = urllib.request.Request(url, data=text.encode(), method="PUT", headers={"Content-Type": CONTENT_TYPE})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"Pushgateway {url} refused the push: HTTP {error.code} "
                           f"{error.read().decode(errors='replace').strip()[:300]}") from None
    return url
