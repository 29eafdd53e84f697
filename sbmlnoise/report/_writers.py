"""Writers of an :class:`~sbmlnoise.analysis.AnalysisReport`: JSON, CSV and HTML.

* ``report.json`` -- everything, JSON-able (schema: docs/report-schema.md; ``NaN`` and
  infinities become ``null``);
* CSV tables -- ``species.csv`` (every method), ``consistency.csv``,
  ``covariance_<method>.csv``, ``distributions_<method>.csv``, ``bursts_kinetic.csv``,
  ``bursts_moment.csv``, ``thermo_pairs.csv``, ``thermo_cycles.csv``,
  ``trajectories.csv``, ``fluxes.csv`` (those that apply);
* ``report.html`` -- self-contained (figures are base64 PNGs drawn with matplotlib's Agg
  canvas; one inline script pages the per-species cards, and without it every card is
  shown; no external resources); all model-derived text is escaped. It opens with a
  plain-language summary and an overview of every species' noise.

Every file is written atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from .._io import atomic_write

if TYPE_CHECKING:
    from ..analysis import AnalysisReport

__all__ = ["report_dict", "write_json", "write_csv", "write_html", "write_all", "jsonable",
           "SCHEMA"]

SCHEMA = "sbmlnoise-report/1"
_MAX_DIST = 5000  # largest marginal written to JSON per species


# =========================================================================== JSON
def jsonable(obj: object) -> Any:
    """Recursively convert numpy/pandas values to plain JSON types (NaN/inf -> None)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, complex):
        return {"re": jsonable(obj.real), "im": jsonable(obj.imag)}
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, pd.Series):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r) for r in obj.reset_index().to_dict(orient="records")] \
            if obj.index.name else [jsonable(r) for r in obj.to_dict(orient="records")]
    if hasattr(obj, "to_dict"):
        try:
            return jsonable(obj.to_dict())
        except Exception:  # noqa: BLE001 - fall through to str
            pass
    return str(obj)


def _statistics_dict(rep: AnalysisReport, name) -> dict:
    st = rep.statistics[name]
    species = [s for s in rep.species if s in st.mean.index]
    temporal = temporal_for(rep, name)
    per = {}
    mean, var, std, fano, cv = st.mean, st.variance, st.std, st.fano, st.cv
    for s in species:
        entry = {"mean": mean[s], "variance": var[s], "std": std[s], "fano": fano[s],
                 "cv": cv[s]}
        if st.stderr:
            entry["stderr"] = {k: v[s] for k, v in st.stderr.items()
                               if hasattr(v, "index") and s in v.index}
        entry.update(temporal[s])
        per[s] = entry
    cov = st.covariance.loc[species, species]
    dists = None
    if st.distributions:
        dists = {}
        for s in species:
            d = st.distributions.get(s)
            if d is None:
                continue
            d = d[d > 0]
            if len(d) > _MAX_DIST:
                d = d.iloc[:_MAX_DIST]
            dists[s] = {"counts": [float(c) for c in d.index], "probability": d.to_numpy()}
    extra = {k: v for k, v in st.extra.items()
             if isinstance(v, (int, float, str, bool, np.integer, np.floating)) or v is None}
    return jsonable({"method": st.method, "time": st.time, "settings": st.settings,
                     "species": per, "covariance": {"species": species,
                                                    "values": cov.to_numpy()},
                     "extra": extra, "distributions": dists})


_TEMPORAL_COLS = ("autocorrelation_time", "psd_zero", "corner_frequency", "peak_frequency")


def temporal_for(rep: AnalysisReport, method: str) -> dict:
    """``rep.temporal(method)`` where it is cached or cheap; NaN columns otherwise (an FSP
    spectrum over a large projection costs one sparse solve per frequency and species:
    the report does not start that -- see :func:`sbmlnoise.report._figures.temporal_cheap`)."""
    from ._figures import temporal_cheap
    st = rep.statistics[method]
    if rep.settings.get("time") is None and temporal_cheap(rep, method):
        return rep.temporal(method)
    return {s: {c: math.nan for c in _TEMPORAL_COLS} for s in rep.species
            if s in st.mean.index}


def species_frame(rep: AnalysisReport, method: str | None = None,
                  temporal: bool = True) -> pd.DataFrame:
    """The per-species table of the report (index ``species``): the columns of
    :meth:`AnalysisReport.species_table` plus ``name`` and ``burst_note``, built from what
    the analysis already holds. Burst columns are NaN where no estimate's assumptions hold
    (``burst_note`` says why); temporal columns are NaN where they would be costly (see
    :func:`temporal_for`)."""
    if method == "all":
        frames = [species_frame(rep, m, temporal) for m in rep.statistics]
        return pd.concat(frames) if frames else pd.DataFrame()
    from . import _text as rt
    name = rep.primary if method is None else method
    if name is None:
        raise KeyError("the report has no primary method (no backend produced statistics); "
                       f"methods: {', '.join(rep.statistics) or 'none'}")
    st = rep.statistics[name]
    species = [s for s in rep.species if s in st.mean.index]
    frame = st.to_frame().loc[species].copy()
    frame.insert(0, "method", name)
    names = rt.species_names(rep)
    frame.insert(1, "name", [names.get(s, s) for s in species])
    if temporal:
        summary = temporal_for(rep, name)
        for col in _TEMPORAL_COLS:
            frame[col] = [summary[s][col] for s in species]
    kinetic = {b["species"]: b for b in rep.bursts.get("kinetic", []) or []}
    moment = {}
    if rep.network is not None and species:
        from ..bursts import moment_bursts
        per = st.extra.get("molecules_per_concentration") if st.units == "concentration" \
            else None  # the burst estimates need counts
        mean = st.mean[species] * (1.0 if per is None else pd.Series(per)[species])
        moment = moment_bursts(rep.network, mean, st.fano[species]).to_dict(orient="index")
    sizes, freqs, kinds, notes = [], [], [], []
    for s in species:
        kind, why = rt.burst_validity(rep, s)
        src = kinetic.get(s) if kind == "kinetic" else moment.get(s) if kind else None
        sizes.append(float(src["burst_size"]) if src else math.nan)
        freqs.append(float(src["burst_frequency"]) if src else math.nan)
        kinds.append(kind or "")
        notes.append(why)
    frame["burst_size"] = sizes
    frame["burst_frequency"] = freqs
    frame["burst_estimate"] = kinds
    frame["burst_note"] = notes
    emre = st.extra.get("emre_mean") if isinstance(st.extra, dict) else None
    if emre is not None:
        frame["emre_mean"] = pd.Series(emre).reindex(species).to_numpy(dtype=float)
    frame.index.name = "species"
    return frame


