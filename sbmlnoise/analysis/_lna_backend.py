"""The linear noise approximation as an ``analyze`` backend (see :mod:`sbmlnoise.lna`).

Use for large copy numbers near a stable fixed point: Gaussian fluctuations around the
rate equations, exact for linear propensities (van Kampen 1992; Elf & Ehrenberg 2003,
doi:10.1101/gr.1196503). It stops being valid at small copy numbers with nonlinear
propensities, and it does not apply without a stable fixed point.
"""

from __future__ import annotations

from .._summary import first_line
from ..errors import NoSteadyState
from ..stats import NoiseStatistics
from ._backends import Backend, Cost, Refusal, Request, RunState, register_backend
from ._context import ModelContext


@register_backend
class LNABackend(Backend):
    name = "lna"
    label = "LNA"
    rank = 10
    description = ("linear noise approximation (Gaussian fluctuations around the rate "
                   "equations; exact second moments for linear propensities)")
    reference = "Elf & Ehrenberg 2003, doi:10.1101/gr.1196503"
    capabilities = {"stationary": True, "time_point": True, "large_counts": True,
                    "non_integer_stoichiometry": True}

    def applies(self, ctx: ModelContext, request: Request, state: RunState) -> Refusal | None:
        gap = super().applies(ctx, request, state)
        if gap is not None:
            return gap
        if request.time is None and ctx.steady_state is None and not request.strict:
            why = ctx.no_fixed_point or "the rate equations have no stable fixed point"
            return Refusal(f"no stable steady state ({why})", NoSteadyState)
        return None

    def cost(self, ctx: ModelContext, request: Request, state: RunState) -> Cost:
        n = ctx.net.n_species
        return Cost(1e-3 + 1e-8 * n ** 3, f"{n} species (Lyapunov solve)")

    def run(self, ctx: ModelContext, request: Request, state: RunState) -> NoiseStatistics:
        from ..lna import lna
        if request.time is not None:
            return lna(ctx.net, t=request.time)
        return lna(ctx.net, steady_state=ctx.steady_state)

    def explain(self, err: BaseException, request: Request) -> str:
        if isinstance(err, NoSteadyState):
            return f"no stable steady state ({first_line(err)})"
        return first_line(err)
