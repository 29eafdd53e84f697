"""``sn.ssa``: ensembles of exact stochastic simulation runs with streamed statistics."""

from __future__ import annotations

import os
import time as _time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import SimulationError
from ._kernels import _ensemble_chunk
from ._model import build_model, initial_counts
from ._rng import resolve_entropy, run_states
from .direct import Direct
from .sorting import SortingDirect

#: SSA variants by name (each module documents when to use it)
METHODS = {"direct": Direct, "sorting": SortingDirect}

#: runs per chunk; fixed so results do not depend on the number of workers
CHUNK_RUNS = 64

DEFAULT_MAX_COUNT = 1e12
DEFAULT_MAX_STEPS = 10**8


def select_method(method, n_reactions: int):
    """Resolve ``method`` ("auto", a name in :data:`METHODS` or a variant class).

    ``"auto"``: :class:`~.direct.Direct` for at most
    :data:`~.direct.AUTO_MAX_REACTIONS` channels, else :class:`~.sorting.SortingDirect`.
    """
    if isinstance(method, type) and method in METHODS.values():
        return method
    if method == "auto":
        return Direct if Direct.suits(n_reactions) else SortingDirect
    try:
        return METHODS[method]
    except (KeyError, TypeError):
        raise ValueError(f"unknown SSA method {method!r}; choose 'auto' or one of "
                         f"{', '.join(METHODS)}") from None


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
                               settings={**self.settings, "time": tk}, stderr=stderr, time=tk)

    def __repr__(self) -> str:
        return (f"<EnsembleResult {self.method}: {self.runs} runs, {len(self.times)} times, "
                f"{self.mean.shape[1]} species>")


class _Problem:
    """Everything a chunk task needs (picklable: arrays and scalars only)."""

    def __init__(self, model, method_code, x0, p0, times, entropy, keep, want_cov,
                 max_count, max_steps):
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


def _run_chunk(problem: _Problem, start: int, stop: int):
    """Runs ``start .. stop-1``: (n, mean, m2, cov, kept, events) or raises."""
    m = problem.model
    T, S = problem.times.shape[0], m.n_species
    states = run_states(problem.entropy, start, stop)
    keep = max(0, min(stop, problem.keep) - start)
    mean = np.zeros((T, S))
    m2 = np.zeros((T, S))
    cov = np.zeros((T, S, S)) if problem.want_cov else np.zeros((0, 0, 0))
    kept = np.zeros((keep, T, S))
    info = np.zeros(8)
    err_state = np.zeros(S)
    total = _ensemble_chunk(m, problem.method_code, problem.x0, problem.p0, problem.times,
                            states, keep, problem.want_cov, mean, m2, cov, kept,
                            float(problem.max_count), int(problem.max_steps), info, err_state)
    if total < 0:
        return ("error", int(start - 1 - total), info, err_state)
    return ("ok", stop - start, mean, m2, cov, kept, int(total))


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


def prepare(net, method, seed):
    """What every SSA driver needs: the variant, the kernels' array model, initial counts,
    the parameter vector (never empty, for numba) and the seed's entropy."""
    variant = select_method(method, net.n_reactions)
    model = build_model(net)
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
                              f"(state {state}); raise max_steps= or shorten the time span")
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


