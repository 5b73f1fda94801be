"""Runs inside the MLflow smoke venv (never imported by the project): MLflow's own S3 artifact repository
(the code the tracking server runs for `--serve-artifacts`) logs, lists, downloads and deletes an artifact
under the rendered ``--artifacts-destination``. Credentials and endpoint come from the environment.

    python mlflow_artifacts_client.py s3://<bucket>/<prefix>
"""

import json
import os
import sys
import tempfile

from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository

repository = S3ArtifactRepository(f"{sys.argv[1].rstrip('/')}/1/smoke-run/artifacts")
work = tempfile.mkdtemp()
model = os.path.join(work, "model.txt")
with open(model, "w") as handle:
    handle.write("weights")
repository.log_artifact(model, "model")
listed = [item.path for item in repository.list_artifacts("model")]
with open(repository.download_artifacts("model/model.txt", tempfile.mkdtemp())) as handle:
    content = handle.read()
repository.delete_artifacts("model")
print(json.dumps({"listed": listed, "content": content, "remaining": [i.path for i in repository.list_artifacts()]}))
