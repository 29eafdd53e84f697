"""Exact SSA for time-dependent propensities, delayed events and delayed reactions.

Used by :func:`sbmlnoise.ssa.ssa` (exact methods) whenever a model has one of

* **propensities that change between reactions**: ``time`` in a kinetic law (directly or
  through an assignment rule) or a parameter driven by a rate rule. Between two
  reactions the counts are constant and the rate-rule variables follow their ODE, so the
  waiting time is drawn by the *integrated hazard* (random time change) method: with
  ``E ~ Exp(1)`` the next reaction happens at the first ``s`` with
  ``int_t^s a_0(x, p(u), u) du = E`` (Anderson 2007, doi:10.1063/1.2799998, section 3;
  Gillespie 1976 doi:10.1016/0021-9991(76)90041-3 for the time-change argument). The
  integral and the rate-rule ODE are integrated together by the adaptive
  Dormand-Prince 5(4) pair (local error below ``rtol * |y| + atol``) and the crossing
  ``= E`` is located on the step's Hermite interpolant, then refined by safeguarded
  Newton iterations of exact steps from the step start (hazard residual <= 1e-10). The method is therefore exact up to that integration tolerance (default
  ``rtol = 1e-8``, ``atol = 1e-9``), not a time discretisation of the jump process.
* **events with a delay**: the trigger is detected as for undelayed events; the
  execution is queued at ``trigger time + delay`` (delay evaluated at trigger time). With
  ``useValuesFromTriggerTime`` the assigned values are computed at trigger time and
  stored, otherwise at execution. A non-persistent delayed event is dropped from the
  queue as soon as its trigger is false after any state change (SBML L3 semantics).
* **delay() in kinetic laws** (delay SSA, Barrio et al. 2006
  doi:10.1371/journal.pcbi.0020117, non-consuming delayed reactions): a reaction *without
  reactants* whose law reads the state only through ``delay(., tau)`` with one constant
  ``tau`` fires with intensity ``f(x(t - tau))``. It is simulated exactly by initiating
  it with propensity ``f(x(t))`` (the law with the delays removed) and applying its
  state change at ``t + tau``; initiations on ``[-tau, 0)`` use the constant initial
  state (the SBML history before t = 0), so completions in ``[0, tau)`` come at rate
  ``f(x0)``.
* **consuming delayed pairs** (Cai 2007 doi:10.1063/1.2710253): a reaction ``R2`` whose
  law is exactly ``delay(v1, tau)``, ``v1`` the law of another reaction ``R1`` that
  produces everything ``R2`` consumes (e.g. ``R1: -> X; k*G`` and ``R2: X -> ;
  delay(k*G, tau)``: each molecule degraded ``tau`` after its birth). ``R2`` fires with
  intensity ``v1(x(t - tau))``, which the SSA realises exactly by completing every
  firing of ``R1`` as one firing of ``R2`` ``tau`` later (firings of ``R1`` on
  ``[-tau, 0)`` at the constant initial state complete in ``[0, tau)``, the SBML
  history; if those would remove molecules that do not exist, the run stops with a
  :class:`~sbmlnoise.errors.SimulationError` naming ``R2``). Other laws with
  ``delay()`` and reactants have no unambiguous stochastic meaning and are refused with
  :class:`~sbmlnoise.errors.UnsupportedFeature` naming the reaction.

All kernels are numba-compiled (``cache=True``), seeded like the other exact kernels
(one xoshiro256** stream per run) and run in the same chunked, parallel driver. The
direct method (all propensities every step) is used for these models.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from .. import expr as ex
from ..errors import UnsupportedFeature
from ._kernels import _MAX_EVENT_ROUNDS, _all_propensities, _collect_run, _mass_action
from ._program import _eval
from ._rng import _exponential, _uniform

TDModel = namedtuple("TDModel", [
    "integrate", "rr_index", "rr_prog", "rx_delay", "rx_chain", "rx_chain_tau",
    "ev_delay_prog", "max_assign",
    "rtol", "atol",
])

#: initial capacity of the queue of pending delayed completions/executions
QUEUE_CAPACITY = 1024
#: tolerances of the integrated-hazard integrator (relative, absolute)
RTOL, ATOL = 1e-8, 1e-9


def _chained_completion(net, r2, values, fixed):
    """``(j1, tau)`` when reaction ``r2``'s law is exactly ``delay(v1, tau)`` with ``v1``
    the law of another reaction ``j1`` (constant ``tau``) whose products include all of
    ``r2``'s reactants: ``r2`` then fires at intensity ``v1(t - tau)``, i.e. exactly once
    ``tau`` after each firing of ``j1`` (consuming delayed pair, e.g. degradation of
    each molecule ``tau`` after its birth). ``None`` otherwise."""
    rate = r2.rate
    if not (isinstance(rate, ex.Apply) and rate.op == "delay"):
        return None
    law, tau_tree = rate.args
    if _has(law, "delay") or ex.TIME in ex.symbols(law) or ex.symbols(tau_tree) - fixed:
        return None
    tau = float(ex.evaluate(tau_tree, values))
    if not (tau >= 0 and math.isfinite(tau)):
        return None
    for j1, r1 in enumerate(net.reactions):
        if r1 is r2 or r1.rate != law:
            continue
        made: dict[str, float] = {}
        for sid, nu in r1.products:
            made[sid] = made.get(sid, 0.0) + nu
        for sid, nu in r1.reactants:
            made[sid] = made.get(sid, 0.0) - nu
        if all(made.get(sid, 0.0) >= nu for sid, nu in r2.reactants):
            return j1, tau
    return None


def _delayed_law(net, r, tree, values, fixed):
    """``(tau, law without delays)`` when reaction ``r`` is a non-consuming delayed
    reaction (see module docstring); ``None`` if its law has no ``delay()``; raises
    :class:`UnsupportedFeature` naming the reaction otherwise."""
    if not _has(tree, "delay"):
        return None
    species = set(net.species_ids)
    taus: list[float] = []

    def fail(why: str):
        raise UnsupportedFeature(
            f"ssa: the kinetic law of reaction '{r.id}' uses delay() in a form the exact "
            f"delay SSA cannot simulate: {why}. Supported: a reaction without reactants "
            "whose law reads species only inside delay(., tau) with one constant tau "
            "(non-consuming delayed reaction), or a law that is exactly delay(law of "
            "another reaction R, tau) consuming only what R produces (each R firing is "
            "completed tau later); use sn.simulate_ode for the rate equations",
            element=r.id, feature="delay() in kinetic law")

    def walk(node, inside):
        if isinstance(node, ex.Sym):
            if not inside and node.name in species:
                fail(f"species '{node.name}' is read outside delay()")
            if node.name == ex.TIME:
                fail("it depends on time")
            return
        if not isinstance(node, ex.Apply):
            return
        if node.op == "delay":
            if inside:
                fail("nested delay()")
            tau_tree = node.args[1]
            if ex.symbols(tau_tree) - fixed:
                fail("the delay is not a constant")
            taus.append(float(ex.evaluate(tau_tree, values)))
            walk(node.args[0], True)
            return
        for a in node.args:
            walk(a, inside)

    walk(tree, False)
    if not taus:
        return None
    if any(nu for _, nu in r.reactants):
        fail("it has reactants (a consuming delay has no unambiguous rate-law meaning)")
    if len(set(taus)) != 1 or not (taus[0] >= 0 and math.isfinite(taus[0])):
        fail(f"delays {sorted(set(taus))} are not one finite value >= 0")
    hist = {v for v, _ in getattr(net, "initial_history", ())}
    read = ex.symbols(tree) & species
    if read & hist:
        fail(f"species {sorted(read & hist)[0]!r} has a time-dependent initial history")
    return taus[0], ex.strip_delays(tree)


def check_features(net) -> None:
    """Refuse what the exact SSA (with this module) still cannot simulate, naming the
    element and the feature."""
    species = set(net.species_ids)
    for var, _ in net.rate_rules:
        if var not in net.parameter_ids:
            raise UnsupportedFeature(
                f"ssa: '{var}' has a rate rule and is a species or unknown variable; the "
                "exact SSA supports rate rules only on parameters and compartment sizes "
                "(a continuously changing species is not a molecule count)",
                element=var, feature="RateRule on a species")
    for var, tree in net.rate_rules:
        if _has(tree, "delay"):
            raise UnsupportedFeature(f"ssa: the rate rule of '{var}' uses delay()",
                                     element=var, feature="delay() in a rate rule")
    for e in net.events:
        for t in [e.trigger, e.priority, e.delay] + [v for _, v in e.assignments]:
            if t is not None and _has(t, "delay"):
                raise UnsupportedFeature(f"ssa: event '{e.id}' uses delay() in its math",
                                         element=e.id, feature="delay() in an event")
        if set(ex.symbols(e.trigger)) & {v for v, _ in net.rate_rules}:
            raise UnsupportedFeature(
                f"ssa: the trigger of event '{e.id}' reads a rate-rule variable; the exact "
                "SSA cannot locate when it fires", element=e.id,
                feature="trigger on a rate-rule variable")
    for element, feature in net.continuous_features():
        if feature in ("RateRule", "EventWithDelay") or element == "delay":
            continue
        raise UnsupportedFeature(
            f"ssa: '{element}' is a {feature}, which the exact SSA does not handle; the rate "
            "equations (sn.simulate_ode) do", element=element, feature=feature)
    del species


def _has(tree, op: str) -> bool:
    if isinstance(tree, ex.Apply):
        return tree.op == op or any(_has(a, op) for a in tree.args)
    return False


def timedep_feature(net) -> tuple[str, str]:
    """(element, feature) of the first construct that needs this module."""
    for r in net.reactions:
        if _has(r.rate, "delay"):
            return r.id, "delay() in kinetic law"
        if ex.TIME in ex.symbols(r.rate):
            return r.id, "time-dependent rate"
    for var, _ in net.rate_rules:
        return var, "RateRule"
    for e in net.events:
        if e.delay is not None:
            return e.id, "EventWithDelay"
    return "delay", "delay()"


def needs_timedep(net) -> bool:
    """True when ``net`` needs :mod:`._timedep` (time-varying propensities, rate rules,
    delayed events or delay() in laws)."""
    return bool(net.is_time_dependent or net.rate_rules or net.has_delays
                or any(e.delay is not None for e in net.events))


# ---------------------------------------------------------------------------- kernels

@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _deriv(m, td, x, p, t, y, dy, a, stack, info):
    """Right-hand side of (rate-rule variables, integrated hazard) at ``y``; also fills
    ``a`` with the propensities. Returns a_0, or -1.0 (status 1 in ``info``).
    Inlined, with the propensities evaluated here (not through ``_propensity``): numba
    calls that pass the model's many arrays cost more than the arithmetic."""
    rr_index = td.rr_index
    R = rr_index.shape[0]
    code = m.code
    consts = m.consts
    prog_ptr = m.prog_ptr
    ma_flag = m.ma_flag
    for r in range(R):
        p[rr_index[r]] = y[r]
    for r in range(R):
        dy[r] = _eval(code, consts, prog_ptr, td.rr_prog[r], x, p, t, stack)
    a0 = 0.0
    for j in range(m.n_reactions):
        if ma_flag[j] != 0:
            v = _mass_action(ma_flag, m.ma_coef, m.ma_ptr, m.ma_species, m.ma_order, j, x)
        else:
            v = _eval(code, consts, prog_ptr, j, x, p, t, stack)
        if not (v >= 0.0 and v < math.inf):
            info[0] = 1.0
            info[1] = j
            info[3] = t
            info[4] = v
            return -1.0
        a[j] = v
        a0 += v
    dy[R] = a0
    return a0