def ssa(net, times, runs, *, seed=None, method="auto", workers=None, client=None,
        covariance=False, keep_trajectories=0, max_count=DEFAULT_MAX_COUNT,
        max_steps=DEFAULT_MAX_STEPS, progress=None) -> EnsembleResult:
    """Ensemble of exact stochastic simulations (Gillespie 1977) of ``net``.

    Parameters
    ----------
    net : ReactionNetwork
        Propensities ``a_j(n) = Omega * v_j(n / Omega)`` in molecule counts ``n`` (see
        :mod:`sbmlnoise.network`); initial state ``net.initial_state``.
    times : array_like, shape (T,)
        Output times, sorted, >= 0. Runs start at t = 0; the state is reported after
        any event that fires at an output time.
    runs : int
        Number of independent runs (>= 1).
    seed : int, numpy.random.SeedSequence or None
        Run ``i``'s stream depends only on ``SeedSequence(seed)`` and ``i`` (see
        :mod:`sbmlnoise.ssa._rng`), so results are identical for any number of workers or
        a cluster. ``None`` draws fresh entropy (recorded in ``settings["seed_entropy"]``).
    method : {"auto", "direct", "sorting"} or a variant class
        "auto" uses the direct method up to 8 reaction channels, else the sorting direct
        method with a dependency graph.
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
        Safety caps: a count above ``max_count`` or more than ``max_steps`` events in one
        run raise :class:`~sbmlnoise.errors.SimulationError`.
    progress : callable, optional
        Called with the number of runs finished so far.

    Returns
    -------
    EnsembleResult
        Moments are streamed (Welford 1962; Chan, Golub & LeVeque 1983), so memory does
        not grow with ``runs``.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    >>> ens = sn.ssa(net, [0, 1, 5], runs=2000, seed=1)
    >>> round(float(ens.mean.loc[5.0, "X"]))
    10
    """
    runs_int = int(runs) if np.isscalar(runs) and float(runs) == int(runs) else None
    if runs_int is None or runs_int < 1:
        raise ValueError(f"runs must be an integer >= 1, got {runs!r}")
    runs = runs_int
    times = _validate_times(times)
    keep = int(keep_trajectories)
    if keep < 0:
        raise ValueError("keep_trajectories must be >= 0")
    keep = min(keep, runs)
    variant, model, x0, p0, entropy = prepare(net, method, seed)
    problem = _Problem(model, variant.code, x0, p0, times, entropy, keep, bool(covariance),
                       max_count, max_steps)
    chunks = [(s, min(s + CHUNK_RUNS, runs)) for s in range(0, runs, CHUNK_RUNS)]
    started = _time.perf_counter()
    if client is not None:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or 1)
        remote = client.scatter(problem, broadcast=True)
        submit = lambda c: client.submit(_run_chunk, remote, c[0], c[1], pure=False)  # noqa: E731
        results = _ordered(chunks, submit, window=4 * n_workers)
        used_workers = f"dask:{n_workers}"
        executor = None
    else:
        n_workers = default_workers() if workers is None else int(workers)
        if n_workers < 1:
            raise ValueError("workers must be >= 1")
        n_workers = min(n_workers, len(chunks))
        used_workers = n_workers
        if n_workers == 1:
            results = (_run_chunk(problem, s, e) for s, e in chunks)
            executor = None
        else:
            executor = ThreadPoolExecutor(max_workers=n_workers)
            submit = lambda c: executor.submit(_run_chunk, problem, c[0], c[1])  # noqa: E731
            results = _ordered(chunks, submit, window=4 * n_workers)
    acc = None
    kept_parts = []
    events = 0
    done = 0
    try:
        for res in results:
            if res[0] == "error":
                _, run, info, err_state = res
                raise_failure(net, info, err_state, run)
            _, n, mean, m2, cov, kept, n_events = res
            acc = _merge(acc, (n, mean, m2, cov))
            if kept.shape[0]:
                kept_parts.append(kept)
            events += n_events
            done += n
            if progress:
                progress(done)
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    elapsed = _time.perf_counter() - started
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
    settings = {"method": variant.name, "runs": runs, "seed": _seed_repr(seed),
                "seed_entropy": getattr(entropy, "entropy", entropy),
                "workers": used_workers, "chunk_runs": CHUNK_RUNS,
                "system_size": float(net.system_size), "t_end": float(times[-1]),
                "n_times": len(times), "events": int(events), "seconds": elapsed,
                "max_count": max_count, "max_steps": max_steps}
    return EnsembleResult(mean=mean_df, variance=var_df, runs=runs, trajectories=trajectories,
                          stderr=stderr, settings=settings, method=variant.name,
                          covariance=cov_df)
