"""The cost estimate: what a reviewer reads in the preview, the plan's cost section, `make cost` and the PR comment."""

import csv
import io
import json

import pytest

from mlops_tools.cli import run_preview
from mlops_tools.engine.plan import read_plan
from mlops_tools.review.diff import diff_plans
from mlops_tools.review.cost import cost_section, render_cost_delta, render_summary, render_table
from mlops_tools.review.cost.render import usd
from mlops_tools.review.cost.snapshot import Snapshot, SnapshotError, load_snapshot, read_snapshot_file
from tests.engine.conftest import project  # noqa: F401 - the tiny project the preview test runs

PROVIDER = {"urn": "urn:pulumi:dev::mlops-platform::pulumi:providers:aws::primary", "type": "pulumi:providers:aws",
            "name": "primary", "custom": True, "parent": None, "provider": None, "inputs": {"region": "us-east-1"},
            "dependencies": [], "protect": False}


def resource(type_token, name, inputs, provider=PROVIDER["urn"] + "::0a1b"):
    return {"urn": f"urn:pulumi:dev::mlops-platform::{type_token}::{name}", "type": type_token, "name": name,
            "custom": True, "parent": None, "provider": provider, "inputs": inputs, "dependencies": [], "protect": False}


def plan(*resources, cloud="aws"):
    return {"project": "mlops-platform", "stack": "dev", "cloud": cloud, "resources": [PROVIDER, *resources],
            "outputs": {}, "policy": {"packs": [], "violations": [], "waived": []}}


def node_group(instance_type, minimum=2, desired=2, maximum=3):
    return resource("aws:eks/nodeGroup:NodeGroup", "cluster-system", {
        "instanceTypes": [instance_type], "capacityType": "ON_DEMAND", "diskSize": 20,
        "scalingConfig": {"minSize": minimum, "desiredSize": desired, "maxSize": maximum}})


def database(storage=20, instance_class="db.t4g.medium", multi_az=False):
    return resource("aws:rds/instance:Instance", "tracking-db", {
        "instanceClass": instance_class, "allocatedStorage": storage, "storageType": "gp3", "multiAz": multi_az,
        "engine": "postgres", "identifier": "mlops-dev-tracking"})


def price(key):
    found = load_snapshot().price("aws", key)
    assert found is not None, f"the committed snapshot lacks {key}"
    return found.usd


def delta_row(report, name):
    line = next(line for line in report.splitlines() if line.startswith(f"| `{name}` |"))
    return line.strip("| ").split(" | ")


def test_changing_a_pools_instance_type_moves_the_pr_comments_delta_by_the_price_difference():
    report = diff_plans(plan(node_group("t3.large")), plan(node_group("g5.xlarge")))
    hourly = price("us-east-1/ec2/g5.xlarge/on-demand") - price("us-east-1/ec2/t3.large/on-demand")
    row = delta_row(report, "cluster-system")
    idle, expected, maximum = (round(n * hourly * 730, 2) for n in (2, 2, 3))
    assert row[3:6] == [usd(idle, True), usd(expected, True), usd(maximum, True)]
    assert f"({usd(idle, True)})" in report.split("**Monthly cost**")[1].splitlines()[0]


def test_changing_a_database_size_moves_the_delta_by_the_storage_price():
    report = diff_plans(plan(database(storage=20)), plan(database(storage=50)))
    expected = round(30 * price("us-east-1/rds/gp3-gb-month/single-az"), 2)
    assert delta_row(report, "tracking-db")[3] == usd(expected, True)


def test_moving_a_database_to_multi_az_doubles_instance_and_storage():
    old, new = cost_section(plan(database())), cost_section(plan(database(multi_az=True)))
    expected = round(730 * price("us-east-1/rds/postgres/db.t4g.medium/multi-az"), 2) \
        + round(20 * price("us-east-1/rds/gp3-gb-month/multi-az"), 2)
    assert new["monthlyUsd"]["idle"] == round(expected, 2) > old["monthlyUsd"]["idle"]


def test_unchanged_plan_says_nothing_moves_the_estimate():
    report = render_cost_delta(plan(database()), plan(database()))
    assert "No resource changes the estimate." in report and "(±$0.00)" in report