# Dormand & Prince (1980) 5(4) pair, doi:10.1016/0771-050X(80)90013-3 (FSAL)
_C2, _C3, _C4, _C5 = 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9
_A21 = 1.0 / 5
_A31, _A32 = 3.0 / 40, 9.0 / 40
_A41, _A42, _A43 = 44.0 / 45, -56.0 / 15, 32.0 / 9
_A51, _A52, _A53, _A54 = 19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729
_A61, _A62, _A63, _A64, _A65 = (9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176,
                                -5103.0 / 18656)
_B1, _B3, _B4, _B5, _B6 = 35.0 / 384, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84
_E1, _E3, _E4, _E5, _E6, _E7 = (71.0 / 57600, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200,
                                22.0 / 525, -1.0 / 40)


@njit(cache=True, nogil=True, error_model="numpy")
def _dp5(m, td, x, p, t, h, y0, f0, y1, f1, K, tmp, a, stack, info):
    """One Dormand-Prince 5(4) step of size ``h`` from ``(t, y0)`` with ``f0`` the
    derivative there; ``y1`` (5th order), ``f1`` the derivative at ``(t + h, y1)`` (which
    also leaves ``p``/``a`` at that point). Returns the scaled error estimate (<= 1:
    accept) or -1.0 on a bad propensity. ``K`` is scratch (5, n)."""
    n = y0.shape[0]
    k2, k3, k4, k5, k6 = K[0], K[1], K[2], K[3], K[4]
    for i in range(n):
        tmp[i] = y0[i] + h * _A21 * f0[i]
    if _deriv(m, td, x, p, t + _C2 * h, tmp, k2, a, stack, info) < 0.0:
        return -1.0
    for i in range(n):
        tmp[i] = y0[i] + h * (_A31 * f0[i] + _A32 * k2[i])
    if _deriv(m, td, x, p, t + _C3 * h, tmp, k3, a, stack, info) < 0.0:
        return -1.0
    for i in range(n):
        tmp[i] = y0[i] + h * (_A41 * f0[i] + _A42 * k2[i] + _A43 * k3[i])
    if _deriv(m, td, x, p, t + _C4 * h, tmp, k4, a, stack, info) < 0.0:
        return -1.0
    for i in range(n):
        tmp[i] = y0[i] + h * (_A51 * f0[i] + _A52 * k2[i] + _A53 * k3[i] + _A54 * k4[i])
    if _deriv(m, td, x, p, t + _C5 * h, tmp, k5, a, stack, info) < 0.0:
        return -1.0
    for i in range(n):
        tmp[i] = y0[i] + h * (_A61 * f0[i] + _A62 * k2[i] + _A63 * k3[i] + _A64 * k4[i]
                              + _A65 * k5[i])
    if _deriv(m, td, x, p, t + h, tmp, k6, a, stack, info) < 0.0:
        return -1.0
    for i in range(n):
        y1[i] = y0[i] + h * (_B1 * f0[i] + _B3 * k3[i] + _B4 * k4[i] + _B5 * k5[i]
                             + _B6 * k6[i])
    if _deriv(m, td, x, p, t + h, y1, f1, a, stack, info) < 0.0:
        return -1.0
    e = 0.0
    for i in range(n):
        d = h * (_E1 * f0[i] + _E3 * k3[i] + _E4 * k4[i] + _E5 * k5[i] + _E6 * k6[i]
                 + _E7 * f1[i])
        sc = abs(d) / (td.atol + td.rtol * max(abs(y0[i]), abs(y1[i])))
        if sc > e:
            e = sc
    return e


