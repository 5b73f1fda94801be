"""Splits one of pipeline_data.py's tables into what Feast and the features step read (run with the Feast
venv's Python): ``pipeline_feast_data.py <table.parquet> <features.parquet> <labels.parquet>``.

- features: customer_id, event_timestamp, age, spend, visits, plus two decoy rows per customer: one a day
  older with other values (an older state) and one a day after the label (the future); a point-in-time
  join must pick the row of the label's time.
- labels (the entity data frame): customer_id, event_timestamp one minute after the features row, churned.
"""

import sys

import pandas as pd

table = pd.read_parquet(sys.argv[1])
features = table[["customer_id", "event_timestamp", "age", "spend", "visits"]]
older = features.assign(event_timestamp=features["event_timestamp"] - pd.Timedelta(days=1), age=-999.0)
future = features.assign(event_timestamp=features["event_timestamp"] + pd.Timedelta(days=1), age=999.0)
pd.concat([older, features, future]).reset_index(drop=True).to_parquet(sys.argv[2], index=False)
labels = table[["customer_id", "event_timestamp", "churned"]].assign(
    event_timestamp=table["event_timestamp"] + pd.Timedelta(minutes=1))
labels.to_parquet(sys.argv[3], index=False)
