"""Runs inside the Feast smoke venv (never imported by the project): the SDK calls of a smoke run.

    python feast_client.py write-offline <uri> <rows.json>   # the test's tiny offline dataset
    python feast_client.py online <repo> <view> <entities.json>  # get_online_features, printed as JSON

Credentials and endpoints come from the environment, as in the pod.
"""

from __future__ import annotations

import json
import os
import sys


def write_offline(uri: str, rows_file: str) -> None:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow import fs

    frame = pd.DataFrame(json.loads(open(rows_file).read()))
    frame["event_timestamp"] = pd.to_datetime(frame["event_timestamp"], utc=True)
    frame["conv_rate"] = frame["conv_rate"].astype("float32")
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if uri.startswith("s3://") and endpoint:
        scheme, _, address = endpoint.partition("://")
        filesystem = fs.S3FileSystem(endpoint_override=address, scheme=scheme, region=os.environ["AWS_REGION"])
        path = uri[len("s3://"):]
    elif uri.startswith(("gs://", "abfs://")):  # through fsspec (gcsfs, adlfs), as Feast's dask reads are
        import fsspec

        filesystem, path = fsspec.core.url_to_fs(uri)
    else:
        filesystem, path = fs.FileSystem.from_uri(uri)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, filesystem=filesystem)


def online(repo: str, view: str, entities_file: str) -> None:
    from feast import FeatureStore

    store = FeatureStore(repo_path=repo)
    entities = json.loads(open(entities_file).read())
    result = store.get_online_features(features=[f"{view}:conv_rate"], entity_rows=entities).to_dict()
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"write-offline": write_offline, "online": online}[command](*args)