@njit(cache=True, nogil=True, error_model="numpy")
def _hermite_root(y0, f0, y1, f1, h, target):
    """``theta`` in (0, 1] where the cubic Hermite interpolant of the hazard over one step
    reaches ``target`` (bisection; a starting point for the exact refinement)."""
    lo = 0.0
    hi = 1.0
    for _ in range(50):
        th = 0.5 * (lo + hi)
        t2 = th * th
        t3 = t2 * th
        v = ((2 * t3 - 3 * t2 + 1) * y0 + (t3 - 2 * t2 + th) * h * f0
             + (-2 * t3 + 3 * t2) * y1 + (t3 - t2) * h * f1)
        if v >= target:
            hi = th
        else:
            lo = th
    return hi


@njit(cache=True, nogil=True, error_model="numpy")
def _integrate(m, td, x, p, t, t_cap, target, h, work, a, stack, info):
    """Integrate (rate-rule variables, hazard) from ``t`` until the hazard reaches
    ``target`` or time reaches ``t_cap`` (adaptive Dormand-Prince 5(4), local error <=
    ``atol + rtol |y|``; the crossing is located on the step's Hermite interpolant and
    refined by Newton iterations of exact DP5 steps from the step start, to a hazard
    residual <= 1e-10 (1 + target)). On exit ``p`` and ``a`` hold the values at the
    returned time. ``work`` is scratch (12, n). Returns ``(t_end, fired, h, status)``."""
    R = td.rr_index.shape[0]
    y, f0, y1, f1, yt, ft, tmp = work[0], work[1], work[2], work[3], work[4], work[5], work[6]
    K = work[7:12]
    y[R] = 0.0
    for r in range(R):
        y[r] = p[td.rr_index[r]]
    if t >= t_cap:
        return t_cap, False, h, 0
    if _deriv(m, td, x, p, t, y, f0, a, stack, info) < 0.0:
        return t, False, h, 1
    n_steps = 0
    while t < t_cap:
        n_steps += 1
        if n_steps > 100000000:
            info[0] = 3.0
            info[3] = t
            return t, False, h, 3
        hh = min(h, t_cap - t)
        e = _dp5(m, td, x, p, t, hh, y, f0, y1, f1, K, tmp, a, stack, info)
        if e < 0.0:
            return t, False, h, 1
        if e > 1.0:
            h = hh * max(0.2, 0.9 * e ** -0.2)
            continue
        if y1[R] >= target:
            lo = 0.0
            hi = hh
            s = hh * _hermite_root(y[R], f0[R], y1[R], f1[R], hh, target)
            for _ in range(40):
                if not (lo < s <= hi):
                    s = 0.5 * (lo + hi)
                if _dp5(m, td, x, p, t, s, y, f0, yt, ft, K, tmp, a, stack, info) < 0.0:
                    return t, False, h, 1
                g = yt[R] - target
                if abs(g) <= 1e-10 * (1.0 + target) or hi - lo <= 1e-15 * (1.0 + abs(t)):
                    break
                if g > 0.0:
                    hi = s
                else:
                    lo = s
                s = s - g / ft[R] if ft[R] > 0.0 else 0.5 * (lo + hi)
            return t + s, True, h, 0  # _dp5 left p and a at (t + s, yt)
        for i in range(y.shape[0]):
            y[i] = y1[i]
            f0[i] = f1[i]
        t = t + hh
        if hh >= h:
            h = hh * min(5.0, 0.9 * max(e, 1e-10) ** -0.2)
    return t_cap, False, h, 0


