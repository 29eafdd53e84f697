"""Noise over time as an ``analyze`` backend: the answer for models that move.

When no stationary method answers -- an oscillator whose copy numbers are too large for
a long exact run, a model without a fixed point, events or time-dependent rates that the
stationary backends refuse -- ``analyze`` still reports the noise: an ensemble of
stochastic runs from the model's initial state over a window chosen from the model's own
time scales (:func:`sbmlnoise.time_course_noise`). The primary statistics are those at the
end of the window (mean, variance, Fano factor, CV with jackknife standard errors); the
whole course is kept on the report (``report.time_course``).

The runs are the exact SSA when the ensemble fits the event budget, else the approximate
method that :func:`sbmlnoise.ssa.choose_method` picks from the copy numbers (tau-leaping,
the chemical Langevin equation or the hybrid); ``settings["ssa_method"]`` and
``settings["approximation"]`` say which. An ensemble that the analysis' wall time stops
after at least :data:`MIN_RUNS` runs keeps them (said in the window note).

When no simulation can run -- every species beyond 1e9 molecules, non-integer
stoichiometry, non-whole initial counts, a species driven by a rate rule, an event budget
or a pilot that leaves no time, runs that reach their event cap twice -- the answer is the
time-dependent LNA with rate rules and events (:mod:`sbmlnoise.lna._course`, method
``timecourse:lna``), checked for validity: refused when a mean goes negative or the
species that change have fewer than :data:`LNA_MIN_COUNTS` molecules, cut where a
species' CV passes 0.5 (docs/oscillations.md).
"""

from __future__ import annotations

import math

import numpy as np

from ..dynamics._timecourse import MIN_RUNS as _MIN_RUNS
from ..errors import SimulationError, UnsupportedFeature
from ..stats import NoiseStatistics
from ._backends import Backend, Cost, Refusal, Request, RunState, register_backend
from ._context import ModelContext

#: runs of the time-course ensemble
RUNS = 400
#: output times of the window
N_TIMES = 101


