"""Small summaries of results shared by the analysis and the writers (a leaf module).

* :func:`omega_limit` -- the largest angular frequency at which a (sampled) spectrum is
  meaningful;
* :func:`temporal_summary` -- autocorrelation time, S(0), corner and peak frequency;
* :func:`thermo_verdict` -- one line on detailed balance and entropy production.

Conventions (two-sided PSD, autocovariance) are those of :mod:`sbmlnoise.stats`.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .errors import SbmlnoiseError
from .stats import NoiseStatistics

__all__ = ["omega_limit", "temporal_summary", "thermo_verdict", "first_line"]


def first_line(err: BaseException | str) -> str:
    """The first line of an error message (the type name when the message is empty)."""
    text = str(err).strip()
    if text:
        return text.splitlines()[0]
    return type(err).__name__ if isinstance(err, BaseException) else ""


def omega_limit(st: NoiseStatistics) -> float:
    """Largest angular frequency at which a spectrum is meaningful: half the Nyquist
    frequency ``pi / dt`` of a sampled (SSA) estimate, infinity otherwise."""
    raw = (st.settings or {}).get("dt")
    try:
        dt = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.inf
    return 0.5 * math.pi / dt if dt > 0 else math.inf


def temporal_summary(st: NoiseStatistics, species: Iterable[str],
                     time_scale: float | None) -> dict[str, dict[str, float]]:
    """Autocorrelation time and PSD summary per species (nan where unavailable).

    Returns ``{species: {"autocorrelation_time", "psd_zero", "corner_frequency",
    "peak_frequency"}}``: the integrated autocorrelation time (time units), the two-sided
    spectrum at zero (counts^2 x time), the angular frequency where the spectrum falls to
    half of S(0) (log-linear interpolation on a grid of 121 frequencies spanning 1e-3 to
    1e3 over ``time_scale``) and the angular frequency of a spectral peak above S(0).
    """
    out: dict[str, dict[str, float]] = {}
    tau = float(time_scale) if time_scale else 1.0
    omegas = np.logspace(-3, 3, 121) / tau
    omegas = omegas[omegas < omega_limit(st)]
    peak_factor = 1.5 if st.stderr else 1.05  # sampled spectra wiggle
    for s in species:
        row = {"autocorrelation_time": math.nan, "psd_zero": math.nan,
               "corner_frequency": math.nan, "peak_frequency": math.nan}
        if st.psd_function is not None:
            try:
                with np.errstate(all="ignore"):
                    s0 = float(st.psd(s, [0.0]).iloc[0])
                    spec = st.psd(s, omegas).to_numpy()
                row["psd_zero"] = s0
                row["autocorrelation_time"] = st.autocorrelation_time(s)
                if np.all(np.isfinite(spec)) and s0 > 0:
                    row.update(_spectral_shape(omegas, spec, s0, peak_factor))
            except (NotImplementedError, SbmlnoiseError, ValueError, KeyError):
                pass
        out[s] = row
    return out


def _spectral_shape(omegas: np.ndarray, spec: np.ndarray, s0: float,
                    peak_factor: float) -> dict[str, float]:
    row: dict[str, float] = {}
    below = np.flatnonzero(spec <= s0 / 2)
    if below.size:
        k = int(below[0])
        if k > 0:  # log-linear interpolation for the half-power point
            x0, x1 = np.log(omegas[k - 1]), np.log(omegas[k])
            y0, y1 = spec[k - 1], spec[k]
            frac = (y0 - s0 / 2) / (y0 - y1) if y0 != y1 else 0.0
            row["corner_frequency"] = float(np.exp(x0 + frac * (x1 - x0)))
        else:
            row["corner_frequency"] = float(omegas[0])
    k = int(np.argmax(spec))
    if spec[k] > peak_factor * s0:
        row["peak_frequency"] = float(omegas[k])
    return row


def thermo_verdict(th: Any) -> str:
    """One line: detailed balance or not, and the entropy production rate."""
    verdict = ("detailed balance (equilibrium)" if th.detailed_balance
               else "NOT detailed balanced (non-equilibrium steady state)")
    try:
        sigma = float(th.entropy_production)
    except (TypeError, ValueError):
        sigma = math.nan
    if math.isinf(sigma):
        irr = list(th.irreversible or [])
        why = f" (one-way reactions carry flux: {', '.join(map(str, irr[:6]))})" if irr else ""
        return f"{verdict}; entropy production unbounded{why}"
    if math.isnan(sigma):
        return f"{verdict}; entropy production not available"
    return f"{verdict}; entropy production {sigma:.4g} {th.units}"