@njit(cache=True, nogil=True, error_model="numpy")
def _assign(m, e, x, p, t, vals, info):
    """Apply the assignments of event ``e`` with values ``vals``; status (0 or 6)."""
    lo = m.ev_assign_ptr[e]
    for q in range(lo, m.ev_assign_ptr[e + 1]):
        if m.as_kind[q] == 0:
            v = m.as_scale[q] * vals[q - lo]
            r = np.rint(v)
            if not (abs(v - r) <= 1e-6 * max(1.0, abs(v)) and r >= 0.0):
                info[0] = 6.0
                info[1] = e
                info[2] = m.as_index[q]
                info[3] = t
                info[4] = v
                return 6
            x[m.as_index[q]] = r
        else:
            p[m.as_index[q]] = vals[q - lo]
    return 0


@njit(cache=True, nogil=True, error_model="numpy")
def _eval_assign(m, e, x, p, t, out, stack):
    lo = m.ev_assign_ptr[e]
    for q in range(lo, m.ev_assign_ptr[e + 1]):
        out[q - lo] = _eval(m.code, m.consts, m.prog_ptr, m.as_prog[q], x, p, t, stack)


@njit(cache=True, nogil=True, error_model="numpy")
def _fire_td(m, td, x, p, t, prev, pend, vals, stack, info, qt, qk, qi, qv, qn):
    """Like ``_kernels._fire_events`` (all triggers, priority order, until quiet) but an
    event with a delay is queued at ``t + delay`` instead of executed, and queued
    non-persistent events whose trigger is now false are cancelled.
    Returns ``(fired, qn, status)``; status 7 = queue full, 8 = bad delay."""
    E = m.n_events
    fired = 0
    cap = qt.shape[0]
    for rnd in range(_MAX_EVENT_ROUNDS):
        pending = False
        for e in range(E):
            value = _eval(m.code, m.consts, m.prog_ptr, m.ev_trigger[e], x, p, t, stack)
            cur = 1 if value != 0.0 else 0
            pend[e] = 1 if (cur == 1 and prev[e] == 0) else 0
            prev[e] = cur
            if pend[e] == 1:
                pending = True
        k = 0
        while k < qn:  # cancel non-persistent delayed events whose trigger went false
            if qk[k] == 1 and m.ev_persistent[qi[k]] == 0 and prev[qi[k]] == 0:
                qn -= 1
                qt[k] = qt[qn]
                qk[k] = qk[qn]
                qi[k] = qi[qn]
                qv[k, :] = qv[qn, :]
                continue
            k += 1
        if not pending:
            return fired, qn, 0
        for kk in range(E):
            e = m.ev_order[kk]
            if pend[e] == 0:
                continue
            if m.ev_persistent[e] == 0:
                if _eval(m.code, m.consts, m.prog_ptr, m.ev_trigger[e], x, p, t, stack) == 0.0:
                    prev[e] = 0
                    continue
            dprog = td.ev_delay_prog[e]
            if dprog >= 0:
                d = _eval(m.code, m.consts, m.prog_ptr, dprog, x, p, t, stack)
                if not (d >= 0.0 and d < math.inf):
                    info[0] = 8.0
                    info[1] = e
                    info[3] = t
                    info[4] = d
                    return fired, qn, 8
                if qn >= cap:
                    info[0] = 7.0
                    info[3] = t
                    return fired, qn, 7
                qt[qn] = t + d
                qk[qn] = 1
                qi[qn] = e
                if m.ev_use_trigger_values[e] != 0:
                    _eval_assign(m, e, x, p, t, qv[qn], stack)
                qn += 1
            else:
                _eval_assign(m, e, x, p, t, vals, stack)
                st = _assign(m, e, x, p, t, vals, info)
                if st != 0:
                    return fired, qn, st
            fired += 1
    info[0] = 4.0
    info[3] = t
    return fired, qn, 4


