"""SSA sample statistics of assignment-rule variables inside ``analyze`` (issue 12 item 3),
checked against the exact law of two independent birth-death species (Poisson marginals,
computed independently here by direct summation), within 4 of the reported standard
errors (fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import sbmlnoise as sn
from sbmlnoise.analysis._rule_stats import ssa_rule_rows

MODEL = """model r
=> A; k; A => ; g*A
=> B; k2; B => ; g*B
T := A + B
frac := A / (A + 3)
k = 5; k2 = 2; g = 1; A = 0; B = 0
end"""
K = 3.0


def _exact_frac(lam: float) -> tuple[float, float]:
    n = np.arange(0, 200)
    p = stats.poisson.pmf(n, lam)
    f = n / (n + K)
    mean = float(p @ f)
    return mean, float(p @ f ** 2) - mean ** 2


def _check(row, mean, variance, n_se=4.0):
    assert abs(row["mean"] - mean) < n_se * row["mean_stderr"], (row, mean)
    assert abs(row["variance"] - variance) < n_se * row["variance_stderr"], (row, variance)
    sd = math.sqrt(variance)
    assert abs(row["sd"] - sd) < n_se * row["sd_stderr"]
    assert abs(row["cv"] - sd / mean) < n_se * row["cv_stderr"]
    # the errors are informative, not huge: a few percent of the value here
    assert 0 < row["mean_stderr"] < 0.05 * abs(mean)


def test_stationary_ssa_rows_match_the_poisson_law():
    rep = sn.analyze(MODEL, method="ssa", seed=7, trajectories=0, thermo=None,
                     ssa_events=1e6)
    tab = rep.assignment_statistics.set_index(["variable", "method"])
    t = tab.loc[("T", "ssa")]
    _check(t, 7.0, 7.0)  # A + B ~ Poisson(5 + 2)
    _check(tab.loc[("frac", "ssa")], *_exact_frac(5.0))
    assert "batch means" in t["approximation"]
    # FSP/LNA rows carry no sampling error
    rep2 = sn.analyze(MODEL, method="lna", trajectories=0, thermo=None)
    assert math.isnan(rep2.assignment_statistics["mean_stderr"].iloc[0])


def test_time_point_ssa_rows_match_the_poisson_law():
    t = 0.7
    rep = sn.analyze(MODEL, method="ssa", seed=3, trajectories=0, thermo=None, time=t,
                     ssa_runs=4000)
    tab = rep.assignment_statistics.set_index(["variable", "method"])
    decay = 1.0 - math.exp(-t)  # from 0: A(t) ~ Poisson(5 (1 - e^-t)), B ~ Poisson(2 (...))
    _check(tab.loc[("T", "ssa")], 7.0 * decay, 7.0 * decay)
    _check(tab.loc[("frac", "ssa")], *_exact_frac(5.0 * decay))
    assert "4000 SSA runs" in tab.loc[("frac", "ssa"), "approximation"]


def test_rows_from_given_samples_and_error_calibration():
    """Independent Poisson draws as an 'ensemble': the between-run errors cover the truth
    at about their nominal rate (200 repetitions, seed 0; 95% nominal, >= 88% required)."""
    net = sn.load(MODEL)
    rng = np.random.default_rng(0)
    mean_f, var_f = _exact_frac(5.0)
    hits = {"mean": 0, "variance": 0, "cv": 0}
    reps = 200
    for _ in range(reps):
        states = np.column_stack([rng.poisson(5.0, 400), rng.poisson(2.0, 400)])
        row = {r["variable"]: r for r in ssa_rule_rows(net, {"kind": "ensemble",
                                                             "states": states})}["frac"]
        truth = {"mean": mean_f, "variance": var_f, "cv": math.sqrt(var_f) / mean_f}
        for q in hits:
            hits[q] += abs(row[q] - truth[q]) < 1.96 * row[f"{q}_stderr"]
    assert all(h >= 0.88 * reps for h in hits.values()), hits


def test_given_grid_samples_are_used_and_undefined_rules_left_out():
    net = sn.load("""model z
    => X; 1; X => ; X
    r := 1 / X
    s := 2 * X
    X = 0
    end""")
    states = np.repeat(np.array([[0.0], [1.0], [2.0], [3.0]]), 16, axis=0)
    rows = ssa_rule_rows(net, {"kind": "grid", "states": states, "n_batches": 4})
    assert [r["variable"] for r in rows] == ["s"]  # 1/X is undefined at X = 0
    # each batch holds a single state: the batch means are 0, 2, 4, 6
    assert rows[0]["mean"] == pytest.approx(3.0)
    assert rows[0]["variance"] == pytest.approx(5.0)
    assert rows[0]["mean_stderr"] == pytest.approx(np.std([0, 2, 4, 6], ddof=1) / 2)


def test_ssa_rule_rows_are_shown_in_terminal_json_and_html(tmp_path):
    import json
    rep = sn.analyze(MODEL, method="ssa", seed=2, trajectories=0, thermo=None,
                     ssa_events=2e5)
    text = rep.summary()
    line = next(x for x in text.splitlines() if x.startswith("frac"))
    assert "ssa" in line and "\u00b1" in line
    data = json.loads(open(rep.to_json(tmp_path / "r.json"), encoding="utf-8").read())
    row = next(r for r in data["assignment_statistics"] if r["variable"] == "T")
    assert row["method"] == "ssa" and row["mean_stderr"] > 0
    page = open(rep.to_html(tmp_path / "r.html"), encoding="utf-8").read()
    section = page[page.index('id="rules"'):]
    assert "frac" in section and "\u00b1" in section.split("</table>")[0]


def test_rules_reading_parameters_changed_by_events_have_no_ssa_row():
    net = sn.load("""model e
    => X; 5; X => ; X
    a := X * q
    b := 2 * X
    q = 1; X = 0
    E1: at time > 0.5: q = 3
    end""")
    states = np.arange(20, dtype=float).reshape(-1, 1)
    rows = ssa_rule_rows(net, {"kind": "ensemble", "states": states, "time": 1.0})
    assert [r["variable"] for r in rows] == ["b"]
    assert rows[0]["mean"] == pytest.approx(19.0)  # 2 * mean(0..19)


def test_rule_time_course_matches_the_poisson_law_and_the_species_time_course(tmp_path):
    """Events make the analysis a time course; from A = B = 0, A(t) + B(t) is
    Poisson(7 (1 - e^-t)) at every t. The rule rows come from the same runs as the species
    time course (replayed from its seed): T's mean equals mean A + mean B exactly."""
    import json
    model = MODEL.replace("end", "at time > 100: k = 5\nend")
    rep = sn.analyze(model, seed=4, thermo=None, trajectories=0)
    assert rep.time_course is not None
    frame = rep.assignment_time_course()
    tc = rep.time_course
    for t in tc.times[1:]:
        row = frame.loc[(float(t), "T")]
        lam = 7.0 * (1.0 - math.exp(-float(t)))
        assert abs(row["mean"] - lam) < 4.5 * row["mean_stderr"], (t, row["mean"], lam)
        assert abs(row["variance"] - lam) < 4.5 * row["variance_stderr"]
        assert row["mean"] == pytest.approx(float(tc.mean.loc[t, "A"] + tc.mean.loc[t, "B"]),
                                            rel=1e-12)
    data = json.loads(open(rep.to_json(tmp_path / "r.json"), encoding="utf-8").read())
    assert {r["variable"] for r in data["assignment_time_course"]} == {"T", "frac"}
    page = open(rep.to_html(tmp_path / "r.html"), encoding="utf-8").read()
    assert "Over time (SSA ensemble of the time course)" in page


def test_stationary_rows_use_the_ssa_run_itself(monkeypatch):
    """The stationary SSA exposes its sampled path: the rule rows come from the same run as
    the species numbers (no second simulation), so T's mean is A's plus B's grid mean."""
    import sbmlnoise.analysis._rule_stats as rs

    def no_rerun(*args, **kwargs):
        raise AssertionError("the rule rows re-simulated instead of using the run's samples")

    monkeypatch.setattr(rs, "ssa_samples_for", no_rerun)
    rep = sn.analyze(MODEL, method="ssa", seed=11, trajectories=0, thermo=None,
                     ssa_events=3e5)
    st = rep.statistics["ssa"]
    grid = st.extra["samples"]["states"]
    tab = rep.assignment_statistics.set_index(["variable", "method"])
    row = tab.loc[("T", "ssa")]
    assert row["mean"] == pytest.approx(float(grid.sum(axis=1).mean()), rel=1e-12)
    _check(row, 7.0, 7.0)
