"""SBML Test Suite semantic cases (../shared/sbml-test-suite/semantic), scored with each
case's own absolute/relative tolerances against the suite's expected results."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sbmlnoise.conformance.semantic import run_semantic


#: cases that take more than a second each (thousands of random-order events, long
#: stiff runs): scored by the full run under -m slow only
SLOW_CASES = {"00952", "00953", "00962", "00963", "00964", "00966", "01466", "01588",
              "01589", "01591", "01592", "01593", "01599", "01626", "01627"}
#: passes measured on the full semantic folder (1,457 cases) with this branch: 1,448
#: (99.4 %); the full run must not fall below it
MIN_FULL_PASS = 1448


def _sample(manifest: dict) -> list[str]:
    """Every core and events case, plus the first case of every other component / test
    tag (package and extended groups) that is not in SLOW_CASES."""
    chosen, seen = [], set()
    for cid in sorted(manifest):
        entry = manifest[cid]
        if entry["group"] in ("core", "events"):
            chosen.append(cid)
            continue
        tags = set(entry["comp"]) | set(entry["tests"]) | set(entry.get("pk", []))
        if tags - seen and cid not in SLOW_CASES:
            chosen.append(cid)
            seen |= tags
    return chosen


def _check(report: dict, manifest: dict) -> None:
    cases = report["cases"]
    bad = {cid: e for cid, e in cases.items() if e["status"] in ("fail", "error")}
    assert not bad, bad
    for group in ("core", "events"):
        not_passing = {cid: e for cid, e in cases.items()
                       if manifest[cid]["group"] == group and e["status"] != "pass"}
        assert not not_passing, not_passing
    for entry in cases.values():
        if entry["status"] == "unsupported":
            assert entry["reason"]


def test_semantic_suite_sample(suite_dir):
    manifest = json.loads((suite_dir / "MANIFEST.json").read_text(encoding="utf-8"))["semantic"]
    sample = _sample(manifest)
    report = run_semantic(suite_dir / "semantic", cases=",".join(str(int(c)) for c in sample))
    assert set(report["cases"]) == set(sample)
    _check(report, manifest)
    # every non-core tag representative passes, except hierarchical models whose
    # external files are not in the suite folder
    others = {cid: e for cid, e in report["cases"].items() if e["status"] != "pass"}
    assert all("comp:" in e["reason"] for e in others.values()), others


@pytest.mark.slow
def test_semantic_suite_full(suite_dir):
    manifest = json.loads((suite_dir / "MANIFEST.json").read_text(encoding="utf-8"))["semantic"]
    report = run_semantic(suite_dir / "semantic")
    assert set(report["cases"]) == set(manifest)
    _check(report, manifest)
    assert report["summary"]["pass"] >= MIN_FULL_PASS, report["summary"]


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
