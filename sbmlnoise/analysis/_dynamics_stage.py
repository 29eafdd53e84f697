"""The stage after the backends for models that move: oscillations, switching, noise over
time (:mod:`sbmlnoise.dynamics._oscillation`, :mod:`sbmlnoise.dynamics._multistability`,
:mod:`sbmlnoise.dynamics._timecourse`).

Which analyses run follows the model context: an unstable fixed point (a limit cycle)
gets the SSA's oscillation table and a time course; a stable focus (complex leading
eigenvalues) the LNA's quasi-cycle spectrum; a model whose initial state does not reach
its steady state, or with several stable fixed points, the multistability table; events
or a missing fixed point a time course. Every analysis is bounded by the event budget of
the request; what does not run leaves its reason in ``notes``.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._summary import first_line
from ..errors import SbmlnoiseError
from ._backends import Request, RunState
from ._context import ModelContext

__all__ = ["Dynamics", "dynamics"]

#: runs of a time course made here (the time-course backend uses its own)
COURSE_RUNS = 100
#: runs and deterministic periods per run of the oscillation table made here
OSCILLATION_RUNS = 8
OSCILLATION_CYCLES = 50
#: species analysed by the oscillation table made here (the most variable ones)
OSCILLATION_MAX_SPECIES = 6
#: largest network for the fixed-point search of the multistability table
MULTISTABILITY_MAX_SPECIES = 30


@dataclass
class Dynamics:
    """What the dynamics stage produced (each ``None`` when not run; ``notes`` say why)."""

    kind: str = "monostable"
    time_course: Any = None
    oscillation: pd.DataFrame | None = None
    multistability: Any = None
    notes: dict[str, str] = field(default_factory=dict)


def _kind(ctx: ModelContext) -> str:
    net = ctx.net
    if net.events or net.is_time_dependent:
        return "non-autonomous"
    if ctx.unstable:
        return "oscillator"
    if ctx.steady_state is None:
        return "no steady state"
    return "monostable"


def dynamics(ctx: ModelContext, request: Request, state: RunState,
             timings: dict[str, float]) -> Dynamics:
    """Run the analyses that fit the model's dynamics (see the module docstring)."""
    out = Dynamics(kind=_kind(ctx), time_course=state.artifacts.get("time_course"))
    if ctx.stochastic_reason:
        out.notes["stochastic"] = ctx.stochastic_reason
    for name, step in (("oscillation", _oscillation), ("time_course", _time_course),
                       ("multistability", _multistable)):
        t0 = _time.perf_counter()
        step(ctx, request, state, out)
        timings[name] = _time.perf_counter() - t0
    return out


#: reaction events the dynamics stage may spend per analysis (about 1-2 s of one core)
DYNAMICS_EVENTS = 1e7


def _budget(request: Request) -> float:
    from ._ssa_backend import event_budget
    return max(10.0 * event_budget(request), DYNAMICS_EVENTS)


def _oscillation(ctx: ModelContext, request: Request, state: RunState,
                 out: Dynamics) -> None:
    if request.time is not None:
        return
    focus = ctx.steady_state is not None and ctx.scales.get("period")
    if not (out.kind == "oscillator" or focus):
        return
    from ..dynamics._oscillation import oscillation
    method = "ssa" if out.kind == "oscillator" else "lna"
    if method == "ssa" and ctx.stochastic_reason:
        return
    species = _most_variable(ctx, request, state)
    try:
        out.oscillation = oscillation(ctx.net, method=method, seed=request.child_seed(4),
                                      workers=1, max_events=_budget(request),
                                      runs=OSCILLATION_RUNS, cycles=OSCILLATION_CYCLES,
                                      species=species)
        if len(species) < len(request.species):
            out.notes["oscillation"] = (f"the {len(species)} most variable species are "
                                        "analysed; sn.oscillation(net) gives every species")
    except (SbmlnoiseError, ValueError, np.linalg.LinAlgError) as err:
        out.notes["oscillation"] = first_line(err)


def _most_variable(ctx: ModelContext, request: Request, state: RunState) -> list[str]:
    """The requested, non-constant species with the largest variance in the first
    finished backend (all of them when there are at most OSCILLATION_MAX_SPECIES)."""
    net = ctx.net
    ids = [s for s in request.species
           if not (net.species[net.index(s)].constant or net.species[net.index(s)].boundary)]
    if len(ids) <= OSCILLATION_MAX_SPECIES:
        return ids
    st = next(iter(state.statistics.values()), None)
    if st is None:
        return ids[:OSCILLATION_MAX_SPECIES]
    var = st.variance.reindex(ids).fillna(-1.0)
    return list(var.sort_values(ascending=False).index[:OSCILLATION_MAX_SPECIES])


def _time_course(ctx: ModelContext, request: Request, state: RunState, out: Dynamics) -> None:
    if out.time_course is not None or request.time is not None or ctx.stochastic_reason:
        return
    if out.kind == "monostable":
        return
    from ..dynamics._timecourse import time_course_noise
    from ._timecourse_backend import window
    t_end, why = window(ctx, request)
    try:
        # the time-dependent LNA of a limit cycle is valid only before the runs dephase and
        # costs thousands of stiff steps over ten periods: not drawn for oscillators
        tc = time_course_noise(ctx.net, np.linspace(0.0, t_end, 101), runs=COURSE_RUNS,
                               seed=request.child_seed(5), workers=1,
                               max_events=_budget(request), lna=out.kind != "oscillator")
        tc.settings.update(window=why)
        out.time_course = tc
    except (SbmlnoiseError, ValueError) as err:
        out.notes["time_course"] = first_line(err)


def _multistable(ctx: ModelContext, request: Request, state: RunState,
                 out: Dynamics) -> None:
    if out.kind != "monostable" or request.time is not None:
        return
    hint = any("multistable" in w for w in ctx.warnings)
    if not hint or ctx.net.n_species > MULTISTABILITY_MAX_SPECIES:
        return
    from ..dynamics._multistability import multistability
    try:
        ms = multistability(ctx.net, seed=request.child_seed(6) % 2**31, workers=1)
        if int(ms.states["stable"].sum()) >= 2:
            out.multistability = ms
            out.kind = "multistable"
    except (SbmlnoiseError, ValueError, np.linalg.LinAlgError) as err:
        out.notes["multistability"] = first_line(err)
