"""Importer: SBML semantics, Antimony, RoadRunner, and loud failures on bad input.

Expected values are derived by hand from the SBML specification (L3V2 section 4) or from
closed-form solutions of the rate equations, never from our own output.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise.importer._sbml import AVOGADRO

from conftest import BUNDLED, bundled_path


def _same_network(a, b):
    assert a.species_ids == b.species_ids
    assert a.reaction_ids == b.reaction_ids
    np.testing.assert_array_equal(a.stoichiometry, b.stoichiometry)
    assert dict(zip(a.parameter_ids, a.parameter_values)) == \
        dict(zip(b.parameter_ids, b.parameter_values))
    np.testing.assert_array_equal(a.initial_amounts, b.initial_amounts)
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.uniform(0, 50, a.n_species)
        np.testing.assert_allclose(a.rates(x), b.rates(x), rtol=1e-14)
    assert a.system_size == b.system_size


@pytest.mark.parametrize("name", BUNDLED)
def test_antimony_and_sbml_export_give_identical_networks(name):
    from_ant = sn.load(bundled_path(name, ".ant").read_text(encoding="utf-8"))
    from_xml = sn.load(bundled_path(name, ".xml"))
    _same_network(from_ant, from_xml)


def test_concentration_species_rate_uses_concentration():
    # S in a compartment of size 2 with concentration 3 -> amount 6; law k*S with S the
    # concentration gives d(amount)/dt = -k * amount / V.
    net = sn.load("""
    model m
      compartment V = 2; species S in V; S = 3;
      R: S => ; k*S;
      k = 0.5;
    end""")
    assert net.initial_amounts[0] == pytest.approx(6.0)
    assert net.rates([6.0])[0] == pytest.approx(0.5 * 3.0)
    traj = sn.simulate_ode(net, [0.0, 1.0, 2.0])
    # d a/dt = -k a / V  -> a(t) = 6 exp(-k t / V)
    np.testing.assert_allclose(traj["S"], 6 * np.exp(-0.25 * np.array([0, 1, 2.0])), rtol=1e-7)


def test_only_substance_units_species_rate_uses_amount():
    net = sn.load("""
    model m
      compartment V = 2; substanceOnly species S in V; S = 3;
      R: S => ; k*S;
      k = 0.5;
    end""")
    assert net.initial_amounts[0] == pytest.approx(3.0)
    assert net.rates([3.0])[0] == pytest.approx(1.5)
    assert net.reactions[0].mass_action.rate_constant == pytest.approx(0.5)


def test_mass_action_with_compartment_factor_and_reversible_split():
    # V*(kf*A*B - kr*C) with concentrations: forward constant kf/V in amount units.
    net = sn.load("""
    model m
      compartment V = 4; species A in V, B in V, C in V;
      A = 1; B = 2; C = 0.5;
      R: A + B -> C; V*(kf*A*B - kr*C);
      kf = 3; kr = 0.7;
    end""")
    assert [r.direction for r in net.reactions] == ["forward", "reverse"]
    fwd, rev = net.reactions
    assert fwd.mass_action.rate_constant == pytest.approx(3 / 4)
    assert dict(fwd.mass_action.orders) == {"A": 1, "B": 1}
    assert rev.mass_action.rate_constant == pytest.approx(0.7)
    assert rev.reactants == (("C", 1.0),)
    assert fwd.sbml_id == rev.sbml_id == "R"


def test_local_parameters_do_not_clash_with_globals():
    net = sn.load("""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
 <model id="m"><listOfCompartments><compartment id="c" size="1" constant="true" spatialDimensions="3"/></listOfCompartments>
 <listOfSpecies><species id="X" compartment="c" initialAmount="10" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/></listOfSpecies>
 <listOfParameters><parameter id="k" value="100" constant="true"/></listOfParameters>
 <listOfReactions>
  <reaction id="R1" reversible="false"><listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
   <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k</ci><ci>X</ci></apply></math>
   <listOfLocalParameters><localParameter id="k" value="0.1"/></listOfLocalParameters></kineticLaw></reaction>
  <reaction id="R2" reversible="false"><listOfProducts><speciesReference species="X" stoichiometry="1" constant="true"/></listOfProducts>
   <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><ci>k</ci></math></kineticLaw></reaction>
 </listOfReactions></model></sbml>""")
    np.testing.assert_allclose(net.rates([10.0]), [1.0, 100.0])
    assert "R1.k" in net.parameter_ids and "k" in net.parameter_ids


def test_function_definitions_initial_assignments_and_rules_in_dependency_order():
    net = sn.load("""
    function hill(x, K, n)
      x^n/(K^n + x^n)
    end
    model m
      species X, Y;
      R: => X; vmax*hill(Y, K, 2);
      D: X => ; g*X;
      Y := 2*total;        // assignment rule
      total = 3*base;      // initial assignment depending on a later-defined parameter
      base = 2; vmax = 10; K = 6; g = 1;
      X = K/2;             // initial assignment using K
    end""")
    assert net.initial_amounts[net.index("X")] == pytest.approx(3.0)
    y = 2 * 6.0
    assert net.rates([3.0])[0] == pytest.approx(10 * y**2 / (36 + y**2))


def test_conversion_factor_scales_species_rows():
    sbml = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
 <model id="m" conversionFactor="cf"><listOfCompartments><compartment id="c" size="1" constant="true" spatialDimensions="3"/></listOfCompartments>
 <listOfSpecies>
  <species id="A" compartment="c" initialAmount="10" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
  <species id="B" compartment="c" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false" conversionFactor="cfB"/>
 </listOfSpecies>
 <listOfParameters><parameter id="cf" value="2" constant="true"/><parameter id="cfB" value="5" constant="true"/><parameter id="k" value="1" constant="true"/></listOfParameters>
 <listOfReactions><reaction id="R" reversible="false">
  <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
  <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>
  <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k</ci><ci>A</ci></apply></math></kineticLaw>
 </reaction></listOfReactions></model></sbml>"""
    net = sn.load(sbml)
    np.testing.assert_array_equal(net.stoichiometry[:, 0], [-2.0, 5.0])