def test_a_price_missing_from_the_snapshot_is_unpriced_with_the_key_never_zero():
    snapshot = Snapshot({"aws": {"date": "2026-01-01", "prices": {}}})
    section = cost_section(plan(node_group("t3.large")), snapshot)
    item = section["items"][0]
    assert item["status"] == "unpriced" and section["statusCounts"] == {"free": 1, "unpriced": 1}  # the provider is free
    assert "aws:us-east-1/ec2/t3.large/on-demand is not in the snapshot" in item["charges"][0]["unpriced"]
    assert "monthlyUsd" not in item["charges"][0]
    assert "Not fully priced: 1 resource(s), e.g. cluster-system" in render_summary(section, "dev")


def test_a_type_without_rule_is_unpriced_and_free_types_carry_their_reason():
    section = cost_section(plan(resource("aws:lambda/function:Function", "fn", {}),
                                resource("aws:iam/role:Role", "role", {})))
    assert section["items"][0]["status"] == "unpriced"
    assert section["items"][0]["reason"] == "no pricing rule for this resource type"
    assert {"type": "aws:iam/role:Role", "reason": "IAM is free", "count": 1} in section["free"]


def karpenter_pool():
    return resource("kubernetes:karpenter.sh/v1:NodePool", "training-gpu-spot-nodepool", {
        "metadata": {"name": "gpu-spot"},
        "spec": {"limits": {"cpu": "16"}, "template": {"spec": {
            "nodeClassRef": {"name": "gpu-spot"},
            "requirements": [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["g5.xlarge", "g6.xlarge"]},
                             {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}]}}}},
        provider="urn:pulumi:dev::mlops-platform::pulumi:providers:kubernetes::cluster-k8s::0c0d")


SPOT_SNAPSHOT = Snapshot({"aws": {"date": "2026-01-01", "prices": {
    "us-east-1/ec2/g5.xlarge/on-demand": {"usd": 1.006, "unit": "hour", "source": "s", "date": "d", "attributes": {"vcpu": 4}},
    "us-east-1/ec2/g5.xlarge/spot": {"usd": 0.45, "unit": "hour", "source": "s", "date": "d"},
    "us-east-1/ec2/g6.xlarge/on-demand": {"usd": 0.805, "unit": "hour", "source": "s", "date": "d", "attributes": {"vcpu": 4}},
    "us-east-1/ec2/g6.xlarge/spot": {"usd": 0.32, "unit": "hour", "source": "s", "date": "d"}}}})


def test_spot_pool_scales_to_zero_and_shows_spot_against_on_demand():
    section = cost_section(plan(karpenter_pool()), SPOT_SNAPSHOT)
    item = section["items"][0]
    assert item["instanceType"] == "g6.xlarge"  # the cheapest spot offering of the listed types
    assert item["nodes"] == {"idle": 0, "expected": 0, "max": 4}  # CPU limit 16 / 4 vCPU
    assert item["monthlyUsd"] == {"idle": 0.0, "expected": 0.0, "max": round(4 * 730 * 0.32, 2)}
    assert item["spot"] == {"onDemandHourlyUsd": 0.805, "spotHourlyUsd": 0.32, "savingPercent": 60.2}
    assert item["busyNodeHourUsd"] == 0.32
    text = render_table(section, "text", "dev")
    assert "spot $0.32/h vs on-demand $0.805/h: 60.2% saving" in text
    assert "scales to zero: idle $0.00; $0.32 per node-hour when busy" in text


def test_idle_estimate_over_budget_warns_in_preview_and_pr_comment():
    over = plan(node_group("t3.large"), resource("aws:budgets/budget:Budget", "monthly", {"limitAmount": "100.00", "limitUnit": "USD"}))
    section = cost_section(over)
    assert section["budget"] == {"monthlyBudgetUsd": 100.0, "idleOverBudget": True}
    assert "warning: stack dev: idle estimate" in render_summary(section, "dev")
    assert ":warning: stack dev: idle estimate" in render_cost_delta(plan(), over)
    assert cost_section(over, budget_usd=10000)["budget"]["idleOverBudget"] is False


