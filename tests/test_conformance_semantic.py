"""SBML Test Suite semantic cases (../shared/sbml-test-suite/semantic), scored with each
case's own absolute/relative tolerances against the suite's expected results."""

from __future__ import annotations

import json
import subprocess
import sys

from sbmlnoise.conformance.semantic import run_semantic


def test_semantic_suite(suite_dir):
    manifest = json.loads((suite_dir / "MANIFEST.json").read_text(encoding="utf-8"))["semantic"]
    report = run_semantic(suite_dir / "semantic")
    cases = report["cases"]
    assert set(cases) == set(manifest)
    core_bad = {cid: e for cid, e in cases.items()
                if manifest[cid]["group"] == "core" and e["status"] != "pass"}
    assert not core_bad, core_bad
    events_bad = {cid: e for cid, e in cases.items() if manifest[cid]["group"] == "events"
                  and e["status"] not in ("pass", "unsupported")}
    assert not events_bad, events_bad
    for entry in cases.values():
        if entry["status"] == "unsupported":
            assert entry["reason"]


def test_cli_writes_api_json(suite_dir, tmp_path):
    out = tmp_path / "semantic.json"
    proc = subprocess.run([sys.executable, "-m", "sbmlnoise", "conformance", "semantic",
                           str(suite_dir / "semantic"), "--cases", "1-12", "--json", str(out)],
                          capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) >= {"cases", "summary"}
    assert data["summary"]["pass"] == len(data["cases"]) > 0
    assert all(set(e) >= {"status", "reason"} for e in data["cases"].values())
    assert "summary: pass" in proc.stdout
