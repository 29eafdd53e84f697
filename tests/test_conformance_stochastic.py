"""DSMTS (SBML Test Suite stochastic cases) through the exact SSA.

Criteria (sbmlnoise/conformance/stochastic.py): at every time point the mean statistic
sqrt(N)(mean_sim - mean)/sd must lie in [-3, 3] and the variance statistic
sqrt(N/2)(var_sim/sd^2 - 1) in [-5, 5]; a case passes with at most 1 % (at least one)
of its statistics outside.

Even a correct simulator fails a case now and then: the statistics at the 51 time points
come from the same trajectories, so once the running mean sits near 3 SE it stays there
for many points. Measured at N = 1000 over seeds 1-6 (all cases but 00003): 5 failed
cases in 6 x 32 case-runs, never the same case twice. Case 00003 (near-critical branching,
birth 1, death 1.1, X(0) = 100) is so heavy-tailed that the sdRange criterion cannot be
met reliably: at t = 34 the surviving lineages (each ancestor survives with probability
0.003 and then has a geometric count with mean 10.7) give X an excess kurtosis of about
21, so the variance statistic sqrt(N/2)(s^2/sd^2 - 1) has standard deviation
sqrt((21 + 2)/2) = 3.4 instead of 1 and [-5, 5] is only +-1.5 of its standard
deviations, whatever N. It failed (variance statistic only, always positive: the sample
variance is right-skewed) for seeds 1, 3, 5 at N = 1000 and seed 2 at N = 10,000. For
00003 the tests require the mean criterion only.

Protocol of the default test (seed 1, N = 1000 for every case):
at most two cases may fail, and each failed case must pass when re-run with N = 2000 and
another seed (a real bias would make it fail again). The slow test runs every case at
N = 10,000 as the DSMTS guide prescribes and allows one chance failure that must pass on
a re-run.
"""

from __future__ import annotations

import json

import pytest

from sbmlnoise.conformance.common import write_json
from sbmlnoise.conformance.stochastic import run_stochastic

from conftest import SUITE as SUITE_ROOT

SUITE = SUITE_ROOT / "stochastic"
HEAVY_TAILED = "3"

pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason="DSMTS cases not present")


def _all_but(case: str) -> str:
    ids = sorted(int(p.name) for p in SUITE.iterdir() if p.is_dir() and p.name.isdigit())
    return ",".join(str(i) for i in ids if i != int(case))


def _check_shape(report: dict) -> None:
    assert report["suite"] == "stochastic"
    for entry in report["cases"].values():
        assert {"status", "reason", "checked", "mean_out", "var_out", "runs"} <= set(entry)
        assert entry["status"] in ("pass", "fail"), entry["reason"]
        assert entry["checked"] > 0 and entry["runs"] == report["runs"]


def _failed(report: dict) -> list[str]:
    return [cid for cid, e in report["cases"].items() if e["status"] != "pass"]


def _rerun_passes(failed: list[str], runs: int, seed: int) -> None:
    for cid in failed:
        again = run_stochastic(SUITE, runs=runs, cases=str(int(cid)), seed=seed)
        assert again["cases"][cid]["status"] == "pass", (cid, again["cases"][cid]["reason"])


def test_dsmts_default_runs(tmp_path):
    report = run_stochastic(SUITE, runs=1000, cases=_all_but(HEAVY_TAILED), seed=1)
    _check_shape(report)
    assert len(report["cases"]) >= 30
    failed = _failed(report)
    assert len(failed) <= 2, {c: report["cases"][c]["reason"] for c in failed}
    _rerun_passes(failed, runs=2000, seed=101)
    heavy = run_stochastic(SUITE, runs=1000, cases=HEAVY_TAILED, seed=1)
    _check_shape(heavy)
    assert heavy["cases"]["00003"]["mean_out"] <= 1, heavy["cases"]
    out = tmp_path / "stochastic.json"
    write_json(report, out)
    assert json.loads(out.read_text(encoding="utf-8"))["summary"] == report["summary"]


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
    report = run_stochastic(SUITE, runs=10_000, seed=2, cases=_all_but(HEAVY_TAILED))
    _check_shape(report)
    failed = _failed(report)
    assert len(failed) <= 1, {c: report["cases"][c]["reason"] for c in failed}
    _rerun_passes(failed, runs=10_000, seed=202)


