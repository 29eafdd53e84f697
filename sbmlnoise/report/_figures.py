"""Figures of the HTML report: an overview of every species' noise and one small panel set
per species (distribution, autocorrelation, spectrum, sample trajectories).

Cost is bounded and nothing that :func:`sbmlnoise.analyze` computed is recomputed:

* temporal curves (autocorrelation, spectrum) come from one *source* chosen by
  :func:`temporal_source`: the LNA where it is exact (affine propensities), else the
  SSA's own estimates (already computed from the run), else the FSP only when its
  projection is small (at most :data:`FSP_TEMPORAL_MAX_STATES` states; each FSP lag costs
  a sparse matrix exponential), else the LNA labelled as an approximation;
* lag windows follow the model's time scales (:func:`lag_window`): a few periods for an
  oscillator, five relaxation times otherwise;
* figures are drawn with matplotlib's object API on the Agg canvas (no pyplot state),
  fixed axes (no tight bounding box), PNG at 80 dpi.
"""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING

import numpy as np

from . import _text as rt

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..analysis import AnalysisReport

#: largest FSP projection whose autocorrelation / spectrum the report draws
FSP_TEMPORAL_MAX_STATES = 3000
#: PNG resolution of every figure
DPI = 90
#: zlib level of the PNGs (1 fastest .. 9 smallest; 3 is within 5% of 6's size)
PNG_COMPRESS = 3
#: most species drawn in the overview chart
OVERVIEW_MAX = 30

