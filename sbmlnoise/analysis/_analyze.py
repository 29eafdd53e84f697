"""One front door for a noise analysis: :func:`analyze` -> :class:`AnalysisReport`.

``analyze`` validates the request, builds one :class:`~._context.ModelContext` (steady
state, stability, time scales: computed once), loops over the backend registry
(:mod:`._backends`), and assembles the report: sample trajectories, thermodynamics,
bursts, the consistency table and the intrinsic/extrinsic decomposition. It has no
per-backend code; each backend's applicability, cost, run and failure text live in its
own class.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import platform
import time as _time
from typing import Any, Iterator, Sequence

import numpy as np
import pandas as pd

from .._summary import first_line
from ..errors import NoSteadyState, SbmlnoiseError, UnsupportedFeature
from ..network import ReactionNetwork
from ..stats import NoiseStatistics
from ._backends import Backend, Request, RunState, get_backend, registered
from ._context import ModelContext, build_context
from ._dynamics_stage import Dynamics, dynamics
from ._rule_stats import assignment_statistics
from ._result import AnalysisReport
from ._units import check_units, report_in_units
from .._deadline import within_wall_time
from .._blas import one_blas_thread

__all__ = ["analyze", "METHODS", "versions"]

#: the built-in backends, in order of preference for the primary result
METHODS = ("fsp", "lna", "ssa")

#: default wall-clock limit of one analysis (seconds; cooperative, see ``analyze``)
WALL_TIME = 600.0
#: relative tolerance between FSP and LNA below which they count as consistent
FSP_LNA_RTOL = 1e-3
#: number of standard errors beyond which an SSA estimate counts as inconsistent
SSA_N_SE = 4.0
#: hard cap on the reaction events of one sample trajectory (about 2e4 are planned)
TRAJECTORY_MAX_EVENTS = 200_000


@one_blas_thread
@within_wall_time
def analyze(net, method: str = "auto", species=None, *, seed: int | None = None,
            t_end: float | None = None, burn_in: float | None = None,
            ssa_events: float | None = None, trajectories: int = 3,
            fsp_tol: float = 1e-6, max_states: int = 200_000,
            thermo: str | None = "network", system_size: float | None = None,
            time: float | None = None, ssa_runs: int = 1000,
            budget: float | None = None, wall_time: float | None = WALL_TIME,
            progress: bool = False, units: str = "count") -> AnalysisReport:
    """Noise analysis of a reaction network: stationary, or at one time point.

    Parameters
    ----------
    net : ReactionNetwork, str, os.PathLike or RoadRunner
        A network, a path / SBML / Antimony text / COMBINE archive (read with
        :func:`sbmlnoise.load`), or a libRoadRunner/Tellurium model object (read with
        :func:`sbmlnoise.from_roadrunner`, current parameter values).
    method : str
        ``"auto"`` (the FSP when the projected state space is small enough, the LNA, and a
        short SSA cross-check; a model without a stable steady state gets the SSA as its
        primary method), ``"all"`` (every backend that applies, with a consistency table)
        or the name of one registered backend (``sn.backends()``: ``"fsp"``, ``"lna"``,
        ``"ssa"``, ...). A backend named explicitly that cannot run raises
        (``StateSpaceTooLarge``, ``NoSteadyState``, ``UnsupportedFeature``); ``"auto"`` and
        ``"all"`` fall back and record why in ``report.skipped``.
    species : str or sequence of str, optional
        Species to report (default: all). Backends still model every species.
    seed : int, optional
        Seed of the SSA runs (a ``numpy.random.SeedSequence`` is spawned from it).
    t_end, burn_in : float, optional
        Length of the stationary SSA run and of the discarded transient (model time
        units). Default: from the slowest relaxation time ``tau`` of the rate equations
        and the event budget -- ``burn_in = 10 tau`` and ``t_end`` such that about
        ``ssa_events`` reactions fire (between 20 and 2000 ``tau`` after the burn-in).
    ssa_events : float, optional
        Event budget of the SSA run: default 3e5 for ``"auto"``, 3e6 otherwise.
    trajectories : int
        Number of sample SSA trajectories kept for the report (0 for none).
    fsp_tol, max_states : float, int
        FSP truncation tolerance and the largest projected state space tried.
    thermo : {"network", "cme", None}
        Level of the thermodynamic analysis (:func:`sbmlnoise.thermodynamics`); None skips.
    system_size : float, optional
        Molecules per model substance unit: passed to :func:`sbmlnoise.load` when ``net``
        is a path or text; for a network it must equal ``net.system_size`` (build the
        network with ``sn.load(..., system_size=...)`` to change it).
    time : float, optional
        Analyse the distribution at this time (model time units) after starting from the
        model's initial state instead of the stationary one: transient FSP and LNA, and an
        SSA ensemble of ``ssa_runs`` runs (standard errors from the ensemble). Spectra and
        autocorrelations are stationary notions and are absent then.
    ssa_runs : int
        Ensemble size of the SSA with ``time`` (default 1000).
    budget : float, optional
        Seconds one backend may take: a backend whose own cost estimate exceeds it is
        skipped with the reason (not with a name given in ``method``). Default: none.
    wall_time : float, optional
        Wall-clock seconds for the whole analysis (default 600; None: no limit). The limit
        is cooperative: once it has passed, the remaining backends (after one has answered)
        and the optional stages (dynamics, noise control) are skipped with the reason, and a
        backend whose cost estimate exceeds it is not started under ``auto``/``all``. A
        running backend stops at its next check once the limit plus a grace period (10%,
        at least 1 s) has passed -- FSP expansions and GMRES steps, SSA ensemble chunks,
        ODE integrations (:mod:`sbmlnoise._deadline`); a single native call (a sparse LU,
        one compiled SSA run within its event cap) finishes first.
    progress : bool
        Show a progress bar (tqdm) over the analysis steps.
    units : {"count", "concentration"}
        Units of every reported mean, sd, covariance, autocovariance/PSD amplitude,
        distribution, trajectory and time course: molecule counts (default) or
        concentrations ``[X] = n / (system_size * V)`` in model units, as libRoadRunner's
        ``[X]`` (:mod:`sbmlnoise.analysis._units`). The CV is unchanged; the Fano factor
        stays that of the counts (it is defined on counts).

    Returns
    -------
    AnalysisReport

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> rep = sn.analyze("model bd; => X; k; X => ; g*X; k = 10; g = 1; X = 0; end",
    ...                  method="lna")
    >>> round(float(rep.species_table().loc["X", "fano"]), 6)
    1.0
    """
    t_start = _time.perf_counter()
    units = check_units(units)
    timings: dict[str, float] = {}
    net = _network(net, system_size, timings)
    species = _species(net, species)
    names = _method_names(method)
    request = _request(method, species, seed, time, ssa_runs, trajectories, t_end, burn_in,
                       ssa_events, fsp_tol, max_states,
                       budget if budget is not None or wall_time is None else wall_time)
    deadline = math.inf if wall_time is None else t_start + float(wall_time)
    t0 = _time.perf_counter()
    ctx = build_context(net, time=request.time)
    timings["steady_state"] = _time.perf_counter() - t0
    state = RunState(warnings=list(net.warnings) + list(ctx.warnings))
    bar = _Progress(progress, len(names) + bool(thermo) + bool(trajectories), net.id)
    skipped = _run_backends(names, ctx, request, state, timings, bar, deadline, wall_time)
    primary = next(m for m in registered() if m in state.statistics)
    fsp_skip = skipped.get("fsp")
    if method == "auto" and primary == "lna" and fsp_skip:
        state.warnings.append(f"FSP not used ({fsp_skip}); the LNA (Gaussian, small-noise) "
                              "numbers are primary")
    traj = _sample_trajectories(ctx, request, state, trajectories, timings, bar)
    thermo_report, thermo_status = _thermodynamics(ctx, request, state, thermo, timings, bar)
    late = _time.perf_counter() > deadline
    dyn = dynamics(ctx, request, state, timings) if not late else _late_dynamics(wall_time)
    bar.close()
    rep = _assemble(ctx, request, state, primary, skipped, species, timings, late, thermo,
                    trajectories, traj, thermo_report, thermo_status, dyn, t_start)
    return report_in_units(rep, units)


def _run_backends(names: list[str], ctx: ModelContext, request: Request, state: RunState,
                  timings: dict[str, float], bar: "_Progress", deadline: float,
                  wall_time: float | None) -> dict[str, str]:
    """Run the backends in ``names`` in order (registry order under auto/all); returns why
    each one that did not answer was skipped. Raises when none answered."""
    skipped: dict[str, str] = {}
    for name in names:
        bar.step(name)
        if state.statistics and _time.perf_counter() > deadline:
            skipped[name] = f"not run: the analysis passed its wall-time limit ({wall_time:g} s)"
        else:
            _run_backend(get_backend(name), ctx, request, state, skipped, timings)
        bar.done()
    if not state.statistics:
        bar.close()
        _raise_nothing_ran(ctx, request, skipped)
    return skipped


def _assemble(ctx: ModelContext, request: Request, state: RunState, primary: str,
              skipped: dict[str, str], species: list[str], timings: dict[str, float],
              late: bool, thermo: str | None, trajectories: int, traj, thermo_report,
              thermo_status, dyn: Dynamics, t_start: float) -> AnalysisReport:
    """The statistics stage (bursts, consistency, decomposition, noise control,
    assignment-rule variables) and the typed report."""
    net = ctx.net
    st = state.statistics[primary]
    bursts = _bursts(ctx, request, st, species, timings)
    consistency = consistency_table(state.statistics, species)
    decomposition = _decomposition(net, st, species, state.warnings)
    control = None if late else _noise_control(ctx, request, state, primary, species, timings)
    rules = assignment_statistics(net, state.statistics, state.artifacts)
    settings = _settings(ctx, request, state, st, thermo, trajectories)
    timings["total"] = _time.perf_counter() - t_start
    return AnalysisReport(
        model_id=net.id, model_name=net.name, species=tuple(species),
        statistics=state.statistics, primary=primary, thermo=thermo_report,
        thermo_status=thermo_status, bursts=bursts, consistency=consistency,
        skipped=skipped, network_summary=network_summary(net), settings=settings,
        versions=versions(), timings=timings, warnings=state.warnings,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        trajectories=traj, fluxes=ctx.fluxes, noise_decomposition=decomposition,
        noise_control=control, assignment_statistics=rules, time_course=dyn.time_course, oscillation=dyn.oscillation,
        multistability=dyn.multistability, dynamics={"kind": dyn.kind, "notes": dyn.notes},
        network=net)


def _late_dynamics(wall_time: float | None) -> Dynamics:
    return Dynamics(notes={"dynamics": "oscillation, time course and multistability not run: "
                           f"the analysis passed its wall-time limit ({wall_time} s)"})


def _settings(ctx: ModelContext, request: Request, state: RunState, st: NoiseStatistics,
              thermo: str | None, trajectories: int) -> dict[str, Any]:
    """What was asked for and what the analysis chose (``report.settings``)."""
    net = ctx.net
    return {"method": request.method, "species": list(request.species),
            "seed": request.seed, "fsp_tol": request.fsp_tol,
            "max_states": int(request.max_states), "thermo_level": thermo,
            "trajectories": int(trajectories), "system_size": float(net.system_size),
            "system_size_source": net.system_size_source,
            "time_scale": ctx.scales["slow"], "fast_time_scale": ctx.scales["fast"],
            "oscillation_period": ctx.scales["period"], "budget": request.budget,
            "ssa": state.plans.get("ssa"),
            "stationary": request.time is None and st.time is None,
            "time": request.time if request.time is not None else st.time}


# =========================================================================== validation
def _network(net: Any, system_size: float | None, timings: dict[str, float]) -> ReactionNetwork:
    """The network to analyse: a ReactionNetwork as is (``system_size`` must then match),
    else whatever :func:`sbmlnoise.importer._tellurium.coerce_model` reads -- a path, SBML or
    Antimony text, a COMBINE archive, a libRoadRunner/Tellurium object, a report."""
    if isinstance(net, ReactionNetwork):
        if system_size is not None and not math.isclose(float(system_size),
                                                         float(net.system_size)):
            raise ValueError(f"system_size={system_size:g} cannot be applied to an already "
                             f"built network (its system_size is {net.system_size:g}); use "
                             "sn.load(source, system_size=...) or pass the source itself")
        return net
    from ..importer._tellurium import coerce_model
    t0 = _time.perf_counter()
    out = coerce_model(net, system_size=system_size)
    timings["load"] = _time.perf_counter() - t0
    return out


def _species(net: ReactionNetwork, species: str | Sequence[str] | None) -> list[str]:
    if isinstance(species, str):
        species = [species]
    chosen = list(net.species_ids) if species is None else list(species)
    for s in chosen:
        net.index(s)  # KeyError names the species
    if not chosen:
        raise UnsupportedFeature(f"model '{net.id}' has no species to analyse (a model of "
                                 "rate rules alone has no molecule counts; sn.simulate_ode "
                                 "integrates it)", feature="no species")
    return chosen


def _method_names(method: str) -> list[str]:
    name = str(method).lower()
    if name in ("auto", "all"):
        return [n for n in registered() if get_backend(n).auto]
    get_backend(name)  # ValueError lists the choices
    return [name]


def _request(method, species, seed, time, ssa_runs, trajectories, t_end, burn_in,
             ssa_events, fsp_tol, max_states, budget) -> Request:
    if trajectories < 0:
        raise ValueError("trajectories must be >= 0")
    if time is not None:
        time = float(time)
        if not (math.isfinite(time) and time >= 0):
            raise ValueError(f"time must be a finite number >= 0 (got {time})")
        if ssa_runs < 2:
            raise ValueError("ssa_runs must be >= 2")
    if budget is not None and not (float(budget) > 0):
        raise ValueError(f"budget must be a positive number of seconds (got {budget})")
    name = str(method).lower()
    return Request(method=name, species=tuple(species), time=time, seed=seed,
                   strict=name not in ("auto", "all"), fsp_tol=float(fsp_tol),
                   max_states=int(max_states), t_end=t_end, burn_in=burn_in,
                   ssa_events=ssa_events, ssa_runs=int(ssa_runs),
                   budget=None if budget is None else float(budget))


# =========================================================================== backends
def _run_backend(backend: Backend, ctx: ModelContext, request: Request, state: RunState,
                 skipped: dict[str, str], timings: dict[str, float]) -> None:
    """Gate ``backend`` by :meth:`applies` and its cost, run it, and turn a failure into
    ``skipped[name]`` unless it was asked for by name."""
    refusal = backend.applies(ctx, request, state)
    if refusal is not None:
        if request.strict:
            raise refusal.exception()
        if not refusal.quiet:
            skipped[backend.name] = str(refusal)
        return
    if request.budget is not None and not request.strict:
        cost = backend.cost(ctx, request, state)
        if cost.seconds > request.budget:
            skipped[backend.name] = (f"estimated {cost.seconds:.3g} s ({cost.detail}) exceeds "
                                     f"the budget of {request.budget:g} s")
            return
    with _guard(backend, request, skipped, state.warnings, timings):
        state.statistics[backend.name] = backend.run(ctx, request, state)


@contextlib.contextmanager
def _guard(backend: Backend, request: Request, skipped: dict[str, str], warnings: list[str],
           timings: dict[str, float]) -> Iterator[None]:
    """Time one backend, and unless it was asked for by name turn its failure into a
    user-facing reason. An unexpected exception type is a bug in sbmlnoise, so it also
    becomes a warning."""
    started = _time.perf_counter()
    try:
        yield
    except (SbmlnoiseError, MemoryError) as err:
        if request.strict:
            raise
        skipped[backend.name] = backend.explain(err, request)
    except ImportError as err:
        if request.strict:
            raise
        skipped[backend.name] = f"{backend.label} backend unavailable ({err})"
    except Exception as err:  # noqa: BLE001 - a backend bug must not sink the report
        if request.strict:
            raise
        skipped[backend.name] = f"{backend.label} failed: {type(err).__name__}: {first_line(err)}"
        warnings.append(f"the {backend.label} backend failed unexpectedly "
                        f"({type(err).__name__}); please report it")
    finally:
        timings[backend.name] = _time.perf_counter() - started


def _raise_nothing_ran(ctx: ModelContext, request: Request, skipped: dict[str, str]) -> None:
    reasons = "; ".join(f"{m}: {why}" for m, why in skipped.items())
    if ctx.no_fixed_point and request.time is None:
        raise NoSteadyState(f"model '{ctx.net.id}' has no stationary distribution to analyse: "
                            f"{ctx.no_fixed_point}; and no time course could be made "
                            f"({skipped.get('timecourse', 'not tried')})")
    raise UnsupportedFeature(f"no noise backend could analyse model '{ctx.net.id}' ({reasons})")


# =========================================================================== stages after
def _sample_trajectories(ctx, request, state, trajectories, timings, bar) -> pd.DataFrame | None:
    """A few SSA trajectories from the initial state for the report (None if impossible)."""
    if not trajectories or ctx.stochastic_reason:
        return None
    bar.step("trajectories")
    t0 = _time.perf_counter()
    traj = None
    try:
        from ..ssa import ssa
        seed = request.child_seed(1)
        horizon = trajectory_horizon(ctx, state.reference_counts(ctx))
        ens = ssa(ctx.net, times=np.linspace(0.0, horizon, 201), runs=int(trajectories),
                  seed=seed, keep_trajectories=int(trajectories), workers=1,
                  max_steps=TRAJECTORY_MAX_EVENTS)
        traj = trajectory_frame(ens, ctx.net.species_ids)
    except (SbmlnoiseError, ImportError, TypeError, ValueError) as err:
        state.warnings.append(f"no sample trajectories: {first_line(err)}")
    timings["trajectories"] = _time.perf_counter() - t0
    bar.done()
    return traj


def trajectory_horizon(ctx: ModelContext, ref_counts: np.ndarray) -> float:
    """20 relaxation times (at least 5 periods of an oscillation), capped at about 2e4
    reaction events per trajectory."""
    horizon = 20.0 * float(ctx.scales["slow"])
    if ctx.scales.get("period"):
        horizon = max(horizon, 5.0 * float(ctx.scales["period"]))
    rate = ctx.event_rate(ref_counts)
    if np.isfinite(rate) and rate > 0:
        horizon = min(horizon, 2e4 / rate)
    return float(max(horizon, 1e-9))


def trajectory_frame(ens, species_ids) -> pd.DataFrame | None:
    """Long-format DataFrame (run, time, species...) from an SSA ensemble, if possible."""
    traj = getattr(ens, "trajectories", None)
    if traj is None:
        return None
    if isinstance(traj, pd.DataFrame):
        frame = traj.reset_index()
        return frame if {"run", "time"} <= set(frame.columns) else None
    arr = np.asarray(traj, dtype=float)
    times = np.asarray(ens.mean.index.to_numpy(), float)
    if arr.ndim != 3 or arr.shape[1] != len(times) or arr.shape[2] != len(species_ids):
        return None
    frames = []
    for r in range(arr.shape[0]):
        f = pd.DataFrame(arr[r], columns=list(species_ids))
        f.insert(0, "time", times)
        f.insert(0, "run", r)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def _thermodynamics(ctx, request, state, level, timings, bar) -> tuple[Any, dict[str, Any]]:
    if not level:
        return None, {"status": "skipped", "reason": "not requested"}
    bar.step("thermodynamics")
    t0 = _time.perf_counter()
    try:
        from ..thermo import thermodynamics
        fsp_result = state.artifacts.get("fsp_result")
        kwargs: dict[str, Any] = {}
        if level == "cme" and fsp_result is not None and request.time is None:
            kwargs["fsp_result"] = fsp_result  # reuse the stationary projection
        if ctx.steady_state is not None:
            kwargs["steady_state"] = ctx.steady_state
        report = thermodynamics(ctx.net, level=level, **kwargs)
        status: dict[str, Any] = {"status": "ok", "reason": "", "level": level}
    except (SbmlnoiseError, ImportError, ValueError) as err:
        report = None
        status = {"status": "unavailable", "reason": first_line(err),
                  "error": type(err).__name__, "level": level}
    timings["thermodynamics"] = _time.perf_counter() - t0
    bar.done()
    return report, status


def _bursts(ctx, request, st: NoiseStatistics, species, timings) -> dict[str, Any]:
    from ..bursts import burst_table
    t0 = _time.perf_counter()
    try:
        bursts = burst_table(ctx.net, st.mean.reindex(species), st.fano.reindex(species))
    except (SbmlnoiseError, ValueError) as err:
        bursts = {"kinetic": [], "moment": {}, "assumptions": {}, "error": first_line(err)}
    bursts["kinetic"] = [b for b in bursts["kinetic"] if b["species"] in species]
    if request.time is not None:  # the moment relations hold for the stationary state only
        bursts["moment"] = {}
        bursts["assumptions"]["moment"] = ("not computed: the moment-based estimate "
                                           "assumes the stationary distribution")
    timings["bursts"] = _time.perf_counter() - t0
    return bursts


def _decomposition(net, st, species, warnings) -> pd.DataFrame | None:
    try:
        from ..lna import find_reporter_pairs, noise_decomposition
        pairs = [p for p in find_reporter_pairs(net) if p[0] in species and p[1] in species]
        return noise_decomposition(st, pairs) if pairs else None
    except (SbmlnoiseError, ImportError, ValueError, KeyError) as err:
        warnings.append(f"no intrinsic/extrinsic decomposition: {first_line(err)}")
        return None


#: the exact sensitivities run inside ``analyze`` up to this many (parameters x species^2)
NOISE_CONTROL_MAX_WORK = 2e5
#: above this many FSP states the table uses the LNA's exact sensitivities instead
NOISE_CONTROL_FSP_STATES = 20_000


def _noise_control(ctx, request, state, primary, species, timings) -> pd.DataFrame | None:
    """The ranked "what controls the noise" table: exact log-sensitivities of CV^2
    (:func:`sbmlnoise.studies._sensitivity.sensitivities`) by the primary method when it is the
    stationary FSP (reusing its projection) or the LNA; None otherwise or when too big."""
    if request.time is not None or primary not in ("fsp", "lna"):
        return None
    net = ctx.net
    if len(net.parameters) * net.n_species ** 2 > NOISE_CONTROL_MAX_WORK:
        return None
    method = primary
    fr = state.artifacts.get("fsp_result")
    if primary == "fsp" and fr is not None and fr.n_states > NOISE_CONTROL_FSP_STATES:
        if "lna" not in state.statistics:
            return None
        method = "lna"  # one sparse solve per parameter on a large projection is too slow
    t0 = _time.perf_counter()
    try:
        from ..studies._sensitivity import noise_control, sensitivities
        sens = sensitivities(net, method, species=list(species), fsp_tol=request.fsp_tol,
                             max_states=request.max_states,
                             fsp_result=state.artifacts.get("fsp_result"))
        table = noise_control(sens, "cv2")
        table.attrs["method"] = method
    except (SbmlnoiseError, ValueError, KeyError, np.linalg.LinAlgError) as err:
        state.warnings.append(f"no noise-control table: {first_line(err)}")
        table = None
    timings["noise_control"] = _time.perf_counter() - t0
    return table


# =========================================================================== tables
def consistency_table(statistics: dict[str, NoiseStatistics], species) -> pd.DataFrame:
    """Pairwise agreement of the methods (see :meth:`AnalysisReport.consistency_table`)."""
    order = registered()
    methods = sorted(statistics, key=lambda m: order.index(m) if m in order else len(order))
    methods = _exact_first(methods)
    rows = []
    for i, ref in enumerate(methods):
        for other in methods[i + 1:]:
            a, b = statistics[other], statistics[ref]  # b = the more exact one
            for s in species:
                if s in a.mean.index and s in b.mean.index:
                    rows.extend(_compare(other, ref, a, b, s))
    cols = ["method_a", "method_b", "species", "quantity", "value_a", "value_b", "rel_diff",
            "tolerance", "basis", "flagged"]
    return pd.DataFrame(rows, columns=cols)


def _exact_first(methods: list[str]) -> list[str]:
    """Exact methods before approximate ones (FSP, SSA, then LNA, ...)."""
    def exact(m: str) -> bool:
        try:
            return get_backend(m).supports("exact")
        except ValueError:
            return False
    return sorted(methods, key=lambda m: not exact(m))


def _compare(other: str, ref: str, a: NoiseStatistics, b: NoiseStatistics,
             s: str) -> list[dict[str, Any]]:
    rows = []
    for q in ("mean", "variance", "fano"):
        va, vb = float(getattr(a, q)[s]), float(getattr(b, q)[s])
        diff = abs(va - vb)
        denom = abs(vb) if vb != 0 else max(abs(va), 1e-300)
        rel = diff / denom if (diff > 0 or denom > 0) else 0.0
        ses = [float(st.stderr[q][s]) for st in (a, b)
               if st.stderr and q in st.stderr and s in st.stderr[q].index]
        if ses:
            se = math.sqrt(sum(x * x for x in ses))
            tol = SSA_N_SE * se / denom if denom > 0 else math.inf
            basis = f"{SSA_N_SE:g} SE (sampling)"
        elif a.stderr is not None or b.stderr is not None:
            tol, basis = math.nan, "no standard error available for this quantity"
        else:
            bound = float(b.extra.get("error_bound", a.extra.get("error_bound", 0.0)) or 0.0)
            tol = max(FSP_LNA_RTOL, 10.0 * bound)
            basis = "FSP bound (max(1e-3, 10 x error bound))"
        flagged = bool(np.isfinite(tol) and np.isfinite(rel) and rel > tol)
        rows.append({"method_a": other, "method_b": ref, "species": s, "quantity": q,
                     "value_a": va, "value_b": vb, "rel_diff": rel, "tolerance": tol,
                     "basis": basis, "flagged": flagged})
    return rows


def network_summary(net: ReactionNetwork) -> dict[str, Any]:
    """The network part of a report: ids, sizes, reactions (as equations), parameters."""
    reactions = [{"id": r.id, "sbml_id": r.sbml_id or r.id,
                  "equation": f"{net.complex_label(r.reactants)} -> "
                              f"{net.complex_label(r.products)}",
                  "direction": r.direction, "modifiers": list(r.modifiers)}
                 for r in net.reactions]
    return {"id": net.id, "name": net.name, "source": net.source_path,
            "n_species": net.n_species, "n_reactions": net.n_reactions,
            "n_parameters": len(net.parameters),
            "n_conservation_laws": int(net.conservation_laws.shape[0]),
            "system_size": float(net.system_size),
            "system_size_source": net.system_size_source,
            "species": list(net.species_ids), "reactions": reactions,
            "parameters": {p.id: float(p.value) for p in net.parameters},
            "summary": net.summary()}


def versions() -> dict[str, str]:
    """Versions of sbmlnoise and the libraries whose numbers it reports."""
    import libsbml
    import networkx
    import scipy

    from .._version import __version__
    return {"sbmlnoise": __version__, "libsbml": libsbml.getLibSBMLDottedVersion(),
            "numpy": np.__version__, "scipy": scipy.__version__, "pandas": pd.__version__,
            "networkx": networkx.__version__, "python": platform.python_version()}


class _Progress:
    """A tqdm bar over the analysis steps, or nothing."""

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, desc=f"analyse {label}", unit="step")

    def step(self, label: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(label)

    def done(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
