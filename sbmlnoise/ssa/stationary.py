"""``sn.ssa_stationary``: stationary noise statistics from one long SSA run.

Estimators (all in molecule counts; ``T = t_end - burn_in`` is the recorded span):

* **Moments.** Time averages of the piecewise-constant path, exact integrals between
  events: ``mean = (1/T) int n dt``, ``cov = (1/T) int n n^T dt - mean mean^T``.
* **Distributions.** Fraction of time spent at each count (exact occupation times).
* **Autocovariance.** The path is sampled at ``burn_in + g dt`` (``g = 0..N-1``;
  sampling a piecewise-constant path is exact at the sample times) and
  ``C(k dt) = 1/(N-k) sum_g (n_g - m)(n_{g+k} - m)`` is computed by zero-padded FFT;
  ``autocorrelation(species, lags)`` interpolates linearly in ``|lag|`` (NaN past the
  largest estimated lag).
* **PSD** (two-sided, ``S(w) = int C(tau) e^{-i w tau} dtau``): Blackman-Tukey
  estimate ``S(w) = dt [C(0) + 2 sum_{k>=1} w_P(k dt / L) C(k dt) cos(w k dt)]`` with the
  Parzen lag window ``w_P`` of truncation lag ``L`` (``max_lag``). Default ``L`` is ten
  times the first lag at which ``C`` falls below ``C(0) e^{-3}`` (capped at a tenth of
  the batch length). Valid for ``|w| << pi / dt``; bias ~ ``12 / (gamma L)^2`` for an
  exponential ``C`` with rate ``gamma``. (Priestley, Spectral Analysis and Time Series,
  1981, sec. 6.2.)
* **Standard errors** by batch means: the span is cut into ``n_batches`` equal batches,
  every statistic is re-estimated per batch (deviations taken from the global mean) and
  ``SE = std(batch values, ddof=1) / sqrt(n_batches)``; valid when a batch is much longer
  than the correlation time.
"""

from __future__ import annotations

import time as _time

import warnings

import numpy as np
import pandas as pd

from ..stats import NoiseStatistics
from ._kernels import _stationary_run
from ._rng import run_states
from .ensemble import (DEFAULT_MAX_COUNT, DEFAULT_MAX_STEPS, _seed_repr, prepare, raise_failure)

DEFAULT_GRID = 2**18
#: cap on grid samples x species (memory of the sampled path, 8 bytes each)
MAX_GRID_VALUES = 2**22
HIST_SIZE = 4096


def _parzen(u):
    u = np.abs(u)
    return np.where(u <= 0.5, 1 - 6 * u**2 + 6 * u**3, np.where(u <= 1, 2 * (1 - u) ** 3, 0.0))


def _acov_fft(y, max_k):
    """Autocovariance of a centred series at lags 0..max_k (unbiased 1/(N-k))."""
    n = y.shape[0]
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(y, size)
    c = np.fft.irfft(f * np.conj(f), size)[: max_k + 1]
    return c / (n - np.arange(max_k + 1))


def _bt_psd(c, dt, L, omegas):
    k = np.arange(c.shape[0])
    w = _parzen(k * dt / L)
    w[0] = 1.0
    terms = (w * c)[None, :] * np.cos(np.outer(omegas, k * dt))
    return dt * (2.0 * terms.sum(axis=1) - w[0] * c[0])