def test_cost_section_is_byte_stable_and_csv_json_carry_every_charge():
    section = cost_section(plan(node_group("t3.large"), database()))
    assert json.dumps(section, sort_keys=True) == json.dumps(cost_section(plan(node_group("t3.large"), database())), sort_keys=True)
    rows = list(csv.DictReader(io.StringIO(render_table(section, "csv"))))
    charged = [r for r in rows if r["status"] != "free"]
    assert [r["charge"] for r in charged] == ["nodes: t3.large on-demand node-hours", "nodes: gp3 root volumes",
                                              "db.t4g.medium single-az instance", "gp3 storage"]
    assert all(r["source"] and r["assumption"] and r["monthlyUsd_idle"] for r in charged)
    assert [(r["type"], r["status"]) for r in rows if r["status"] == "free"] == [("pulumi:providers:aws", "free")]
    assert json.loads(render_table(section, "json")) == section


def test_a_broken_snapshot_file_names_file_key_and_rule(tmp_path):
    path = tmp_path / "aws.json"
    path.write_text(json.dumps({"prices": {"us-east-1/kms/key-month": {"usd": 1.0, "unit": "key-month"}}}))
    with pytest.raises(SnapshotError, match=r"aws.json: price 'us-east-1/kms/key-month' lacks source, date"):
        read_snapshot_file(path)
    path.write_text(json.dumps({"prices": {"k": {"usd": -1, "unit": "u", "source": "s", "date": "d"}}}))
    with pytest.raises(SnapshotError, match=r"usd=-1; allowed: a number >= 0"):
        read_snapshot_file(path)


def test_committed_snapshot_gives_every_price_a_source_and_date():
    snapshot = load_snapshot()
    for cloud in ("aws", "azure", "gcp"):
        assert snapshot.date(cloud)
        for key in snapshot.keys(cloud):
            entry = snapshot.price(cloud, key)
            assert entry.source.startswith(("http", "AWS Price List", "Azure Retail", "Cloud Billing", "EC2 ")) and entry.date, key


def test_preview_joins_the_cost_section_and_prints_the_total(project, capsys):
    assert run_preview(project, "dev", [], policies=False) == 0
    out = capsys.readouterr().out
    written = read_plan(project / "build" / "plan" / "dev.json")
    kms = next(i for i in written["cost"]["items"] if i["type"] == "aws:kms/key:Key")
    assert kms["monthlyUsd"]["idle"] == price("us-east-1/kms/key-month")
    assert "Monthly cost estimate (USD list prices; snapshot aws " in out


def test_a_rule_that_cannot_model_a_setting_says_so_instead_of_asking_for_a_price():
    gke_pool = resource("gcp:container/nodePool:NodePool", "odd", {
        "location": "europe-west4", "autoscaling": {"totalMinNodeCount": 0, "totalMaxNodeCount": 2},
        "nodeConfig": {"machineType": "z9-weird-4", "spot": True}}, provider=None)
    item = cost_section(plan(gke_pool, cloud="gcp"))["items"][0]
    assert item["charges"][0]["unpriced"] == "the shape (vCPU, RAM, GPUs) of z9-weird-4 is not in gcp.SHAPES"


def entry(usd):
    return {"usd": usd, "unit": "u", "source": "s", "date": "d"}


def test_azure_spot_pool_prices_vm_hours_and_os_disks_and_the_saving():
    pool = resource("azure-native:containerservice:AgentPool", "training-cpu-spot-0", {
        "vmSize": "Standard_D8s_v5", "count": 0, "minCount": 0, "maxCount": 4, "scaleSetPriority": "Spot",
        "osDiskSizeGB": 100}, provider=None)
    cluster = resource("azure-native:containerservice:ManagedCluster", "cluster", {
        "location": "westeurope", "sku": {"tier": "Free"}, "agentPoolProfiles": []}, provider=None)
    snapshot = Snapshot({"azure": {"date": "2026-01-01", "prices": {
        "westeurope/vm/Standard_D8s_v5/on-demand": entry(0.4), "westeurope/vm/Standard_D8s_v5/spot": entry(0.08),
        "westeurope/managed-disk/premium-ssd-lrs/P10": entry(19.71)}}})
    section = cost_section(plan(pool, cluster, cloud="azure"), snapshot)
    item = next(i for i in section["items"] if i["name"] == "training-cpu-spot-0")
    assert item["monthlyUsd"] == {"idle": 0.0, "expected": 0.0, "max": round(4 * 730 * 0.08, 2) + round(4 * 19.71, 2)}
    assert item["spot"]["savingPercent"] == 80.0 and item["busyNodeHourUsd"] == 0.08
    assert {"type": "azure-native:containerservice:ManagedCluster",
            "reason": "Free tier control plane; its node pools are priced on their agent pools", "count": 1} in section["free"]
    pool["inputs"]["osDiskType"] = "Ephemeral"  # lives on the VM's cache disk: no managed disk is billed
    item = next(i for i in cost_section(plan(pool, cluster, cloud="azure"), snapshot)["items"] if i["name"] == "training-cpu-spot-0")
    assert [c["what"] for c in item["charges"]] == ["Standard_D8s_v5 spot node-hours"]


