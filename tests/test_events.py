"""SBML events without delay (sbmlnoise.ode._events) against closed forms, libroadrunner and
the SBML Test Suite.

Closed forms are exact solutions of the piecewise-linear ODEs between events; the
tolerance is stated per test (solver rtol 1e-10, atol 1e-13 unless given).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise.errors import SimulationError
from sbmlnoise.ode._events import simulate_with_events

RTOL, ATOL = 1e-10, 1e-13


def _run(text, times, **kwargs):
    net = sn.load(text)
    kwargs.setdefault("rtol", RTOL)
    kwargs.setdefault("atol", ATOL)
    amounts, params = simulate_with_events(net, np.asarray(times, float), **kwargs)
    return net, amounts, params


def _param(net, params, pid):
    j = net.parameter_ids.index(pid)
    return params[:, j] if params is not None else np.full(1, net.parameter_values[j])


# --------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("method", ["LSODA", "BDF", "RK45"])
def test_time_triggered_reset_matches_exponential(method):
    """X' = -k X, X(0) = 10, reset X = 10 at time >= 2: X = 10 exp(-k (t - t_last))."""
    k = 0.7
    text = f"model m; X -> ; k*X; k = {k}; X = 10; E1: at (time >= 2): X = 10; end"
    times = np.linspace(0.0, 5.0, 51)  # contains t = 2 exactly
    net, amounts, params = _run(text, times, method=method)
    t_last = np.where(times >= 2.0, 2.0, 0.0)
    exact = 10.0 * np.exp(-k * (times - t_last))
    assert params is None  # no parameter is assigned
    np.testing.assert_allclose(amounts[:, net.index("X")], exact, rtol=1e-6)
    # the output at the event time shows the state after the event
    assert amounts[20, 0] == pytest.approx(10.0, rel=1e-12)


def test_state_trigger_fires_at_analytic_crossing_time():
    """Reset X = X0 when X < thr under X' = -k X: period T = ln(X0/thr)/k, so
    X(t) = X0 exp(-k (t mod T)); checked over five periods to relative 1e-6."""
    k, x0, thr = 1.3, 8.0, 1.0
    period = math.log(x0 / thr) / k
    text = f"model m; X -> ; k*X; k = {k}; X = {x0}; E1: at (X < {thr}): X = {x0}; end"
    times = np.linspace(0.0, 5 * period + 0.3, 401)
    phase = np.mod(times, period)
    net, amounts, _ = _run(text, times)
    exact = x0 * np.exp(-k * phase)
    away = np.minimum(phase, period - phase) > 1e-6  # skip points within 1e-6 of a reset
    np.testing.assert_allclose(amounts[away, 0], exact[away], rtol=1e-6)
    # the first crossing: X just before ln(8)/k is near thr, just after it is x0
    net, amounts, _ = _run(text, [0.0, period - 1e-7, period + 1e-7])
    assert amounts[1, 0] == pytest.approx(thr, rel=1e-6)
    assert amounts[2, 0] == pytest.approx(x0, rel=1e-6)


