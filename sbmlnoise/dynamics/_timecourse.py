"""Time-dependent noise: SSA ensemble statistics over time beside the rate equations and
the time-dependent LNA.

:func:`time_course_noise` is the noise answer for models that do not settle to one
stable fixed point (oscillators, transients, models with events or time-dependent rates)
and for anyone asking how noise evolves from the initial state.

Estimators (counts; ``R`` runs started from the model's initial state):

* ``mean``, ``sd`` (``ddof=1``), ``cv = sd / mean``, ``fano = variance / mean`` and the
  covariance matrices at each output time, over the runs;
* standard errors by the delete-a-group jackknife (runs split into ``G = min(20, R)``
  groups; Efron & Stein 1981): valid for any count distribution (no normality assumed),
  for ``R`` of at least a few tens;
* the rate equations' trajectory (counts ``Omega x(t)``) and, where the model allows it,
  the time-dependent LNA (:func:`sbmlnoise.lna` with ``t=times``; mean = rate equations,
  covariance from ``dS/dt = J S + S J^T + D``, zero at t = 0).

Where the LNA stops being valid: the system-size expansion assumes fluctuations small
against the mean. ``lna_valid`` is False at a time where, for some species whose LNA mean
exceeds one molecule, the LNA standard deviation exceeds ``LNA_CV_LIMIT`` (0.5) times its
mean; for an oscillator this happens once the phase of the runs has diffused (the LNA
variance grows without bound along a limit cycle: the runs dephase), for a bistable
switch when the linearisation cannot follow the jump. ``lna_valid_until`` is the last
output time before the first such time. Species with fewer than one molecule on average
(a single gene copy) are outside the LNA from the start and are not counted by this rule;
the SSA columns are exact for them. With only zero- and first-order propensities the LNA
mean and covariance are exact at all times (the moment equations close) and
``lna_valid`` is True throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import NoSteadyState, SbmlnoiseError, SimulationError, UnsupportedFeature
from ..network import ReactionNetwork
from ..importer._tellurium import accepts_model

__all__ = ["time_course_noise", "TimeCourseNoise", "default_time_window"]

LNA_CV_LIMIT = 0.5
#: largest runs x times x species kept in memory for the jackknife
MAX_VALUES = 4 * 10**7


@dataclass(frozen=True, eq=False)
class TimeCourseNoise:
    """Noise statistics over time (counts), from an SSA ensemble.

    Attributes
    ----------
    times : ndarray, shape (T,)
    mean, sd, cv, fano : pandas.DataFrame
        Index ``time``, columns species (``cv``/``fano`` NaN where the mean is 0).
    covariance : pandas.DataFrame
        Rows MultiIndex ``(time, species)``, columns species (counts^2).
    stderr : dict of str -> pandas.DataFrame
        Jackknife standard errors of ``"mean"``, ``"sd"``, ``"cv"``, ``"fano"``.
    ode : pandas.DataFrame or None
        Rate-equation trajectory in counts (time x species).
    lna_sd : pandas.DataFrame or None
        Time-dependent LNA standard deviations (counts); ``None`` when the LNA does not
        apply (events; reason in ``settings["lna"]``).
    lna_valid : pandas.Series or None
        Per time: fluctuations small enough for the LNA (see the module docstring).
    lna_valid_until : float or None
    trajectories : ndarray, shape (k, T, S)
        A few sample runs.
    settings : dict
        Runs, seed, window and how it was chosen, groups, LNA status.
    method : str
        ``"ssa"``.
    """

    times: np.ndarray
    mean: pd.DataFrame
    sd: pd.DataFrame
    cv: pd.DataFrame
    fano: pd.DataFrame
    covariance: pd.DataFrame
    stderr: dict
    ode: pd.DataFrame | None
    lna_sd: pd.DataFrame | None
    lna_valid: pd.Series | None
    lna_valid_until: float | None
    trajectories: np.ndarray
    settings: dict = field(default_factory=dict)
    method: str = "ssa"

    @property
    def variance(self) -> pd.DataFrame:
        return self.sd ** 2

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per (time, species) with every statistic and its error."""
        parts = {"mean": self.mean, "mean_se": self.stderr["mean"], "sd": self.sd,
                 "sd_se": self.stderr["sd"], "cv": self.cv, "cv_se": self.stderr["cv"],
                 "fano": self.fano, "fano_se": self.stderr["fano"]}
        if self.ode is not None:
            parts["ode_mean"] = self.ode
        if self.lna_sd is not None:
            parts["lna_sd"] = self.lna_sd
        frame = pd.concat({k: v.stack() for k, v in parts.items()}, axis=1)
        frame.index.names = ["time", "species"]
        return frame

    def __repr__(self) -> str:
        return (f"<TimeCourseNoise {self.settings.get('runs')} runs, {len(self.times)} times "
                f"in [{self.times[0]:g}, {self.times[-1]:g}], {self.mean.shape[1]} species>")


