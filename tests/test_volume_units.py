"""``volume=`` on a model whose compartments are not measured in a volume unit: one clear
``ModelError`` naming the unit (it used to crash with a ``TypeError`` from the exception's
constructor)."""

from __future__ import annotations

import pytest

import sbmlnoise as sn
from sbmlnoise.errors import ModelError

_XML = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
 <model id="m" substanceUnits="item" volumeUnits="{vu}" timeUnits="second">
  <listOfUnitDefinitions>
   <unitDefinition id="per_s"><listOfUnits>
    <unit kind="second" exponent="-1" scale="0" multiplier="1"/></listOfUnits></unitDefinition>
   <unitDefinition id="m2"><listOfUnits>
    <unit kind="metre" exponent="2" scale="0" multiplier="1"/></listOfUnits></unitDefinition>
  </listOfUnitDefinitions>
  <listOfCompartments>
   <compartment id="cell" spatialDimensions="3" size="1" constant="true"/>
  </listOfCompartments>
  <listOfSpecies>
   <species id="X" compartment="cell" initialAmount="5" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>
  </listOfSpecies>
  <listOfParameters><parameter id="g" value="1" constant="true"/></listOfParameters>
  <listOfReactions>
   <reaction id="deg" reversible="false">
    <listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
    <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
     <apply><times/><ci>g</ci><ci>X</ci></apply></math></kineticLaw>
   </reaction>
  </listOfReactions>
 </model>
</sbml>"""


@pytest.mark.parametrize("unit, reason", [("per_s", "has kind 'second'"),
                                          ("m2", "length\\^2")])
def test_non_volume_compartment_unit_is_a_model_error(unit, reason):
    with pytest.raises(ModelError, match=f"'{unit}'.*{reason}"):
        sn.load(_XML.format(vu=unit), volume=1e-15)
