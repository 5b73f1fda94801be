"""Azure price client: the Azure Retail Prices REST API (https://prices.azure.com/api/retail/prices), no auth.

Each snapshot key maps to an OData $filter (serviceName, armRegionName, ...) plus a predicate on the returned
items (productName/skuName/meterName), because one filter returns several meters (Linux and Windows, spot and
low priority, ...). Pages are followed through NextPageLink. Consumption prices only, USD.

Service, product and meter names follow the Retail Prices API's published values; they cannot be checked
offline, so a key whose filter matches nothing is reported, never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

ENDPOINT = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"


@dataclass(frozen=True)
class Query:
    filters: dict[str, str]
    contains: dict[str, str] = field(default_factory=dict)      # item field -> substring it must contain
    excludes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    scale: float = 1.0
    unit: str = "hour"

    def odata(self) -> str:
        return " and ".join(f"{k} eq '{v}'" for k, v in sorted(self.filters.items()))


def query_for(key: str) -> Optional[Query]:
    region, _, rest = key.partition("/")
    where = {"armRegionName": region, "priceType": "Consumption"} if region != "global" else {"priceType": "Consumption"}
    vm = re.fullmatch(r"vm/(\w+)/(on-demand|spot)", rest)
    if vm:
        spot = vm.group(2) == "spot"
        return Query({**where, "serviceName": "Virtual Machines", "armSkuName": vm.group(1)},
                     {"skuName": " Spot"} if spot else {},
                     {"productName": ("Windows",), "skuName": ("Low Priority",) + (() if spot else (" Spot",))})
    disk = re.fullmatch(r"managed-disk/premium-ssd-lrs/(P\d+)", rest)
    if disk:
        return Query({**where, "serviceName": "Storage", "skuName": f"{disk.group(1)} LRS"},
                     {"productName": "Premium SSD Managed Disks", "meterName": "Disk"}, unit="disk-month")
    pg = re.fullmatch(r"postgres-flexible/Standard_(\w+)/compute-hour", rest)
    if pg:
        size = pg.group(1)
        if size.startswith("B"):
            return Query({**where, "serviceName": "Azure Database for PostgreSQL", "skuName": size}, {"productName": "Burstable"})
        series = re.sub(r"^[A-Z](\d+)", "", size).replace("_", "")  # D4ds_v5 -> dsv5
        vcores = int(re.match(r"^[A-Z](\d+)", size).group(1))
        return Query({**where, "serviceName": "Azure Database for PostgreSQL", "meterName": "vCore"},
                     {"productName": f"D{series} Series Compute"}, scale=vcores)
    blob = re.fullmatch(r"blob/standard_(\w+)/(hot|cool)-gb-month", rest)
    if blob:
        tier = f"{blob.group(2).capitalize()} {blob.group(1).upper()}"
        return Query({**where, "serviceName": "Storage", "skuName": tier, "meterName": f"{tier} Data Stored"},
                     {"productName": "General Block Blob v2"}, unit="GB-month")
    redis = re.fullmatch(r"redis/(\w+?)(-no-ha)?-hour", rest)
    if redis:
        return Query({**where, "serviceName": "Azure Managed Redis", "skuName": redis.group(1).replace("_", " ")})
    simple = {
        "aks/standard-tier-cluster-hour": Query({**where, "serviceName": "Azure Kubernetes Service"}, {"meterName": "Standard Uptime SLA"}),
        "postgres-flexible/storage-gb-month": Query({**where, "serviceName": "Azure Database for PostgreSQL"},
                                                    {"productName": "Flexible Server Storage", "meterName": "Storage Data Stored"}, unit="GB-month"),
        "nat-gateway/hour": Query({**where, "serviceName": "NAT Gateway"}, {"meterName": "Standard Gateway"}),
        "nat-gateway/gb": Query({**where, "serviceName": "NAT Gateway"}, {"meterName": "Standard Data Processed"}, unit="GB"),
        "public-ip/standard-static-hour": Query({**where, "serviceName": "Virtual Network"}, {"meterName": "Standard IPv4 Static Public IP"}),
        "private-link/endpoint-hour": Query({**where, "serviceName": "Virtual Network"}, {"meterName": "Standard Private Endpoint"},
                                            {"meterName": ("Data",)}),
        "acr/premium-registry-day": Query({**where, "serviceName": "Container Registry", "skuName": "Premium"},
                                          {"meterName": "Registry Unit"}, unit="day"),
        "log-analytics/ingest-gb": Query({**where, "serviceName": "Log Analytics"}, {"meterName": "Analytics Logs Data Ingestion"}, unit="GB"),
        "key-vault/key-rotation": Query({**where, "serviceName": "Key Vault"}, {"meterName": "Automated Key Rotation"}, unit="rotation"),
        "monitor/metric-alert-signal-month": Query({**where, "serviceName": "Azure Monitor"},
                                                   {"meterName": "Metric Alerts Monitored Time Series"}, unit="time-series-month"),
        # Defender for Containers: per vCore-hour of the nodes. Service and meter names are the Retail Prices API's
        # published ones as far as known here; not verifiable offline (a filter matching nothing is reported).
        "defender/containers-vcore-hour": Query({**where, "serviceName": "Microsoft Defender for Cloud"},
                                                {"productName": "Containers", "meterName": "vCore"}, unit="vcore-hour"),
        "private-dns/zone-month": Query({**where, "serviceName": "Azure DNS"}, {"meterName": "Private Zone"}, unit="zone-month"),
    }
    return simple.get(rest)


def _http_get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 - fixed https endpoint
        return json.loads(answer.read().decode())


class AzurePrices:
    """Fetch snapshot entries; `get(url) -> dict` is injected in tests with recorded pages."""

    def __init__(self, get: Callable[[str], dict[str, Any]] = _http_get, today: Optional[dt.date] = None):
        self.get = get
        self.today = (today or dt.date.today()).isoformat()

    @staticmethod
    def url(query: Query) -> str:
        return f"{ENDPOINT}?" + urllib.parse.urlencode({"api-version": API_VERSION, "$filter": query.odata()},
                                                       quote_via=urllib.parse.quote)

    def items(self, query: Query) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        url: Optional[str] = self.url(query)
        while url:
            page = self.get(url)
            found += page.get("Items", [])
            url = page.get("NextPageLink")
        return found

    def fetch(self, key: str) -> dict[str, Any]:
        query = query_for(key)
        if query is None:
            raise LookupError(f"{key}: no Azure Retail Prices filter is defined for this key")
        matching = [item for item in self.items(query)
                    if all(text in str(item.get(f, "")) for f, text in query.contains.items())
                    and not any(bad in str(item.get(f, "")) for f, bads in query.excludes.items() for bad in bads)
                    and float(item.get("tierMinimumUnits", 0) or 0) == 0 and item.get("currencyCode", "USD") == "USD"]
        if not matching:
            raise LookupError(f"{key}: Azure Retail Prices has no item for $filter={query.odata()} {query.contains}")
        item = min(matching, key=lambda i: (float(i["retailPrice"]), i.get("meterId", "")))
        return {"usd": round(float(item["retailPrice"]) * query.scale, 10), "unit": query.unit, "date": self.today,
                "source": f"Azure Retail Prices API meterId={item.get('meterId', '')} ({item.get('productName', '')} / "
                          f"{item.get('skuName', '')} / {item.get('meterName', '')}, {item.get('unitOfMeasure', '')})"}
