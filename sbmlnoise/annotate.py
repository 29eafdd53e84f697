"""Write analysis results back into SBML, read them again, and strip them.

Conventions (documented for users in docs/annotations.md):

* **Distributions package (SBML Level 3 only).** Each analysed species gets one
  ``distrib:uncertainty`` (name ``"sbmlnoise"``) with four ``uncertParameter`` children:
  ``mean``, ``variance``, ``standardDeviation`` and ``coeffientOfVariation`` (libsbml's
  spelling of the type). They describe the **stationary distribution of the species' copy
  number** -- molecule counts (``system_size`` times the amount; ``system_size`` is
  recorded on the model annotation), not concentrations. The mean and standard deviation
  carry ``units="item"``, the CV ``units="dimensionless"``; the variance (items squared)
  has no units attribute. If the document did not use the package before, it is enabled
  with ``distrib:required="true"`` (the package specification demands it; the
  uncertainty elements do not change the model's mathematical meaning).
* **Annotation.** Exactly one element in the namespace :data:`NAMESPACE` (prefix
  ``sbmlnoise``) per annotated SBML object: ``<sbmlnoise:analysis>`` on the model (tool,
  version, date, methods, settings, thermodynamic verdict, cycles, entropy production)
  and ``<sbmlnoise:noise>`` on each species (Fano factor, autocorrelation time, PSD
  summary, bursts, the numbers of the other methods, and the mean, variance, standard
  deviation and CV), marked ``writer="sbmlnoise.annotate"``.
* **Byte-faithful.** Our elements are spliced into the untouched input text inside
  marked regions (:mod:`sbmlnoise._splice`): everything else stays byte for byte, and
  :func:`strip_annotations` returns the input text exactly. Re-running replaces our
  regions. A user's own element in our namespace, or uncertainty named ``sbmlnoise``, is
  never removed, overwritten or read as ours. The SBML level and version never change.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import libsbml

from .errors import ModelError
from ._io import atomic_write

__all__ = ["annotate", "read_annotations", "strip_annotations", "NAMESPACE", "PREFIX",
           "consistency_issues"]

NAMESPACE = "https://sbmlnoise.org/annotation/v1"
PREFIX = "sbmlnoise"
UNCERTAINTY_NAME = "sbmlnoise"
#: value of the ``writer`` attribute that marks our own elements (a user's element in our
#: namespace without it is never read as ours, and never removed)
WRITER = "sbmlnoise.annotate"
_MODEL_TAG = "analysis"
_SPECIES_TAG = "noise"
_UNCERT = {
    "mean": libsbml.DISTRIB_UNCERTTYPE_MEAN,
    "variance": libsbml.DISTRIB_UNCERTTYPE_VARIANCE,
    "std": libsbml.DISTRIB_UNCERTTYPE_STANDARDDEVIATION,
    "cv": libsbml.DISTRIB_UNCERTTYPE_COEFFIENTOFVARIATION,
}
_UNCERT_UNITS = {"mean": "item", "std": "item", "cv": "dimensionless"}
_TYPE_TO_KEY = {v: k for k, v in _UNCERT.items()}


# =========================================================================== helpers
def _read_document(source) -> tuple[libsbml.SBMLDocument, str | None]:
    """Parse a path or SBML/Antimony text into a libsbml document (fatal errors raise)."""
    from .importer._sbml import _read_source, antimony_to_sbml
    text, path = _read_source(source if isinstance(source, (str, os.PathLike)) else str(source))
    if not text.lstrip("\ufeff \t\r\n").startswith("<"):
        text = antimony_to_sbml(text)
    return _document_of(text, path), path


def _distrib_uri(doc) -> str:
    return libsbml.DistribExtension.getXmlnsL3V1V1()


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int,)) and not isinstance(v, bool):
        return str(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "INF" if f > 0 else "-INF"
    return repr(f)


def _attrs(d: dict) -> str:
    """XML attributes from a dict, skipping None, with values escaped."""
    return "".join(f" {k}={quoteattr(_fmt(v))}" for k, v in d.items() if v is not None)


def _all_sbase(doc):
    model = doc.getModel()
    yield model
    elements = model.getListOfAllElements()
    for i in range(elements.getSize()):
        yield elements.get(i)


def _our_uncertainties(species):
    plugin = species.getPlugin("distrib")
    if plugin is None:
        return plugin, []
    ours = [i for i in range(plugin.getNumUncertainties())
            if plugin.getUncertainty(i).getName() == UNCERTAINTY_NAME]
    return plugin, ours


def _strip_document(doc) -> None:
    """Remove every sbmlnoise annotation and uncertainty in place."""
    model = doc.getModel()
    distrib_added = False
    ann = model.getAnnotation() if model.isSetAnnotation() else None
    if ann is not None:
        for i in range(ann.getNumChildren()):
            child = ann.getChild(i)
            if child.getURI() == NAMESPACE and child.getName() == _MODEL_TAG:
                distrib_added = child.getAttributes().getValue("distribAdded") == "true"
    for sbase in list(_all_sbase(doc)):
        if sbase is None or not sbase.isSetAnnotation():
            continue
        ann = sbase.getAnnotation()
        names = {ann.getChild(i).getName() for i in range(ann.getNumChildren())
                 if ann.getChild(i).getURI() == NAMESPACE}
        for name in names:
            sbase.removeTopLevelAnnotationElement(name, NAMESPACE, True)
    if doc.isPackageEnabled("distrib"):
        for s in model.getListOfSpecies():
            plugin, ours = _our_uncertainties(s)
            for i in reversed(ours):
                plugin.removeUncertainty(i)
        if distrib_added:
            doc.enablePackage(_distrib_uri(doc), "distrib", False)





# =========================================================================== payload
def _payload(rep) -> dict:
    """What is written, as plain values: {"model": {...}, "species": {sid: {...}}}."""
    st = rep.primary_statistics
    species = [s for s in rep.species if s in st.mean.index]
    temporal = rep.temporal()
    kinetic = {b["species"]: b for b in rep.bursts.get("kinetic", [])}
    moment = rep.bursts.get("moment", {}) or {}
    translational = {b["species"]: b for b in rep.bursts.get("translational", []) or []}
    out = {}
    for s in species:
        entry = {"method": rep.primary, "mean": float(st.mean[s]),
                 "variance": float(st.variance[s]), "std": float(st.std[s]),
                 "cv": float(st.cv[s]), "fano": float(st.fano[s])}
        entry.update({k: temporal[s][k] for k in ("autocorrelation_time", "psd_zero",
                                                  "corner_frequency", "peak_frequency")})
        bursts = []
        if s in kinetic:
            b = kinetic[s]
            bursts.append({"estimate": "kinetic", "size": b["burst_size"],
                           "frequency": b["burst_frequency"], "k_on": b["k_on"],
                           "k_off": b["k_off"], "k_tx": b["k_tx"],
                           "promoter_on": b["promoter_on"], "promoter_off": b["promoter_off"],
                           "feedback": b["feedback"]})
        if s in translational:
            b = translational[s]
            bursts.append({"estimate": "translational", "size": b["burst_size"],
                           "frequency": b["burst_frequency"], "mrna": b["mrna"],
                           "k_p": b["k_p"], "g_m": b["g_m"], "feedback": b["feedback"]})
        if s in moment and moment[s].get("burst_size") is not None:
            m = moment[s]
            bursts.append({"estimate": "moment", "size": m.get("burst_size"),
                           "frequency": m.get("burst_frequency"), "gamma": m.get("gamma")})
        entry["bursts"] = bursts
        others = {}
        for name, other in rep.statistics.items():
            if name == rep.primary or s not in other.mean.index:
                continue
            others[name] = {"mean": float(other.mean[s]), "variance": float(other.variance[s]),
                            "fano": float(other.fano[s])}
        entry["methods"] = others
        out[s] = entry
    settings = {k: v for k, v in rep.settings.items()
                if isinstance(v, (int, float, str, bool)) and v is not None}
    ssa = rep.settings.get("ssa")
    if isinstance(ssa, dict):
        settings.update({f"ssa.{k}": v for k, v in ssa.items()
                         if isinstance(v, (int, float, str, bool))})
    for name, other in rep.statistics.items():
        if name == "fsp" and "error_bound" in other.extra:
            settings["fsp.error_bound"] = other.extra["error_bound"]
    thermo = {"status": rep.thermo_status.get("status"),
              "reason": rep.thermo_status.get("reason") or None}
    cycles = []
    if rep.thermo is not None:
        th = rep.thermo
        thermo.update({"detailed_balance": bool(th.detailed_balance),
                       "entropy_production": th.entropy_production, "units": th.units,
                       "level": rep.thermo_status.get("level")})
        frame = getattr(th, "cycles", None)
        if frame is not None and len(frame):
            for _, row in frame.iterrows():
                members = row.get("members", "")
                if isinstance(members, (list, tuple)):
                    members = " ".join(map(str, members))
                cycles.append({"members": str(members), "affinity": row.get("affinity"),
                               "flux": row.get("flux")})
    model = {"tool": "sbmlnoise", "tool_version": rep.versions.get("sbmlnoise"),
             "date": rep.created, "method": rep.primary,
             "methods": " ".join(rep.statistics),
             "stationary": rep.settings.get("time") is None,
             "time": rep.settings.get("time"),
             "units": "count", "system_size": rep.settings.get("system_size"),
             "settings": settings, "thermodynamics": thermo, "cycles": cycles}
    return {"model": model, "species": out}


def _model_xml(model: dict, distrib_added: bool) -> str:
    top = {"version": 1, "tool": model["tool"], "toolVersion": model["tool_version"],
           "date": model["date"], "method": model["method"], "methods": model["methods"],
           "stationary": model["stationary"], "time": model["time"],
           "units": model["units"],
           "systemSize": model["system_size"],
           "distribAdded": True if distrib_added else None, "writer": WRITER}
    settings = "".join(f"<{PREFIX}:setting{_attrs({'name': k, 'value': v})}/>"
                       for k, v in model["settings"].items())
    th = model["thermodynamics"]
    th_attrs = {"status": th.get("status"), "reason": th.get("reason"),
                "level": th.get("level"),
                "detailedBalance": th.get("detailed_balance"),
                "entropyProduction": th.get("entropy_production"), "units": th.get("units")}
    cycles = "".join(f"<{PREFIX}:cycle{_attrs(c)}/>" for c in model["cycles"])
    return (f"<{PREFIX}:{_MODEL_TAG} xmlns:{PREFIX}=\"{NAMESPACE}\"{_attrs(top)}>"
            f"<{PREFIX}:settings>{settings}</{PREFIX}:settings>"
            f"<{PREFIX}:thermodynamics{_attrs(th_attrs)}>{cycles}</{PREFIX}:thermodynamics>"
            f"</{PREFIX}:{_MODEL_TAG}>")


def _species_xml(entry: dict, with_moments: bool) -> str:
    top = {"writer": WRITER, "method": entry["method"], "units": "count",
           "fano": entry["fano"],
           "autocorrelationTime": entry["autocorrelation_time"],
           "psdZero": entry["psd_zero"], "cornerFrequency": entry["corner_frequency"],
           "peakFrequency": entry["peak_frequency"]}
    if with_moments:
        top.update({"mean": entry["mean"], "variance": entry["variance"],
                    "standardDeviation": entry["std"], "coefficientOfVariation": entry["cv"]})
    children = ""
    for b in entry["bursts"]:
        attrs = {"estimate": b["estimate"], "size": b.get("size"),
                 "frequency": b.get("frequency"), "kOn": b.get("k_on"), "kOff": b.get("k_off"),
                 "kTx": b.get("k_tx"), "promoterOn": b.get("promoter_on"),
                 "promoterOff": b.get("promoter_off"), "feedback": b.get("feedback"),
                 "gamma": b.get("gamma"), "mrna": b.get("mrna"), "kP": b.get("k_p"),
                 "gM": b.get("g_m")}
        children += f"<{PREFIX}:burst{_attrs(attrs)}/>"
    for name, vals in entry["methods"].items():
        children += f"<{PREFIX}:method{_attrs({'name': name, **vals})}/>"
    return f"<{PREFIX}:{_SPECIES_TAG} xmlns:{PREFIX}=\"{NAMESPACE}\"{_attrs(top)}>" \
           f"{children}</{PREFIX}:{_SPECIES_TAG}>"


def _append(sbase, xml: str) -> None:
    node = libsbml.XMLNode.convertStringToXMLNode(xml)
    if node is None:
        raise ModelError("internal error: could not build the sbmlnoise annotation")
    code = sbase.appendAnnotation(node)
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ModelError(f"libsbml refused the annotation on '{sbase.getId()}': "
                         f"{libsbml.OperationReturnValue_toString(code)}")


# =========================================================================== public
def annotate(source, rep, out_path=None, *, in_place: bool = False) -> str:
    """Write the results of ``rep`` into a copy of the SBML model ``source``.

    Parameters
    ----------
    source : str or os.PathLike
        SBML file (any level) or Antimony file/text (converted to SBML first).
    rep : AnalysisReport
        From :func:`sbmlnoise.analyze`; its primary method's numbers are written.
    out_path : str or os.PathLike, optional
        Where to write. Must differ from ``source`` unless ``in_place``.
    in_place : bool
        Replace ``source`` itself (atomically: temporary file + ``os.replace``).

    Returns
    -------
    str
        The path written.

    Notes
    -----
    See the module docstring (and docs/annotations.md) for what goes where. Existing
    sbmlnoise annotations are replaced, never duplicated.
    """
    if rep.primary is None:
        raise ValueError("the report holds no noise statistics to write")
    text, path = _read_text(source)
    if in_place:
        if path is None:
            raise ValueError("in_place needs a file path as source")
        if out_path is not None and Path(out_path).resolve() != Path(path).resolve():
            raise ValueError("give either out_path or in_place, not both")
        out_path = path
    elif out_path is None:
        raise ValueError("give out_path (or in_place=True to replace the source file)")
    elif path is not None and Path(out_path).resolve() == Path(path).resolve():
        raise ValueError(f"refusing to overwrite the input '{path}'; use in_place=True "
                         "(--in-place) to replace it")
    return atomic_write(out_path, annotated_text(text, rep))


def _read_text(source) -> tuple[str, str | None]:
    """SBML text of a path or SBML/Antimony text (Antimony converted), checked by
    libsbml (fatal errors raise)."""
    from .importer._sbml import _read_source, antimony_to_sbml
    text, path = _read_source(source if isinstance(source, (str, os.PathLike)) else str(source))
    if not text.lstrip("\ufeff \t\r\n").startswith("<"):
        text = antimony_to_sbml(text)
    _document_of(text, path)
    return text, path


def _document_of(text: str, path=None):
    doc = libsbml.readSBMLFromString(text)
    fatal = [doc.getError(i) for i in range(doc.getNumErrors())
             if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if fatal:
        raise ModelError(f"cannot read SBML{f' {path!r}' if path else ''}: "
                         f"{' '.join(fatal[0].getMessage().split())}")
    if doc.getModel() is None:
        raise ModelError("SBML document has no <model> element")
    return doc


def _uncertainty_xml(prefix: str, entry: dict) -> str:
    params = ""
    for key, utype in (("mean", "mean"), ("variance", "variance"),
                       ("std", "standardDeviation"), ("cv", "coeffientOfVariation")):
        value = entry[key]
        if not math.isfinite(value):
            continue
        units = _UNCERT_UNITS.get(key)
        unit_attr = f" {prefix}:units=\"{units}\"" if units else ""
        params += (f"<{prefix}:uncertParameter {prefix}:value=\"{_fmt(float(value))}\""
                   f"{unit_attr} {prefix}:type=\"{utype}\"/>")
    return (f"<{prefix}:listOfUncertainties><{prefix}:uncertainty "
            f"{prefix}:name=\"{UNCERTAINTY_NAME}\">{params}</{prefix}:uncertainty>"
            f"</{prefix}:listOfUncertainties>")


def annotated_text(text: str, rep) -> str:
    """``text`` (SBML) with the results of ``rep`` spliced in, byte for byte unchanged
    outside our own regions (see :mod:`sbmlnoise._splice`); earlier regions of ours are
    replaced, never duplicated."""
    from . import _splice

    text = _strip_text(text)
    doc = _document_of(text)
    payload = _payload(rep)
    model = doc.getModel()
    level3 = doc.getLevel() >= 3
    present = {s.getId() for s in model.getListOfSpecies()}
    species = {sid: e for sid, e in payload["species"].items() if sid in present}
    root_attrs = None
    uncertainties = {}
    if level3 and species:
        uri = _distrib_uri(doc)
        ns, attrs = _splice.root_namespaces(text)
        prefix = next((p for p, u in ns.items() if u == uri), None)
        if prefix is None:
            prefix = "distrib"
            while prefix in ns or f"xmlns:{prefix}" in attrs:
                prefix = "sbmlnoise_" + prefix
            root_attrs = f" xmlns:{prefix}=\"{uri}\" {prefix}:required=\"true\""
        uncertainties = {sid: _uncertainty_xml(prefix, e) for sid, e in species.items()}
    distrib_added = root_attrs is not None
    out, skipped = _splice.splice(
        text, _model_xml(payload["model"], distrib_added),
        {sid: _species_xml(e, with_moments=True) for sid, e in species.items()},
        uncertainties, root_attrs, NAMESPACE)
    if skipped:
        import warnings

        warnings.warn(f"annotate: {', '.join(skipped[:5])} already carr"
                      f"{'ies' if len(skipped) == 1 else 'y'} an annotation element in the "
                      f"sbmlnoise namespace that sbmlnoise did not write; it is kept and no "
                      "result is written there (SBML allows one element per namespace)",
                      stacklevel=3)
    _document_of(out)  # what we wrote parses
    return out


def _strip_text(text: str) -> str:
    """Remove our regions; documents annotated before regions existed (no markers, our
    analysis element present) go through libsbml as they were written."""
    from . import _splice

    if _splice.has_regions(text):
        return _splice.strip(text)
    if NAMESPACE in text and "tool=\"sbmlnoise\"" in text:
        doc = _document_of(text)
        _strip_document(doc)
        return libsbml.writeSBMLToString(doc)
    return text


def _parse_value(text: str):
    if text in ("true", "false"):
        return text == "true"
    if text == "NaN":
        return float("nan")
    if text in ("INF", "-INF"):
        return float("inf") if text == "INF" else float("-inf")
    try:
        return int(text) if text.lstrip("-").isdigit() else float(text)
    except ValueError:
        return text


def _node_attrs(node) -> dict:
    attrs = node.getAttributes()
    return {attrs.getName(i): _parse_value(attrs.getValue(i)) for i in range(attrs.getLength())}


def _children(node, name):
    return [node.getChild(i) for i in range(node.getNumChildren())
            if node.getChild(i).getName() == name]


def _our_node(sbase, tag):
    """Our element ``tag`` on ``sbase``: the one marked ``writer=WRITER``; for files
    written before the marker existed, the last element of that name in our namespace."""
    if sbase is None or not sbase.isSetAnnotation():
        return None
    ann = sbase.getAnnotation()
    found = [ann.getChild(i) for i in range(ann.getNumChildren())
             if ann.getChild(i).getURI() == NAMESPACE and ann.getChild(i).getName() == tag]
    marked = [c for c in found if c.getAttributes().getValue("writer") == WRITER]
    if marked:
        return marked[-1]
    unmarked_legacy = [c for c in found if not c.getAttributes().hasAttribute("writer")
                       and c.getAttributes().hasAttribute("method")]
    return unmarked_legacy[-1] if unmarked_legacy else None


def read_annotations(source) -> dict:
    """What :func:`annotate` wrote into an SBML file (or text).

    Returns
    -------
    dict
        ``{"model": {tool, toolVersion, date, method, ..., "settings": {...},
        "thermodynamics": {..., "cycles": [...]}}, "species": {sid: {"mean", "variance",
        "std", "cv", "fano", ..., "bursts": [...], "methods": {...}}}}``; empty dicts if
        nothing was written. Mean, variance, std and CV come from the distrib
        uncertainty (Level 3) or the annotation (Levels 1-2).
    """
    doc, _ = _read_document(source)
    model = doc.getModel()
    out: dict[str, dict[str, Any]] = {"model": {}, "species": {}}
    node = _our_node(model, _MODEL_TAG)
    if node is not None:
        info = _node_attrs(node)
        info.pop("writer", None)
        settings = {}
        for group in _children(node, "settings"):
            for s in _children(group, "setting"):
                a = _node_attrs(s)
                settings[str(a.get("name"))] = a.get("value")
        info["settings"] = settings
        th_nodes = _children(node, "thermodynamics")
        if th_nodes:
            th = _node_attrs(th_nodes[0])
            th["cycles"] = [_node_attrs(c) for c in _children(th_nodes[0], "cycle")]
            info["thermodynamics"] = th
        out["model"] = info
    rename = {"standardDeviation": "std", "coefficientOfVariation": "cv"}
    for sp in model.getListOfSpecies():
        node = _our_node(sp, _SPECIES_TAG)
        entry = {}
        if node is not None:
            entry = {rename.get(k, k): v for k, v in _node_attrs(node).items()
                     if k != "writer"}
            entry["bursts"] = [_node_attrs(b) for b in _children(node, "burst")]
            entry["methods"] = {}
            for m in _children(node, "method"):
                a = _node_attrs(m)
                entry["methods"][str(a.pop("name", ""))] = a
        if "mean" not in entry and doc.getLevel() >= 3 and doc.isPackageEnabled("distrib"):
            # legacy files: moments only in the uncertainty
            plugin, ours = _our_uncertainties(sp)
            for i in ours:
                unc = plugin.getUncertainty(i)
                for j in range(unc.getNumUncertParameters()):
                    p = unc.getUncertParameter(j)
                    key = _TYPE_TO_KEY.get(p.getType())
                    if key and p.isSetValue():
                        entry[key] = p.getValue()
        if entry:
            out["species"][sp.getId()] = entry
    return out


def strip_annotations(source) -> str:
    """The SBML text of ``source`` without anything :func:`annotate` added."""
    text, _ = _read_text(source)
    return _strip_text(text)


def consistency_issues(source) -> dict:
    """libsbml consistency findings as ``{(error id, severity): count}`` (all categories,
    warnings included), for comparing a document before and after :func:`annotate`."""
    if isinstance(source, libsbml.SBMLDocument):
        doc = source
    else:
        doc, _ = _read_document(source)
    doc.checkConsistency()
    counts: dict = {}
    for i in range(doc.getNumErrors()):
        e = doc.getError(i)
        key = (e.getErrorId(), e.getSeverityAsString())
        counts[key] = counts.get(key, 0) + 1
    return counts