@register_backend
class TimeCourseBackend(Backend):
    name = "timecourse"
    label = "time course"
    rank = 30
    description = ("ensemble of stochastic runs from the initial state over a window from the "
                   "model's time scales (exact SSA, or tau-leaping/CLE/hybrid for large counts; "
                   "the time-dependent LNA when no simulation can run); statistics at the end "
                   "of the window, the whole course on the report")
    reference = "Gillespie 1977 doi:10.1021/j100540a008; Cao et al. 2006 doi:10.1063/1.2159468"
    capabilities = {"time_point": True, "events": True, "oscillators": True,
                    "large_counts": True, "time_dependent_rates": True, "rate_rules": True,
                    "delays": True}

    def applies(self, ctx: ModelContext, request: Request, state: RunState) -> Refusal | None:
        if not _lna_scale(ctx):
            refusal = _ssa_refusal(ctx)
            if refusal:
                lna_refusal = _course_refusal(ctx)
                if lna_refusal:
                    return Refusal(f"{refusal}; time-dependent LNA: {lna_refusal}")
        if request.time is None and state.statistics and not request.strict:
            return Refusal("not needed: a stationary method answered", quiet=True)
        return None

    def cost(self, ctx: ModelContext, request: Request, state: RunState) -> Cost:
        return Cost(2.0, "bounded by the event budget")

    def run(self, ctx: ModelContext, request: Request, state: RunState) -> NoiseStatistics:
        from ..dynamics._timecourse import time_course_noise
        from ..ssa import choose_method
        from ._ssa_backend import event_budget

        t_end, why = window(ctx, request)
        times = np.linspace(0.0, t_end, N_TIMES)
        if _lna_scale(ctx):
            return _lna_course(ctx, times, why, state)
        refusal = _ssa_refusal(ctx)
        if refusal:
            return _lna_course(ctx, times, why, state,
                               because=f"the exact SSA cannot simulate this model ({refusal})")
        budget = event_budget(request)
        if _time_dependent(ctx):  # only the exact direct method simulates these
            method, reason = "direct", ("time-dependent rates, rate rules or delays: the "
                                        "exact SSA with integrated hazards")
        else:
            method, reason = choose_method(ctx.net, t_end=t_end, runs=RUNS, budget=budget,
                                           allow_lna=False, ode=ctx.net.n_species <= 40)
        runs = RUNS
        if method in ("direct", "sorting", "auto"):
            runs, t_fit, note = fit_to_budget(ctx, t_end, 10.0 * budget)
            if t_fit < t_end:
                fast = float(ctx.scales.get("fast") or 0.0)
                if t_fit < 0.1 * fast:
                    return _lna_course(
                        ctx, times, why, state,
                        because=(f"the event budget allows the exact SSA only to t="
                                 f"{t_fit:.3g} ({note}), below a tenth of the fastest "
                                 f"relaxation time ({fast:.3g}): the copy numbers are too "
                                 "large for an exact simulation"))
                t_end, why = t_fit, f"{why}, cut to t={t_fit:.4g} by the event budget ({note})"
                times = np.linspace(0.0, t_end, N_TIMES)
        elif method in ("tau_leap", "cle", "hybrid"):
            runs, note = _runs_by_pilot(ctx, times, method, request.child_seed(3), budget)
            if runs == 0:
                return _lna_course(ctx, times, why, state, because=note)
            if note:
                why = f"{why}; {note}"
        seed = request.child_seed(2)
        # per-run event cap: ten times the run's share of the hard cap (10 x the budget),
        # so a run whose propensities explode (a late event) stops in about a second
        steps = int(max(1e4, 10.0 * 10.0 * budget / runs))
        try:
            tc = time_course_noise(ctx.net, times, runs=runs, seed=seed, workers=1,
                                   max_events=10.0 * budget, method=method, max_steps=steps)
        except SimulationError as err:
            reached = err.steps_exhausted_at
            if reached is None or reached <= 0:
                raise
            # the propensities grew beyond the initial-state estimate: the window the
            # per-run event cap allows is the answer (said so), once -- unless that is
            # under a tenth of the window (statistics of the start, not of the model):
            # then the time-dependent LNA over the whole window, when it applies
            if reached < 0.1 * t_end:
                try:
                    return _lna_course(
                        ctx, times, why, state,
                        because=(f"the {method} runs reached their step cap at t="
                                 f"{reached:.4g}, under a tenth of the window"))
                except (SimulationError, UnsupportedFeature):
                    pass
            t_end = 0.5 * reached
            cut = np.linspace(0.0, t_end, N_TIMES)
            try:
                tc = time_course_noise(ctx.net, cut, runs=runs, seed=seed, workers=1,
                                       max_events=10.0 * budget, method=method,
                                       max_steps=steps)
            except SimulationError as again:
                if again.steps_exhausted_at is None:
                    raise
                # twice past the event cap: the counts are beyond an exact simulation
                return _lna_course(ctx, times, why, state,
                                   because=(f"the exact SSA runs reached their event cap "
                                            f"twice (t={reached:.4g}, then "
                                            f"t={again.steps_exhausted_at:.4g})"))
            why = (f"{why}, cut to t={t_end:.4g}: the runs reached their event cap at "
                   f"t={reached:.4g}")
        if tc.settings.get("stopped_early"):
            why = f"{why}; {tc.settings['stopped_early']}"
        tc.settings.update(window=why, method_reason=reason)
        state.artifacts["time_course"] = tc
        return statistics_at_end(tc)


#: fewest runs of a time-course ensemble cut to fit the event budget or stopped by the wall
#: time (delete-a-group jackknife errors stay meaningful: about 14% on a variance)
MIN_RUNS = _MIN_RUNS
#: runs of the pilot ensemble that times an approximate method
PILOT_RUNS = 20
#: CPU seconds an approximate time-course ensemble may take (within the analysis deadline)
APPROX_SECONDS = 20.0


