"""Writers of an :class:`~sbmlnoise.analysis.AnalysisReport`: JSON, CSV and HTML.

* ``report.json`` -- everything, JSON-able (schema: docs/report-schema.md; ``NaN`` and
  infinities become ``null``);
* CSV tables -- ``species.csv`` (every method), ``consistency.csv``,
  ``covariance_<method>.csv``, ``distributions_<method>.csv``, ``bursts_kinetic.csv``,
  ``bursts_moment.csv``, ``thermo_pairs.csv``, ``thermo_cycles.csv``,
  ``trajectories.csv``, ``fluxes.csv`` (those that apply);
* ``report.html`` -- self-contained (figures are base64 PNGs drawn with matplotlib's Agg
  backend, no scripts, no external resources); all model-derived text is escaped.

Every file is written atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from ._io import atomic_write

__all__ = ["report_dict", "write_json", "write_csv", "write_html", "write_all", "jsonable",
           "SCHEMA"]

SCHEMA = "sbmlnoise-report/1"
_MAX_DIST = 5000  # largest marginal written to JSON per species


# =========================================================================== JSON
def jsonable(obj):
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


def _statistics_dict(rep, name) -> dict:
    st = rep.statistics[name]
    species = [s for s in rep.species if s in st.mean.index]
    temporal = rep.temporal(name)
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


def _decomposition_records(rep):
    frame = rep.noise_decomposition
    if frame is None or not len(frame):
        return []
    frame = frame.reset_index()
    frame.columns = [str(c) for c in frame.columns]
    return frame.to_dict(orient="records")


def report_dict(rep) -> dict:
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
    table = rep.species_table() if rep.primary else pd.DataFrame()
    return jsonable({
        "schema": SCHEMA,
        "created": rep.created,
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
        "skipped": rep.skipped,
        "settings": rep.settings,
        "versions": rep.versions,
        "timings": rep.timings,
        "warnings": list(rep.warnings),
    })


# =========================================================================== files



def write_json(rep, path) -> str:
    text = json.dumps(report_dict(rep), indent=2, allow_nan=False)
    return atomic_write(path, text + "\n")


def write_csv(rep, directory) -> list[str]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []

    def put(name, frame, index=True):
        if frame is None or len(frame) == 0:
            return
        written.append(atomic_write(directory / name, frame.to_csv(index=index)))

    if rep.primary:
        put("species.csv", rep.species_table("all"))
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


def write_all(rep, directory) -> dict:
    """report.json, CSVs and report.html into ``directory``; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return {"json": write_json(rep, directory / "report.json"),
            "csv": write_csv(rep, directory),
            "html": write_html(rep, directory / "report.html")}


# =========================================================================== figures
def _plt():
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _plt().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _grid(n):
    cols = min(3, max(1, n))
    rows = int(math.ceil(n / cols))
    return rows, cols


_COLORS = {"fsp": "tab:blue", "ssa": "tab:orange", "lna": "tab:green"}


def _shown_species(rep, limit=9):
    return list(rep.species)[:limit]


#: line style per method in the temporal plots
_LINESTYLE = {"fsp": "-", "lna": "--", "ssa": ":"}


