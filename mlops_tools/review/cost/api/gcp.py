"""GCP price client: the Cloud Billing Catalog API (v1 services and services/{id}/skus), paged by pageToken.

Each snapshot key maps to a service display name and a regular expression on the SKU description, filtered by
the SKU's serviceRegions and usageType (OnDemand or Preemptible, which is how Spot VMs are listed). The price is
the tier starting at 0 of the SKU's newest pricingInfo, `units + nanos / 1e9` USD per usageUnit.

An API key is needed (GOOGLE_API_KEY); SKU descriptions follow the catalog's published wording and cannot be
checked offline, so a key matching no SKU is reported, never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Optional

ENDPOINT = "https://cloudbilling.googleapis.com/v1"
FAMILIES = {"n2": "N2", "n2d": "N2D AMD", "e2": "E2", "c3": "C3", "g2": "G2", "a2": "A2", "a3": "A3", "n1": "N1 Predefined"}
GPUS = {"nvidia-l4": "Nvidia L4", "nvidia-a100": "Nvidia Tesla A100", "nvidia-h100": "Nvidia H100 80GB"}


@dataclass(frozen=True)
class Query:
    service: str
    description: str                  # regular expression, matched from the start of the SKU description
    usage_type: str = "OnDemand"
    unit: str = "hour"
    scale: float = 1.0


def query_for(key: str) -> Optional[Query]:
    region, _, rest = key.partition("/")
    machine = re.fullmatch(r"compute/(\w+)/(core-hour|ram-gb-hour)/(on-demand|spot)", rest)
    if machine and machine.group(1) in FAMILIES:
        family, part, spot = FAMILIES[machine.group(1)], machine.group(2), machine.group(3) == "spot"
        what = "Instance Core" if part == "core-hour" else "Instance Ram"
        return Query("Compute Engine", f"{'Spot Preemptible ' if spot else ''}{re.escape(family)} {what} running in",
                     "Preemptible" if spot else "OnDemand", "hour" if part == "core-hour" else "GB-hour")
    gpu = re.fullmatch(r"gpu/([\w-]+)/hour/(on-demand|spot)", rest)
    if gpu and gpu.group(1) in GPUS:
        spot = gpu.group(2) == "spot"
        return Query("Compute Engine", f"{'Spot Preemptible ' if spot else ''}{re.escape(GPUS[gpu.group(1)])} GPU running in",
                     "Preemptible" if spot else "OnDemand")
    sql = re.fullmatch(r"cloud-sql/postgres-enterprise/(core-hour|ram-gb-hour)/(zonal|regional)", rest)
    if sql:
        what = "vCPU" if sql.group(1) == "core-hour" else "RAM"
        return Query("Cloud SQL", f"Cloud SQL for PostgreSQL: {sql.group(2).capitalize()} - {what} in",
                     unit="hour" if what == "vCPU" else "GB-hour")
    sql_disk = re.fullmatch(r"cloud-sql/ssd-gb-month/(zonal|regional)", rest)
    if sql_disk:
        return Query("Cloud SQL", f"Cloud SQL for PostgreSQL: {sql_disk.group(1).capitalize()} - Standard storage in", unit="GB-month")
    simple = {
        "gke/cluster-management-hour": Query("Kubernetes Engine", "Regional Kubernetes Clusters"),
        "pd/pd-balanced-gb-month": Query("Compute Engine", "Balanced PD Capacity in", unit="GB-month"),
        "bigtable/ssd-node-hour": Query("Cloud Bigtable", "Bigtable Nodes in"),
        "bigtable/ssd-gb-month": Query("Cloud Bigtable", "Bigtable SSD Storage in", unit="GB-month"),
        "cloud-nat/vm-hour": Query("Compute Engine", "Networking Cloud NAT Gateway Uptime charge"),
        "cloud-nat/gb": Query("Compute Engine", "Networking Cloud NAT Data processing", unit="GB"),
        "kms/software-key-version-month": Query("Cloud Key Management Service (KMS)", "Active software symmetric key versions",
                                                unit="key-version-month"),
        "gcs/standard-gb-month": Query("Cloud Storage", "Standard Storage", unit="GB-month"),
        "artifact-registry/gb-month": Query("Artifact Registry", "Artifact Registry Storage", unit="GB-month"),
        "cloud-dns/managed-zone-month": Query("Cloud DNS", "ManagedZone", unit="zone-month"),
        "monitoring/alert-condition-month": Query("Cloud Monitoring", "Alerting policy conditions", unit="condition-month"),
    }
    return simple.get(rest)


def _http_get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 - fixed https endpoint
        return json.loads(answer.read().decode())


def _usd(money: dict[str, Any]) -> float:
    return int(money.get("units", 0) or 0) + int(money.get("nanos", 0) or 0) / 1e9


class GcpPrices:
    """Fetch snapshot entries; `get(url) -> dict` is injected in tests with recorded pages."""

    def __init__(self, get: Callable[[str], dict[str, Any]] = _http_get, api_key: Optional[str] = None,
                 today: Optional[dt.date] = None):
        self.get = get
        self.api_key = api_key if api_key is not None else os.environ.get("GOOGLE_API_KEY", "")
        self.today = (today or dt.date.today()).isoformat()
        self._services: Optional[dict[str, str]] = None
        self._skus: dict[str, list[dict[str, Any]]] = {}

    def _pages(self, path: str, field: str, params: dict[str, str]) -> list[dict[str, Any]]:
        found, token = [], ""
        while True:
            query = {**params, "key": self.api_key, **({"pageToken": token} if token else {})}
            page = self.get(f"{ENDPOINT}/{path}?" + urllib.parse.urlencode(sorted(query.items())))
            found += page.get(field, [])
            token = page.get("nextPageToken", "")
            if not token:
                return found

    def service_id(self, display_name: str) -> str:
        if self._services is None:
            self._services = {s["displayName"]: s["serviceId"] for s in self._pages("services", "services", {"pageSize": "5000"})}
        if display_name not in self._services:
            raise LookupError(f"the Cloud Billing Catalog lists no service named {display_name!r}")
        return self._services[display_name]

    def skus(self, service: str) -> list[dict[str, Any]]:
        if service not in self._skus:
            self._skus[service] = self._pages(f"services/{self.service_id(service)}/skus", "skus",
                                              {"currencyCode": "USD", "pageSize": "5000"})
        return self._skus[service]

    def fetch(self, key: str) -> dict[str, Any]:
        query = query_for(key)
        if query is None:
            raise LookupError(f"{key}: no Cloud Billing Catalog query is defined for this key")
        region = key.split("/", 1)[0]
        pattern = re.compile(query.description)
        matching = [s for s in self.skus(query.service)
                    if pattern.match(s.get("description", "")) and s.get("category", {}).get("usageType") == query.usage_type
                    and (region == "global" or region in s.get("serviceRegions", []))]
        if not matching:
            raise LookupError(f"{key}: no {query.service} SKU matches {query.description!r} ({query.usage_type}) in {region}")
        sku = min(matching, key=lambda s: s.get("skuId", ""))
        info = max(sku.get("pricingInfo", []), key=lambda p: p.get("effectiveTime", ""))
        rates = info.get("pricingExpression", {}).get("tieredRates", [])
        paid = [r for r in rates if _usd(r.get("unitPrice", {})) > 0] or rates
        if not paid:
            raise LookupError(f"{key}: SKU {sku.get('skuId')} has no tiered rate")
        usd = _usd(paid[0]["unitPrice"]) * query.scale
        unit = info.get("pricingExpression", {}).get("usageUnit", "")
        return {"usd": round(usd, 10), "unit": query.unit, "date": self.today,
                "source": f"Cloud Billing Catalog API sku={sku.get('skuId')} ({sku.get('description')}, per {unit})"}