def test_event_changing_a_parameter_changes_the_rate():
    """-> X at rate k; k: 1 -> 3 when X >= 2.5: X = t, then 2.5 + 3 (t - 2.5)."""
    text = "model m; -> X; k; k = 1; X = 0; E1: at (X >= 2.5): k = 3; end"
    times = np.linspace(0.0, 4.0, 41)
    net, amounts, params = _run(text, times)
    exact = np.where(times < 2.5, times, 2.5 + 3.0 * (times - 2.5))
    np.testing.assert_allclose(amounts[:, 0], exact, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(_param(net, params, "k"), np.where(times < 2.5, 1.0, 3.0))


def test_piecewise_rate_with_event_matches_closed_form():
    """Rate 2 while X < 3, else 0.5; X = 0 at t = 4. X = 2t to 3 at t = 1.5, then
    3 + (t - 1.5)/2; after the reset the same from t = 4. Absolute 1e-8 (the
    integrator restarts at the rate switch instead of stepping over it)."""
    text = "model m; -> X; piecewise(2, X < 3, 0.5); X = 0; E1: at (time >= 4): X = 0; end"
    times = np.linspace(0.0, 6.0, 61)
    since = np.where(times >= 4.0, times - 4.0, times)
    exact = np.where(since < 1.5, 2.0 * since, 3.0 + 0.5 * (since - 1.5))
    _, amounts, _ = _run(text, times)
    np.testing.assert_allclose(amounts[:, 0], exact, rtol=0, atol=1e-8)


def test_initial_value_false_fires_at_time_zero():
    """initialValue=false and a trigger true at t=0: fires at t=0 (EventT0Firing);
    initialValue=true: no transition, no firing."""
    text = """model m
    X -> ; k*X; k = 1; X = 0; Y = 0
    E1: at (time >= 0), t0 = false: X = 3
    E2: at (time >= 0), t0 = true: Y = 3
    end"""
    times = np.array([0.0, 1.0, 2.0])
    net, amounts, params = _run(text, times)
    np.testing.assert_allclose(amounts[:, net.index("X")], 3.0 * np.exp(-times), rtol=1e-8)
    np.testing.assert_array_equal(_param(net, params, "Y"), 0.0)


@pytest.mark.parametrize("p_double, p_inc, expected", [(2, 1, 3.0), (1, 2, 4.0)])
def test_priorities_order_simultaneous_events(p_double, p_inc, expected):
    """Both fire at t = 1; values computed at execution (fromTrigger = false).
    Doubling first then +1: 1*2+1 = 3; +1 first then doubling: (1+1)*2 = 4."""
    text = f"""model m
    X -> ; k*X; k = 1; X = 1; Y = 1
    E1: at (time >= 1), priority = {p_double}, fromTrigger = false: Y = Y*2
    E2: at (time >= 1), priority = {p_inc}, fromTrigger = false: Y = Y + 1
    end"""
    net, amounts, params = _run(text, [0.0, 0.5, 1.5])
    np.testing.assert_array_equal(_param(net, params, "Y"), [1.0, 1.0, expected])


@pytest.mark.parametrize("p_ten, p_twenty, expected", [(2, 1, 20.0), (1, 2, 10.0)])
def test_priorities_with_values_from_trigger_time(p_ten, p_twenty, expected):
    """Values computed at trigger time; the event executed last (lower priority) wins."""
    text = f"""model m
    X -> ; k*X; k = 1; X = 1; Y = 0
    E1: at (time >= 1), priority = {p_ten}: Y = 10
    E2: at (time >= 1), priority = {p_twenty}: Y = 20
    end"""
    net, amounts, params = _run(text, [0.0, 2.0])
    assert _param(net, params, "Y")[-1] == expected


def test_cascade_at_one_instant():
    """E1 at t = 1.05 sets A = 1, which makes E2's trigger true at the same instant;
    E2 fires once (B = 3) and adds 1 to X."""
    text = """model m
    X -> ; k*X; k = 1; X = 10; A = 0; B = 0
    E1: at (time >= 1.05): A = 1
    E2: at (A > 0.5): B = B + 3, X = X + 1
    end"""
    times = np.array([0.0, 1.0, 1.1, 3.0])
    net, amounts, params = _run(text, times)
    np.testing.assert_array_equal(_param(net, params, "B"), [0.0, 0.0, 3.0, 3.0])
    x_event = 10.0 * math.exp(-1.05) + 1.0
    np.testing.assert_allclose(amounts[2:, 0], x_event * np.exp(-(times[2:] - 1.05)), rtol=1e-8)


@pytest.mark.parametrize("persistent, expected", [("false", 0.0), ("true", 5.0)])
def test_non_persistent_event_is_dropped_when_its_trigger_turns_false(persistent, expected):
    """E1 (higher priority) executes first and makes E2's trigger false: a
    non-persistent E2 is dropped, a persistent one still executes."""
    text = f"""model m
    X -> ; k*X; k = 1; X = 10; f = 1; Y = 0
    E1: at (time >= 1), priority = 10: f = 0
    E2: at (time >= 1 && f > 0.5), priority = 1, persistent = {persistent}: Y = 5
    end"""
    net, amounts, params = _run(text, [0.0, 2.0])
    assert _param(net, params, "Y")[-1] == expected


def test_boolean_combinations_in_triggers():
    """and/or triggers: X = 10 e^{-t}; E1 when X < 5 and t > 1 (t = 1 since X(1) < 5)
    ... E2 when X < 2 (t = ln 5) or t > 3.3 -- one transition each, Y counts them."""
    text = """model m
    X -> ; k*X; k = 1; X = 10; Y = 0
    E1: at (X < 5 && time > 1): Y = Y + 1
    E2: at (X < 2 || time > 3.3): Y = Y + 10
    end"""
    times = np.array([0.0, 0.99, 1.01, math.log(5) - 1e-6, math.log(5) + 1e-6, 4.0])
    net, amounts, params = _run(text, times)
    np.testing.assert_array_equal(_param(net, params, "Y"), [0, 0, 1, 1, 11, 11])


def test_compartment_change_keeps_amounts():
    """SBML: a compartment size change keeps species amounts; a concentration assigned
    with its compartment in the same event uses the old size (SBML Test Suite 01779:
    concentration 0.2 assigned with C: 0.5 -> 0.2 gives amount 0.1)."""
    text = """model m
    compartment C = 0.5; species S in C; S = 2; species T in C; T = 2
    E1: at (time >= 1): C = 0.2, S = 0.2
    end"""
    net, amounts, params = _run(text, [0.0, 2.0])
    assert amounts[0, net.index("S")] == pytest.approx(1.0)   # 2 * 0.5
    assert amounts[1, net.index("S")] == pytest.approx(0.1)   # 0.2 * old size 0.5
    assert amounts[1, net.index("T")] == pytest.approx(1.0)   # amount unchanged
    assert _param(net, params, "C")[-1] == pytest.approx(0.2)


def test_endless_cascade_raises():
    text = """model m
    p = 0
    E0: at (time > 1): p = 1
    E1: at (p > 0): p = -1
    E2: at (p < 0): p = 1
    end"""
    with pytest.raises(SimulationError, match="re-trigger"):
        _run(text, [0.0, 2.0])


def _with_stoichiometry_event(antimony_text, side, value):
    """SBML of ``antimony_text`` whose first reaction's first reactant/product reference
    gets the id ``nu1`` and the first event an extra assignment ``nu1 = value``."""
    import libsbml

    doc = libsbml.readSBMLFromString(sn.antimony_to_sbml(antimony_text))
    model = doc.getModel()
    reaction = model.getReaction(0)
    ref = reaction.getReactant(0) if side == "reactant" else reaction.getProduct(0)
    ref.setId("nu1")
    ref.setConstant(False)
    assignment = model.getEvent(0).createEventAssignment()
    assignment.setVariable("nu1")
    assignment.setMath(libsbml.parseL3Formula(repr(float(value))))
    return libsbml.writeSBMLToString(doc)


def test_event_assigning_a_stoichiometry():
    """-> X at rate 1 with product stoichiometry 1, set to 3 at t = 1 (and k unchanged):
    X = t, then 1 + 3 (t - 1)."""
    text = _with_stoichiometry_event("model m; J0: -> X; k; k = 1; X = 0; "
                                     "E1: at (time >= 1): k = 1; end", "product", 3)
    times = np.linspace(0.0, 2.0, 21)
    net, amounts, params = _run(text, times)
    exact = np.where(times < 1.0, times, 1.0 + 3.0 * (times - 1.0))
    np.testing.assert_allclose(amounts[:, 0], exact, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(_param(net, params, "nu1"), np.where(times < 1.0, 1.0, 3.0))


def test_stoichiometry_event_on_split_reversible_reaction_agrees_with_libroadrunner():
    """2 S1 <-> S2 (mass action, split into forward/reverse channels); the reactant
    stoichiometry becomes 3 at t > 1. Against libroadrunner to relative 1e-6."""
    roadrunner = pytest.importorskip("roadrunner")
    text = _with_stoichiometry_event("model m; J0: 2 S1 -> S2; k*S1^2 - k2*S2; k = 1; "
                                     "k2 = 0.3; S1 = 1; S2 = 0; E1: at (time > 1): k = 2; end",
                                     "reactant", 3)
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-12
    ref = rr.simulate(0.0, 3.0, 31, selections=["time", "S1", "S2"])
    net, amounts, _ = _run(text, np.linspace(0.0, 3.0, 31))
    assert [r.direction for r in net.reactions] == ["forward", "reverse"]
    np.testing.assert_allclose(amounts[:, net.index("S1")], ref[:, 1], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(amounts[:, net.index("S2")], ref[:, 2], rtol=1e-6, atol=1e-9)


def test_simulate_ode_front_door_uses_events():
    text = "model m; X -> ; k*X; k = 0.7; X = 10; E1: at (time >= 2): X = 10; end"
    frame = sn.simulate_ode(sn.load(text), [0.0, 3.0])
    assert frame["X"].iloc[-1] == pytest.approx(10.0 * math.exp(-0.7), rel=1e-6)


# --------------------------------------------------------------------------- roadrunner
def test_agrees_with_libroadrunner():
    """Priorities, cascades, a parameter and a compartment changed by events: amounts and
    parameters against libroadrunner (CVODE, rtol 1e-10, atol 1e-12) to relative 1e-6."""
    te = pytest.importorskip("tellurium")
    text = """model m
    compartment C = 2; species S in C; species P in C; S = 1; P = 0
    S -> P; k*S; k = 0.5
    E1: at (time >= 1.5), priority = 1: C = 4, k = k * 2
    E2: at (time >= 1.5), priority = 2, fromTrigger = false: S = 2 * P
    E3: at (S*C < 3 && time > 2): k = 0.1
    E4: at (P > 0.3): k = k + 0.1
    end"""
    times = np.linspace(0.0, 6.0, 61)
    rr = te.loada(text)
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-12
    ref = rr.simulate(0.0, 6.0, 61, selections=["time", "S", "P", "C", "k"])  # amounts
    net, amounts, params = _run(text, times)
    np.testing.assert_allclose(amounts[:, net.index("S")], ref[:, 1], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(amounts[:, net.index("P")], ref[:, 2], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(_param(net, params, "C"), ref[:, 3], rtol=1e-12)
    np.testing.assert_allclose(_param(net, params, "k"), ref[:, 4], rtol=1e-12)


# --------------------------------------------------------------------------- test suite
def test_semantic_suite_events_group(suite_dir):
    """Every case of the manifest's ``events`` group passes or is reported unsupported."""
    from sbmlnoise.conformance.semantic import run_semantic

    manifest = json.loads((suite_dir / "MANIFEST.json").read_text(encoding="utf-8"))
    ids = sorted(cid for cid, info in manifest["semantic"].items()
                 if info.get("group") == "events")
    assert ids
    report = run_semantic(suite_dir / "semantic", cases=",".join(ids))
    statuses = {cid: entry["status"] for cid, entry in report["cases"].items()}
    assert sorted(statuses) == ids
    bad = {cid: report["cases"][cid]["reason"] for cid, s in statuses.items()
           if s not in ("pass", "unsupported")}
    assert not bad, bad
    assert report["summary"]["pass"] + report["summary"]["unsupported"] == len(ids)