def runs_for_seconds(per_run: float, seconds: float) -> int:
    """Runs that fit ``seconds`` at ``per_run`` seconds each, between :data:`MIN_RUNS`
    and :data:`RUNS`."""
    if not math.isfinite(per_run) or per_run <= 0:
        return RUNS
    return int(max(MIN_RUNS, min(RUNS, seconds / per_run)))


def _runs_by_pilot(ctx: ModelContext, times: np.ndarray, method: str, seed,
                   budget: float) -> tuple[int, str]:
    """Time a pilot of :data:`PILOT_RUNS` runs of an approximate method (its cost is not
    an event count: steps depend on the dynamics) and size the ensemble to
    :data:`APPROX_SECONDS`, or half the time the analysis has left; the note says when
    the ensemble was cut. A failing pilot leaves the failure to the real run."""
    import time as _time

    from .._deadline import remaining
    from ..dynamics._timecourse import time_course_noise

    started = _time.process_time()
    try:
        time_course_noise(ctx.net, times, runs=PILOT_RUNS, seed=seed, workers=1,
                          max_events=10.0 * budget, method=method, lna=False,
                          max_steps=int(max(1e4, 100.0 * budget / RUNS)))
    except Exception:  # noqa: BLE001 - the real run reports its own failure
        return RUNS, ""
    per_run = (_time.process_time() - started) / PILOT_RUNS
    seconds = min(APPROX_SECONDS, 0.5 * remaining())
    if per_run * MIN_RUNS > seconds:
        return 0, (f"{MIN_RUNS} runs of the {method} would take about "
                   f"{per_run * MIN_RUNS:.3g} s (a {PILOT_RUNS}-run pilot), beyond the "
                   f"{seconds:.3g} s allowed")
    runs = runs_for_seconds(per_run, seconds)
    if runs >= RUNS:
        return RUNS, ""
    return runs, (f"{runs} runs (a {PILOT_RUNS}-run pilot took {per_run:.3g} s per run; "
                  f"{seconds:.3g} s allowed)")


def fit_to_budget(ctx: ModelContext, t_end: float, max_events: float
                  ) -> tuple[int, float, str]:
    """``(runs, t_end', note)``: the exact-SSA ensemble that fits ``max_events`` at the
    initial state's total propensity -- first fewer runs (down to :data:`MIN_RUNS`), then a
    shorter window (half the budget, as the propensities may grow). A model whose slowest
    relaxation is far beyond its event rate (stiff, or a 1e7 time-unit transient) then
    still gets the noise over the time the budget can simulate, said in the window note."""
    from ..dynamics._timecourse import initial_event_rate

    rate = initial_event_rate(ctx.net)
    if not math.isfinite(rate) or rate <= 0 or RUNS * rate * t_end <= max_events:
        return RUNS, t_end, ""
    runs = int(max(MIN_RUNS, min(RUNS, max_events / (rate * t_end))))
    if runs * rate * t_end <= max_events:
        return runs, t_end, ""
    t_fit = 0.5 * max_events / (runs * rate)
    return runs, t_fit, (f"{runs} runs at {rate:.3g} events per unit time at the initial state; "
                         f"5 slowest relaxation times would be t={t_end:.4g}")


#: copy numbers beyond which no simulation is needed or possible: the time-dependent LNA
#: (relative fluctuations ~ 1/sqrt(counts) < 3e-5) answers instead
LNA_COUNTS = 1e9
#: wall-time limit of that LNA time course (seconds)
LNA_SECONDS = 30.0


def _lna_scale(ctx: ModelContext) -> bool:
    """Every species that moves has far more than :data:`LNA_COUNTS` molecules (or the
    model is in mole units with amounts no whole-molecule simulation can start from)."""
    counts = np.abs(ctx.net.initial_state)
    moving = counts[counts > 0]
    return bool(moving.size and float(np.min(moving)) > LNA_COUNTS
                and (not ctx.net.events or _course_refusal(ctx) is None))


def _course_refusal(ctx: ModelContext) -> str | None:
    """Why the time-dependent LNA cannot run the model (None when it can)."""
    from ..lna._course import course_refusal
    return course_refusal(ctx.net)