@pytest.mark.slow
def test_dsmts_false_alarm_rate_matches_the_exact_null():
    """The DSMTS mean criterion fails an exact simulator by chance. For case 00020
    (immigration-death from 0: Poisson marginals, Cov(X(s), X(t)) = Var X(s) e^{-mu (t-s)})
    the ensemble-mean statistics are jointly Gaussian with a known correlation, which gives
    the criterion's exact false-alarm rate; our SSA must fail at that rate, no more
    (300 independent 1,000-run ensembles, seeds 20000-20299, 4 binomial standard errors)."""
    import numpy as np
    import pandas as pd

    import sbmlnoise as sn

    folder = SUITE / "00020"
    net = sn.load(folder / "00020-sbml-l3v2.xml")
    expected = pd.read_csv(folder / "00020-results.csv")
    t = expected["time"].to_numpy()
    alpha, mu = 1.0, 0.1
    var = alpha / mu * (1 - np.exp(-mu * t))
    ok = var > 0
    ti, tj = np.meshgrid(t[ok], t[ok], indexing="ij")
    vi, vj = np.meshgrid(var[ok], var[ok], indexing="ij")
    cov = np.where(ti <= tj, vi * np.exp(-mu * (tj - ti)), vj * np.exp(-mu * (ti - tj)))
    corr = cov / np.sqrt(np.outer(var[ok], var[ok]))
    z_null = np.random.default_rng(0).multivariate_normal(np.zeros(ok.sum()), corr, 200_000)
    p_null = np.mean((np.abs(z_null) > 3).sum(axis=1) > 1)
    runs, ensembles, fails = 1000, 300, 0
    for k in range(ensembles):
        mean = sn.ssa(net, times=t, runs=runs, seed=20_000 + k).mean["X"].to_numpy()
        z = np.sqrt(runs) * (mean[ok] - expected["X-mean"].to_numpy()[ok]) / \
            expected["X-sd"].to_numpy()[ok]
        fails += int((np.abs(z) > 3).sum() > 1)
    se = np.sqrt(p_null * (1 - p_null) / ensembles)
    assert abs(fails / ensembles - p_null) < 4 * se + 1e-3


# --------------------------------------------------------------------------- hybrid method
#: high-count cases (00005: X from 10,000; 00023: immigration-death to 10,000): at
#: N = 1000 the DSMTS mean criterion resolves a bias of about 0.1 %, below the O(epsilon)
#: weak error at the default epsilon = 0.03 (measured, seed 1: 00005 4 of 101 mean
#: statistics outside, 00023 43 of 101, up to 4.2), so they run at epsilon = 0.0005
HYBRID_HIGH_COUNT = "5,23"


def test_dsmts_hybrid_where_it_applies():
    """Every case but the heavy-tailed 00003 and the two high-count ones, hybrid method,
    default epsilon, N = 1000, seed 1 (about 2 s): the same protocol as the exact SSA
    (at most two chance failures, each passing on a re-run with N = 2000)."""
    skip = {int(HEAVY_TAILED)} | {int(c) for c in HYBRID_HIGH_COUNT.split(",")}
    ids = sorted(int(p.name) for p in SUITE.iterdir() if p.is_dir() and p.name.isdigit())
    cases = ",".join(str(i) for i in ids if i not in skip)
    report = run_stochastic(SUITE, runs=1000, cases=cases, seed=1, method="hybrid")
    _check_shape(report)
    assert report["method"] == "hybrid" and len(report["cases"]) >= 28
    failed = _failed(report)
    assert len(failed) <= 2, {c: report["cases"][c]["reason"] for c in failed}
    for cid in failed:
        again = run_stochastic(SUITE, runs=2000, cases=str(int(cid)), seed=101,
                               method="hybrid")
        assert again["cases"][cid]["status"] == "pass", again["cases"][cid]["reason"]


@pytest.mark.parametrize("method", ["hybrid", "tau_leap"])
def test_dsmts_high_count_cases_small_epsilon(method):
    """00005 and 00023 pass at epsilon = 0.0005 (2-7 s each method)."""
    report = run_stochastic(SUITE, runs=1000, cases=HYBRID_HIGH_COUNT, seed=1,
                            method=method, epsilon=0.0005)
    failed = _failed(report)
    assert not failed, {c: report["cases"][c]["reason"] for c in failed}


def test_rule_defined_output_is_scored_from_the_runs(tmp_path):
    """Issue 12: a DSMTS-style output defined by an assignment rule (y := 2 X) is scored
    from every run's value of the rule. Closed form: X(t) is Poisson with mean
    m(t) = k/g (1 - exp(-g t)) from X(0) = 0, so y has mean 2 m and sd 2 sqrt(m)."""
    import math

    import sbmlnoise as sn
    from sbmlnoise.conformance.stochastic import run_stochastic

    text = ("model rule_out; species X; => X; k; X => ; g*X; y := 2*X; k = 20; g = 1; "
            "X = 0; end")
    case = tmp_path / "00001"
    case.mkdir()
    (case / "00001-sbml-l3v2.xml").write_text(sn.antimony_to_sbml(text), encoding="utf-8")
    (case / "00001-settings.txt").write_text(
        "start: 0\nduration: 5\nsteps: 10\nvariables: y\nabsolute: \nrelative: \n"
        "amount: \nconcentration: \noutput: y-mean, y-sd\nmeanRange: (-3, 3)\n"
        "sdRange: (-5, 5)\n", encoding="utf-8")
    rows = ["time,y-mean,y-sd"]
    for k in range(11):
        t = 0.5 * k
        m = 20.0 * (1.0 - math.exp(-t))
        rows.append(f"{t:g},{2 * m:.10g},{2 * math.sqrt(m):.10g}")
    (case / "00001-results.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = run_stochastic(tmp_path, runs=2000, seed=5)
    entry = report["cases"]["00001"]
    assert entry["status"] == "pass", entry
    assert entry["checked"] > 10