@njit(cache=True, nogil=True, error_model="numpy")
def _apply_reaction(m, j, x, t, max_count, info):
    for q in range(m.change_ptr[j], m.change_ptr[j + 1]):
        i = m.change_species[q]
        x[i] += m.change_delta[q]
        if x[i] < 0.0:
            info[0] = 5.0
            info[1] = j
            info[2] = i
            info[3] = t
            return 5
        if x[i] > max_count:
            info[0] = 2.0
            info[1] = j
            info[2] = i
            info[3] = t
            return 2
    return 0


@njit(cache=True, nogil=True, error_model="numpy")
def _start_td(m, td, x0, p0, x, p, a, rng, prev, pend, vals, stack, info, qt, qk, qi, qv):
    """State at t = 0: history initiations of delayed reactions on [-tau, 0) at the
    constant initial state, events true at 0. Returns ``(qn, status)``."""
    x[:] = x0
    p[:] = p0
    qn = 0
    for e in range(m.n_events):
        prev[e] = m.ev_init[e]
    a0 = _all_propensities(m, x, p, 0.0, a, stack, info)
    if a0 < 0.0:
        return qn, 1
    for j in range(m.n_reactions):
        tau = td.rx_delay[j]
        done = j
        if td.rx_chain[j] >= 0:  # firings of j before 0 complete as rx_chain[j] in [0, tau)
            tau = td.rx_chain_tau[j]
            done = td.rx_chain[j]
        if tau > 0.0 and a[j] > 0.0:
            s = -tau + _exponential(rng) / a[j]
            while s < 0.0:
                if qn >= qt.shape[0]:
                    info[0] = 7.0
                    return qn, 7
                qt[qn] = s + tau
                qk[qn] = 0
                qi[qn] = done
                qn += 1
                s += _exponential(rng) / a[j]
    if m.n_events > 0:
        fired, qn, st = _fire_td(m, td, x, p, 0.0, prev, pend, vals, stack, info,
                                 qt, qk, qi, qv, qn)
        if st != 0:
            return qn, st
    return qn, 0