#: fewest molecules (median over the species that change) for the LNA fallback: below it
#: the fluctuations are not small against the mean and the Gaussian approximation fails
LNA_MIN_COUNTS = 10.0


def _lna_course(ctx: ModelContext, times: np.ndarray, why: str, state: RunState,
                because: str | None = None) -> NoiseStatistics:
    """The time-dependent LNA over the window; its last time point is the answer.

    Without ``because``, every species has more than :data:`LNA_COUNTS` molecules (relative
    fluctuations of order 1/sqrt(counts), the LNA's error negligible). With it, the LNA
    answers because the stochastic simulation cannot (``because`` says why): then the
    course must keep its species at :data:`LNA_MIN_COUNTS` molecules or more and its
    means non-negative, else the model gets no noise answer (an error says which
    species)."""
    from ..lna import lna
    from .._deadline import clip

    plain = not (ctx.net.events or ctx.net.continuous_features())
    if because is None and plain:
        course = lna(ctx.net, t=times, emre=False, max_seconds=clip(LNA_SECONDS))
    else:
        from ..lna._course import CV_VALID
        from ..lna._lna import lna_course
        course = lna_course(ctx.net, times, max_seconds=clip(LNA_SECONDS), stop_invalid=True)
        if because is not None:
            _check_lna_course(ctx, course)
        stopped = course.settings.get("stopped_at")
        fast = float(ctx.scales.get("fast") or 0.0)
        if course.settings.get("cut"):
            if float(course.times[-1]) < fast:
                raise SimulationError(f"the time-dependent LNA: {course.settings['cut']}, "
                                      f"before the fastest relaxation time ({fast:.3g})")
            why = f"{why}; {course.settings['cut']}"
        if stopped is not None and float(course.times[-1]) < fast:
            raise UnsupportedFeature(
                f"the time-dependent LNA is no longer valid at t={stopped:.4g} (a species' CV "
                f"exceeds {CV_VALID:g}) and its last valid output time "
                f"(t={float(course.times[-1]):.4g}) is before the fastest relaxation time "
                f"({fast:.3g}): no noise answer at this system size", feature="LNA validity")
        if stopped is not None:
            why = (f"{why}; the LNA stops being valid at t={stopped:.4g} (a species' CV "
                   f"exceeds {CV_VALID:g}), so the statistics are at t="
                   f"{float(course.times[-1]):.4g}")
    state.artifacts["lna_time_course"] = course
    st = course.at(-1)
    settings = dict(st.settings)
    base = settings.get("approximation") or (
        "time-dependent linear noise approximation from the initial state")
    if because is None:
        reason = (f"every species present at the start has more than {LNA_COUNTS:.0e} "
                  "molecules, where the LNA's relative error is negligible")
    else:
        reason = f"{because}; valid while counts are large and fluctuations small"
    settings.update(window=why, source="time course", approximation=f"{base}: {reason}")
    return NoiseStatistics(mean=st.mean, covariance=st.covariance, method="timecourse:lna",
                           settings=settings, stderr=None, time=st.time, extra=st.extra)


def _check_lna_course(ctx: ModelContext, course) -> None:
    """Refuse an LNA course that no honest reading supports: a mean that goes negative
    (the model's laws leave their domain) or species that change with too few molecules."""
    mean = np.asarray(course.mean, dtype=float)
    ids = list(course.mean.columns)
    scale = float(np.max(np.abs(mean))) if mean.size else 0.0
    low = float(np.min(mean)) if mean.size else 0.0
    if low < -max(1.0, 1e-6 * scale):
        k, i = np.unravel_index(int(np.argmin(mean)), mean.shape)
        raise SimulationError(
            f"the rate equations drive species '{ids[i]}' negative ({low:.3g} molecules at "
            f"t={float(course.times[k]):.4g}): its kinetic laws are not valid at low amounts, "
            "so no noise answer")
    moved = np.ptp(mean, axis=0) > 0
    if np.any(moved):
        typical = float(np.median(np.max(np.abs(mean[:, moved]), axis=0)))
        if typical < LNA_MIN_COUNTS:
            raise UnsupportedFeature(
                f"the time-dependent LNA needs many molecules, but the species that change "
                f"have a median of {typical:.3g} at system size {ctx.net.system_size:g} "
                "(amounts are not molecule counts?): pass a volume (sn.load(..., "
                "volume=)) or system_size", feature="system size")


