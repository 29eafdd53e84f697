"""COMBINE archives: reading the master SBML (libcombine) and executing our SED-ML export
with an independent tool (Tellurium/libRoadRunner)."""

from __future__ import annotations

import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise.importer._omex import is_combine_archive, read_master_sbml
from sbmlnoise.cli import main

from conftest import bundled_path

libcombine = pytest.importorskip("libcombine")

SBML_FMT = "http://identifiers.org/combine.specifications/sbml"
SEDML_FMT = "http://identifiers.org/combine.specifications/sed-ml"


def _archive(path, entries):
    """Write a COMBINE archive with libcombine: entries = [(location, text, format, master)]."""
    archive = libcombine.CombineArchive()
    for loc, text, fmt, master in entries:
        assert archive.addFileFromString(text, loc, fmt, master)
    assert archive.writeToFile(str(path))
    archive.cleanUp()
    return path


def _same_network(a, b):
    assert a.species_ids == b.species_ids
    assert a.reaction_ids == b.reaction_ids
    assert a.parameter_ids == b.parameter_ids
    np.testing.assert_array_equal(a.parameter_values, b.parameter_values)
    np.testing.assert_array_equal(a.stoichiometry, b.stoichiometry)
    np.testing.assert_array_equal(a.initial_amounts, b.initial_amounts)


def test_load_reads_master_sbml_of_archive_built_with_libcombine(tmp_path):
    text = bundled_path("telegraph").read_text(encoding="utf-8")
    other = bundled_path("birth_death").read_text(encoding="utf-8")
    path = _archive(tmp_path / "telegraph.omex",
                    [("models/other.xml", other, SBML_FMT, False),
                     ("models/telegraph.xml", text, SBML_FMT, True)])
    assert is_combine_archive(path)
    got, location = read_master_sbml(path)
    assert location == "models/telegraph.xml" and got == text
    net = sn.load(path)
    _same_network(net, sn.load(bundled_path("telegraph")))
    # the statistics are those of the model itself
    assert float(sn.lna(net).fano["M"]) == pytest.approx(1 + 40 / 8.75, rel=1e-10)


def test_single_sbml_entry_without_master_and_plain_zip_suffix(tmp_path):
    text = bundled_path("birth_death").read_text(encoding="utf-8")
    path = _archive(tmp_path / "bd.zip", [("bd.xml", text, SBML_FMT, False)])
    _same_network(sn.load(str(path)), sn.load(bundled_path("birth_death")))


def test_ambiguous_or_empty_archives_are_model_errors(tmp_path):
    a = bundled_path("telegraph").read_text(encoding="utf-8")
    b = bundled_path("birth_death").read_text(encoding="utf-8")
    two = _archive(tmp_path / "two.omex", [("a.xml", a, SBML_FMT, False),
                                           ("b.xml", b, SBML_FMT, False)])
    with pytest.raises(sn.ModelError, match="several SBML entries.*a.xml"):
        sn.load(two)
    none = _archive(tmp_path / "none.omex", [("notes.txt", "hello", "http://purl.org/NET/"
                                              "mediatypes/text/plain", False)])
    with pytest.raises(sn.ModelError, match="no SBML entry"):
        sn.load(none)
    junk = tmp_path / "junk.omex"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(sn.ModelError, match="COMBINE archive"):
        sn.load(junk)


def test_text_sources_are_not_archives():
    assert not is_combine_archive("model bd; => X; k; k = 1; end")
    assert not is_combine_archive("x" * 5000)
    assert not is_combine_archive(str(bundled_path("telegraph")))


def test_cli_analyze_accepts_omex(tmp_path, capsys):
    text = bundled_path("telegraph").read_text(encoding="utf-8")
    path = _archive(tmp_path / "t.omex", [("t.xml", text, SBML_FMT, True)])
    code = main(["analyze", str(path), "--method", "lna", "--thermo", "none",
                 "--out", str(tmp_path / "rep"), "--no-progress"])
    assert code == 0
    assert (tmp_path / "rep" / "report.html").exists()
    assert "telegraph" in capsys.readouterr().out


def _execute_with_tellurium(path):
    pytest.importorskip("tellurium")
    from tellurium.sedml.tesedml import executeCombineArchive
    results = executeCombineArchive(str(path), createOutputs=True, saveOutputs=False,
                                    plottingEngine="matplotlib")
    import matplotlib.pyplot as plt
    plt.close("all")  # Tellurium draws the SED-ML plot with pyplot
    (result,) = results.values()
    return result["dataGenerators"]


def test_exported_sedml_runs_in_tellurium_and_matches_simulate_ode(tmp_path):
    """A concentration species in a compartment of size 2 (amount = 2 x concentration) and
    a parameter changed after loading: Tellurium's CVODE run of our SED-ML agrees with
    sn.simulate_ode to rtol 1e-4 (both integrators' default tolerances)."""
    net = sn.load("model m; compartment c = 2; species X in c, Y in c; => X; k; X => Y; a*X;"
                  " Y => ; g*Y; k = 10; a = 2; g = 1; X = 1; Y = 0; end").with_parameters(k=7.0)
    path = sn.export_omex(net, tmp_path / "m.omex", t_end=5.0, n_points=11)
    dgs = _execute_with_tellurium(path)
    times = np.asarray(dgs["time"]).ravel()
    np.testing.assert_allclose(times, np.linspace(0, 5, 11))
    ode = sn.simulate_ode(net, times)
    for sid in ("X", "Y"):
        np.testing.assert_allclose(np.asarray(dgs[f"amount_{sid}"]).ravel(), ode[sid],
                                   rtol=1e-4, atol=1e-6)
    back = sn.load(path)  # the exported archive round-trips, with k = 7
    _same_network(back, net)


def test_export_from_analysis_report(tmp_path):
    rep = sn.analyze(bundled_path("telegraph"), method="lna", thermo=None, trajectories=0)
    path = sn.export_omex(rep, tmp_path / "rep.omex", n_points=21)
    dgs = _execute_with_tellurium(path)
    times = np.asarray(dgs["time"]).ravel()
    assert times[-1] == pytest.approx(10 * rep.settings["time_scale"])
    ode = sn.simulate_ode(rep.network, times)
    np.testing.assert_allclose(np.asarray(dgs["amount_M"]).ravel(), ode["M"], rtol=1e-4,
                               atol=1e-6)
    with pytest.raises(KeyError):
        sn.export_omex(rep.network, tmp_path / "x.omex", species=["nope"])
