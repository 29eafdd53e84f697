"""analyze on models that move (issue 13): the time-course backend answers when no
stationary method does, checked against closed forms."""

from __future__ import annotations

import math

import pytest

import sbmlnoise as sn

SIN_BIRTH = """model sinbirth
=> X; k0*(1 + sin(w*time)); X => ; g*X
k0 = 10; w = 1; g = 1; X = 0
end"""


def test_time_dependent_birth_rate_gets_an_exact_time_course():
    """m' = k0 (1 + sin w t) - g m, m(0) = 0; the count is Poisson with mean m(t)."""
    rep = sn.analyze(SIN_BIRTH, seed=3, thermo=None, trajectories=0)
    assert rep.primary == "timecourse"
    st = rep.statistics["timecourse"]
    t = st.time
    k0, w, g = 10.0, 1.0, 1.0
    exact = k0 / g * (1 - math.exp(-g * t)) + k0 * (
        g * math.sin(w * t) - w * math.cos(w * t) + w * math.exp(-g * t)) / (g * g + w * w)
    se = float(st.stderr["mean"]["X"])
    assert abs(float(st.mean["X"]) - exact) < 4.5 * se
    assert abs(float(st.variance["X"]) - exact) < 4.5 * float(st.stderr["variance"]["X"])
    assert rep.settings["stationary"] is False and rep.settings["time"] == pytest.approx(t)
    assert {"fsp", "lna", "ssa"} <= set(rep.skipped)
    assert rep.time_course is not None


def test_huge_counts_without_a_fixed_point_get_the_time_dependent_lna():
    """Unbounded linear growth in mole units (1e23 molecules): no stationary law, no
    simulation possible; the time-dependent LNA is exact for linear propensities."""
    model = """model grow
    unit substance = mole
    compartment c = 1; species A in c
    => A; k*c
    k = 0.5; A = 1
    end"""
    rep = sn.analyze(model, seed=1, thermo=None, trajectories=0)
    st = rep.statistics[rep.primary]
    assert st.method == "timecourse:lna"
    omega = rep.settings["system_size"]
    t = st.time
    mean = (1.0 + 0.5 * t) * omega
    assert float(st.mean["A"]) == pytest.approx(mean, rel=1e-6)
    # constant-rate births on a deterministic start: variance = k t Omega (Poisson part)
    assert float(st.variance["A"]) == pytest.approx(0.5 * t * omega, rel=1e-6)
