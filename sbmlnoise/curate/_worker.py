"""Child side of :func:`sbmlnoise.curate`: analyse ONE model in an isolated process.

Private module. The parent (:mod:`sbmlnoise.curate`) starts one fresh process per model,
either from a warm fork server (module preloaded, start-up in milliseconds) or as a plain
``python -m sbmlnoise.curate._worker JOB RESULT`` subprocess (inside daemonic Dask workers,
which may not fork multiprocessing children). The child

1. hardens itself: it dies with its parent (``PR_SET_PDEATHSIG``), limits its address space
   to its start-up size plus ``max_memory`` MB (``RLIMIT_AS``), caps its CPU time at about
   twice the wall-time limit (``RLIMIT_CPU``) and arms a watchdog, so a model left running
   by a killed run cannot live on;
2. writes the model bytes to a private temporary folder, refuses XML entity declarations
   (the "billion laughs" expansion), reads the model with :func:`sbmlnoise.load`, lists the
   SBML features it uses and runs :func:`sbmlnoise.analyze`;
3. writes one JSON result (status, one-line reason, sizes, features, statistics, report)
   atomically to the path the parent gave.

Statuses: ``ok``, ``unsupported`` (:class:`~sbmlnoise.errors.UnsupportedFeature`),
``invalid`` (:class:`~sbmlnoise.errors.ModelError`: bad XML, undefined ids, ...) and
``error`` (anything else, including memory exhaustion); ``timeout`` is set by the parent.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import pickle
import re
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

# Heavy imports happen here so that a fork server that preloads this module hands every
# child a warm interpreter.
import numpy as np  # noqa: F401
import pandas as pd  # noqa: F401

from .._blas import one_blas_thread
from ..analysis import analyze as _analyze
from ..annotate import annotate as _annotate
from ..errors import ModelError, SimulationError, UnsupportedFeature
from ..importer._sbml import AVOGADRO
from ..importer import antimony_to_sbml as _antimony_to_sbml
from ..importer import load as _load

DEFAULT_WORKER = "sbmlnoise.curate._worker:analyze_model"
STATUSES = ("ok", "unsupported", "invalid", "timeout", "error")

_ENTITY = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_DOCTYPE_SUBSET = re.compile(rb"<!\s*DOCTYPE[^>\[]*\[", re.IGNORECASE)


# =========================================================================== results
def new_result() -> dict:
    """An empty result record (every key the parent reads)."""
    return {"status": "error", "reason": "", "error_type": None, "detail": None,
            "n_species": None, "n_reactions": None, "features": [],
            "unsupported_feature": None, "verdict": None, "method": None, "methods": [],
            "species": [], "warnings": [], "skipped": {},
            "timings": {}, "peak_memory_mb": None,
            "report_html": None, "annotated_sbml": None}


def one_line(text, limit: int = 300) -> str:
    """First non-empty line of ``text``, whitespace-collapsed and cut to ``limit`` chars."""
    text = str(text or "").strip()
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _finite(x):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def classify(err: BaseException, max_memory: float | None = None) -> tuple[str, str]:
    """Map an exception to ``(status, one-line reason)``."""
    name = type(err).__name__
    message = one_line(err) or name
    if isinstance(err, UnsupportedFeature):
        return "unsupported", message
    if isinstance(err, ModelError):
        return "invalid", message
    if isinstance(err, MemoryError):
        limit = f" (limit {max_memory:g} MB)" if max_memory else ""
        return "error", f"memory exhausted{limit}: {name}: {message}"
    if isinstance(err, RecursionError):
        return "error", f"model too deeply nested for the reader (RecursionError: {message})"
    return "error", f"{name}: {message}"


# =========================================================================== features
def _walk_math(node, found: set, limit: int = 200_000) -> None:
    """Iterative walk over a libsbml AST recording delay/piecewise/time/rateOf.

    Uses names and definition URLs only: ``ASTNode.getType`` is unreliable once other SWIG
    modules are loaded (see the note in :mod:`sbmlnoise.importer`).
    """
    stack = [node]
    seen = 0
    while stack and seen < limit:
        n = stack.pop()
        if n is None:
            continue
        seen += 1
        name = n.getName()
        url = n.getDefinitionURLString() if hasattr(n, "getDefinitionURLString") else ""
        if name == "delay" or url.endswith("/delay"):
            found.add("delay")
        elif name == "piecewise" or (hasattr(n, "isPiecewise") and n.isPiecewise()):
            found.add("piecewise")
        elif url.endswith("/time"):
            found.add("time")
        elif name == "rateOf" or url.endswith("/rateOf"):
            found.add("rateOf")
        for i in range(n.getNumChildren()):
            stack.append(n.getChild(i))


def sbml_features(sbml_text: str) -> tuple[list[str], int | None, int | None]:
    """SBML constructs used by a document: ``(features, n_species, n_reactions)``.

    Never raises; an unreadable document gives ``([], None, None)``. Call it only on text
    already screened by :func:`refuse_entities`.
    """
    import libsbml

    try:
        doc = libsbml.readSBMLFromString(sbml_text)
        model = doc.getModel()
    except Exception:
        return [], None, None
    if model is None:
        return [], None, None
    found: set[str] = set()
    maths = []
    try:
        for i in range(doc.getNumPlugins()):
            package = doc.getPlugin(i).getPackageName()
            if package != "l3v2extendedmath":  # core math of L3V2, not a package in use
                found.add(f"package:{package}")
        if model.getNumFunctionDefinitions():
            found.add("function definitions")
        if model.getNumInitialAssignments():
            found.add("initial assignments")
            maths += [a.getMath() for a in model.getListOfInitialAssignments()]
        for rule in model.getListOfRules():
            found.add("algebraic rules" if rule.isAlgebraic() else
                      "rate rules" if rule.isRate() else "assignment rules")
            maths.append(rule.getMath())
        if model.getNumConstraints():
            found.add("constraints")
        if model.getNumEvents():
            found.add("events")
            for e in model.getListOfEvents():
                if e.isSetDelay():
                    found.add("event delays")
                if e.isSetTrigger():
                    maths.append(e.getTrigger().getMath())
                maths += [a.getMath() for a in e.getListOfEventAssignments()]
        if model.getNumCompartments() > 1:
            found.add("multiple compartments")
        if any(s.getBoundaryCondition() for s in model.getListOfSpecies()):
            found.add("boundary species")
        if any(s.isSetConversionFactor() for s in model.getListOfSpecies()) or \
                model.isSetConversionFactor():
            found.add("conversion factors")
        for r in model.getListOfReactions():
            if r.getReversible():
                found.add("reversible reactions")
            if r.isSetFast() and r.getFast():
                found.add("fast reactions")
            law = r.getKineticLaw()
            if law is None:
                found.add("reactions without kinetic law")
            else:
                if law.getNumParameters() or law.getNumLocalParameters():
                    found.add("local parameters")
                maths.append(law.getMath())
            for ref in list(r.getListOfReactants()) + list(r.getListOfProducts()):
                if hasattr(ref, "isSetStoichiometryMath") and ref.isSetStoichiometryMath():
                    found.add("stoichiometry math")
                elif ref.isSetStoichiometry():
                    st = ref.getStoichiometry()
                    if math.isfinite(st) and abs(st - round(st)) > 1e-12:
                        found.add("non-integer stoichiometry")
        for m in maths:
            _walk_math(m, found)
    except Exception:  # a feature scan must never decide the status
        pass
    return sorted(found), model.getNumSpecies(), model.getNumReactions()


def network_features(net) -> list[str]:
    """Features visible on the imported network (kinetics, conservation, time)."""
    found = []
    try:
        if any(r.mass_action is None for r in net.reactions):
            found.append("non-mass-action laws")
        if net.events:
            found.append("events")
        if net.conservation_laws.shape[0]:
            found.append("conservation laws")
        if net.is_time_dependent:
            found.append("time-dependent rates")
        if not net.integer_stoichiometry:
            found.append("non-integer stoichiometry")
    except Exception:
        pass
    return found


def refuse_entities(data: bytes) -> None:
    """Raise :class:`ModelError` for XML with an internal DTD subset or entity declarations.

    Entity expansion ("billion laughs", external entities) is never performed: the whole
    file is screened, not only its head.
    """
    if _ENTITY.search(data) or _DOCTYPE_SUBSET.search(data):
        raise ModelError("XML document declares a DOCTYPE internal subset or <!ENTITY>; "
                         "refused (entity expansion is never performed)")


def thermo_verdict(thermo) -> str | None:
    """One word for a ThermoReport: ``detailed-balance``, ``irreversible`` or
    ``non-equilibrium`` (reversible but cycles carry affinity / net flux)."""
    if thermo is None:
        return None
    try:
        if bool(thermo.detailed_balance):
            return "detailed-balance"
        if list(getattr(thermo, "irreversible", []) or []):
            return "irreversible"
        return "non-equilibrium"
    except Exception:
        return None


# =========================================================================== the default worker
def _decode(data: bytes, name: str = "<bytes>") -> str:
    """Decode and screen a model file as the importer does (:mod:`sbmlnoise.importer._guard`):
    binary content, Antimony imports, out-of-range numbers and huge XML comments are
    refused (``invalid``) before Antimony or libsbml sees the text."""
    from sbmlnoise.importer._guard import check_text, decode_bytes

    return check_text(decode_bytes(data, name), name)


def analyze_model(job: dict, result: dict, workdir: str) -> None:
    """Default worker: load, list features, :func:`sbmlnoise.analyze`, optional report.

    Fills ``result`` in place and raises on failure (the caller classifies the error, so
    whatever was learned before the failure -- features, sizes -- is kept). Python
    warnings raised on the way (units, dropped constraints, ...) join ``result["warnings"]``.
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _analyze_model(job, result, workdir)
        finally:
            result["warnings"] = list(dict.fromkeys(result["warnings"]))
            seen = set(result["warnings"])
            for w in caught:
                text = one_line(f"{w.category.__name__}: {w.message}")
                if text not in seen and not issubclass(w.category, DeprecationWarning):
                    seen.add(text)
                    result["warnings"].append(text)
            if result["status"] == "ok":
                result["reason"] = _ok_reason(result)


