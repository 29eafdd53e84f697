"""``sn.ssa``: ensembles of exact stochastic simulation runs with streamed statistics."""

from __future__ import annotations

import os
import time as _time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import SimulationError, UnsupportedFeature
from ._kernels import _ensemble_chunk
from ._model import build_model, initial_counts
from ._buffers import chunk_buffers
from ._rng import resolve_entropy
from ._timedep import QUEUE_CAPACITY, _ensemble_chunk_td, needs_timedep, timedep_feature
from .approx import APPROX_METHODS, approx_settings, build_approx_model, resolve_options, \
    run_approx_chunk
from ._select import METHODS, select_method  # noqa: F401  (SSA variants by name; re-exported)
from ..importer._tellurium import accepts_model
from .._deadline import check as check_deadline, past_limit

#: runs per chunk; fixed so results do not depend on the number of workers
CHUNK_RUNS = 64

DEFAULT_MAX_COUNT = 1e12
DEFAULT_MAX_STEPS = 10**8
#: ``sn.ssa(method="auto")`` stays exact up to this many expected events per ensemble
#: (about 100 s on one core); beyond it, the approximation :func:`choose_method` names
AUTO_EXACT_BUDGET = 1e9
TIMEDEP_REASON = ("time-dependent propensities, rate rules or delays: the exact direct "
                  "method with integrated hazard / delay queue (sbmlnoise.ssa._timedep)")


def timedep_settings(td) -> dict:
    """What the time-dependent kernels did, for ``settings``."""
    out = {"timedep": True,
           "waiting_times": ("integrated hazard, Dormand-Prince 5(4) (rtol "
                             f"{td.rtol:g}, atol {td.atol:g}); Anderson 2007 "
                             "doi:10.1063/1.2799998" if td.integrate
                             else "exponential (propensities constant between events)")}
    if (td.rx_delay >= 0).any() or (td.rx_chain >= 0).any():
        out["delayed_reactions"] = ("delay SSA: non-consuming delayed reactions (Barrio et "
                                    "al. 2006 doi:10.1371/journal.pcbi.0020117) and "
                                    "consuming delayed pairs (Cai 2007 "
                                    "doi:10.1063/1.2710253); 'events' counts initiations")
    return out


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, eq=False)
class EnsembleResult:
    """Statistics of an SSA ensemble at the requested times (molecule COUNTS).

    Attributes
    ----------
    mean, variance : pandas.DataFrame
        Index ``time``, columns species; sample mean and unbiased sample variance
        (``ddof=1``) over ``runs`` runs.
    covariance : pandas.DataFrame or None
        With ``covariance=True``: rows MultiIndex ``(time, species)``, columns species.
    runs : int
    trajectories : numpy.ndarray
        The first ``keep_trajectories`` runs, shape (k, n_times, n_species).
    stderr : dict of str -> DataFrame
        ``"mean"``: sqrt(variance / runs); ``"variance"``: variance * sqrt(2 / (runs - 1))
        (the normal-theory standard error of a sample variance).
    settings : dict
        Seed entropy, method, workers, times, ``system_size``, counters (``events``).
    method : str
        The SSA variant that ran ("direct" or "sorting").
    """

    mean: pd.DataFrame
    variance: pd.DataFrame
    runs: int
    trajectories: np.ndarray
    stderr: dict
    settings: dict
    method: str
    covariance: pd.DataFrame | None = None
    extra: dict = field(default_factory=dict)

    @property
    def times(self) -> np.ndarray:
        return self.mean.index.to_numpy()

    def trajectory_frames(self) -> list[pd.DataFrame]:
        """Kept trajectories as DataFrames (index time, columns species)."""
        return [pd.DataFrame(tr, index=self.mean.index, columns=self.mean.columns)
                for tr in self.trajectories]

    def statistics(self, t: float):
        """:class:`~sbmlnoise.stats.NoiseStatistics` (method "ssa") at output time ``t``."""
        from ..stats import NoiseStatistics

        k = int(np.argmin(np.abs(self.times - t)))
        tk = float(self.times[k])
        mean = self.mean.iloc[k].rename("mean")
        if self.covariance is not None:
            cov = self.covariance.loc[tk]
        else:
            cov = pd.DataFrame(np.diag(self.variance.iloc[k].to_numpy()), index=mean.index,
                               columns=mean.index)
        stderr = {"mean": self.stderr["mean"].iloc[k], "variance": self.stderr["variance"].iloc[k]}
        return NoiseStatistics(mean=mean, covariance=cov, method="ssa",
                               settings={**self.settings, "time": tk}, stderr=stderr, time=tk,
                               distributions=self.distributions(tk))

    def distributions(self, t: float) -> dict | None:
        """Marginal law of each species at output time ``t`` (kept with
        ``distributions=`` in :func:`ssa`): ``{species: Series}``, index the count value,
        values the fraction of runs. Continuous methods ("cle", "hybrid") are binned to
        the nearest whole count. ``None`` if states were not kept at ``t``."""
        samples = self.extra.get("samples") or {}
        hit = [u for u in samples if np.isclose(u, t, rtol=1e-12, atol=0.0)]
        if not hit:
            return None
        data = samples[hit[0]]
        out = {}
        for q, sid in enumerate(self.mean.columns):
            values, counts = np.unique(np.rint(data[:, q]), return_counts=True)
            out[sid] = pd.Series(counts / data.shape[0], index=pd.Index(values, name="count"),
                                 name=sid)
        return out

    def plot(self, species=None, *, ax=None, trajectories: int = 3, band: str = "sd"):
        """Mean of each species over time with a band (``"sd"``: +-1 standard deviation
        of the ensemble; ``"sem"``: +-2 standard errors of the mean) and up to
        ``trajectories`` kept runs. Returns a matplotlib Figure (Agg backend when no
        display is configured)."""
        from ._plot import plot_ensemble

        return plot_ensemble(self, species=species, ax=ax, trajectories=trajectories,
                             band=band)

    def _repr_html_(self) -> str:
        from ._plot import ensemble_html

        return ensemble_html(self)

    def __repr__(self) -> str:
        return (f"<EnsembleResult {self.method}: {self.runs} runs, {len(self.times)} times, "
                f"{self.mean.shape[1]} species>")


