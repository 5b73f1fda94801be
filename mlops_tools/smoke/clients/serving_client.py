"""MLflow-side helpers of the serving smoke run. Run with the MLflow venv's Python, the MLflow client env set.

- ``download <storage uri> <dir>``: the model files at the URI ``python -m pipelines target`` computed, from
  the object-store emulator (what KServe's storage initializer does in the pod). An ``https://<account>.blob.
  core.windows.net/<container>/path`` URI is read through MLflow's Azure client as ``wasbs://``.
- ``log-failing <model name>``: registers a version whose predict raises (a broken canary).
- ``make-production <model name> <version> <previous>``: the state ``promote`` leaves (alias + tag).
"""

import re
import sys

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient


class Broken(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        raise RuntimeError("this model version is broken on purpose (smoke: failing canary)")


def main(argv):
    if argv[0] == "download":
        uri = argv[1]
        match = re.match(r"^https://(?P<account>[^.]+)\.blob\.core\.windows\.net/(?P<container>[^/]+)(?P<path>/.*)?$", uri)
        if match:
            uri = f"wasbs://{match['container']}@{match['account']}.blob.core.windows.net{match['path'] or ''}"
        print(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=argv[2]))
    elif argv[0] == "log-failing":
        mlflow.set_experiment(f"{argv[1]}-broken")
        with mlflow.start_run():
            info = mlflow.pyfunc.log_model(name="model", python_model=Broken(), registered_model_name=argv[1])
        print(info.registered_model_version)
    elif argv[0] == "make-production":
        client = MlflowClient()
        client.set_registered_model_alias(argv[1], "production", argv[2])
        client.set_model_version_tag(argv[1], argv[2], "mlops.previous_production", argv[3])
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