def _analyze_model(job: dict, result: dict, workdir: str) -> None:
    """Body of :func:`analyze_model`."""
    settings = job["settings"]
    data: bytes = job["content"]
    timings = result["timings"]
    suffix = Path(job["path"]).suffix.lower() or ".xml"
    source = Path(workdir) / f"model{suffix}"
    source.write_bytes(data)

    t = time.perf_counter()
    if not data.strip():
        raise ModelError("the file is empty")
    refuse_entities(data)
    text = _decode(data, job.get("name") or Path(job["path"]).name)
    try:
        if text.lstrip("\ufeff \t\r\n").startswith("<"):
            sbml_text = text
        else:
            sbml_text = _antimony_to_sbml(text)
    except ModelError:
        sbml_text = None
    if sbml_text is not None:
        result["features"], result["n_species"], result["n_reactions"] = \
            sbml_features(sbml_text)
    timings["features"] = time.perf_counter() - t
    checkpoint(job, result)

    t = time.perf_counter()
    net = _load(source, system_size=settings.get("system_size"),
                  volume=settings.get("volume"))
    timings["load"] = time.perf_counter() - t
    result["n_species"], result["n_reactions"] = net.n_species, net.n_reactions
    result["features"] = sorted(set(result["features"]) | set(network_features(net)))
    result["warnings"] += [one_line(w) for w in getattr(net, "warnings", ()) or ()]
    checkpoint(job, result)

    t = time.perf_counter()
    options = dict(settings.get("analyze_options") or {})
    label = ""
    first = dict(options)
    mole = _mole_model(net, settings)  # reads the units once (re-parses the SBML)
    if job.get("timeout") and mole is not None:
        # leave time (70%) for the cell-scale answer should the model's own size give none
        first["wall_time"] = min(float(first.get("wall_time") or math.inf),
                                 0.3 * float(job["timeout"]))
    try:
        rep = _analyze(net, method=settings.get("method", "auto"), **first)
    except (UnsupportedFeature, SimulationError) as err:  # incl. NoSteadyState, wall time
        cell = _cell_network(source, mole, settings) or _whole_network(source, net, mole,
                                                                       settings)
        if cell is None:
            raise
        cell_net, label = cell
        remaining = _remaining(job, t)
        if remaining is not None:
            options["wall_time"] = min(float(options.get("wall_time") or math.inf), remaining)
        rep = _analyze(cell_net, method=settings.get("method", "auto"), **options)
        result["warnings"].append(one_line(
            f"no noise answer at the model's own size ({_scale_note(net)}): "
            f"{one_line(err, 200)}; answered at {label} instead (docs/curate.md)", 400))
        net = cell_net
    timings["analyze"] = time.perf_counter() - t

    primary = getattr(rep, "primary", None)
    result["method"] = f"{primary} @ {label}" if (primary and label) else primary
    result["skipped"] = {str(k): one_line(v) for k, v in
                         (getattr(rep, "skipped", None) or {}).items()}
    statistics = getattr(rep, "statistics", None) or {}
    result["methods"] = [f"{m} @ {label}" if label else m for m in statistics]
    result["verdict"] = thermo_verdict(getattr(rep, "thermo", None))
    result["warnings"] += [one_line(w) for w in getattr(rep, "warnings", ()) or ()]
    rows = []
    for method, st in statistics.items():
        fano, cv, var = st.fano, st.cv, st.variance
        key = f"{method} @ {label}" if label else str(method)
        for sid in st.mean.index:
            rows.append({"species": str(sid), "method": key,
                         "mean": _finite(st.mean[sid]), "variance": _finite(var[sid]),
                         "fano": _finite(fano[sid]), "cv": _finite(cv[sid])})
    if not label:
        cell_rows = _cell_rows(mole, *_lna_statistics(statistics), settings)
        if cell_rows:
            rows += cell_rows
            result["methods"].append(cell_rows[-1]["method"])
            invalid = _cell_validity(cell_rows)
            if invalid:
                result["warnings"].append(invalid)
    result["species"] = rows

    t = time.perf_counter()
    if settings.get("report"):
        try:
            path = Path(workdir) / "report.html"
            rep.to_html(path)
            result["report_html"] = path.read_text(encoding="utf-8")
        except Exception as err:  # the statistics stand; say the report failed
            result["warnings"].append(f"report failed: {type(err).__name__}: {one_line(err)}")
    if settings.get("annotate"):
        try:
            path = Path(workdir) / "annotated.xml"
            _annotate(source, rep, path)
            result["annotated_sbml"] = path.read_text(encoding="utf-8")
        except Exception as err:
            result["warnings"].append(f"annotate failed: {type(err).__name__}: "
                                      f"{one_line(err)}")
    timings["report"] = time.perf_counter() - t
    result["status"], result["reason"] = "ok", _ok_reason(result)