def test_gcp_node_hour_is_composed_from_cores_ram_and_gpu_of_the_machine_shape():
    pool = resource("gcp:container/nodePool:NodePool", "training-gpu-spot-g2-standard-8", {
        "location": "europe-west4", "autoscaling": {"totalMinNodeCount": 0, "totalMaxNodeCount": 2},
        "nodeConfig": {"machineType": "g2-standard-8", "spot": True, "diskSizeGb": 200, "diskType": "pd-balanced"}}, provider=None)
    prices = {"europe-west4/compute/g2/core-hour/spot": 0.01, "europe-west4/compute/g2/ram-gb-hour/spot": 0.001,
              "europe-west4/gpu/nvidia-l4/hour/spot": 0.2, "europe-west4/compute/g2/core-hour/on-demand": 0.03,
              "europe-west4/compute/g2/ram-gb-hour/on-demand": 0.003, "europe-west4/gpu/nvidia-l4/hour/on-demand": 0.6,
              "europe-west4/pd/pd-balanced-gb-month": 0.1}
    item = cost_section(plan(pool, cloud="gcp"), Snapshot({"gcp": {"date": "d", "prices": {k: entry(v) for k, v in prices.items()}}}))["items"][0]
    assert item["busyNodeHourUsd"] == round(8 * 0.01 + 32 * 0.001 + 0.2, 4)
    assert item["spot"] == {"onDemandHourlyUsd": round(8 * 0.03 + 32 * 0.003 + 0.6, 4), "spotHourlyUsd": 0.312, "savingPercent": 66.7}
    assert item["monthlyUsd"]["max"] == round(2 * 730 * 8 * 0.01, 2) + round(2 * 730 * 32 * 0.001, 2) + round(2 * 730 * 0.2, 2) + 2 * 200 * 0.1


def test_gcp_regional_cloud_sql_uses_the_regional_skus_and_a_replica_takes_its_primarys_disk():
    primary = resource("gcp:sql/databaseInstance:DatabaseInstance", "tracking-db", {
        "name": "db", "region": "europe-west4", "settings": {"tier": "db-custom-2-7680", "availabilityType": "REGIONAL",
                                                            "diskSize": 100, "diskType": "PD_SSD"}}, provider=None)
    replica = resource("gcp:sql/databaseInstance:DatabaseInstance", "dr-db", {
        "name": "db-dr", "region": "europe-west1", "masterInstanceName": "db",
        "settings": {"tier": "db-custom-2-7680", "availabilityType": "ZONAL", "diskType": "PD_SSD"}}, provider=None)
    section = cost_section(plan(primary, replica, cloud="gcp"), Snapshot({"gcp": {"date": "d", "prices": {}}}))
    keys = {i["name"]: [c["priceKey"] for c in i["charges"]] for i in section["items"]}
    assert keys["tracking-db"] == ["europe-west4/cloud-sql/postgres-enterprise/core-hour/regional",
                                   "europe-west4/cloud-sql/postgres-enterprise/ram-gb-hour/regional",
                                   "europe-west4/cloud-sql/ssd-gb-month/regional"]
    disk = next(c for i in section["items"] if i["name"] == "dr-db" for c in i["charges"] if "ssd-gb-month" in c["priceKey"])
    assert disk["quantity"]["idle"] == 100 and disk["priceKey"].startswith("europe-west1/")
