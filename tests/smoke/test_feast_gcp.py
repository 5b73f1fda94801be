"""Feast on the GCP stacks with the rendered feature_store.yaml and server command: GCS registry and offline
store on the GCS emulator, Bigtable online store on Google's emulator. Then every GCS call the run made
(the emulator's request log) and every Bigtable call of Feast's store is checked against the roles the plan
grants Feast's service account (Google's role definitions, mlops_tools/smoke/roles/gcp.json)."""

from __future__ import annotations

import time

import pytest

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke import feast_gcp, feast_smoke
from mlops_tools.smoke.iam_roles import bigtable_needs, gcp_bindings, gcp_missing, recorded_gcs_needs
from mlops_tools.smoke.procs import Processes

STACKS = feast_smoke.stacks("gcp")
pytestmark = pytest.mark.skipif(not STACKS, reason="no GCP stack in SMOKE_STACKS")


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> str:
    """This cloud's stacks only (conftest groups a stack's tests on one worker)."""
    return request.param


@pytest.fixture(scope="module")
def feast(stack, plan_for):
    return feast_smoke.rendered(plan_for(stack))


@pytest.fixture(scope="module")
def recorded(feast, tmp_path_factory):
    """One real Feast run; what it asked of GCS (from the emulator's log) and its timings."""
    tmp = tmp_path_factory.mktemp(feast.plan.stack)
    started = time.monotonic()
    with Processes(tmp / "logs") as procs:
        env, offline = feast_gcp.prepare(procs, feast)
        repo = feast_smoke.write_repo(tmp / "repo", feast, offline, None)
        result = feast_smoke.run(procs, feast, repo, env, offline)
    feast_smoke.record(feast, result, started)
    return recorded_gcs_needs((tmp / "logs" / "gcs-emulator.log").read_text())


def feast_member(plan) -> str:
    [member] = {r["inputs"]["member"] for r in plan.resources("gcp:storage/bucketIAMMember:BucketIAMMember")
                if r["name"].endswith("-feast-read")}
    return member


def check(feast, recorded, bindings) -> None:
    instance = f"instance:{feast.setting('online_store', 'instance')}"
    missing = gcp_missing(bindings, [*recorded, *bigtable_needs(instance)])
    if missing:
        raise SmokeFailure(f"{feast.component}: the roles the plan grants {feast_member(feast.plan)} "
                           f"({', '.join(sorted(b['name'] for b in bindings))}) lack " + "; ".join(missing))


def test_feast_runs_and_its_service_account_holds_every_permission_its_calls_need(feast, recorded):
    permissions = {need.permission for need in recorded}
    # The run did reach the registry and the offline store through GCS, as the pod would.
    assert {"storage.buckets.get", "storage.objects.get", "storage.objects.create"} <= permissions
    registry_writes = {n.permission for n in recorded if n.resource.endswith("/objects/registry/registry.db")}
    assert {"storage.objects.create", "storage.objects.delete"} <= registry_writes  # commits overwrite it
    check(feast, recorded, gcp_bindings(feast.plan, feast_member(feast.plan)))


def test_writes_are_confined_to_the_registry_object_and_the_offline_prefix(feast, recorded):
    bindings = gcp_bindings(feast.plan, feast_member(feast.plan))
    bucket = str(feast.setting("registry", "path")).split("/")[2]
    outside = [f"projects/_/buckets/{bucket}/objects/models/x", f"projects/_/buckets/{bucket}/objects/registry/other.db"]
    from mlops_tools.smoke.iam_roles import Need
    assert len(gcp_missing(bindings, [Need("test", "write", "storage.objects.create", o) for o in outside])) == 2
    assert gcp_missing(bindings, [Need("test", "delete table", "bigtable.tables.delete",
                                       f"instance:{feast.setting('online_store', 'instance')}")])


def test_without_the_bucket_role_the_check_names_component_and_permission(feast, recorded):
    """The pre-fix grants (objectViewer + conditional objectUser): get_bucket is refused."""
    bindings = [b for b in gcp_bindings(feast.plan, feast_member(feast.plan)) if b["role"] != "roles/storage.legacyBucketReader"]
    with pytest.raises(SmokeFailure) as failure:
        check(feast, recorded, bindings)
    assert f"{feast.plan.stack}: Feast" in str(failure.value)
    assert "storage.buckets.get on projects/_/buckets/" in str(failure.value)
