"""AWS price client: the Price List Query API (boto3 `pricing` get_products) and, for spot, EC2 spot price history.

Each snapshot key maps to a service code, TERM_MATCH filters and an attribute predicate that picks one product
from the answer (AWS returns every matching SKU; several can share the filters). On-demand terms only. Spot
prices are not in the Price List: they come from DescribeSpotPriceHistory (Linux/UNIX, latest price per zone,
averaged over the zones that offer the type).

The attribute values (usagetype suffixes, productFamily names) follow the Price List's published attribute
values; they cannot be checked offline, so a key whose query matches nothing is reported, never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

PRICING_REGION = "us-east-1"  # the Price List Query API endpoint (also serves every other region's prices)


@dataclass(frozen=True)
class Query:
    service: str
    filters: dict[str, str]
    match: dict[str, str] = field(default_factory=dict)  # attribute -> exact value, or "*suffix"
    scale: float = 1.0                                     # e.g. per request -> per million requests
    unit: Optional[str] = None


def _usage(suffix: str) -> dict[str, str]:
    return {"usagetype": "*" + suffix}


def query_for(key: str) -> Optional[Query]:
    """The Price List query behind a snapshot key (`<region>/<service>/<item>`); None for spot or unknown keys."""
    region, _, rest = key.partition("/")
    where = {"regionCode": region}
    ec2 = re.fullmatch(r"ec2/([\w.]+)/on-demand", rest)
    if ec2:
        return Query("AmazonEC2", {**where, "instanceType": ec2.group(1), "operatingSystem": "Linux", "tenancy": "Shared",
                                   "preInstalledSw": "NA", "capacitystatus": "Used"}, unit="hour")
    rds = re.fullmatch(r"rds/postgres/([\w.]+)/(single|multi)-az", rest)
    if rds:
        return Query("AmazonRDS", {**where, "instanceType": rds.group(1), "databaseEngine": "PostgreSQL",
                                   "deploymentOption": f"{rds.group(2).capitalize()}-AZ"}, unit="hour")
    storage = re.fullmatch(r"rds/(gp3|gp2)-gb-month/(single|multi)-az", rest)
    if storage:
        return Query("AmazonRDS", {**where, "productFamily": "Database Storage", "databaseEngine": "PostgreSQL",
                                   "volumeApiName": storage.group(1), "deploymentOption": f"{storage.group(2).capitalize()}-AZ"},
                     unit="GB-month")
    simple = {
        "eks/cluster-hour/standard": Query("AmazonEKS", where, _usage("AmazonEKS-Hours:perCluster"), unit="hour"),
        "eks/cluster-hour/extended": Query("AmazonEKS", where, _usage("AmazonEKS-Hours:extendedSupport"), unit="hour"),
        "ebs/gp3-gb-month": Query("AmazonEC2", {**where, "volumeApiName": "gp3", "productFamily": "Storage"}, unit="GB-month"),
        "vpc/nat-gateway-hour": Query("AmazonEC2", {**where, "productFamily": "NAT Gateway"}, _usage("NatGateway-Hours"), unit="hour"),
        "vpc/nat-gateway-gb": Query("AmazonEC2", {**where, "productFamily": "NAT Gateway"}, _usage("NatGateway-Bytes"), unit="GB"),
        "vpc/public-ipv4-hour": Query("AmazonVPC", where, _usage("PublicIPv4:InUseAddress"), unit="hour"),
        "vpc/interface-endpoint-az-hour": Query("AmazonVPC", {**where, "productFamily": "VpcEndpoint"}, _usage("VpcEndpoint-Hours"), unit="hour"),
        "kms/key-month": Query("awskms", where, _usage("KMS-Keys"), unit="key-month"),
        "cloudwatch/alarm-metric-month": Query("AmazonCloudWatch", where, _usage("CW:AlarmMonitorUsage"), unit="alarm-month"),
        "cloudwatch/dashboard-month": Query("AmazonCloudWatch", where, _usage("DashboardsUsageHour-Basic"), unit="dashboard-month"),
        "logs/ingest-gb": Query("AmazonCloudWatch", where, _usage("DataProcessing-Bytes"), unit="GB"),
        "logs/storage-gb-month": Query("AmazonCloudWatch", where, _usage("TimedStorage-ByteHrs"), unit="GB-month"),
        "s3/standard-gb-month": Query("AmazonS3", {**where, "storageClass": "General Purpose", "volumeType": "Standard"},
                                      _usage("TimedStorage-ByteHrs"), unit="GB-month"),
        "ecr/storage-gb-month": Query("AmazonECR", where, _usage("TimedStorage-ByteHrs"), unit="GB-month"),
        "dynamodb/storage-gb-month": Query("AmazonDynamoDB", where, _usage("TimedStorage-ByteHrs"), unit="GB-month"),
        "dynamodb/write-request-million": Query("AmazonDynamoDB", {**where, "group": "DDB-WriteUnits"},
                                                _usage("WriteRequestUnits"), scale=1e6, unit="million requests"),
        "dynamodb/read-request-million": Query("AmazonDynamoDB", {**where, "group": "DDB-ReadUnits"},
                                               _usage("ReadRequestUnits"), scale=1e6, unit="million requests"),
        "elb/nlb-hour": Query("AWSELB", {**where, "productFamily": "Load Balancer-Network"}, _usage("LoadBalancerUsage"), unit="hour"),
    }
    if key == "global/route53/hosted-zone-month":
        return Query("AmazonRoute53", {}, {"usagetype": "HostedZone"}, unit="zone-month")
    return simple.get(rest)


def _matches(attributes: dict[str, str], match: dict[str, str]) -> bool:
    for name, wanted in match.items():
        value = attributes.get(name, "")
        if not (value.endswith(wanted[1:]) if wanted.startswith("*") else value == wanted):
            return False
    return True


def _on_demand_usd(product: dict[str, Any]) -> Optional[tuple[float, str, str]]:
    """(USD per unit, price dimension unit, effective date) of the first on-demand tier that starts at 0."""
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        dimensions = sorted(term.get("priceDimensions", {}).values(), key=lambda d: float(d.get("beginRange", "0") or 0))
        for dimension in dimensions:
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if usd is not None and float(dimension.get("beginRange", "0") or 0) == 0:
                return float(usd), dimension.get("unit", ""), str(term.get("effectiveDate", ""))[:10]
    return None


class AwsPrices:
    """Fetch snapshot entries. `pricing` and `ec2_for(region)` are boto3 clients (injected in tests)."""

    def __init__(self, pricing: Any = None, ec2_for: Optional[Callable[[str], Any]] = None,
                 today: Optional[dt.date] = None):
        import boto3

        self.pricing = pricing or boto3.client("pricing", region_name=PRICING_REGION)
        self.ec2_for = ec2_for or (lambda region: boto3.client("ec2", region_name=region))
        self.today = (today or dt.date.today()).isoformat()

    def products(self, query: Query) -> list[dict[str, Any]]:
        filters = [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in sorted(query.filters.items())]
        found, token = [], None
        while True:
            kwargs: dict[str, Any] = {"ServiceCode": query.service, "Filters": filters, "FormatVersion": "aws_v1", "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            answer = self.pricing.get_products(**kwargs)
            found += [json.loads(item) if isinstance(item, str) else item for item in answer.get("PriceList", [])]
            token = answer.get("NextToken")
            if not token:
                return found

    def fetch(self, key: str) -> dict[str, Any]:
        """One snapshot entry for `key`; raises LookupError naming the key when the API has no single answer."""
        spot = re.fullmatch(r"([a-z0-9-]+)/ec2/([\w.]+)/spot", key)
        if spot:
            return self._spot(key, spot.group(1), spot.group(2))
        query = query_for(key)
        if query is None:
            raise LookupError(f"{key}: no AWS Price List query is defined for this key")
        candidates = []
        for product in self.products(query):
            attributes = product.get("product", {}).get("attributes", {})
            price = _on_demand_usd(product)
            if price and _matches(attributes, query.match):
                candidates.append((price[0], product.get("product", {}).get("sku", ""), price[1], attributes))
        if not candidates:
            raise LookupError(f"{key}: the Price List returned no on-demand price for {query.service} {query.filters}")
        # Several SKUs can match (e.g. variants of one meter): the lowest, then the SKU id, keeps a refresh stable.
        usd, sku, unit, attributes = min(candidates, key=lambda c: (c[0], c[1]))
        entry: dict[str, Any] = {"usd": round(usd * query.scale, 10), "unit": query.unit or unit, "date": self.today,
                                 "source": f"AWS Price List API get_products ServiceCode={query.service} sku={sku}"}
        if attributes.get("vcpu"):
            entry["attributes"] = {"vcpu": int(float(attributes["vcpu"]))}
        return entry

    def _spot(self, key: str, region: str, instance_type: str) -> dict[str, Any]:
        ec2 = self.ec2_for(region)
        answer = ec2.describe_spot_price_history(InstanceTypes=[instance_type], ProductDescriptions=["Linux/UNIX"],
                                                 StartTime=dt.datetime.now(dt.timezone.utc))
        latest: dict[str, float] = {}
        for row in sorted(answer.get("SpotPriceHistory", []), key=lambda r: r["Timestamp"]):
            latest[row["AvailabilityZone"]] = float(row["SpotPrice"])
        if not latest:
            raise LookupError(f"{key}: EC2 has no spot price for {instance_type} in {region}")
        usd = round(sum(latest.values()) / len(latest), 6)
        return {"usd": usd, "unit": "hour", "date": self.today,
                "source": f"EC2 DescribeSpotPriceHistory Linux/UNIX {region}, mean of {len(latest)} zones"}
