"""Reaction-rate equations: deterministic time courses and steady states.

``d amount / dt = N v(amount, t)`` with ``N`` the net stoichiometry and ``v`` the reaction
rates (see :mod:`sbmlnoise.network` for units). The Jacobian is exact (symbolic
derivatives of the kinetic laws). Models with events, rate rules, algebraic rules, fast
reactions, ``delay()`` or varying stoichiometry are integrated by the general engine of
:mod:`sbmlnoise.ode._events` (root finding on triggers, Newton on the algebraic constraints,
method of steps with dense-output history for delays).
"""

from __future__ import annotations

import math
import time as _time
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.integrate import solve_ivp
from scipy.optimize import root

from ..errors import ModelError, NoSteadyState, SimulationError, UnsupportedFeature
from ..network import ReactionNetwork
from ._events import check_finite_rates
from ..importer._tellurium import accepts_model
from .._deadline import clip as clip_wall_time

__all__ = ["simulate_ode", "steady_state", "ode_trajectory"]

#: default wall-time limit (seconds) of one integration
DEFAULT_WALL_TIME = 300.0


def _validate_times(times) -> np.ndarray:
    times = np.asarray(times, dtype=float).ravel()
    if times.size == 0:
        raise ValueError("times must not be empty")
    if not np.all(np.isfinite(times)):
        raise ValueError("times must be finite")
    if np.any(times < 0):
        raise ValueError("times must be non-negative")
    if np.any(np.diff(times) < 0):
        raise ValueError("times must be sorted in increasing order")
    return times


def amount_scale(net: ReactionNetwork) -> float:
    """Typical magnitude of the amounts (model substance units): the smallest non-zero
    initial amount, but not below 1e-6 of the largest; 1 if every amount starts at 0.
    Femtolitre compartments in mole units give amounts near 1e-16, so absolute tolerances
    must scale with this, not be fixed."""
    nonzero = np.abs(net.initial_amounts[net.initial_amounts != 0])
    nonzero = nonzero[np.isfinite(nonzero)]
    if nonzero.size == 0:
        sizes = [c.size for c in net.compartments if np.isfinite(c.size) and c.size > 0]
        return float(min(sizes)) if sizes and min(sizes) < 1 else 1.0
    return float(max(nonzero.min(), 1e-6 * nonzero.max()))


def default_atol(net: ReactionNetwork, rtol: float) -> float:
    """Absolute tolerance matched to the model's amounts: ``1e-4 * rtol * amount_scale``
    (1e-12 for rtol=1e-8 and amounts of order 1)."""
    return 1e-4 * rtol * amount_scale(net)


def _rhs(net: ReactionNetwork):
    stoich = np.asarray(net.stoichiometry)

    def f(t, x):
        return stoich @ net.rates(x, t)

    def jac(t, x):
        return stoich @ net.rate_jacobian(x, t)

    try:
        net.rate_jacobian(net.initial_amounts)
    except UnsupportedFeature:
        return f, None  # a law without a derivative rule: the solver differences it
    return f, jac


@accepts_model
def simulate_ode(net: ReactionNetwork, times, *, rtol: float = 1e-8,
                 atol: float | None = None, method: str = "LSODA",
                 wall_time: float | None = DEFAULT_WALL_TIME,
                 rules: bool = True) -> pd.DataFrame:
    """Integrate the reaction-rate equations from the initial state.

    Parameters
    ----------
    net : ReactionNetwork
    times : array_like, shape (n,)
        Sorted, non-negative output times (model time units). Integration starts at 0.
    rtol, atol : float
        Solver tolerances; ``atol`` in model substance units, by default scaled to the
        model's amounts (:func:`default_atol`).
    method : str
        A :func:`scipy.integrate.solve_ivp` method; the default LSODA switches between
        stiff and non-stiff integration.
    wall_time : float or None
        Give up (:class:`~sbmlnoise.errors.SimulationError` naming the model time
        reached) after this many seconds; None for no limit.
    rules : bool
        Append one column per assignment-rule variable (:attr:`ReactionNetwork.
        assignment_ids`) after the species columns.

    Returns
    -------
    pandas.DataFrame
        Index ``time``; one column per species (amounts in model substance units), then,
        with ``rules``, one per species or parameter defined by an assignment rule
        (species as amounts, parameters and compartment sizes by value).
    """
    times = _validate_times(times)
    traj, params, values = ode_trajectory(net, times, rtol=rtol, atol=atol, method=method,
                                          wall_time=wall_time, rules=True)
    frame = pd.DataFrame(traj, index=pd.Index(times, name="time"), columns=list(net.species_ids))
    if rules and net.assignments:
        for k, name in enumerate(net.assignment_ids):
            if name not in frame.columns:
                frame[name] = values[:, k]
    frame.attrs["units"] = "amount (model substance units)"
    return frame