def _decomposition_records(rep: AnalysisReport) -> list[dict]:
    frame = rep.noise_decomposition
    if frame is None or not len(frame):
        return []
    frame = frame.reset_index()
    frame.columns = [str(c) for c in frame.columns]
    return frame.to_dict(orient="records")


def report_dict(rep: AnalysisReport) -> dict:
    """The JSON document of a report (see docs/report-schema.md)."""
    thermo = {"status": rep.thermo_status.get("status"),
              "reason": rep.thermo_status.get("reason", ""),
              "level": rep.thermo_status.get("level"),
              "report": None}
    if rep.thermo is not None:
        thermo["report"] = rep.thermo.to_dict()
        thermo["detailed_balance"] = bool(rep.thermo.detailed_balance)
        thermo["entropy_production"] = rep.thermo.entropy_production
        thermo["units"] = rep.thermo.units
    table = species_frame(rep) if rep.primary else pd.DataFrame()
    return jsonable({
        "schema": SCHEMA,
        "created": rep.created,
        "units": rep.settings.get("units", "count"),
        "model": rep.network_summary,
        "primary": rep.primary,
        "species": list(rep.species),
        "species_table": table,
        "statistics": {m: _statistics_dict(rep, m) for m in rep.statistics},
        "consistency": rep.consistency,
        "bursts": rep.bursts,
        "thermodynamics": thermo,
        "fluxes": rep.fluxes if rep.fluxes is not None else None,
        "noise_decomposition": _decomposition_records(rep),
        "noise_control": _records(getattr(rep, "noise_control", None)),
        "assignment_statistics": _records(getattr(rep, "assignment_statistics", None)),
        "assignment_time_course": _rule_time_course_records(rep),
        "oscillation": _records(getattr(rep, "oscillation", None), index="species"),
        "multistability": _multistability_dict(getattr(rep, "multistability", None)),
        "time_course": _time_course_dict(getattr(rep, "time_course", None)),
        "dynamics": getattr(rep, "dynamics", {}) or {},
        "skipped": rep.skipped,
        "settings": rep.settings,
        "versions": rep.versions,
        "timings": rep.timings,
        "warnings": list(rep.warnings),
    })


def _rule_time_course_records(rep: AnalysisReport) -> list:
    """Assignment-rule variables over time (SSA ensemble of the time course), or []."""
    getter = getattr(rep, "assignment_time_course", None)
    try:
        frame = getter() if callable(getter) else None
    except Exception:  # noqa: BLE001 - an optional table must not sink the report
        frame = None
    return [] if frame is None else frame.reset_index().to_dict(orient="records")


def _records(frame, index: str | None = None) -> list:
    """A DataFrame as JSON records (the index kept as column ``index`` when named)."""
    if frame is None or not len(frame):
        return []
    if index is not None:
        frame = frame.reset_index().rename(columns={"index": index})
    return frame.to_dict(orient="records")


def _multistability_dict(ms) -> dict | None:
    if ms is None:
        return None
    return {"states": _records(ms.states, index="state"),
            "switching": _records(ms.switching), "settings": ms.settings}


def _time_course_dict(tc) -> dict | None:
    """The time course's summary in the JSON (the full table is in the CSV files)."""
    if tc is None:
        return None
    return {"times": list(map(float, tc.times)), "mean": tc.mean.to_dict(orient="list"),
            "sd": tc.sd.to_dict(orient="list"), "settings": tc.settings}


# =========================================================================== files



def write_json(rep: AnalysisReport, path) -> str:
    text = json.dumps(report_dict(rep), indent=2, allow_nan=False)
    return atomic_write(path, text + "\n")


