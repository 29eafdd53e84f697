"""COMBINE archives (``.omex``): read the master SBML model, export a SED-ML experiment.

A COMBINE archive (Bergmann et al. 2014, doi:10.1186/s12859-014-0369-z) is a zip file with
a ``manifest.xml`` listing its entries and their formats; one entry may be flagged as the
*master* file. :func:`read_master_sbml` picks the SBML model to analyse: the master entry if
it is SBML, else the only SBML entry, else the model the master SED-ML file refers to.

:func:`export_omex` writes the deterministic part of an analysis -- the model with its
current parameter values and a uniform time course of every species -- as SED-ML Level 1
Version 3 (Waltemath et al. 2011, doi:10.1186/1752-0509-5-198) inside a COMBINE archive,
which libRoadRunner/Tellurium (``tellurium.sedml.tesedml.executeCombineArchive``) and other
SED-ML tools execute. Species are reported as **amounts** in model substance units (the
convention of :func:`sbmlnoise.simulate_ode`): a species whose SBML symbol means a
concentration is multiplied by its compartment size in the data generator.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelError, UnsupportedFeature

if TYPE_CHECKING:
    from ..network import ReactionNetwork

__all__ = ["is_combine_archive", "read_master_sbml", "export_omex"]

_SBML_FORMAT = "identifiers.org/combine.specifications/sbml"
_SEDML_FORMAT = "identifiers.org/combine.specifications/sed-ml"
_SUFFIXES = (".omex", ".sedx", ".zip")


def is_combine_archive(source) -> bool:
    """True if ``source`` is a path to a COMBINE archive (``.omex``/``.sedx``/``.zip``
    name, or any zip file with a ``manifest.xml``). Text sources are never archives."""
    if not isinstance(source, (str, os.PathLike)):
        return False
    text = os.fspath(source)
    if isinstance(text, bytes) or len(text) > 4096 or "\n" in text or text.lstrip().startswith("<"):
        return False
    try:
        path = Path(text)
        if not path.is_file():
            return False
        if path.suffix.lower() in _SUFFIXES:
            return True
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                return "manifest.xml" in zf.namelist()
    except (OSError, ValueError):
        return False
    return False


def _require(module: str):
    """Import an optional COMBINE/SED-ML library or say how to install it."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        package = {"libcombine": "python-libcombine", "libsedml": "python-libsedml"}[module]
        raise UnsupportedFeature(f"COMBINE archives need the '{package}' package: pip install "
                                 "'sbmlnoise[combine]'", feature="COMBINE archive") from None


def _entries(archive) -> list[tuple[str, str, bool]]:
    out = []
    for i in range(archive.getNumEntries()):
        entry = archive.getEntry(i)
        out.append((entry.getLocation().lstrip("./").lstrip("/") if entry.getLocation()
                    else "", entry.getFormat() or "", bool(entry.getMaster())))
    return out


def read_master_sbml(path) -> tuple[str, str]:
    """``(sbml_text, location)`` of the model to analyse in a COMBINE archive.

    Raises
    ------
    ModelError
        Not a readable archive, no SBML entry, or several SBML entries and no master
        to choose between them (the message lists them).
    """
    libcombine = _require("libcombine")
    path = Path(path)
    archive = libcombine.CombineArchive()
    if not archive.initializeFromArchive(str(path)):
        raise ModelError(f"'{path}' is not a readable COMBINE archive (zip with manifest.xml)")
    try:
        entries = _entries(archive)
        sbml = [e for e in entries if _SBML_FORMAT in e[1].lower()
                or e[1].lower().endswith("sbml")]
        master = [e for e in sbml if e[2]]
        chosen = master[0] if master else (sbml[0] if len(sbml) == 1 else None)
        if chosen is None and sbml:
            chosen = _model_of_master_sedml(archive, entries, sbml)
        if chosen is None:
            listed = ", ".join(f"{loc} ({fmt})" for loc, fmt, _ in entries) or "none"
            reason = ("has no SBML entry" if not sbml else
                      "has several SBML entries and no master file to choose between them")
            raise ModelError(f"COMBINE archive '{path.name}' {reason}; entries: {listed}")
        text = archive.extractEntryToString(chosen[0])
        if not text:
            raise ModelError(f"COMBINE archive '{path.name}': entry '{chosen[0]}' is empty")
        return text, chosen[0]
    finally:
        archive.cleanUp()


