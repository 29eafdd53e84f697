"""Issue 16 item 8: ``analyze``'s wall-time limit reaches inside a running backend.

The long loops (FSP expansions and GMRES steps, SSA ensemble chunks, ODE integrations)
stop with one SimulationError line once the analysis' hard deadline (limit + grace) has
passed; outside an analysis nothing changes."""

from __future__ import annotations

import time

import pytest

import sbmlnoise as sn
from sbmlnoise import _deadline

THREE_D = """model m
=> A; 40; A => ; A
=> B; 40; B => ; B
A + B => C; 0.01*A*B
C => ; C
A = 0; B = 0; C = 0
end"""
BD = "model bd; => X; 10; X => ; X; X = 0; end"


@pytest.fixture
def no_grace(monkeypatch):
    monkeypatch.setattr(_deadline, "GRACE_MIN", 0.0)
    monkeypatch.setattr(_deadline, "GRACE_FRACTION", 0.0)


def test_loops_stop_past_the_deadline(no_grace):
    net = sn.load(BD)
    with _deadline.limit(0.0):
        time.sleep(0.01)
        with pytest.raises(sn.SimulationError, match="fsp: projection 1 stopped.*wall-time"):
            sn.fsp(net)
        with pytest.raises(sn.SimulationError, match="ssa: the ensemble after 0 runs"):
            sn.ssa(net, times=[0.0, 1.0], runs=10, seed=1)
        with pytest.raises(sn.SimulationError, match="wall-time limit"):
            sn.simulate_ode(net, [0.0, 1e3])
    # outside an analysis: no limit
    assert _deadline.remaining() == float("inf")
    assert float(sn.fsp(net).stats.mean["X"]) == pytest.approx(10.0, rel=1e-6)


def test_inner_limit_never_extends_an_outer_one(no_grace):
    with _deadline.limit(0.5):
        outer = _deadline.remaining()
        with _deadline.limit(100.0):
            assert _deadline.remaining() <= outer
        assert _deadline.clip(300.0) <= 0.5
    assert _deadline.clip(300.0) == 300.0


def test_the_first_answer_still_comes_within_the_grace_period():
    # the limit has passed before the first backend starts; BD's FSP needs no expansion
    rep = sn.analyze(BD, method="all", seed=1, trajectories=0, thermo=None,
                     wall_time=1e-9, budget=1e9)
    assert rep.primary == "fsp"


@pytest.mark.slow
def test_a_long_fsp_solve_stops_near_the_limit():
    """A 356,000-state three-species FSP takes about 55 s here (incomplete LU 10 s, then
    GMRES); with wall_time=2 the GMRES stops at its next step and the LNA answers."""
    t0 = time.perf_counter()
    rep = sn.analyze(THREE_D, method="all", wall_time=2, max_states=2_000_000, budget=1e9,
                     trajectories=0, thermo=None, seed=1)
    elapsed = time.perf_counter() - t0
    assert rep.primary == "lna"
    assert "wall-time limit" in rep.skipped["fsp"]
    assert elapsed < 35.0, elapsed


def test_an_ensemble_with_enough_runs_stops_at_the_limit_and_keeps_them():
    # past the soft limit (the wall time itself, before the grace) an ensemble that has
    # min_runs finished returns them, says so, and its moments are those of those runs
    net = sn.load(BD)
    with _deadline.limit(0.0):  # grace 1 s: the hard deadline is still ahead
        ens = sn.ssa(net, times=[0.0, 5.0], runs=400, seed=1, min_runs=16)
    assert ens.runs == 16 and "16 of 400 runs" in ens.settings["stopped_early"]
    same = sn.ssa(net, times=[0.0, 5.0], runs=16, seed=1)
    assert float(ens.mean["X"].iloc[-1]) == pytest.approx(float(same.mean["X"].iloc[-1]))
    # without min_runs nothing changes before the hard deadline
    with _deadline.limit(0.0):
        full = sn.ssa(net, times=[0.0, 5.0], runs=400, seed=1)
    assert full.runs == 400 and "stopped_early" not in full.settings
