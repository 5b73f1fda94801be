"""Drift verdicts from `pulumi refresh --preview-only --json` (the CLI's preview digest)."""

from __future__ import annotations

import json

from mlops_tools.ops import drift

BUCKET_URN = "urn:pulumi:prod::mlops-platform::mlops:tracking:TrackingServer$aws:s3/bucketV2:BucketV2::artifacts"


def write(tmp_path, digest) -> str:
    path = tmp_path / "prod.json"
    path.write_text(json.dumps(digest))
    return str(path)


def test_no_drift(tmp_path, capsys):
    path = write(tmp_path, {"steps": [{"op": "same", "urn": BUCKET_URN}], "changeSummary": {"same": 42}})
    verdict_file = tmp_path / "v.json"
    assert drift.main(["--stack", "prod", path, "--verdict", str(verdict_file)]) == 0
    assert json.loads(verdict_file.read_text()) == {"stack": "prod", "drift": False, "changes": 0,
                                                    "summary": {"same": 42}}
    assert "no drift" in capsys.readouterr().out


def test_drift_is_reported_with_the_changed_properties(tmp_path, capsys):
    digest = {"steps": [{"op": "same", "urn": "urn:x"},
                        {"op": "update", "urn": BUCKET_URN, "diffReasons": ["versioning", "tags"]}],
              "changeSummary": {"same": 41, "update": 1}}
    markdown = tmp_path / "prod.md"
    assert drift.main(["--stack", "prod", write(tmp_path, digest), "--markdown", str(markdown)]) == drift.EXIT_DRIFT
    text = markdown.read_text()
    assert text.startswith("### Stack `prod`: 1 resource(s) drifted")
    assert "| update | `aws:s3/bucketV2:BucketV2` `artifacts` | tags, versioning |" in text
    assert capsys.readouterr().out == text


def test_unreadable_digest_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "bad.json").write_text("Error: stack 'prod' not found")
    assert drift.main(["--stack", "prod", str(tmp_path / "bad.json")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_json_that_is_not_a_preview_digest_is_rejected_not_no_drift(tmp_path, capsys):
    """A plan file, an empty object, or a digest with nonsense counts: exit 2 and say why, never "no drift"."""
    for document in ({}, {"resources": [], "outputs": {}}, {"changeSummary": {"update": "1"}}, {"changeSummary": {}, "steps": {}}):
        assert drift.main(["--stack", "prod", write(tmp_path, document)]) == 2, document
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "no drift" not in err