def _model_of_master_sedml(archive, entries: list[tuple[str, str, bool]],
                           sbml: list[tuple[str, str, bool]]):
    libsedml = _require("libsedml")

    for loc, fmt, master in entries:
        if master and _SEDML_FORMAT in fmt.lower():
            doc = libsedml.readSedMLFromString(archive.extractEntryToString(loc))
            for k in range(doc.getNumModels()):
                source = doc.getModel(k).getSource().lstrip("./")
                for entry in sbml:
                    if entry[0] == source:
                        return entry
    return None


# =========================================================================== export
def _sbml_with_values(net: ReactionNetwork) -> str:
    """The network's SBML with the current parameter values and compartment sizes (e.g.
    after ``net.with_parameters``) written into it."""
    import libsbml

    doc = libsbml.readSBMLFromString(net.sbml)
    model = doc.getModel()
    if model is None:
        raise ModelError(f"model '{net.id}' carries no SBML text to export")
    for p in net.parameters:
        if p.kind == "global" and model.getParameter(p.id) is not None:
            model.getParameter(p.id).setValue(float(p.value))
        elif p.kind == "compartment" and model.getCompartment(p.id) is not None:
            model.getCompartment(p.id).setSize(float(p.value))
        elif p.kind == "local" and "." in p.id:
            rid, lid = p.id.split(".", 1)
            r = model.getReaction(rid)
            law = r.getKineticLaw() if r is not None else None
            if law is not None:
                local = law.getLocalParameter(lid) or law.getParameter(lid)
                if local is not None:
                    local.setValue(float(p.value))
    return libsbml.writeSBMLToString(doc)


def _default_t_end(net: ReactionNetwork) -> float:
    import numpy as np

    try:
        from ..lna import lna
        eig = np.asarray(lna(net, emre=False).extra.get("eigenvalues", []))
        slow = np.abs(eig.real[eig.real < 0])
        if slow.size:
            return float(10.0 / slow.min())
    except Exception:  # noqa: BLE001 - any failure: fall back to a fixed horizon
        pass
    return 100.0


def _sedml(net: ReactionNetwork, t_end: float, n_points: int, species) -> str:
    libsedml = _require("libsedml")

    doc = libsedml.SedDocument(1, 3)
    model = doc.createModel()
    model.setId("model")
    model.setSource("model.xml")
    model.setLanguage("urn:sedml:language:sbml")
    sim = doc.createUniformTimeCourse()
    sim.setId("timecourse")
    sim.setInitialTime(0.0)
    sim.setOutputStartTime(0.0)
    sim.setOutputEndTime(float(t_end))
    sim.setNumberOfPoints(int(n_points) - 1)  # SED-ML counts intervals
    sim.createAlgorithm().setKisaoID("KISAO:0000019")  # CVODE
    task = doc.createTask()
    task.setId("task")
    task.setModelReference("model")
    task.setSimulationReference("timecourse")
    report = doc.createReport()
    report.setId("report")
    report.setName("species amounts (model substance units)")
    plot = doc.createPlot2D()
    plot.setId("plot")
    _data_generator(doc, "time", "time", [("t", None, "urn:sedml:symbol:time")], "t")
    _dataset(report, "time")
    comp_of = {s.id: s.compartment for s in net.species}
    for sid in species:
        variables = [(sid, f"/sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species[@id='{sid}']",
                      None)]
        formula = sid
        if sid in set(net.concentration_species) and comp_of.get(sid):
            cid = comp_of[sid]
            variables.append((f"size_{cid}", "/sbml:sbml/sbml:model/sbml:listOfCompartments/"
                              f"sbml:compartment[@id='{cid}']/@size", None))
            formula = f"{sid} * size_{cid}"
        _data_generator(doc, f"amount_{sid}", sid, variables, formula)
        _dataset(report, f"amount_{sid}", sid)
        curve = plot.createCurve()
        curve.setId(f"curve_{sid}")
        curve.setName(sid)
        curve.setLogX(False)
        curve.setLogY(False)
        curve.setXDataReference("time")
        curve.setYDataReference(f"amount_{sid}")
    text = libsedml.writeSedMLToString(doc)
    if doc.getNumErrors(libsedml.LIBSEDML_SEV_ERROR):
        raise ModelError(f"SED-ML export of model '{net.id}' failed: "
                         f"{doc.getErrorLog().toString().strip()}")
    return text


