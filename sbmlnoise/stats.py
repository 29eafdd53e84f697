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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import pandas as pd


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

    @property
    def fano(self) -> pd.Series:
        mean = self.mean.to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(mean != 0, self.variance.to_numpy() / mean, np.nan)
        return pd.Series(values, index=self.mean.index, name="fano")

    @property
    def cv(self) -> pd.Series:
        mean = self.mean.to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(mean != 0, self.std.to_numpy() / mean, np.nan)
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
