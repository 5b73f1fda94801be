"""Create, or list, the bucket/container an object-store URI names, on the emulator the environment points at.

Run with the MLflow venv's Python (it holds boto3, google-cloud-storage and azure-storage-blob):
``python objectstore.py create s3://bucket/prefix`` (in a real deployment Pulumi creates it) or
``python objectstore.py list s3://bucket/prefix`` (prints the object names under the prefix, one a line).
"""

import os
import sys
from urllib.parse import urlparse


def main(command: str, uri: str) -> None:
    parsed = urlparse(uri)
    prefix = parsed.path.lstrip("/")
    if parsed.scheme == "s3":
        import boto3

        s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        if command == "create":
            s3.create_bucket(Bucket=parsed.netloc)
        else:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=parsed.netloc, Prefix=prefix):
                for item in page.get("Contents", []):
                    print(item["Key"])
    elif parsed.scheme == "gs":
        from google.cloud import storage

        client = storage.Client()
        if command == "create":
            client.create_bucket(parsed.netloc)
        else:
            for blob in client.list_blobs(parsed.netloc, prefix=prefix):
                print(blob.name)
    elif parsed.scheme in ("wasbs", "abfss"):
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
        container = parsed.netloc.split("@", 1)[0]
        if command == "create":
            service.create_container(container)
        else:
            for blob in service.get_container_client(container).list_blobs(name_starts_with=prefix or None):
                print(blob.name)
    else:
        sys.exit(f"objectstore.py: unsupported object-store URI {uri!r}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