def ssa_stationary(net, *, t_end, burn_in, seed=None, method="auto", dt=None,
                   n_batches=32, max_lag=None, max_count=DEFAULT_MAX_COUNT,
                   max_steps=DEFAULT_MAX_STEPS * 10) -> NoiseStatistics:
    """Stationary statistics of ``net`` from one long exact simulation.

    Parameters
    ----------
    net : ReactionNetwork
    t_end, burn_in : float
        Simulate to ``t_end``; discard ``[0, burn_in)`` (transient), record
        ``[burn_in, t_end]``. Choose ``t_end - burn_in`` >> ``n_batches`` times the
        slowest correlation time.
    seed : int or None
        The stream of run 0 of :func:`~sbmlnoise.ssa.ssa` with the same seed.
    method : str
        SSA variant ("auto", "direct", "sorting").
    dt : float, optional
        Sampling step of the autocovariance grid (default ``(t_end - burn_in) / 2**18``,
        fewer samples for more than 16 species);
        must resolve the fastest correlation time of interest.
    n_batches : int
        Batches for batch-means standard errors (>= 2).
    max_lag : float, optional
        Truncation lag ``L`` (time) of the PSD lag window; see the module docstring.

    Returns
    -------
    NoiseStatistics
        ``method="ssa"``, ``time=None``; ``stderr`` holds batch-means standard errors of
        ``mean``, ``variance``, ``fano``, ``cv``; ``distributions`` the stationary
        occupation probabilities per species; ``autocorrelation``/``psd`` as above;
        ``extra`` holds ``"autocovariance_stderr"``/``"psd_stderr"`` callables
        ``f(species, lags_or_omegas) -> ndarray``, ``"events"``, ``"max_lag"``.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    >>> st = sn.ssa_stationary(net, t_end=2000, burn_in=20, seed=3)
    >>> abs(float(st.fano["X"]) - 1) < 0.1
    True
    """
    t_end, burn_in = float(t_end), float(burn_in)
    if not (np.isfinite(t_end) and np.isfinite(burn_in)) or burn_in < 0 or t_end <= burn_in:
        raise ValueError("need finite 0 <= burn_in < t_end")
    n_batches = int(n_batches)
    if n_batches < 2:
        raise ValueError("n_batches must be >= 2")
    span = t_end - burn_in
    if dt is None:
        n_grid = min(DEFAULT_GRID, max(MAX_GRID_VALUES // max(net.n_species, 1), 1024))
    else:
        if not dt > 0:
            raise ValueError("dt must be positive")
        n_grid = max(int(round(span / float(dt))), n_batches)
    n_grid = max(n_batches, (n_grid // n_batches) * n_batches)
    dt = span / n_grid
    variant, model, x0, p0, entropy = prepare(net, method, seed)
    rng = run_states(entropy, 0, 1)[0]
    S = net.n_species
    grid = np.zeros((n_grid, S))
    blin = np.zeros((n_batches, S))
    bquad = np.zeros((n_batches, S, S))
    hist = np.zeros((S, HIST_SIZE))
    over = np.zeros(S)
    info = np.zeros(8)
    err_state = np.zeros(S)
    started = _time.perf_counter()
    events = _stationary_run(model, variant.code, x0, p0, rng, burn_in, dt, n_grid, n_batches,
                             grid, blin, bquad, hist, over, float(max_count), int(max_steps),
                             info, err_state)
    if events < 0:
        raise_failure(net, info, err_state)
    elapsed = _time.perf_counter() - started
    species = list(net.species_ids)
    blen = span / n_batches
    mean = blin.sum(axis=0) / span
    second = bquad.sum(axis=0) / span
    cov = second - np.outer(mean, mean)
    cov = 0.5 * (cov + cov.T)
    # batch estimates (deviations from the global mean)
    bmean = blin / blen
    bsecond = bquad / blen
    bvar = (np.einsum("bii->bi", bsecond) - 2 * bmean * mean + mean**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        bfano = np.where(bmean != 0, bvar / bmean, np.nan)
        bcv = np.where(bmean != 0, np.sqrt(np.maximum(bvar, 0)) / bmean, np.nan)
    def se(values):
        return pd.Series(np.std(values, axis=0, ddof=1) / np.sqrt(n_batches), index=species)

    stderr = {"mean": se(bmean), "variance": se(bvar), "fano": se(bfano), "cv": se(bcv)}
    # distributions: exact occupation times unless counts left [0, HIST_SIZE)
    distributions = {}
    for i, sid in enumerate(species):
        if over[i] > 1e-12 * span:
            values, counts = np.unique(np.rint(grid[:, i]).astype(np.int64), return_counts=True)
            distributions[sid] = pd.Series(counts / counts.sum(),
                                           index=pd.Index(values, name="count"), name=sid)
        else:
            top = int(np.max(np.nonzero(hist[i])[0])) + 1 if hist[i].any() else 1
            distributions[sid] = pd.Series(hist[i, :top] / span,
                                           index=pd.Index(np.arange(top), name="count"), name=sid)
    # autocovariance on the grid
    per_batch = n_grid // n_batches
    max_k = max(1, min(n_grid // 4, per_batch // 2))
    centred = grid - mean[None, :]
    acov = np.array([_acov_fft(centred[:, i], max_k) for i in range(S)])  # (S, max_k+1)
    batch_acov = np.array([[_acov_fft(centred[b * per_batch:(b + 1) * per_batch, i], max_k)
                            for b in range(n_batches)] for i in range(S)])  # (S, B, K)
    lags_grid = np.arange(max_k + 1) * dt
    lag_windows = {}
    for i, sid in enumerate(species):
        if max_lag is not None:
            L = float(max_lag)
        else:
            c = acov[i]
            below = np.nonzero(c <= c[0] * np.exp(-3.0))[0] if c[0] > 0 else np.array([1])
            first = below[0] if below.size else max_k
            L = 10.0 * max(first, 1) * dt
        if max_lag is not None and L > max_k * dt:
            warnings.warn(f"ssa_stationary: max_lag {L:g} exceeds half a batch "
                          f"({max_k * dt:g} time units); using {max_k * dt:g} -- raise t_end "
                          "or lower n_batches for longer lags", RuntimeWarning, stacklevel=2)
        L = min(L, max_k * dt)
        lag_windows[sid] = L

    def _interp(values, lags):
        lags = np.abs(np.asarray(lags, dtype=float))
        out = np.interp(lags, lags_grid, values)
        out[lags > lags_grid[-1]] = np.nan
        return out

    def autocovariance(sid, lags):
        return _interp(acov[species.index(sid)], lags)

    def autocovariance_stderr(sid, lags):
        b = batch_acov[species.index(sid)]
        return _interp(np.std(b, axis=0, ddof=1) / np.sqrt(n_batches), lags)

    def _k_cut(sid):
        return min(max_k, int(np.ceil(lag_windows[sid] / dt)))

    def psd(sid, omegas):
        i = species.index(sid)
        kc = _k_cut(sid)
        return _bt_psd(acov[i, : kc + 1], dt, lag_windows[sid], np.asarray(omegas, float))

    def psd_stderr(sid, omegas):
        i = species.index(sid)
        kc = _k_cut(sid)
        vals = np.array([_bt_psd(batch_acov[i, b, : kc + 1], dt, lag_windows[sid],
                                 np.asarray(omegas, float)) for b in range(n_batches)])
        return np.std(vals, axis=0, ddof=1) / np.sqrt(n_batches)

    settings = {"method": variant.name, "t_end": t_end, "burn_in": burn_in,
                "seed": _seed_repr(seed),
                "seed_entropy": getattr(entropy, "entropy", entropy), "dt": dt,
                "n_grid": n_grid, "n_batches": n_batches,
                "system_size": float(net.system_size), "events": int(events),
                "seconds": elapsed, "psd_estimator": "Blackman-Tukey, Parzen lag window"}
    extra = {"events": int(events), "max_lag": lag_windows,
             "autocovariance_stderr": autocovariance_stderr, "psd_stderr": psd_stderr,
             "ssa_method": variant.name}
    return NoiseStatistics(mean=pd.Series(mean, index=species, name="mean"),
                           covariance=pd.DataFrame(cov, index=species, columns=species),
                           method="ssa", settings=settings, stderr=stderr,
                           distributions=distributions, time=None, extra=extra,
                           autocovariance_function=autocovariance, psd_function=psd)
