"""GKE training pools: a Spot node pool per machine type, scale to zero, GPUs with drivers, labels and taints."""

import pytest

from components.training.gcp import gpu_accelerator, node_pool_name

from .foundation import FEATURES_BUCKET, PROJECT, dev, prod

POOL = "mlops:training:TrainingPool"
NODE_POOL = "gcp:container/nodePool:NodePool"


def node_pools(result, pool):
    [component] = [c for c in result.by_type(POOL) if c["name"] == f"training-{pool}"]
    return {p["inputs"]["nodeConfig"]["machineType"]: p["inputs"] for p in result.children(component["urn"])
            if p["type"] == NODE_POOL}


@pytest.mark.parametrize("machine,expected", [
    ("g2-standard-8", ("nvidia-l4", 1)), ("g2-standard-24", ("nvidia-l4", 2)), ("g2-standard-96", ("nvidia-l4", 8)),
    ("a2-highgpu-2g", ("nvidia-tesla-a100", 2)), ("a2-ultragpu-4g", ("nvidia-a100-80gb", 4)),
    ("a3-highgpu-8g", ("nvidia-h100-80gb", 8)), ("a4-highgpu-8g", ("nvidia-b200", 8))])
def test_gpu_machine_types_map_to_their_accelerators(machine, expected):
    assert gpu_accelerator(machine) == expected


@pytest.mark.parametrize("machine", ["g2-standard-7", "n1-standard-8", "a2-highgpu"])
def test_unknown_gpu_machine_types_are_refused_with_what_is_supported(machine):
    with pytest.raises(ValueError, match="g2-standard-N"):
        gpu_accelerator(machine)


def test_one_spot_node_pool_per_machine_type_with_the_pools_labels_and_taints():
    pools = node_pools(dev(), "cpu-spot")
    assert sorted(pools) == ["n2-standard-8", "n2d-standard-8"]
    for machine, pool in pools.items():
        node = pool["nodeConfig"]
        assert pool["name"] == f"cpu-spot-{machine}"
        assert node["spot"] is True
        assert node["labels"] == {"mlops.dev/pool": "cpu-spot", "mlops.dev/capacity-type": "spot"}
        assert node["taints"] == [{"key": "mlops.dev/capacity-type", "value": "spot", "effect": "NO_SCHEDULE"}]
        assert pool["autoscaling"]["totalMinNodeCount"] == 0 and pool["autoscaling"]["totalMaxNodeCount"] == 4
        assert pool["autoscaling"]["locationPolicy"] == "ANY"