def ode_trajectory(net: ReactionNetwork, times: np.ndarray, *, rtol=1e-8, atol=None,
                   method="LSODA", wall_time: float | None = DEFAULT_WALL_TIME,
                   rules: bool = False):
    """Amounts at ``times`` (array (n_times, n_species)) and the parameter vector in
    force at each time (events and rate rules may change parameters), as
    ``(amounts, params)``; ``params`` is None when no parameter changes. With ``rules``
    a third item: the assignment-rule values (n_times, len(net.assignments)), evaluated
    with the simulation's history (``delay()``) and parameters."""
    if rules:
        if net.needs_general_solver:
            from ._events import simulate_with_events
            return simulate_with_events(net, times, rtol=rtol, atol=atol or default_atol(net, rtol),
                                        method=method, wall_time=wall_time, rules=True)
        amounts, params = ode_trajectory(net, times, rtol=rtol, atol=atol, method=method,
                                         wall_time=wall_time)
        return amounts, params, net.evaluate_assignments(amounts, times, params)
    if atol is None:
        atol = default_atol(net, rtol)
    if net.needs_general_solver:
        from ._events import simulate_with_events
        return simulate_with_events(net, times, rtol=rtol, atol=atol, method=method,
                                    wall_time=wall_time)
    f0, jac = _rhs(net)
    x0 = net.initial_amounts.copy()
    check_finite_rates(net, net.rates(x0, 0.0), net.parameter_values)
    if times[-1] == 0 or net.n_reactions == 0 or not np.any(net.stoichiometry):
        return np.tile(x0, (len(times), 1)), None
    wall_time = clip_wall_time(wall_time)  # an enclosing analysis' limit (sbmlnoise._deadline)
    deadline = None if wall_time is None else _time.monotonic() + wall_time
    reached = [0.0]

    def f(t, x):
        if deadline is not None and _time.monotonic() > deadline:
            raise _OutOfTime
        reached[0] = t
        return f0(t, x)

    kwargs = {"jac": jac} if jac is not None and method in ("LSODA", "BDF", "Radau") else {}
    try:
        sol = solve_ivp(f, (0.0, float(times[-1])), x0, method=method, t_eval=times,
                        rtol=rtol, atol=atol, **kwargs)
    except _OutOfTime:
        raise SimulationError(f"ODE integration of model '{net.id}' stopped after the "
                              f"wall-time limit of {wall_time:g} s at t={reached[0]:g} (of "
                              f"{times[-1]:g}); the model may be very stiff or blow up") from None
    if not sol.success:
        raise SimulationError(f"ODE integration of model '{net.id}' failed: {sol.message}")
    amounts = sol.y.T
    if amounts.shape[0] != len(times) or not np.all(np.isfinite(amounts)):
        bad = int(np.argmax(~np.all(np.isfinite(amounts), axis=1))) if amounts.size else 0
        raise SimulationError(f"ODE solution of model '{net.id}' diverged (non-finite amounts "
                              f"by t={times[min(bad, len(times) - 1)]:g}); the model may blow "
                              "up in finite time")
    return amounts, None


class _OutOfTime(Exception):
    """The integration used up its wall time."""


class _OutOfBudget(Exception):
    """The steady-state search used up its right-hand-side evaluations."""


@accepts_model
def steady_state(net: ReactionNetwork, *, tol: float = 1e-9, t_max: float = 1e7,
                 max_evaluations: int = 200_000) -> pd.Series:
    """Stable steady state of the rate equations (see :func:`_steady_state`), remembered
    per network: a network is immutable, so the search (which integrates an oscillator up
    to its evaluation budget) runs once per network and settings, and every caller -- the
    analysis context, the FSP, the LNA, the thermodynamics -- gets the same answer (a copy,
    or the same NoSteadyState)."""
    _check_initial_rates(net)
    cache = net.__dict__.setdefault("_steady_state_cache", {})
    key = (float(tol), float(t_max), int(max_evaluations))
    if key not in cache:
        try:
            cache[key] = _steady_state(net, tol=tol, t_max=t_max,
                                       max_evaluations=max_evaluations)
        except (NoSteadyState, UnsupportedFeature) as err:
            cache[key] = err
    hit = cache[key]
    if isinstance(hit, BaseException):
        raise hit
    out = hit.copy()
    out.attrs = dict(hit.attrs)
    return out