def _time_dependent(ctx: ModelContext) -> bool:
    from ..ssa._timedep import needs_timedep
    return bool(needs_timedep(ctx.net))


def _ssa_refusal(ctx: ModelContext) -> str | None:
    """Why the exact SSA cannot simulate this model (None when it can: also with
    time-dependent rates, rate rules on parameters, delayed events and delays). Initial
    amounts that are not whole molecules at the network's system size are a reason too."""
    from .._summary import first_line
    from ..errors import ModelError
    from ..ssa._model import initial_counts

    if not _time_dependent(ctx):
        reason = ctx.stochastic_reason
    else:
        from ..ssa import ssa_refusal
        err = ssa_refusal(ctx.net)
        reason = None if err is None else first_line(err)
    if reason is None:
        try:
            initial_counts(ctx.net)
        except ModelError as err:
            return first_line(err)
    return reason


def window(ctx: ModelContext, request: Request) -> tuple[float, str]:
    """End of the time-course window (model time units) and why: the requested time; 10
    periods of an oscillation; else 5 slowest relaxation times (at the steady state, or at
    the initial state when there is none)."""
    if request.time is not None and request.time > 0:
        return float(request.time), "the requested time"
    period = ctx.scales.get("period")
    slow = float(ctx.scales["slow"])
    if ctx.unstable and period:
        t_end, why = 10.0 * float(period), "10 periods of the rate equations' leading rotation"
    else:
        where = ("the stable steady state" if ctx.steady_state is not None else
                 "the initial state")
        t_end, why = 5.0 * slow, f"5 slowest relaxation times at {where}"
    last = _last_time_trigger(ctx.net)
    if last is not None and last + 5.0 * slow > t_end:
        t_end = last + 5.0 * slow
        why = (f"{why}, extended to 5 slowest relaxation times after the last time-triggered "
               f"event (t={last:g})")
    return t_end, why


def _last_time_trigger(net) -> float | None:
    """The latest time at which a trigger of the form ``time >= value`` switches (a
    stimulus), or None."""
    from ..errors import SbmlnoiseError
    from ..ssa._model import _time_breakpoints

    values = {p.id: float(p.value) for p in net.parameters}
    found: list[float] = []
    for e in net.events:
        try:
            found += _time_breakpoints(e.trigger, values, e.id)
        except SbmlnoiseError:
            continue
    found = [t for t in found if math.isfinite(t) and t > 0]
    return max(found) if found else None


def statistics_at_end(tc) -> NoiseStatistics:
    """The time course's last time point as NoiseStatistics (counts), with its jackknife
    standard errors (the variance's from the sd's: se_var = 2 sd se_sd)."""
    t = float(tc.times[-1])
    ids = list(tc.mean.columns)
    mean = tc.mean.iloc[-1].astype(float).rename("mean")
    cov = tc.covariance.xs(tc.covariance.index.get_level_values(0)[-1], level=0) \
        .loc[ids, ids].astype(float)
    sd = tc.sd.iloc[-1].astype(float)
    stderr = {"mean": tc.stderr["mean"].iloc[-1].astype(float),
              "variance": (2.0 * sd * tc.stderr["sd"].iloc[-1]).astype(float),
              "fano": tc.stderr["fano"].iloc[-1].astype(float),
              "cv": tc.stderr["cv"].iloc[-1].astype(float)}
    settings = dict(tc.settings)
    settings.update(time=t, source="time course")
    method = str(settings.get("ssa_method") or "ssa")
    return NoiseStatistics(mean=mean, covariance=cov,
                           method=f"timecourse:{method}", settings=settings, stderr=stderr,
                           time=t if math.isfinite(t) else None)