def write_csv(rep: AnalysisReport, directory) -> list[str]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []

    def put(name: str, frame: pd.DataFrame | None, index: bool = True) -> None:
        if frame is None or len(frame) == 0:
            return
        written.append(atomic_write(directory / name, frame.to_csv(index=index)))

    if rep.primary:
        frame = species_frame(rep, "all")
        frame.insert(1, "units", rep.settings.get("units", "count"))  # of mean, std, variance
        put("species.csv", frame)
    put("consistency.csv", rep.consistency, index=False)
    for m, st in rep.statistics.items():
        species = [s for s in rep.species if s in st.mean.index]
        put(f"covariance_{m}.csv", st.covariance.loc[species, species])
        if st.distributions:
            rows = []
            for s in species:
                d = st.distributions.get(s)
                if d is not None:
                    rows.append(pd.DataFrame({"species": s, "count": d.index.to_numpy(),
                                              "probability": d.to_numpy()}))
            if rows:
                put(f"distributions_{m}.csv", pd.concat(rows, ignore_index=True), index=False)
    kinetic = rep.bursts.get("kinetic") or []
    if kinetic:
        frame = pd.DataFrame(kinetic)
        for col in ("production_reactions", "switch_reactions"):
            frame[col] = frame[col].map(lambda v: " ".join(v))
        put("bursts_kinetic.csv", frame, index=False)
    moment = rep.bursts.get("moment") or {}
    if moment:
        frame = pd.DataFrame.from_dict(moment, orient="index")
        frame.index.name = "species"
        put("bursts_moment.csv", frame)
    if rep.thermo is not None:
        for name, attr in (("thermo_pairs.csv", "pairs"), ("thermo_cycles.csv", "cycles")):
            frame = getattr(rep.thermo, attr, None)
            if isinstance(frame, pd.DataFrame) and len(frame):
                frame = frame.copy()
                for col in frame.columns:
                    if frame[col].map(lambda v: isinstance(v, (list, tuple))).any():
                        frame[col] = frame[col].map(
                            lambda v: " ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
                put(name, frame, index=not isinstance(frame.index, pd.RangeIndex))
    if rep.trajectories is not None:
        put("trajectories.csv", rep.trajectories, index=False)
    if rep.noise_decomposition is not None and len(rep.noise_decomposition):
        put("noise_decomposition.csv", rep.noise_decomposition)
    if rep.fluxes is not None:
        put("fluxes.csv", rep.fluxes.rename_axis("reaction").to_frame())
    return written


def write_all(rep: AnalysisReport, directory) -> dict:
    """report.json, CSVs and report.html into ``directory``; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return {"json": write_json(rep, directory / "report.json"),
            "csv": write_csv(rep, directory),
            "html": write_html(rep, directory / "report.html")}


# =========================================================================== HTML
#: species with a drawn panel set (the others get their numbers only; all are in the CSV)
FIGURE_MAX_SPECIES = 60
#: species cards per page
PAGE_SIZE = 6
#: largest network (species + reactions) drawn as a graph
NETWORK_MAX_NODES = 150

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.2em auto;
max-width:1100px;color:#222;padding:0 1em;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.6em}h3{margin:.8em 0 .3em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .55em;text-align:right;vertical-align:top}
th{background:#f3f3f3;text-align:left}td.text{text-align:left}
.scroll{overflow-x:auto;max-width:100%}
tr.flagged td{background:#fde2e2}
.note{color:#555;font-size:.9em}.warn{color:#8a4b00}
.lead{font-size:1.05em;background:#f4f8fc;border-left:4px solid #4a7fb5;padding:.6em .9em}
img{max-width:100%;height:auto;border:1px solid #eee}
code{background:#f5f5f5;padding:0 .2em}
nav.toc a{margin-right:.8em;font-size:.9em}
.card{border:1px solid #ddd;border-radius:4px;padding:.4em .8em;margin:.6em 0}
.card h3 .id{font-weight:normal;color:#666;font-size:.85em}
.pager{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #eee}
.pager button,.pager select{font-size:.95em;margin-right:.4em}
.hidden{display:none}
details summary{cursor:pointer;color:#245}
"""

_SCRIPT = """
(function(){
  var cards = Array.prototype.slice.call(document.querySelectorAll('#panels .card'));
  var size = %d, page = 0, pages = Math.max(1, Math.ceil(cards.length / size));
  var sel = document.getElementById('species-select');
  var info = document.getElementById('page-info');
  var pager = document.getElementById('pager');
  if (!cards.length || !pager) { return; }
  pager.classList.remove('hidden');
  function show(p){
    page = Math.min(Math.max(p, 0), pages - 1);
    cards.forEach(function(c, i){
      c.classList.toggle('hidden', Math.floor(i / size) !== page);
    });
    var a = page * size + 1, b = Math.min(cards.length, (page + 1) * size);
    info.textContent = 'species ' + a + '\\u2013' + b + ' of ' + cards.length +
      ' (page ' + (page + 1) + ' of ' + pages + ')';
  }
  document.getElementById('page-prev').addEventListener('click', function(){ show(page - 1); });
  document.getElementById('page-next').addEventListener('click', function(){ show(page + 1); });
  document.getElementById('page-all').addEventListener('click', function(){
    cards.forEach(function(c){ c.classList.remove('hidden'); });
    info.textContent = 'all ' + cards.length + ' species';
  });
  sel.addEventListener('change', function(){
    var i = cards.findIndex(function(c){ return c.id === sel.value; });
    if (i >= 0) { show(Math.floor(i / size)); cards[i].scrollIntoView(); }
  });
  show(0);
  window.addEventListener('load', function(){  /* self-check, read by the browser test */
    var broken = Array.prototype.filter.call(document.images, function(i){
      return !i.complete || i.naturalWidth === 0; }).length;
    document.body.setAttribute('data-images', document.images.length + ' loaded, ' +
                               broken + ' broken');
  });
})();
"""


def _esc(v) -> str:
    return html.escape(str(v), quote=True)


def _text(v) -> str:
    """Plain text of a table value: no Python reprs (lists joined, dicts as 'k: v')."""
    if v is None:
        return "\u2013"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_text(x)}" for k, x in v.items()) or "\u2013"
    if isinstance(v, (list, tuple, set, frozenset)):
        return ", ".join(_text(x) for x in v) or "\u2013"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating, int, np.integer)):
        from ._text import fmt
        return fmt(v, 6) if not isinstance(v, (int, np.integer)) else str(int(v))
    return str(v)


