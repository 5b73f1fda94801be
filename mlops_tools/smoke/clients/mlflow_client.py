"""What a training job does against the tracking server: log a run with a metric and an artifact,
register a model version, load it back. Prints one JSON line with what it saw.

Run with the MLflow venv's Python; MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME/PASSWORD set by the caller.
"""

import json
import os
import sys
import tempfile

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [2 * value for value in model_input]


def main(model_name: str) -> None:
    mlflow.set_experiment("smoke")
    with mlflow.start_run() as run:
        mlflow.log_metric("loss", 0.25)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "notes.txt")
            with open(path, "w") as handle:
                handle.write("smoke artifact\n")
            mlflow.log_artifact(path)
        info = mlflow.pyfunc.log_model(name="model", python_model=Doubler())
    version = mlflow.register_model(info.model_uri, model_name)
    client = MlflowClient()
    metric = client.get_run(run.info.run_id).data.metrics["loss"]
    with tempfile.TemporaryDirectory() as tmp:
        artifact = open(client.download_artifacts(run.info.run_id, "notes.txt", tmp)).read()
    loaded = mlflow.pyfunc.load_model(f"models:/{model_name}/{version.version}")
    print(json.dumps({"run_id": run.info.run_id, "artifact_uri": run.info.artifact_uri, "metric": metric,
                      "artifact": artifact, "model_version": version.version,
                      "prediction": list(loaded.predict([1, 2]))}))


if __name__ == "__main__":
    main(sys.argv[1])
