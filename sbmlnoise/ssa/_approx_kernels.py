"""numba kernels of the approximate stochastic methods (tau-leaping, CLE, hybrid).

Private; the driver is :mod:`.approx` (through :func:`sbmlnoise.ssa.ssa`). The kernels
share the exact SSA's array model (:mod:`._model`), interpreter, random streams and event
code, plus an :data:`ApproxModel` with reactant stoichiometries. Status codes are those of
:mod:`._kernels`. ``counters`` (float64, (N_COUNTERS,)) accumulates over runs:

== ======================================================================================
0  leaps / integration steps taken
1  exact SSA steps taken (tau-leaping below its threshold; hybrid with no fast channel)
2  rejected steps (a count would have gone negative; the step was halved)
3  clamps: steps after which a negative amount was set to 0 (CLE / hybrid only)
4  time of the first clamp (inf if none)
5  species of the first clamp (-1 if none)
6  events-equivalent: reaction firings (tau, exact) plus expected firings ``a_j dt`` of
   channels integrated continuously (CLE, hybrid fast part)
== ======================================================================================

``params`` (float64): [eps, n_critical, ssa_factor, n_ssa_steps, lambda_fast, n_fast,
fast_mode (0 CLE, 1 rate equations)].
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from ._kernels import _fire_events, _mass_action, _start
from ._program import _eval
from ._rng import _exponential, _normal, _poisson, _uniform

ApproxModel = namedtuple("ApproxModel", [
    "re_ptr", "re_species", "re_nu",      # reactant stoichiometry per channel (CSR)
    "inv_ptr", "inv_species",             # species a channel reads or changes (CSR)
    "hor", "hor_mult",                    # highest order of reaction, multiplicity (S,)
])

N_COUNTERS = 8
TAU_LEAP, CLE, HYBRID = 2, 3, 4
_MAX_HALVINGS = 30


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _props(m, am, x, p, t, a, stack, info, continuous):
    """All propensities into ``a``; returns the total or -1 (status 1). With
    ``continuous``, a negative value of a channel that lacks reactant molecules
    (``x_i < nu_ij`` for some reactant) is read as 0: a law such as ``k P (P-1)/2`` is
    negative for ``0 < P < 1``, amounts a continuous method can reach."""
    a0 = 0.0
    for j in range(m.n_reactions):
        if m.ma_flag[j] != 0:
            v = _mass_action(m.ma_flag, m.ma_coef, m.ma_ptr, m.ma_species, m.ma_order, j, x)
        else:
            v = _eval(m.code, m.consts, m.prog_ptr, j, x, p, t, stack)
        if continuous and v < 0.0:
            for q in range(am.re_ptr[j], am.re_ptr[j + 1]):
                if x[am.re_species[q]] < am.re_nu[q]:
                    v = 0.0
                    break
        if not (v >= 0.0 and v < math.inf):
            info[0] = 1.0
            info[1] = j
            info[3] = t
            info[4] = v
            return -1.0
        a[j] = v
        a0 += v
    return a0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _g(hor, mult, xi):
    """Cao, Gillespie & Petzold (2006) eq. 27: ``g_i`` from the highest order of reaction
    in which species ``i`` is a reactant and its multiplicity there (orders above 3 use
    ``g = order``, a conservative extension)."""
    if hor <= 1:
        return 1.0
    if hor == 2:
        if mult >= 2 and xi > 1.0:
            return 2.0 + 1.0 / (xi - 1.0)
        return 2.0 if mult < 2 else 3.0
    if hor == 3:
        if mult == 2 and xi > 1.0:
            return 1.5 * (2.0 + 1.0 / (xi - 1.0))
        if mult >= 3 and xi > 2.0:
            return 3.0 + 1.0 / (xi - 1.0) + 2.0 / (xi - 2.0)
        return 3.0 if mult < 2 else 4.5
    return float(hor)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _select_tau(m, am, x, a, use, eps, mu, sig):
    """Leap size over channels with ``use[j]``: the bound of Cao, Gillespie & Petzold
    (2006) eq. 33, ``min_i min(max(eps x_i / g_i, 1) / |mu_i|, max(eps x_i / g_i, 1)^2 /
    sigma_i^2)`` with ``mu_i = sum_j nu_ij a_j``, ``sigma_i^2 = sum_j nu_ij^2 a_j``, and a
    relaxation bound ``tau <= 2 eps / max_i r_i`` with ``r_i = sum_j a_j m_ij |nu_ij| /
    x_i`` over channels consuming ``i`` (``m_ij`` its reactant order: the per-capita
    consumption rate, ``gamma`` for first-order decay). Without the second bound the
    explicit leap inflates the stationary variance of a first-order species by
    ``1 / (1 - gamma tau / 2)``, which eq. 33 alone lets grow to tens of percent at high
    counts; with it the inflation is at most about ``eps``."""
    S = x.shape[0]
    for i in range(S):
        mu[i] = 0.0
        sig[i] = 0.0
    rmax = 0.0
    for j in range(m.n_reactions):
        if use[j] == 0:
            continue
        for q in range(m.change_ptr[j], m.change_ptr[j + 1]):
            i = m.change_species[q]
            d = m.change_delta[q]
            mu[i] += d * a[j]
            sig[i] += d * d * a[j]
            if d < 0.0 and x[i] > 0.0:
                for qr in range(am.re_ptr[j], am.re_ptr[j + 1]):
                    if am.re_species[qr] == i:
                        r = a[j] * am.re_nu[qr] * (-d) / x[i]
                        if r > rmax:
                            rmax = r
    tau = math.inf
    if rmax > 0.0:
        tau = 2.0 * eps / rmax
    for i in range(S):
        if am.hor[i] == 0 or (mu[i] == 0.0 and sig[i] == 0.0):
            continue
        bound = eps * x[i] / _g(am.hor[i], am.hor_mult[i], x[i])
        if bound < 1.0:
            bound = 1.0
        if mu[i] != 0.0:
            tau = min(tau, bound / abs(mu[i]))
        if sig[i] > 0.0:
            tau = min(tau, bound * bound / sig[i])
    return tau


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _at_time(m, x, p, t, times, buf, ti, bi, prev, pend, vals, stack, info, integer):
    """Fire time-breakpoint events due at ``t`` and record outputs with ``times <= t``.
    Returns ``(ti, bi, status)``."""
    bps = m.breakpoints
    while bi < bps.shape[0] and bps[bi] <= t:
        for sub in range(2):  # at the breakpoint and just after it (strict relations)
            tt = t if sub == 0 else np.nextafter(t, math.inf)
            if _fire_events(m, x, p, tt, prev, pend, vals, stack, info, -1, integer) < 0:
                return ti, bi, int(info[0])
        bi += 1
    while ti < times.shape[0] and times[ti] <= t:
        buf[ti, :] = x
        ti += 1
    return ti, bi, 0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _next_stop(m, times, ti, bi):
    stop = times[ti]
    if bi < m.breakpoints.shape[0] and m.breakpoints[bi] < stop:
        stop = m.breakpoints[bi]
    return stop


@njit(cache=True, nogil=True, error_model="numpy")
def _apply(m, j, k, x, max_count, info, t):
    """Fire channel ``j`` ``k`` times on ``x``; status 2 above ``max_count``, else 0."""
    for q in range(m.change_ptr[j], m.change_ptr[j + 1]):
        i = m.change_species[q]
        x[i] += k * m.change_delta[q]
        if x[i] > max_count:
            info[0] = 2.0
            info[1] = j
            info[2] = i
            info[3] = t
            return 2
    return 0


@njit(cache=True, nogil=True, error_model="numpy")
def _exact_steps(m, am, x, p, a, a0, t, stop, rng, stack, prev, pend, vals, params,
                 max_count, info, counters):
    """Up to ``params[3]`` exact direct-method steps before ``stop``. Returns
    ``(t, status)``; a step past ``stop`` ends at ``stop`` (exact by memorylessness)."""
    for _ in range(int(params[3])):
        if a0 <= 0.0:
            return stop, 0
        tau = _exponential(rng) / a0
        if t + tau >= stop:
            return stop, 0
        t += tau
        target = _uniform(rng) * a0
        acc = 0.0
        j = -1
        for jj in range(m.n_reactions):
            if a[jj] > 0.0:
                acc += a[jj]
                j = jj
                if target < acc:
                    break
        st = _apply(m, j, 1.0, x, max_count, info, t)
        if st != 0:
            return t, st
        for q in range(m.change_ptr[j], m.change_ptr[j + 1]):
            if x[m.change_species[q]] < 0.0:
                info[0] = 5.0
                info[1] = j
                info[2] = m.change_species[q]
                info[3] = t
                return t, 5
        counters[1] += 1.0
        counters[6] += 1.0
        if m.n_events > 0:
            nf = _fire_events(m, x, p, t, prev, pend, vals, stack, info, j, True)
            if nf < 0:
                return t, int(info[0])
        a0 = _props(m, am, x, p, t, a, stack, info, False)
        if a0 < 0.0:
            return t, 1
    return t, 0


@njit(cache=True, nogil=True, error_model="numpy")
def _tau_run(m, am, x, p, a, times, buf, rng, stack, prev, pend, vals, params, max_count,
             max_steps, info, counters, crit, xnew, mu, sig):
    """One adaptive tau-leaping run (Cao, Gillespie & Petzold 2006, doi:10.1063/1.2159468)
    recording ``buf[i] = x`` at ``times[i]``. Returns status."""
    M = m.n_reactions
    S = x.shape[0]
    eps, n_c, ssa_factor = params[0], params[1], params[2]
    t = 0.0
    ti, bi = 0, 0
    start_events = counters[6]
    while True:
        ti, bi, st = _at_time(m, x, p, t, times, buf, ti, bi, prev, pend, vals, stack, info,
                              True)
        if st != 0:
            return st
        if ti >= times.shape[0]:
            return 0
        if counters[6] - start_events >= max_steps:
            info[0] = 3.0
            info[3] = t
            return 3
        stop = _next_stop(m, times, ti, bi)
        a0 = _props(m, am, x, p, t, a, stack, info, False)
        if a0 < 0.0:
            return 1
        if a0 == 0.0:
            t = stop
            continue
        a0c = 0.0
        for j in range(M):  # critical: within n_c firings of exhausting a reactant
            crit[j] = 0
            if a[j] <= 0.0:
                continue
            for q in range(m.change_ptr[j], m.change_ptr[j + 1]):
                d = m.change_delta[q]
                i = m.change_species[q]
                if d < 0.0 and math.floor(x[i] / -d) < n_c:
                    crit[j] = 1
                elif am.hor[i] > 0 and eps * x[i] < _g(am.hor[i], am.hor_mult[i], x[i]):
                    crit[j] = 1  # a reactant too scarce for the relative bound: exact
            if crit[j] == 1:
                a0c += a[j]
            else:
                crit[j] = 2  # non-critical, positive: used by the leap
        for j in range(M):
            xnew[j] = 1.0 if crit[j] == 2 else 0.0
        tau1 = _select_tau(m, am, x, a, xnew, eps, mu, sig)
        if tau1 < ssa_factor / a0:
            t, st = _exact_steps(m, am, x, p, a, a0, t, stop, rng, stack, prev, pend, vals,
                                 params, max_count, info, counters)
            if st != 0:
                return st
            continue
        fired = 0.0
        last_j = -1
        while True:
            tau2 = _exponential(rng) / a0c if a0c > 0.0 else math.inf
            fire_crit = tau2 <= tau1
            tau = tau2 if fire_crit else tau1
            capped = t + tau >= stop
            if capped:
                tau = stop - t
                fire_crit = False
            for i in range(S):
                xnew[i] = x[i]
            fired = 0.0
            for j in range(M):
                if crit[j] == 2:
                    k = _poisson(rng, a[j] * tau)
                    if k > 0.0:
                        fired += k
                        last_j = j
                        for q in range(m.change_ptr[j], m.change_ptr[j + 1]):
                            xnew[m.change_species[q]] += k * m.change_delta[q]
            if fire_crit:
                target = _uniform(rng) * a0c
                acc = 0.0
                for j in range(M):
                    if crit[j] == 1:
                        acc += a[j]
                        last_j = j
                        if target < acc:
                            break
                fired += 1.0
                for q in range(m.change_ptr[last_j], m.change_ptr[last_j + 1]):
                    xnew[m.change_species[q]] += m.change_delta[q]
            negative = False
            for i in range(S):
                if xnew[i] < 0.0:
                    negative = True
            if not negative:
                break
            counters[2] += 1.0
            tau1 *= 0.5
        for i in range(S):
            x[i] = xnew[i]
            if x[i] > max_count:
                info[0] = 2.0
                info[1] = last_j
                info[2] = i
                info[3] = t + tau
                return 2
        t = stop if capped else t + tau
        counters[0] += 1.0
        counters[6] += fired
        if m.n_events > 0 and fired > 0.0:
            if _fire_events(m, x, p, t, prev, pend, vals, stack, info, -1, True) < 0:
                return int(info[0])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _diffuse(m, a, use, tau, x, xnew, rng, mode):
    """``xnew = x + sum_j nu_j (a_j tau + sqrt(a_j tau) Z_j)`` over channels with ``use``
    (Euler-Maruyama step of the chemical Langevin equation, Gillespie 2000,
    doi:10.1063/1.481811); ``mode`` 1 drops the noise (Euler step of the rate
    equations). Returns the expected number of firings ``sum a_j tau``."""
    for i in range(x.shape[0]):
        xnew[i] = x[i]
    expected = 0.0
    for j in range(m.n_reactions):
        if use[j] == 0 or a[j] <= 0.0:
            continue
        lam = a[j] * tau
        expected += lam
        inc = lam
        if mode == 0:
            inc += math.sqrt(lam) * _normal(rng)
        for q in range(m.change_ptr[j], m.change_ptr[j + 1]):
            xnew[m.change_species[q]] += inc * m.change_delta[q]
    return expected


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _clamp(x, xnew, t, counters):
    """Copy ``xnew`` to ``x`` setting negative amounts to 0; count and locate clamps."""
    clamped = False
    for i in range(x.shape[0]):
        v = xnew[i]
        if v < 0.0:
            if not clamped and counters[5] < 0.0:
                counters[4] = t
                counters[5] = i
            clamped = True
            v = 0.0
        x[i] = v
    if clamped:
        counters[3] += 1.0


@njit(cache=True, nogil=True, error_model="numpy")
def _cle_run(m, am, x, p, a, times, buf, rng, stack, prev, pend, vals, params, max_count,
             max_steps, info, counters, use, xnew, mu, sig):
    """One run of the chemical Langevin equation by Euler-Maruyama with the leap size of
    Cao et al. (2006) (error control ``eps``). A step that would make an amount negative
    is halved and redrawn up to 30 times, then negative amounts are set to 0 (counted).
    Returns status."""
    M = m.n_reactions
    eps = params[0]
    t = 0.0
    ti, bi = 0, 0
    start_events = counters[6]
    for j in range(M):
        use[j] = 1.0
    while True:
        ti, bi, st = _at_time(m, x, p, t, times, buf, ti, bi, prev, pend, vals, stack, info,
                              False)
        if st != 0:
            return st
        if ti >= times.shape[0]:
            return 0
        if counters[6] - start_events >= max_steps:
            info[0] = 3.0
            info[3] = t
            return 3
        stop = _next_stop(m, times, ti, bi)
        a0 = _props(m, am, x, p, t, a, stack, info, True)
        if a0 < 0.0:
            return 1
        if a0 == 0.0:
            t = stop
            continue
        tau = _select_tau(m, am, x, a, use, eps, mu, sig)
        capped = False
        expected = 0.0
        for h in range(_MAX_HALVINGS + 1):
            capped = t + tau >= stop
            if capped:
                tau = stop - t
            expected = _diffuse(m, a, use, tau, x, xnew, rng, 0)
            negative = False
            for i in range(x.shape[0]):
                if xnew[i] < 0.0:
                    negative = True
            if not negative or h == _MAX_HALVINGS:
                break
            counters[2] += 1.0
            tau *= 0.5
        t = stop if capped else t + tau
        _clamp(x, xnew, t, counters)
        for i in range(x.shape[0]):
            if x[i] > max_count:
                info[0] = 2.0
                info[1] = -1
                info[2] = i
                info[3] = t
                return 2
        counters[0] += 1.0
        counters[6] += expected
        if m.n_events > 0:
            if _fire_events(m, x, p, t, prev, pend, vals, stack, info, -1, False) < 0:
                return int(info[0])


@njit(cache=True, nogil=True, error_model="numpy")
def _hybrid_partition(m, x, a, n_fast, fast):
    """Salis & Kaznessis (2005) count criterion: channel ``j`` may be fast when every
    species it changes has at least ``n_fast`` molecules (species it only reads, such as
    a single gene copy driving transcription, may be scarce: they stay constant during a
    fast step, since only slow channels change them). The caller adds the second
    criterion ``a_j tau >= lambda_fast``."""
    for j in range(a.shape[0]):
        ok = a[j] > 0.0
        if ok:
            for q in range(m.change_ptr[j], m.change_ptr[j + 1]):
                if x[m.change_species[q]] < n_fast:
                    ok = False
                    break
        fast[j] = 1.0 if ok else 0.0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _round_slow(x, changed_fast, rng):
    """Species no fast channel changes return to whole counts by unbiased stochastic
    rounding (floor, plus 1 with probability the fractional part), so exact slow
    channels never act on a fraction of a molecule. Returns True if any changed."""
    changed = False
    for i in range(x.shape[0]):
        if changed_fast[i] == 0.0:
            f = math.floor(x[i])
            if x[i] != f:
                x[i] = f + (1.0 if _uniform(rng) < x[i] - f else 0.0)
                changed = True
    return changed


@njit(cache=True, nogil=True, error_model="numpy")
def _hybrid_run(m, am, x, p, a, times, buf, rng, stack, prev, pend, vals, params, max_count,
                max_steps, info, counters, fast, xnew, mu, sig, fast_time):
    """One hybrid run: slow channels fire exactly, by the integrated-propensity (next
    reaction) rule ``int a_slow dt = Exp(1)`` (Haseltine & Rawlings 2002,
    doi:10.1063/1.1505860); fast channels are integrated as the CLE (``fast_mode`` 0) or
    the rate equations (1) with Euler steps of the Cao et al. leap size; the partition
    is re-made every step (Salis & Kaznessis 2005, doi:10.1063/1.1835951). With no fast
    channel a step is an exact SSA step. ``fast_time[j]`` accumulates the time channel
    ``j`` was fast. Returns status."""
    M = m.n_reactions
    eps, lam_fast, n_fast, mode = params[0], params[4], params[5], int(params[6])
    t = 0.0
    ti, bi = 0, 0
    start_events = counters[6]
    g_int = 0.0
    xi = _exponential(rng)
    while True:
        ti, bi, st = _at_time(m, x, p, t, times, buf, ti, bi, prev, pend, vals, stack, info,
                              False)
        if st != 0:
            return st
        if ti >= times.shape[0]:
            return 0
        if counters[6] - start_events >= max_steps:
            info[0] = 3.0
            info[3] = t
            return 3
        stop = _next_stop(m, times, ti, bi)
        a0 = _props(m, am, x, p, t, a, stack, info, True)
        if a0 < 0.0:
            return 1
        _hybrid_partition(m, x, a, n_fast, fast)
        tau = _select_tau(m, am, x, a, fast, eps, mu, sig)
        n_fast_ch = 0
        a0s = 0.0
        for i in range(x.shape[0]):
            mu[i] = 0.0  # 1 where a fast channel changes species i
        for j in range(M):
            if fast[j] == 1.0 and a[j] * tau < lam_fast:
                fast[j] = 0.0
            if fast[j] == 1.0:
                n_fast_ch += 1
                for q in range(m.change_ptr[j], m.change_ptr[j + 1]):
                    mu[m.change_species[q]] = 1.0
        if _round_slow(x, mu, rng):
            a0 = _props(m, am, x, p, t, a, stack, info, True)
            if a0 < 0.0:
                return 1
        for j in range(M):
            if fast[j] == 0.0:
                a0s += a[j]
        if n_fast_ch == 0:
            tau = math.inf
        capped = t + tau >= stop
        if capped:
            tau = stop - t
        fire_slow = a0s > 0.0 and g_int + a0s * tau >= xi
        if fire_slow:
            tau = (xi - g_int) / a0s
            capped = False
        expected = 0.0
        if n_fast_ch > 0:
            for h in range(_MAX_HALVINGS + 1):
                expected = _diffuse(m, a, fast, tau, x, xnew, rng, mode)
                negative = False
                for i in range(x.shape[0]):
                    if xnew[i] < 0.0:
                        negative = True
                if not negative or fire_slow or h == _MAX_HALVINGS:
                    break
                counters[2] += 1.0
                tau *= 0.5
                capped = False
            for j in range(M):
                if fast[j] == 1.0:
                    fast_time[j] += tau
            counters[0] += 1.0
        else:
            for i in range(x.shape[0]):
                xnew[i] = x[i]
        g_int += a0s * tau
        t = stop if capped else t + tau
        if fire_slow:
            target = _uniform(rng) * a0s
            acc = 0.0
            js = -1
            for j in range(M):
                if fast[j] == 0.0 and a[j] > 0.0:
                    acc += a[j]
                    js = j
                    if target < acc:
                        break
            for q in range(m.change_ptr[js], m.change_ptr[js + 1]):
                xnew[m.change_species[q]] += m.change_delta[q]
            g_int = 0.0
            xi = _exponential(rng)
            expected += 1.0
            counters[1] += 1.0
        _clamp(x, xnew, t, counters)
        for i in range(x.shape[0]):
            if x[i] > max_count:
                info[0] = 2.0
                info[1] = -1
                info[2] = i
                info[3] = t
                return 2
        counters[6] += expected
        if m.n_events > 0 and (fire_slow or n_fast_ch > 0):
            if _fire_events(m, x, p, t, prev, pend, vals, stack, info, -1, False) < 0:
                return int(info[0])


@njit(cache=True, nogil=True, error_model="numpy")
def _welford(buf, n, mean, m2, cov, want_cov, d1):
    """Merge run ``n`` (1-based) recorded in ``buf`` (T, S) into the streaming moments."""
    T, S = buf.shape
    for i in range(T):
        for s in range(S):
            d1[s] = buf[i, s] - mean[i, s]
            mean[i, s] += d1[s] / n
        for s in range(S):
            m2[i, s] += d1[s] * (buf[i, s] - mean[i, s])
        if want_cov:
            for s in range(S):
                for u in range(S):
                    cov[i, s, u] += d1[s] * (buf[i, u] - mean[i, u])


@njit(cache=True, nogil=True, error_model="numpy")
def _approx_chunk(m, am, method, x0, p0, times, states, keep, want_cov, mean, m2, cov,
                  kept, sample_idx, samples, max_count, max_steps, params, info, err_state,
                  counters, fast_time):
    """Runs ``states.shape[0]`` approximate runs (``method`` TAU_LEAP, CLE or HYBRID) and
    merges them into streaming moments (as :func:`._kernels._ensemble_chunk`); the
    states at ``times[sample_idx]`` of every run go to ``samples`` (R, K, S). Returns the
    number of runs done, or -1 - run on failure. ``max_steps`` caps the
    events-equivalent of one run (status 3)."""
    S = m.n_species
    M = m.n_reactions
    T = times.shape[0]
    x = np.empty(S)
    p = np.empty(p0.shape[0])
    a = np.zeros(M)
    order = np.empty(M, dtype=np.int64)
    prev = np.zeros(max(m.n_events, 1), dtype=np.int64)
    pend = np.zeros(max(m.n_events, 1), dtype=np.int64)
    vals = np.zeros(max(m.as_kind.shape[0], 1))
    stack = np.zeros(m.max_stack)
    buf = np.empty((T, S))
    d1 = np.empty(S)
    work_m = np.zeros(M, dtype=np.int64)
    use = np.zeros(max(M, S))
    xnew = np.zeros(max(M, S))
    mu = np.zeros(S)
    sig = np.zeros(S)
    integer = method == TAU_LEAP
    for r in range(states.shape[0]):
        rng = states[r]
        a0, status = _start(m, x0, p0, x, p, a, order, prev, pend, vals, stack, info, integer)
        if status == 0:
            if method == TAU_LEAP:
                status = _tau_run(m, am, x, p, a, times, buf, rng, stack, prev, pend, vals,
                                  params, max_count, max_steps, info, counters, work_m, xnew,
                                  mu, sig)
            elif method == CLE:
                status = _cle_run(m, am, x, p, a, times, buf, rng, stack, prev, pend, vals,
                                  params, max_count, max_steps, info, counters, use, xnew,
                                  mu, sig)
            else:
                status = _hybrid_run(m, am, x, p, a, times, buf, rng, stack, prev, pend,
                                     vals, params, max_count, max_steps, info, counters, use,
                                     xnew, mu, sig, fast_time)
        if status != 0:
            err_state[:] = x
            return -1 - r
        if r < keep:
            kept[r] = buf
        for k in range(sample_idx.shape[0]):
            samples[r, k, :] = buf[sample_idx[k]]
        _welford(buf, r + 1.0, mean, m2, cov, want_cov, d1)
    return states.shape[0]
