"""`make prices`: the price-API clients against recorded answers (tests/tooling/cost/, in the APIs' documented
shapes), and the refresh that rewrites the snapshot."""

import datetime as dt
import json
import urllib.parse
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber

from mlops_tools.review.cost.api.aws import AwsPrices, query_for as aws_query
from mlops_tools.review.cost.api.azure import AzurePrices
from mlops_tools.review.cost.api.gcp import GcpPrices
from mlops_tools.review.cost.refresh import refresh, wanted_keys
from mlops_tools.review.cost.snapshot import read_snapshot_file

RECORDED = Path(__file__).parent / "cost"
TODAY = dt.date(2026, 12, 5)


def recorded(name):
    return json.loads((RECORDED / name).read_text())


def pricing_client(pages, filters, service="AmazonEC2"):
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    expected = {"ServiceCode": service, "FormatVersion": "aws_v1", "MaxResults": 100,
                "Filters": [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in sorted(filters.items())]}
    for number, page in enumerate(pages):
        stub.add_response("get_products", page, {**expected, **({"NextToken": pages[number - 1]["NextToken"]} if number else {})})
    stub.activate()
    return client, stub


def test_aws_on_demand_price_follows_next_token_and_picks_the_lowest_matching_sku():
    filters = {"regionCode": "us-east-1", "instanceType": "t3.large", "operatingSystem": "Linux", "tenancy": "Shared",
               "preInstalledSw": "NA", "capacitystatus": "Used"}
    client, stub = pricing_client(recorded("aws_get_products_t3_large.json")["pages"], filters)
    entry = AwsPrices(pricing=client, ec2_for=lambda region: None, today=TODAY).fetch("us-east-1/ec2/t3.large/on-demand")
    stub.assert_no_pending_responses()
    assert entry == {"usd": 0.0832, "unit": "hour", "date": "2026-12-05", "attributes": {"vcpu": 2},
                     "source": "AWS Price List API get_products ServiceCode=AmazonEC2 sku=AAAA1111BBBB2222"}


def test_aws_usage_type_picks_the_hourly_meter_among_a_product_familys_skus():
    query = aws_query("us-east-1/vpc/nat-gateway-hour")
    client, _ = pricing_client(recorded("aws_get_products_nat_gateway.json")["pages"], query.filters)
    entry = AwsPrices(pricing=client, ec2_for=lambda region: None, today=TODAY).fetch("us-east-1/vpc/nat-gateway-hour")
    assert entry["usd"] == 0.045 and entry["source"].endswith("sku=NAT0HOURS")


def test_aws_spot_price_is_the_mean_of_each_zones_latest_price():
    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(ec2)
    answer = recorded("aws_describe_spot_price_history_g5_xlarge.json")
    for row in answer["SpotPriceHistory"]:
        row["Timestamp"] = dt.datetime.fromisoformat(row["Timestamp"].replace("Z", "+00:00"))
    stub.add_response("describe_spot_price_history", answer,
                      {"InstanceTypes": ["g5.xlarge"], "ProductDescriptions": ["Linux/UNIX"], "StartTime": ANY})
    stub.activate()
    asked = []
    prices = AwsPrices(pricing=object(), ec2_for=lambda region: asked.append(region) or ec2, today=TODAY)
    entry = prices.fetch("us-east-1/ec2/g5.xlarge/spot")
    assert asked == ["us-east-1"] and entry["usd"] == 0.43  # (0.40 latest in 1a + 0.46 in 1b) / 2


def test_aws_key_without_a_query_is_a_lookup_error_naming_it():
    with pytest.raises(LookupError, match="us-east-1/sagemaker/x: no AWS Price List query"):
        AwsPrices(pricing=object(), ec2_for=lambda r: None).fetch("us-east-1/sagemaker/x")


class Pages:
    """A recorded HTTP API: answers each GET from a list of pages, checking the URL it was asked."""

    def __init__(self, pages, check):
        self.pages, self.check, self.urls = list(pages), check, []

    def __call__(self, url):
        self.urls.append(url)
        self.check(url, len(self.urls) - 1)
        return self.pages.pop(0)


def test_azure_filter_pages_and_meter_choice():
    pages = recorded("azure_retail_prices_d4s_v5.json")["pages"]

    def check(url, number):
        if number == 0:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
            assert query["$filter"] == ["armRegionName eq 'westeurope' and armSkuName eq 'Standard_D4s_v5' and "
                                        "priceType eq 'Consumption' and serviceName eq 'Virtual Machines'"]
        else:
            assert url == pages_copy[0]["NextPageLink"]

    pages_copy = json.loads(json.dumps(pages))
    on_demand = AzurePrices(get=Pages(pages, check), today=TODAY).fetch("westeurope/vm/Standard_D4s_v5/on-demand")
    assert on_demand["usd"] == 0.23 and "Virtual Machines DSv5 Series / D4s v5 / D4s v5" in on_demand["source"]
    spot = AzurePrices(get=Pages(json.loads(json.dumps(pages_copy)), lambda url, n: None), today=TODAY).fetch(
        "westeurope/vm/Standard_D4s_v5/spot")
    assert spot["usd"] == 0.0399  # the Linux spot meter, not low priority nor the Windows spot meter