@njit(cache=True, nogil=True, error_model="numpy")
def _do_scheduled(m, td, x, p, t, k, vals, stack, info, qt, qk, qi, qv, qn, max_count):
    """Execute queue entry ``k`` (a delayed completion or event) and remove it."""
    kind = qk[k]
    idx = qi[k]
    if kind == 0:
        st = _apply_reaction(m, idx, x, t, max_count, info)
    else:
        if m.ev_use_trigger_values[idx] != 0:
            lo = m.ev_assign_ptr[idx]
            for q in range(lo, m.ev_assign_ptr[idx + 1]):
                vals[q - lo] = qv[k, q - lo]
        else:
            _eval_assign(m, idx, x, p, t, vals, stack)
        st = _assign(m, idx, x, p, t, vals, info)
    qn -= 1
    qt[k] = qt[qn]
    qk[k] = qk[qn]
    qi[k] = qi[qn]
    qv[k, :] = qv[qn, :]
    return qn, st


@njit(cache=True, nogil=True, error_model="numpy")
def _push(qt, qk, qi, qn, when, j, t, info):
    """Queue the completion of reaction ``j`` at ``when``; new length or -1 (full)."""
    if qn >= qt.shape[0]:
        info[0] = 7.0
        info[3] = t
        return -1
    qt[qn] = when
    qk[qn] = 0
    qi[qn] = j
    return qn + 1


