"""Choose a stochastic method from the expected number of events and the copy numbers."""

from __future__ import annotations

import math

import numpy as np

#: default budget of reaction events for a whole exact-SSA ensemble
DEFAULT_EVENT_BUDGET = 1e7
#: copy number from which a channel may be treated as fast/continuous
N_FAST = 100.0
#: copy number from which every species' noise is Gaussian enough for the CLE
N_CLE = 1000.0
#: copy number from which the LNA is preferred (relative noise below 1 %)
N_LNA = 1e4
#: counts beyond the SSA's default max_count: runaway growth, no approximation chosen
MAX_COUNT = 1e12


def _profile(net, t_end: float, n_points: int = 11):
    """Counts at ``n_points`` times of the rate equations on [0, t_end] (the initial
    state alone if the integration fails) and the propensities there."""
    from ..ode import simulate_ode

    omega = float(net.system_size)
    states = [np.asarray(net.initial_state, dtype=float)]
    times = np.array([0.0])
    if t_end > 0:
        try:
            times = np.linspace(0.0, t_end, n_points)
            traj = simulate_ode(net, times)
            states = [omega * row for row in traj[list(net.species_ids)].to_numpy()]
        except Exception:  # noqa: BLE001 - the estimate falls back to the initial state
            times = np.array([0.0])
    props = np.array([np.maximum(net.propensities(x), 0.0) for x in states])
    return times, np.array(states), props


def choose_method(net, *, t_end: float | None = None, runs: int = 1,
                  budget: float = DEFAULT_EVENT_BUDGET, allow_lna: bool = True,
                  n_fast: float = N_FAST, ode: bool = True) -> tuple[str, str]:
    """Pick a stochastic method for ``net`` and say why.

    The expected number of reaction events of one run is the integral of the total
    propensity along the deterministic trajectory on ``[0, t_end]`` (11 points of
    :func:`sbmlnoise.simulate_ode`, trapezoid rule; the initial state if that fails).

    * ``runs`` x events <= ``budget``: the exact SSA (``"direct"`` up to 8 channels,
      else ``"sorting"``);
    * otherwise, by the smallest copy number that each active channel reads or changes
      (median over the 11 points, so a start from zero does not count as low):
      all channels >= ``N_LNA`` (1e4) and ``allow_lna``: ``"lna"``; all >= ``N_CLE``
      (1000): ``"cle"``; all >= ``n_fast`` (100): ``"tau_leap"``; a mixture of channels
      below and above ``n_fast``: ``"hybrid"``; all below: the exact SSA (no
      approximation is valid at low counts; the event cap ``max_steps`` bounds the run).

    Parameters
    ----------
    net : ReactionNetwork
    t_end : float, optional
        Simulated time per run (model time units); ``None`` means one time unit (the
        reason then speaks of events per unit time).
    runs : int
    budget : float
        Affordable reaction events for the whole ensemble (about 1 s per 1e7 events on
        one core for small models, ``docs/performance/ssa.md``).
    allow_lna : bool
        Whether ``"lna"`` may be returned (``sn.ssa(method="auto")`` passes False).
    ode : bool
        Integrate the rate equations for the profile (default). False uses the initial
        state alone (no ODE cost: 14 s for the 105-species BIOMD0000000088 to t = 100).

    Returns
    -------
    (method, reason) : tuple of str
    """
    from .approx import build_approx_model
    from ._select import select_method

    exact = select_method("auto", net.n_reactions).name
    horizon = 1.0 if t_end is None else float(t_end)
    try:
        times, states, props = _profile(net, horizon if ode else 0.0)
    except Exception as err:  # noqa: BLE001 - never fail: the exact SSA is always correct
        return exact, f"could not estimate the event rate ({err}); exact SSA"
    total = props.sum(axis=1)
    if times.size > 1:
        events = float(np.sum(0.5 * (total[1:] + total[:-1]) * np.diff(times)))
    else:
        events = float(total[0] * horizon)
    if not ode:
        per_note = " (initial state only)"
    else:
        per_note = ""
    per = ("per unit time" if t_end is None else f"per run to t={horizon:g}") + per_note
    if not math.isfinite(events):
        return exact, "the event rate is not finite at the deterministic state; exact SSA"
    peak = float(np.max(states)) if states.size else 0.0
    if not math.isfinite(peak) or peak > MAX_COUNT:
        return exact, (f"the deterministic counts reach {peak:.3g} by t={horizon:g}, beyond "
                       f"{MAX_COUNT:.0e} (runaway growth?): no approximation helps; exact SSA "
                       "(bounded by max_steps and max_count)")
    if runs * events <= budget:
        return exact, (f"about {events:.3g} reaction events {per} x {runs} runs is within "
                       f"the budget {budget:.3g}: exact SSA")
    am = build_approx_model(net)
    low_min = np.inf
    active_min = []
    for j in range(net.n_reactions):
        if not np.any(props[:, j] > 0):
            continue
        inv = am.inv_species[am.inv_ptr[j]:am.inv_ptr[j + 1]]
        low = float(np.median(np.min(states[:, inv], axis=1))) if inv.size else np.inf
        active_min.append(low)
        low_min = min(low_min, low)
    if not active_min:
        return exact, "no reaction can fire: exact SSA"
    active = np.array(active_min)
    head = f"about {events:.3g} reaction events {per} x {runs} runs exceeds {budget:.3g}"
    if low_min >= N_LNA and allow_lna:
        return "lna", (f"{head}; every active channel involves only species with >= "
                       f"{N_LNA:g} molecules (noise below 1%): the LNA is accurate")
    if low_min >= N_CLE:
        return "cle", (f"{head}; every active channel involves >= {N_CLE:g} molecules: "
                       "chemical Langevin equation")
    if low_min >= n_fast:
        return "tau_leap", (f"{head}; every active channel involves >= {n_fast:g} "
                            "molecules: tau-leaping")
    if np.any(active >= n_fast):
        n_low = int(np.sum(active < n_fast))
        return "hybrid", (f"{head}; {n_low} of {active.size} active channels involve "
                          f"species below {n_fast:g} molecules: hybrid (those exact, the "
                          "rest by the CLE)")
    return exact, (f"{head}, but every active channel involves species below {n_fast:g} "
                   "molecules, where no approximation is valid: exact SSA (bounded by "
                   "max_steps)")
