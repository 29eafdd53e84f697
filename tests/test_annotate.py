"""SBML write-back: distrib uncertainties + sbmlnoise annotations, round trips.

For every model: the annotated file (1) validates with libsbml with no new errors or
warnings, (2) reads back the numbers that were written, (3) gives the input text back byte for byte once our additions are stripped, and
(4) re-annotating replaces rather than duplicates.
"""

from __future__ import annotations

import importlib
import json
import random
from pathlib import Path

import libsbml
import numpy as np
import pandas as pd
import pytest

import sbmlnoise as sn

from conftest import SUITE as SUITE_ROOT
from sbmlnoise.analysis import AnalysisReport
from sbmlnoise.stats import NoiseStatistics

A = importlib.import_module("sbmlnoise.annotate")

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted((ROOT / "models").glob("*.xml"))
SUITE = SUITE_ROOT / "semantic"
SUITE_CASES = sorted(SUITE.glob("*/*-sbml-*.xml")) if SUITE.exists() else []


def _synthetic_report(path) -> AnalysisReport:
    """A report with made-up numbers for every species of an SBML file (the round trip
    does not depend on where the numbers come from)."""
    doc = libsbml.readSBMLFromFile(str(path))
    ids = [s.getId() for s in doc.getModel().getListOfSpecies()]
    mean = pd.Series(np.arange(1, len(ids) + 1, dtype=float) * 1.5, index=ids)
    cov = pd.DataFrame(np.diag(mean.to_numpy() * 2.25), index=ids, columns=ids)
    st = NoiseStatistics(mean=mean, covariance=cov, method="lna")
    return AnalysisReport(model_id=doc.getModel().getId() or "m", species=tuple(ids),
                          statistics={"lna": st}, primary="lna",
                          created="2026-01-01T00:00:00+00:00",
                          versions={"sbmlnoise": sn.__version__},
                          settings={"method": "lna", "system_size": 1.0})


def _report_for(path) -> AnalysisReport:
    try:
        return sn.analyze(path, method="lna", trajectories=0)
    except (sn.SbmlnoiseError, ValueError):
        return _synthetic_report(path)


def _check_round_trip(src: Path, rep: AnalysisReport, tmp_path: Path) -> dict:
    out1, out2 = tmp_path / "a1.xml", tmp_path / "a2.xml"
    original = src.read_bytes()
    A.annotate(src, rep, out1)
    A.annotate(out1, rep, out2)                      # re-run on annotated output
    assert src.read_bytes() == original              # input untouched
    before = A.consistency_issues(src)
    after = A.consistency_issues(out2)
    new = {k: v for k, v in after.items() if v > before.get(k, 0)}
    assert not new, f"new libsbml issues {new}"
    # byte-faithful (issue 16 item 14): stripping gives the input text back exactly
    from sbmlnoise.importer._guard import decode_bytes

    assert A.strip_annotations(out2) == decode_bytes(original)
    doc = libsbml.readSBMLFromFile(str(out2))
    src_doc = libsbml.readSBMLFromFile(str(src))
    assert (doc.getLevel(), doc.getVersion()) == (src_doc.getLevel(), src_doc.getVersion())
    text = out2.read_text(encoding="utf-8")
    n_species = sum(1 for s in rep.species if doc.getModel().getSpecies(s) is not None)
    assert text.count(f"<{A.PREFIX}:noise ") == n_species   # replaced, not duplicated
    assert text.count(f"<{A.PREFIX}:analysis ") == 1
    got = A.read_annotations(out2)
    st = rep.primary_statistics
    for s in rep.species:
        if doc.getModel().getSpecies(s) is None:
            continue
        entry = got["species"][s]
        for key in ("mean", "variance", "std", "cv", "fano"):
            want = float(getattr(st, key)[s])
            if np.isfinite(want):
                # libsbml writes doubles with 15 significant digits
                assert entry[key] == pytest.approx(want, rel=1e-14, abs=0), (s, key)
        assert entry["method"] == rep.primary
    assert got["model"]["tool"] == "sbmlnoise"
    assert got["model"]["toolVersion"] == sn.__version__
    return got


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_round_trip_bundled_models(path, tmp_path):
    _check_round_trip(path, _report_for(path), tmp_path)