_COLORS = {"fsp": "tab:blue", "ssa": "tab:orange", "lna": "tab:green",
           "timecourse": "tab:purple"}


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def png(fig: Figure) -> str:
    """Base64 PNG of a figure at :data:`DPI`: one Agg draw, no bounding-box pass, encoded
    by Pillow as RGB (the figures are opaque) at zlib level :data:`PNG_COMPRESS` --
    lossless, and about 7 ms less per figure than ``savefig`` (RGBA, level 6, a second
    draw's worth of set-up) for a few percent more bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image
    if fig.dpi != DPI:
        fig.set_dpi(DPI)
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    rgba = canvas.buffer_rgba()
    height, width = rgba.shape[:2]
    img = Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1)
    from matplotlib.colors import to_rgba
    if to_rgba(fig.get_facecolor())[3] >= 1.0:  # opaque: the alpha channel is all 255
        img = img.convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="png", compress_level=PNG_COMPRESS)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def readable_axes(ax, x: bool = True, y: bool = True) -> None:
    """At most five ticks per linear axis; scientific notation with an offset where the
    magnitudes need it (counts near 1e17 do not overlap)."""
    from matplotlib.ticker import MaxNLocator, ScalarFormatter
    for on, axis in ((x, ax.xaxis), (y, ax.yaxis)):
        if not on or axis.get_scale() != "linear" or _configured(axis, "readable"):
            continue
        axis.set_major_locator(MaxNLocator(nbins=4))
        f = ScalarFormatter(useMathText=False)
        f.set_powerlimits((-3, 4))
        axis.set_major_formatter(f)
        axis.set_tick_params(labelsize=8)
        _mark(axis, "readable")


def _configured(axis, kind: str) -> bool:
    """Whether ``axis`` still has the locator and formatter set by :func:`readable_axes` or
    :func:`log_axes` (a reused card canvas keeps them; re-applying them re-styles every
    tick artist, a few percent of a card's time)."""
    mark = getattr(axis, "_sbmlnoise_ticks", None)
    return mark is not None and mark[0] == kind and mark[1] is axis.get_major_locator() \
        and mark[2] is axis.get_major_formatter()


def _mark(axis, kind: str) -> None:
    axis._sbmlnoise_ticks = (kind, axis.get_major_locator(), axis.get_major_formatter())


def log_axes(*axes) -> None:
    """Log axes drawn cheaply: plain labels (no mathtext parser start-up), at most six
    decade ticks, no minor ticks (each tick is a set of artists: minor ticks over seven
    decades made half the drawing time)."""
    from matplotlib.ticker import LogFormatter, LogLocator, NullLocator
    for axis in axes:
        if _configured(axis, "log"):
            continue
        axis.set_major_locator(LogLocator(numticks=6))
        axis.set_major_formatter(LogFormatter(labelOnlyBase=True))
        axis.set_minor_locator(NullLocator())
        axis.set_tick_params(labelsize=8)
        _mark(axis, "log")


def _empty(ax, text: str) -> None:
    """A panel without data: its reason in grey, no axes."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=8,
            color="0.4")


def title(ax, text: str) -> None:
    """A panel title as plain axes text (``set_title`` re-measures the tick labels to
    place itself on every draw)."""
    ax.text(0.5, 1.03, text, transform=ax.transAxes, ha="center", va="bottom", fontsize=9)


# ------------------------------------------------------------------------ sources
def _fsp_states(st) -> float:
    try:
        return float(st.extra.get("n_states", math.inf))
    except (TypeError, ValueError):
        return math.inf


def temporal_source(rep: AnalysisReport) -> tuple[str | None, str]:
    """The statistics drawn in the autocorrelation and spectrum panels, and why.

    Returns ``(method or None, explanation)``."""
    if rep.settings.get("time") is not None:
        return None, "autocorrelations and spectra are stationary notions (a time point " \
                     "was analysed)"
    stats = rep.statistics
    if "lna" in stats and rt.propensities_linear(rep.network):
        return "lna", "LNA, exact here: every propensity is linear in the counts"
    if "ssa" in stats and stats["ssa"].autocovariance_function is not None:
        return "ssa", "SSA estimate from the stationary run (shaded: 95% confidence band)"
    if "fsp" in stats and stats["fsp"].autocovariance_function is not None:
        n = _fsp_states(stats["fsp"])
        if n <= FSP_TEMPORAL_MAX_STATES:
            return "fsp", "FSP (exact up to truncation)"
        if "lna" not in stats:
            return None, (f"not drawn: the FSP projection has {n:.0f} states, too many for a "
                          "quick exact autocorrelation; run the SSA (--method all) for one")
    if "lna" in stats:
        return "lna", "LNA (Gaussian approximation: nonlinear propensities, not exact)"
    return None, "no method with temporal statistics ran"


def temporal_cheap(rep: AnalysisReport, method: str) -> bool:
    """Whether the temporal summary of ``method`` is cached or cheap to compute."""
    if ("temporal", method) in rep._cache:
        return True
    if method != "fsp":
        return True
    return _fsp_states(rep.statistics[method]) <= FSP_TEMPORAL_MAX_STATES


def lag_window(rep: AnalysisReport, source: str | None) -> tuple[float, str]:
    """Largest lag drawn and how it was chosen: four periods for an oscillator, else five
    relaxation times (the slowest of the rate equations and of the source's
    autocorrelation times), capped by the lags the SSA estimated."""
    tau = float(rep.settings.get("time_scale") or 1.0)
    st = rep.statistics.get(source) if source else None
    horizon = math.inf
    if st is not None and source == "ssa":
        horizon = _ssa_lag_horizon(rep, st)
    if st is not None and rt.oscillates(rep):
        guess = rep.settings.get("oscillation_period") or 10 * tau
        probe = min(horizon, 10.0 * float(guess), 200.0 * tau)
        sid = (rt.noisiest(rep) or (rep.species[0], 0))[0]
        period = rt.acf_period(st, sid, probe) or rep.settings.get("oscillation_period")
        if period:
            period = float(period)
            if 4.0 * period <= horizon:
                return 4.0 * period, f"four periods (period about {rt.fmt(period, 2)} time units)"
            return horizon, (f"every lag the SSA run estimated (about "
                             f"{rt.fmt(horizon / period, 2)} periods of about "
                             f"{rt.fmt(period, 2)} time units; a longer run, --t-end, shows more)")
    relax = tau
    if st is not None and source is not None and temporal_cheap(rep, source):
        raw = rt.autocorrelation_times(rep, source)
        times = [float(t) for t in raw if t is not None and rt._finite(t) and t > 0]
        if times:
            relax = max(relax, min(max(times), 1e3 * tau))
    return min(5.0 * relax, horizon), f"five relaxation times ({rt.fmt(relax, 3)} time " \
                                      "units each)"


def _ssa_lag_horizon(rep: AnalysisReport, st) -> float:
    """Largest lag at which the SSA's autocovariance estimate is defined (it is NaN past
    the lags the run estimated), probed up to a quarter of the sampled span."""
    dt = float(st.settings.get("dt") or 0.0)
    n_grid = int(st.settings.get("n_grid") or 0)
    if not (dt > 0 and n_grid):
        return math.inf
    probe = np.linspace(0.0, dt * (n_grid // 4), 2001)
    sid = next((s for s in rep.species if s in st.mean.index), None)
    try:
        c = st.autocorrelation(sid, probe).to_numpy()
    except (NotImplementedError, KeyError, ValueError):
        return math.inf
    ok = np.flatnonzero(np.isfinite(c))
    return float(probe[ok[-1]]) if ok.size else math.inf


def omega_grid(rep: AnalysisReport, st, method: str | None = None) -> np.ndarray:
    """Angular frequencies of the spectrum panel, limited to where a sampled spectrum is
    meaningful: the 121 of :func:`sbmlnoise._summary.temporal_summary` (1e-3 to 1e3 over
    the time scale) when that summary of ``method`` is cached (its spectra are memoised
    and reused), else every other one of them (61, ten per decade: a smooth curve on a
    log axis at half the cost -- an SSA spectrum costs a quadrature per frequency)."""
    from .._summary import omega_limit
    tau = float(rep.settings.get("time_scale") or 1.0)
    omegas = np.logspace(-3, 3, 121) / tau
    if method is not None and ("temporal", method) not in rep._cache:
        omegas = omegas[::2]
    return omegas[omegas < omega_limit(st)]


# ------------------------------------------------------------------------ overview
def figure_overview(rep: AnalysisReport) -> str | None:
    """Horizontal bars: Fano factor of every species (primary method; 95% CIs for the
    SSA), sorted, with the Poisson value 1 marked; log axis when they span > 2 decades."""
    if not rep.primary:
        return None
    st = rep.statistics[rep.primary]
    fano = st.fano.reindex(list(rep.species)).astype(float)
    fano = fano[np.isfinite(fano.to_numpy()) & (fano.to_numpy() > 0)]
    fano = fano.sort_values(ascending=False)
    if not len(fano):
        return None
    fano = fano.iloc[:OVERVIEW_MAX]
    n = len(fano)
    height = 0.9 + 0.24 * n
    fig = _figure(7.0, height)
    left = min(0.45, 0.06 + 0.0105 * max(len(rt.label(rep, s)) for s in fano.index))
    ax = fig.add_axes((left, 0.7 / height, 0.95 - left, 0.24 * n / height))
    err = np.array([rt.half_width(st, "fano", s) for s in fano.index])
    err = np.where(np.isfinite(err), err, 0.0)
    y = np.arange(n)[::-1]
    values = fano.to_numpy()
    log = values.max() / values.min() > 100
    lower = np.minimum(err, 0.9 * values) if log else err  # a log axis has no zero
    ax.barh(y, values, xerr=np.vstack([lower, err]) if err.any() else None,
            color=_COLORS.get(rep.primary, "tab:blue"), alpha=0.75,
            error_kw={"lw": 1, "capsize": 2})
    ax.axvline(1.0, color="0.3", lw=1, ls="--")
    if log:
        ax.set_xscale("log")
        ax.set_xlim(values.min() / 2, max(values.max(), (values + err).max()) * 1.5)
        log_axes(ax.xaxis)
        ax.tick_params(labelsize=8)
    else:
        readable_axes(ax, y=False)
    ax.set_yticks(y)
    ax.set_yticklabels([rt.label(rep, s) for s in fano.index], fontsize=8)
    ax.set_xlabel(f"Fano factor = variance/mean ({rt.SHORT_NAMES.get(rep.primary)}; dashed: "
                  "Poisson = 1" + ("; bars: 95% CI)" if err.any() else ")"), fontsize=8)
    ax.set_ylim(-0.6, n - 0.4)
    return png(fig)


# ------------------------------------------------------------------------ per species
def _panel_distribution(ax: Axes, rep, sid: str) -> None:
    source = next((m for m in ("fsp", "ssa") if m in rep.statistics
                   and rep.statistics[m].distributions
                   and rep.statistics[m].distributions.get(sid) is not None), None)
    lo = hi = None
    drawn = False
    if source is not None:
        d = rep.statistics[source].distributions[sid]
        d = d[d > 1e-9 * d.max()] if len(d) and d.max() > 0 else d
        if len(d):
            x = d.index.to_numpy(float)
            if x.max() - x.min() <= 1e5 and np.all(x == np.round(x)):
                full = np.arange(int(x.min()), int(x.max()) + 1)
                p = np.zeros(full.size)
                p[x.astype(np.int64) - full[0]] = d.to_numpy()
                ax.stairs(p, np.append(full, full[-1] + 1) - 0.5, fill=True,
                          color=_COLORS[source], alpha=0.5, label=rt.SHORT_NAMES[source])
            else:
                ax.plot(x, d.to_numpy(), ".", color=_COLORS[source], ms=2,
                        label=rt.SHORT_NAMES[source])
            lo, hi = float(x.min()), float(x.max())
            drawn = True
    lna = rep.statistics.get("lna")
    if lna is not None and sid in lna.mean.index:
        mu, var = float(lna.mean[sid]), float(lna.variance[sid])
        if var > 0 and math.isfinite(var) and math.isfinite(mu):
            sd = math.sqrt(var)
            a = min(lo, mu - 4 * sd) if lo is not None else mu - 4 * sd
            b = max(hi, mu + 4 * sd) if hi is not None else mu + 4 * sd
            xs = np.linspace(a, b, 200)
            per = lna.extra.get("molecules_per_concentration") \
                if lna.units == "concentration" else None
            step = 1.0 / float(per[sid]) if per is not None else 1.0  # one molecule
            ax.plot(xs, step * np.exp(-(xs - mu) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var),
                    color=_COLORS["lna"], lw=1.5, label="LNA Gaussian")
            drawn = True
    if not drawn:
        _empty(ax, "no distribution")
        return
    title(ax, "distribution")
    ax.set_xlabel("concentration [X]" if rt.units(rep) == "concentration" else "copy number",
                  fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    readable_axes(ax)


def _panel_acf(ax: Axes, rep, sid: str, source: str | None, lags: np.ndarray) -> None:
    drawn = False
    st = rep.statistics.get(source) if source else None
    if st is not None and source:
        try:
            c = st.autocorrelation(sid, lags).to_numpy()
        except (NotImplementedError, KeyError, ValueError):
            c = None
        if c is not None and np.isfinite(c[0]) and c[0] > 0:
            ok = np.isfinite(c)
            ax.plot(lags[ok], c[ok] / c[0], color=_COLORS[source], lw=1.5,
                    label=rt.SHORT_NAMES[source])
            band = st.extra.get("autocovariance_stderr") if source == "ssa" else None
            if callable(band):
                se = np.asarray(band(sid, lags), dtype=float) * rt.Z95 / c[0]
                ok &= np.isfinite(se)
                ax.fill_between(lags[ok], (c[ok] / c[0]) - se[ok], (c[ok] / c[0]) + se[ok],
                                color=_COLORS[source], alpha=0.2, lw=0)
            drawn = True
    lna = rep.statistics.get("lna")
    if source != "lna" and lna is not None and lna.autocovariance_function is not None \
            and sid in lna.mean.index and rep.settings.get("time") is None:
        try:
            c = lna.autocorrelation(sid, lags).to_numpy()
            if np.isfinite(c[0]) and c[0] > 0:
                ax.plot(lags, c / c[0], color=_COLORS["lna"], lw=1, ls="--", label="LNA")
                drawn = True
        except (NotImplementedError, KeyError, ValueError):
            pass
    if not drawn:
        _empty(ax, "no autocorrelation")
        return
    ax.axhline(0, color="0.7", lw=0.8)
    title(ax, "autocorrelation C(τ)/C(0)")
    ax.set_xlabel("lag τ (time units)", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    readable_axes(ax)


def _panel_psd(ax: Axes, rep, sid: str, source: str | None) -> None:
    st = rep.statistics.get(source) if source else None
    if st is not None and source and st.psd_function is not None:
        om = omega_grid(rep, st, source)
        try:
            with np.errstate(all="ignore"):
                spec = st.psd(sid, om).to_numpy() if om.size > 1 else np.array([])
        except (NotImplementedError, KeyError, ValueError):
            spec = np.array([])
        ok = np.isfinite(spec) & (spec > 0) if spec.size else np.array([], bool)
        if ok.sum() >= 2:
            if ax.get_xscale() != "log":  # setting it again resets the ticks
                ax.set_xscale("log")
            if ax.get_yscale() != "log":
                ax.set_yscale("log")
            ax.plot(om[ok], spec[ok], color=_COLORS[source], lw=1.5)
            log_axes(ax.xaxis, ax.yaxis)
            title(ax, "spectrum S(ω)")
            ax.set_xlabel("ω (rad per time unit)", fontsize=8)
            return
    _empty(ax, "no spectrum")


def _panel_trajectories(ax: Axes, rep, sid: str) -> None:
    traj = rep.trajectories
    if traj is None or not len(traj) or sid not in traj.columns:
        _empty(ax, "no sample trajectories")
        return
    for _, grp in traj.groupby("run"):
        ax.step(grp["time"].to_numpy(), grp[sid].to_numpy(), where="post", lw=0.9)
    title(ax, "SSA sample paths from the initial state"
          + (" (concentration [X])" if rt.units(rep) == "concentration" else ""))
    ax.set_xlabel("time", fontsize=8)
    readable_axes(ax)


class CardCanvas:
    """One figure with the four panel axes, reused for every species of a report.

    Creating axes and their tick artists is most of matplotlib's cost for small panels;
    between species only the data artists, legends and labels are removed, and the data
    limits are recomputed from the new artists."""

    BOXES = ((0.08, 0.60, 0.38, 0.32), (0.58, 0.60, 0.38, 0.32),
             (0.08, 0.11, 0.38, 0.32), (0.58, 0.11, 0.38, 0.32))

    def __init__(self) -> None:
        self.fig = _figure(8.0, 4.6)
        self.axes = [self.fig.add_axes(box) for box in self.BOXES]
        for ax in self.axes:
            # fixed axis-label positions: an automatic one measures every tick label of
            # the axis and its siblings on each draw (about a tenth of a card's time)
            ax.xaxis.set_label_coords(0.5, -0.15)
            ax.yaxis.set_label_coords(-0.13, 0.5)
        self.axes[2].set_xscale("log")
        self.axes[2].set_yscale("log")

    def reset(self) -> None:
        for ax in self.axes:
            for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts]:
                artist.remove()
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.set_prop_cycle(None)  # the same colours on every card
            ax.set_axis_on()
            ax.set_autoscale_on(True)

    def draw(self, rep: AnalysisReport, sid: str, source: str | None, lags: np.ndarray) -> str:
        self.reset()
        ax = self.axes
        _panel_distribution(ax[0], rep, sid)
        _panel_acf(ax[1], rep, sid, source, lags)
        _panel_psd(ax[2], rep, sid, source)
        _panel_trajectories(ax[3], rep, sid)
        for a in ax:
            a.relim()
            a.autoscale_view()
        return png(self.fig)


def figure_species(rep: AnalysisReport, sid: str, source: str | None, lags: np.ndarray,
                   canvas: CardCanvas | None = None) -> str:
    """One PNG with the four panels of ``sid`` (on ``canvas`` when given)."""
    return (canvas or CardCanvas()).draw(rep, sid, source, lags)
