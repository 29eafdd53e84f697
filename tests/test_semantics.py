"""Complete SBML semantics in the rate equations, against closed-form solutions.

Each model here has an exact solution worked out by hand (stated next to it); the ODE
engine must reproduce it to the stated relative tolerance (solver rtol 1e-10).
"""

from __future__ import annotations

import math
import sys

import libsbml
import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise.errors import SimulationError, UnsupportedFeature


def ode(model: str, times, **kwargs):
    return sn.simulate_ode(sn.load(model), times, rtol=1e-10, **kwargs)


def test_rate_rule_on_species_and_parameter():
    # X' = -k X, k' = 0.1 (k = 0.5 + 0.1 t): X = 2 exp(-(0.5 t + 0.05 t^2))
    t = np.linspace(0, 4, 9)
    df = ode("model m; species X; X' = -k*X; X = 2; k = 0.5; k' = 0.1; end", t)
    np.testing.assert_allclose(df["X"], 2 * np.exp(-(0.5 * t + 0.05 * t ** 2)), rtol=1e-7)


def test_rate_rule_on_compartment_keeps_amounts_and_dilutes_concentrations():
    # V' = 0.5 (V = 1 + t/2); S (a concentration species, no reactions) has the rule
    # [S]' = 0.3, so the amount is n = V [S] = (1 + t/2)(2 + 0.3 t); T is a species in
    # V changed by no rule: its amount stays 3, its concentration is 3 / V.
    t = np.linspace(0, 3, 7)
    net = sn.load("model m; compartment V = 1; V' = 0.5; species S in V, T in V; "
                  "S = 2; S' = 0.3; T = 3; conc := T; end")
    df = sn.simulate_ode(net, t, rtol=1e-10)
    np.testing.assert_allclose(df["S"], (1 + t / 2) * (2 + 0.3 * t), rtol=1e-7)
    np.testing.assert_allclose(df["T"], 3.0, rtol=1e-12)
    np.testing.assert_allclose(df["conc"], 3.0 / (1 + t / 2), rtol=1e-7)


def test_assignment_rule_variables_are_columns_after_the_species():
    # X = 4 exp(-t); T := 2 X (a parameter), Y := X + 1 (a species defined by a rule)
    t = np.linspace(0, 2, 5)
    net = sn.load("model m; species X, Y; R: X => ; X; X = 4; T := 2*X; Y := X/1 + 1; end")
    df = sn.simulate_ode(net, t, rtol=1e-10)
    assert list(df.columns[:1]) == ["X"] and set(df.columns[1:]) == {"T", "Y"}
    np.testing.assert_allclose(df["T"], 8 * np.exp(-t), rtol=1e-7)
    np.testing.assert_allclose(df["Y"], 4 * np.exp(-t) + 1, rtol=1e-7)
    values = net.evaluate_assignments(df[list(net.species_ids)].to_numpy(), t)
    np.testing.assert_allclose(values[:, net.assignment_ids.index("T")], df["T"], rtol=1e-12)
    assert list(sn.simulate_ode(net, t, rules=False).columns) == ["X"]


def test_algebraic_rule_is_solved_each_step():
    # X' = -X (reaction), 0 = Y - 2 X determines Y: Y = 2 X0 exp(-t)
    t = np.linspace(0, 2, 5)
    net = sn.load("model m; species X; R: X => ; X; X = 3; var Y = 0; 0 = Y - 2*X; end")
    assert net.algebraic_variables == ("Y",)
    df = sn.simulate_ode(net, t, rtol=1e-10)
    amounts, params = sn.ode.ode_trajectory(net, t, rtol=1e-10)
    y = params[:, net.parameter_ids.index("Y")]
    np.testing.assert_allclose(y, 6 * np.exp(-t), rtol=1e-7)
    np.testing.assert_allclose(df["X"], 3 * np.exp(-t), rtol=1e-7)


def _fast_model() -> str:
    # -> A at k0 = 1 (slow); A <-> B fast with kf A - kr B, kf = 2, kr = 1.
    # A + B = 3 + t, and B = 2 A at all times: A = (3 + t)/3, B = 2 (3 + t)/3.
    text = sn.importer.antimony_to_sbml(
        "model m; species A, B; J0: => A; k0; J1: A => B; kf*A - kr*B; "
        "A = 1; B = 2; k0 = 1; kf = 2; kr = 1; end")
    doc = libsbml.readSBMLFromString(text)
    doc.setLevelAndVersion(2, 4, False)
    doc.getModel().getReaction("J1").setFast(True)
    return libsbml.writeSBMLToString(doc)