def test_level3_uses_distrib_and_annotation(tmp_path):
    src = ROOT / "models" / "telegraph.xml"
    rep = sn.analyze(src, method="fsp", trajectories=0)
    out = tmp_path / "t.xml"
    sn.annotate(src, rep, out)
    doc = libsbml.readSBMLFromFile(str(out))
    assert doc.isPackageEnabled("distrib") and doc.getPackageRequired("distrib")
    m = doc.getModel().getSpecies("M")
    unc = m.getPlugin("distrib").getUncertainty(0)
    types = {unc.getUncertParameter(i).getType(): unc.getUncertParameter(i).getValue()
             for i in range(unc.getNumUncertParameters())}
    st = rep.statistics["fsp"]
    want = {libsbml.DISTRIB_UNCERTTYPE_MEAN: st.mean["M"],
            libsbml.DISTRIB_UNCERTTYPE_VARIANCE: st.variance["M"],
            libsbml.DISTRIB_UNCERTTYPE_STANDARDDEVIATION: st.std["M"],
            libsbml.DISTRIB_UNCERTTYPE_COEFFIENTOFVARIATION: st.cv["M"]}
    for utype, value in want.items():  # libsbml writes 15 significant digits
        assert types[utype] == pytest.approx(float(value), rel=1e-14)
    got = sn.read_annotations(out)
    bursts = {b["estimate"]: b for b in got["species"]["M"]["bursts"]}
    assert bursts["kinetic"]["size"] == pytest.approx(10.0)
    assert bursts["kinetic"]["frequency"] == pytest.approx(0.5)
    th = got["model"]["thermodynamics"]
    assert th["status"] == "ok" and th["detailedBalance"] is False
    assert th["cycles"], "telegraph has one (one-way) cycle"
    assert got["model"]["settings"]["method"] == "fsp"
    # our species element carries the moments too, marked as ours, so a user's own
    # uncertainty that happens to be named "sbmlnoise" is never read as ours
    node = A._our_node(m, "noise")
    assert node.getAttributes().getValue("writer") == A.WRITER
    assert float(node.getAttributes().getValue("mean")) == pytest.approx(st.mean["M"],
                                                                         rel=1e-15)


@pytest.mark.parametrize("level, version", [(1, 2), (2, 1), (2, 4), (3, 1)])
def test_other_levels_keep_their_level(level, version, tmp_path):
    """Levels 1-2 get the annotation only (with the moments); L3V1 uses distrib too."""
    doc = libsbml.readSBMLFromFile(str(ROOT / "models" / "telegraph.xml"))
    assert doc.setLevelAndVersion(level, version, False)
    src = tmp_path / f"tel_l{level}v{version}.xml"
    libsbml.writeSBMLToFile(doc, str(src))
    rep = sn.analyze(src, method="lna", trajectories=0, system_size=1)
    got = _check_round_trip(src, rep, tmp_path)
    out = libsbml.readSBMLFromFile(str(tmp_path / "a2.xml"))
    assert (out.getLevel(), out.getVersion()) == (level, version)
    assert out.isPackageEnabled("distrib") == (level == 3)
    assert got["species"]["M"]["mean"] == pytest.approx(4.0, rel=1e-9)


def test_level2_gets_annotation_only(tmp_path):
    doc = libsbml.readSBMLFromFile(str(ROOT / "models" / "telegraph.xml"))
    assert doc.setLevelAndVersion(2, 4, False)
    src = tmp_path / "tel_l2.xml"
    libsbml.writeSBMLToFile(doc, str(src))
    # Level 2's default substance unit is the mole: say the amounts are counts
    rep = sn.analyze(src, method="lna", trajectories=0, system_size=1)
    got = _check_round_trip(src, rep, tmp_path)
    out = libsbml.readSBMLFromFile(str(tmp_path / "a2.xml"))
    assert out.getLevel() == 2 and out.getVersion() == 4
    assert not out.isPackageEnabled("distrib")
    assert got["species"]["M"]["mean"] == pytest.approx(4.0, rel=1e-9)


def test_existing_annotations_and_distrib_are_kept(tmp_path):
    """Foreign annotations and a user's own uncertainty survive annotate + strip."""
    doc = libsbml.readSBMLFromFile(str(ROOT / "models" / "birth_death.xml"))
    doc.enablePackage(libsbml.DistribExtension.getXmlnsL3V1V1(), "distrib", True)
    doc.setPackageRequired("distrib", True)
    sp = doc.getModel().getSpecies(0)
    unc = sp.getPlugin("distrib").createUncertainty()
    unc.setName("measured")
    p = unc.createUncertParameter()
    p.setType(libsbml.DISTRIB_UNCERTTYPE_MEAN)
    p.setValue(7.0)
    sp.appendAnnotation(libsbml.XMLNode.convertStringToXMLNode(
        '<other:note xmlns:other="http://example.org/other" value="keep me"/>'))
    src = tmp_path / "bd_foreign.xml"
    libsbml.writeSBMLToFile(doc, str(src))
    rep = sn.analyze(src, method="lna", trajectories=0)
    _check_round_trip(src, rep, tmp_path)
    text = (tmp_path / "a2.xml").read_text(encoding="utf-8")
    assert "keep me" in text and 'name="measured"' in text


