"""Rate equations against closed forms, and steady states."""

from __future__ import annotations

import numpy as np
import pytest

import sbmlnoise as sn

from conftest import bundled_path


def test_reversible_isomerisation_closed_form():
    net = sn.load("model m; R: A -> B; kf*A - kr*B; A = 10; B = 0; kf = 2; kr = 0.5; end")
    t = np.linspace(0, 3, 7)
    traj = sn.simulate_ode(net, t)
    total, lam = 10.0, 2.5
    a = total * (0.5 + 2 * np.exp(-lam * t)) / 2.5
    np.testing.assert_allclose(traj["A"], a, rtol=1e-7)
    np.testing.assert_allclose(traj["A"] + traj["B"], total, rtol=1e-10)


def test_stiff_system_is_integrated():
    # Robertson's problem: stiff; conservation A + B + C = 1 must hold
    net = sn.load("""model rob; R1: A => B; 0.04*A; R2: 2 B => B + C; 3e7*B^2;
                     R3: B + C => A + C; 1e4*B*C; A = 1; B = 0; C = 0; end""")
    traj = sn.simulate_ode(net, [0, 40, 1e4])
    np.testing.assert_allclose(traj.sum(axis=1), 1.0, rtol=1e-6)
    assert traj["A"].iloc[1] == pytest.approx(0.7158, rel=1e-3)  # Hairer & Wanner, t = 40


def test_times_are_validated():
    net = sn.load(bundled_path("birth_death"))
    for bad in ([2, 1], [-1, 0], []):
        with pytest.raises(ValueError):
            sn.simulate_ode(net, bad)


def test_steady_state_of_closed_system_respects_conservation():
    net = sn.load("model m; R: A + B -> C; k1*A*B - k2*C; A = 4; B = 2; C = 0; k1 = 1; k2 = 2; end")
    ss = sn.steady_state(net)
    c = ss["C"]
    assert ss["A"] + c == pytest.approx(4)
    assert ss["B"] + c == pytest.approx(2)
    assert ss["A"] * ss["B"] == pytest.approx(2 * c)


def test_steady_state_closed_forms_of_bundled_models():
    assert sn.steady_state(sn.load(bundled_path("birth_death")))["X"] == pytest.approx(10)
    ss = sn.steady_state(sn.load(bundled_path("telegraph")))
    assert ss["M"] == pytest.approx(20 * 0.5 / 2.5)
    assert ss["G_on"] == pytest.approx(0.2)


def test_oscillator_has_no_stable_steady_state():
    with pytest.raises(sn.NoSteadyState, match="eigenvalues"):
        sn.steady_state(sn.load(bundled_path("repressilator")))


def test_unbounded_growth_has_no_steady_state():
    with pytest.raises(sn.NoSteadyState):
        sn.steady_state(sn.load("model m; => X; k; k = 1; X = 0; end"))


@pytest.mark.parametrize("name", ["telegraph", "dimerisation", "autoregulation",
                                  "toggle_switch", "three_state_cycle", "repressilator"])
def test_time_course_matches_libroadrunner(name):
    roadrunner = pytest.importorskip("roadrunner")
    path = bundled_path(name)
    net = sn.load(path)
    rr = roadrunner.RoadRunner(str(path))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-12
    rr.timeCourseSelections = ["time"] + list(net.species_ids)  # amounts
    expected = rr.simulate(0, 20, 41)
    ours = sn.simulate_ode(net, expected[:, 0])
    np.testing.assert_allclose(ours.to_numpy(), expected[:, 1:], rtol=1e-5, atol=1e-7)


def test_femtolitre_mole_model_matches_libroadrunner():
    # amounts near 1e-22 mol (nanomolar in a 1e-15 L compartment): a fixed absolute
    # tolerance would integrate noise; the default scales with the model's amounts
    roadrunner = pytest.importorskip("roadrunner")
    text = """model fl
      compartment cell = 1e-15;
      species A in cell, B in cell;
      R1: A -> B; cell*(k1*A - k2*B);
      R2: => A; cell*v;
      R3: B => ; cell*g*B;
      A = 5e-9; B = 1e-9; k1 = 2; k2 = 0.5; v = 1e-9; g = 0.3;
    end"""
    net = sn.load(text)
    rr = roadrunner.RoadRunner(sn.antimony_to_sbml(text))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-35
    rr.timeCourseSelections = ["time", "A", "B"]
    expected = rr.simulate(0, 10, 21)
    ours = sn.simulate_ode(net, expected[:, 0]).to_numpy()
    np.testing.assert_allclose(ours, expected[:, 1:], rtol=1e-6)


def test_slow_oscillator_fails_fast_instead_of_integrating_for_hours():
    # a limit cycle (Brusselator) whose fixed point Newton misses from the initial state:
    # the bounded search must end with NoSteadyState, naming it unstable
    net = sn.load("""model bru; => X; a; 2 X + Y => 3 X; X^2*Y; X => Y; b*X; X => ; X;
                     a = 1; b = 3; X = 0.01; Y = 9; end""")
    with pytest.raises(sn.NoSteadyState) as info:
        sn.steady_state(net, max_evaluations=20_000)
    assert info.value.unstable
