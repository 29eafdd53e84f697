"""Plots as public API: every function returns a :class:`matplotlib.figure.Figure`.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot state, no
GUI): they render headless (``fig.savefig("x.png")`` uses the Agg canvas) and display in
Jupyter. Colours and line styles follow the HTML report: FSP blue, SSA orange, LNA green;
FSP solid, LNA dashed, SSA dotted. All numbers are molecule counts (see
:mod:`sbmlnoise.stats` for the Fano factor and CV conventions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .analysis import AnalysisReport
    from .stats import NoiseStatistics

__all__ = ["plot_statistics", "plot_ensemble", "plot_marginal", "plot_report", "plot_scan",
           "plot_sensitivities", "plot_extrinsic"]

#: colour and line style per method, as in the HTML report
COLORS = {"fsp": "tab:blue", "ssa": "tab:orange", "lna": "tab:green"}
LINESTYLES = {"fsp": "-", "lna": "--", "ssa": ":"}
_MAX_PANELS = 9


def _figure(n_panels: int = 1, width: float = 4.2, height: float = 3.0
            ) -> tuple[Figure, np.ndarray]:
    from matplotlib.figure import Figure

    cols = min(3, max(1, n_panels))
    rows = int(math.ceil(max(1, n_panels) / cols))
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_axis_off()
    return fig, axes[:max(1, n_panels)]


def _species(available: Sequence[str], species) -> list[str]:
    if species is None:
        return list(available)[:_MAX_PANELS]
    if isinstance(species, str):
        species = [species]
    missing = [s for s in species if s not in set(available)]
    if missing:
        raise KeyError(f"no species '{missing[0]}' to plot; species are "
                       f"{', '.join(map(str, available))}")
    return list(species)


def _gaussian(ax, mu: float, var: float, lo: float, hi: float, label="LNA Gaussian") -> None:
    if not (var > 0 and math.isfinite(var)):
        return
    sd = math.sqrt(var)
    a = min(lo, mu - 4 * sd) if math.isfinite(lo) else mu - 4 * sd
    b = max(hi, mu + 4 * sd) if math.isfinite(hi) else mu + 4 * sd
    xs = np.linspace(a, b, 400)
    ax.plot(xs, np.exp(-(xs - mu) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var),
            color=COLORS["lna"], lw=2, ls=LINESTYLES["lna"], label=label)


def _bars(ax, dist: pd.Series | None, color, label) -> tuple[float, float]:
    if dist is None or not len(dist):
        return math.inf, -math.inf
    dist = dist[dist > 1e-12 * dist.max()] if dist.max() > 0 else dist
    x = dist.index.to_numpy(float)
    width = max(1.0, (x.max() - x.min()) / 200) if x.size else 1.0
    ax.bar(x, dist.to_numpy(float), width=width, color=color, alpha=0.6, label=label)
    return float(x.min()), float(x.max())


# =========================================================================== statistics
def plot_statistics(stats: NoiseStatistics | Mapping[str, NoiseStatistics],
                    species: str | Sequence[str] | None = None) -> Figure:
    """Fano factor and CV per species, one bar group per method.

    Parameters
    ----------
    stats : NoiseStatistics or mapping of str -> NoiseStatistics
        One result, or several keyed by method (e.g. ``rep.statistics``). Standard errors
        (SSA) are drawn as +-2 SE error bars.
    species : str or sequence of str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(stats, Mapping):
        stats = {stats.method: stats}
    if not stats:
        raise ValueError("plot_statistics needs at least one NoiseStatistics")
    first = next(iter(stats.values()))
    names = _species(first.species, species)
    fig, axes = _figure(2, width=max(4.2, 0.6 * len(names) * len(stats) + 2))
    x = np.arange(len(names))
    width = 0.8 / len(stats)
    for ax, measure, label in zip(axes, ("fano", "cv"), ("Fano factor (var/mean)",
                                                         "CV (sd/mean)")):
        for k, (method, st) in enumerate(stats.items()):
            values = getattr(st, measure).reindex(names).to_numpy(float)
            err = None
            if st.stderr and measure in st.stderr:
                err = 2.0 * st.stderr[measure].reindex(names).to_numpy(float)
            ax.bar(x + (k - (len(stats) - 1) / 2) * width, values, width, yerr=err,
                   color=COLORS.get(method), alpha=0.8, label=method.upper(), capsize=3)
        if measure == "fano":
            ax.axhline(1.0, color="0.5", lw=0.8, ls="--")
        ax.set_xticks(x, names, rotation=45 if len(names) > 4 else 0)
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    return fig


