"""Pinned engine and cluster versions are checked against today's date and the support-window table."""
import datetime as dt
import json

import pytest

from stacks.config import ConfigError, load_config
from stacks.versions import support

TODAY = dt.date(2026, 12, 5)


def cfg(cloud="aws", region="us-east-1", **sections):
    base = {"mlops:cloud": cloud, "mlops:region": region}
    base.update({f"mlops:{k}": json.dumps(v) for k, v in sections.items()})
    return base


def problems(config, today=TODAY):
    with pytest.raises(ConfigError) as caught:
        load_config("dev", config, today=today)
    return caught.value.problems


def test_rds_postgres_16_6_is_refused_after_its_creation_end_naming_file_key_value_and_allowed():
    [line] = problems(cfg(tracking={"dbEngineVersion": "16.6"}))
    assert line.startswith('Pulumi.dev.yaml: mlops:tracking.dbEngineVersion = "16.6": can no longer be created since 2026-05-01')
    assert line.endswith("use one of: 14, 15, 16, 16.11, 17, 17.7")


def test_16_6_was_still_creatable_the_day_before():
    assert load_config("dev", cfg(tracking={"dbEngineVersion": "16.6"}), today=dt.date(2026, 4, 30))


def test_the_default_engine_version_is_creatable_today_on_every_cloud():
    for cloud, region in (("aws", "us-east-1"), ("azure", "westeurope"), ("gcp", "europe-west4")):
        loaded = load_config("dev", cfg(cloud, region), today=TODAY)
        assert loaded.tracking.db_engine_version == "16" and loaded.cluster.version == "1.35"


def test_a_version_missing_from_the_table_is_refused_with_where_to_add_it():
    [line] = problems(cfg(tracking={"dbEngineVersion": "16.9"}))
    assert 'mlops:tracking.dbEngineVersion = "16.9": is not in the support-window table for aws-postgres' in line
    assert "add the version with its creation end date and source" in line


@pytest.mark.parametrize("cloud,region,version,end", [
    ("aws", "us-east-1", "1.34", "2026-12-02"), ("gcp", "europe-west4", "1.34", "2026-08-30")])
def test_kubernetes_versions_past_standard_support_are_refused(cloud, region, version, end):
    [line] = problems(cfg(cloud, region, cluster={"version": version}))
    assert line.startswith(f'Pulumi.dev.yaml: mlops:cluster.version = "{version}": can no longer be created since {end}')


def test_cloud_sql_and_azure_take_the_major_so_a_minor_is_judged_by_it():
    assert load_config("dev", cfg("gcp", "europe-west4", tracking={"dbEngineVersion": "16.6"}), today=TODAY)
    [line] = problems(cfg("gcp", "europe-west4", tracking={"dbEngineVersion": "14"}))
    assert "can no longer be created since 2026-11-12" in line


def test_every_row_names_a_source_and_a_date_or_none():
    for product in support().table()["products"].values():
        for version, row in product["versions"].items():
            assert row["source"] and (row["creationEnd"] is None or dt.date.fromisoformat(row["creationEnd"]))
