"""Feast on GCP: GCS registry and offline store on the GCS emulator, Bigtable online store on Google's
Bigtable emulator, with the rendered feature_store.yaml. The emulators enforce no IAM: what Feast's
service account may do is checked against Google's role definitions (``mlops_tools/smoke/roles``)."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlparse

from mlops_tools.smoke.feast_smoke import FEAST_NAME, RenderedFeast, require
from mlops_tools.smoke.online_stores import start_bigtable
from mlops_tools.smoke.procs import Processes
from mlops_tools.smoke.services import start_gcs


def prepare(procs: Processes, feast: RenderedFeast) -> tuple[dict[str, str], str]:
    registry = require(feast, ("gs://",), "bigtable", "GCP")
    project = str(feast.setting("online_store", "project_id"))
    gcs, bigtable = start_gcs(procs), start_bigtable(procs)
    bucket = urlparse(registry).netloc
    # The platform creates the bucket (Feast's registry store only gets it).
    request = urllib.request.Request(f"{gcs.url}/storage/v1/b?project={project}", method="POST",
                                     data=json.dumps({"name": bucket}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
    env = feast.workload.env(feast.workload.container(FEAST_NAME), {})
    env.update(gcs.env)
    env.update(bigtable.env)
    # The emulators take no credentials (the pod's come from Workload Identity): the offline store's gcsfs
    # goes anonymous instead of probing a metadata server that is not there.
    env.update({"GOOGLE_CLOUD_PROJECT": project, "FSSPEC_GCS_TOKEN": "anon", "NO_GCE_CHECK": "True",
                "PATH": "/usr/bin:/bin"})
    offline_root = str(feast.plan.data["outputs"].get("featureOfflineStorePath", f"gs://{bucket}/offline"))
    return env, f"{offline_root}/smoke_source.parquet"
