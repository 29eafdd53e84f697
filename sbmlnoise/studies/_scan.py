"""Parameter scans of the stationary noise: :func:`scan` -> one tidy DataFrame.

A scan evaluates one noise backend at every point of a cartesian grid of parameter
values (``net.with_parameters`` per point) and returns one row per point and species.
Points are independent, so they run in parallel: local processes
(:class:`concurrent.futures.ProcessPoolExecutor`, ``workers=``) or a Dask cluster
(``client=``). A point where the backend cannot run (no steady state, state space too
large, ...) gets ``nan`` statistics and the reason in the ``error`` column instead of
stopping the scan.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import NoSteadyState, SbmlnoiseError, StateSpaceTooLarge, UnsupportedFeature
from ..network import ReactionNetwork
from ..importer._tellurium import accepts_model

if TYPE_CHECKING:
    from ..stats import NoiseStatistics

__all__ = ["scan", "parse_range", "SCAN_METHODS"]

SCAN_METHODS = ("auto", "lna", "fsp", "ssa")
_STATS = ("mean", "variance", "fano", "cv")


# =========================================================================== front door
@accepts_model
def scan(net: ReactionNetwork, parameters: Mapping[str, Sequence[float]],
         method: str = "auto", *, species: Sequence[str] | str | None = None,
         workers: int | None = None, client=None, progress: bool | None = None,
         seed: int | None = None, fsp_tol: float = 1e-6, max_states: int = 200_000,
         t_end: float | None = None, burn_in: float | None = None,
         ssa_relaxation_times: float = 2000.0) -> pd.DataFrame:
    """Stationary noise statistics over a grid of parameter values.

    Parameters
    ----------
    net : ReactionNetwork, str or os.PathLike
        A network, or a path / SBML / Antimony text / COMBINE archive to load.
    parameters : mapping of str -> array_like
        Parameter id -> values (model units). Several parameters span their cartesian
        product, the first parameter varying slowest.
    method : {"auto", "lna", "fsp", "ssa"}
        Backend per point. ``"auto"``: the FSP when it fits in ``max_states`` states,
        else the LNA, else (no stable steady state) the SSA; the ``method`` column says
        which one ran.
    species : str or sequence of str, optional
        Species to report (default: all).
    workers : int, optional
        Local worker processes (default 1: in this process). Results do not depend on it.
    client : dask.distributed.Client, optional
        Evaluate the points on a Dask cluster instead.
    progress : bool, optional
        tqdm progress bar over the points; default: only when stderr is a terminal.
    seed : int, optional
        SSA: point ``i`` uses the ``i``-th child of ``numpy.random.SeedSequence(seed)``, so
        a scan is reproducible for any ``workers``.
    fsp_tol, max_states : float, int
        FSP truncation tolerance and largest state space.
    t_end, burn_in : float, optional
        SSA run length and burn-in (model time). Default per point from the slowest
        relaxation time ``tau`` of the LNA Jacobian: ``burn_in = 10 tau``,
        ``t_end = burn_in + ssa_relaxation_times * tau``.
    ssa_relaxation_times : float
        See ``t_end``.

    Returns
    -------
    pandas.DataFrame
        One row per grid point and species: one column per scanned parameter, then
        ``species``, ``mean``, ``variance`` (counts^2), ``fano``, ``cv``, ``method``;
        ``mean_stderr``, ``variance_stderr``, ``fano_stderr``, ``cv_stderr`` when a point
        was sampled (SSA; batch-means standard errors), ``error_bound`` when the FSP ran,
        and ``error`` (the reason a point failed; empty when it did not) when any point
        failed. ``attrs``: ``parameters`` (the scanned ids), ``method``, ``model``,
        ``system_size``.

    Raises
    ------
    KeyError
        Unknown parameter or species.
    ValueError
        Empty grid, non-finite values, unknown method.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; => X; k; X => ; g*X; k = 10; g = 1; X = 0; end")
    >>> df = sn.scan(net, {"k": [1.0, 2.0, 4.0]}, method="lna")
    >>> df["mean"].tolist(), df["fano"].tolist()
    ([1.0, 2.0, 4.0], [1.0, 1.0, 1.0])
    """
    net = as_network(net)
    method = str(method).lower()
    if method not in SCAN_METHODS:
        raise ValueError(f"unknown method '{method}'; choose one of {', '.join(SCAN_METHODS)}")
    names, grid = _grid(net, parameters)
    wanted = _species(net, species)
    options = {"method": method, "species": wanted, "fsp_tol": float(fsp_tol),
               "max_states": int(max_states), "t_end": t_end, "burn_in": burn_in,
               "relaxation_times": float(ssa_relaxation_times)}
    seeds = np.random.SeedSequence(seed).spawn(len(grid))
    tasks = [(net.with_parameters(**dict(zip(names, point))), options,
              int(seeds[i].generate_state(1)[0])) for i, point in enumerate(grid)]
    if progress is None:
        progress = sys.stderr.isatty()
    results = _run(tasks, workers, client, progress, label=f"scan {net.id}")
    frame = _assemble(names, grid, results)
    frame.attrs.update(parameters=list(names), method=method, model=net.id,
                       system_size=float(net.system_size))
    return frame


def parse_range(text: str) -> np.ndarray:
    """Values of a parameter range written ``start:stop:N`` (``N`` evenly spaced values),
    ``start:stop:logN`` (``N`` log-spaced values, ``start, stop > 0``) or ``a,b,c``.

    >>> parse_range("0.1:10:log3").tolist()
    [0.1, 1.0, 10.0]
    >>> parse_range("1:2:3").tolist(), parse_range("1,5").tolist()
    ([1.0, 1.5, 2.0], [1.0, 5.0])
    """
    text = text.strip()
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise ValueError
            lo, hi, count = float(parts[0]), float(parts[1]), parts[2].strip().lower()
            if count.startswith("log"):
                n = int(count[3:])
                if not (lo > 0 and hi > 0):
                    raise ValueError(f"a log range needs positive ends, got '{text}'")
                values = np.logspace(math.log10(lo), math.log10(hi), n)
            else:
                n = int(count)
                values = np.linspace(lo, hi, n)
            if n < 1:
                raise ValueError
        else:
            values = np.array([float(v) for v in text.split(",") if v.strip()])
    except ValueError as err:
        if str(err).startswith("a log range"):
            raise
        raise ValueError(f"cannot read the range '{text}'; write start:stop:N, "
                         "start:stop:logN or a,b,c") from None
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"the range '{text}' gives no finite values")
    return values


# =========================================================================== helpers
def as_network(net) -> ReactionNetwork:
    """``net`` itself, or :func:`sbmlnoise.load` of a path / SBML / Antimony text."""
    if isinstance(net, ReactionNetwork):
        return net
    from ..importer import load
    return load(net)


def _grid(net: ReactionNetwork, parameters: Mapping[str, object]
          ) -> tuple[list[str], list[tuple[float, ...]]]:
    if not isinstance(parameters, Mapping) or not parameters:
        raise ValueError("parameters must be a non-empty mapping {parameter id: values}")
    names = list(parameters)
    axes = []
    for pid in names:
        if pid not in net.parameter_ids:
            raise KeyError(f"no parameter '{pid}' in model '{net.id}'; parameters are "
                           f"{', '.join(net.parameter_ids)}")
        values = np.atleast_1d(np.asarray(parameters[pid], dtype=float)).ravel()
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise ValueError(f"values of parameter '{pid}' must be finite and non-empty")
        axes.append(values)
    return names, list(itertools.product(*[a.tolist() for a in axes]))


def _species(net: ReactionNetwork, species: str | Iterable[str] | None) -> list[str]:
    if species is None:
        return list(net.species_ids)
    names = [species] if isinstance(species, str) else list(species)
    for s in names:
        net.index(s)
    return names


def _ssa_times(net: ReactionNetwork, options: dict) -> tuple[float, float]:
    if options["t_end"] is not None:
        t_end = float(options["t_end"])
        burn = float(options["burn_in"]) if options["burn_in"] is not None else 0.1 * t_end
        return t_end, burn
    from ..lna import lna
    eig = np.asarray(lna(net, emre=False).extra.get("eigenvalues", []))
    rates = np.abs(eig.real[eig.real < 0]) if eig.size else np.array([])
    tau = 1.0 / float(rates.min()) if rates.size else 1.0
    burn = float(options["burn_in"]) if options["burn_in"] is not None else 10.0 * tau
    return burn + options["relaxation_times"] * tau, burn


def _one(net: ReactionNetwork, method: str, options: dict, seed: int) -> NoiseStatistics:
    """NoiseStatistics of one point with one backend."""
    if method == "lna":
        from ..lna import lna
        return lna(net, emre=False)
    if method == "fsp":
        from ..fsp import fsp
        return fsp(net, tol=options["fsp_tol"], max_states=options["max_states"]).stats
    from ..ssa import ssa_stationary
    t_end, burn = _ssa_times(net, options)
    return ssa_stationary(net, t_end=t_end, burn_in=burn, seed=seed)


def evaluate_point(net: ReactionNetwork, options: dict, seed: int) -> dict:
    """Statistics of one scan point: ``{"rows": [...], "method": str, "error": str}``.

    Runs in a worker process or on a Dask worker; never raises for a model the backend
    cannot handle (the reason is returned instead)."""
    method = options["method"]
    order = {"auto": ("fsp", "lna", "ssa")}.get(method, (method,))
    reasons = []
    for m in order:
        try:
            st = _one(net, m, options, seed)
        except (StateSpaceTooLarge, UnsupportedFeature, NoSteadyState) as err:
            reasons.append(f"{m}: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
            continue
        except (SbmlnoiseError, ValueError, ArithmeticError, np.linalg.LinAlgError) as err:
            reasons.append(f"{m}: {str(err).splitlines()[0] if str(err) else type(err).__name__}")
            if method != "auto":
                break
            continue
        frame = st.to_frame()
        rows = []
        for s in options["species"]:
            row = {"species": s, "method": m}
            for col in _STATS:
                row[col] = float(frame.loc[s, col])
            if st.stderr:
                for col in _STATS:
                    key = f"{col}_stderr"
                    row[key] = float(frame.loc[s, key]) if key in frame.columns else math.nan
            if m == "fsp":
                row["error_bound"] = float(st.extra.get("error_bound", math.nan))
            rows.append(row)
        return {"rows": rows, "method": m, "error": ""}
    rows = [dict({"species": s, "method": method}, **{c: math.nan for c in _STATS})
            for s in options["species"]]
    return {"rows": rows, "method": method, "error": "; ".join(reasons)}


def _star(args: tuple[ReactionNetwork, dict, int]) -> dict:
    return evaluate_point(*args)


def _run(tasks: list, workers: int | None, client, progress: bool, label: str) -> list:
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(tasks), desc=label, unit="point")
    try:
        if client is not None:
            futures = client.map(_star, tasks, pure=False)
            results = []
            for fut in futures:
                results.append(fut.result())
                if bar is not None:
                    bar.update(1)
            return results
        workers = 1 if workers is None else int(workers)
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if workers == 1 or len(tasks) == 1:
            results = []
            for task in tasks:
                results.append(_star(task))
                if bar is not None:
                    bar.update(1)
            return results
        return _run_processes(tasks, workers, bar)
    finally:
        if bar is not None:
            bar.close()


def _run_processes(tasks: list, workers: int, bar) -> list:
    """Spawned worker processes (no fork of a process that may hold threads). If they
    cannot start (e.g. a main script read from stdin cannot be re-imported by a spawned
    child), warn and evaluate in this process instead."""
    import multiprocessing
    import warnings
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")
    results: list = []
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx) as pool:
            for res in pool.map(_star, tasks, chunksize=max(1, len(tasks) // (4 * workers))):
                results.append(res)
                if bar is not None:
                    bar.update(1)
        return results
    except BrokenProcessPool as err:
        warnings.warn(f"scan: worker processes failed to start or died ({err}); evaluating "
                      "the remaining points in this process", RuntimeWarning, stacklevel=3)
    for task in tasks[len(results):]:
        results.append(_star(task))
        if bar is not None:
            bar.update(1)
    return results


def _assemble(names, grid, results) -> pd.DataFrame:
    records = []
    failed = any(r["error"] for r in results)
    for point, res in zip(grid, results):
        for row in res["rows"]:
            rec = dict(zip(names, point))
            rec.update(row)
            if failed:
                rec["error"] = res["error"]
            records.append(rec)
    frame = pd.DataFrame.from_records(records)
    lead = list(names) + ["species", *_STATS, "method"]
    rest = [c for c in frame.columns if c not in lead]
    return frame[lead + rest]