#: default cell-scale volume (litres; ``curate(cell_volume=...)``, ``--cell-volume``) at
#: which curate also reports the noise of models written in mole units: 1 fL, the volume of an E. coli cell (Milo & Phillips, Cell Biology by the
#: Numbers, 2015). Noise at another volume V: CV^2 scales as 1e-15 / V (LNA).
CELL_VOLUME = 1e-15


def _target(settings: dict) -> float | None:
    """The cell-scale volume of this run (litres; None when turned off)."""
    value = settings.get("cell_volume", CELL_VOLUME)
    return float(value) if value else None


def _scale_note(net) -> str:
    return f"system size {float(net.system_size):.3g}, {net.system_size_source}"


def _mole_model(net, settings: dict) -> dict | None:
    """The :func:`sbmlnoise.cell_volume` record when the model is in mole units at a size
    well above :data:`CELL_VOLUME` and the user fixed no size; else None."""
    from ..importer._volume import cell_volume

    if settings.get("volume") is not None or settings.get("system_size") is not None or \
            not _target(settings):
        return None
    try:
        info = cell_volume(net)
    except Exception:  # no 3-D compartment holding a species, unusual units: no cell scale
        return None
    if info["omega_units"] < 1e6:
        return None
    return info


def _cell_network(source: Path, info: dict | None, settings: dict):
    """``(network, label)`` for a mole-unit model: at :data:`CELL_VOLUME` when the model's
    own volume is more than 10 times larger; at its own volume with the initial counts
    rounded to whole molecules (``volume=`` rounds them) when it is already cell-sized
    (mole amounts times Avogadro's number are rarely whole: 1000.02 molecules, which no
    stochastic simulation can start from); else None. ``info``: :func:`_mole_model`."""
    if info is None:
        return None
    own, target = float(info["volume_litres"]), _target(settings) or CELL_VOLUME
    volume, label = ((target, f"{target:g} L") if own > 10 * target else
                     (own, f"{own:g} L (own volume, whole molecules)"))
    try:
        return _load(source, volume=volume), label
    except (ModelError, UnsupportedFeature):
        return None


