"""The retraining DAG's ``features`` step: the training frame through Feast's own API.

Feast's point-in-time join (``FeatureStore.get_historical_features``) of the entity data frame (entity key,
``event_timestamp``, label: what happened to whom, when) with every feature of one feature view, as the
view stood at each row's time, read from the offline store through the platform's registry. The frame is
written as parquet for the ``train`` step (Argo passes it through the artifact store, ``argo/``).

Why a script of its own: Feast and MLflow pin different versions of shared packages, so this step runs in
the platform's Feast image (``images/feast-feature-server``, Feast 0.50.0; the smoke venv installs the same
file) as ``python -c <this file>``, and imports nothing from the rest of ``pipelines``. The WorkflowTemplate
carries this file's text, so the plan shows exactly what runs.

    python feast_features.py --project P --registry URI [--registry-store-type T] --provider aws|gcp|azure
        --feature-view V --entities URI --entity E --label L --output FILE [--outputs DIR]

One JSON line on success; bad input: one line naming the flag, exit 2; Feast or storage failure: one
line, exit 1 (Argo retries the step).
"""

import argparse
import json
import os
import sys
from pathlib import Path

ENTITY_KEY_SERIALIZATION_VERSION = 3  # as the feature server's feature_store.yaml (components/k8s/feast.py)


class BadInput(Exception):
    pass


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="features", description="Feast training frame for the train step")
    p.add_argument("--project", required=True)
    p.add_argument("--registry", required=True)
    p.add_argument("--registry-store-type", default="")
    p.add_argument("--provider", required=True, choices=("aws", "gcp", "azure", "local"))
    p.add_argument("--feature-view", required=True)
    p.add_argument("--entities", required=True, help="parquet: entity key, event_timestamp, label")
    p.add_argument("--entity", required=True)
    p.add_argument("--label", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--outputs", default="")
    return p


def store(args):
    from feast import FeatureStore, RepoConfig
    from feast.repo_config import RegistryConfig

    registry = {"path": args.registry, "cache_ttl_seconds": 0}
    if args.registry_store_type:
        registry["registry_store_type"] = args.registry_store_type
    # The online store is never read here; a local one keeps the step from needing its credentials.
    config = RepoConfig(project=args.project, provider=args.provider, registry=RegistryConfig(**registry),
                        offline_store={"type": "file"}, online_store={"type": "sqlite", "path": "/tmp/feast-online.db"},
                        entity_key_serialization_version=ENTITY_KEY_SERIALIZATION_VERSION, repo_path="/tmp")
    return FeatureStore(config=config)


def training_frame(args):
    import pandas as pd

    try:
        entities = pd.read_parquet(args.entities)
    except (OSError, ValueError) as error:
        raise BadInput(f"--entities {args.entities!r}: not a readable parquet file ({str(error).splitlines()[0]})")
    missing = [c for c in (args.entity, "event_timestamp", args.label) if c not in entities.columns]
    if missing:
        raise BadInput(f"--entities {args.entities!r}: no column {', '.join(map(repr, missing))} "
                       f"(columns: {', '.join(map(str, entities.columns))})")
    feast = store(args)
    try:
        view = feast.get_feature_view(args.feature_view)
    except Exception as error:  # FeatureViewNotFoundException and registry read errors alike
        if type(error).__name__ == "FeatureViewNotFoundException":
            raise BadInput(f"--feature-view {args.feature_view!r}: not in project {args.project!r} of {args.registry}")
        raise
    if args.entity not in view.join_keys:
        raise BadInput(f"--entity {args.entity!r}: feature view {view.name} joins on {', '.join(view.join_keys)}")
    refs = [f"{view.name}:{f.name}" for f in view.features]
    frame = feast.get_historical_features(entity_df=entities[[args.entity, "event_timestamp", args.label]],
                                          features=refs).to_df()
    return frame, [f.name for f in view.features]


def main(argv) -> int:
    args = parser().parse_args(argv)
    try:
        frame, features = training_frame(args)
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(args.output, index=False)
    except BadInput as error:
        print(f"features: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # Feast, the registry or the object store: Argo retries the step
        print(f"features: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}", file=sys.stderr)
        return 1
    result = {"rows": int(len(frame)), "features": features, "missing_values": int(frame[features].isna().sum().sum()),
              "output": args.output}
    if args.outputs:
        os.makedirs(args.outputs, exist_ok=True)
        for key in ("rows", "missing_values"):
            Path(args.outputs, key).write_text(str(result[key]))
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