def figure_distributions(rep):
    """Marginal distributions (FSP/SSA bars) with the LNA Gaussian overlaid."""
    plt = _plt()
    species = _shown_species(rep)
    source = next((m for m in ("fsp", "ssa") if m in rep.statistics
                   and rep.statistics[m].distributions), None)
    lna = rep.statistics.get("lna")
    if source is None and lna is None:
        return None
    rows, cols = _grid(len(species))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.ravel()[len(species):]:
        ax.axis("off")
    for ax, s in zip(axes.ravel(), species):
        lo, hi = math.inf, -math.inf
        if source is not None:
            d = rep.statistics[source].distributions.get(s)
            if d is not None and len(d):
                d = d[d > 1e-12 * d.max()] if d.max() > 0 else d
                x = d.index.to_numpy(float)
                ax.bar(x, d.to_numpy(), width=max(1.0, (x.max() - x.min()) / 200 if len(x) else 1),
                       color=_COLORS[source], alpha=0.6, label=source.upper())
                lo, hi = min(lo, x.min()), max(hi, x.max())
        if lna is not None and s in lna.mean.index:
            mu, var = float(lna.mean[s]), float(lna.variance[s])
            if var > 0 and math.isfinite(var):
                sd = math.sqrt(var)
                a = min(lo, mu - 4 * sd) if math.isfinite(lo) else mu - 4 * sd
                b = max(hi, mu + 4 * sd) if math.isfinite(hi) else mu + 4 * sd
                xs = np.linspace(a, b, 400)
                ax.plot(xs, np.exp(-(xs - mu) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var),
                        color=_COLORS["lna"], lw=2, label="LNA Gaussian")
        ax.set_title(s)
        ax.set_xlabel("copy number")
        ax.set_ylabel("probability")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _correlation_scale(rep) -> float:
    """Time scale for the temporal plots: the slowest deterministic relaxation time, or
    the longest autocorrelation time of the primary method if that is longer (e.g.
    switching in a bistable system)."""
    tau = float(rep.settings.get("time_scale") or 1.0)
    if rep.primary:
        times = [v["autocorrelation_time"] for v in rep.temporal().values()]
        times = [t for t in times if t is not None and np.isfinite(t) and t > 0]
        if times:
            tau = max(tau, min(max(times), 1e3 * tau))
    return tau


def _lag_grid(rep):
    return np.linspace(0.0, 5.0 * _correlation_scale(rep), 200)