def test_gpu_pools_attach_their_gpus_install_drivers_and_are_tainted():
    result = dev()
    pools = node_pools(result, "gpu-spot")
    assert {m: (p["nodeConfig"]["guestAccelerators"][0]["type"], p["nodeConfig"]["guestAccelerators"][0]["count"])
            for m, p in pools.items()} == {"g2-standard-24": ("nvidia-l4", 2), "a2-highgpu-2g": ("nvidia-tesla-a100", 2),
                                           "a4-highgpu-8g": ("nvidia-b200", 8)}
    for pool in pools.values():
        node = pool["nodeConfig"]
        assert node["guestAccelerators"][0]["gpuDriverInstallationConfig"] == {"gpuDriverVersion": "DEFAULT"}
        assert node["labels"]["mlops.dev/accelerator"] == "nvidia-gpu"
        assert {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"} in node["taints"]
        assert node["diskSizeGb"] == 200
    assert pools["a4-highgpu-8g"]["nodeConfig"]["diskType"] == "hyperdisk-balanced"  # A4 boots from Hyperdisk only
    assert pools["g2-standard-24"]["nodeConfig"]["diskType"] == "pd-balanced"


def test_training_nodes_are_as_locked_down_as_system_nodes():
    result = dev()
    for pool in result.by_type(NODE_POOL):
        node = pool["inputs"]["nodeConfig"]
        assert node["bootDiskKmsKey"] == result.outputs["key:cluster"]
        assert node["shieldedInstanceConfig"]["enableSecureBoot"] is True
        assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert node["serviceAccount"] == result.outputs["nodeServiceAccount"]
        assert pool["inputs"].get("networkConfig", {}).get("enablePrivateNodes") is not False


def test_spot_nodes_give_training_pods_the_longest_graceful_shutdown_gke_allows():
    for name in ("cpu-spot", "gpu-spot"):
        for pool in node_pools(dev(), name).values():
            kubelet = pool["nodeConfig"]["kubeletConfig"]
            assert kubelet["shutdownGracePeriodSeconds"] == 120  # 105 s for training pods, 15 s for system pods
            assert kubelet["shutdownGracePeriodCriticalPodsSeconds"] == 15
            assert kubelet["insecureKubeletReadonlyPortEnabled"] == "FALSE"


def test_on_demand_pool_keeps_min_nodes_and_spreads_evenly():
    [pool] = node_pools(prod(), "cpu-steady").values()
    assert pool["nodeConfig"]["spot"] is False and "taints" not in pool["nodeConfig"]
    assert pool["nodeConfig"]["kubeletConfig"] == {"insecureKubeletReadonlyPortEnabled": "FALSE"}  # Spot VMs only
    assert pool["autoscaling"] == {"totalMinNodeCount": 1, "totalMaxNodeCount": 6, "locationPolicy": "BALANCED"}


def test_node_pool_names_fit_gke_limits():
    assert node_pool_name("gpu-spot", "g2-standard-8") == "gpu-spot-g2-standard-8"
    long = node_pool_name("a-rather-long-training-pool-name", "a3-ultragpu-8g")
    assert len(long) <= 40 and long != node_pool_name("a-rather-long-training-pool-name", "a3-megagpu-8g")


def test_training_jobs_read_only_the_feast_offline_store_and_registry():
    result = dev()
    [grant] = [g["inputs"] for g in result.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")]
    email = f"mlops-test-trainer@{PROJECT}.iam.gserviceaccount.com"
    assert grant["bucket"] == FEATURES_BUCKET and grant["role"] == "roles/storage.objectViewer"
    assert grant["member"] == f"serviceAccount:{email}"
    objects = f"projects/_/buckets/{FEATURES_BUCKET}/objects/"
    assert grant["condition"]["expression"] == " || ".join([
        f'resource.name == "projects/_/buckets/{FEATURES_BUCKET}"',
        f'resource.name.startsWith("{objects}offline/")', f'resource.name.startsWith("{objects}registry/")'])
    binding = next(b["inputs"] for b in result.by_type("gcp:serviceaccount/iAMMember:IAMMember")
                   if b["inputs"]["member"].endswith("[training/trainer]"))
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert result.outputs["trainerAnnotations"] == {"iam.gke.io/gcp-service-account": email}


def test_gpu_pools_go_only_to_zones_offering_their_machine_type():
    """A2 is not in europe-west4-c and A3 not in europe-west4-a: a pool inheriting every zone fails there."""
    from components.training.gcp import gpu_pool_zones

    zones = ["europe-west4-a", "europe-west4-b", "europe-west4-c"]
    assert gpu_pool_zones("a2-highgpu-8g", "europe-west4", zones) == ["europe-west4-a", "europe-west4-b"]
    assert gpu_pool_zones("a3-highgpu-8g", "europe-west4", zones) == ["europe-west4-b", "europe-west4-c"]
    assert gpu_pool_zones("g2-standard-8", "europe-west4", zones) == zones
    with pytest.raises(ValueError, match="offered in europe-west4 only in zones: europe-west4-a; none of the cluster's"):
        gpu_pool_zones("a2-ultragpu-8g", "europe-west4", zones[1:])
    with pytest.raises(ValueError, match="has no zone list for us-central1 in gcp_gpu_zones.json"):
        gpu_pool_zones("g2-standard-8", "us-central1", ["us-central1-a"])