def test_fast_reaction_is_held_at_equilibrium():
    t = np.linspace(0, 3, 7)
    net = sn.load(_fast_model())
    df = sn.simulate_ode(net, t, rtol=1e-10)
    np.testing.assert_allclose(df["A"], (3 + t) / 3, rtol=1e-6)
    np.testing.assert_allclose(df["B"], 2 * (3 + t) / 3, rtol=1e-6)
    with pytest.raises(UnsupportedFeature, match="J1"):
        sn.ssa(net, times=[0.0, 1.0], runs=2, seed=1)


def test_delay_differential_equation_method_of_steps():
    # X' = -X(t-1), X = 1 for t <= 0: X = 1 - t on [0, 1],
    # X = 1 - t + (t-1)^2/2 on [1, 2] (method of steps by hand)
    t = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    df = ode("model m; species X; X' = -delay(X, 1); X = 1; end", t)
    exact = np.where(t <= 1, 1 - t, 1 - t + (t - 1) ** 2 / 2)
    np.testing.assert_allclose(df["X"], exact, rtol=1e-6, atol=1e-9)


def test_delayed_event_executes_after_its_delay():
    # X' = -X; trigger at t = 1, executes at t = 3: X = 5 exp(-(t - 3)) afterwards
    t = np.array([0.0, 2.9, 3.0, 3.5])
    df = ode("model m; species X; R: X => ; X; E: at 2 after time > 1: X = 5; X = 1; end", t)
    np.testing.assert_allclose(df["X"], [1, math.exp(-2.9), 5, 5 * math.exp(-0.5)], rtol=1e-7)


def test_non_persistent_delayed_event_is_dropped_when_its_trigger_falls():
    # trigger true on (1, 1.5) only, delay 1: a persistent event executes at t = 2,
    # a non-persistent one is cancelled at t = 1.5 (SBML L3V2 section 4.12.5)
    model = ("model m; species X; R: X => ; 0; E: at 1 after (time > 1 && time < 1.5), "
             "persistent={p}: X = 5; X = 1; end")
    t = [0.0, 2.5]
    assert ode(model.format(p="true"), t)["X"].iloc[-1] == pytest.approx(5.0)
    assert ode(model.format(p="false"), t)["X"].iloc[-1] == pytest.approx(1.0)


def test_event_value_from_trigger_time_versus_execution_time():
    # p' = 1 (p = t); at t = 1 the event fires with delay 1 and assigns q = p:
    # from trigger time q = 1, from execution time q = 2
    model = ("model m; p = 0; p' = 1; q = 0; E: at 1 after time >= 1, "
             "fromTrigger={f}: q = p; end")
    for flag, expected in (("true", 1.0), ("false", 2.0)):
        net = sn.load(model.format(f=flag))
        _, params = sn.ode.ode_trajectory(net, np.array([0.0, 3.0]), rtol=1e-10)
        assert params[-1, net.parameter_ids.index("q")] == pytest.approx(expected, rel=1e-8)


def test_rate_of_is_the_time_derivative():
    # p' = 2 + t: rateOf(p) = 2 + t; X' = -X by reaction: rateOf(X) = -X
    t = np.linspace(0, 2, 5)
    net = sn.load("model m; species X; R: X => ; X; X = 1; p = 0; p' = 2 + time; "
                  "q := rateOf(p); r := rateOf(X); end")
    df = sn.simulate_ode(net, t, rtol=1e-10)
    np.testing.assert_allclose(df["q"], 2 + t, rtol=1e-9)
    np.testing.assert_allclose(df["r"], -np.exp(-t), rtol=1e-7)


def test_stochastic_backends_and_lna_refuse_rate_rules_naming_the_element():
    net = sn.load("model m; species X; R: => X; k; k = 1; k' = 0.1; X = 0; end")
    for backend in (lambda: sn.fsp(net, t=[1.0]), lambda: sn.lna(net)):
        with pytest.raises(UnsupportedFeature) as info:
            backend()
        assert "'k'" in str(info.value) and "RateRule" in str(info.value)
    # the time-dependent LNA carries k as a state: X(1) is Poisson with mean 1.05, and
    # the LNA of this first-order network is exact
    course = sn.lna(net, t=[0.0, 1.0])
    assert float(course.mean["X"].iloc[-1]) == pytest.approx(1.05, rel=1e-5)
    assert float(course.variance["X"].iloc[-1]) == pytest.approx(1.05, rel=1e-4)
    assert sn.simulate_ode(net, [0.0, 1.0])["X"].iloc[-1] == pytest.approx(1.05)
    # the exact SSA integrates the hazard along the rate rule: X(1) is Poisson with mean
    # int_0^1 (1 + 0.1 s) ds = 1.05 (4000 runs, seed 1, 4.5 standard errors)
    ens = sn.ssa(net, times=[0.0, 1.0], runs=4000, seed=1)
    mean = float(ens.mean["X"].iloc[-1])
    assert abs(mean - 1.05) < 4.5 * float(ens.stderr["mean"]["X"].iloc[-1])