def default_time_window(net: ReactionNetwork) -> tuple[float, str]:
    """End time for a time-course from the model's own time scales, and why.

    * a stable steady state: 5 times the slowest relaxation time ``1/|Re lambda|`` there
      (the transient is over to ``e^-5``);
    * an unstable steady state (oscillator): 10 periods ``2 pi / |Im lambda|`` of its
      leading complex pair, or 10 relaxation times;
    * otherwise (events, time-dependent rates, no steady state): 5 times the slowest
      relaxation time of the Jacobian at the initial state (1 if none).
    """
    from ..ode import steady_state

    def relax(x: np.ndarray) -> tuple[float | None, float | None]:
        ind = list(net.independent_species)
        if not ind or net.n_reactions == 0:
            return None, None
        with np.errstate(all="ignore"):
            jac = (np.asarray(net.stoichiometry) @ net.rate_jacobian(x))[ind] @ net.link_matrix
        try:
            eig = np.linalg.eigvals(jac)
        except (np.linalg.LinAlgError, ValueError):
            return None, None
        eig = eig[np.isfinite(eig)]
        re = np.abs(eig.real)
        keep = re > 1e-12 * max(float(np.max(np.abs(eig))) if eig.size else 0.0, 1e-300)
        slow = float(1 / re[keep].min()) if np.any(keep) else None
        im = np.abs(eig.imag)
        period = float(2 * math.pi / im.max()) if im.size and im.max() > 0 else None
        return slow, period

    try:
        if net.events or net.is_time_dependent:
            raise UnsupportedFeature("no steady state")
        ss = steady_state(net)
        slow, _ = relax(ss.to_numpy(float))
        if slow:
            return 5 * slow, "5 x the slowest relaxation time at the stable steady state"
    except NoSteadyState as err:
        eig = getattr(err, "eigenvalues", None)
        if eig is not None and np.size(eig):
            eig = np.asarray(eig)
            im = np.abs(eig.imag)
            if im.max() > 0:
                return (10 * 2 * math.pi / float(im.max()),
                        "10 periods of the leading complex eigenvalue pair at the unstable "
                        "steady state")
            return (10 / float(np.abs(eig.real).max()),
                    "10 relaxation times at the unstable steady state")
    except (UnsupportedFeature, SbmlnoiseError):
        pass
    slow, _ = relax(net.initial_amounts.astype(float))
    return (5 * slow if slow else 1.0,
            "5 x the slowest relaxation time at the initial state" if slow else
            "no time scale found: t_end = 1")


def _group_jackknife(x: np.ndarray, groups: int, stat):
    """``stat(x)`` and its delete-a-group jackknife standard error; ``x`` has runs on
    axis 0."""
    full = stat(x)
    r = x.shape[0]
    g = min(groups, r)
    edges = np.linspace(0, r, g + 1).astype(int)
    loo = np.array([stat(np.concatenate([x[:edges[k]], x[edges[k + 1]:]]))
                    for k in range(g)])
    with np.errstate(invalid="ignore"):
        se = np.sqrt((g - 1) / g * np.nansum((loo - loo.mean(axis=0)) ** 2, axis=0))
    return full, se