def test_boundary_and_constant_species_do_not_change():
    net = sn.load("""
    model m
      species $S, X;   // $ = boundary
      R: S => X; k*S;
      S = 5; X = 0; k = 1;
    end""")
    assert net.stoichiometry[net.index("S"), 0] == 0
    traj = sn.simulate_ode(net, [0, 2])
    assert traj["S"].iloc[-1] == pytest.approx(5)
    assert traj["X"].iloc[-1] == pytest.approx(10, rel=1e-7)


def test_mole_units_scale_by_avogadro_and_warn_when_amounts_look_like_counts():
    l2 = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level2/version4" level="2" version="4">
 <model id="m"><listOfCompartments><compartment id="c" size="1"/></listOfCompartments>
 <listOfSpecies><species id="X" compartment="c" initialAmount="100" hasOnlySubstanceUnits="true"/></listOfSpecies>
 <listOfReactions><reaction id="R" reversible="false"><listOfReactants><speciesReference species="X"/></listOfReactants>
  <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><cn>0.1</cn><ci>X</ci></apply></math></kineticLaw>
 </reaction></listOfReactions></model></sbml>"""
    with pytest.warns(sn.SbmlnoiseWarning, match="system_size=1"):
        net = sn.load(l2)
    assert net.system_size == pytest.approx(AVOGADRO)
    assert net.initial_state[0] == pytest.approx(100 * AVOGADRO)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fixed = sn.load(l2, system_size=1)
    assert fixed.initial_state[0] == 100
    assert fixed.system_size_source == "user"


def test_item_units_and_scaled_mole_units():
    template = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
 <model id="m" substanceUnits="u"><listOfUnitDefinitions><unitDefinition id="u"><listOfUnits>
  <unit kind="{kind}" exponent="1" scale="{scale}" multiplier="1"/></listOfUnits></unitDefinition></listOfUnitDefinitions>
 <listOfCompartments><compartment id="c" size="1" constant="true" spatialDimensions="3"/></listOfCompartments>
 <listOfSpecies><species id="X" compartment="c" initialAmount="0.5" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/></listOfSpecies>
 </model></sbml>"""
    nano = sn.load(template.format(kind="mole", scale=-9))
    assert nano.system_size == pytest.approx(AVOGADRO * 1e-9)
    items = sn.load(template.format(kind="item", scale=0))
    assert items.system_size == 1.0


