"""The Feast image: the platform's own (images/feast-feature-server), because Azure's registry store needs
packages the upstream feastdev/feature-server image (feast[minimal]) does not hold."""

from pathlib import Path

import pytest

from stacks.config import FEAST_IMAGE, ConfigError, load_config

IMAGE_DIR = Path(__file__).resolve().parents[2] / "images" / "feast-feature-server"
AZURE = {"mlops:cloud": "azure", "mlops:region": "westeurope"}


def requirements() -> dict[str, str]:
    pins = {}
    for line in (IMAGE_DIR / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"{line!r} is not pinned with =="
            pins[name.lower()] = version
    return pins


def test_default_image_is_the_tag_the_image_workflow_pushes():
    assert FEAST_IMAGE.rsplit(":", 1)[1] == (IMAGE_DIR / "TAG").read_text().strip()
    assert load_config("azure-dev", AZURE).features.feast_image == FEAST_IMAGE


def test_image_holds_feast_with_every_store_the_stacks_render():
    pins = requirements()
    assert pins["feast"] == "0.50.0"  # 0.49 cannot materialize from an object-store offline store
    assert int(pins["protobuf"].split(".")[0]) < 6  # Feast's generated code
    # S3 registry + DynamoDB, GCS registry + Bigtable, Redis, Azure Blob registry store, and the fsspec
    # file systems the offline store is read through on each cloud.
    assert {"boto3", "google-cloud-storage", "google-cloud-bigtable", "redis", "azure-storage-blob",
            "azure-identity", "s3fs", "gcsfs", "adlfs"} <= set(pins)
    assert not {"pyodbc", "pymssql"} & set(pins)  # the MSSQL offline store is not used


@pytest.mark.parametrize("image", ["feastdev/feature-server:0.49.0", "quay.io/feastdev/feature-server:0.49.0"])
def test_upstream_image_on_azure_is_refused_with_the_key_and_why(image):
    with pytest.raises(ConfigError) as error:
        load_config("azure-dev", {**AZURE, "mlops:features": f'{{"feastImage": "{image}"}}'})
    [problem] = error.value.problems
    assert problem.startswith(f'Pulumi.azure-dev.yaml: mlops:features.feastImage = "{image}": ')
    assert "azure-storage-blob" in problem and FEAST_IMAGE in problem


def test_upstream_image_is_still_accepted_where_it_has_the_stores():
    cfg = load_config("dev", {"mlops:cloud": "aws", "mlops:region": "us-east-1",
                              "mlops:features": '{"feastImage": "feastdev/feature-server:0.49.0"}'})
    assert cfg.features.feast_image == "feastdev/feature-server:0.49.0"