def test_input_never_overwritten_unless_in_place(tmp_path):
    src = tmp_path / "bd.xml"
    src.write_bytes((ROOT / "models" / "birth_death.xml").read_bytes())
    rep = sn.analyze(src, method="lna", trajectories=0)
    original = src.read_bytes()
    with pytest.raises(ValueError, match="in_place"):
        sn.annotate(src, rep, src)
    with pytest.raises(ValueError):
        sn.annotate(src, rep)
    assert src.read_bytes() == original
    sn.annotate(src, rep, in_place=True)
    assert src.read_bytes() != original
    assert sn.read_annotations(src)["species"]
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_annotate_callable_after_module_import():
    importlib.import_module("sbmlnoise.annotate")
    assert callable(sn.annotate)


def test_read_annotations_of_plain_model_is_empty():
    got = sn.read_annotations(ROOT / "models" / "birth_death.xml")
    assert got == {"model": {}, "species": {}}


def test_model_derived_text_is_escaped(tmp_path):
    """A thermodynamics reason with XML metacharacters is escaped, read back verbatim."""
    src = ROOT / "models" / "birth_death.xml"
    rep = _synthetic_report(src)
    rep.thermo_status = {"status": "unavailable", "reason": 'a<b & "c" > d'}
    out = tmp_path / "x.xml"
    sn.annotate(src, rep, out)
    assert sn.read_annotations(out)["model"]["thermodynamics"]["reason"] == 'a<b & "c" > d'


def _suite_sample(n, seed=7):
    cases = list(SUITE_CASES)
    random.Random(seed).shuffle(cases)
    return sorted(cases[:n])