#: largest relative change of a species' initial amount that rounding to whole molecules
#: at the model's own size may make (else the amounts are read at the cell scale)
ROUNDING = 0.01
#: the concentration one amount unit is read as, for a model without substance units whose
#: amounts are not molecule counts: 1 uM, i.e. 602 molecules per unit in 1 fL
MICROMOLAR = 1e-6


def _whole_network(source: Path, net, mole: dict | None, settings: dict):
    """``(network, label)`` for a model that is not in mole units (item units or none)
    whose initial amounts are not whole molecules, the user having fixed no size: at its
    own size with the counts rounded when that moves no changing species by more than
    :data:`ROUNDING`; else with the amounts read as micromolar in a cell of the run's
    ``cell_volume`` (``N_A x 1e-6 x V`` molecules per unit, 602 at 1 fL), counts rounded.
    None when the counts are whole already, or a size was given."""
    from ..ssa._model import fixed_species, initial_counts
    from ..ssa.approx import scaled_network

    if mole is not None or settings.get("volume") is not None or \
            settings.get("system_size") is not None or not _target(settings):
        return None
    try:
        initial_counts(net)
        return None
    except ModelError:
        pass
    x0 = np.asarray(net.initial_state, dtype=float)
    changed = ~fixed_species(net) & (x0 != 0)
    change = np.abs(np.rint(x0) - x0)[changed] / np.abs(x0[changed])
    try:
        if not change.size or float(np.max(change)) <= ROUNDING:
            return (scaled_network(net, 1.0),
                    "own size, initial counts rounded to whole molecules")
        omega = AVOGADRO * MICROMOLAR * float(_target(settings) or CELL_VOLUME)
        big = _load(source, system_size=omega)
        return (scaled_network(big, 1.0),
                f"amounts read as uM in {float(_target(settings) or CELL_VOLUME):g} L "
                f"({omega:.4g} molecules per unit, whole molecules)")
    except (ModelError, UnsupportedFeature):
        return None


