"""`NoiseStatistics`: the one result type of every noise backend (SSA, FSP, LNA).

Conventions (all backends):

* Values are **molecule counts** (``system_size * amount``; see :mod:`sbmlnoise.network`).
* ``variance``/``covariance`` are of counts; the **Fano factor** is variance / mean (counts,
  dimensionless; 1 for a Poisson law); the **CV** is standard deviation / mean.
  Both are ``nan`` where the mean is 0.
* ``autocorrelation(species, lags)`` returns the stationary **autocovariance**
  ``C(tau) = Cov(n(t), n(t + tau))`` in counts^2 (so ``C(0)`` is the variance).
* ``psd(species, omegas)`` returns the **two-sided** power spectral density
  ``S(w) = integral_{-inf}^{inf} C(tau) exp(-i w tau) dtau`` (counts^2 x time; ``w`` in
  radians per time unit). For a birth-death process (birth ``k``, death ``gamma n``)
  ``C(tau) = (k/gamma) exp(-gamma |tau|)`` and ``S(w) = 2k / (w^2 + gamma^2)``.
* ``in_concentrations(net)`` rescales everything to **concentrations** as libRoadRunner
  reports ``[X]``: ``[X] = n / (system_size * V)`` with ``V`` the size of the species'
  compartment, so the mean is divided by ``system_size * V`` and the (co)variances by its
  square; the CV is unchanged and the Fano factor then carries concentration units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: ``f(species, lags_or_angular_frequencies) -> values`` (autocovariance or PSD)
_TemporalFunction = Callable[[str, np.ndarray], np.ndarray]


#: molecules below which a species' mean makes it absent: its Fano factor and CV (ratios
#: to the mean) are undefined (NaN) -- the rate equations leave 1e-300 molecules of a species
#: that is gone, and a variance at the integrator's resolution over that is no statistic
ABSENT = 1e-9


@dataclass(frozen=True, eq=False)
class NoiseStatistics:
    """Means and (co)variances of molecule counts, with optional temporal statistics.

    Attributes
    ----------
    mean : pandas.Series
        Mean count per species.
    covariance : pandas.DataFrame
        Covariance matrix of counts (species x species).
    method : str
        ``"ssa"``, ``"fsp"`` or ``"lna"``.
    settings : dict
        What produced the numbers (tolerances, seeds, ``system_size``, times, ...).
    stderr : dict of str -> pandas.Series, or None
        Standard errors of sampled estimates (keys ``"mean"``, ``"variance"``, ``"fano"``,
        ``"cv"``); ``None`` for methods without sampling error.
    distributions : dict of str -> pandas.Series, or None
        Marginal probability of each count value per species, where the backend has it.
    time : float or None
        Time point of the statistics; ``None`` for the stationary state.
    extra : dict
        Backend-specific extras (e.g. ``"error_bound"`` for FSP, ``"emre_mean"`` for LNA).
    """

    mean: pd.Series
    covariance: pd.DataFrame
    method: str
    settings: dict = field(default_factory=dict)
    stderr: dict | None = None
    distributions: dict | None = None
    time: float | None = None
    extra: dict = field(default_factory=dict)
    autocovariance_function: Callable[[str, np.ndarray], np.ndarray] | None = None
    psd_function: Callable[[str, np.ndarray], np.ndarray] | None = None
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def species(self) -> tuple[str, ...]:
        return tuple(self.mean.index)

    @property
    def variance(self) -> pd.Series:
        return pd.Series(np.diag(self.covariance.to_numpy()), index=self.mean.index,
                         name="variance")

    @property
    def std(self) -> pd.Series:
        return np.sqrt(self.variance.clip(lower=0.0)).rename("std")

    def _present(self) -> np.ndarray:
        """Species whose mean is at least :data:`ABSENT` molecules (in absolute value)."""
        return np.abs(self.mean.to_numpy(dtype=float)) >= ABSENT

    @property
    def fano(self) -> pd.Series:
        """``Var / mean`` per species; NaN for an absent species (:data:`ABSENT`)."""
        mean = self.mean.to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(self._present(), self.variance.to_numpy() / mean, np.nan)
        return pd.Series(values, index=self.mean.index, name="fano")

    @property
    def cv(self) -> pd.Series:
        """``sd / mean`` per species; NaN for an absent species (:data:`ABSENT`)."""
        mean = self.mean.to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(self._present(), self.std.to_numpy() / mean, np.nan)
        return pd.Series(values, index=self.mean.index, name="cv")

    @property
    def correlation(self) -> pd.DataFrame:
        std = self.std.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = self.covariance.to_numpy() / np.outer(std, std)
        return pd.DataFrame(corr, index=self.mean.index, columns=self.mean.index)

    def _check_species(self, species: str) -> None:
        if species not in self.mean.index:
            raise KeyError(f"no species '{species}' in these statistics; species are "
                           f"{', '.join(self.mean.index)}")

    def autocorrelation(self, species: str, lags: Iterable[float]) -> pd.Series:
        """Stationary autocovariance ``C(tau)`` (counts^2) of ``species`` at ``lags``."""
        self._check_species(species)
        if self.autocovariance_function is None:
            raise NotImplementedError(f"the {self.method} result carries no autocovariance "
                                      "(stationary statistics only)")
        lags = np.asarray(list(lags), dtype=float)
        values = self._memoised("acov", species, lags, self.autocovariance_function)
        return pd.Series(values, index=pd.Index(lags, name="lag"), name=species)

    def _memoised(self, kind: str, species: str, grid: np.ndarray, func) -> np.ndarray:
        """``func(species, grid)``, remembered per (kind, species, grid) so that a report
        drawing the grid an analysis already evaluated pays nothing (bounded: 256 entries)."""
        key = (kind, species, grid.tobytes())
        hit = self._memo.get(key)
        if hit is None:
            hit = np.asarray(func(species, grid), dtype=float)
            if len(self._memo) < 256:
                self._memo[key] = hit
        return hit.copy()

    def psd(self, species: str, omegas: Iterable[float]) -> pd.Series:
        """Two-sided PSD ``S(w) = int C(tau) exp(-i w tau) dtau`` at angular ``omegas``."""
        self._check_species(species)
        if self.psd_function is None:
            raise NotImplementedError(f"the {self.method} result carries no spectrum "
                                      "(stationary statistics only)")
        omegas = np.asarray(list(omegas), dtype=float)
        values = self._memoised("psd", species, omegas, self.psd_function)
        return pd.Series(values, index=pd.Index(omegas, name="omega"), name=species)

    def autocorrelation_time(self, species: str) -> float:
        """Integrated correlation time ``int_0^inf C(tau) dtau / C(0) = S(0) / (2 C(0))``."""
        var = float(self.variance[species])
        if self.psd_function is None or not var > 0:
            return float("nan")
        return float(self.psd(species, [0.0]).iloc[0]) / (2.0 * var)

    def to_frame(self) -> pd.DataFrame:
        """One row per species: mean, variance, std, fano, cv (and their standard errors)."""
        frame = pd.DataFrame({"mean": self.mean, "variance": self.variance, "std": self.std,
                              "fano": self.fano, "cv": self.cv})
        if self.stderr:
            for key, series in self.stderr.items():
                frame[f"{key}_stderr"] = series
        frame.index.name = "species"
        return frame

    def __repr__(self) -> str:
        when = "stationary" if self.time is None else f"t={self.time:g}"
        return f"<NoiseStatistics {self.method} {when}>\n{self.to_frame().to_string()}"

    # ------------------------------------------------------------------ units
    @property
    def units(self) -> str:
        """``"count"`` (molecule counts, the default) or ``"concentration"``."""
        return str(self.settings.get("units", "count"))

    def in_concentrations(self, volumes) -> "NoiseStatistics":
        """The same statistics as concentrations ``[X] = n / (system_size * V)``.

        Parameters
        ----------
        volumes : ReactionNetwork, mapping or pandas.Series
            A network (compartment sizes of each species' compartment and its
            ``system_size``), or ``species -> system_size * V`` (molecules per
            concentration unit) directly.

        Returns
        -------
        NoiseStatistics
            ``settings["units"] == "concentration"``; mean / (Omega V), covariance /
            (Omega V)^2 (pairwise products for cross terms), standard errors and
            distributions rescaled alike, autocovariance and PSD / (Omega V)^2. The CV is
            unchanged; the Fano factor is divided by Omega V (it has concentration units).
        """
        if self.units == "concentration":
            return self
        scale = _molecules_per_concentration(volumes, self.species)
        f = scale.to_numpy(dtype=float)
        cov = self.covariance.to_numpy() / np.outer(f, f)
        stderr = None
        if self.stderr:
            power = {"mean": 1, "variance": 2, "fano": 1, "cv": 0, "std": 1}
            stderr = {k: v / scale.reindex(v.index) ** power.get(k, 0)
                      for k, v in self.stderr.items()}
        dists = None
        if self.distributions:
            dists = {}
            for sid, d in self.distributions.items():
                k = float(scale[sid]) if sid in scale.index else 1.0
                dists[sid] = pd.Series(d.to_numpy(), index=pd.Index(
                    d.index.to_numpy(dtype=float) / k, name="concentration"), name=sid)

        def rescaled(func: _TemporalFunction | None) -> _TemporalFunction | None:
            if func is None:
                return None
            return lambda sid, x: np.asarray(func(sid, x), dtype=float) / float(scale[sid]) ** 2

        settings = dict(self.settings, units="concentration")
        extra = dict(self.extra, molecules_per_concentration=scale)
        return NoiseStatistics(mean=(self.mean / scale).rename("mean"),
                               covariance=pd.DataFrame(cov, index=self.covariance.index,
                                                       columns=self.covariance.columns),
                               method=self.method, settings=settings, stderr=stderr,
                               distributions=dists, time=self.time, extra=extra,
                               autocovariance_function=rescaled(self.autocovariance_function),
                               psd_function=rescaled(self.psd_function))

    # ------------------------------------------------------------------ display
    def _repr_html_(self) -> str:
        """Notebook display: one row per species, SSA numbers with 95% CIs."""
        import html as _html
        from .report._text import fmt_pm, half_width
        when = "stationary" if self.time is None else f"t = {self.time:g}"
        unit = "concentrations" if self.units == "concentration" else "molecule counts"
        head = "".join(f"<th>{h}</th>" for h in ("species", "mean", "std", "Fano", "CV"))
        rows = []
        for sid in self.species:
            cells = [_html.escape(str(sid))]
            for q in ("mean", "std", "fano", "cv"):
                value = getattr(self, q)[sid]
                cells.append(_html.escape(fmt_pm(value, half_width(self, q, sid))))
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        note = " &plusmn;: 95% confidence interval." if self.stderr else ""
        return (f"<div><b>NoiseStatistics</b> ({_html.escape(self.method.upper())}, {when}, "
                f"{unit}){note}<table><thead><tr>{head}</tr></thead><tbody>"
                f"{''.join(rows)}</tbody></table></div>")

    def plot(self, species: str | Iterable[str] | None = None, ax: Axes | None = None) -> Axes:
        """Bar chart of the marginal distributions (where the method has them) or the
        mean with a +-1 standard deviation bar per species; returns the matplotlib Axes.

        Parameters
        ----------
        species : str or sequence of str, optional
            Species to draw (default all).
        ax : matplotlib.axes.Axes, optional
            Axes to draw into (default: a new figure via pyplot).
        """
        import matplotlib.pyplot as plt
        if species is None:
            names = list(self.species)
        elif isinstance(species, str):
            names = [species]
        else:
            names = list(species)
        for sid in names:
            self._check_species(sid)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        unit = "concentration" if self.units == "concentration" else "copy number"
        if self.distributions and all(self.distributions.get(s) is not None for s in names):
            for sid in names:
                d = self.distributions[sid]
                ax.step(d.index.to_numpy(dtype=float), d.to_numpy(), where="mid", label=sid)
            ax.set_xlabel(unit)
            ax.set_ylabel("probability")
            ax.legend(fontsize=8)
        else:
            x = np.arange(len(names))
            ax.bar(x, self.mean[names].to_numpy(), yerr=self.std[names].to_numpy(),
                   capsize=3, alpha=0.75)
            ax.set_xticks(x)
            ax.set_xticklabels(names)
            ax.set_ylabel(f"mean {unit} (bar: +-1 std)")
        ax.set_title(f"{self.method.upper()} "
                     f"{'stationary' if self.time is None else f't = {self.time:g}'}")
        return ax


def _molecules_per_concentration(volumes, species) -> pd.Series:
    """``system_size * V`` per species from a network, mapping or Series."""
    if hasattr(volumes, "compartments") and hasattr(volumes, "species"):
        net = volumes
        sizes = {c.id: float(c.size) for c in net.compartments}
        values = {s.id: float(net.system_size) * (sizes.get(s.compartment, 1.0) or 1.0)
                  for s in net.species}
    else:
        values = {str(k): float(v) for k, v in dict(volumes).items()}
    missing = [s for s in species if s not in values]
    if missing:
        raise KeyError(f"no volume for species '{missing[0]}'")
    out = pd.Series({s: values[s] for s in species}, dtype=float)
    bad = out[~(np.isfinite(out.to_numpy()) & (out.to_numpy() > 0))]
    if len(bad):
        raise ValueError(f"species '{bad.index[0]}' has no positive finite volume "
                         f"(system_size * V = {bad.iloc[0]})")
    return out