class _Problem:
    """Everything a chunk task needs (picklable: arrays and scalars only)."""

    def __init__(self, model, method_code, x0, p0, times, entropy, keep, want_cov,
                 max_count, max_steps, sample_idx, approx_model=None, params=None, td=None):
        self.td = td
        self.model = model
        self.method_code = method_code
        self.x0 = x0
        self.p0 = p0
        self.times = times
        self.entropy = entropy
        self.keep = keep
        self.want_cov = want_cov
        self.max_count = max_count
        self.max_steps = max_steps
        self.sample_idx = sample_idx
        self.approx_model = approx_model
        self.params = params


def _run_chunk(problem: _Problem, start: int, stop: int):
    """Runs ``start .. stop-1``: ("ok", n, mean, m2, cov, kept, events, samples, counters,
    fast_time) or ("error", run, info, state)."""
    if problem.approx_model is not None:
        return run_approx_chunk(problem, start, stop)
    if problem.td is not None:
        return _run_chunk_td(problem, start, stop)
    m = problem.model
    states, keep, mean, m2, cov, kept, samples, info, err_state = \
        chunk_buffers(problem, start, stop)
    total = _ensemble_chunk(m, problem.method_code, problem.x0, problem.p0, problem.times,
                            states, keep, problem.want_cov, mean, m2, cov, kept,
                            problem.sample_idx, samples, float(problem.max_count),
                            int(problem.max_steps), info, err_state)
    if total < 0:
        return ("error", int(start - 1 - total), info, err_state)
    return ("ok", stop - start, mean, m2, cov, kept, int(total), samples, None, None)