@njit(cache=True, nogil=True, error_model="numpy")
def _scheduled(m, td, x, p, t, breakpoint, k, prev, pend, vals, stack, info, qt, qk, qi, qv,
               qn, max_count):
    """At a trigger time breakpoint (fire events at ``t`` and just after it) or the
    execution of queue entry ``k`` (then fire the events it triggers). Returns
    ``(qn, status)``."""
    if breakpoint:
        for sub in range(2):  # at the breakpoint and just after it (strict relations)
            tt = t if sub == 0 else np.nextafter(t, math.inf)
            nf, qn, st = _fire_td(m, td, x, p, tt, prev, pend, vals, stack, info,
                                  qt, qk, qi, qv, qn)
            if st != 0:
                return qn, st
        return qn, 0
    qn, st = _do_scheduled(m, td, x, p, t, k, vals, stack, info, qt, qk, qi, qv, qn, max_count)
    if st != 0 or m.n_events == 0:
        return qn, st
    nf, qn, st = _fire_td(m, td, x, p, t, prev, pend, vals, stack, info, qt, qk, qi, qv, qn)
    return qn, st


@njit(cache=True, nogil=True, error_model="numpy")
def _run_td(m, td, x, p, a, rng, stack, prev, pend, vals, times, buf, max_count, max_steps,
            info, qt, qk, qi, qv, qn, work):
    """One run from t = 0 (after :func:`_start_td`) recording ``buf[i] = x`` at every
    output time. Returns ``(steps, status)``."""
    T = times.shape[0]
    S = x.shape[0]
    bps = m.breakpoints
    nb = bps.shape[0]
    has_events = m.n_events > 0
    t = 0.0
    steps = 0
    bi = 0
    while bi < nb and bps[bi] <= 0.0:
        bi += 1
    ti = 0
    t_last = times[T - 1]
    h = t_last / 16.0 if t_last > 0.0 else 1.0
    a0 = _all_propensities(m, x, p, t, a, stack, info)
    if a0 < 0.0:
        return steps, 1
    while ti < T:
        kmin = -1
        tq = math.inf
        for k in range(qn):
            if qt[k] < tq:
                tq = qt[k]
                kmin = k
        tb = bps[bi] if bi < nb else math.inf
        t_sched = min(tq, tb)
        t_cap = min(t_sched, t_last)
        target = _exponential(rng)
        fired = False
        t_next = math.inf
        if td.integrate:
            t_end, fired, h, st = _integrate(m, td, x, p, t, t_cap, target, h, work, a,
                                             stack, info)
            if st != 0:
                return steps, st
            if fired:
                t_next = t_end
        elif a0 > 0.0:
            t_next = t + target / a0
            fired = t_next < t_cap
        if not fired:
            if t_sched > t_last:
                while ti < T:
                    for s in range(S):
                        buf[ti, s] = x[s]
                    ti += 1
                break
            while ti < T and times[ti] < t_sched:
                for s in range(S):
                    buf[ti, s] = x[s]
                ti += 1
            t = t_sched
            if tb <= tq:
                bi += 1
            qn, st = _scheduled(m, td, x, p, t, tb <= tq, kmin, prev, pend, vals, stack,
                                info, qt, qk, qi, qv, qn, max_count)
            if st != 0:
                return steps, st
            a0 = _all_propensities(m, x, p, t, a, stack, info)
            if a0 < 0.0:
                return steps, 1
            continue
        while ti < T and times[ti] < t_next:
            for s in range(S):
                buf[ti, s] = x[s]
            ti += 1
        t = t_next
        a0 = 0.0
        for jj in range(a.shape[0]):
            a0 += a[jj]
        u = _uniform(rng) * a0
        j = -1
        acc = 0.0
        for jj in range(a.shape[0]):
            if a[jj] > 0.0:
                acc += a[jj]
                j = jj
                if u < acc:
                    break
        if j < 0:
            continue
        if td.rx_delay[j] >= 0.0:  # non-consuming delayed reaction: change at t + tau
            qn = _push(qt, qk, qi, qn, t + td.rx_delay[j], j, t, info)
            if qn < 0:
                return steps, 7
        else:
            st = _apply_reaction(m, j, x, t, max_count, info)
            if st != 0:
                return steps, st
            if td.rx_chain[j] >= 0:  # consuming delayed pair: partner fires at t + tau
                qn = _push(qt, qk, qi, qn, t + td.rx_chain_tau[j], td.rx_chain[j], t, info)
                if qn < 0:
                    return steps, 7
        steps += 1
        if steps >= max_steps:
            info[0] = 3.0
            info[3] = t
            return steps, 3
        if has_events:
            nf, qn, st = _fire_td(m, td, x, p, t, prev, pend, vals, stack, info,
                                  qt, qk, qi, qv, qn)
            if st != 0:
                return steps, st
        a0 = _all_propensities(m, x, p, t, a, stack, info)
        if a0 < 0.0:
            return steps, 1
    return steps, 0