def figure_autocorrelation(rep):
    """Normalised autocovariance C(tau)/C(0) of every method that has it."""
    plt = _plt()
    species = _shown_species(rep)
    lags = _lag_grid(rep)
    fig, ax = plt.subplots(figsize=(7, 4))
    drawn = False
    for m, st in rep.statistics.items():
        for s in species:
            try:
                c = st.autocorrelation(s, lags).to_numpy()
            except (NotImplementedError, KeyError, ValueError):
                continue
            if not (np.isfinite(c[0]) and c[0] > 0):
                continue
            ax.plot(lags, c / c[0], label=f"{s} ({m})",
                    ls=_LINESTYLE.get(m, "-"))
            drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xlabel("lag tau (model time units)")
    ax.set_ylabel("C(tau) / C(0)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return _png(fig)


def figure_psd(rep):
    """Two-sided PSD S(omega) on log-log axes."""
    plt = _plt()
    species = _shown_species(rep)
    tau = float(rep.settings.get("time_scale") or 1.0)
    omegas = np.logspace(-2, 2.5, 120) / tau
    slow = _correlation_scale(rep)
    if slow > tau:  # extend to the slow (switching) time scale
        omegas = np.logspace(np.log10(0.01 / slow), np.log10(10 ** 2.5 / tau), 140)
    fig, ax = plt.subplots(figsize=(7, 4))
    drawn = False
    from ._summary import omega_limit
    for m, st in rep.statistics.items():
        om = omegas[omegas < omega_limit(st)]
        if om.size < 2:
            continue
        for s in species:
            try:
                with np.errstate(all="ignore"):
                    spec = st.psd(s, om).to_numpy()
            except (NotImplementedError, KeyError, ValueError):
                continue
            ok = np.isfinite(spec) & (spec > 0)
            if ok.sum() < 2:
                continue
            ax.loglog(om[ok], spec[ok], label=f"{s} ({m})",
                      ls=_LINESTYLE.get(m, "-"))
            drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("angular frequency omega (rad per time unit)")
    ax.set_ylabel("S(omega) (counts^2 x time)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return _png(fig)


def figure_trajectories(rep):
    """Sample SSA trajectories from the initial state."""
    if rep.trajectories is None or not len(rep.trajectories):
        return None
    plt = _plt()
    species = [s for s in _shown_species(rep) if s in rep.trajectories.columns]
    if not species:
        return None
    rows, cols = _grid(len(species))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.ravel()[len(species):]:
        ax.axis("off")
    for ax, s in zip(axes.ravel(), species):
        for run, grp in rep.trajectories.groupby("run"):
            ax.step(grp["time"], grp[s], where="post", lw=1, label=f"run {run}")
        ax.set_title(s)
        ax.set_xlabel("time")
        ax.set_ylabel("copy number")
    fig.tight_layout()
    return _png(fig)


def _cycle_reactions(rep) -> list[set]:
    """Reaction ids per thermodynamic cycle (best effort over the ThermoReport)."""
    out = []
    cycles = getattr(rep.thermo, "cycles", None)
    if not isinstance(cycles, pd.DataFrame) or not len(cycles) or rep.network is None:
        return out
    ids = set(rep.network.reaction_ids)
    by_sbml = {}
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


def figure_network(rep):
    """Species-reaction graph; edge width ~ |steady-state flux|, cycles coloured."""
    net = rep.network
    if net is None or net.n_species == 0:
        return None
    import networkx as nx
    plt = _plt()
    g = net.graph
    try:
        pos = nx.kamada_kawai_layout(g) if g.number_of_nodes() > 2 else nx.spring_layout(g, seed=0)
    except Exception:  # noqa: BLE001 - layout is cosmetic
        pos = nx.spring_layout(g, seed=0)
    fig, ax = plt.subplots(figsize=(8, 6))
    flux = rep.fluxes
    fmax = float(np.nanmax(np.abs(flux.to_numpy()))) if flux is not None and len(flux) else 0.0
    cycles = _cycle_reactions(rep)
    palette = ["tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"]
    cycle_color = {}
    for k, members in enumerate(cycles):
        for r in members:
            cycle_color.setdefault(r, palette[k % len(palette)])
    widths, colors, styles = [], [], []
    for u, v, data in g.edges(data=True):
        rid = v if g.nodes[v].get("kind") == "reaction" else u
        f = abs(float(flux.get(rid, 0.0))) if flux is not None else 0.0
        widths.append(0.8 + 4.0 * (f / fmax if fmax > 0 else 0.0))
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
    labels = {n: n for n in species_nodes}
    nx.draw_networkx_labels(g, pos, labels=labels, font_size=9, ax=ax)
    rlabels = {}
    for n in reaction_nodes:
        text = n
        if flux is not None and n in flux.index and np.isfinite(flux[n]):
            text += f"\nJ={flux[n]:.3g}"
        rlabels[n] = text
    offset = {n: (x, y - 0.07) for n, (x, y) in pos.items()}
    nx.draw_networkx_labels(g, offset, labels=rlabels, font_size=7, ax=ax)
    ax.set_title("reaction network (circles: species, squares: reactions; width ~ |flux|;"
                 " dashed: modifier; colour: cycle)", fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    return _png(fig)


# =========================================================================== HTML
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .55em;text-align:right}
th{background:#f3f3f3;text-align:left}td.text{text-align:left}
.scroll{overflow-x:auto;max-width:100%}
tr.flagged td{background:#fde2e2}
.note{color:#555;font-size:.9em}.warn{color:#8a4b00}
img{max-width:100%;height:auto;border:1px solid #eee}
code{background:#f5f5f5;padding:0 .2em}
"""


def _esc(v) -> str:
    return html.escape(str(v), quote=True)


def _cell(v) -> str:
    if isinstance(v, (float, np.floating)):
        if math.isinf(float(v)):
            return f"<td>{'&infin;' if v > 0 else '&minus;&infin;'}</td>"
        if not math.isfinite(float(v)):
            return "<td>&ndash;</td>"
        return f"<td>{float(v):.6g}</td>"
    if isinstance(v, (bool, np.bool_)):
        return f"<td class=\"text\">{'yes' if v else 'no'}</td>"
    if isinstance(v, (int, np.integer)):
        return f"<td>{int(v)}</td>"
    if isinstance(v, (list, tuple)):
        v = ", ".join(map(str, v))
    return f"<td class=\"text\">{_esc(v)}</td>"


def _table(frame: pd.DataFrame, index=True, flag_col=None, max_rows=500) -> str:
    if frame is None or not len(frame):
        return "<p class=\"note\">(empty)</p>"
    frame = frame.iloc[:max_rows]
    head = "".join(f"<th class=\"text\">{_esc(frame.index.name or '')}</th>" if index else "")
    head += "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    rows = []
    for idx, row in frame.iterrows():
        cls = " class=\"flagged\"" if flag_col and bool(row.get(flag_col)) else ""
        cells = (f"<td class=\"text\">{_esc(idx)}</td>" if index else "")
        cells += "".join(_cell(v) for v in row.to_numpy())
        rows.append(f"<tr{cls}>{cells}</tr>")
    return (f"<div class=\"scroll\"><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _dict_table(d: dict) -> str:
    rows = "".join(f"<tr><th class=\"text\">{_esc(k)}</th>{_cell(v)}</tr>"
                   for k, v in d.items())
    return f"<table><tbody>{rows}</tbody></table>"


def _img(b64, alt) -> str:
    if not b64:
        return f"<p class=\"note\">({_esc(alt)}: not available for these methods)</p>"
    return f"<img alt=\"{_esc(alt)}\" src=\"data:image/png;base64,{b64}\">"


def _section(sid, title, body) -> str:
    return f"<section id=\"{sid}\"><h2>{_esc(title)}</h2>\n{body}\n</section>\n"


def render_html(rep) -> str:
    """The report as one self-contained HTML string."""
    ns = rep.network_summary
    title = f"sbmlnoise report: {rep.model_id}"
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{_esc(title)}</h1>"]
    meta = [f"<p>{_esc(ns.get('summary', ''))}</p>"]
    if rep.model_name and rep.model_name != rep.model_id:
        meta.insert(0, f"<p>Model name: {_esc(rep.model_name)}</p>")
    meta.append(f"<p>Primary method: <b>{_esc(rep.primary)}</b>; methods run: "
                f"{_esc(', '.join(rep.statistics))}. Created {_esc(rep.created)} with "
                f"sbmlnoise {_esc(rep.versions.get('sbmlnoise', ''))}. All values are "
                f"molecule counts of {_esc(_when(rep))}.</p>")
    for m, why in rep.skipped.items():
        meta.append(f"<p class=\"note\">{_esc(m)} not run: {_esc(why)}</p>")
    for w in rep.warnings:
        meta.append(f"<p class=\"warn\">Warning: {_esc(w)}</p>")
    parts.append(_section("summary", "Summary", "\n".join(meta)))

    if rep.primary:
        table = rep.species_table("all")
        body = _table(table) + ("<p class=\"note\">Fano = variance/mean; CV = std/mean; "
                                "autocorrelation_time = S(0)/(2 Var) (time units); psd_zero = "
                                "S(0); corner_frequency: angular frequency where S falls to "
                                "S(0)/2; peak_frequency: a spectral peak (oscillation), if "
                                "any.</p>")
        parts.append(_section("species", "Noise statistics per species", body))

    parts.append(_section("distributions", "Stationary distributions",
                          _img(figure_distributions(rep), "distributions")
                          + "<p class=\"note\">Bars: FSP (or SSA) marginal probabilities; line: "
                            "the LNA Gaussian with the LNA mean and variance.</p>"))
    parts.append(_section("autocorrelation", "Autocorrelation",
                          _img(figure_autocorrelation(rep), "autocorrelation")
                          + "<p class=\"note\">Normalised stationary autocovariance "
                            "C(tau)/C(0).</p>"))
    parts.append(_section("psd", "Power spectral density",
                          _img(figure_psd(rep), "power spectral density")
                          + "<p class=\"note\">Two-sided S(omega) = integral of C(tau) "
                            "exp(-i omega tau) over all tau. SSA spectra are lag-window "
                            "estimates, drawn up to half their Nyquist frequency.</p>"))
    parts.append(_section("trajectories", "Sample trajectories (SSA)",
                          _img(figure_trajectories(rep), "sample trajectories")))

    cons = rep.consistency
    if cons is not None and len(cons):
        n_flag = int(cons["flagged"].sum())
        body = (f"<p>{n_flag} of {len(cons)} comparisons flagged.</p>"
                + _table(cons, index=False, flag_col="flagged")
                + "<p class=\"note\">rel_diff = |a - b| / |b| with b the more exact method "
                  "(FSP, then SSA). Tolerance: 4 standard errors of the SSA estimate, or "
                  "max(1e-3, 10 x FSP error bound) between FSP and LNA (a flag there means "
                  "the LNA is inaccurate for this model).</p>")
    else:
        body = "<p class=\"note\">Only one method ran; nothing to compare.</p>"
    parts.append(_section("consistency", "Consistency between methods", body))

    if rep.noise_decomposition is not None and len(rep.noise_decomposition):
        body = (_table(rep.noise_decomposition.reset_index(), index=False)
                + "<p class=\"note\">Dual-reporter decomposition (Elowitz et al. 2002, "
                  "doi:10.1126/science.1070919; Swain, Elowitz &amp; Siggia 2002, "
                  "doi:10.1073/pnas.162041399): eta_int^2 = &lt;(x-y)^2&gt;/(2&lt;x&gt;&lt;y&gt;), "
                  "eta_ext^2 = Cov(x, y)/(&lt;x&gt;&lt;y&gt;), from the primary method's "
                  "moments.</p>")
        parts.append(_section("decomposition", "Intrinsic and extrinsic noise", body))

    kinetic = rep.bursts.get("kinetic") or []
    body = ""
    if kinetic:
        frame = pd.DataFrame(kinetic)[["species", "promoter_on", "promoter_off", "k_on",
                                       "k_off", "k_tx", "burst_size", "burst_frequency",
                                       "feedback"]]
        body += "<h3>Telegraph motifs (kinetic estimate)</h3>" + _table(frame, index=False)
        body += f"<p class=\"note\">{_esc(rep.bursts['assumptions'].get('kinetic', ''))}</p>"
    moment = rep.bursts.get("moment") or {}
    if moment:
        frame = pd.DataFrame.from_dict(moment, orient="index")
        frame.index.name = "species"
        body += "<h3>Moment-based estimate</h3>" + _table(frame.astype(object))
        body += f"<p class=\"note\">{_esc(rep.bursts['assumptions'].get('moment', ''))}</p>"
    parts.append(_section("bursts", "Bursts", body or "<p class=\"note\">(none)</p>"))

    if rep.thermo is not None:
        th = rep.thermo
        from ._summary import thermo_verdict
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
    else:
        body = (f"<p class=\"note\">Thermodynamic analysis {_esc(rep.thermo_status.get('status'))}"
                f": {_esc(rep.thermo_status.get('reason', ''))}</p>")
    parts.append(_section("thermodynamics", "Thermodynamics", body))

    body = _img(figure_network(rep), "reaction network")
    if rep.fluxes is not None:
        body += "<h3>Deterministic steady-state fluxes</h3>" + _table(
            rep.fluxes.rename_axis("reaction").to_frame())
    reactions = pd.DataFrame(ns.get("reactions", []))
    if len(reactions):
        body += "<h3>Reaction channels</h3>" + _table(reactions.astype(object), index=False)
    parts.append(_section("network", "Reaction network", body))

    settings = {k: v for k, v in rep.settings.items() if not isinstance(v, dict)}
    for k, v in rep.settings.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                settings[f"{k}.{k2}"] = v2
    body = ("<h3>Settings</h3>" + _dict_table(settings) + "<h3>Versions</h3>"
            + _dict_table(rep.versions) + "<h3>Timings (s)</h3>" + _dict_table(rep.timings))
    for m, st in rep.statistics.items():
        body += f"<h3>{_esc(m)} settings</h3>" + _dict_table(
            {k: v for k, v in st.settings.items()})
    parts.append(_section("settings", "Settings, versions and timings", body))
    parts.append("<p class=\"note\">References: Gillespie 1977 (doi:10.1021/j100540a008); "
                 "Munsky &amp; Khammash 2006 (doi:10.1063/1.2145882); Elf &amp; Ehrenberg 2003 "
                 "(doi:10.1101/gr.1196503); Schnakenberg 1976 (doi:10.1103/RevModPhys.48.571); "
                 "Peccoud &amp; Ycart 1995 (doi:10.1006/tpbi.1995.1027).</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _when(rep) -> str:
    t = rep.settings.get("time")
    return ("the stationary distribution" if t is None
            else f"the distribution at t = {t:g} (from the model's initial state)")


def _num(v) -> str:
    try:
        return f"{float(v):.6g}"
    except (TypeError, ValueError):
        return str(v)


def write_html(rep, path) -> str:
    return atomic_write(path, render_html(rep))