def _run_chunk_td(problem: _Problem, start: int, stop: int):
    """:func:`_run_chunk` for the time-dependent/delay kernels (:mod:`._timedep`). A run
    that overflows the queue of pending delayed completions is redone with 4x the
    capacity (same random streams, so the result does not depend on the capacity)."""
    m, td = problem.model, problem.td
    capacity = QUEUE_CAPACITY
    while True:
        states, keep, mean, m2, cov, kept, samples, info, err_state = \
            chunk_buffers(problem, start, stop)
        total = _ensemble_chunk_td(m, td, problem.x0, problem.p0, problem.times, states,
                                   keep, problem.want_cov, mean, m2, cov, kept,
                                   problem.sample_idx, samples, float(problem.max_count),
                                   int(problem.max_steps), info, err_state, capacity)
        if total < 0 and int(info[0]) == 7 and capacity < 2**26:
            capacity *= 4
            continue
        if total < 0:
            return ("error", int(start - 1 - total), info, err_state)
        return ("ok", stop - start, mean, m2, cov, kept, int(total), samples, None, None)


def _merge(acc, part):
    """Chan, Golub & LeVeque (1983) pairwise merge of (n, mean, m2, cov)."""
    if acc is None:
        return part
    na, ma, m2a, ca = acc
    nb, mb, m2b, cb = part
    n = na + nb
    delta = mb - ma
    mean = ma + delta * (nb / n)
    m2 = m2a + m2b + delta * delta * (na * nb / n)
    if ca.size:
        cov = ca + cb + np.einsum("ts,tu->tsu", delta, delta) * (na * nb / n)
    else:
        cov = ca
    return n, mean, m2, cov


def prepare(net, method, seed, timedep: bool = False):
    """What every SSA driver needs: the variant, the kernels' array model, initial counts,
    the parameter vector (never empty, for numba) and the seed's entropy. With
    ``timedep`` the model is ``(SSAModel, TDModel)`` (see :mod:`._timedep`)."""
    variant = select_method(method, net.n_reactions)
    model = build_model(net, timedep=True) if timedep else build_model(net)
    x0 = initial_counts(net)
    p0 = np.asarray(net.parameter_values, dtype=float).copy()
    if p0.size == 0:
        p0 = np.zeros(1)
    return variant, model, x0, p0, resolve_entropy(seed)


def raise_failure(net, info, err_state, run=None) -> None:
    """Turn a kernel status into a :class:`SimulationError` naming reaction, state, time."""
    status = int(info[0])
    t = info[3]
    where = f" in run {run}" if run is not None else ""
    state = ", ".join(f"{sid}={v:g}" for sid, v in zip(net.species_ids, err_state))
    if status == 1:
        r = net.reactions[int(info[1])].id
        raise SimulationError(f"ssa: propensity of reaction '{r}' is {info[4]!r} (must be "
                              f"finite and >= 0) at t={t:g}{where}, state {state}")
    if status == 2:
        r = net.reactions[int(info[1])].id
        s = net.species_ids[int(info[2])]
        raise SimulationError(f"ssa: count of species '{s}' exceeded max_count after "
                              f"reaction '{r}' at t={t:g}{where} (runaway growth?), state "
                              f"{state}; raise max_count= if this is intended")
    if status == 3:
        raise SimulationError(f"ssa: more than max_steps reaction events by t={t:g}{where} "
                              f"(state {state}); raise max_steps= or shorten the time span",
                              steps_exhausted_at=float(t))
    if status == 4:
        raise SimulationError(f"ssa: events keep re-triggering each other at t={t:g}{where} "
                              f"(state {state})")
    if status == 6:
        ev = net.events[int(info[1])].id
        s = net.species_ids[int(info[2])]
        raise SimulationError(f"ssa: event '{ev}' assigns {info[4]:g} molecules to species "
                              f"'{s}' at t={t:g}{where}, not a whole non-negative number; the "
                              f"exact SSA refuses it as it refuses non-whole initial counts "
                              f"(round the assignment in the model, pass system_size= to "
                              f"sn.load, or use method='cle')")
    if status == 7:
        raise SimulationError(f"ssa: more than 2**26 delayed completions pending at "
                              f"t={t:g}{where} (state {state})")
    if status == 8:
        ev = net.events[int(info[1])].id
        raise SimulationError(f"ssa: the delay of event '{ev}' is {info[4]!r} at t={t:g}"
                              f"{where} (must be finite and >= 0), state {state}")
    if status == 5:
        r = net.reactions[int(info[1])].id
        s = net.species_ids[int(info[2])]
        raise SimulationError(f"ssa: reaction '{r}' made the count of species '{s}' negative "
                              f"at t={t:g}{where}; its kinetic law is positive when there are "
                              f"too few reactant molecules (state {state})")
    raise SimulationError(f"ssa: kernel failed with status {status}{where}")


