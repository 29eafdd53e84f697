"""Figures for time-dependent noise and oscillations (matplotlib, Agg; no pyplot state).

Each function returns a :class:`matplotlib.figure.Figure` built on the Agg canvas, so it
is safe in threads and worker processes and never opens a window; the report embeds it
with ``fig.savefig(buffer, format="png")``.

* :func:`time_course_figure` -- SSA mean +/- sd band over time with a few sample runs,
  the rate-equation trajectory and the time-dependent LNA band where it is valid;
* :func:`spectrum_figure` -- the spectrum of each species (LNA exact, or the SSA's
  run-averaged periodogram with its standard-error band and the fitted line) with its
  peak frequency and Q marked;
* :func:`period_histogram_figure` -- histogram of SSA cycle lengths with the mean period
  and the deterministic period.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["time_course_figure", "spectrum_figure", "period_histogram_figure"]


#: fixed margins in inches (left, right, bottom, top, between columns, between rows): room
#: for tick labels, an axis label and a title; a layout engine (constrained or tight) measures
#: every text artist and cost about 0.1 s per figure
_MARGINS = (0.8, 0.15, 0.5, 0.45, 0.85, 0.8)


def _figure(n_panels: int, width: float = 5.0, height: float = 3.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n_panels = max(n_panels, 1)
    cols = min(n_panels, 2)
    rows = int(math.ceil(n_panels / cols))
    fig = Figure(figsize=(width * cols, height * rows))
    FigureCanvasAgg(fig)
    left, right, bottom, top, gap_x, gap_y = _MARGINS
    w, h = width * cols, height * rows
    ax_w = (w - left - right - (cols - 1) * gap_x) / cols
    ax_h = (h - bottom - top - (rows - 1) * gap_y) / rows
    fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h,
                        wspace=gap_x / ax_w, hspace=gap_y / ax_h)
    axes = [fig.add_subplot(rows, cols, k + 1) for k in range(n_panels)]
    for ax in axes:
        _compact_ticks(ax)
    return fig, axes


def _compact_ticks(ax) -> None:
    """At most five ticks per axis, scientific notation beyond 1e4 (the labels fit the
    fixed margins)."""
    from matplotlib.ticker import MaxNLocator, ScalarFormatter
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=5))
        fmt = ScalarFormatter()
        fmt.set_powerlimits((-3, 4))
        axis.set_major_formatter(fmt)
    ax.tick_params(labelsize=9)


def _pick(available, species, limit: int) -> list[str]:
    if species is None:
        return list(available)[:limit]
    chosen = [species] if isinstance(species, str) else list(species)
    for s in chosen:
        if s not in available:
            raise KeyError(f"no species '{s}' in this result")
    return chosen


def time_course_figure(tc, species=None, *, max_species: int = 4, n_samples: int = 3):
    """Mean +/- sd over time (SSA ensemble) with sample runs, rate equations and LNA.

    Parameters
    ----------
    tc : TimeCourseNoise
        From :func:`sbmlnoise.time_course_noise`.
    species : str or list of str, optional
        Default: the first ``max_species`` species.
    n_samples : int
        Sample trajectories drawn (at most those kept in ``tc.trajectories``).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per species (counts against model time).
    """
    ids = _pick(tc.mean.columns, species, max_species)
    fig, axes = _figure(len(ids))
    t = np.asarray(tc.times, dtype=float)
    cols = list(tc.mean.columns)
    for ax, sid in zip(axes, ids):
        m = tc.mean[sid].to_numpy(float)
        sd = tc.sd[sid].to_numpy(float)
        ax.fill_between(t, m - sd, m + sd, color="C0", alpha=0.25, lw=0,
                        label="SSA mean ± sd")
        ax.plot(t, m, color="C0", lw=1.5)
        k = cols.index(sid)
        for r in range(min(n_samples, tc.trajectories.shape[0])):
            ax.step(t, tc.trajectories[r, :, k], where="post", color="0.4", lw=0.6,
                    alpha=0.7, label="sample runs" if r == 0 else None)
        if tc.ode is not None:
            ax.plot(t, tc.ode[sid].to_numpy(float), "k--", lw=1, label="rate equations")
        if tc.lna_sd is not None and tc.ode is not None:
            valid = tc.lna_valid.to_numpy(bool)
            mean = tc.ode[sid].to_numpy(float)
            lsd = tc.lna_sd[sid].to_numpy(float)
            lo = np.where(valid, mean - lsd, np.nan)
            hi = np.where(valid, mean + lsd, np.nan)
            ax.plot(t, lo, color="C3", lw=0.8, ls=":", label="LNA ± sd (where valid)")
            ax.plot(t, hi, color="C3", lw=0.8, ls=":")
        ax.set_title(sid)
        ax.set_xlabel("time")
        ax.set_ylabel("concentration [X]" if tc.settings.get("units") == "concentration"
                      else "molecules")
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"{tc.settings.get('runs')} SSA runs; window: {tc.settings.get('window')}",
                 fontsize=8, y=1.0 - 0.05 / fig.get_figheight())
    return fig


def spectrum_figure(table, species=None, *, max_species: int = 4):
    """Power spectra from :func:`sbmlnoise.oscillation` with the peak and Q marked.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`sbmlnoise.oscillation` (uses ``attrs["spectra"]``).
    species : str or list of str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Two-sided PSD (counts^2 x time) against angular frequency (rad per time unit).
    """
    spectra = table.attrs.get("spectra") or {}
    ids = _pick([s for s in table.index if s in spectra], species, max_species)
    fig, axes = _figure(len(ids))
    for ax, sid in zip(axes, ids):
        spec = spectra[sid]
        w, s = np.asarray(spec["omega"]), np.asarray(spec["psd"])
        method = table.loc[sid, "method"]
        label = "LNA spectrum (exact)" if method == "lna" else "SSA periodogram (run mean)"
        ax.plot(w, s, color="C0", lw=1.2, label=label)
        if spec.get("psd_se") is not None:
            se = np.asarray(spec["psd_se"])
            ax.fill_between(w, s - se, s + se, color="C0", alpha=0.25, lw=0)
        wp, q = table.loc[sid, "peak_frequency"], table.loc[sid, "q_factor"]
        if math.isfinite(wp):
            ax.axvline(wp, color="C3", lw=0.8, ls="--",
                       label=f"peak {wp:.3g} rad/time, Q = {q:.3g}")
        ax.set_title(sid)
        ax.set_xlabel("angular frequency ω")
        ax.set_ylabel("PSD (two-sided)")
        ax.legend(fontsize=7)
    return fig


def period_histogram_figure(table, species=None, *, max_species: int = 4, bins: int = 40):
    """Histogram of cycle lengths (SSA) with the mean and deterministic periods.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`sbmlnoise.oscillation` with ``method="ssa"`` rows (uses
        ``attrs["cycle_lengths"]``); LNA rows have no cycle lengths and are skipped.

    Returns
    -------
    matplotlib.figure.Figure
    """
    lengths = table.attrs.get("cycle_lengths") or {}
    ids = _pick([s for s in table.index if np.size(lengths.get(s, [])) > 0], species,
                max_species)
    fig, axes = _figure(len(ids))
    if not ids:
        axes[0].text(0.5, 0.5, "no cycle lengths (LNA result or no cycles)",
                     ha="center", va="center", transform=axes[0].transAxes)
        axes[0].set_axis_off()
        return fig
    for ax, sid in zip(axes, ids):
        d = np.asarray(lengths[sid])
        counts, edges = np.histogram(d, bins=bins)
        ax.stairs(counts, edges, fill=True, color="C0", alpha=0.7)  # one artist, not bins
        ax.set_ylim(0, None)
        p, se = table.loc[sid, "period"], table.loc[sid, "period_se"]
        ax.axvline(p, color="C3", lw=1, label=f"mean {p:.4g} ± {se:.2g}")
        det = table.loc[sid, "deterministic_period"]
        if math.isfinite(det):
            ax.axvline(det, color="k", lw=1, ls="--", label=f"rate equations {det:.4g}")
        ax.set_title(f"{sid}: CV {table.loc[sid, 'period_cv']:.3g}, {len(d)} cycles")
        ax.set_xlabel("cycle length")
        ax.set_ylabel("cycles")
        ax.legend(fontsize=7)
    return fig