# =========================================================================== ensembles
def plot_ensemble(ens, species: str | Sequence[str] | None = None, *, band: float = 1.0,
                  trajectories: bool = True) -> Figure:
    """Mean +- ``band`` standard deviations of an SSA ensemble over time, with the kept
    trajectories (``keep_trajectories=``) as thin step lines.

    Parameters
    ----------
    ens : EnsembleResult
        From :func:`sbmlnoise.ssa`.
    species : str or sequence of str, optional
    band : float
        Half-width of the shaded band in standard deviations (0: no band).
    trajectories : bool
        Draw the kept sample trajectories.
    """
    names = _species(list(ens.mean.columns), species)
    fig, axes = _figure(len(names))
    t = ens.mean.index.to_numpy(float)
    for ax, s in zip(axes, names):
        mu = ens.mean[s].to_numpy(float)
        sd = np.sqrt(np.clip(ens.variance[s].to_numpy(float), 0, None))
        if trajectories and getattr(ens, "trajectories", None) is not None:
            j = list(ens.mean.columns).index(s)
            for k, tr in enumerate(np.asarray(ens.trajectories)):
                ax.step(t, tr[:, j], where="post", lw=0.7, alpha=0.5,
                        label="sample runs" if k == 0 else None)
        ax.plot(t, mu, color=COLORS["ssa"], lw=2, label=f"mean ({ens.runs} runs)")
        if band > 0:
            ax.fill_between(t, mu - band * sd, mu + band * sd, color=COLORS["ssa"], alpha=0.2,
                            label=f"mean +- {band:g} sd")
        ax.set_title(s)
        ax.set_xlabel("time")
        ax.set_ylabel("copy number")
        ax.legend(fontsize=8)
    return fig


# =========================================================================== FSP
def plot_marginal(fr, species: str | Sequence[str] | None = None, *, k: int | None = None,
                  lna=None) -> Figure:
    """Marginal distributions of an FSP result (bars), optionally with the Gaussian of an
    LNA result overlaid.

    Parameters
    ----------
    fr : FSPResult
    species : str or sequence of str, optional
    k : int, optional
        Output time index of a transient result (default: the last).
    lna : NoiseStatistics, optional
        Overlay ``N(mean, variance)`` of these statistics (e.g. ``sn.lna(net)``).
    """
    names = _species(list(fr.species), species)
    fig, axes = _figure(len(names))
    when = "stationary" if fr.is_stationary else f"t = {fr.times[-1 if k is None else k]:g}"
    for ax, s in zip(axes, names):
        lo, hi = _bars(ax, fr.marginal(s, k), COLORS["fsp"], f"FSP ({when})")
        if lna is not None and s in lna.mean.index:
            _gaussian(ax, float(lna.mean[s]), float(lna.variance[s]), lo, hi)
        ax.set_title(s)
        ax.set_xlabel("copy number")
        ax.set_ylabel("probability")
        ax.legend(fontsize=8)
    return fig