def _lna_statistics(statistics: dict) -> tuple[str, object]:
    """``(name, statistics)`` of the LNA answer to rescale: the stationary LNA, else a
    time-dependent LNA course (``timecourse:lna``); ``("", None)`` when there is none."""
    if "lna" in statistics and getattr(statistics["lna"], "time", None) is None:
        return "lna", statistics["lna"]
    for name, st in statistics.items():
        if str(getattr(st, "method", "")) == "timecourse:lna":
            return str(name), st
    return "", None


def _cell_rows(info: dict | None, name: str, lna, settings: dict) -> list[dict]:
    """Species rows at :data:`CELL_VOLUME` from the LNA at the model's own size (stationary,
    or a time course at its last time): at fixed concentrations means and variances of
    counts both scale with the system size (van Kampen), so ``mean' = mean * f``,
    ``var' = var * f`` with ``f = V_cell / V``, the Fano factor is unchanged and
    ``CV'^2 = CV^2 / f`` (exact within the LNA)."""
    if lna is None:
        return []
    target = _target(settings) or CELL_VOLUME
    if info is None or float(info["volume_litres"]) <= 10 * target:
        return []
    f = target / float(info["volume_litres"])
    key = f"{name} @ {target:g} L (rescaled)"
    rows = []
    for sid in lna.mean.index:
        mean, var = _finite(lna.mean[sid]), _finite(lna.variance[sid])
        m2 = None if mean is None else mean * f
        v2 = None if var is None else var * f
        cv = (math.sqrt(v2) / m2) if (m2 and v2 is not None and m2 > 0 and v2 >= 0) else None
        rows.append({"species": str(sid), "method": key, "mean": m2, "variance": v2,
                     "fano": _finite(lna.fano[sid]), "cv": cv})
    return rows