def test_gcp_catalog_pages_services_and_skus_and_reads_the_newest_price():
    data = recorded("gcp_billing_catalog_compute_engine.json")
    answers = data["services"] + data["skus"]

    def check(url, number):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query["key"] == ["test-key"]
        if number == 1:
            assert query["pageToken"] == ["svc-2"]
        if number >= 2:
            assert "/services/6F81-5844-456A/skus?" in url and query["currencyCode"] == ["USD"]

    prices = GcpPrices(get=Pages(answers, check), api_key="test-key", today=TODAY)
    spot = prices.fetch("europe-west4/compute/n2/core-hour/spot")
    assert spot["usd"] == 0.008415 and "sku=9F3E-2D1C-0B4A" in spot["source"]
    assert prices.fetch("europe-west4/compute/n2/core-hour/on-demand")["usd"] == 0.034802  # cached pages, region filter
    assert prices.fetch("europe-west4/gpu/nvidia-l4/hour/on-demand")["usd"] == 0.644046
    with pytest.raises(LookupError, match="no Compute Engine SKU matches"):
        prices.fetch("europe-west1/compute/n2/core-hour/on-demand")


class FakeClient:
    def __init__(self, prices):
        self.prices = prices

    def fetch(self, key):
        if key not in self.prices:
            raise LookupError(f"{key}: not offered")
        return {"usd": self.prices[key], "unit": "hour", "date": "2026-12-05", "source": "AWS Price List API get_products test"}


def test_refresh_rewrites_fetched_prices_keeps_the_rest_and_is_byte_stable(tmp_path):
    (tmp_path / "aws.json").write_text(json.dumps({"cloud": "aws", "date": "2026-01-01", "prices": {
        "us-east-1/kms/key-month": {"usd": 1.0, "unit": "key-month", "source": "https://aws.amazon.com/kms/pricing/", "date": "2026"}}}))
    keys = {"aws": {"us-east-1/ec2/t3.large/on-demand", "us-east-1/ec2/m5.large/on-demand"}}
    log = []

    class Out:
        def write(self, text):
            log.append(text)

    fetched, missing = refresh(keys, tmp_path, TODAY, clients=lambda cloud: FakeClient({"us-east-1/ec2/t3.large/on-demand": 0.09}), out=Out())
    data = read_snapshot_file(tmp_path / "aws.json")
    assert (fetched, missing) == (1, 1)
    assert data["date"] == "2026-12-05" and data["prices"]["us-east-1/ec2/t3.large/on-demand"]["usd"] == 0.09
    assert data["prices"]["us-east-1/kms/key-month"]["source"] == "https://aws.amazon.com/kms/pricing/"  # kept
    assert any("us-east-1/ec2/m5.large/on-demand: not offered (still unpriced)" in line for line in log)
    before = (tmp_path / "aws.json").read_bytes()
    refresh(keys, tmp_path, TODAY, clients=lambda cloud: FakeClient({"us-east-1/ec2/t3.large/on-demand": 0.09}), out=Out())
    assert (tmp_path / "aws.json").read_bytes() == before


def test_wanted_keys_cover_karpenter_candidates_and_on_demand_twins():
    plan = {"cloud": "aws", "resources": [
        {"urn": "urn:p::aws", "type": "pulumi:providers:aws", "name": "primary", "custom": True, "parent": None,
         "provider": None, "inputs": {"region": "us-east-1"}, "dependencies": []},
        {"urn": "urn:p::np", "type": "kubernetes:karpenter.sh/v1:NodePool", "name": "np", "custom": True, "parent": None,
         "provider": None, "dependencies": [], "inputs": {"spec": {"limits": {"cpu": "8"}, "template": {"spec": {"requirements": [
             {"key": "node.kubernetes.io/instance-type", "values": ["g5.xlarge", "g6.xlarge"]},
             {"key": "karpenter.sh/capacity-type", "values": ["spot"]}]}}}}}]}
    aws = wanted_keys([plan])["aws"]
    assert {f"us-east-1/ec2/{t}/{c}" for t in ("g5.xlarge", "g6.xlarge") for c in ("spot", "on-demand")} <= aws


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_every_seeded_price_can_be_refreshed_by_make_prices(cloud):
    """A seeded key the refresh cannot query would keep its hand-found figure forever: each needs an API query."""
    from mlops_tools.review.cost.api import azure, gcp

    query_for = {"aws": aws_query, "azure": azure.query_for, "gcp": gcp.query_for}[cloud]
    snapshot = read_snapshot_file(Path(__file__).resolve().parents[2] / "mlops_tools/review/cost/snapshot" / f"{cloud}.json")
    assert [key for key in snapshot["prices"] if query_for(key) is None] == []
