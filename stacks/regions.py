"""Where each cloud can run the platform.

AWS regions come from botocore's bundled endpoint data (kept current by AWS, no network needed).
Azure and GCP SDKs ship no region list, so theirs are written out here from each cloud's public
region documentation; extend them when a cloud opens a region.
"""

from functools import lru_cache

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


@lru_cache(maxsize=1)
def aws_regions() -> frozenset[str]:
    import botocore.session  # imported lazily: only AWS stacks pay for it

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in ("aws", "aws-us-gov", "aws-cn"):
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(regions)


def regions_for(cloud: str) -> frozenset[str]:
    if cloud == "aws":
        return aws_regions()
    if cloud == "azure":
        return AZURE_LOCATIONS
    if cloud == "gcp":
        return GCP_REGIONS
    return frozenset()
