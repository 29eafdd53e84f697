"""Figures and notebook display of :class:`~sbmlnoise.ssa.EnsembleResult` (private).

Figures are built with :class:`matplotlib.figure.Figure` and the Agg canvas, never
pyplot, so they work headless and never open windows or change the global backend.
"""

from __future__ import annotations

import html

import numpy as np


def plot_ensemble(ens, species=None, *, ax=None, trajectories: int = 3, band: str = "sd"):
    """See :meth:`EnsembleResult.plot`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if band not in ("sd", "sem"):
        raise ValueError("band must be 'sd' or 'sem'")
    columns = list(ens.mean.columns)
    if species is None:
        species = columns[:9]
    elif isinstance(species, str):
        species = [species]
    for sid in species:
        if sid not in columns:
            raise KeyError(f"no species '{sid}' in this ensemble")
    if ax is None:
        fig = Figure(figsize=(6.4, 4.0))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    t = ens.times
    for k, sid in enumerate(species):
        colour = f"C{k % 10}"
        m = ens.mean[sid].to_numpy()
        half = (np.sqrt(np.maximum(ens.variance[sid].to_numpy(), 0.0)) if band == "sd"
                else 2.0 * ens.stderr["mean"][sid].to_numpy())
        ax.plot(t, m, color=colour, lw=2, label=f"{sid} mean")
        ax.fill_between(t, m - half, m + half, color=colour, alpha=0.2, lw=0)
        q = columns.index(sid)
        for r in range(min(int(trajectories), ens.trajectories.shape[0])):
            ax.plot(t, ens.trajectories[r, :, q], color=colour, lw=0.7, alpha=0.6,
                    drawstyle="steps-post" if ens.method in ("direct", "sorting",
                                                             "tau_leap") else "default")
    label = "±1 SD" if band == "sd" else "±2 SE of mean"
    ax.set_xlabel("time")
    ax.set_ylabel("molecule count")
    ax.set_title(f"{ens.method}: {ens.runs} runs (band {label})")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
    ax.legend(loc="best", fontsize="small")
    if len(columns) > len(species):
        ax.annotate(f"showing {len(species)} of {len(columns)} species", (0.0, -0.18),
                    xycoords="axes fraction", fontsize="small")
    fig.tight_layout()
    return fig


def _fmt(value: float, err: float) -> str:
    if not np.isfinite(err) or err <= 0:
        return f"{value:.6g}"
    digits = max(0, int(-np.floor(np.log10(err))) + 1)
    if abs(value) >= 1e6 or digits > 8:
        return f"{value:.4g} ± {err:.2g}"
    return f"{value:.{digits}f} ± {err:.{max(digits, 0)}f}"


def ensemble_html(ens) -> str:
    """A small HTML summary: method, runs, settings and the last time's statistics."""
    s = ens.settings
    t_last = float(ens.times[-1])
    rows = []
    for sid in ens.mean.columns:
        m = float(ens.mean[sid].iloc[-1])
        v = float(ens.variance[sid].iloc[-1])
        rows.append("<tr><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            html.escape(str(sid)),
            html.escape(_fmt(m, float(ens.stderr["mean"][sid].iloc[-1]))),
            html.escape(_fmt(v, float(ens.stderr["variance"][sid].iloc[-1])))))
    approx = s.get("approximation")
    note = ""
    if approx:
        note = (f"<p><b>Approximation</b>: {html.escape(approx['method'])} "
                f"({html.escape(approx['step_control'])}); bias: "
                f"{html.escape(approx['bias'])}</p>")
    return (f"<div><p><b>EnsembleResult</b> — method {html.escape(str(ens.method))}, "
            f"{ens.runs} runs, {len(ens.times)} output times, system size "
            f"{float(s.get('system_size', 1.0)):g}, {int(s.get('events', 0)):,} events</p>"
            f"{note}<table><thead><tr><th>species</th><th>mean at t={t_last:g}</th>"
            f"<th>variance</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