def _seed_repr(seed):
    """JSON-able record of a seed (SeedSequences become their repr)."""
    if seed is None or isinstance(seed, (int, np.integer)):
        return seed
    return " ".join(repr(seed).split())


def _validate_times(times) -> np.ndarray:
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if times.ndim != 1 or times.size == 0:
        raise ValueError("times must be a non-empty 1-D sequence of output times")
    if not np.all(np.isfinite(times)):
        raise ValueError("times must be finite")
    if times[0] < 0:
        raise ValueError("times must be >= 0 (simulations start at t = 0)")
    if np.any(np.diff(times) < 0):
        raise ValueError("times must be sorted in increasing order")
    return times


def _ordered(tasks, submit, window: int):
    """Yield results of ``tasks`` in order, at most ``window`` in flight."""
    pending = []
    it = iter(tasks)
    for task in it:
        pending.append(submit(task))
        if len(pending) >= window:
            break
    while pending:
        fut = pending.pop(0)
        yield fut.result()
        for task in it:
            pending.append(submit(task))
            break


def _positional(args, times, runs):
    """Map deprecated positional ``times, runs`` (API.md before issue 18) to keywords."""
    if not args:
        return times, runs
    if len(args) > 2:
        raise TypeError(f"ssa() takes the model and keyword arguments times=, runs=; got "
                        f"{len(args) + 1} positional arguments")
    if times is not None or (len(args) == 2 and runs is not None):
        raise TypeError("ssa(): times/runs given both positionally and by keyword")
    warnings.warn("passing times/runs to sn.ssa positionally is deprecated; write "
                  "sn.ssa(net, times=..., runs=...) (positional use will stop working in the "
                  "next release)", DeprecationWarning, stacklevel=3)
    times = args[0]
    if len(args) == 2:
        runs = args[1]
    return times, runs


def _check_runs(runs: object) -> int:
    if runs is None:
        raise TypeError("ssa() needs runs= (number of independent runs)")
    if not isinstance(runs, (int, float, np.integer, np.floating)) or isinstance(runs, bool) \
            or not np.isfinite(runs) or float(runs) != int(runs) or int(runs) < 1:
        raise ValueError(f"runs must be an integer >= 1, got {runs!r}")
    return int(runs)


def _sample_index(distributions, times: np.ndarray, runs: int, n_species: int) -> np.ndarray:
    """Indices of the output times at which every run's state is kept."""
    if distributions is None or distributions is False:
        return np.zeros(0, dtype=np.int64)
    if distributions is True:
        idx = np.arange(times.size)
    else:
        wanted = np.atleast_1d(np.asarray(distributions, dtype=float))
        hits: list[int] = []
        for t in wanted:
            hit = np.nonzero(np.isclose(times, t, rtol=1e-12, atol=0.0))[0]
            if hit.size == 0:
                raise ValueError(f"distributions: time {t:g} is not one of the output times")
            hits.append(int(hit[0]))
        idx = np.array(sorted(set(hits)), dtype=np.int64)
    if idx.size * runs * n_species > 50_000_000:
        raise ValueError("distributions: keeping every run's state at that many times "
                         f"needs {idx.size * runs * n_species:.3g} values (> 5e7); pass fewer "
                         "times, e.g. distributions=[times[-1]]")
    return idx.astype(np.int64)