def _moments(x: np.ndarray):
    m = x.mean(axis=0)
    v = x.var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(m != 0, np.sqrt(v) / m, np.nan)
        fano = np.where(m != 0, v / m, np.nan)
    return np.stack([m, np.sqrt(v), cv, fano])


#: runs an ensemble stopped by an analysis' wall time must have finished to be kept
#: (delete-a-group jackknife errors stay meaningful: about 14% on a variance)
MIN_RUNS = 100


@accepts_model
def time_course_noise(net: ReactionNetwork, times=None, runs: int = 1000, *, seed=None,
                      workers=None, keep_trajectories: int = 5, lna: bool = True,
                      n_times: int = 101, groups: int = 20,
                      max_events: float = 5e8, method: str = "auto",
                      max_steps: int | None = None) -> TimeCourseNoise:
    """Mean, sd, CV, Fano factor and covariances over time from an SSA ensemble.

    Parameters
    ----------
    net : ReactionNetwork
    times : array_like, optional
        Output times (model time units). Default: ``n_times`` points on ``[0, t_end]``
        with ``t_end`` from :func:`default_time_window`.
    runs : int
        SSA runs (>= 2; standard errors want a few hundred).
    seed, workers :
        As :func:`sbmlnoise.ssa`.
    keep_trajectories : int
        Sample runs kept for plots.
    lna : bool
        Also compute the time-dependent LNA where the model allows it.
    method : str
        The :func:`sbmlnoise.ssa` method (``"auto"``: exact unless the ensemble is far
        beyond the event budget; ``"tau_leap"``, ``"cle"``, ``"hybrid"``: approximate, as
        ``settings["ssa_method"]`` and the ensemble's settings record). ``max_events``
        bounds only the exact methods.
    groups : int
        Jackknife groups.
    max_events : float
        Refuse (:class:`~sbmlnoise.errors.SimulationError`, before simulating) when
        ``runs x t_end x`` (total propensity at the initial state) exceeds this: a quick
        guard for models with huge copy numbers; the SSA's own ``max_steps`` still
        bounds each run.
    max_steps : int, optional
        Reaction events one run may fire (:func:`sbmlnoise.ssa.ssa`'s cap; its default
        1e8 when None): past it the run raises ``SimulationError`` naming the time reached.

    Returns
    -------
    TimeCourseNoise

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    >>> tc = sn.time_course_noise(net, [0, 1, 5], runs=400, seed=1)
    >>> abs(float(tc.fano.loc[5.0, "X"]) - 1) < 4 * float(tc.stderr["fano"].loc[5.0, "X"])
    True
    """
    from ..ode import ode_trajectory
    from ..ssa import ssa

    runs = int(runs)
    if runs < 2:
        raise ValueError("time_course_noise: runs must be >= 2")
    if times is None:
        t_end, why = default_time_window(net)
        times = np.linspace(0.0, t_end, int(n_times))
    else:
        why = "given"
        times = np.asarray(times, dtype=float).ravel()
    ids = list(net.species_ids)
    S = net.n_species
    keep_all = runs * len(times) * S <= MAX_VALUES
    if not keep_all:
        raise ValueError(f"time_course_noise: {runs} runs x {len(times)} times x {S} species "
                         f"exceed {MAX_VALUES:.0e} stored values; use fewer runs or times, or "
                         "sn.ssa for streamed moments without jackknife errors")
    rate = initial_event_rate(net)
    planned = runs * float(times[-1]) * rate
    exact = method in ("auto", "direct", "sorting")
    if exact and planned > max_events:
        raise SimulationError(
            f"time_course_noise: model '{net.id}' would need about {planned:.3g} SSA events "
            f"({runs} runs to t={float(times[-1]):.4g} at {rate:.3g} events per unit time at "
            f"the initial state), more than max_events={max_events:.3g}; the copy numbers "
            "are too large for the exact SSA (use a smaller system size or the LNA)")
    caps = {} if max_steps is None else {"max_steps": int(max_steps)}
    ens = ssa(net, times=times, runs=runs, seed=seed, workers=workers, keep_trajectories=runs,
              covariance=True, method=method, min_runs=min(runs, MIN_RUNS), **caps)
    runs = int(ens.runs)  # fewer when the analysis' wall time stopped the ensemble
    x = ens.trajectories  # (R, T, S)
    est, se = _group_jackknife(x, groups, _moments)
    index = pd.Index(ens.times, name="time")
    frames = [pd.DataFrame(a, index=index, columns=ids) for a in est]
    errs = [pd.DataFrame(a, index=index, columns=ids) for a in se]
    omega = float(net.system_size)
    ode = None
    try:
        amounts, _ = ode_trajectory(net, ens.times)
        ode = pd.DataFrame(omega * amounts, index=index, columns=ids)
    except SbmlnoiseError:
        pass
    lna_sd = lna_valid = valid_until = None
    lna_status = "not requested"
    if lna:
        lna_sd, lna_valid, valid_until, lna_status = _lna_columns(net, ens.times, ids)
    settings = {"runs": runs, "seed": ens.settings.get("seed"),
                "seed_entropy": ens.settings.get("seed_entropy"),
                "ssa_method": ens.method, "events": ens.settings.get("events"),
                "t_end": float(ens.times[-1]), "window": why, "groups": min(groups, runs),
                "stderr": "delete-a-group jackknife", "system_size": omega,
                "lna": lna_status, "lna_cv_limit": LNA_CV_LIMIT}
    if ens.settings.get("stopped_early"):
        settings["stopped_early"] = ens.settings["stopped_early"]
    return TimeCourseNoise(times=ens.times, mean=frames[0], sd=frames[1], cv=frames[2],
                           fano=frames[3], covariance=ens.covariance,
                           stderr=dict(zip(("mean", "sd", "cv", "fano"), errs)), ode=ode,
                           lna_sd=lna_sd, lna_valid=lna_valid, lna_valid_until=valid_until,
                           trajectories=x[:max(0, int(keep_trajectories))].copy(),
                           settings=settings)