def test_propensity_is_the_law_evaluated_at_counts_times_system_size():
    # 2A -> 0 with law k*A*(A-1)/2 in amounts; with Omega molecules per unit the
    # propensity at n molecules is Omega * k (n/Omega)((n/Omega) - 1)/2.
    net = sn.load("model m; species A; R: 2 A => ; k*A*(A-1)/2; A = 10; k = 0.3; end",
                  system_size=4)
    n = 40.0
    assert net.propensities([n])[0] == pytest.approx(4 * 0.3 * 10 * 9 / 2)


def test_from_roadrunner_uses_current_parameter_values():
    te = pytest.importorskip("tellurium")
    rr = te.loada("model m; => X; k; X => ; g*X; k = 10; g = 1; X = 0; end")
    rr.k = 25.0
    net = sn.from_roadrunner(rr)
    assert net.parameter_values[net.parameter_ids.index("k")] == 25.0
    assert net.reactions[0].mass_action.rate_constant == 25.0
    assert sn.steady_state(net)["X"] == pytest.approx(25.0)


def test_non_ascii_names_and_notes(tmp_path):
    path = tmp_path / "m.xml"
    text = bundled_path("birth_death").read_text(encoding="utf-8").replace(
        ' id="birth_death"', ' id="birth_death" name="Geburt–Tod µ-Modell"')
    path.write_bytes(text.encode("utf-8"))
    net = sn.load(path)
    assert net.name == "Geburt–Tod µ-Modell"