@njit(cache=True, nogil=True, error_model="numpy")
def _ensemble_chunk_td(m, td, x0, p0, times, states, keep, want_cov, mean, m2, cov, kept,
                       sample_idx, samples, max_count, max_steps, info, err_state, capacity):
    """As ``_kernels._ensemble_chunk`` for models needing this module. Returns the
    number of reaction events, or -1 - run on failure (status 7: queue capacity)."""
    S = m.n_species
    M = m.n_reactions
    T = times.shape[0]
    x = np.empty(S)
    p = np.empty(p0.shape[0])
    a = np.zeros(M)
    prev = np.zeros(max(m.n_events, 1), dtype=np.int64)
    pend = np.zeros(max(m.n_events, 1), dtype=np.int64)
    A = max(td.max_assign, 1)
    vals = np.zeros(max(m.as_kind.shape[0], 1))
    stack = np.zeros(m.max_stack)
    buf = np.empty((T, S))
    d1 = np.empty(S)
    qt = np.empty(capacity)
    qk = np.empty(capacity, dtype=np.int64)
    qi = np.empty(capacity, dtype=np.int64)
    qv = np.zeros((capacity, A))
    work = np.zeros((12, td.rr_index.shape[0] + 1))
    total = 0
    for r in range(states.shape[0]):
        rng = states[r]
        qn, status = _start_td(m, td, x0, p0, x, p, a, rng, prev, pend, vals, stack, info,
                               qt, qk, qi, qv)
        steps = 0
        if status == 0:
            steps, status = _run_td(m, td, x, p, a, rng, stack, prev, pend, vals, times, buf,
                                    max_count, max_steps, info, qt, qk, qi, qv, qn, work)
        if status != 0:
            err_state[:] = x
            return -1 - r
        total += steps
        _collect_run(buf, r, keep, kept, sample_idx, samples, mean, m2, cov, want_cov, d1)
    return total