def test_wall_time_limit_names_the_time_reached():
    # a stiff, fast oscillation over a long span cannot finish in 0.05 s
    net = sn.load("model m; species X, Y; R1: => X; k*Y; R2: => Y; -k*X; k = 1000; "
                  "X = 1; Y = 0; end")
    with pytest.raises(SimulationError, match=r"wall-time limit .* at t="):
        sn.simulate_ode(net, [0.0, 1e6], wall_time=0.05)


def test_non_finite_rate_is_a_clear_error():
    net = sn.load("model m; species X; R: X => ; k*X; X = 1; k = 1; end")
    bad = net.with_parameters(k=math.inf)
    with pytest.raises(SimulationError, match="'R'.*not finite"):
        sn.simulate_ode(bad, [0.0, 1.0])


def test_deeply_nested_and_long_math_give_a_clear_error_or_work():
    depth = 2000
    inner = "<ci>X</ci>"
    for _ in range(depth):
        inner = f"<apply><minus/>{inner}<cn>0</cn></apply>"
    sbml = f"""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model id="m">
<listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
<listOfSpecies><species id="X" compartment="c" initialAmount="1" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/></listOfSpecies>
<listOfReactions><reaction id="R" reversible="false"><listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">{inner}</math></kineticLaw></reaction></listOfReactions>
</model></sbml>"""
    old = sys.getrecursionlimit()
    with pytest.raises(sn.ModelError, match="nested deeper"):
        sn.load(sbml)
    assert sys.getrecursionlimit() == old
    # a flat sum of 2000 terms: X*(1 + 0 + ... + 0) works (balanced code generation)
    terms = "".join("<cn>0</cn>" for _ in range(2000))
    flat = sbml.replace(inner, f"<apply><times/><ci>X</ci><apply><plus/><cn>1</cn>{terms}"
                               "</apply></apply>")
    df = sn.simulate_ode(sn.load(flat), [0.0, 1.0], rtol=1e-10)
    assert df["X"].iloc[-1] == pytest.approx(math.exp(-1.0), rel=1e-7)


def test_nested_function_definitions_that_explode_are_refused_quickly():
    # f1(x) = x + x, f_k(x) = f_(k-1)(x) + f_(k-1)(x): f_30 written out has 2^30 terms;
    # refused with a clear error before anything (libsbml's validator included) expands it
    def fd(k, body):
        return (f'<functionDefinition id="f{k}"><math xmlns="http://www.w3.org/1998/Math/'
                f'MathML"><lambda><bvar><ci>x</ci></bvar>{body}</lambda></math>'
                '</functionDefinition>')
    defs = [fd(1, "<apply><plus/><ci>x</ci><ci>x</ci></apply>")]
    for k in range(2, 31):
        call = f"<apply><ci>f{k - 1}</ci><ci>x</ci></apply>"
        defs.append(fd(k, f"<apply><plus/>{call}{call}</apply>"))
    sbml = f"""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model id="m">
<listOfFunctionDefinitions>{"".join(defs)}</listOfFunctionDefinitions>
<listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
<listOfSpecies><species id="X" compartment="c" initialAmount="1" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/></listOfSpecies>
<listOfReactions><reaction id="R" reversible="false"><listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><ci>f30</ci><ci>X</ci></apply></math></kineticLaw></reaction></listOfReactions>
</model></sbml>"""
    import time

    started = time.perf_counter()
    with pytest.raises(sn.ModelError, match="f19.*too large"):
        sn.load(sbml)
    assert time.perf_counter() - started < 5.0


def test_steady_state_with_rate_rules():
    # X' = k - g X (rate rule on a species): X* = k/g = 5, eigenvalue -g
    ss = sn.steady_state(sn.load("model m; species X; X' = k - g*X; X = 0; k = 10; g = 2; end"))
    assert ss["X"] == pytest.approx(5.0, rel=1e-9)
    np.testing.assert_allclose(ss.attrs["eigenvalues"], [-2.0], rtol=1e-5)
    # p' = a - b p drives synthesis of X (degraded at g): p* = a/b = 3, X* = p*/g = 2
    ss = sn.steady_state(sn.load("model m; species X; R: => X; p; R2: X => ; g*X; X = 0; "
                                 "p = 0; p' = a - b*p; a = 6; b = 2; g = 1.5; end"))
    assert ss["X"] == pytest.approx(2.0, rel=1e-9)
    assert ss.attrs["rate_rule_values"]["p"] == pytest.approx(3.0, rel=1e-9)
    # p' = p: the only fixed point (0) is unstable
    with pytest.raises(sn.NoSteadyState, match="unstable"):
        sn.steady_state(sn.load("model m; p = 1; p' = p; end"))
