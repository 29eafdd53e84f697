"""The time-course backend fits its exact-SSA ensemble to the event budget: fewer runs,
then a shorter window, said in the window note -- and the answer at that time is exact."""

import math

import pytest

import sbmlnoise as sn

# a gene switching 2e4 times per unit time with one copy (no approximation is valid: the
# exact SSA must run) and a slow product; an event far in the future makes the stationary
# backends refuse. From Goff = 1 the probability that the gene is on at time t is
# p(t) = kon (1 - exp(-(kon + koff) t)) / (kon + koff) exactly (a two-state chain).
FAST = """
model fast
  Goff => Gon; kon*Goff
  Gon => Goff; koff*Gon
  Gon => Gon + X; b*Gon
  X => ; g*X
  E1: at time > 1e9: b = 2*b
  kon = 1e4; koff = 1e4; b = 0.01; g = 1e-3
  Goff = 1; Gon = 0; X = 0
end
"""


def test_window_is_cut_to_the_event_budget_and_the_answer_is_exact():
    rep = sn.analyze(FAST, seed=3, trajectories=0, thermo=None)
    assert rep.primary == "timecourse"
    st = rep.statistics["timecourse"]
    note = st.settings["window"]
    assert "cut to" in note and "event budget" in note, note
    assert st.settings["runs"] == 100
    t = float(st.time)
    assert 0 < t < 5.0  # instead of the 5000 of 5 slowest relaxation times
    p = 0.5 * (1 - math.exp(-2e4 * t))
    se = float(st.stderr["mean"]["Gon"])
    assert abs(float(st.mean["Gon"]) - p) < 5 * se
    assert float(st.variance["Gon"]) == pytest.approx(p * (1 - p), abs=0.05)


def test_approximate_ensembles_are_sized_by_a_timed_pilot():
    from sbmlnoise.analysis._timecourse_backend import MIN_RUNS, RUNS, runs_for_seconds
    assert runs_for_seconds(0.001, 20.0) == RUNS            # cheap: the full ensemble
    assert runs_for_seconds(0.1, 20.0) == 200               # 20 s at 0.1 s per run
    assert runs_for_seconds(10.0, 20.0) == MIN_RUNS         # never below the jackknife floor
    assert runs_for_seconds(float("nan"), 20.0) == RUNS


def test_cle_time_course_records_its_runs():
    # birth-death at 1e5 molecules with an event (that restates k): the CLE answers the
    # time course. (An event at t = 1e9 puts the end of the window so far that the runs
    # reach their step cap early, and the time-dependent LNA answers instead.)
    model = """model big
      => X; k
      X => ; g*X
      E1: at time > 20: k = 1e5
      k = 1e5; g = 1; X = 1e5
    end"""
    rep = sn.analyze(model, seed=5, trajectories=0, thermo=None)
    st = rep.statistics["timecourse"]
    assert st.settings["ssa_method"] in ("cle", "tau_leap", "hybrid")
    assert _runs_in_range(st.settings["runs"])
    assert float(st.time) > 20
    # stationary from the start: Poisson(k/g) at every time, so mean 1e5 and Fano 1
    assert abs(float(st.mean["X"]) - 1e5) < 5 * float(st.stderr["mean"]["X"])
    assert float(st.fano["X"]) == pytest.approx(1.0, abs=5 * float(st.stderr["fano"]["X"]))


def test_late_event_window_beyond_the_step_cap_gets_the_lna():
    # the window runs to 5 relaxation times after t = 1e9: the CLE runs reach their step
    # cap long before, and the time-dependent LNA (exact moments for this linear model)
    # answers over the whole window
    model = """model big
      => X; k
      X => ; g*X
      E1: at time > 1e9: k = 2*k
      k = 1e5; g = 1; X = 1e5
    end"""
    rep = sn.analyze(model, seed=5, trajectories=0, thermo=None)
    st = rep.statistics["timecourse"]
    assert st.method == "timecourse:lna"
    assert "step cap" in st.settings["approximation"]
    t = float(st.time)
    assert t > 1e9
    mean = 2e5 - 1e5 * math.exp(-(t - 1e9))
    assert float(st.mean["X"]) == pytest.approx(mean, rel=1e-5)
    assert float(st.fano["X"]) == pytest.approx(1.0, rel=1e-4)


def _runs_in_range(runs):
    from sbmlnoise.analysis._timecourse_backend import MIN_RUNS, RUNS
    return MIN_RUNS <= runs <= RUNS
