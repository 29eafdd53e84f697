"""One entry point for the noise answers of models that move (for ``analyze`` to call).

:func:`noise_dynamics` classifies the rate equations and runs what fits:

=====================================  ==============================================
rate equations                          answers
=====================================  ==============================================
events or time-dependent rates          :func:`~sbmlnoise.time_course_noise`
unstable steady state (oscillator)      time course + :func:`~sbmlnoise.oscillation`
                                        (SSA, limit cycle)
no steady state found                   time course
one stable steady state                 time course only when ``time`` is given
several stable steady states            :func:`~sbmlnoise.multistability` (+ time
                                        course when ``time`` is given)
=====================================  ==============================================

Every step that fails leaves its reason in ``reasons`` instead of raising, so a report
can show what was tried and why it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import NoSteadyState, SbmlnoiseError
from ..network import ReactionNetwork

__all__ = ["noise_dynamics", "NoiseDynamics"]


@dataclass
class NoiseDynamics:
    """What :func:`noise_dynamics` found.

    Attributes
    ----------
    kind : str
        ``"non-autonomous"``, ``"oscillator"``, ``"no steady state"``, ``"monostable"``
        or ``"multistable"``.
    time_course : TimeCourseNoise or None
    oscillation : pandas.DataFrame or None
    multistability : Multistability or None
    reasons : dict of str -> str
        Why a step was skipped or failed, by step name.
    """

    kind: str
    time_course: object = None
    oscillation: object = None
    multistability: object = None
    reasons: dict = field(default_factory=dict)


def _classify(net: ReactionNetwork, seed) -> tuple[str, str]:
    from ._multistability import fixed_points
    from ..ode import steady_state

    if net.events or net.is_time_dependent:
        return "non-autonomous", ("the model has events" if net.events else
                                  "the model has time-dependent rates")
    try:
        steady_state(net)
    except NoSteadyState as err:
        return ("oscillator" if getattr(err, "unstable", False) else "no steady state",
                str(err))
    try:
        fp = fixed_points(net, starts=16, seed=0 if seed is None else int(seed) % 2**32)
    except SbmlnoiseError as err:
        return "monostable", f"fixed-point search failed: {err}"
    n_stable = int(fp["stable"].sum())
    if n_stable >= 2:
        return "multistable", f"{n_stable} stable fixed points"
    return "monostable", "one stable fixed point"


def noise_dynamics(net: ReactionNetwork, *, time=None, seed=None, runs: int = 400,
                   workers=None, max_events: float = 2e8, cycles: int = 100,
                   oscillation_runs: int = 16) -> NoiseDynamics:
    """Time-dependent noise, oscillations and switching for ``net``, as fits its dynamics.

    Parameters
    ----------
    net : ReactionNetwork
    time : array_like, optional
        Output times for the time course (default: chosen from the model's time scales
        when a time course is run).
    seed : int, optional
        Seeds every stochastic step.
    runs : int
        SSA runs of the time course.
    workers : int, optional
    max_events : float
        Event cap of the time course and the oscillation analysis (planned from the
        rate equations before simulating).
    cycles, oscillation_runs : int
        Periods per run and runs of the oscillation analysis.

    Returns
    -------
    NoiseDynamics
    """
    from ._multistability import multistability
    from ._oscillation import oscillation
    from ._timecourse import time_course_noise

    kind, why = _classify(net, seed)
    out = NoiseDynamics(kind=kind, reasons={"kind": why})
    want_course = time is not None or kind in ("non-autonomous", "oscillator",
                                               "no steady state")
    if want_course:
        try:
            out.time_course = time_course_noise(net, time, runs=runs, seed=seed,
                                                workers=workers, max_events=max_events)
        except (SbmlnoiseError, ValueError) as err:
            out.reasons["time_course"] = str(err)
    if kind == "oscillator":
        try:
            out.oscillation = oscillation(net, method="ssa", seed=seed, workers=workers,
                                          max_events=max_events, cycles=cycles,
                                          runs=oscillation_runs)
        except (SbmlnoiseError, ValueError) as err:
            out.reasons["oscillation"] = str(err)
    if kind == "multistable":
        try:
            out.multistability = multistability(net, seed=0 if seed is None else int(seed),
                                                workers=workers)
        except (SbmlnoiseError, ValueError) as err:
            out.reasons["multistability"] = str(err)
    return out