def _resolve_method(net, method, times, runs):
    """(variant class, reason) for ``method``; "auto" asks :func:`choose_method`
    without the LNA."""
    if method == "auto":
        from .choose import choose_method

        name, reason = choose_method(net, t_end=float(times[-1]), runs=runs, allow_lna=False,
                                     budget=AUTO_EXACT_BUDGET, ode=False)
        if name in APPROX_METHODS:
            return APPROX_METHODS[name], reason
        return select_method(name, net.n_reactions), reason
    if isinstance(method, str) and method in APPROX_METHODS:
        return APPROX_METHODS[method], f"method={method!r} requested"
    if isinstance(method, type) and method in APPROX_METHODS.values():
        return method, f"method={method.name!r} requested"
    try:
        variant = select_method(method, net.n_reactions)
    except ValueError:
        raise ValueError(f"unknown SSA method {method!r}; choose 'auto', one of "
                         f"{', '.join(METHODS)} (exact) or {', '.join(APPROX_METHODS)} "
                         "(approximate)") from None
    return variant, f"method={variant.name!r} requested"


def _variant_for(net, method, times, runs, timedep: bool):
    """(variant, reason); time-dependent/delay models run the exact direct method of
    :mod:`._timedep` and the approximate methods refuse them by name."""
    if timedep and method == "auto":
        return METHODS["direct"], TIMEDEP_REASON
    variant, reason = _resolve_method(net, method, times, runs)
    if timedep and variant in APPROX_METHODS.values():
        element, feature = timedep_feature(net)
        raise UnsupportedFeature(
            f"ssa: method={variant.name!r} (approximate) does not handle the {feature} of "
            f"'{element}'; the exact SSA does (method='auto' or 'direct')",
            element=element, feature=feature)
    if timedep and variant is not METHODS["direct"]:
        return METHODS["direct"], (f"{reason}; ran the direct method (the only exact "
                                   "variant of the time-dependent/delay kernels)")
    return variant, reason


def _executor(problem, chunks, workers, client):
    """(iterator of chunk results in order, workers label, executor or None)."""
    if client is not None:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or 1)
        remote = client.scatter(problem, broadcast=True)
        submit = lambda c: client.submit(_run_chunk, remote, c[0], c[1], pure=False)  # noqa: E731
        return _ordered(chunks, submit, window=4 * n_workers), f"dask:{n_workers}", None
    n_workers = default_workers() if workers is None else int(workers)
    if n_workers < 1:
        raise ValueError("workers must be >= 1")
    n_workers = min(n_workers, len(chunks))
    if n_workers == 1:
        return (_run_chunk(problem, s, e) for s, e in chunks), 1, None
    executor = ThreadPoolExecutor(max_workers=n_workers)
    submit = lambda c: executor.submit(_run_chunk, problem, c[0], c[1])  # noqa: E731
    return _ordered(chunks, submit, window=4 * n_workers), n_workers, executor


def _collect(net, results, executor, progress, min_runs: int | None = None):
    """Merge chunk results in order; returns (acc, kept parts, events, samples, counters,
    fast_time, runs done when stopped early by the deadline or None)."""
    acc = None
    kept_parts, sample_parts = [], []
    events = 0.0
    done = 0
    counters = fast_time = None
    stopped = None
    try:
        check_deadline("ssa: the ensemble after 0 runs")
        for res in results:
            if res[0] == "error":
                _, run, info, err_state = res
                raise_failure(net, info, err_state, run)
            _, n, mean, m2, cov, kept, n_events, samples, cnt, ft = res
            acc = _merge(acc, (n, mean, m2, cov))
            if kept.shape[0]:
                kept_parts.append(kept)
            if samples.shape[1]:
                sample_parts.append(samples)
            if cnt is not None:
                if counters is None:
                    counters, fast_time = cnt.copy(), ft.copy()
                else:
                    first = counters[4] <= cnt[4]
                    counters[:4] += cnt[:4]
                    counters[6:] += cnt[6:]
                    if not first:
                        counters[4:6] = cnt[4:6]
                    fast_time += ft
            events += n_events
            done += n
            if progress:
                progress(done)
            # before the next chunk runs (a lazy generator with one worker): with enough
            # runs, stop at the wall time itself and keep them; else at the hard deadline
            if min_runs is not None and done >= min_runs and past_limit():
                stopped = done
                break
            check_deadline(f"ssa: the ensemble after {done} runs")
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    return acc, kept_parts, events, sample_parts, counters, fast_time, stopped


