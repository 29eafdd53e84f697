"""The exact stochastic simulation as an ``analyze`` backend (see :mod:`sbmlnoise.ssa`).

Stationary: one long run, time averages after a burn-in with batch-means standard errors.
At a time point: an ensemble of runs from the initial state, with standard errors from
the ensemble (Gillespie 1977, doi:10.1021/j100540a008).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import NoSteadyState
from ..network import ReactionNetwork
from ..stats import NoiseStatistics
from ._backends import (Backend, Cost, Refusal, Request, RunState, EVENTS_PER_SECOND,
                        register_backend)
from ._context import ModelContext


@register_backend
class SSABackend(Backend):
    name = "ssa"
    label = "SSA"
    rank = 20
    description = ("exact stochastic simulation: long-run time averages (stationary) or an "
                   "ensemble at a time point, with standard errors")
    reference = "Gillespie 1977, doi:10.1021/j100540a008"
    capabilities = {"stationary": True, "time_point": True, "exact": True, "events": True,
                    "oscillators": True}

    def applies(self, ctx: ModelContext, request: Request, state: RunState) -> Refusal | None:
        gap = super().applies(ctx, request, state)
        if gap is not None:
            return gap
        if request.time is None and ctx.no_fixed_point and "fsp" not in state.statistics:
            # time averages of a process without a stationary law would be numbers that
            # describe nothing (an unbounded birth process grows forever)
            return Refusal(f"no stationary distribution to estimate: {ctx.no_fixed_point}; "
                           "analyse a time point instead (time=... / --time)", NoSteadyState)
        return _beyond_budget(ctx, request, state)

    def cost(self, ctx: ModelContext, request: Request, state: RunState) -> Cost:
        if request.time is not None:
            rate = ctx.event_rate()
            events = request.ssa_runs * (rate if math.isfinite(rate) else 1.0) * request.time
        else:
            events = plan_stationary(ctx, state.reference_counts(ctx), request)["expected_events"]
        return Cost(events / EVENTS_PER_SECOND, f"about {events:.3g} reaction events")

    def run(self, ctx: ModelContext, request: Request, state: RunState) -> NoiseStatistics:
        seed = request.child_seed(0)
        if request.time is not None:
            state.plans["ssa"] = {"time": request.time, "runs": int(request.ssa_runs)}
            return ssa_at_time(ctx.net, request.time, int(request.ssa_runs), seed,
                               max_steps=max_events_per_run(request))
        from ..ssa import ssa_stationary
        plan = plan_stationary(ctx, state.reference_counts(ctx), request)
        state.plans["ssa"] = plan
        st = ssa_stationary(ctx.net, t_end=plan["t_end"], burn_in=plan["burn_in"], seed=seed,
                            max_steps=int(plan["max_events"]))
        if plan["relaxation_times"] < 100:
            state.warnings.append(
                f"the SSA run covers only {plan['relaxation_times']:.0f} relaxation times "
                "after the burn-in; its estimates are rough (raise --t-end or ssa_events)")
        if ctx.unstable:
            state.warnings.append("the rate equations have no stable steady state "
                                  "(oscillator?): the LNA does not apply, the SSA time "
                                  "averages describe the stationary law of the stochastic "
                                  "process")
        return st


#: a run inside ``analyze`` stops (SimulationError) after this multiple of its event budget
EVENT_CAP_FACTOR = 10.0
#: the shortest stationary run worth reporting, in relaxation times after the burn-in
MIN_RELAXATION_TIMES = 20.0


def event_budget(request: Request) -> float:
    """Reaction events one SSA analysis may fire: ``ssa_events``, else 3e5 for ``auto``
    and 3e6 otherwise."""
    if request.ssa_events:
        return float(request.ssa_events)
    return 3e5 if request.method == "auto" else 3e6


def max_events_per_run(request: Request) -> int:
    """Hard cap on the events of one run of a time-point ensemble."""
    return int(max(EVENT_CAP_FACTOR * event_budget(request) / max(request.ssa_runs, 1), 1e4))


def _beyond_budget(ctx: ModelContext, request: Request, state: RunState) -> Refusal | None:
    """Refuse a run that could not cover enough relaxation times within the event budget
    (a stiff model: fast reactions fire ~1e12 times per slow relaxation time); its time
    averages would describe the burn-in, not the stationary law."""
    budget = event_budget(request)
    if request.time is not None:
        rate = ctx.event_rate()
        need = request.ssa_runs * rate * request.time if math.isfinite(rate) else 0.0
        what = f"{request.ssa_runs} runs to t = {request.time:g}"
    else:
        rate = ctx.event_rate(state.reference_counts(ctx))
        span = (10.0 + MIN_RELAXATION_TIMES) * ctx.relaxation_time
        need = rate * span if math.isfinite(rate) else 0.0
        what = f"{span:.3g} time units (burn-in and {MIN_RELAXATION_TIMES:g} relaxation times)"
        if request.t_end is not None:  # the user fixed the run length
            need = rate * float(request.t_end) if math.isfinite(rate) else 0.0
            what = f"t_end = {float(request.t_end):g}"
    if need > EVENT_CAP_FACTOR * budget:
        return Refusal(f"an exact simulation of {what} needs about {need:.2g} reaction events, "
                       f"beyond the event budget of {budget:.2g} (ssa_events); the model is "
                       "stiff or large -- use 'fsp' or 'lna', or raise ssa_events")
    return None


def plan_stationary(ctx: ModelContext, ref_counts: np.ndarray, request: Request) -> dict:
    """Length of the stationary run: ``burn_in = 10 tau`` and ``t_end`` such that about
    ``ssa_events`` reactions fire (between 20 and 2000 ``tau`` after the burn-in), with
    ``tau`` the slowest relaxation time (or the period when longer)."""
    budget = event_budget(request)
    tau = ctx.relaxation_time
    rate = ctx.event_rate(ref_counts)
    if not (np.isfinite(rate) and rate > 0):
        rate = 1.0 / tau
    burn_in = 10.0 * tau if request.burn_in is None else float(request.burn_in)
    t_end = request.t_end
    if t_end is None:
        length = max(min(budget / rate, 2000.0 * tau), MIN_RELAXATION_TIMES * tau)
        t_end = burn_in + length
    if not (t_end > burn_in >= 0):
        raise ValueError(f"need t_end > burn_in >= 0 (got t_end={t_end}, burn_in={burn_in})")
    return {"t_end": float(t_end), "burn_in": float(burn_in), "relaxation_time": float(tau),
            "relaxation_times": float((t_end - burn_in) / tau),
            "expected_events": float(rate * t_end), "event_budget": float(budget),
            "max_events": float(max(EVENT_CAP_FACTOR * budget, EVENT_CAP_FACTOR * rate * t_end
                                    if request.t_end is not None else 0.0, 1e5))}


def ssa_at_time(net: ReactionNetwork, time: float, runs: int, seed: int,
                max_steps: int | None = None) -> NoiseStatistics:
    """Ensemble statistics at one time from ``runs`` SSA runs, with standard errors
    (mean: sqrt(var/runs); variance: normal theory; Fano and CV by the delta method)."""
    from ..ssa import ssa
    times = [0.0, time] if time > 0 else [0.0]
    kwargs = {} if max_steps is None else {"max_steps": int(max_steps)}
    ens = ssa(net, times=times, runs=runs, seed=seed, covariance=True, workers=1, **kwargs)
    ids = list(ens.mean.columns)
    if ens.covariance is None:
        raise ValueError("ssa ensemble without covariance")
    mean = ens.mean.iloc[-1].astype(float)
    cov = ens.covariance.xs(ens.mean.index[-1], level=0).loc[ids, ids].astype(float)
    var = pd.Series(np.diag(cov.to_numpy()), index=ids)
    se_mean = ens.stderr["mean"].iloc[-1].astype(float)
    se_var = ens.stderr["variance"].iloc[-1].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        fano = var / mean
        rel = np.sqrt((se_var / var) ** 2 + (se_mean / mean) ** 2)
        se_fano = (fano * rel).where(mean != 0)
        cv = np.sqrt(var) / mean
        se_cv = (cv * np.sqrt((0.5 * se_var / var) ** 2 + (se_mean / mean) ** 2)).where(mean != 0)
    settings = dict(ens.settings)
    settings.update(runs=runs, time=time)
    return NoiseStatistics(mean=mean.rename("mean"), covariance=cov, method="ssa",
                           settings=settings,
                           stderr={"mean": se_mean, "variance": se_var, "fano": se_fano,
                                   "cv": se_cv},
                           time=time)
