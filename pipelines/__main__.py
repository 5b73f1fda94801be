"""``python -m pipelines <step> ...``: the entry point of every workflow container.

MLflow is reached through MLFLOW_TRACKING_URI (+ MLFLOW_TRACKING_USERNAME/PASSWORD from a Secret). Prints
one JSON line; exit 2 with one line on bad input, exit 1 with one line when MLflow or storage fails."""

from __future__ import annotations

import argparse
import json
import sys

from pipelines import StepError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise StepError(f"{self.prog}: {message}")


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="python -m pipelines")
    root.add_argument("--outputs", metavar="DIR",
                      help="also write each scalar of the result to DIR/<key> (Argo output parameters read them)")
    steps = root.add_subparsers(dest="step", required=True, parser_class=_Parser)
    t = steps.add_parser("train")
    t.add_argument("--features", required=True)
    t.add_argument("--label", required=True)
    t.add_argument("--entity", required=True)
    t.add_argument("--experiment", required=True)
    t.add_argument("--holdout", type=float, default=0.25)
    t.add_argument("--c", type=float, default=1.0)
    t.add_argument("--max-iter", type=int, default=200)
    t.add_argument("--seed", type=int, default=0)
    r = steps.add_parser("register")
    r.add_argument("--run-id", required=True)
    r.add_argument("--model-name", required=True)
    e = steps.add_parser("evaluate")
    e.add_argument("--model-name", required=True)
    e.add_argument("--version", required=True)
    e.add_argument("--metric", default="roc_auc")
    e.add_argument("--min-improvement", type=float, default=0.0)
    p = steps.add_parser("promote")
    p.add_argument("--model-name", required=True)
    p.add_argument("--version", required=True)
    d = steps.add_parser("drift")
    d.add_argument("--model-name", required=True)
    d.add_argument("--recent", required=True)
    d.add_argument("--entity", required=True)
    d.add_argument("--output", required=True)
    d.add_argument("--p-value", type=float, default=0.05)
    d.add_argument("--share", type=float, default=0.5)
    d.add_argument("--pushgateway", metavar="URL",
                   help="also PUT the exposition to this Prometheus Pushgateway (group job=mlops-drift, model=NAME)")
    g = steps.add_parser("train-distributed")
    g.add_argument("--features", required=True)
    g.add_argument("--label", required=True)
    g.add_argument("--entity", required=True)
    g.add_argument("--experiment", required=True)
    g.add_argument("--run-name", required=True)
    g.add_argument("--storage", required=True, help="checkpoint prefix: s3://, gs://, abfs:// or a local directory")
    g.add_argument("--workers", type=int, required=True)
    g.add_argument("--worker-cpus", type=int, default=1)
    g.add_argument("--steps", type=int, required=True)
    g.add_argument("--checkpoint-every", type=int, required=True)
    g.add_argument("--max-failures", type=int, required=True)
    g.add_argument("--keep-checkpoints", type=int, default=2)
    g.add_argument("--gpu", action="store_true")
    g.add_argument("--learning-rate", type=float, default=0.5)
    g.add_argument("--batch-size", type=int, default=256)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--step-seconds", type=float, default=0.0, help="pause after each step (paces a demo or test run)")
    g.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, as KubeRay sets it)")
    g = steps.add_parser("target")
    g.add_argument("--model-name", required=True)
    g.add_argument("--version", required=True)
    g.add_argument("--artifacts-destination", default="",
                   help="the MLflow server's --artifacts-destination (maps proxied mlflow-artifacts: URIs)")
    c = steps.add_parser("canary")
    c.add_argument("--model-name", required=True)
    c.add_argument("--version", required=True)
    c.add_argument("--service", required=True, help="the InferenceService serving the model")
    c.add_argument("--prometheus", required=True, help="Prometheus base URL")
    c.add_argument("--max-error-ratio", type=_ratio, default=0.01)
    c.add_argument("--max-p95-seconds", type=_positive, default=0.5)
    c.add_argument("--min-requests", type=int, default=100)
    c.add_argument("--window", default="10m")
    c.add_argument("--analysis-seconds", type=_positive, default=600.0)
    c.add_argument("--interval", type=_positive, default=30.0)
    s = steps.add_parser("request-log", help="the serving request log sink (KServe's logger posts here)")
    s.add_argument("--output", required=True, help="prefix the parquet parts go under (the drift job's recentPath)")
    s.add_argument("--entity", required=True)
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--flush-rows", type=int, default=5000)
    s.add_argument("--flush-seconds", type=_positive, default=300.0)
    s.add_argument("--max-pending", type=int, default=2000)
    s.add_argument("--pair-seconds", type=_positive, default=60.0)
    s.add_argument("--max-body", type=int, default=1 << 20)
    return root


def _ratio(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def dispatch(args: argparse.Namespace) -> dict:
    if args.step == "train":
        from pipelines import train

        return train.run(args.features, args.label, args.entity, args.experiment, args.holdout, args.c,
                         args.max_iter, args.seed)
    if args.step == "train-distributed":
        from pipelines import distributed

        return distributed.run(args.features, args.label, args.entity, args.experiment, args.run_name, args.storage,
                               args.workers, args.worker_cpus, args.steps, args.checkpoint_every, args.max_failures,
                               args.keep_checkpoints, args.gpu, args.learning_rate, args.batch_size, args.seed,
                               args.step_seconds, args.address)
    if args.step == "request-log":
        from pipelines import request_log_server

        return request_log_server.serve(args.output, args.entity, args.port, args.host, args.flush_rows,
                                        args.flush_seconds, args.max_pending, args.pair_seconds, args.max_body)
    from pipelines import registry

    if args.step == "register":
        return registry.register(args.run_id, args.model_name)
    if args.step == "evaluate":
        return registry.evaluate(args.model_name, args.version, args.metric, args.min_improvement)
    if args.step == "promote":
        return registry.promote(args.model_name, args.version)
    if args.step in ("target", "canary"):
        from pipelines import canary

        if args.step == "target":
            return canary.target(args.model_name, args.version, args.artifacts_destination)
        return canary.run(args.model_name, args.version, args.prometheus, args.service,
                          canary.Objectives(args.max_error_ratio, args.max_p95_seconds, args.min_requests),
                          args.window, args.analysis_seconds, args.interval)
    from pipelines import drift, push

    if args.pushgateway:
        push.group_url(args.pushgateway, args.model_name)  # a bad URL is bad input: fail before scoring
    result = drift.run(args.model_name, args.recent, args.entity, args.output, args.p_value, args.share)
    if args.pushgateway:
        with open(args.output, encoding="utf-8") as handle:
            result["pushed_to"] = push.push(args.pushgateway, args.model_name, handle.read())
    return result


def write_outputs(directory: str, result: dict) -> None:
    """One file per scalar (``true``/``false`` for booleans, as Argo's ``when`` expressions compare)."""
    from pathlib import Path

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for key, value in result.items():
        if isinstance(value, bool):
            (target / key).write_text("true" if value else "false")
        elif isinstance(value, (str, int, float)):
            (target / key).write_text(str(value))


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
        result = dispatch(args)
        if args.outputs:
            write_outputs(args.outputs, result)
    except StepError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # MLflow, storage: one line, the step fails and Argo retries it
        first = (str(error).strip().splitlines() or [""])[0]
        print(f"error: {type(error).__name__}: {first}", file=sys.stderr)
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