@accepts_model
def ssa(net, *args, times=None, runs=None, seed=None, method="auto", workers=None,
        client=None, covariance=False, keep_trajectories=0, max_count=DEFAULT_MAX_COUNT,
        max_steps=DEFAULT_MAX_STEPS, progress=None, distributions=None, validate=False,
        min_runs=None, **approx_options) -> EnsembleResult:
    """Ensemble of stochastic simulations of ``net``: exact (Gillespie 1977) or, for large
    copy numbers, tau-leaping, the chemical Langevin equation or a hybrid method.

    Parameters
    ----------
    net : ReactionNetwork
        Propensities ``a_j(n) = Omega * v_j(n / Omega)`` in molecule counts ``n`` (see
        :mod:`sbmlnoise.network`); initial state ``net.initial_state``.
    times : array_like, shape (T,), keyword-only
        Output times, sorted, >= 0. Runs start at t = 0; the state is reported after
        any event that fires at an output time. (Positional ``times, runs`` still work
        with a ``DeprecationWarning``.)
    runs : int, keyword-only
        Number of independent runs (>= 1).
    seed : int, numpy.random.SeedSequence or None
        Run ``i``'s stream depends only on ``SeedSequence(seed)`` and ``i`` (see
        :mod:`sbmlnoise.ssa._rng`), so results are identical for any number of workers or
        a cluster. ``None`` draws fresh entropy (recorded in ``settings["seed_entropy"]``).
    method : {"auto", "direct", "sorting", "tau_leap", "cle", "hybrid"} or a class
        Exact: "direct" (up to 8 channels under "auto") or "sorting". Approximate (see
        :mod:`sbmlnoise.ssa.approx` for what each approximates and its bias):
        "tau_leap", "cle", "hybrid". "auto" asks :func:`~sbmlnoise.ssa.choose_method`
        (from the initial state, no ODE integration): exact whenever the expected number
        of reaction events of the ensemble is below :data:`AUTO_EXACT_BUDGET` (1e9),
        otherwise the approximation the copy numbers allow; the reason is in
        ``settings["method_reason"]``. Models with time-dependent laws, rate rules on
        parameters, delayed events or ``delay()`` in kinetic laws always run the exact
        direct method of :mod:`sbmlnoise.ssa._timedep` (integrated hazard, Anderson 2007
        doi:10.1063/1.2799998, exact up to an ODE tolerance of 1e-8; delay queue, Barrio
        et al. 2006 doi:10.1371/journal.pcbi.0020117); the approximate methods refuse
        them. See ``settings["waiting_times"]`` and docs/ssa-timedep.md.
    workers : int, optional
        Local threads (default: all cores available). Kernels release the GIL.
    client : dask.distributed.Client, optional
        Run chunks of 64 runs on the cluster; moments are merged on the client in chunk
        order (identical to the local result for the same seed).
    covariance : bool
        Also stream the species covariance at every time.
    keep_trajectories : int
        Keep the first ``k`` trajectories (``result.trajectories``, shape (k, T, S)).
    max_count, max_steps : float, int
        Safety caps: a count above ``max_count`` raises; ``max_steps`` is a hard cap on
        the simulation steps of *one run* -- reaction events for the exact methods, leaps
        plus exact steps for the approximate ones (their cost; the events they stand for
        are in ``settings["events"]``): a run that reaches it raises
        :class:`~sbmlnoise.errors.SimulationError` (never truncated).
    progress : callable, optional
        Called with the number of runs finished so far.
    distributions : None, True or sequence of float
        Keep every run's state at these output times (True: all), so
        ``result.statistics(t).distributions`` holds the marginal law of each species.
    validate : bool
        Approximate methods only: rerun the exact SSA and the approximation at a system
        size small enough for the exact SSA (at most about 2e6 events) and report the
        comparison in ``settings["validation"]`` (table in ``extra["validation"]``).
    min_runs : int, optional
        Inside an analysis with a wall-time limit (:mod:`sbmlnoise._deadline`): when the
        limit passes after at least this many runs, return the runs finished (their count
        in ``settings["runs"]``, the reason in ``settings["stopped_early"]``) instead of
        raising. Default: raise.
    **approx_options
        ``epsilon`` (0.03), ``n_critical`` (10), ``ssa_factor`` (10), ``n_ssa_steps``
        (100), ``lambda_fast`` (10), ``n_fast`` (100), ``fast`` ("cle" or "ode"),
        ``scheme`` ("explicit" or "trapezoidal", ``tau_leap`` only: the second-order
        theta-trapezoidal leap) -- see :mod:`sbmlnoise.ssa.approx`.

    Returns
    -------
    EnsembleResult
        Moments are streamed (Welford 1962; Chan, Golub & LeVeque 1983), so memory does
        not grow with ``runs`` (unless ``distributions`` keeps states).

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    >>> ens = sn.ssa(net, times=[0, 1, 5], runs=2000, seed=1)
    >>> round(float(ens.mean.loc[5.0, "X"]))
    10
    """
    times, runs = _positional(args, times, runs)
    if times is None:
        raise TypeError("ssa() needs times= (output times)")
    runs = _check_runs(runs)
    times = _validate_times(times)
    problem, variant, reason, opts = _plan(net, times, runs, method, seed, keep_trajectories,
                                           covariance, max_count, max_steps, distributions,
                                           approx_options)
    approx = problem.approx_model is not None
    # the deadline is checked between chunks: an ensemble that may stop early (inside an
    # analysis) uses smaller ones (chunking changes the moments' rounding, not the runs)
    size = CHUNK_RUNS if min_runs is None else max(4, min(CHUNK_RUNS, runs // 25))
    chunks = [(s, min(s + size, runs)) for s in range(0, runs, size)]
    started = _time.perf_counter()
    results, used_workers, executor = _executor(problem, chunks, workers, client)
    acc, kept_parts, events, sample_parts, counters, fast_time, stopped = _collect(
        net, results, executor, progress, min_runs)
    settings = _settings(net, problem, variant, reason, opts, seed, stopped or runs,
                         used_workers, events, _time.perf_counter() - started, counters,
                         fast_time)
    settings["chunk_runs"] = size
    if stopped is not None:
        settings["stopped_early"] = (f"{stopped} of {runs} runs: the analysis reached its "
                                     "wall-time limit (min_runs reached)")
    samples = (np.concatenate(sample_parts, axis=0) if sample_parts else None)
    result = _result(net, times, acc, kept_parts, covariance, settings, variant.name,
                     samples, problem.sample_idx)
    if validate and approx:
        from .validate import validate_approximation

        return validate_approximation(result, net, variant, approx_options, times, runs,
                                      seed, max_count, run=ssa)
    return result


def _settings(net, problem: _Problem, variant, reason: str, opts: dict, seed, runs: int,
              workers, events: float, seconds: float, counters, fast_time) -> dict:
    """``EnsembleResult.settings`` of a finished :func:`ssa` call (JSON-able)."""
    times = problem.times
    settings = {"method": variant.name, "method_reason": reason, "runs": runs,
                "seed": _seed_repr(seed),
                "seed_entropy": getattr(problem.entropy, "entropy", problem.entropy),
                "workers": workers, "chunk_runs": CHUNK_RUNS,
                "system_size": float(net.system_size),
                "system_size_source": net.system_size_source, "t_end": float(times[-1]),
                "n_times": len(times), "events": int(round(events)), "seconds": seconds,
                "max_count": problem.max_count, "max_steps": problem.max_steps}
    if problem.td is not None:
        settings.update(timedep_settings(problem.td))
    if problem.approx_model is not None:
        settings.update(approx_settings(variant, opts, counters, fast_time, net, runs,
                                        float(times[-1])))
    return settings


def _plan(net, times: np.ndarray, runs: int, method, seed, keep_trajectories, covariance,
          max_count, max_steps, distributions, approx_options: dict):
    """Everything :func:`ssa` decides before simulating: the variant (and why), the
    approximate-method options, the kernels' model and the chunk problem. Returns
    ``(problem, variant, reason, opts)``; raises on bad arguments or an initial count
    above ``max_count``."""
    keep = int(keep_trajectories)
    if keep < 0:
        raise ValueError("keep_trajectories must be >= 0")
    keep = min(keep, runs)
    timedep = needs_timedep(net)
    variant, reason = _variant_for(net, method, times, runs, timedep)
    approx = variant in APPROX_METHODS.values()
    if approx_options and not approx:
        raise TypeError(f"options {', '.join(sorted(approx_options))} apply only to the "
                        "approximate methods 'tau_leap', 'cle', 'hybrid'")
    opts, params = resolve_options(approx_options, method=variant.name if approx else None)
    exact_variant = select_method("auto", net.n_reactions) if approx else variant
    _, model, x0, p0, entropy = prepare(net, exact_variant, seed, timedep and not approx)
    td = None
    if timedep and not approx:
        model, td = model
        variant = METHODS["direct"]
    if x0.size and float(np.max(x0)) > float(max_count):
        i = int(np.argmax(x0))
        raise SimulationError(
            f"ssa: the initial count of species '{net.species_ids[i]}' is {x0[i]:.3g}, above "
            f"max_count={float(max_count):.3g} (system size {net.system_size:.3g}, "
            f"{net.system_size_source}); load the model at a cell volume "
            "(sn.load(..., volume=1e-15)) or pass a larger max_count")
    sample_idx = _sample_index(distributions, times, runs, net.n_species)
    problem = _Problem(model, variant.code, x0, p0, times, entropy, keep, bool(covariance),
                       max_count, max_steps, sample_idx,
                       build_approx_model(net) if approx else None, params, td)
    return problem, variant, reason, opts


def _result(net, times, acc, kept_parts, covariance, settings, method, samples, sample_idx):
    n, mean, m2, cov = acc
    species = list(net.species_ids)
    index = pd.Index(times, name="time")
    var = m2 / (n - 1) if n > 1 else np.full_like(m2, np.nan)
    mean_df = pd.DataFrame(mean, index=index, columns=species)
    var_df = pd.DataFrame(var, index=index, columns=species)
    stderr = {"mean": pd.DataFrame(np.sqrt(np.maximum(var, 0) / n), index=index, columns=species),
              "variance": pd.DataFrame(var * np.sqrt(2.0 / max(n - 1, 1)), index=index,
                                       columns=species)}
    cov_df = None
    if covariance:
        c = cov / (n - 1) if n > 1 else np.full_like(cov, np.nan)
        mi = pd.MultiIndex.from_product([times, species], names=["time", "species"])
        cov_df = pd.DataFrame(c.reshape(len(times) * len(species), len(species)), index=mi,
                              columns=species)
    trajectories = (np.concatenate(kept_parts, axis=0) if kept_parts
                    else np.zeros((0, len(times), len(species))))
    extra = {}
    if samples is not None:
        extra["samples"] = {float(times[k]): samples[:, q, :] for q, k in enumerate(sample_idx)}
    return EnsembleResult(mean=mean_df, variance=var_df, runs=int(n), trajectories=trajectories,
                          stderr=stderr, settings=settings, method=method,
                          covariance=cov_df, extra=extra)