def _cell_validity(rows: list[dict]) -> str | None:
    """A warning naming the rescaled species outside the LNA's validity at the cell volume
    (CV above :data:`~sbmlnoise.lna._course.CV_VALID` at
    :data:`~sbmlnoise.lna._course.VALID_MIN_COUNT` molecules or more: the fluctuations are
    no longer small against the mean there), else None."""
    from ..lna._course import CV_VALID, VALID_MIN_COUNT, beyond_validity

    known = [r for r in rows if r["mean"] is not None and r["variance"] is not None]
    mask = beyond_validity([r["mean"] for r in known], [r["variance"] for r in known])
    bad = [r for r, out in zip(known, mask) if out]
    if not bad:
        return None
    bad.sort(key=lambda r: -r["cv"])
    shown = ", ".join(f"{r['species']} (CV {r['cv']:.2g} at {r['mean']:.3g} molecules)"
                      for r in bad[:3])
    return one_line(f"{rows[0]['method']}: the LNA is outside its validity for {len(bad)} "
                    f"species (CV > {CV_VALID:g} at >= {VALID_MIN_COUNT:g} molecules): {shown}"
                    f"{' ...' if len(bad) > 3 else ''}; their rescaled rows are not a "
                    "reliable noise estimate at this volume", 400)


def _remaining(job: dict, start: float) -> float | None:
    """Seconds left of the job's time limit (0.8 of it, leaving room for the report)."""
    timeout = job.get("timeout")
    if not timeout:
        return None
    return max(1.0, 0.8 * float(timeout) - (time.perf_counter() - start))


def _ok_reason(result: dict) -> str:
    """``method M; verdict; why a preferred method was skipped; the key warning``."""
    parts = [f"method {result['method']}" if result["method"] else "analysed"]
    if result["verdict"]:
        parts.append(result["verdict"])
    skipped = result.get("skipped") or {}
    if result["method"] == "ssa":  # a fallback: say why the deterministic methods failed
        for m in ("lna", "fsp"):
            if m in skipped:
                parts.append(f"{m} skipped: {one_line(skipped[m], 140)}")
                break
    warnings = result["warnings"]
    if warnings:
        key = next((w for w in warnings if "steady state" in w), warnings[0])
        parts.append(f"{len(warnings)} warning(s): {one_line(key, 140)}")
    return one_line("; ".join(parts), 400)


def resolve_worker(spec):
    """``"module:function"``, ``"/path/to/file.py:function"`` (or a callable) -> callable."""
    if callable(spec):
        return spec
    module, _, name = str(spec).rpartition(":")
    if module.endswith(".py"):
        from importlib import util as import_util

        key = "_sbmlnoise_curate_worker_" + re.sub(r"\W", "_", module)
        mod = sys.modules.get(key)
        if mod is None:
            spec_ = import_util.spec_from_file_location(key, module)
            if spec_ is None or spec_.loader is None:
                raise ImportError(f"cannot load worker module '{module}'")
            mod = import_util.module_from_spec(spec_)
            sys.modules[key] = mod
            spec_.loader.exec_module(mod)
        return getattr(mod, name)
    return getattr(importlib.import_module(module), name)


# =========================================================================== child process
def _harden(timeout: float | None, max_memory: float | None) -> None:
    """Limits for this child: die with the parent, address space, CPU time, watchdog."""
    try:  # fork-server child: drop our copy of the server's "alive" pipe, so that the
        # server exits when the curating parent dies (even while we hang) and
        # PR_SET_PDEATHSIG below then takes us down with it
        from multiprocessing import forkserver

        fd = getattr(forkserver._forkserver, "_forkserver_alive_fd", None)
        if fd is not None:
            os.close(fd)
            # a private CPython attribute the typeshed stubs do not declare
            setattr(forkserver._forkserver, "_forkserver_alive_fd", None)
    except Exception:
        pass
    try:  # Linux: SIGKILL when the parent (the fork server or the runner) dies
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass
    if max_memory:
        base = _vm_size()
        limit = int(base + max_memory * 2**20)
        try:
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        except (ValueError, OSError):
            pass
    if timeout:
        try:
            used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
            cpu = int(used + 2 * timeout + 30)
            _, hard = resource.getrlimit(resource.RLIMIT_CPU)
            if hard == resource.RLIM_INFINITY or hard > cpu:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))
        except (ValueError, OSError):
            pass
        dog = threading.Timer(2 * timeout + 30, os._exit, args=(70,))
        dog.daemon = True
        dog.start()