def _cell(v) -> str:
    if isinstance(v, (float, np.floating, int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return f"<td>{_esc(_text(v))}</td>"
    return f"<td class=\"text\">{_esc(_text(v))}</td>"


def _table(frame: pd.DataFrame, index=True, flag_col=None, max_rows=500) -> str:
    if frame is None or not len(frame):
        return "<p class=\"note\">(empty)</p>"
    note = ""
    if len(frame) > max_rows:
        note = f"<p class=\"note\">First {max_rows} of {len(frame)} rows (all in the CSV).</p>"
        frame = frame.iloc[:max_rows]
    head = f"<th class=\"text\">{_esc(frame.index.name or '')}</th>" if index else ""
    head += "".join(f"<th>{_esc(str(c).replace('_', ' '))}</th>" for c in frame.columns)
    rows = []
    for idx, row in frame.iterrows():
        cls = " class=\"flagged\"" if flag_col and bool(row.get(flag_col)) else ""
        cells = (f"<td class=\"text\">{_esc(_text(idx))}</td>" if index else "")
        cells += "".join(_cell(v) for v in row.to_numpy())
        rows.append(f"<tr{cls}>{cells}</tr>")
    return (f"<div class=\"scroll\"><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>{note}")


def _dict_table(d: dict) -> str:
    rows = "".join(f"<tr><th class=\"text\">{_esc(k)}</th>{_cell(v)}</tr>"
                   for k, v in d.items())
    return f"<table><tbody>{rows}</tbody></table>"


def _img(b64, alt) -> str:
    if not b64:
        return f"<p class=\"note\">({_esc(alt)}: not available for these methods)</p>"
    return f"<img alt=\"{_esc(alt)}\" src=\"data:image/png;base64,{b64}\">"


def _dynamics_sections(rep) -> list[str]:
    """Noise over time, oscillations, multistability, what controls the noise and the
    assignment-rule variables -- each section only when the analysis produced it."""
    from . import _figures as rf
    from . import _osc_figures as of
    out = []
    tc = getattr(rep, "time_course", None)
    if tc is not None:
        body = _img(rf.png(of.time_course_figure(tc)), "mean +/- sd over time")
        body += (f"<p class=\"note\">{int(tc.settings.get('runs', 0))} runs from the initial "
                 f"state ({_esc(str(tc.settings.get('ssa_method', 'ssa')))}); window: "
                 f"{_esc(str(tc.settings.get('window', '')))}; LNA: "
                 f"{_esc(str(tc.settings.get('lna', '')))}.</p>")
        out.append(_section("time-course", "Noise over time", body))
    osc = getattr(rep, "oscillation", None)
    if osc is not None and len(osc):
        cols = [c for c in ("period", "period_se", "period_cv", "peak_frequency", "q_factor",
                            "q_factor_se", "coherent_cycles", "deterministic_period",
                            "method", "note") if c in osc.columns]
        body = _table(osc[cols].reset_index())
        try:
            body += _img(rf.png(of.spectrum_figure(osc)), "spectrum with its peak")
            if str(osc["method"].iloc[0]).startswith("ssa"):
                body += _img(rf.png(of.period_histogram_figure(osc)), "period histogram")
        except (KeyError, ValueError, IndexError):
            pass
        out.append(_section("oscillation", "Oscillations", body))
    ms = getattr(rep, "multistability", None)
    if ms is not None:
        out.append(_section("multistability", "Stable states and switching",
                            _table(ms.states.reset_index()) + _table(ms.switching)))
    control = getattr(rep, "noise_control", None)
    if control is not None and len(control):
        note = ("<p class=\"note\">Exact log-sensitivities d ln CV&sup2; / d ln k by the "
                f"{_esc(str(control.attrs.get('method', '')).upper())}, strongest first.</p>")
        out.append(_section("noise-control", "What controls the noise",
                            note + _table(control.head(20), index=False)))
    rules = getattr(rep, "assignment_statistics", None)
    over_time = _rule_time_course_records(rep)
    if (rules is not None and len(rules)) or over_time:
        body = _rules_body(rep, rules) if rules is not None and len(rules) else ""
        out.append(_section("rules", "Variables defined by assignment rules",
                            body + _rules_over_time(over_time)))
    for why in (getattr(rep, "dynamics", {}) or {}).get("notes", {}).values():
        out.append(f"<p class=\"note\">{_esc(why)}</p>")
    return out


def _rules_body(rep: AnalysisReport, rules: pd.DataFrame) -> str:
    """The assignment-rule table: mean, sd, CV (SSA with 95% intervals) per method."""
    from . import _text as rt

    def pm(r, q: str) -> str:
        return rt.fmt_pm(r[q], rt.Z95 * float(r.get(f"{q}_stderr", math.nan)))
    frame = pd.DataFrame([{"variable": r["variable"], "method": rt.SHORT_NAMES.get(
        r["method"], r["method"]), "mean": pm(r, "mean"), "sd": pm(r, "sd"),
        "CV": pm(r, "cv"), "how": r["approximation"]} for _, r in rules.iterrows()])
    unit = (" divided by the compartment size (concentration)"
            if rep.settings.get("units") == "concentration" else "")
    return _table(frame, index=False) + (
        "<p class=\"note\">Values in the rule variable's model units (a species defined by "
        f"a rule in amounts{unit}, a parameter by value). \u00b1: 95% confidence "
        "interval of the SSA estimate. FSP: exact expectation over the projected "
        "distribution; LNA: first-order delta method (valid for fluctuations small against "
        "the rule's curvature).</p>")


def _rules_over_time(records: list, max_times: int = 6) -> str:
    """A compact table of the rule variables over time: mean ± 95% CI and sd at up to
    ``max_times`` evenly spaced times of the time course."""
    from . import _text as rt
    if not records:
        return ""
    times = sorted({r["time"] for r in records})
    pick = set(times[i] for i in np.unique(np.linspace(0, len(times) - 1, max_times)
                                           .round().astype(int)))
    frame = pd.DataFrame([{"time": rt.fmt(r["time"], 4), "variable": r["variable"],
                           "mean": rt.fmt_pm(r["mean"], rt.Z95 * r["mean_stderr"]),
                           "sd": rt.fmt_pm(r["sd"], rt.Z95 * r["sd_stderr"])}
                          for r in records if r["time"] in pick])
    return ("<h3>Over time (SSA ensemble of the time course)</h3>" + _table(frame, index=False)
            + "<p class=\"note\">All times in report.json (assignment_time_course); "
              "\u00b1: 95% confidence interval between runs.</p>")


def _section(sid, title, body) -> str:
    return f"<section id=\"{sid}\"><h2>{_esc(title)}</h2>\n{body}\n</section>\n"


def _when(rep: AnalysisReport) -> str:
    t = rep.settings.get("time")
    return ("the stationary distribution" if t is None
            else f"the distribution at t = {t:g} (from the model's initial state)")


def _card_id(sid) -> str:
    return "sp-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in str(sid))


def _time_course_how(st) -> str:
    """The summary's sentence on a time-course answer: which method, at which time."""
    from . import _text as rt
    when = f"at t = {rt.fmt(st.time, 4)}" if st.time is not None else "at the window's end"
    if str(st.method) == "timecourse:lna":
        return (f"An approximation {when}: the time-dependent linear noise approximation "
                f"({_esc(str(st.settings.get('approximation', '')))}).")
    return (f"Estimated {when} from an ensemble of stochastic runs "
            f"({_esc(str(st.settings.get('ssa_method', 'ssa')))}); \u00b1 is the 95% "
            "confidence interval (delete-a-group jackknife).")


def summary_paragraph(rep: AnalysisReport) -> str:
    """The plain-language summary at the top of the report (HTML)."""
    from . import _text as rt
    ns = rep.network_summary
    n_sp = len(rep.species)
    out = [f"This model has {ns.get('n_species', n_sp)} species and "
           f"{ns.get('n_reactions', '?')} reaction channels; shown are "
           f"{_esc(_shown_as(rep))} of {_esc(_when(rep))}."]
    top = rt.noisiest(rep)
    if rep.primary and top:
        st = rep.statistics[rep.primary]
        sid, _ = top
        cv = rt.fmt_pm(st.cv[sid], rt.half_width(st, "cv", sid))
        fano = rt.fmt_pm(st.fano[sid], rt.half_width(st, "fano", sid))
        mean = rt.fmt_pm(st.mean[sid], rt.half_width(st, "mean", sid))
        out.append(f"The noisiest species is <b>{_esc(rt.label(rep, sid))}</b> (largest Fano "
                   f"factor{'' if rt.conserved(rep, sid) else ' of the species not tied by a conservation law'}): "
                   f"Fano factor {fano}, i.e. its variance is {_esc(rt.fmt(st.fano[sid], 3))} "
                   f"times its mean (1 for a Poisson process); mean {mean} "
                   f"{'(concentration)' if rt.units(rep) == 'concentration' else 'molecules'}; coefficient of variation {cv} (standard deviation "
                   f"{_esc(rt.fmt(float(st.cv[sid]) * 100, 3))}% of the mean).")
        linear = rt.propensities_linear(rep.network)
        how = {"fsp": f"Exact up to the FSP truncation error "
                      f"({_esc(rt.fmt(st.extra.get('error_bound'), 2))} probability "
                      f"outside the projection).",
               "lna": ("Exact here: every propensity is linear in the counts." if linear
                       else "An approximation here (nonlinear propensities): reliable for "
                            "large molecule numbers; compare with the SSA (--method all)."),
               "ssa": "Estimated by simulation; \u00b1 is the 95% confidence interval "
                      "(batch means).",
               "timecourse": _time_course_how(st)}[rep.primary]
        caveat = rt.interval_caveat(rep)
        if caveat:
            how += f" <span class=\"warn\">Caution: {_esc(caveat)}.</span>"
        out.append(f"Method: {_esc(rt.METHOD_NAMES[rep.primary])}. {how}")
    elif rep.primary:
        out.append(f"No species fluctuates (method: {_esc(rt.SHORT_NAMES[rep.primary])}).")
    cons = rep.consistency
    if cons is not None and len(cons):
        n_flag = int(cons["flagged"].sum())
        others = ", ".join(rt.SHORT_NAMES.get(m, m) for m in rep.statistics if m != rep.primary)
        out.append(f"Cross-check against {_esc(others)}: " + (
            f"all {len(cons)} comparisons agree within tolerance." if not n_flag else
            f"<span class=\"warn\">{n_flag} of {len(cons)} comparisons disagree</span> "
            "(see the consistency table)."))
    for m, why in rep.skipped.items():
        out.append(f"Not done: {_esc(rt.SHORT_NAMES.get(m, m))} \u2013 "
                   f"{_esc(_short_reason(why))} (details below).")
    if rep.thermo is None and rep.thermo_status.get("status") == "unavailable":
        out.append(f"Not done: thermodynamics \u2013 {_esc(rep.thermo_status.get('reason'))}.")
    return "<p class=\"lead\">" + " ".join(out) + "</p>"


def _shown_as(rep: AnalysisReport) -> str:
    from . import _text as rt
    if rt.units(rep) == "concentration":
        return ("concentrations [X] = molecules / (system_size x compartment size), in model "
                "units, as libRoadRunner reports them (Fano factors are those of the "
                "molecule counts; CVs are unit-free)")
    return "molecule counts"


def _short_reason(why: str, limit: int = 110) -> str:
    """The head of a skip reason: up to the first parenthesis or semicolon."""
    head = re.split(r" \(|; ", str(why), maxsplit=1)[0].strip().rstrip(".")
    return head if len(head) <= limit else head[:limit - 1].rstrip() + "\u2026"


def _primary_table(rep: AnalysisReport) -> str:
    """Primary method's numbers per species, with 95% CIs on sampled ones."""
    from . import _text as rt
    primary = rep.primary
    if primary is None:
        return ""
    st = rep.statistics[primary]
    frame = species_frame(rep, temporal=False)
    names = rt.species_names(rep)
    named = any(s in names for s in frame.index)
    head = ("<th class=\"text\">species</th>" + ("<th class=\"text\">name</th>" if named else "")
            + "".join(f"<th>{_esc(rt.header(rep, q))}</th>" for q in ("mean", "std", "fano"))
            + "<th>CV</th><th>burst size (molecules)</th>"
            "<th>burst frequency</th><th class=\"text\">burst estimate</th>")
    rows = []
    for sid in frame.index:
        def pm(q: str) -> str:
            return _esc(rt.fmt_pm(getattr(st, q)[sid], rt.half_width(st, q, sid)))
        row = frame.loc[sid]
        kind = row["burst_estimate"]
        bsize = rt.fmt(row["burst_size"]) if kind else "\u2013"
        bfreq = rt.fmt(row["burst_frequency"]) if kind else "\u2013"
        note = f"{kind}: {row['burst_note']}" if kind else f"not shown: {row['burst_note']}"
        name = f"<td class=\"text\">{_esc(names.get(sid, ''))}</td>" if named else ""
        rows.append(f"<tr><td class=\"text\"><a href=\"#{_card_id(sid)}\">{_esc(sid)}</a></td>"
                    f"{name}<td>{pm('mean')}</td>"
                    f"<td>{pm('std')}</td><td>{pm('fano')}</td>"
                    f"<td>{pm('cv')}</td><td>{_esc(bsize)}</td><td>{_esc(bfreq)}</td>"
                    f"<td class=\"text\">{_esc(note)}</td></tr>")
    ci = (("\u00b1: 95% confidence interval of the time-course estimate (1.96 jackknife "
           "standard errors). " if primary == "timecourse" else
           "\u00b1: 95% confidence interval of the SSA estimate (1.96 batch-means standard "
           "errors). ") if st.stderr else "")
    return (f"<div class=\"scroll\"><table><thead><tr>{head}</tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table></div><p class=\"note\">Method: "
            f"{_esc(rt.SHORT_NAMES[primary])}. {ci}Fano factor = variance/mean; CV = "
            f"std/mean. Burst sizes (molecules per burst) and frequencies (per time unit) are "
            f"shown only where an estimate's assumptions hold (see Bursts).</p>")


def _all_methods_table(rep: AnalysisReport) -> str:
    if len(rep.statistics) < 2 and rep.primary:
        return ""
    frame = species_frame(rep, "all")
    keep = [c for c in ("method", "name", "mean", "mean_stderr", "variance", "fano",
                        "fano_stderr", "cv", "autocorrelation_time", "corner_frequency",
                        "peak_frequency", "emre_mean") if c in frame.columns]
    from . import _text as rt
    shown = frame[keep].rename(columns={q: rt.header(rep, q) for q in ("mean", "variance", "fano")})
    return ("<details><summary>Every method's numbers (with standard errors and time "
            "scales)</summary>" + _table(shown) + "<p class=\"note\">autocorrelation "
            "time = S(0)/(2 Var) (time units); corner frequency: angular frequency where S "
            "falls to S(0)/2; peak frequency: a spectral peak (oscillation), if any; '\u2013' "
            "where not computed (an FSP spectrum over a large projection is not started by "
            "the report).</p></details>")


def _panels(rep: AnalysisReport) -> str:
    from . import _figures as rf
    from . import _text as rt
    source, why = rf.temporal_source(rep)
    window, how = rf.lag_window(rep, source)
    lags = np.linspace(0.0, window, 160)
    primary = rep.primary
    st = rep.statistics.get(primary) if primary else None
    order = list(rep.species)
    canvas = rf.CardCanvas()
    cards = []
    for k, sid in enumerate(order):
        facts = ""
        if st is not None and primary and sid in st.mean.index:
            facts = (f"mean {rt.fmt_pm(st.mean[sid], rt.half_width(st, 'mean', sid))}, "
                     f"Fano {rt.fmt_pm(st.fano[sid], rt.half_width(st, 'fano', sid))}, "
                     f"CV {rt.fmt_pm(st.cv[sid], rt.half_width(st, 'cv', sid))} "
                     f"({rt.SHORT_NAMES.get(primary)})")
        name = rt.species_names(rep).get(sid)
        title = (f"{_esc(name)} <span class=\"id\">id {_esc(sid)}</span>" if name
                 else _esc(sid))
        fig = (_img(rf.figure_species(rep, sid, source, lags, canvas), f"panels of {sid}")
               if k < FIGURE_MAX_SPECIES else
               f"<p class=\"note\">(figures drawn for the first {FIGURE_MAX_SPECIES} species "
               "only; numbers above and in the CSV tables)</p>")
        cards.append(f"<div class=\"card\" id=\"{_card_id(sid)}\" data-species=\"{_esc(sid)}\">"
                     f"<h3>{title}</h3><p class=\"note\">{_esc(facts)}</p>{fig}</div>")
    options = "".join(f"<option value=\"{_card_id(s)}\">{_esc(rt.label(rep, s))}</option>"
                      for s in order)
    pager = (f"<div class=\"pager hidden\" id=\"pager\"><button type=\"button\" id=\"page-prev\">"
             f"&larr; previous</button><button type=\"button\" id=\"page-next\">next &rarr;"
             f"</button><button type=\"button\" id=\"page-all\">show all</button>"
             f"<label>jump to <select id=\"species-select\">{options}</select></label> "
             f"<span id=\"page-info\"></span></div>")
    dist = ("FSP" if "fsp" in rep.statistics else "SSA" if "ssa" in rep.statistics else None)
    note = (f"<p class=\"note\">Every one of the {len(order)} species has a card below "
            f"({PAGE_SIZE} per page; use the buttons or the selector). Top left: the "
            f"{dist + ' probability distribution with the ' if dist else ''}LNA Gaussian; "
            f"top right: the normalised autocorrelation, bottom left: the two-sided power "
            f"spectrum S(\u03c9) (log-log), both from {_esc(why)}; lags up to "
            f"{_esc(rt.fmt(window, 3))} time units = {_esc(how)}; bottom right: sample SSA "
            f"trajectories.</p>")
    return pager + note + "".join(cards)


def render_html(rep: AnalysisReport) -> str:
    """The report as one self-contained HTML string (inline CSS, PNG data URIs and one
    inline script for paging; no external resources). Drawing warnings of matplotlib
    (font fallbacks, log-axis limits) are silenced: they concern the picture, not the
    numbers."""
    import gc
    import warnings
    # no cyclic garbage collection while drawing: matplotlib allocates many small cyclic
    # objects, and each full collection walks the whole heap of the analysis (about 6%
    # of a 15-species report); the previous state is restored, nothing is kept alive
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="matplotlib")
            warnings.filterwarnings("ignore", category=UserWarning, module="networkx")
            return _render_html(rep)
    finally:
        if was_enabled:
            gc.enable()


def _render_html(rep: AnalysisReport) -> str:
    from . import _figures as rf
    from . import _text as rt
    ns = rep.network_summary
    heading = (f"{rep.model_name} ({rep.model_id})" if rep.model_name
               and rep.model_name != rep.model_id else rep.model_id)
    title = f"sbmlnoise report: {heading}"
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{_esc(title)}</h1>",
             "<nav class=\"toc\"><a href=\"#species\">numbers</a><a href=\"#panels\">per "
             "species</a><a href=\"#consistency\">cross-checks</a><a href=\"#bursts\">"
             "bursts</a><a href=\"#thermodynamics\">thermodynamics</a><a href=\"#network\">"
             "network</a><a href=\"#settings\">settings</a></nav>"]
    meta = [summary_paragraph(rep)]
    if rep.primary:
        meta.append(_img(rf.figure_overview(rep), "noise of every species"))
    for w in rep.warnings:
        meta.append(f"<p class=\"warn\">Warning: {_esc(w)}</p>")
    for m, why in rep.skipped.items():
        meta.append(f"<p class=\"note\">{_esc(rt.SHORT_NAMES.get(m, m))} not run: "
                    f"{_esc(why)}</p>")
    meta.append(f"<p class=\"note\">{_esc(ns.get('summary', ''))} Methods run: "
                f"{_esc(', '.join(rt.SHORT_NAMES.get(m, m) for m in rep.statistics))}. "
                f"Created {_esc(rep.created)} with sbmlnoise "
                f"{_esc(rep.versions.get('sbmlnoise', ''))}.</p>")
    parts.append(_section("summary", "Summary", "\n".join(meta)))
    if rep.primary:
        parts.append(_section("species", "Noise statistics per species",
                              _primary_table(rep) + _all_methods_table(rep)))
        parts.append(_section("panels", "Each species: distribution, autocorrelation, "
                              "spectrum, trajectories", _panels(rep)))
    parts.append(_section("consistency", "Consistency between methods", _consistency_body(rep)))
    if rep.noise_decomposition is not None and len(rep.noise_decomposition):
        body = (_table(rep.noise_decomposition.reset_index(), index=False)
                + "<p class=\"note\">Dual-reporter decomposition (Elowitz et al. 2002, "
                  "doi:10.1126/science.1070919; Swain, Elowitz &amp; Siggia 2002, "
                  "doi:10.1073/pnas.162041399): eta_int^2 = &lt;(x-y)^2&gt;/(2&lt;x&gt;&lt;y&gt;), "
                  "eta_ext^2 = Cov(x, y)/(&lt;x&gt;&lt;y&gt;), from the primary method's "
                  "moments.</p>")
        parts.append(_section("decomposition", "Intrinsic and extrinsic noise", body))
    parts.extend(_dynamics_sections(rep))
    parts.append(_section("bursts", "Bursts", _bursts_body(rep)))
    parts.append(_section("thermodynamics", "Thermodynamics", _thermo_body(rep)))
    parts.append(_section("network", "Reaction network", _network_body(rep)))
    parts.append(_section("settings", "Settings, versions and timings", _settings_body(rep)))
    parts.append("<p class=\"note\">References: Gillespie 1977 (doi:10.1021/j100540a008); "
                 "Munsky &amp; Khammash 2006 (doi:10.1063/1.2145882); Elf &amp; Ehrenberg 2003 "
                 "(doi:10.1101/gr.1196503); Schnakenberg 1976 (doi:10.1103/RevModPhys.48.571); "
                 "Peccoud &amp; Ycart 1995 (doi:10.1006/tpbi.1995.1027).</p>")
    parts.append(f"<script>{_SCRIPT % PAGE_SIZE}</script>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _consistency_body(rep: AnalysisReport) -> str:
    cons = rep.consistency
    if cons is None or not len(cons):
        return "<p class=\"note\">Only one method ran; nothing to compare.</p>"
    n_flag = int(cons["flagged"].sum())
    return (f"<p>{n_flag} of {len(cons)} comparisons flagged.</p>"
            + _table(cons, index=False, flag_col="flagged")
            + f"<p class=\"note\">Values in {_esc(_shown_as(rep).split(' (')[0])}. "
              "rel diff = |a - b| / |b| with b the more exact method "
              "(FSP, then SSA). Tolerance: 4 standard errors of the SSA estimate, or "
              "max(1e-3, 10 x FSP error bound) between FSP and LNA (a flag there means "
              "the LNA is inaccurate for this model).</p>")


def _bursts_body(rep: AnalysisReport) -> str:
    from . import _text as rt
    body = ""
    kinetic = rep.bursts.get("kinetic") or []
    if kinetic:
        frame = pd.DataFrame(kinetic)[["species", "promoter_on", "promoter_off", "k_on",
                                       "k_off", "k_tx", "burst_size", "burst_frequency",
                                       "feedback"]]
        body += "<h3>Telegraph motifs (kinetic estimate)</h3>" + _table(frame, index=False)
        body += f"<p class=\"note\">{_esc(rep.bursts['assumptions'].get('kinetic', ''))}</p>"
    moment = rep.bursts.get("moment") or {}
    rows = []
    for sid in rep.species:
        if sid not in moment or any(b["species"] == sid for b in kinetic):
            continue
        kind, why = rt.burst_validity(rep, sid)
        m = moment[sid]
        rows.append({"species": sid, "burst_size": m.get("burst_size") if kind else None,
                     "burst_frequency": m.get("burst_frequency") if kind else None,
                     "gamma": m.get("gamma"), "applies": kind == "moment",
                     "why": why})
    if rows:
        body += ("<h3>Moment-based estimate</h3>"
                 + _table(pd.DataFrame(rows).set_index("species").astype(object)))
        body += f"<p class=\"note\">{_esc(rep.bursts['assumptions'].get('moment', ''))}</p>"
    return body or "<p class=\"note\">(none)</p>"


def _thermo_body(rep: AnalysisReport) -> str:
    if rep.thermo is None:
        return (f"<p class=\"note\">Thermodynamic analysis "
                f"{_esc(rep.thermo_status.get('status'))}: "
                f"{_esc(rep.thermo_status.get('reason', ''))}</p>")
    th = rep.thermo
    from .._summary import thermo_verdict
    body = f"<p>Verdict: <b>{_esc(thermo_verdict(th))}</b>.</p>"
    irr = list(getattr(th, "irreversible", []) or [])
    if irr:
        body += (f"<p>Irreversible reactions (no reverse; infinite entropy production if "
                 f"they carry flux): {_esc(', '.join(map(str, irr)))}</p>")
    try:
        body += f"<pre>{_esc(th.summary())}</pre>"
    except Exception:  # noqa: BLE001 - summary is optional decoration
        pass
    shown = 50  # a CME state graph can have 10^5 fundamental cycles
    for title, attr in (("Reverse pairs", "pairs"), ("Cycles", "cycles")):
        frame = getattr(th, attr, None)
        if isinstance(frame, pd.DataFrame) and len(frame):
            note = (f" (first {shown} of {len(frame)}; all in thermo_{attr}.csv)"
                    if len(frame) > shown else "")
            body += f"<h3>{title}{_esc(note)}</h3>" + _table(
                frame.head(shown).astype(object),
                index=not isinstance(frame.index, pd.RangeIndex))
    return body


def _network_body(rep: AnalysisReport) -> str:
    ns = rep.network_summary
    body = _img(figure_network(rep), "reaction network")
    if rep.fluxes is not None:
        body += "<h3>Deterministic steady-state fluxes</h3>" + _table(
            rep.fluxes.rename_axis("reaction").to_frame())
    reactions = pd.DataFrame(ns.get("reactions", []))
    if len(reactions):
        body += "<h3>Reaction channels</h3>" + _table(reactions.astype(object), index=False)
    return body


def _settings_body(rep: AnalysisReport) -> str:
    settings = {k: v for k, v in rep.settings.items() if not isinstance(v, dict)}
    for k, v in rep.settings.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                settings[f"{k}.{k2}"] = v2
    body = ("<h3>Settings</h3>" + _dict_table(settings) + "<h3>Versions</h3>"
            + _dict_table(rep.versions) + "<h3>Timings (s)</h3>" + _dict_table(rep.timings))
    for m, st in rep.statistics.items():
        body += f"<h3>{_esc(m)} settings</h3>" + _dict_table(dict(st.settings))
    return body


# =========================================================================== network figure
def _cycle_reactions(rep: AnalysisReport) -> list[set]:
    """Reaction ids per thermodynamic cycle (best effort over the ThermoReport)."""
    out: list[set] = []
    cycles = getattr(rep.thermo, "cycles", None)
    if not isinstance(cycles, pd.DataFrame) or not len(cycles) or rep.network is None:
        return out
    ids = set(rep.network.reaction_ids)
    by_sbml: dict[str, set] = {}
    for r in rep.network.reactions:
        by_sbml.setdefault(r.sbml_id or r.id, set()).add(r.id)
    col = "members" if "members" in cycles.columns else cycles.columns[0]
    for members in cycles[col]:
        if isinstance(members, str):
            members = members.replace(",", " ").split()
        found = set()
        for m in members if isinstance(members, (list, tuple, set)) else []:
            m = str(m)
            if m in ids:
                found.add(m)
            elif m in by_sbml:
                found |= by_sbml[m]
            else:  # e.g. "R1_fwd" or "-R1"
                base = m.lstrip("+-")
                found |= {r for r in ids if r == base or (r.startswith(base))}
        if found:
            out.append(found)
    return out


def figure_network(rep: AnalysisReport) -> str | None:
    """Species-reaction graph; edge width ~ |steady-state flux|, cycles coloured."""
    net = rep.network
    if net is None or net.n_species == 0:
        return None
    import networkx as nx
    from . import _figures as rf
    from . import _text as rt
    g = net.graph
    if g.number_of_nodes() > NETWORK_MAX_NODES:
        return None
    # spring layout (numpy, tens of ms); Kamada-Kawai costs ~1 s of L-BFGS even when small
    pos = nx.spring_layout(g, seed=0, iterations=100)
    fig = rf._figure(8, 6)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.92))
    flux = rep.fluxes
    fmax = float(np.nanmax(np.abs(flux.to_numpy()))) if flux is not None and len(flux) else 0.0
    cycles = _cycle_reactions(rep)
    palette = ["tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"]
    cycle_color: dict[str, str] = {}
    for k, members in enumerate(cycles):
        for r in members:
            cycle_color.setdefault(r, palette[k % len(palette)])
    widths, colors, styles = [], [], []
    for u, v, data in g.edges(data=True):
        rid = v if g.nodes[v].get("kind") == "reaction" else u
        f = abs(float(flux.get(rid, 0.0))) if flux is not None else 0.0
        widths.append(0.8 + 4.0 * (f / fmax if fmax > 0 and np.isfinite(f) else 0.0))
        colors.append(cycle_color.get(rid, "0.35"))
        styles.append("dashed" if data.get("role") == "modifier" else "solid")
    species_nodes = [n for n, d in g.nodes(data=True) if d.get("kind") == "species"]
    reaction_nodes = [n for n, d in g.nodes(data=True) if d.get("kind") == "reaction"]
    nx.draw_networkx_nodes(g, pos, nodelist=species_nodes, node_color="#cfe3f7",
                           edgecolors="tab:blue", node_size=900, ax=ax)
    nx.draw_networkx_nodes(g, pos, nodelist=reaction_nodes, node_shape="s",
                           node_color=[cycle_color.get(n, "#eeeeee") for n in reaction_nodes],
                           edgecolors="0.3", node_size=250, ax=ax)
    nx.draw_networkx_edges(g, pos, width=widths, edge_color=colors, style=styles, ax=ax,
                           arrows=True, arrowsize=12, node_size=900)
    names = rt.species_names(rep)
    labels = {n: (f"{names[n]}\n({n})" if n in names else n) for n in species_nodes}
    nx.draw_networkx_labels(g, pos, labels=labels, font_size=9, ax=ax)
    rlabels = {}
    for n in reaction_nodes:
        text = n
        if flux is not None and n in flux.index and np.isfinite(flux[n]):
            text += f"\nJ={rt.fmt(flux[n], 3)}"
        rlabels[n] = text
    offset = {n: (x, y - 0.07) for n, (x, y) in pos.items()}
    nx.draw_networkx_labels(g, offset, labels=rlabels, font_size=7, ax=ax)
    ax.set_title("reaction network (circles: species, squares: reactions; width ~ |flux|;"
                 " dashed: modifier; colour: cycle)", fontsize=9)
    ax.axis("off")
    return rf.png(fig)


def report_repr_html(rep: AnalysisReport) -> str:
    """Notebook display of an AnalysisReport: the plain-language summary and the primary
    method's table (meant as ``AnalysisReport._repr_html_``)."""
    if not rep.primary:
        return f"<p>{_esc(rep.model_id)}: no noise statistics</p>"
    return (f"<div><b>{_esc(rep.model_name or rep.model_id)}</b>{summary_paragraph(rep)}"
            f"{_primary_table(rep)}</div>")


def write_html(rep: AnalysisReport, path) -> str:
    return atomic_write(path, render_html(rep))
