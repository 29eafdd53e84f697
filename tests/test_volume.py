"""``sn.load(..., volume=)``: the cell volume as the system size (sbmlnoise/importer/_volume.py).

Expected values are by hand from the definitions: n = c V N_A, bimolecular propensity
k n_A n_B / (N_A V) for k in 1/(M s), and the LNA's eta^2 Omega independent of Omega.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise.importer._volume import cell_volume
from sbmlnoise.lna import noise_coefficients
from sbmlnoise.errors import ModelError

NA = 6.02214076e23

MOLAR = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
 <model id="m" substanceUnits="mole" volumeUnits="{vu}" timeUnits="second">
  <listOfUnitDefinitions>
   <unitDefinition id="um3"><listOfUnits>
    <unit kind="metre" exponent="3" scale="-6" multiplier="1"/></listOfUnits></unitDefinition>
  </listOfUnitDefinitions>
  <listOfCompartments>
   <compartment id="cell" spatialDimensions="3" size="{size}" constant="true"/>
   <compartment id="nuc" spatialDimensions="3" size="{nuc}" constant="true"/>
  </listOfCompartments>
  <listOfSpecies>
   <species id="A" compartment="cell" initialConcentration="1e-6" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
   <species id="B" compartment="cell" initialConcentration="2e-6" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
   <species id="C" compartment="nuc" initialConcentration="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
  </listOfSpecies>
  <listOfParameters><parameter id="k" value="1e6" constant="true"/></listOfParameters>
  <listOfReactions>
   <reaction id="R" reversible="false">
    <listOfReactants>
     <speciesReference species="A" stoichiometry="1" constant="true"/>
     <speciesReference species="B" stoichiometry="1" constant="true"/>
    </listOfReactants>
    <listOfProducts><speciesReference species="C" stoichiometry="1" constant="true"/></listOfProducts>
    <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
     <apply><times/><ci>cell</ci><ci>k</ci><ci>A</ci><ci>B</ci></apply></math></kineticLaw>
   </reaction>
  </listOfReactions>
 </model>
</sbml>"""


SOURCE_DIMER = (MOLAR.format(vu="litre", size=1.0, nuc=0.1)
                .replace('<listOfReactions>', """<listOfReactions>
   <reaction id="src" reversible="false">
    <listOfProducts><speciesReference species="A" stoichiometry="1" constant="true"/></listOfProducts>
    <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
     <apply><times/><ci>cell</ci><cn>1e-6</cn></apply></math></kineticLaw>
   </reaction>
   <reaction id="dec" reversible="false">
    <listOfReactants><speciesReference species="A" stoichiometry="2" constant="true"/></listOfReactants>
    <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
     <apply><times/><ci>cell</ci><cn>1e6</cn><ci>A</ci><ci>A</ci></apply></math></kineticLaw>
   </reaction>
   <reaction id="srcB" reversible="false">
    <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>
    <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
     <apply><times/><ci>cell</ci><cn>1e-6</cn></apply></math></kineticLaw>
   </reaction>
   <reaction id="decB" reversible="false">
    <listOfReactants><speciesReference species="B" stoichiometry="1" constant="true"/></listOfReactants>
    <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
     <apply><times/><ci>cell</ci><cn>0.5</cn><ci>B</ci></apply></math></kineticLaw>
   </reaction>
   <reaction id="decC" reversible="false">
    <listOfReactants><speciesReference species="C" stoichiometry="1" constant="true"/></listOfReactants>
    <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
     <apply><times/><ci>nuc</ci><cn>1</cn><ci>C</ci></apply></math></kineticLaw>
   </reaction>"""))


