"""Where each cloud can run the platform.

AWS regions come from botocore's bundled endpoint data (kept current by AWS, no network needed),
copied into `data/aws_regions.json` by `python -m stacks.regions`: importing botocore and loading its
endpoint data cost about 1.5 s of CPU on every AWS preview, more than any other part of the program
beyond the SDK imports (issue 18); a test keeps the copy equal to the pinned botocore.
Azure and GCP SDKs ship no region list, so theirs are written out here from each cloud's public
region documentation; extend them when a cloud opens a region.
"""

import json
import sys
from functools import lru_cache
from pathlib import Path

AWS_FILE = Path(__file__).resolve().parent / "data" / "aws_regions.json"
AWS_PARTITIONS = ("aws", "aws-us-gov", "aws-cn")

AZURE_LOCATIONS = frozenset({
    "australiacentral", "australiaeast", "australiasoutheast", "austriaeast", "belgiumcentral",
    "brazilsouth", "canadacentral", "canadaeast", "centralindia", "centralus", "chilecentral",
    "eastasia", "eastus", "eastus2", "francecentral", "germanywestcentral", "indonesiacentral",
    "israelcentral", "italynorth", "japaneast", "japanwest", "koreacentral", "koreasouth",
    "malaysiawest", "mexicocentral", "newzealandnorth", "northcentralus", "northeurope",
    "norwayeast", "polandcentral", "qatarcentral", "southafricanorth", "southcentralus",
    "southeastasia", "southindia", "spaincentral", "swedencentral", "switzerlandnorth",
    "uaenorth", "uksouth", "ukwest", "westcentralus", "westeurope", "westindia", "westus",
    "westus2", "westus3",
})

GCP_REGIONS = frozenset({
    "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2",
    "asia-northeast3", "asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2",
    "australia-southeast1", "australia-southeast2", "europe-central2", "europe-north1",
    "europe-north2", "europe-southwest1", "europe-west1", "europe-west2", "europe-west3",
    "europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-west10",
    "europe-west12", "me-central1", "me-central2", "me-west1", "northamerica-northeast1",
    "northamerica-northeast2", "northamerica-south1", "southamerica-east1", "southamerica-west1",
    "us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2",
    "us-west3", "us-west4",
})


def botocore_regions() -> list[str]:
    """Every region of the pinned botocore's endpoint data where EC2 (and so EKS' nodes) runs."""
    import botocore.session

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in AWS_PARTITIONS:
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return sorted(regions)


@lru_cache(maxsize=1)
def aws_regions() -> frozenset[str]:
    return frozenset(json.loads(AWS_FILE.read_text())["regions"])


def regions_for(cloud: str) -> frozenset[str]:
    if cloud == "aws":
        return aws_regions()
    if cloud == "azure":
        return AZURE_LOCATIONS
    if cloud == "gcp":
        return GCP_REGIONS
    return frozenset()


def refresh_aws(path: Path = AWS_FILE) -> int:
    """Rewrite the AWS copy from the installed botocore; return how many regions it holds."""
    import botocore

    regions = botocore_regions()
    path.write_text(json.dumps({"source": f"botocore {botocore.__version__} data/endpoints.json, ec2 in partitions "
                                          + ", ".join(AWS_PARTITIONS), "regions": regions}, indent=0) + "\n")
    return len(regions)


if __name__ == "__main__":
    print(f"{AWS_FILE}: {refresh_aws()} AWS regions", file=sys.stderr)