# =========================================================================== report
def plot_report(rep: AnalysisReport, kind: str = "distributions",
                species: str | Sequence[str] | None = None) -> Figure:
    """A figure of an :class:`~sbmlnoise.analysis.AnalysisReport`.

    Parameters
    ----------
    rep : AnalysisReport
    kind : {"distributions", "statistics", "autocorrelation", "psd"}
        ``distributions``: FSP/SSA marginals with the LNA Gaussian (as in the HTML
        report); ``statistics``: Fano factor and CV of every method; ``autocorrelation``:
        ``C(tau)/C(0)``; ``psd``: the two-sided spectrum on log-log axes.
    species : str or sequence of str, optional
    """
    names = _species(list(rep.species), species)
    if kind == "statistics":
        return plot_statistics(rep.statistics, names)
    if kind == "distributions":
        fig, axes = _figure(len(names))
        source = next((m for m in ("fsp", "ssa") if m in rep.statistics
                       and rep.statistics[m].distributions), None)
        dists = rep.statistics[source].distributions if source is not None else None
        lna = rep.statistics.get("lna")
        for ax, s in zip(axes, names):
            lo, hi = math.inf, -math.inf
            if source is not None and dists is not None:
                lo, hi = _bars(ax, dists.get(s), COLORS[source], source.upper())
            if lna is not None and s in lna.mean.index:
                _gaussian(ax, float(lna.mean[s]), float(lna.variance[s]), lo, hi)
            ax.set_title(s)
            ax.set_xlabel("copy number")
            ax.set_ylabel("probability")
            ax.legend(fontsize=8)
        return fig
    if kind in ("autocorrelation", "psd"):
        return _plot_temporal(rep, kind, names)
    raise ValueError(f"unknown kind '{kind}'; choose distributions, statistics, "
                     "autocorrelation or psd")


def _plot_temporal(rep: AnalysisReport, kind: str, names: list[str]) -> Figure:
    tau = float(rep.settings.get("time_scale") or 1.0)
    fig, (ax,) = _figure(1, width=7, height=4)
    drawn = False
    for m, st in rep.statistics.items():
        for s in names:
            try:
                with np.errstate(all="ignore"):
                    if kind == "autocorrelation":
                        x = np.linspace(0.0, 5.0 * tau, 200)
                        y = st.autocorrelation(s, x).to_numpy()
                        if not (np.isfinite(y[0]) and y[0] > 0):
                            continue
                        ax.plot(x, y / y[0], ls=LINESTYLES.get(m, "-"), label=f"{s} ({m})")
                    else:
                        x = np.logspace(-2, 2.5, 120) / tau
                        y = st.psd(s, x).to_numpy()
                        ok = np.isfinite(y) & (y > 0)
                        if ok.sum() < 2:
                            continue
                        ax.loglog(x[ok], y[ok], ls=LINESTYLES.get(m, "-"), label=f"{s} ({m})")
            except (NotImplementedError, KeyError, ValueError):
                continue
            drawn = True
    if kind == "autocorrelation":
        ax.axhline(0, color="0.7", lw=0.8)
        ax.set_xlabel("lag tau (model time units)")
        ax.set_ylabel("C(tau) / C(0)")
    else:
        ax.set_xlabel("angular frequency omega (rad per time unit)")
        ax.set_ylabel("S(omega) (counts^2 x time)")
    if drawn:
        ax.legend(fontsize=8, ncol=2)
    else:
        ax.text(0.5, 0.5, f"no {kind} for these methods", ha="center", transform=ax.transAxes)
    return fig


# =========================================================================== scans
def _log_axis(values: np.ndarray) -> bool:
    values = values[np.isfinite(values)]
    return bool(values.size > 2 and np.all(values > 0) and values.max() / values.min() >= 20)


