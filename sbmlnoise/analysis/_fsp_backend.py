"""The finite state projection as an ``analyze`` backend (see :mod:`sbmlnoise.fsp`).

Use when the reachable state space is small (up to ``max_states`` states): exact up to the
stated truncation error (Munsky & Khammash 2006, doi:10.1063/1.2145882).
"""

from __future__ import annotations


import numpy as np

from .._summary import first_line
from ..errors import SbmlnoiseError, StateSpaceTooLarge
from ..network import ReactionNetwork
from .._deadline import clip
from ..stats import NoiseStatistics
from ._backends import Backend, Cost, Refusal, Request, RunState, register_backend
from ._context import ModelContext

#: ``auto``/``all`` skip the FSP without trying when a rough state-count estimate exceeds
#: this multiple of ``max_states``
PRECHECK_FACTOR = 20.0
#: seconds the rate equations may take to estimate the FSP box of a model without a
#: steady state (beyond, the initial counts stand in)
LEVEL_SECONDS = 5.0
#: independent species beyond which the FSP is not tried without a state-count estimate
BLIND_SPECIES = 8
#: seconds per projected state of one sparse LU (order of magnitude, one core)
_SECONDS_PER_STATE = 2e-6


@register_backend
class FSPBackend(Backend):
    name = "fsp"
    label = "FSP"
    rank = 0
    description = "finite state projection of the chemical master equation (exact up to a bound)"
    reference = "Munsky & Khammash 2006, doi:10.1063/1.2145882"
    capabilities = {"stationary": True, "time_point": True, "exact": True,
                    "oscillators": True}

    def applies(self, ctx: ModelContext, request: Request, state: RunState) -> Refusal | None:
        gap = super().applies(ctx, request, state)
        if gap is not None or request.strict or request.time is not None:
            return gap
        guess = projected_states(ctx)
        if guess > PRECHECK_FACTOR * request.max_states:
            return Refusal(f"state space larger than max_states={request.max_states:g} "
                           f"(a projection covering mean + 6 sd of every independent species "
                           f"needs about {guess:.2g} states)", StateSpaceTooLarge)
        n_ind = len(ctx.net.independent_species)
        if guess <= 0 and n_ind > BLIND_SPECIES:
            # no estimate (the rate equations could not be integrated in time): with this
            # many dimensions the lattice is beyond max_states at any copy number above ~2
            return Refusal(f"no state-count estimate and {n_ind} independent species (a "
                           f"lattice of at least 2^{n_ind} states is tried only below "
                           f"{BLIND_SPECIES + 1})", StateSpaceTooLarge)
        return None

    def cost(self, ctx: ModelContext, request: Request, state: RunState) -> Cost:
        states = min(projected_states(ctx), float(request.max_states))
        return Cost(states * _SECONDS_PER_STATE, f"about {states:.3g} states")

    def run(self, ctx: ModelContext, request: Request, state: RunState) -> NoiseStatistics:
        from ..fsp import fsp
        result = fsp(ctx.net, t=request.time, tol=request.fsp_tol,
                     max_states=request.max_states,
                     steady_state=ctx.steady_state if request.time is None else None)
        state.artifacts["fsp_result"] = result
        bound = float(getattr(result, "error_bound", 0.0) or 0.0)
        if bound > request.fsp_tol:
            state.warnings.append(f"FSP error bound {bound:.3g} exceeds the tolerance "
                                  f"{request.fsp_tol:g}")
        return result.stats

    def explain(self, err: BaseException, request: Request) -> str:
        if isinstance(err, StateSpaceTooLarge):
            return f"state space larger than max_states={request.max_states:g} ({first_line(err)})"
        if isinstance(err, MemoryError):
            return "out of memory building the projection"
        return first_line(err)


def projected_states(ctx: ModelContext) -> float:
    """Size of the smallest first box the FSP would try (:func:`sbmlnoise.fsp.projected_states`
    with 3 Poisson standard deviations around the steady state -- or, without one, around
    the maximum of the rate equations over 50 relaxation times): the same rule as the FSP's
    own, so ``auto`` and ``method="fsp"`` quote the same numbers. 0 when unknown."""
    if "fsp_states" not in ctx.memo:  # applies() and cost() both ask
        ctx.memo["fsp_states"] = _projected_states(ctx)
    return ctx.memo["fsp_states"]


def _projected_states(ctx: ModelContext) -> float:
    from ..fsp._solver import projected_states as fsp_states
    level = _levels(ctx)
    if level is None:
        return 0.0  # no estimate: let the FSP decide
    try:
        return float(fsp_states(ctx.net, level, k_sd=3.0))
    except (SbmlnoiseError, ValueError, ZeroDivisionError):
        return 0.0


def _levels(ctx: ModelContext) -> np.ndarray | None:
    net: ReactionNetwork = ctx.net
    omega = float(net.system_size)
    if ctx.ss_amounts is not None:
        level = ctx.ss_amounts * omega
    else:
        try:
            from ..ode import simulate_ode
            horizon = 50.0 * ctx.relaxation_time
            traj = simulate_ode(net, np.linspace(0.0, horizon, 101), rules=False,
                                wall_time=clip(LEVEL_SECONDS))[list(net.species_ids)]
            level = traj.max(axis=0).to_numpy(dtype=float) * omega
        except (SbmlnoiseError, ValueError, np.linalg.LinAlgError):
            # a stiff or long transient: the initial counts are a lower bound of the box
            level = np.abs(np.asarray(net.initial_state, dtype=float))
    return np.clip(np.nan_to_num(level, nan=0.0, posinf=1e300), 0.0, 1e300)