def test_volume_sets_counts_and_propensities():
    """1 L model at 1 uM / 2 uM read as a 1 fL cell: n_A = round(602.2), n_B =
    round(1204.4); the bimolecular propensity is k n_A n_B / (N_A V)."""
    net = sn.load(MOLAR.format(vu="litre", size=1.0, nuc=0.1), volume=1e-15)
    assert net.system_size == pytest.approx(NA * 1e-15, rel=1e-12)
    counts = dict(zip(net.species_ids, net.initial_state))
    assert counts["A"] == pytest.approx(602.0, abs=1e-9)
    assert counts["B"] == pytest.approx(1204.0, abs=1e-9)
    a = net.propensities(np.array([602.0, 1204.0, 0.0]))
    assert a[0] == pytest.approx(1e6 * 602 * 1204 / (NA * 1e-15), rel=1e-10)
    assert "volume 1e-15 L" in net.system_size_source and "'cell'" in net.system_size_source
    assert any("rounded" in w for w in net.warnings)
    info = cell_volume(net)
    assert info["volume_litres"] == pytest.approx(1e-15, rel=1e-12)
    assert info["reference_compartment"] == "cell"


def test_volume_units_cubic_micrometres_and_ratios_kept():
    """A 2 um^3 (= 2e-15 L) model read at 1e-15 L: factor 1/2, same concentrations;
    the nucleus keeps its size ratio (same Omega for every compartment)."""
    net0 = sn.load(MOLAR.format(vu="um3", size=2.0, nuc=0.5))
    net = sn.load(MOLAR.format(vu="um3", size=2.0, nuc=0.5), volume=1e-15)
    assert net.system_size == pytest.approx(net0.system_size / 2, rel=1e-12)
    assert cell_volume(net0)["volume_litres"] == pytest.approx(2e-15, rel=1e-12)


def test_item_units_scale_counts():
    text = ("model m; compartment c = 1; species X in c; substanceOnly species X; "
            "=> X; k*c; X => ; g*X; X = 40; k = 10; g = 1; end")
    net = sn.load(text, volume=3.0)  # undefined units: litre assumed, factor 3
    assert net.system_size == pytest.approx(3.0)
    assert net.initial_state[0] == pytest.approx(120.0)
    assert "assumed" in net.system_size_source


def test_noise_coefficient_does_not_depend_on_volume():
    """Source and dimerising decay (nonlinear) in molar units: the LNA's eta^2 * Omega is
    the same at 1 fL and 50 fL (means scale with Omega, covariances with Omega)."""
    text = SOURCE_DIMER
    small = sn.load(text, volume=1e-15)
    big = sn.load(text, volume=5e-14)
    lna_s = sn.lna(small)
    lna_b = sn.lna(big)
    cs = noise_coefficients(lna_s, small.system_size)
    cb = noise_coefficients(lna_b, big.system_size)
    finite = np.isfinite(cs["eta2_omega"]) & (cs["eta2_omega"] > 0)
    assert finite.any()
    assert np.allclose(cs["eta2_omega"][finite], cb["eta2_omega"][finite], rtol=1e-3)
    assert np.allclose(cs["eta2"][finite] * small.system_size / big.system_size,
                       cb["eta2"][finite], rtol=1e-3)


def test_volume_bad_input():
    text = MOLAR.format(vu="litre", size=1.0, nuc=0.1)
    with pytest.raises(ValueError, match="either"):
        sn.load(text, volume=1e-15, system_size=10)
    for bad in (0.0, -1.0, math.inf, float("nan")):
        with pytest.raises(ValueError, match="volume"):
            sn.load(text, volume=bad)
    with pytest.raises(ModelError, match="three-dimensional"):
        _no_3d(volume=1e-15)


def _no_3d(volume):
    xml = MOLAR.format(vu="litre", size=1.0, nuc=0.1).replace('spatialDimensions="3"',
                                                                'spatialDimensions="2"')
    xml = xml.replace('volumeUnits="litre"', "")
    return sn.load(xml, volume=volume)


def test_from_roadrunner_volume():
    te = pytest.importorskip("tellurium")
    rr = te.loadSBMLModel(MOLAR.format(vu="litre", size=1.0, nuc=0.1))
    net = sn.from_roadrunner(rr, volume=1e-15)
    assert net.system_size == pytest.approx(NA * 1e-15, rel=1e-12)