@pytest.mark.skipif(not SUITE_CASES, reason="SBML Test Suite not present")
@pytest.mark.parametrize("path", _suite_sample(30), ids=lambda p: p.parent.name)
def test_round_trip_suite_sample(path, tmp_path):
    _check_round_trip(path, _synthetic_report(path), tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(not SUITE_CASES, reason="SBML Test Suite not present")
def test_round_trip_whole_suite(tmp_path):
    failures = []
    for path in SUITE_CASES:
        try:
            _check_round_trip(path, _synthetic_report(path), tmp_path)
        except AssertionError as err:
            failures.append(f"{path.parent.name}: {str(err)[:200]}")
    assert not failures, json.dumps(failures[:20], indent=1)


def test_time_point_analysis_is_labelled(tmp_path):
    src = ROOT / "models" / "birth_death.xml"
    rep = sn.analyze(src, method="lna", time=0.5, trajectories=0, thermo=None)
    out = tmp_path / "bd_t.xml"
    sn.annotate(src, rep, out)
    model = sn.read_annotations(out)["model"]
    assert model["stationary"] is False and model["time"] == pytest.approx(0.5)
    stationary = sn.read_annotations(sn.annotate(src, _report_for(src), tmp_path / "s.xml"))
    assert stationary["model"]["stationary"] is True and "time" not in stationary["model"]


def test_antimony_source_becomes_annotated_sbml(tmp_path):
    src = ROOT / "models" / "telegraph.ant"
    rep = sn.analyze(src, method="lna", trajectories=0, thermo=None)
    out = sn.annotate(src, rep, tmp_path / "tel.xml")
    got = sn.read_annotations(out)
    assert got["species"]["M"]["fano"] == pytest.approx(float(rep.statistics["lna"].fano["M"]))
    assert libsbml.readSBMLFromFile(str(out)).getLevel() == 3


# ------------------------------------------------ issue 16 item 14: byte-faithful write-back
HOSTILE = """<?xml version='1.0' encoding='UTF-8'?>
<?xml-stylesheet type="text/xsl" href="style.xsl"?>
<!-- a comment before the root -->
<sbml level='3' version='1' xmlns='http://www.sbml.org/sbml/level3/version1/core'
      xmlns:distrib='http://www.sbml.org/sbml/level3/version1/distrib/version1'
      distrib:required='true'>
  <model id='m' metaid='meta_m'>
    <notes><body xmlns="http://www.w3.org/1999/xhtml"><p>notes &amp; more</p></body></notes>
    <annotation>
      <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
               xmlns:bqbiol="http://biomodels.net/biology-qualifiers/">
        <rdf:Description rdf:about="#meta_m"><bqbiol:is><rdf:Bag>
          <rdf:li rdf:resource="http://identifiers.org/x/1"/></rdf:Bag></bqbiol:is>
        </rdf:Description>
      </rdf:RDF>
      <sbmlnoise:analysis xmlns:sbmlnoise="https://sbmlnoise.org/annotation/v1" mine="yes"/>
      <!-- user comment inside the annotation -->
    </annotation>
    <listOfCompartments><compartment id='c' size='1' constant='true' spatialDimensions='3'/></listOfCompartments>
    <listOfSpecies>
      <species id='A' compartment='c' initialAmount='5' hasOnlySubstanceUnits='true' boundaryCondition='false' constant='false'   />
      <species id='B' compartment='c' initialAmount='0' hasOnlySubstanceUnits='true' boundaryCondition='false' constant='false'><annotation/><distrib:listOfUncertainties><distrib:uncertainty distrib:name='sbmlnoise'><distrib:uncertParameter distrib:value='42' distrib:type='mean'/></distrib:uncertainty></distrib:listOfUncertainties></species>
    </listOfSpecies>
    <listOfParameters><parameter id='k' value='2' constant='true'/></listOfParameters>
    <listOfReactions>
      <reaction id='r' reversible='false' fast='false'>
        <listOfReactants><speciesReference species='A' stoichiometry='1' constant='true'/></listOfReactants>
        <listOfProducts><speciesReference species='B' stoichiometry='1' constant='true'/></listOfProducts>
        <kineticLaw><math xmlns='http://www.w3.org/1998/Math/MathML'><apply><times/><ci>k</ci><ci>A</ci></apply></math></kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>
<!-- trailing comment -->
"""


def test_write_back_is_byte_faithful_and_keeps_user_elements(tmp_path):
    src = tmp_path / "hostile.xml"
    src.write_text(HOSTILE, encoding="utf-8")
    rep = _synthetic_report(src)
    out1, out2 = tmp_path / "a1.xml", tmp_path / "a2.xml"
    with pytest.warns(UserWarning, match="m already carries an annotation element in the "
                                         "sbmlnoise namespace that sbmlnoise did not write"):
        A.annotate(src, rep, out1)
    with pytest.warns(UserWarning):
        A.annotate(out1, rep, out2)
    text = out2.read_text(encoding="utf-8")
    # everything of the user's is still there, in the same bytes
    for piece in ('<?xml-stylesheet type="text/xsl" href="style.xsl"?>',
                  "<!-- a comment before the root -->", "<!-- trailing comment -->",
                  "<!-- user comment inside the annotation -->",
                  '<sbmlnoise:analysis xmlns:sbmlnoise="https://sbmlnoise.org/annotation/v1" '
                  'mine="yes"/>', "<distrib:uncertParameter distrib:value='42' "
                  "distrib:type='mean'/>", 'rdf:about="#meta_m"'):
        assert text.count(piece) == 1, piece
    assert A.strip_annotations(out2) == HOSTILE
    assert A.strip_annotations(out1) == HOSTILE
    # species A and B (replaced, not duplicated); the model keeps only the user's element
    assert text.count('writer="sbmlnoise.annotate"') == 2
    # read back our numbers, not the user's element or uncertainty named sbmlnoise
    got = A.read_annotations(out2)
    assert got["species"]["B"]["mean"] == pytest.approx(3.0, rel=1e-15)  # synthetic: 1.5*2
    assert got["species"]["A"]["mean"] == pytest.approx(1.5, rel=1e-15)
    assert got["model"] == {}  # the user's <sbmlnoise:analysis mine="yes"/> is not ours
    before = A.consistency_issues(src)
    after = A.consistency_issues(out2)
    assert not {k: v for k, v in after.items() if v > before.get(k, 0)}


def test_level2_write_back_adds_no_package(tmp_path):
    src = ROOT / "models" / "birth_death.xml"
    doc = libsbml.readSBMLFromFile(str(src))
    doc.setLevelAndVersion(2, 4)
    l2 = tmp_path / "l2.xml"
    text = libsbml.writeSBMLToString(doc)
    head, rest = text.split("\n", 1)
    l2.write_text(f"{head}\n<!-- L2 -->\n{rest}", encoding="utf-8")
    rep = _synthetic_report(l2)
    out = tmp_path / "o.xml"
    A.annotate(l2, rep, out)
    text = out.read_text(encoding="utf-8")
    assert "distrib" not in text
    assert A.strip_annotations(out) == l2.read_text(encoding="utf-8")


def test_in_place_on_a_symlink_writes_through_and_keeps_the_mode(tmp_path):
    """Issue 16 item 15: the link stays a link, its target gets the annotations and keeps
    its permission bits; no temporary file is left."""
    import os
    import stat

    target = tmp_path / "real.xml"
    target.write_bytes((ROOT / "models" / "birth_death.xml").read_bytes())
    os.chmod(target, 0o640)
    link = tmp_path / "link.xml"
    link.symlink_to(target)
    rep = _synthetic_report(target)
    sn.annotate(link, rep, in_place=True)
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sn.read_annotations(target)["species"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.xml", "real.xml"]