def _data_generator(doc, dg_id: str, name: str,
                    variables: Sequence[tuple[str, str | None, str | None]], formula: str):
    import libsedml

    dg = doc.createDataGenerator()
    dg.setId(dg_id)
    dg.setName(name)
    for vid, target, symbol in variables:
        var = dg.createVariable()
        var.setId(vid)
        var.setTaskReference("task")
        if symbol:
            var.setSymbol(symbol)
        else:
            var.setTarget(target)
    dg.setMath(libsedml.parseL3Formula(formula))
    return dg


def _dataset(report, dg_id: str, label: str | None = None) -> None:
    ds = report.createDataSet()
    ds.setId(f"ds_{dg_id}")
    ds.setLabel(label or dg_id)
    ds.setDataReference(dg_id)


def export_omex(net, path, *, t_end: float | None = None, n_points: int = 201,
                species=None) -> str:
    """Write the deterministic part of an analysis as a COMBINE archive with SED-ML.

    Parameters
    ----------
    net : ReactionNetwork or AnalysisReport
        The model (an :class:`~sbmlnoise.analysis.AnalysisReport` contributes its
        ``network``, its reported species and its time scale).
    path : str or os.PathLike
        The ``.omex`` file to write (atomically).
    t_end : float, optional
        End of the time course (model time units). Default: 10 slowest relaxation times of
        the rate equations (``time_scale`` of a report), else 100.
    n_points : int
        Output points including ``t = 0``.
    species : sequence of str, optional
        Species to report (default: all, or a report's species).

    Returns
    -------
    str
        The path written. The archive holds ``model.xml`` (SBML with the network's
        current parameter values), ``simulation.sedml`` (master: a uniform time course
        with CVODE, KISAO:0000019, a report and a plot of the species amounts) and
        ``manifest.xml``.
    """
    from .._io import atomic_write

    libcombine = _require("libcombine")

    if hasattr(net, "statistics") and hasattr(net, "network"):  # an AnalysisReport
        rep = net
        net = rep.network
        if net is None:
            raise ModelError("this analysis report carries no network to export")
        species = list(rep.species) if species is None else species
        if t_end is None and rep.settings.get("time_scale"):
            t_end = 10.0 * float(rep.settings["time_scale"])
    species = list(net.species_ids) if species is None else list(species)
    for sid in species:
        net.index(sid)
    if int(n_points) < 2:
        raise ValueError("n_points must be >= 2")
    t_end = _default_t_end(net) if t_end is None else float(t_end)
    if not t_end > 0:
        raise ValueError("t_end must be positive")
    sbml = _sbml_with_values(net)
    sedml = _sedml(net, t_end, int(n_points), species)
    archive = libcombine.CombineArchive()
    archive.addFileFromString(sbml, "model.xml", "http://identifiers.org/combine.specifications/"
                              "sbml", False)
    archive.addFileFromString(sedml, "simulation.sedml", "http://identifiers.org/combine."
                              "specifications/sed-ml", True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, "archive.omex")
        if not archive.writeToFile(tmp_path):
            raise ModelError(f"could not write the COMBINE archive for model '{net.id}'")
        archive.cleanUp()
        with open(tmp_path, "rb") as handle:
            data = handle.read()
    return atomic_write(path, data)