def plot_scan(frame: pd.DataFrame, measure: str = "fano",
              species: str | Sequence[str] | None = None) -> Figure:
    """Curves (1-D scan) or heat maps (2-D scan) of one measure of :func:`sbmlnoise.scan`.

    Parameters
    ----------
    frame : pandas.DataFrame
        The output of :func:`sbmlnoise.scan` (``attrs["parameters"]`` names the scanned
        parameters; otherwise the columns before ``species``).
    measure : {"fano", "cv", "mean", "variance"}
    species : str or sequence of str, optional

    Notes
    -----
    A 1-D scan plots one curve per species (error bars of +-2 standard errors for sampled
    points); a 2-D scan draws one heat map per species. Axes are logarithmic when the
    values are positive and span at least a factor 20.
    """
    if measure not in frame.columns:
        raise KeyError(f"no column '{measure}' in the scan frame")
    params = list(frame.attrs.get("parameters") or
                  list(frame.columns[:list(frame.columns).index("species")]))
    names = _species(list(dict.fromkeys(frame["species"])), species)
    if len(params) == 1:
        p = params[0]
        fig, (ax,) = _figure(1, width=6, height=4)
        for s in names:
            rows = frame[frame["species"] == s].sort_values(p)
            err = rows.get(f"{measure}_stderr")
            ax.errorbar(rows[p].to_numpy(float), rows[measure].to_numpy(float),
                        yerr=None if err is None else 2 * err.to_numpy(float),
                        marker="o", ms=3, capsize=2, label=s)
        if _log_axis(frame[p].to_numpy(float)):
            ax.set_xscale("log")
        if measure == "fano":
            ax.axhline(1.0, color="0.5", lw=0.8, ls="--")
        ax.set_xlabel(p)
        ax.set_ylabel(measure)
        ax.legend(fontsize=8)
        return fig
    if len(params) != 2:
        raise ValueError(f"plot_scan draws 1-D and 2-D scans; this one has {len(params)} "
                         "parameters (select a slice first)")
    px, py = params
    fig, axes = _figure(len(names), width=4.6, height=3.6)
    for ax, s in zip(axes, names):
        table = frame[frame["species"] == s].pivot_table(index=py, columns=px, values=measure,
                                                         aggfunc="mean", dropna=False)
        mesh = ax.pcolormesh(table.columns.to_numpy(float), table.index.to_numpy(float),
                             table.to_numpy(float), shading="nearest", cmap="viridis")
        fig.colorbar(mesh, ax=ax, label=measure)
        if _log_axis(table.columns.to_numpy(float)):
            ax.set_xscale("log")
        if _log_axis(table.index.to_numpy(float)):
            ax.set_yscale("log")
        ax.set_xlabel(px)
        ax.set_ylabel(py)
        ax.set_title(s)
    return fig


# =========================================================================== others
def plot_sensitivities(sens: pd.DataFrame, measure: str = "cv2",
                       species: str | Sequence[str] | None = None, top: int = 12) -> Figure:
    """Tornado chart of log-sensitivities (:func:`sbmlnoise.sensitivities`): one panel per
    species, the ``top`` strongest parameters, bars ``d ln(measure) / d ln(k)``."""
    rows = sens[sens["measure"] == measure]
    if rows.empty:
        raise KeyError(f"no measure '{measure}' in these sensitivities")
    names = _species(list(dict.fromkeys(rows["species"])), species)
    fig, axes = _figure(len(names), height=max(2.5, 0.3 * min(top, rows["parameter"].nunique())
                                               + 1.2))
    for ax, s in zip(axes, names):
        r = rows[rows["species"] == s].copy()
        r = r.assign(mag=r["value"].abs()).sort_values("mag", ascending=True).tail(top)
        colors = ["tab:red" if v > 0 else "tab:blue" for v in r["value"].fillna(0.0)]
        ax.barh(r["parameter"], r["value"], color=colors)
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_title(s)
        ax.set_xlabel(f"d ln({measure}) / d ln(k)")
    return fig


def plot_extrinsic(frame: pd.DataFrame) -> Figure:
    """Stacked bars of the intrinsic and extrinsic variance per species
    (:func:`sbmlnoise.extrinsic_noise`)."""
    fig, (ax,) = _figure(1, width=max(4.2, 0.8 * len(frame) + 2), height=3.6)
    x = np.arange(len(frame))
    intr = frame["variance_intrinsic"].to_numpy(float)
    extr = frame["variance_extrinsic"].to_numpy(float)
    ax.bar(x, intr, color="tab:blue", alpha=0.8, label="intrinsic E[Var(n|k)]")
    ax.bar(x, extr, bottom=intr, color="tab:purple", alpha=0.8, label="extrinsic Var(E[n|k])")
    ax.set_xticks(x, [str(i) for i in frame.index])
    ax.set_ylabel("variance (counts^2)")
    ax.legend(fontsize=8)
    return fig