def _quiet() -> None:
    """Send the child's stdout/stderr (library chatter) to /dev/null; the parent's
    terminal and progress bar stay clean. Reasons travel in the result file."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass


def _vm_size() -> float:
    """Current virtual memory size of this process in bytes (0 if unknown)."""
    try:
        with open("/proc/self/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return 0.0


@one_blas_thread
def run_job(job: dict) -> dict:
    """Run the job's worker in THIS process and classify the outcome (never raises)."""
    result = new_result()
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="sbmlnoise-model-") as workdir:
            worker = resolve_worker(job.get("worker") or DEFAULT_WORKER)
            worker(job, result, workdir)
    except BaseException as err:  # noqa: BLE001 - the child reports everything
        if isinstance(err, (KeyboardInterrupt, SystemExit)) and not job.get("catch_exit"):
            raise
        # free what the failed analysis held before formatting (MemoryError)
        status, reason = classify(err, job.get("max_memory"))
        result["status"], result["reason"] = status, reason
        result["error_type"] = type(err).__name__
        if isinstance(err, UnsupportedFeature):
            result["unsupported_feature"] = _feature_name(err)
        try:
            result["detail"] = "".join(traceback.format_exception(err)[-6:])[-4000:]
        except Exception:
            result["detail"] = None
    if result["status"] not in STATUSES:
        result["status"] = "error"
    if not result["reason"]:
        result["reason"] = result["status"]
    result["timings"]["total"] = time.perf_counter() - t0
    try:
        result["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except Exception:
        pass
    return result


def _feature_name(err: UnsupportedFeature) -> str:
    """A short name of what was unsupported (the error's ``feature``, else its text)."""
    feature = getattr(err, "feature", None)
    if feature:
        return str(feature)
    text = one_line(err, 80)
    match = re.search(r"(rate rule|algebraic rule|delay|fast reaction|package '[^']*'|"
                      r"non-integer[^;(]*|stoichiometryMath|rateOf|events|"
                      r"time-dependent rates)", text, re.IGNORECASE)
    return match.group(1) if match else text


def checkpoint(job: dict, result: dict) -> None:
    """Save what is known so far; the parent reads it if the worker is killed later."""
    path = job.get("partial_path")
    if not path:
        return
    keep = {k: result[k] for k in ("features", "n_species", "n_reactions", "warnings")}
    try:
        write_result(keep, path)
    except OSError:
        pass


def write_result(result: dict, result_path: str) -> None:
    tmp = f"{result_path}.tmp"
    try:
        payload = json.dumps(result, allow_nan=False, default=str)
    except (TypeError, ValueError):
        result = {**new_result(), "status": "error",
                  "reason": "worker produced a result that is not JSON-serialisable"}
        payload = json.dumps(result, default=str)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(payload)
    os.replace(tmp, result_path)


def child_main(job: dict, result_path: str) -> None:
    """Entry point of a fork-server child (``multiprocessing.Process`` target)."""
    _harden(job.get("timeout"), job.get("max_memory"))
    _quiet()
    result = run_job(job)
    write_result(result, result_path)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown (atexit of preloaded libraries)


def _subprocess_main(argv: list[str]) -> int:
    job_path, result_path = argv[0], argv[1]
    with open(job_path, "rb") as fh:
        job = pickle.load(fh)
    child_main(job, result_path)
    return 0  # pragma: no cover - child_main exits


if __name__ == "__main__":  # python -m sbmlnoise.curate._worker JOB RESULT
    sys.exit(_subprocess_main(sys.argv[1:]))
