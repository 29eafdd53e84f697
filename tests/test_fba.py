"""Flux balance analysis of fbc models (used for the suite's constraint-based cases),
against an LP solved by hand."""

from __future__ import annotations

import math

from sbmlnoise.conformance._fba import flux_balance, has_objective

FBC = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1"
      xmlns:fbc="http://www.sbml.org/sbml/level3/version1/fbc/version2" fbc:required="false">
 <model id="m" fbc:strict="true">
  <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
  <listOfSpecies>
   <species id="X" compartment="c" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="true" constant="false"/>
   <species id="A" compartment="c" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
   <species id="Y" compartment="c" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="true" constant="false"/>
  </listOfSpecies>
  <listOfParameters>
   <parameter id="zero" value="0" constant="true"/><parameter id="cap" value="{cap}" constant="true"/>
   <parameter id="big" value="1000" constant="true"/>
  </listOfParameters>
  <listOfReactions>
   <reaction id="R1" reversible="false" fast="false" fbc:lowerFluxBound="zero" fbc:upperFluxBound="cap">
    <listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
    <listOfProducts><speciesReference species="A" stoichiometry="2" constant="true"/></listOfProducts></reaction>
   <reaction id="R2" reversible="false" fast="false" fbc:lowerFluxBound="{low}" fbc:upperFluxBound="big">
    <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
    <listOfProducts><speciesReference species="Y" stoichiometry="1" constant="true"/></listOfProducts></reaction>
   <reaction id="R3" reversible="false" fast="false" fbc:lowerFluxBound="zero" fbc:upperFluxBound="big">
    <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
    <listOfProducts><speciesReference species="Y" stoichiometry="1" constant="true"/></listOfProducts></reaction>
  </listOfReactions>
  <fbc:listOfObjectives fbc:activeObjective="obj">
   <fbc:objective fbc:id="obj" fbc:type="maximize"><fbc:listOfFluxObjectives>
    <fbc:fluxObjective fbc:reaction="R2" fbc:coefficient="1"/></fbc:listOfFluxObjectives>
   </fbc:objective></fbc:listOfObjectives>
 </model>
</sbml>"""


def test_flux_balance_matches_the_hand_solved_lp():
    # A balance: 2 R1 = R2 + R3; R1 <= 3, R3 >= 0: max R2 = 6 at R1 = 3, R3 = 0
    text = FBC.format(cap=3, low="zero")
    assert has_objective(text)
    fluxes = flux_balance(text)
    assert math.isclose(fluxes["obj"], 6.0) and math.isclose(fluxes["R2"], 6.0)
    assert math.isclose(fluxes["R1"], 3.0) and abs(fluxes["R3"]) < 1e-12


def test_infeasible_flux_balance_gives_nan():
    # R2 >= 1000 needs R1 >= 500 > cap 3: no feasible flux
    fluxes = flux_balance(FBC.format(cap=3, low="big"))
    assert math.isnan(fluxes["obj"]) and math.isnan(fluxes["R1"])
