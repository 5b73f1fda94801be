"""Turn `pulumi refresh --preview-only --json` into a drift verdict and a Markdown report.

The nightly drift workflow runs a refresh preview per stack (it changes no state) and needs
two things from its JSON (the CLI's preview digest: `steps`, `changeSummary`): whether the
cloud differs from the state, and a short report a person can act on in the drift issue.

    python -m mlops_tools.ops.drift --stack prod build/drift/prod.json \
        --markdown build/drift/prod.md --verdict build/drift/prod.verdict.json

Exit code: 0 no drift, 3 drift found, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from mlops_tools.cmdline import EXIT_USAGE, parse_args

EXIT_DRIFT = 3
UNCHANGED_OPS = {"same", "read"}
MARKDOWN_LIMIT = 60_000  # GitHub issue bodies stop at 65,536 characters


def load_digest(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    try:
        digest = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not the JSON of `pulumi refresh --preview-only --json` "
                         f"(line {error.lineno}: {error.msg})") from None
    # A preview digest always carries changeSummary (op -> count), even when nothing changed; a file
    # without it (a plan file, a refresh log, an empty object) must not read as "no drift".
    summary = digest.get("changeSummary") if isinstance(digest, dict) else None
    if not isinstance(summary, dict):
        raise ValueError(f"{path} has no changeSummary object: not the JSON of `pulumi refresh --preview-only --json`")
    bad = [f"{op}={count!r}" for op, count in summary.items()
           if not isinstance(op, str) or isinstance(count, bool) or not isinstance(count, int) or count < 0]
    if bad:
        raise ValueError(f"{path}: changeSummary counts must be whole numbers per operation, got {', '.join(bad)}")
    steps = digest.get("steps", [])
    if steps is not None and (not isinstance(steps, list) or not all(isinstance(step, dict) and "op" in step for step in steps)):
        raise ValueError(f"{path}: steps must be a list of objects with an op, as the preview digest has")
    return digest


def drifted_steps(digest: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for step in digest.get("steps", []) or [] if step.get("op") not in UNCHANGED_OPS]


def verdict(stack: str, digest: dict[str, Any]) -> dict[str, Any]:
    summary = {op: int(count) for op, count in sorted((digest.get("changeSummary") or {}).items())}
    changes = sum(count for op, count in summary.items() if op not in UNCHANGED_OPS)
    return {"stack": stack, "drift": changes > 0 or bool(drifted_steps(digest)), "changes": changes,
            "summary": summary}


def markdown(stack: str, digest: dict[str, Any]) -> str:
    result = verdict(stack, digest)
    if not result["drift"]:
        return f"### Stack `{stack}`: no drift\n\nThe cloud matches the Pulumi state.\n"
    lines = [
        f"### Stack `{stack}`: {result['changes']} resource(s) drifted",
        "",
        "Summary: " + ", ".join(f"{op} {count}" for op, count in result["summary"].items()),
        "",
        "| change | resource | properties |",
        "| --- | --- | --- |",
    ]
    for step in drifted_steps(digest):
        urn = step.get("urn", "")
        kind, _, name = urn.rpartition("::")
        resource_type = kind.rpartition("$")[2] if kind else ""
        properties = sorted(step.get("diffReasons") or (step.get("detailedDiff") or {}).keys())
        lines.append(f"| {step.get('op')} | `{resource_type}` `{name}` | {', '.join(properties) or '-'} |")
    lines += [
        "",
        f"Decide per resource: adopt the change (`pulumi refresh --stack {stack}`, then update the code to match) "
        f"or undo it (`pulumi up --stack {stack}` through the deploy workflow).",
    ]
    text = "\n".join(lines) + "\n"
    if len(text) > MARKDOWN_LIMIT:
        text = text[:MARKDOWN_LIMIT].rsplit("\n", 1)[0] + "\n\n(truncated: see the workflow run for the full list)\n"
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlops_tools.ops.drift", description=__doc__.splitlines()[0])
    parser.add_argument("digest", help="output of `pulumi refresh --preview-only --json`")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--markdown", help="write the Markdown report here")
    parser.add_argument("--verdict", help="write {stack, drift, changes, summary} as JSON here")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(build_parser(), argv)
    if isinstance(args, int):
        return args
    try:
        digest = load_digest(Path(args.digest))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    result = verdict(args.stack, digest)
    report = markdown(args.stack, digest)
    for target, content in ((args.markdown, report), (args.verdict, json.dumps(result, sort_keys=True) + "\n")):
        if target:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text(content, encoding="utf-8")
    print(report, end="")
    return EXIT_DRIFT if result["drift"] else 0


if __name__ == "__main__":
    sys.exit(main())
