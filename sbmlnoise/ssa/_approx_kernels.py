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

from ._kernels import _fire_events, _mass_action, _start, _welford
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


@njit(cache=True, nogil=True, error_model="numpy")
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


@njit(cache=True, nogil=True, error_model="numpy")
def _approx_run(m, am, method, x, p, a, times, buf, rng, stack, prev, pend, vals, params,
                max_count, max_steps, info, counters, crit, use, xnew, mu, sig, fast_time):
    """One run of ``method`` (TAU_LEAP, CLE or HYBRID) from t = 0, recording ``buf[i] = x``
    at ``times[i]``. Returns the status code.

    Per step: time breakpoints of event triggers and outputs due; all propensities (with
    ``continuous`` methods, a negative law of a channel lacking reactant molecules reads
    0); the channel sets (tau-leaping: critical channels, Cao et al. 2006 -- within
    ``n_critical`` firings of exhausting a reactant, or changing a reactant too scarce for
    the relative bound ``eps x_i < g_i``; hybrid: fast candidates whose changed species
    all have >= ``n_fast`` molecules); the leap size over the leaping/candidate channels
    (Cao, Gillespie & Petzold 2006 eq. 33, ``min_i min(max(eps x_i / g_i, 1) / |mu_i|,
    max(eps x_i / g_i, 1)^2 / sigma_i^2)`` with ``mu_i = sum_j nu_ij a_j``,
    ``sigma_i^2 = sum_j nu_ij^2 a_j`` over reactant species, plus a relaxation bound
    ``tau <= 2 eps / max_i r_i``, ``r_i = sum_j a_j m_ij |nu_ij| / x_i`` over channels
    consuming ``i`` -- the per-capita consumption rate, ``gamma`` for first-order decay:
    eq. 33 alone lets the explicit step inflate a first-order species' stationary variance
    by ``1 / (1 - gamma tau / 2)``, tens of percent at high counts; with the bound the
    inflation is at most about ``eps``); then

    * tau-leaping: below ``ssa_factor / a0`` the next ``n_ssa_steps`` steps are exact SSA
      steps; else non-critical channels fire Poisson(a_j tau) times and at most one
      critical channel fires (if its exponential time comes first); a leap that would make
      a count negative is halved and redrawn;
    * CLE: Euler-Maruyama step over all channels, halved up to 30 times while an amount
      would go negative, then clamped at 0 (counted);
    * hybrid: candidates with ``a_j tau >= lambda_fast`` are fast (CLE or rate equations),
      the others fire exactly when ``int a_slow dt`` reaches an Exp(1) threshold; species
      no fast channel changes are returned to whole counts by unbiased stochastic
      rounding.

    Everything is written out in this one function: numba calls that pass many arrays cost
    about 0.5-1 us each (measured here: a propensity helper called with the model's
    arrays took 0.8-2.5 us per call, the same code inline 2-20 ns), far more than a step.
    """
    M = m.n_reactions
    S = x.shape[0]
    T = times.shape[0]
    ma_flag = m.ma_flag
    ma_coef = m.ma_coef
    ma_ptr = m.ma_ptr
    ma_species = m.ma_species
    ma_order = m.ma_order
    code = m.code
    consts = m.consts
    prog_ptr = m.prog_ptr
    cptr = m.change_ptr
    csp = m.change_species
    cdel = m.change_delta
    bps = m.breakpoints
    nb = bps.shape[0]
    has_events = m.n_events > 0
    re_ptr = am.re_ptr
    re_species = am.re_species
    re_nu = am.re_nu
    hor = am.hor
    hor_mult = am.hor_mult
    eps = params[0]
    n_c = params[1]
    ssa_factor = params[2]
    n_ssa = int(params[3])
    lam_fast = params[4]
    n_fast = params[5]
    mode = int(params[6])
    continuous = method != TAU_LEAP
    integer = method == TAU_LEAP
    t = 0.0
    ti = 0
    bi = 0
    start_steps = counters[0] + counters[1]
    exact_left = 0
    g_int = 0.0
    xi = _exponential(rng)
    while True:
        # ---- event time breakpoints due, outputs due
        while bi < nb and bps[bi] <= t:
            for sub in range(2):  # at the breakpoint and just after it (strict relations)
                tt = t if sub == 0 else np.nextafter(t, math.inf)
                if _fire_events(m, x, p, tt, prev, pend, vals, stack, info, -1, integer) < 0:
                    return int(info[0])
            bi += 1
        while ti < T and times[ti] <= t:
            for i in range(S):
                buf[ti, i] = x[i]
            ti += 1
        if ti >= T:
            return 0
        if counters[0] + counters[1] - start_steps >= max_steps:
            info[0] = 3.0
            info[3] = t
            return 3
        stop = times[ti]
        if bi < nb and bps[bi] < stop:
            stop = bps[bi]
        # ---- propensities
        a0 = 0.0
        for j in range(M):
            if ma_flag[j] != 0:
                v = _mass_action(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, j, x)
            else:
                v = _eval(code, consts, prog_ptr, j, x, p, t, stack)
            if continuous and v < 0.0:
                for q in range(re_ptr[j], re_ptr[j + 1]):
                    if x[re_species[q]] < re_nu[q]:
                        v = 0.0
                        break
            if not (v >= 0.0 and v < math.inf):
                info[0] = 1.0
                info[1] = j
                info[3] = t
                info[4] = v
                return 1
            a[j] = v
            a0 += v
        if a0 == 0.0:
            t = stop
            continue
        # ---- exact SSA step (tau-leaping below its threshold)
        if exact_left > 0:
            exact_left -= 1
            tau = _exponential(rng) / a0
            if t + tau >= stop:
                t = stop
                continue
            t += tau
            target = _uniform(rng) * a0
            acc = 0.0
            jf = -1
            for j in range(M):
                if a[j] > 0.0:
                    acc += a[j]
                    jf = j
                    if target < acc:
                        break
            for q in range(cptr[jf], cptr[jf + 1]):
                i = csp[q]
                x[i] += cdel[q]
                if x[i] < 0.0:
                    info[0] = 5.0
                    info[1] = jf
                    info[2] = i
                    info[3] = t
                    return 5
                if x[i] > max_count:
                    info[0] = 2.0
                    info[1] = jf
                    info[2] = i
                    info[3] = t
                    return 2
            counters[1] += 1.0
            counters[6] += 1.0
            if has_events:
                if _fire_events(m, x, p, t, prev, pend, vals, stack, info, jf, True) < 0:
                    return int(info[0])
            continue
        # ---- channel sets
        a0c = 0.0
        for j in range(M):
            use[j] = 0.0
            crit[j] = 0
            if a[j] <= 0.0:
                continue
            if method == CLE:
                use[j] = 1.0
            elif method == TAU_LEAP:
                for q in range(cptr[j], cptr[j + 1]):
                    d = cdel[q]
                    i = csp[q]
                    if d < 0.0 and math.floor(x[i] / -d) < n_c:
                        crit[j] = 1
                    elif hor[i] > 0 and eps * x[i] < _g(hor[i], hor_mult[i], x[i]):
                        crit[j] = 1  # a reactant too scarce for the relative bound
                if crit[j] == 1:
                    a0c += a[j]
                else:
                    use[j] = 1.0
            else:
                ok = True
                for q in range(cptr[j], cptr[j + 1]):
                    if x[csp[q]] < n_fast:
                        ok = False
                        break
                if ok:
                    use[j] = 1.0
        # ---- leap size over `use` (eq. 33 of Cao et al. 2006 + relaxation bound)
        for i in range(S):
            mu[i] = 0.0
            sig[i] = 0.0
        rmax = 0.0
        for j in range(M):
            if use[j] == 0.0:
                continue
            for q in range(cptr[j], cptr[j + 1]):
                i = csp[q]
                d = cdel[q]
                mu[i] += d * a[j]
                sig[i] += d * d * a[j]
                if d < 0.0 and x[i] > 0.0:
                    for qr in range(re_ptr[j], re_ptr[j + 1]):
                        if re_species[qr] == i:
                            r = a[j] * re_nu[qr] * (-d) / x[i]
                            if r > rmax:
                                rmax = r
        tau = math.inf
        if rmax > 0.0:
            tau = 2.0 * eps / rmax
        for i in range(S):
            if hor[i] == 0 or (mu[i] == 0.0 and sig[i] == 0.0):
                continue
            bound = eps * x[i] / _g(hor[i], hor_mult[i], x[i])
            if bound < 1.0:
                bound = 1.0
            if mu[i] != 0.0:
                tau = min(tau, bound / abs(mu[i]))
            if sig[i] > 0.0:
                tau = min(tau, bound * bound / sig[i])
        if method == TAU_LEAP:
            if tau < ssa_factor / a0:
                exact_left = n_ssa
                continue
            fired = 0.0
            capped = False
            while True:
                tau2 = _exponential(rng) / a0c if a0c > 0.0 else math.inf
                fire_crit = tau2 <= tau
                step = tau2 if fire_crit else tau
                capped = t + step >= stop
                if capped:
                    step = stop - t
                    fire_crit = False
                for i in range(S):
                    xnew[i] = x[i]
                fired = 0.0
                for j in range(M):
                    if use[j] == 1.0:
                        k = _poisson(rng, a[j] * step)
                        if k > 0.0:
                            fired += k
                            for q in range(cptr[j], cptr[j + 1]):
                                xnew[csp[q]] += k * cdel[q]
                if fire_crit:
                    target = _uniform(rng) * a0c
                    acc = 0.0
                    jc = -1
                    for j in range(M):
                        if crit[j] == 1:
                            acc += a[j]
                            jc = j
                            if target < acc:
                                break
                    fired += 1.0
                    for q in range(cptr[jc], cptr[jc + 1]):
                        xnew[csp[q]] += cdel[q]
                negative = False
                for i in range(S):
                    if xnew[i] < 0.0:
                        negative = True
                if not negative:
                    break
                counters[2] += 1.0
                tau *= 0.5
            for i in range(S):
                x[i] = xnew[i]
            t = stop if capped else t + step
            counters[0] += 1.0
            counters[6] += fired
        else:
            # ---- CLE / hybrid
            n_fast_ch = 0
            a0s = 0.0
            if method == HYBRID:
                for i in range(S):
                    mu[i] = 0.0  # 1 where a fast channel changes species i
                for j in range(M):
                    if use[j] == 1.0 and a[j] * tau < lam_fast:
                        use[j] = 0.0
                    if use[j] == 1.0:
                        n_fast_ch += 1
                        for q in range(cptr[j], cptr[j + 1]):
                            mu[csp[q]] = 1.0
                rounded = False
                for i in range(S):  # unbiased stochastic rounding of slow-only species
                    if mu[i] == 0.0:
                        f = math.floor(x[i])
                        if x[i] != f:
                            x[i] = f + (1.0 if _uniform(rng) < x[i] - f else 0.0)
                            rounded = True
                for j in range(M):
                    if rounded:
                        if ma_flag[j] != 0:
                            v = _mass_action(ma_flag, ma_coef, ma_ptr, ma_species, ma_order,
                                             j, x)
                        else:
                            v = _eval(code, consts, prog_ptr, j, x, p, t, stack)
                        if v < 0.0:
                            for q in range(re_ptr[j], re_ptr[j + 1]):
                                if x[re_species[q]] < re_nu[q]:
                                    v = 0.0
                                    break
                        if not (v >= 0.0 and v < math.inf):
                            info[0] = 1.0
                            info[1] = j
                            info[3] = t
                            info[4] = v
                            return 1
                        a[j] = v
                    if use[j] == 0.0:
                        a0s += a[j]
                if n_fast_ch == 0:
                    tau = math.inf
            else:
                n_fast_ch = M
            capped = t + tau >= stop
            if capped:
                tau = stop - t
            fire_slow = a0s > 0.0 and g_int + a0s * tau >= xi
            if fire_slow:
                tau = (xi - g_int) / a0s
                capped = False
            expected = 0.0
            for i in range(S):
                xnew[i] = x[i]
            if n_fast_ch > 0:
                for h in range(_MAX_HALVINGS + 1):
                    for i in range(S):
                        xnew[i] = x[i]
                    expected = 0.0
                    for j in range(M):
                        if use[j] == 0.0 or a[j] <= 0.0:
                            continue
                        lam = a[j] * tau
                        expected += lam
                        inc = lam
                        if mode == 0 or method == CLE:
                            inc += math.sqrt(lam) * _normal(rng)
                        for q in range(cptr[j], cptr[j + 1]):
                            xnew[csp[q]] += inc * cdel[q]
                    negative = False
                    for i in range(S):
                        if xnew[i] < 0.0:
                            negative = True
                    if not negative or fire_slow or h == _MAX_HALVINGS:
                        break
                    counters[2] += 1.0
                    tau *= 0.5
                    capped = False
                if method == HYBRID:
                    for j in range(M):
                        if use[j] == 1.0:
                            fast_time[j] += tau
                counters[0] += 1.0
            g_int += a0s * tau
            t = stop if capped else t + tau
            if fire_slow:
                target = _uniform(rng) * a0s
                acc = 0.0
                js = -1
                for j in range(M):
                    if use[j] == 0.0 and a[j] > 0.0:
                        acc += a[j]
                        js = j
                        if target < acc:
                            break
                for q in range(cptr[js], cptr[js + 1]):
                    xnew[csp[q]] += cdel[q]
                g_int = 0.0
                xi = _exponential(rng)
                expected += 1.0
                counters[1] += 1.0
            clamped = False
            for i in range(S):
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
            counters[6] += expected
        for i in range(S):
            if x[i] > max_count:
                info[0] = 2.0
                info[1] = -1
                info[2] = i
                info[3] = t
                return 2
        if has_events:
            if _fire_events(m, x, p, t, prev, pend, vals, stack, info, -1, integer) < 0:
                return int(info[0])


@njit(cache=True, nogil=True, error_model="numpy")
def _approx_chunk(m, am, method, x0, p0, times, states, keep, want_cov, mean, m2, cov,
                  kept, sample_idx, samples, max_count, max_steps, params, info, err_state,
                  counters, fast_time):
    """Runs ``states.shape[0]`` approximate runs (``method`` TAU_LEAP, CLE or HYBRID) and
    merges them into streaming moments (as :func:`._kernels._ensemble_chunk`); the
    states at ``times[sample_idx]`` of every run go to ``samples`` (R, K, S). Returns the
    number of runs done, or -1 - run on failure. ``max_steps`` caps the steps (leaps plus
    exact steps) of one run (status 3)."""
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
            status = _approx_run(m, am, method, x, p, a, times, buf, rng, stack, prev, pend,
                                 vals, params, max_count, max_steps, info, counters, work_m,
                                 use, xnew, mu, sig, fast_time)
        if status != 0:
            err_state[:] = x
            return -1 - r
        if r < keep:
            kept[r] = buf
        for k in range(sample_idx.shape[0]):
            samples[r, k, :] = buf[sample_idx[k]]
        _welford(buf, r + 1.0, mean, m2, cov, want_cov, d1)
    return states.shape[0]