def _check_initial_rates(net: ReactionNetwork) -> None:
    """Refuse (ModelError naming the reaction) a model whose rates are not finite at its
    initial state: math follows C99 (sqrt(-1) is NaN, 1/0 is inf), so such a model would
    otherwise be reported as having no steady state ("may oscillate")."""
    if net.events or net.rate_rules or not net.n_reactions:
        return  # values there come from the integration (events, rate-rule variables)
    with np.errstate(all="ignore"):
        v = np.asarray(net.rates(net.initial_amounts.astype(float), 0.0), dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        j = int(np.argmax(bad))
        raise ModelError(f"steady state: the kinetic law of reaction '{net.reactions[j].id}' "
                         f"is not finite ({v[j]}) at the model's initial state (a division by "
                         "zero, or sqrt/log of a negative value); fix the model's values or "
                         "guard the law (piecewise)")


def _steady_state(net: ReactionNetwork, *, tol: float, t_max: float,
                  max_evaluations: int) -> pd.Series:
    """Stable steady state of the rate equations, with conserved totals from the
    initial state.

    Newton's method on the reduced (independent) system, started from the initial state
    and, if that fails, from points of an ODE integration over growing spans (10, 100, ...
    time units, up to ``t_max``), which stops after ``max_evaluations`` right-hand-side
    evaluations so an oscillator cannot keep it busy. A Newton solution counts when its
    net rate residual is below ``tol`` times the largest reaction rate. The result's
    ``attrs`` hold ``eigenvalues`` (of the reduced Jacobian) and ``residual``.

    Raises
    ------
    NoSteadyState
        If no steady state is found, or it is unstable (an eigenvalue with positive real
        part: e.g. an oscillator) -- the message lists the leading eigenvalues.
    """
    if net.events:
        raise UnsupportedFeature(f"steady state of model '{net.id}' with events is not defined",
                                 element=net.events[0].id, feature="Event")
    if net.rate_rules and not net.events and all(f == "RateRule" for _, f in
                                                  net.continuous_features()):
        return _steady_state_rate_rules(net, tol=tol, t_max=t_max)
    if net.continuous_features():
        element, feature = net.continuous_features()[0]
        raise UnsupportedFeature(f"steady state of model '{net.id}': '{element}' is a "
                                 f"{feature}, which the steady-state search does not handle "
                                 "yet; integrate with sn.simulate_ode to a late time",
                                 element=element, feature=feature)
    if net.is_time_dependent:
        raise UnsupportedFeature(f"model '{net.id}' has time-dependent rates; no steady state",
                                 feature="csymbol time")
    red = _Reduced(net, tol)
    if not red.ind:
        result = pd.Series(red.x0, index=list(net.species_ids), name="steady_state")
        result.attrs.update(eigenvalues=np.array([]), residual=0.0)
        return result
    found, unstable, t_now = _search(net, red, t_max, max_evaluations)
    if not found and unstable is not None:
        eig = unstable[2]
        shown = ", ".join(f"{e:.3g}" for e in sorted(eig, key=lambda e: -e.real)[:3])
        raise NoSteadyState(f"steady state of model '{net.id}' is unstable (eigenvalues "
                            f"{shown}); it may oscillate -- use the time-dependent LNA or SSA",
                            unstable=True, eigenvalues=eig)
    if not found:
        raise NoSteadyState(f"no steady state found for model '{net.id}' (Newton from the "
                            f"initial state and after integrating to t={t_now:g} did not "
                            "converge); it may oscillate or grow without bound -- use "
                            "sn.simulate_ode or the time-dependent LNA")
    y, res, eig, _ = found
    x = np.clip(red.full(y), 0.0, None)
    result = pd.Series(x, index=list(net.species_ids), name="steady_state")
    result.attrs.update(eigenvalues=eig, residual=res)
    return result


class _FixedPoint(NamedTuple):
    """A fixed point Newton reached: reduced state, net rate residual (amount per time),
    eigenvalues of the reduced Jacobian and whether none has a positive real part."""

    y: np.ndarray
    residual: float
    eigenvalues: np.ndarray
    stable: bool


class _Reduced:
    """The rate equations on the independent species ``y`` (``x = link @ y + offset``,
    conserved totals from the initial state) and Newton's method on them."""

    def __init__(self, net: ReactionNetwork, tol: float) -> None:
        self.net = net
        self.tol = tol
        self.stoich = np.asarray(net.stoichiometry)
        self.ind = list(net.independent_species)
        self.link = net.link_matrix
        self.x0 = net.initial_amounts.copy()
        self.offset = self.x0 - self.link @ self.x0[self.ind]
        self.mag = amount_scale(net)

    def full(self, y: np.ndarray) -> np.ndarray:
        """All species' amounts from the independent ones."""
        return self.link @ y + self.offset

    def residual(self, y: np.ndarray) -> np.ndarray:
        """Net rates of change of the independent species."""
        return (self.stoich @ self.net.rates(self.full(y)))[self.ind]

    def jacobian(self, y: np.ndarray) -> np.ndarray:
        """Jacobian of :meth:`residual` (exact, symbolic derivatives of the laws)."""
        return (self.stoich @ self.net.rate_jacobian(self.full(y)))[self.ind] @ self.link

    def newton(self, start: np.ndarray) -> _FixedPoint | None:
        """The fixed point Newton reaches from ``start``, or None (no convergence, a
        negative or non-finite amount, or a residual above ``tol`` times the largest
        reaction rate)."""
        net, mag = self.net, self.mag
        sol = root(self.residual, start, jac=self.jacobian, method="hybr",
                   options={"xtol": 1e-12})
        x = self.full(sol.x)
        res = float(np.max(np.abs(self.residual(sol.x)))) if sol.x.size else 0.0
        with np.errstate(all="ignore"):
            rate_scale = float(np.max(np.abs(net.rates(x)))) if net.n_reactions else 0.0
        if not (np.all(np.isfinite(x)) and np.all(x > -1e-9 * mag) and
                (res <= self.tol * rate_scale or res <= 1e-15 * mag)):
            return None
        eig = np.linalg.eigvals(self.jacobian(sol.x))
        leading = float(np.max(eig.real)) if eig.size else -math.inf
        stable = leading <= 1e-9 * max(1.0, float(np.max(np.abs(eig))))
        return _FixedPoint(sol.x, res, eig, stable)


def _search(net: ReactionNetwork, red: _Reduced, t_max: float, max_evaluations: int
            ) -> tuple[_FixedPoint | None, _FixedPoint | None, float]:
    """Newton from the initial state, then from points of an integration over growing
    spans until a stable fixed point is found, ``t_max`` is reached or the
    right-hand side has been evaluated ``max_evaluations`` times. Returns the stable
    fixed point (or None), the first unstable one seen (or None) and the time reached."""
    f, jac = _rhs(net)
    evaluations = 0

    def counted(t, x):
        nonlocal evaluations
        evaluations += 1
        if evaluations > max_evaluations:
            raise _OutOfBudget
        return f(t, x)

    unstable = None  # an unstable fixed point seen on the way (reported if nothing better)
    found = red.newton(red.x0[red.ind])
    if found and not found[3]:
        unstable, found = found, None
    state, t_now, span = red.x0.copy(), 0.0, 10.0
    kwargs = {"jac": jac} if jac is not None else {}
    while found is None and t_now < t_max:
        # integrate on in growing spans; after each, Newton from the end point (a stable
        # state) and from the span's average (an oscillation circles its unstable fixed
        # point, which is then reported as unstable)
        grid = np.linspace(t_now, t_now + span, 101)
        try:
            sol = solve_ivp(counted, (t_now, t_now + span), state, method="LSODA", t_eval=grid,
                            rtol=1e-9, atol=default_atol(net, 1e-9), **kwargs)
        except _OutOfBudget:
            break
        if not sol.success or not np.all(np.isfinite(sol.y)):
            break
        traj = sol.y.T
        for start in (traj[-1][red.ind], traj[50:].mean(axis=0)[red.ind]):
            candidate = red.newton(start)
            if candidate and candidate[3]:
                found = candidate
                break
            if candidate and unstable is None:
                unstable = candidate
        state, t_now, span = traj[-1], t_now + span, span * 10.0
    return found, unstable, t_now


#: wall-clock seconds of the whole integrate-then-Newton search of a model with rate rules
#: (its integrator evaluates the rules in Python; an oscillator never settles)
RATE_RULE_SEARCH_SECONDS = 20.0


def _steady_state_rate_rules(net: ReactionNetwork, *, tol: float, t_max: float) -> pd.Series:
    """Steady state of a model with rate rules: Newton's method (finite-difference
    Jacobian) on the independent species and the rate-rule variables, started from the
    initial state and then from points of an integration over growing spans. The
    rate-rule variables that are not species go to ``attrs["rate_rule_values"]``."""
    from ._events import _EventModel

    model = _EventModel(net)
    n_s = net.n_species
    ind = list(net.independent_species)
    link = net.link_matrix
    x0 = model.x0.copy()
    offset = x0[:n_s] - link @ x0[ind]
    k = len(ind)
    # species driven by rate rules have zero stoichiometry rows, so the conservation
    # analysis calls them constant: they are unknowns of their own
    ruled = [net.index(v) for v, _ in net.rate_rules
             if v in net.species_index and net.index(v) not in ind]
    m = len(ruled)

    def full(y):
        species = link @ y[:k] + offset
        species[ruled] = y[k:k + m]
        return np.concatenate([species, y[k + m:]])

    def residual(y):
        try:
            dx = model.rhs(full(y), model.p0, 0.0)
        except (OverflowError, ZeroDivisionError, ValueError):
            # a rate undefined at this trial point (exp overflow, x/0): not a root
            return np.full(len(ind) + len(ruled) + len(y) - k - m, np.inf)
        return np.concatenate([dx[ind], dx[ruled], dx[n_s:]])

    def newton(start):
        sol = root(residual, start, method="hybr", options={"xtol": 1e-12})
        res = float(np.max(np.abs(residual(sol.x)))) if sol.x.size else 0.0
        scale = max(1e-300, float(np.max(np.abs(sol.x))) if sol.x.size else 1.0)
        if not (sol.success or res <= tol * scale) or not np.all(np.isfinite(sol.x)):
            return None
        jac = np.empty((sol.x.size, sol.x.size))
        for i in range(sol.x.size):
            h = 1e-7 * max(1.0, abs(sol.x[i]))
            step = sol.x.copy()
            step[i] += h
            jac[:, i] = (residual(step) - residual(sol.x)) / h
        eig = np.linalg.eigvals(jac) if jac.size else np.array([])
        leading = float(np.max(eig.real)) if eig.size else -math.inf
        return sol.x, res, eig, leading <= 1e-6 * max(1.0, float(np.max(np.abs(eig))) if
                                                       eig.size else 1.0)

    y0 = np.concatenate([x0[ind], x0[ruled], x0[n_s:]])
    found = newton(y0)
    span, t_now = 10.0, 0.0
    deadline = _time.monotonic() + RATE_RULE_SEARCH_SECONDS
    while (found is None or not found[3]) and t_now < t_max:
        t_now += span
        left = deadline - _time.monotonic()
        if left <= 0:
            break
        try:
            from ._events import simulate_with_events
            amounts, params = simulate_with_events(net, [0.0, t_now], rtol=1e-9,
                                                   atol=default_atol(net, 1e-9), wall_time=left)
        except SimulationError:
            break
        end = np.concatenate([amounts[-1], params[-1, model.extra_p] if params is not None
                              else x0[n_s:]])
        found = newton(np.concatenate([end[ind], end[ruled], end[n_s:]])) or found
        span *= 10.0
    if found is None:
        raise NoSteadyState(f"no steady state found for model '{net.id}' (rate rules; Newton "
                            f"from the initial state and after integrating to t={t_now:g})")
    y, res, eig, stable = found
    if not stable:
        shown = ", ".join(f"{e:.3g}" for e in sorted(eig, key=lambda e: -e.real)[:3])
        raise NoSteadyState(f"steady state of model '{net.id}' is unstable (eigenvalues "
                            f"{shown})", unstable=True, eigenvalues=eig)
    x = full(y)
    result = pd.Series(x[:n_s], index=list(net.species_ids), name="steady_state")
    result.attrs.update(eigenvalues=eig, residual=res,
                        rate_rule_values=dict(zip(net.ode_extra_ids, x[n_s:])))
    return result
