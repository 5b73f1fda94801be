"""Azure training pools: one spot pool per VM size, scale to zero, labels and taints, node count split."""

import pytest

from components.training.azure import AKS_SPOT_TAINT, agent_pool_name, split_nodes

from .foundation import CPU_SIZES, GPU_SIZES, foundation, named


@pytest.fixture(scope="module")
def result():
    return foundation()


def pools(result, name):
    return sorted((p["inputs"] for p in named(result, "azure-native:containerservice:AgentPool", f"dev-training-{name}-")),
                  key=lambda p: p["agentPoolName"])


def test_one_spot_pool_per_size_that_evicts_by_deleting_at_any_price(result):
    cpu = pools(result, "cpu-spot")
    assert [p["vmSize"] for p in cpu] == list(CPU_SIZES)
    for pool in cpu + pools(result, "gpu-spot"):
        assert (pool["scaleSetPriority"], pool["scaleSetEvictionPolicy"], pool["spotMaxPrice"]) == ("Spot", "Delete", -1)
        assert pool["mode"] == "User" and pool["enableAutoScaling"] is True and pool["enableNodePublicIP"] is False
        assert pool["osDiskType"] == "Managed"  # encrypted by the cluster's disk encryption set
        assert pool["enableEncryptionAtHost"] is True  # and its temp disk and caches on the host (CKV_AZURE_227)


def test_node_counts_are_split_so_the_pool_never_exceeds_its_max(result):
    cpu = pools(result, "cpu-spot")
    assert [p["maxCount"] for p in cpu] == [2, 1, 1] and all(p["minCount"] == 0 for p in cpu)  # scale to zero
    gpu = pools(result, "gpu-spot")
    assert sum(p["maxCount"] for p in gpu) == 2 and sum(p["minCount"] for p in gpu) == 1
    assert all(p["minCount"] <= p["maxCount"] for p in gpu)
    assert split_nodes(5, 3) == [2, 2, 1] and split_nodes(0, 2) == [0, 0]


def test_labels_and_taints_every_size_pool_shares(result):
    for pool in pools(result, "cpu-spot"):
        assert pool["nodeLabels"] == {"mlops.dev/pool": "cpu-spot", "mlops.dev/capacity-type": "spot"}
        assert pool["nodeTaints"] == ["mlops.dev/capacity-type=spot:NoSchedule"]
        assert pool["availabilityZones"] == ["1", "2"]
    for pool in pools(result, "gpu-spot"):
        assert pool["nodeLabels"] == {"mlops.dev/pool": "gpu-spot", "mlops.dev/capacity-type": "spot",
                                      "mlops.dev/accelerator": "nvidia-gpu"}
        assert pool["nodeTaints"] == ["nvidia.com/gpu=true:NoSchedule", "mlops.dev/capacity-type=spot:NoSchedule"]
        assert pool["vmSize"] in GPU_SIZES and pool["gpuProfile"] == {"driver": "Install"}
        assert "availabilityZones" not in pool  # NC sizes are not in every zone
        assert pool["osDiskSizeGB"] == 200


def test_on_demand_pool_has_no_spot_settings(result):
    [pool] = pools(result, "cpu-ondemand")
    assert pool["scaleSetPriority"] == "Regular" and "spotMaxPrice" not in pool and "scaleSetEvictionPolicy" not in pool
    assert pool["nodeLabels"]["mlops.dev/capacity-type"] == "on-demand" and pool["nodeTaints"] == []


def test_component_reports_the_aks_spot_taint_jobs_must_tolerate(result):
    [component] = [c for c in result.by_type("mlops:training:TrainingPool") if c["name"] == "dev-training-gpu-spot"]
    assert len(result.children(component["urn"])) == len(GPU_SIZES)
    assert AKS_SPOT_TAINT.key == "kubernetes.azure.com/scalesetpriority"


def test_pools_are_added_one_at_a_time(result):
    """AKS refuses a second pool operation while one runs: each size pool waits for the one before."""
    by_name = {p["name"]: p for p in named(result, "azure-native:containerservice:AgentPool", "dev-training-")}
    assert by_name["dev-training-cpu-spot-0"]["urn"] in by_name["dev-training-cpu-spot-1"]["dependencies"]
    assert by_name["dev-training-cpu-spot-2"]["urn"] in by_name["dev-training-gpu-spot-0"]["dependencies"]


def test_pool_names_fit_aks_rules_and_stay_apart():
    names = [agent_pool_name(pool, index) for pool in ("cpu-spot", "cpu-spot-large", "gpu") for index in range(3)]
    assert len(set(names)) == len(names)
    assert all(len(n) <= 12 and n.isalnum() and n.islower() and n[0].isalpha() for n in names)
