"""DSMTS (SBML Test Suite stochastic cases) through the exact SSA.

Criteria (sbmlnoise/conformance/stochastic.py): at every time point the mean statistic
sqrt(N)(mean_sim - mean)/sd must lie in [-3, 3] and the variance statistic
sqrt(N/2)(var_sim/sd^2 - 1) in [-5, 5]; a case passes with at most 1 % (at least one)
of its statistics outside.

Default run: every case with N = 1000 runs (seed 1), except 00003 with N = 10,000.
00003 is a critical branching process (birth 1, death 1.1, X(0) = 100) whose counts
are so heavy-tailed that the sample variance's spread is several times the normal
theory the sdRange assumes: at N = 1000 it fails for about 2 of 5 seeds (checked with
seeds 1-5), at N = 10,000 it passes. The slow test runs all cases at N = 10,000 as the
DSMTS guide prescribes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sbmlnoise.conformance.common import write_json
from sbmlnoise.conformance.stochastic import run_stochastic

SUITE = Path("/work/shared/sbml-test-suite/stochastic")
HEAVY_TAILED = "3"

pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason="DSMTS cases not present")


def _all_but(case: str) -> str:
    ids = sorted(int(p.name) for p in SUITE.iterdir() if p.is_dir() and p.name.isdigit())
    return ",".join(str(i) for i in ids if i != int(case))


def _check(report: dict) -> None:
    failed = {cid: e["reason"] for cid, e in report["cases"].items() if e["status"] != "pass"}
    assert not failed, failed
    for entry in report["cases"].values():
        assert entry["checked"] > 0 and entry["runs"] == report["runs"]
        assert {"status", "reason", "checked", "mean_out", "var_out", "runs"} <= set(entry)


def test_dsmts_default_runs(tmp_path):
    report = run_stochastic(SUITE, runs=1000, cases=_all_but(HEAVY_TAILED), seed=1)
    assert report["suite"] == "stochastic"
    assert report["summary"]["pass"] == len(report["cases"]) >= 30
    _check(report)
    heavy = run_stochastic(SUITE, runs=10_000, cases=HEAVY_TAILED, seed=1)
    _check(heavy)
    out = tmp_path / "stochastic.json"
    write_json(report, out)
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["pass"] == len(report["cases"])


def test_event_cases_exact_at_reset():
    """00028/00032: the t >= 25 event resets the state exactly at t = 25 (sd 0 there),
    so those points are checked for exact equality of the mean."""
    seen = []
    report = run_stochastic(SUITE, runs=200, cases="28,32", seed=3,
                            progress=lambda cid, e: seen.append(cid))
    assert seen == ["00028", "00032"]
    for entry in report["cases"].values():
        assert entry["status"] == "pass", entry["reason"]


def test_bad_runs_argument():
    with pytest.raises(ValueError):
        run_stochastic(SUITE, runs=1)


@pytest.mark.slow
def test_dsmts_ten_thousand_runs():
    report = run_stochastic(SUITE, runs=10_000, seed=2)
    _check(report)
