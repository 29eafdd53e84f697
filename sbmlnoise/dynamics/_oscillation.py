"""Oscillation analysis: quasi-cycles of a stable focus and noisy limit cycles.

:func:`oscillation` answers, per species, *how regular* the oscillations of a model are:

* **Stable focus** (the rate equations settle to a steady state whose Jacobian has complex
  eigenvalues): noise excites *quasi-cycles* (McKane & Newman 2005,
  doi:10.1103/PhysRevLett.94.218102). The exact LNA spectrum (two-sided, counts^2 per unit
  angular frequency per unit time) is ``S(w) = (J - i w)^-1 D (J^T + i w)^-1`` with the
  Jacobian ``J`` and diffusion matrix ``D`` of :func:`sbmlnoise.lna`; its peak frequency
  ``w_p`` gives ``period = 2 pi / w_p`` and the quality factor ``Q = w_p / FWHM`` (full
  width at half maximum of the peak, in ``w``). The autocorrelation envelope decays at the
  slowest oscillatory eigenvalue's rate: ``acf_decay_time = 1 / |Re lambda|``.
* **Limit cycle** (unstable fixed point; or ``method="ssa"``): the rate equations are
  integrated onto the cycle for the deterministic period and amplitude; an SSA ensemble on
  a window chosen from that period (burn-in, sampling step ``period / 64``, ``cycles``
  periods per run) gives

  - cycle lengths from upward crossings of the run's mean with hysteresis (a Schmitt
    trigger at ``mean +/- 0.5 sd`` on the path smoothed over an eighth of a period: a
    cycle is counted once the path has gone below the lower and then above the upper
    threshold; its time is the interpolated upward crossing of the mean just before),
    hence the mean period, its CV and the amplitude ``(max - min) / 2`` of the raw path
    per cycle;
  - the run-averaged Hann-windowed periodogram (two-sided, same convention as the LNA);
    near its peak a damped-oscillation line ``C(tau) = a exp(-g|tau|) cos(w_0 tau)`` plus
    white background is fitted by the Whittle likelihood (Whittle 1953), with the taper's
    exact effect on the expected periodogram, so the width is not limited by the frequency
    resolution: ``peak_frequency = w_0`` and ``Q = w_0 / (2 g)`` (a Lorentzian line's
    peak frequency over its FWHM);
  - phase diffusion: for an oscillator whose phase diffuses with constant ``D`` (rad^2 per
    time, ``Var phi(t) = 2 D t``) the cycle lengths have ``CV^2 = D T / (2 pi^2)``, the
    autocorrelation envelope decays as ``exp(-D t)`` and ``Q = w_0 / (2 D)`` (Gaspard 2002,
    doi:10.1063/1.1509751; Lorentzian line). Reported: ``phase_diffusion = 2 pi^2 CV^2 / T``,
    ``acf_decay_time = 1 / D`` and ``coherent_cycles = 1 / (D T) = 1 / (2 pi^2 CV^2)``.

  Standard errors are delete-one-run jackknife errors over the ensemble's runs.

Valid when: the LNA answer needs a large system size (Gaussian fluctuations about a stable
focus) and is exact for linear propensities. The SSA answer is exact up to sampling error,
the fitted Q is poorly determined when the correlation time ``2 Q / w_0`` is not short
against a run (rows where it exceeds a third of a run carry a note); raise ``cycles`` for
high-Q oscillators. For a limit cycle at small system size the line is not Lorentzian
(amplitude fluctuations, harmonics), and the spectral Q and the phase-diffusion estimate
``coherent_cycles`` (``Q = pi * coherent_cycles`` for a Lorentzian) differ.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize

from ..errors import NoSteadyState, SimulationError, UnsupportedFeature
from ..network import ReactionNetwork
from ..importer._tellurium import accepts_model

__all__ = ["oscillation", "deterministic_cycle", "lna_spectrum_peak"]

#: columns of the table returned by :func:`oscillation`, in order
COLUMNS = ("period", "period_se", "period_cv", "period_cv_se", "peak_frequency",
           "peak_frequency_se", "q_factor", "q_factor_se", "deterministic_period",
           "deterministic_amplitude", "amplitude_mean", "amplitude_sd", "amplitude_se",
           "acf_decay_time", "acf_decay_time_se", "phase_diffusion", "phase_diffusion_se",
           "coherent_cycles", "coherent_cycles_se", "n_cycles", "method", "note")

SAMPLES_PER_CYCLE = 64
HYSTERESIS = 0.5
#: moving-average width (samples) before crossing detection: 1/8 of a period
SMOOTH = SAMPLES_PER_CYCLE // 8


# =========================================================================== front door
@accepts_model
def oscillation(net: ReactionNetwork, *, method: str = "auto", species=None, runs: int = 16,
                cycles: int = 100, seed=None, workers=None,
                max_events: float = 5e8) -> pd.DataFrame:
    """Period, regularity and spectrum of the oscillations of ``net``, per species.

    Parameters
    ----------
    net : ReactionNetwork
        Counts ``n = Omega x`` (``net.system_size``).
    method : {"auto", "lna", "ssa"}
        ``"auto"``: the LNA when the rate equations have a stable steady state (quasi-cycles
        of a focus; a node gives a row without a peak), else the SSA (a limit cycle).
        ``"lna"`` raises :class:`~sbmlnoise.errors.NoSteadyState` for a limit cycle.
    species : str or list of str, optional
        Species to analyse (default: every species that is not constant).
    runs, cycles : int
        SSA only: number of runs and deterministic periods per recorded run.
    seed : int, optional
        SSA seed (``sn.ssa`` convention).
    workers : int, optional
        SSA threads.
    max_events : float
        SSA only: refuse (``SimulationError``) when the planned runs would fire more
        events than this (estimated from the rate equations along the cycle).

    Returns
    -------
    pandas.DataFrame
        Indexed by species id, columns :data:`COLUMNS`: ``period`` (model time units;
        LNA: ``2 pi / peak_frequency``; SSA: mean cycle length), ``period_cv``
        (SSA), ``peak_frequency`` (rad per time unit), ``q_factor`` (dimensionless),
        ``deterministic_period`` (limit cycle: of the rate equations; focus: the damped
        period ``2 pi / |Im lambda|``), ``deterministic_amplitude`` and ``amplitude_mean``
        / ``amplitude_sd`` (counts; half peak-to-trough; LNA: Rayleigh envelope of a
        narrow-band Gaussian, ``sigma sqrt(pi/2)`` and ``sigma sqrt(2 - pi/2)``),
        ``acf_decay_time`` (time), ``phase_diffusion`` (rad^2 / time),
        ``coherent_cycles``, ``n_cycles`` (cycles counted), ``method`` and ``note``;
        ``*_se`` are standard errors (NaN where exact). ``attrs["settings"]`` records
        the window, seed and sizes; ``attrs["spectra"]`` maps species to
        ``{"omega", "psd", "psd_se", "fit"}`` (the LNA spectrum, or the run-averaged
        periodogram up to 4 peak frequencies with its standard error and the fitted
        ``omega0``/``gamma``) and ``attrs["cycle_lengths"]`` species to the SSA cycle
        lengths (for histograms; :mod:`sbmlnoise.report._osc_figures` draws both).

    Raises
    ------
    NoSteadyState
        ``method="lna"`` without a stable steady state; ``"auto"``/``"ssa"`` when the
        rate equations neither reach a steady state nor a periodic orbit.
    UnsupportedFeature
        Models with events or time-dependent rates, or that the SSA refuses.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load('''model focus
    ...   => X; 100; X => ; X; X => ; 2*Y; => Y; 2*X; Y => ; Y
    ...   X = 20; Y = 40
    ... end''')
    >>> table = sn.oscillation(net, method="lna")
    >>> bool(table.loc["X", "q_factor"] > 0)
    True
    """
    if method not in ("auto", "lna", "ssa"):
        raise ValueError(f"oscillation: unknown method {method!r}; use 'auto', 'lna' or 'ssa'")
    ids = _species(net, species)
    if net.events or net.is_time_dependent:
        raise UnsupportedFeature(
            f"oscillation: model '{net.id}' has "
            f"{'events' if net.events else 'time-dependent rates'}, so its rate equations "
            "have no fixed point or autonomous cycle to analyse; use sn.time_course_noise "
            "(SSA statistics over time)", element=net.events[0].id if net.events else None,
            feature="Event" if net.events else "csymbol time")
    fixed = _fixed_point(net)
    if method == "lna" or (method == "auto" and fixed["stable"]):
        if not fixed["stable"]:
            raise NoSteadyState(f"oscillation: model '{net.id}' has no stable steady state "
                                f"({fixed['reason']}); use method='ssa' for a limit cycle",
                                unstable=True, eigenvalues=fixed.get("eigenvalues"))
        return _lna_table(net, ids)
    return _ssa_table(net, ids, fixed, runs=int(runs), cycles=int(cycles), seed=seed,
                      workers=workers, max_events=float(max_events))


# =========================================================================== helpers
def _species(net: ReactionNetwork, species) -> list[str]:
    if species is None:
        return [s.id for i, s in enumerate(net.species)
                if not (s.boundary or s.constant) and np.any(net.stoichiometry[i])]
    ids = [species] if isinstance(species, str) else list(species)
    for s in ids:
        if s not in net.species_ids:
            raise KeyError(f"oscillation: no species '{s}' in model '{net.id}'")
    return ids


def _fixed_point(net: ReactionNetwork) -> dict:
    from ..ode import steady_state

    if net.events:
        return {"stable": False, "reason": "the model has events", "state": None}
    try:
        ss = steady_state(net)
    except NoSteadyState as err:
        return {"stable": False, "reason": str(err), "state": None,
                "eigenvalues": getattr(err, "eigenvalues", None)}
    except UnsupportedFeature as err:
        return {"stable": False, "reason": str(err), "state": None}
    return {"stable": True, "state": ss.to_numpy(float), "eigenvalues": ss.attrs["eigenvalues"],
            "reason": ""}


def _empty_row(method: str, note: str = "") -> dict:
    row: dict = {c: math.nan for c in COLUMNS}
    row.update(method=method, note=note, n_cycles=0)
    return row


def _frame(rows: dict, settings: dict) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index")[list(COLUMNS)]
    frame.index.name = "species"
    frame["n_cycles"] = frame["n_cycles"].astype(int)
    frame.attrs["settings"] = settings
    return frame


# =========================================================================== LNA
def lna_spectrum_peak(psd, omega_scale: float) -> dict:
    """Peak of a two-sided spectrum ``psd(w)`` (callable on arrays) over ``w > 0``.

    Searches a grid up to ``20 * omega_scale`` (log- and linearly spaced), refines the
    maximum with a bounded scalar search and finds the half-maximum points by Brent's
    method.

    Returns
    -------
    dict
        ``peak_frequency`` (NaN when the maximum is at ``w = 0``: no peak), ``peak``
        (value), ``q_factor = peak_frequency / FWHM`` and ``fwhm``; when the spectrum
        never falls to half the peak below ``w_p`` (a broad peak), the width is
        ``2 (w_right - w_p)`` and ``note`` says so.
    """
    scale = max(float(omega_scale), 1e-300)
    grid = np.unique(np.concatenate([np.geomspace(1e-4 * scale, 20 * scale, 1500),
                                     np.linspace(0, 20 * scale, 1500)]))
    vals = np.asarray(psd(grid), dtype=float)
    k = int(np.argmax(vals))
    out = {"peak_frequency": math.nan, "peak": float(vals[0]), "q_factor": math.nan,
           "fwhm": math.nan, "note": ""}
    if k == 0 or k == len(grid) - 1 or vals[k] <= vals[0] * (1 + 1e-9):
        out["note"] = "no spectral peak at w > 0 (monotone spectrum: no quasi-cycles)"
        return out
    res = optimize.minimize_scalar(lambda w: -float(psd(np.array([w]))[0]),
                                   bounds=(grid[k - 1], grid[k + 1]), method="bounded",
                                   options={"xatol": 1e-12 * scale})
    w_p = float(res.x)
    peak = -float(res.fun)
    half = lambda w: float(psd(np.array([w]))[0]) - 0.5 * peak  # noqa: E731
    hi = w_p
    while half(hi) > 0:
        hi = 2 * hi
        if hi > 1e6 * scale:
            out["note"] = "spectrum does not fall to half its peak"
            return out
    right = optimize.brentq(half, w_p, hi, xtol=1e-13 * scale)
    if half(0.0) < 0:
        left = optimize.brentq(half, 0.0, w_p, xtol=1e-13 * scale)
        width = right - left
    else:
        width = 2 * (right - w_p)
        out["note"] = ("broad peak: S(0) exceeds half the peak, width taken as "
                       "2 (w_right - w_p)")
    out.update(peak_frequency=w_p, peak=peak, fwhm=width, q_factor=w_p / width)
    return out


def _lna_table(net: ReactionNetwork, ids: list[str]) -> pd.DataFrame:
    from ..lna import lna

    st = lna(net, emre=False)
    eig = np.asarray(st.extra["eigenvalues"])
    osc = eig[np.abs(eig.imag) > 1e-12 * max(1.0, float(np.max(np.abs(eig))))] \
        if eig.size else eig
    scale = float(np.max(np.abs(eig))) if eig.size else 1.0
    det_period = decay = math.nan
    if osc.size:
        slowest = osc[np.argmax(osc.real)]
        det_period = 2 * math.pi / abs(slowest.imag)
        decay = 1.0 / abs(slowest.real)
    rows = {}
    spectra = {}
    for sid in ids:
        row = _empty_row("lna")
        var = float(st.variance[sid])
        if var <= 0:
            row["note"] = "no fluctuations (zero LNA variance)"
            rows[sid] = row
            continue
        peak = lna_spectrum_peak(lambda w, s=sid: st.psd_function(s, w), scale)
        row["note"] = peak["note"]
        row["deterministic_period"] = det_period
        if math.isfinite(peak["peak_frequency"]):
            sigma = math.sqrt(var)
            w_p = peak["peak_frequency"]
            row.update(peak_frequency=w_p, period=2 * math.pi / w_p, q_factor=peak["q_factor"],
                       acf_decay_time=decay,
                       amplitude_mean=sigma * math.sqrt(math.pi / 2),
                       amplitude_sd=sigma * math.sqrt(2 - math.pi / 2))
            if math.isfinite(decay):
                row["phase_diffusion"] = 1.0 / decay
                row["coherent_cycles"] = decay / row["period"]
        top = 4 * (peak["peak_frequency"] if math.isfinite(peak["peak_frequency"]) else scale)
        grid = np.linspace(0.0, top, 400)
        spectra[sid] = {"omega": grid, "psd": np.asarray(st.psd_function(sid, grid)),
                        "psd_se": None, "fit": None}
        rows[sid] = row
    settings = {"method": "lna", "system_size": float(net.system_size),
                "eigenvalues": [complex(e) for e in eig],
                "spectrum": "two-sided S(w) = (J - i w)^-1 D (J^T + i w)^-1, counts^2 time"}
    frame = _frame(rows, settings)
    frame.attrs["spectra"] = spectra
    frame.attrs["cycle_lengths"] = {}
    return frame


# =========================================================================== rate equations
def _crossings(t: np.ndarray, x: np.ndarray, mid: float, lower: float, upper: float):
    """Upward crossing times of ``mid`` with hysteresis (Schmitt trigger).

    A crossing counts when the path has been below ``lower`` since the previous counted
    crossing and then rises above ``upper``; its time is the linearly interpolated last
    upward crossing of ``mid`` before reaching ``upper``. Returns (times, indices of the
    sample at which ``upper`` was reached)."""
    below = x < lower
    above = x > upper
    out_t, out_k = [], []
    armed = False
    last_mid = None
    for k in range(1, x.size):  # pure Python on ~1e4 samples per run: fast enough
        if below[k]:
            armed = True
            last_mid = None
            continue
        if x[k - 1] < mid <= x[k]:
            frac = (mid - x[k - 1]) / (x[k] - x[k - 1])
            last_mid = t[k - 1] + frac * (t[k] - t[k - 1])
        if armed and above[k]:
            out_t.append(last_mid if last_mid is not None else t[k])
            out_k.append(k)
            armed = False
    return np.asarray(out_t), np.asarray(out_k, dtype=np.intp)


def deterministic_cycle(net: ReactionNetwork, period_guess: float | None = None, *,
                        max_periods: int = 200, rtol: float = 1e-10) -> dict:
    """Period and amplitude of the rate equations' periodic orbit reached from the
    initial state.

    The equations are integrated (LSODA, ``rtol``) for growing spans of up to
    ``max_periods`` times ``period_guess`` (default: ``2 pi / |Im lambda|`` of the
    Jacobian at the initial state, else 1); the period is the mean of the last five
    intervals between upward crossings of the mean of the last half, once five successive
    intervals agree to ``1e-6`` relative.

    Returns
    -------
    dict
        ``period`` (time units, NaN when no sustained oscillation is found), ``amplitude``
        and ``mean`` (arrays over species, counts: half peak-to-trough and time average
        over the last cycle), ``state`` (amounts on the cycle), ``t_settle`` (time at which
        the orbit was reached) and ``converged``.
    """
    from scipy.integrate import solve_ivp

    from ..ode._solve import _rhs, default_atol

    omega = float(net.system_size)
    x = net.initial_amounts.astype(float)
    x = _off_fixed_point(net, x)
    if period_guess is None or not math.isfinite(period_guess) or period_guess <= 0:
        period_guess = _period_guess(net, x)
    f, jac = _rhs(net)
    kwargs = {"jac": jac} if jac is not None else {}
    atol = default_atol(net, rtol)
    span = 50 * period_guess
    t_now = 0.0
    while True:
        times = np.linspace(t_now, t_now + span, int(span / period_guess * 200) + 1)
        sol = solve_ivp(f, (t_now, t_now + span), x, method="LSODA", t_eval=times,
                        rtol=rtol, atol=atol, dense_output=True, **kwargs)
        if not sol.success or not np.all(np.isfinite(sol.y)):
            raise SimulationError(f"oscillation: integrating the rate equations of model "
                                  f"'{net.id}' failed: {sol.message}")
        amounts = sol.y.T
        half = amounts[amounts.shape[0] // 2:]
        th = times[times.size // 2:]
        rng = half.max(axis=0) - half.min(axis=0)
        i = int(np.argmax(rng / np.maximum(np.abs(half).mean(axis=0), 1e-300)))
        xi = half[:, i]
        mid = float(xi.mean())
        band = 0.1 * float(rng[i])
        tc, kc = _crossings(th, xi, mid, mid - band, mid + band)
        tc = np.array([_refine(sol.sol, i, mid, t, th) for t in tc])
        if tc.size >= 7 and rng[i] > 1e-6 * max(abs(mid), 1e-300):
            d = np.diff(tc)[-5:]
            if np.ptp(d) <= 1e-6 * d.mean():
                last = (th >= tc[-2]) & (th <= tc[-1])
                cyc = half[last]
                with np.errstate(all="ignore"):
                    flux = float(np.mean([np.sum(np.abs(net.rates(y))) for y in cyc]))
                return {"period": float(d.mean()), "event_rate": omega * flux,
                        "amplitude": omega * (cyc.max(axis=0) - cyc.min(axis=0)) / 2,
                        "mean": omega * cyc.mean(axis=0), "state": half[-1],
                        "t_settle": float(th[0]), "converged": True}
        t_now += span
        x = amounts[-1]
        if t_now >= max_periods * period_guess:
            return {"period": math.nan, "amplitude": np.zeros(net.n_species),
                    "mean": omega * x, "state": x, "t_settle": t_now, "converged": False,
                    "event_rate": math.nan}
        span = 2 * span


def _off_fixed_point(net: ReactionNetwork, x: np.ndarray) -> np.ndarray:
    """``x``, or ``x`` moved by 1% along the species with the largest amount when the rate
    equations are (numerically) at rest there: an unstable fixed point would otherwise
    never be left."""
    with np.errstate(all="ignore"):
        v = net.rates(x)
        drift = np.asarray(net.stoichiometry) @ v
    scale = max(float(np.max(np.abs(v))) if v.size else 0.0, 1e-300)
    if float(np.max(np.abs(drift))) > 1e-9 * scale:
        return x
    y = x.copy()
    ind = list(net.independent_species)
    k = ind[int(np.argmax(x[ind]))] if ind else 0
    y[k] = x[k] * 1.01 if x[k] > 0 else 1e-3 * max(float(np.max(x)), 1.0)
    return y


def _refine(dense, i: int, level: float, t: float, grid: np.ndarray) -> float:
    """The crossing of ``level`` by component ``i`` of a dense ODE solution in the grid
    interval around ``t`` (Brent's method), or ``t`` when it is not bracketed."""
    k = int(np.clip(np.searchsorted(grid, t), 1, grid.size - 1))
    a, b = grid[k - 1], grid[k]
    g = lambda s: float(dense(s)[i]) - level  # noqa: E731
    if g(a) * g(b) > 0:
        return t
    return float(optimize.brentq(g, a, b, xtol=1e-14 * max(abs(b), 1.0)))


def _period_guess(net: ReactionNetwork, x: np.ndarray) -> float:
    ind = list(net.independent_species)
    if not ind:
        return 1.0
    with np.errstate(all="ignore"):
        jac = (np.asarray(net.stoichiometry) @ net.rate_jacobian(x))[ind] @ net.link_matrix
    try:
        eig = np.linalg.eigvals(jac)
    except np.linalg.LinAlgError:
        return 1.0
    eig = eig[np.isfinite(eig)]
    if eig.size and np.max(np.abs(eig.imag)) > 0:
        return float(2 * math.pi / np.max(np.abs(eig.imag)))
    if eig.size and np.max(np.abs(eig)) > 0:
        return float(2 * math.pi / np.max(np.abs(eig)))
    return 1.0


# =========================================================================== SSA
def _ssa_window(net: ReactionNetwork, fixed: dict) -> dict:
    """Period, burn-in and event rate for the SSA from the model's own time scales."""
    omega = float(net.system_size)
    if fixed["stable"]:
        eig = np.asarray(fixed["eigenvalues"])
        x = fixed["state"]
        re = np.abs(eig.real[np.abs(eig.real) > 0]) if eig.size else np.array([1.0])
        im = np.abs(eig.imag)
        relax = float(1.0 / re.min()) if re.size else 1.0
        if im.size and im.max() > 0:
            slow = eig[im > 0][np.argmax(eig[im > 0].real)]
            period = 2 * math.pi / abs(slow.imag)
        else:
            period = 2 * math.pi * relax
        with np.errstate(all="ignore"):
            rate = omega * float(np.sum(np.abs(net.rates(x))))
        return {"period": period, "deterministic_period": math.nan if not im.max() > 0
                else period, "burn_in": 5 * max(relax, period), "event_rate": rate,
                "amplitude": np.full(net.n_species, math.nan), "kind": "focus"}
    cyc = deterministic_cycle(net)
    if not cyc["converged"]:
        raise NoSteadyState(f"oscillation: the rate equations of model '{net.id}' reach "
                            f"neither a stable steady state ({fixed['reason']}) nor a "
                            f"periodic orbit by t={cyc['t_settle']:g}; use sn.ssa for "
                            "time-dependent statistics")
    period = cyc["period"]
    return {"period": period, "deterministic_period": period,
            "burn_in": min(cyc["t_settle"], 10 * period) + 3 * period,
            "event_rate": cyc["event_rate"], "amplitude": cyc["amplitude"],
            "kind": "limit cycle"}


def _jackknife(values) -> float:
    """Delete-one jackknife standard error from the leave-one-out estimates."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    r = values.size
    if r < 2:
        return math.nan
    return float(math.sqrt((r - 1) / r * np.sum((values - values.mean()) ** 2)))


def _cycle_sums(t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cycle lengths and amplitudes (half peak-to-trough) of one sampled path.

    Crossings are detected on the path smoothed by a centred moving average over
    ``SMOOTH`` samples (an eighth of a period): a time-invariant filter shifts every
    crossing by the same delay, so cycle lengths are unchanged on average, but the jitter
    of low-count species no longer produces spurious cycles. Amplitudes use the raw path.
    """
    sd = float(x.std())
    if sd <= 0:
        return np.zeros(0), np.zeros(0)
    kernel = np.ones(SMOOTH) / SMOOTH
    xs = np.convolve(x, kernel, mode="same")
    xs[:SMOOTH // 2] = xs[SMOOTH // 2]  # edges: no zero padding artefacts
    xs[-(SMOOTH // 2):] = xs[-(SMOOTH // 2) - 1]
    mid = float(xs.mean())
    sds = float(xs.std())
    if sds <= 0:
        return np.zeros(0), np.zeros(0)
    tc, _ = _crossings(t, xs, mid, mid - HYSTERESIS * sds, mid + HYSTERESIS * sds)
    if tc.size < 2:
        return np.zeros(0), np.zeros(0)
    edges = np.searchsorted(t, tc)
    amps = np.array([(x[a:b + 1].max() - x[a:b + 1].min()) / 2
                     for a, b in zip(edges[:-1], edges[1:])])
    return np.diff(tc), amps


def _cycle_estimates(n, s1, s2) -> tuple[float, float]:
    if n < 2:
        return math.nan, math.nan
    mean = s1 / n
    var = max(s2 / n - mean ** 2, 0.0) * n / (n - 1)
    return mean, math.sqrt(var) / mean


def _periodograms(x: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Hann-windowed periodograms of each run (rows of ``x``), two-sided convention
    ``E P(w) ~ S(w)`` (counts^2 time), at ``w_k = 2 pi k / (N dt)``."""
    n = x.shape[1]
    w = np.hanning(n)
    y = (x - x.mean(axis=1, keepdims=True)) * w
    p = dt / np.sum(w ** 2) * np.abs(np.fft.rfft(y, axis=1)) ** 2
    return 2 * math.pi * np.fft.rfftfreq(n, dt), p


def _spectral_peak(omegas: np.ndarray, s: np.ndarray, lo: float, hi: float) -> tuple:
    """Peak frequency (parabolic refinement of log S) and Q = w_p / FWHM (linear
    interpolation of the half-maximum points) of a sampled spectrum in [lo, hi]."""
    sel = np.nonzero((omegas >= lo) & (omegas <= hi))[0]
    if sel.size < 3 or not np.all(np.isfinite(s[sel])):
        return math.nan, math.nan
    k = int(sel[np.argmax(s[sel])])
    if k <= 0 or k >= s.size - 1 or s[k] <= 0:
        return math.nan, math.nan
    la, lb, lc = np.log(np.maximum(s[k - 1:k + 2], 1e-300))
    denom = la - 2 * lb + lc
    shift = 0.5 * (la - lc) / denom if denom < 0 else 0.0
    dw = omegas[1] - omegas[0]
    w_p = omegas[k] + float(np.clip(shift, -0.5, 0.5)) * dw
    peak = float(np.exp(lb - 0.25 * (la - lc) * shift))
    half = 0.5 * peak
    j = k
    while j < s.size - 1 and s[j] > half:
        j += 1
    if s[j] > half:
        return w_p, math.nan
    right = omegas[j - 1] + (s[j - 1] - half) / (s[j - 1] - s[j]) * dw
    j = k
    while j > 0 and s[j] > half:
        j -= 1
    if s[j] > half:
        return w_p, math.nan
    left = omegas[j] + (half - s[j]) / (s[j + 1] - s[j]) * dw
    return w_p, w_p / (right - left)


def _lag_window(n: int) -> np.ndarray:
    """``v(m) = sum_t w_t w_{t+m} / sum_t w_t^2`` for the Hann taper, lags ``m = 0..n-1``."""
    w = np.hanning(n)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(w, size)
    return np.fft.irfft(np.abs(f) ** 2, size)[:n] / np.sum(w ** 2)


def _expected_periodogram(params, lagwin: np.ndarray, dt: float, k: np.ndarray) -> np.ndarray:
    """E P(w_k) of a damped-oscillation ACF ``C(tau) = a exp(-g|tau|) cos(w0 tau)`` plus
    white noise ``b`` (spectrum level), under the Hann taper: ``dt sum_m v(m) C(m dt)
    exp(-i w_k m dt)`` over ``|m| < N``."""
    a, w0, g, b = params
    n = lagwin.size
    tau = dt * np.arange(n)
    c = a * np.exp(-g * tau) * np.cos(w0 * tau) * lagwin
    size = 2 * n
    spec = 2 * np.fft.rfft(c, size).real - c[0]
    return dt * spec[2 * k] + b


def _whittle_fit(omegas: np.ndarray, pbar: np.ndarray, runs: int, dt: float, w_p: float,
                 width: float, lagwin: np.ndarray):
    """Fit the damped-oscillation line (:func:`_expected_periodogram`) to the run-averaged
    periodogram on ``w_p +/- max(8 width, 8 bins)`` by the Whittle likelihood
    (``sum log M + P/M``; Whittle 1953). Returns (w0, gamma) or NaNs."""
    dw = omegas[1] - omegas[0]
    half_band = max(8 * width, 8 * dw)
    k = np.nonzero((omegas > max(w_p - half_band, dw)) & (omegas < w_p + half_band))[0]
    if k.size < 6:
        return math.nan, math.nan
    g0 = max(width / 2, dw / 4)
    peak = float(np.max(pbar[k]))
    b0 = max(float(np.min(pbar[k])), 1e-12 * peak)

    def nll(z: np.ndarray) -> float:
        a, w0, g, b = np.exp(z)
        m = _expected_periodogram((a, w0, g, b), lagwin, dt, k)
        if np.any(m <= 0) or not np.all(np.isfinite(m)):
            return 1e300
        return float(np.sum(np.log(m) + pbar[k] / m))

    # scale a so that the model peak matches the data peak before fitting
    m0 = _expected_periodogram((1.0, w_p, g0, 0.0), lagwin, dt, k)
    a0 = max(peak - b0, 1e-12 * peak) / max(float(np.max(m0)), 1e-300)
    z0 = np.log([a0, w_p, g0, b0])
    res = optimize.minimize(nll, z0, method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000})
    a, w0, g, b = np.exp(res.x)
    if not res.success and res.status != 2:
        return math.nan, math.nan
    return float(w0), float(g)


def _ssa_table(net: ReactionNetwork, ids: list[str], fixed: dict, *, runs: int, cycles: int,
               seed, workers, max_events: float) -> pd.DataFrame:
    from ..ssa import ssa

    if runs < 2:
        raise ValueError("oscillation: runs must be >= 2 (standard errors need two runs)")
    if cycles < 10:
        raise ValueError("oscillation: cycles must be >= 10")
    win = _ssa_window(net, fixed)
    period, burn = win["period"], win["burn_in"]
    dt = period / SAMPLES_PER_CYCLE
    n_t = cycles * SAMPLES_PER_CYCLE
    planned = runs * (burn + n_t * dt) * win["event_rate"]
    if planned > max_events:
        raise SimulationError(f"oscillation: model '{net.id}' would need about {planned:.3g} "
                              f"SSA events ({runs} runs of {burn + n_t * dt:.4g} time units at "
                              f"{win['event_rate']:.3g} events per unit time), more than "
                              f"max_events={max_events:.3g}; lower runs/cycles, raise "
                              "max_events, or use the LNA at a smaller system size")
    times = burn + dt * np.arange(n_t)
    ens = ssa(net, times=times, runs=runs, seed=seed, workers=workers, keep_trajectories=runs)
    traj = ens.trajectories  # (runs, n_t, S)
    rows, spectra, lengths = {}, {}, {}
    for sid in ids:
        rows[sid] = _ssa_row(traj[:, :, net.index(sid)], times, dt, win, net.index(sid))
        spectra[sid] = rows[sid].pop("_spectrum")
        lengths[sid] = rows[sid].pop("_cycle_lengths")
        rows[sid]["method"] = "ssa"
        if win["kind"] == "focus":
            rows[sid]["note"] = ("quasi-cycles about a stable focus; " + rows[sid]["note"]
                                 ).strip("; ")
    settings = {"method": "ssa", "kind": win["kind"], "runs": runs, "cycles": cycles,
                "burn_in": burn, "dt": dt, "t_end": float(times[-1]),
                "window_period": period, "seed": ens.settings.get("seed"),
                "seed_entropy": ens.settings.get("seed_entropy"),
                "events": ens.settings.get("events"), "system_size": float(net.system_size),
                "hysteresis_sd": HYSTERESIS, "spectrum": "run-averaged Hann periodogram, "
                "two-sided, counts^2 time", "stderr": "delete-one-run jackknife"}
    frame = _frame(rows, settings)
    frame.attrs["spectra"] = spectra
    frame.attrs["cycle_lengths"] = lengths
    return frame


def _ssa_row(x: np.ndarray, times: np.ndarray, dt: float, win: dict, i: int) -> dict:
    runs, n_t = x.shape
    row = _empty_row("ssa")
    row["deterministic_period"] = win["deterministic_period"]
    row["deterministic_amplitude"] = float(win["amplitude"][i])
    per_run = [_cycle_sums(times, x[r]) for r in range(runs)]
    n = np.array([d.size for d, _ in per_run], dtype=float)
    s1 = np.array([d.sum() for d, _ in per_run])
    s2 = np.array([(d ** 2).sum() for d, _ in per_run])
    amps = [a for _, a in per_run]
    row["_cycle_lengths"] = np.concatenate([d for d, _ in per_run])
    total = n.sum()
    row["n_cycles"] = int(total)
    if total >= 2:
        period, cv = _cycle_estimates(total, s1.sum(), s2.sum())
        loo = [_cycle_estimates(total - n[r], s1.sum() - s1[r], s2.sum() - s2[r])
               for r in range(runs)]
        all_amps = np.concatenate(amps)
        amp_loo = [np.concatenate([a for q, a in enumerate(amps) if q != r]).mean()
                   if total - n[r] > 0 else math.nan for r in range(runs)]
        row.update(period=period, period_se=_jackknife([p for p, _ in loo]), period_cv=cv,
                   period_cv_se=_jackknife([c for _, c in loo]),
                   amplitude_mean=float(all_amps.mean()), amplitude_sd=float(all_amps.std(ddof=1))
                   if all_amps.size > 1 else math.nan, amplitude_se=_jackknife(amp_loo))
        diff = lambda p, c: 2 * math.pi ** 2 * c ** 2 / p  # noqa: E731
        row["phase_diffusion"] = diff(period, cv)
        row["phase_diffusion_se"] = _jackknife([diff(p, c) for p, c in loo])
        row["acf_decay_time"] = 1 / row["phase_diffusion"]
        row["acf_decay_time_se"] = _jackknife([1 / diff(p, c) for p, c in loo])
        row["coherent_cycles"] = 1 / (2 * math.pi ** 2 * cv ** 2)
        row["coherent_cycles_se"] = _jackknife([1 / (2 * math.pi ** 2 * c ** 2)
                                                for _, c in loo])
    omegas, p = _periodograms(x, dt)
    w0 = 2 * math.pi / (row["period"] if math.isfinite(row["period"]) else win["period"])
    lo, hi = w0 / 3, 3 * w0
    pbar = p.mean(axis=0)
    keep = omegas <= 4 * w0
    row["_spectrum"] = {"omega": omegas[keep], "psd": pbar[keep],
                        "psd_se": p.std(axis=0, ddof=1)[keep] / math.sqrt(runs), "fit": None}
    w_p, q_raw = _spectral_peak(omegas, pbar, lo, hi)
    if math.isfinite(w_p):
        width = w_p / q_raw if math.isfinite(q_raw) else w_p / 5
        lagwin = _lag_window(n_t)
        fit = _whittle_fit(omegas, pbar, runs, dt, w_p, width, lagwin)
        loo = [_whittle_fit(omegas, (p.sum(axis=0) - p[r]) / (runs - 1), runs - 1, dt, w_p,
                            width, lagwin) for r in range(runs)]
        if math.isfinite(fit[0]):
            row["_spectrum"]["fit"] = {"omega0": fit[0], "gamma": fit[1]}
        row.update(peak_frequency=fit[0], peak_frequency_se=_jackknife([a for a, _ in loo]),
                   q_factor=fit[0] / (2 * fit[1]),
                   q_factor_se=_jackknife([a / (2 * g) for a, g in loo]))
    q = row["q_factor"]
    span = n_t * dt
    if math.isfinite(q) and 2 * q / row["peak_frequency"] > span / 3:
        row["note"] = (f"the fitted correlation time 2Q/w_p = {2 * q / row['peak_frequency']:.3g} "
                       f"exceeds a third of the run length ({span:.3g}): Q is poorly resolved, "
                       "raise cycles")
    return row
