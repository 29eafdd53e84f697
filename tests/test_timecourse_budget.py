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