# ---------------------------------------------------------------- bad input
BAD = {
    "malformed xml": ("<sbml><model", sn.ModelError, "line"),
    "no kinetic law": ("""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model id="m">
<listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
<listOfSpecies><species id="X" compartment="c" initialAmount="1" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/></listOfSpecies>
<listOfReactions><reaction id="R1" reversible="false"><listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants></reaction></listOfReactions>
</model></sbml>""", sn.UnsupportedFeature, "R1"),
    "undefined identifier": ("""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model id="m">
<listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
<listOfSpecies><species id="X" compartment="c" initialAmount="1" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/></listOfSpecies>
<listOfReactions><reaction id="R1" reversible="false"><listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>nope</ci><ci>X</ci></apply></math></kineticLaw></reaction></listOfReactions>
</model></sbml>""", sn.ModelError, "nope"),
    "unsolvable algebraic rule": ("""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model id="m">
<listOfParameters><parameter id="k" value="1" constant="true"/></listOfParameters>
<listOfRules><algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><minus/><ci>k</ci><cn>2</cn></apply></math></algebraicRule></listOfRules>
</model></sbml>""", (sn.ModelError, sn.UnsupportedFeature), "overdetermined"),
    "antimony syntax": ("model m; => X; ; ; end end", sn.ModelError, "Antimony"),
    "entity expansion": ("""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model id="m" name="&lol2;"/></sbml>""",
                         sn.ModelError, "ENTITY"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises_a_named_error(case):
    text, error, fragment = BAD[case]
    with pytest.raises(error) as info:
        sn.load(text)
    assert fragment.lower() in str(info.value).lower()
    assert "\n" not in str(info.value).strip()


def test_fast_reaction_loads_and_stochastic_backends_refuse_it():
    sbml = bundled_path("birth_death").read_text(encoding="utf-8")
    import libsbml
    doc = libsbml.readSBMLFromString(sbml)
    doc.setLevelAndVersion(2, 4, False)
    doc.getModel().getReaction(0).setFast(True)
    net = sn.load(libsbml.writeSBMLToString(doc))
    assert [f.id for f in net.fast_reactions] == [doc.getModel().getReaction(0).getId()]
    with pytest.raises(sn.UnsupportedFeature, match="FastReaction"):
        net.require_stochastic("ssa")


def test_missing_file_is_a_model_error(tmp_path):
    with pytest.raises(sn.ModelError, match="does not exist"):
        sn.load(str(tmp_path / "absent.xml"))


def test_cli_prints_one_line_and_exits_2(tmp_path):
    import subprocess
    import sys
    bad = tmp_path / "bad.xml"
    bad.write_text("<sbml><model", encoding="utf-8")
    for args in (["conformance", "semantic", str(tmp_path / "nowhere")],
                 ["analyze", str(bad), "--out", str(tmp_path / "out")]):
        proc = subprocess.run([sys.executable, "-m", "sbmlnoise", *args], capture_output=True,
                              text=True, encoding="utf-8")
        assert proc.returncode == 2, args
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith("sbmlnoise: error:")
    assert not (tmp_path / "out").exists()  # nothing written for a model that did not load


@pytest.mark.parametrize("level,version", [(1, 2), (2, 1), (2, 4), (2, 5), (3, 1)])
def test_every_sbml_level_reads_to_the_same_network(level, version):
    import libsbml
    for name in ("telegraph", "dimerisation", "autoregulation", "three_state_cycle"):
        base = sn.load(bundled_path(name), system_size=1)
        doc = libsbml.readSBMLFromFile(str(bundled_path(name)))
        assert doc.setLevelAndVersion(level, version, False)
        other = sn.load(libsbml.writeSBMLToString(doc), system_size=1)
        _same_network(base, other)


def test_reversible_non_mass_action_law_splits_by_sign():
    # forward k1*P*(P-1)/2 must stay intact (no distribution into k1*P^2/2 - k1*P/2)
    net = sn.load("""model m; species P, P2; R: 2 P -> P2; k1*P*(P-1)/2 - k2*P2;
                     P = 10; P2 = 0; k1 = 0.2; k2 = 1; end""")
    assert [r.direction for r in net.reactions] == ["forward", "reverse"]
    x = np.array([7.0, 3.0])
    np.testing.assert_allclose(net.rates(x), [0.2 * 7 * 6 / 2, 3.0])
    # reversible Michaelis-Menten: both parts keep the shared denominator
    mm = sn.load("""model mm; species S, P; R: S -> P; (Vf*S/Ks - Vr*P/Kp)/(1 + S/Ks + P/Kp);
                    S = 5; P = 1; Vf = 2; Vr = 1; Ks = 3; Kp = 4; end""")
    den = 1 + 5 / 3 + 1 / 4
    np.testing.assert_allclose(mm.rates([5.0, 1.0]), [2 * 5 / 3 / den, 1 / 4 / den])
    # a law whose sign is not explicit stays one channel
    net = sn.load("model m; species A, B; R: A -> B; A*(k - B); A = 1; B = 0; k = 1; end")
    assert [r.direction for r in net.reactions] == ["net"]


def _rule_model(mathml: str, level_version=(3, 2)) -> str:
    level, version = level_version
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level{level}/version{version}/core" level="{level}" version="{version}">
 <model id="m"><listOfParameters><parameter id="x" constant="false"/></listOfParameters>
 <listOfRules><assignmentRule variable="x"><math xmlns="http://www.w3.org/1998/Math/MathML">
 {mathml}</math></assignmentRule></listOfRules></model></sbml>"""


@pytest.mark.parametrize("mathml,value", [
    # n-ary relations chain (MathML): 2 > 1 > 2 is false, 1 <= 2 <= 2 is true
    ("<piecewise><piece><cn>1</cn><apply><gt/><cn>2</cn><cn>1</cn><cn>2</cn></apply></piece>"
     "<otherwise><cn>3</cn></otherwise></piecewise>", 3.0),
    ("<apply><leq/><cn>1</cn><cn>2</cn><cn>2</cn></apply>", 1.0),
    # empty max/min are the identity elements; implies(a, b) = not a or b
    ("<apply><max/></apply>", -math.inf),
    ("<apply><min/></apply>", math.inf),
    ("<apply><implies/><false/><cn>0</cn></apply>", 1.0),
    ("<apply><implies/><true/><false/></apply>", 0.0),
])
def test_uncommon_mathml(mathml, value):
    net = sn.load(_rule_model(mathml))
    assert net.assigned_values([], 0.0)["x"] == value


def test_constant_stoichiometry_math_is_evaluated():
    # Level 2 stoichiometryMath that depends only on parameters: 2*p = 3
    sbml = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level2/version4" level="2" version="4"><model id="m">
<listOfCompartments><compartment id="c" size="1"/></listOfCompartments>
<listOfSpecies><species id="X" compartment="c" initialAmount="0" hasOnlySubstanceUnits="true"/></listOfSpecies>
<listOfParameters><parameter id="p" value="1.5"/><parameter id="k" value="1"/></listOfParameters>
<listOfReactions><reaction id="R" reversible="false"><listOfProducts><speciesReference species="X">
<stoichiometryMath><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><cn>2</cn><ci>p</ci></apply></math></stoichiometryMath>
</speciesReference></listOfProducts><kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><ci>k</ci></math></kineticLaw>
</reaction></listOfReactions></model></sbml>"""
    net = sn.load(sbml, system_size=1)
    assert net.stoichiometry[0, 0] == 3.0
    assert sn.simulate_ode(net, [0, 2])["X"].iloc[-1] == pytest.approx(6.0)
    # stoichiometry 2*X (varying): dX/dt = 2 X k, X(0) = 1 -> X(2) = e^4 (closed form)
    varying = sbml.replace("<ci>p</ci>", "<ci>X</ci>").replace('initialAmount="0"',
                                                               'initialAmount="1"')
    net = sn.load(varying, system_size=1)
    x = sn.simulate_ode(net, [0, 2], rtol=1e-10)["X"].iloc[-1]
    assert x == pytest.approx(np.exp(4.0), rel=1e-7)
    with pytest.raises(sn.UnsupportedFeature, match="variable stoichiometry"):
        net.require_stochastic("ssa")


def test_reversible_law_with_the_difference_inside_constant_products_splits():
    # V*(Vmax*(S - P/Keq)/(S + Km*(1 + P/Kp))): the form of curated metabolic models
    mm = sn.load("""model mm; compartment V = 2; species S in V, P in V;
                    R: S -> P; V*(Vmax*(S - P/Keq)/(S + Km*(1 + P/Kp)));
                    S = 6; P = 2; Vmax = 3; Keq = 4; Km = 0.5; Kp = 1.5; end""")
    assert [r.direction for r in mm.reactions] == ["forward", "reverse"]
    s, p = 6.0, 2.0  # concentrations; amounts are V times these
    den = s + 0.5 * (1 + p / 1.5)
    fwd, rev = 2 * 3 * s / den, 2 * 3 * (p / 4) / den
    np.testing.assert_allclose(mm.rates(np.array([2 * s, 2 * p])), [fwd, rev], rtol=1e-12)
    # a state-dependent factor outside the difference still keeps the law whole
    net = sn.load("model m; species A, B; R: A -> B; A*(k - B)/(1 + A); A = 1; B = 0; k = 1; end")
    assert [r.direction for r in net.reactions] == ["net"]