def initial_event_rate(net: ReactionNetwork) -> float:
    """Total propensity at the initial state (reaction events per model time unit): the
    quick cost estimate of an exact SSA run before any simulation."""
    with np.errstate(all="ignore"):
        return float(np.sum(np.abs(net.propensities(np.asarray(net.initial_state, float)))))


#: wall-clock seconds allowed to the time-dependent LNA shown beside the SSA time course
LNA_COLUMN_SECONDS = 10.0


def _lna_columns(net: ReactionNetwork, times: np.ndarray, ids: list[str]
                 ) -> tuple[pd.DataFrame | None, pd.Series | None, float | None, str]:
    from ..lna import lna as run_lna
    from ..lna._model import problem

    try:  # a comparison column: bounded, a stiff model must not hold up the SSA answer
        course = run_lna(net, t=times, emre=False, max_seconds=LNA_COLUMN_SECONDS)
    except (SbmlnoiseError, ValueError) as err:
        return None, None, None, f"not available: {err}"
    sd = np.sqrt(course.variance.clip(lower=0))
    sd.index.name = "time"
    from .. import expr as ex
    fixed = {ex.TIME, *net.parameter_ids} - set(net.ode_extra_ids)
    state_triggers = any(ex.symbols(e.trigger) - fixed for e in net.events)
    # zero- and first-order propensities, no rate rule, no event whose firing time is random
    if problem(net).n_hessian_entries == 0 and not net.rate_rules and not state_triggers:
        valid = pd.Series(True, index=sd.index, name="lna_valid")
        return sd, valid, float(times[-1]), ("time-dependent LNA (zero initial covariance); "
                                             "exact: linear propensities")
    mean = course.mean
    big = mean > 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        bad = (sd > LNA_CV_LIMIT * mean) & big
    valid = ~bad.any(axis=1)
    valid.name = "lna_valid"
    until: float | None
    if valid.all():
        until = float(times[-1])
    else:
        first = int(np.argmin(valid.to_numpy()))
        until = float(times[first - 1]) if first > 0 else None
    return sd, valid, until, "time-dependent LNA (zero initial covariance)"
