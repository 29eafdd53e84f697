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
fast_mode (0 CLE, 1 rate equations), tau-leap scheme (0 explicit, 1 trapezoidal)].
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import Any

import numpy as np
from numba import njit

from .direct import _direct_select
from ._kernels import _fail, _fire_events, _mass_action, _start, _collect_run
from ._program import _eval
from ._rng import _exponential, _normal, _poisson, _uniform

# The leaps draw several Poisson variates per step: the same sampler, inlined into the
# kernel (measured: see docs/performance/approx.md, "Cost per leap").
_poisson_inl = njit(nogil=True, inline="always")(_poisson.py_func)

ApproxModel = namedtuple("ApproxModel", [
    "re_ptr", "re_species", "re_nu",      # reactant stoichiometry per channel (CSR)
    "inv_ptr", "inv_species",             # species a channel reads or changes (CSR)
    "hor", "hor_mult",                    # highest order of reaction, multiplicity (S,)
    "fb_channel", "fb_species", "fb_nu",  # feedback: a non-mass-action law producing a
                                          # species it reads (channel, species, nu > 0)
])

N_COUNTERS = 8
TAU_LEAP, CLE, HYBRID = 2, 3, 4
_MAX_HALVINGS = 30
#: a step that ends within this fraction of itself before the next stop (output time or
#: breakpoint) is extended to the stop: steps that divide an output interval in floating
#: point otherwise leave a remainder of ~1e-16 -- one more leap (and its random draws) per
#: output time, 7 % of the leaps at tau = 0.2 with outputs every 2 time units
_STOP_SLACK = 1e-9


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


# The per-step helpers below are ``inline="always"`` and take the model's arrays one by
# one, hoisted once per run by :func:`_approx_run`; ``m`` is passed only on the rare
# event paths. Inlined or not, numba binds a helper's array arguments with reference
# counts (the model tuple ``m``: all 30 arrays) that LLVM cannot prune across the
# helpers' loops: split this way the kernel ran 8x (explicit arrays) to 28x (``m``)
# slower than the single 392-line function it came from. :func:`_approx_run` therefore
# compiles without the Numba runtime's reference counting (``_nrt=False``, a numba
# target option): it allocates nothing and only borrows arrays its caller
# (:func:`_approx_chunk`) owns, so no count is needed -- and an allocation added to it
# would fail to compile rather than leak. Measured at the speed of the unsplit kernel
# (docs/performance/ssa-split.md). Should a numba release drop the option, the kernel is
# compiled with reference counting: same results, slower.
_NO_REFCOUNT: dict[str, Any] = {}
try:
    from numba.core.options import DefaultOptions as _DefaultOptions

    if hasattr(_DefaultOptions, "_nrt"):
        _NO_REFCOUNT["_nrt"] = False
except ImportError:  # pragma: no cover - numba layout changed
    pass


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _breakpoints_due(m, x, p, t, bi, prev, pend, vals, stack, info, integer):
    """Fire the events of the time breakpoints ``m.breakpoints[bi:] <= t`` (at the
    breakpoint and just after it, for strict relations). Returns ``(bi, status)``."""
    bps = m.breakpoints
    while bi < bps.shape[0] and bps[bi] <= t:
        for sub in range(2):
            tt = t if sub == 0 else np.nextafter(t, math.inf)
            if _fire_events(m, x, p, tt, prev, pend, vals, stack, info, -1, integer) < 0:
                return bi, int(info[0])
        bi += 1
    return bi, 0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _record_through(buf, times, ti, x, t):
    """Recording: ``buf[i] = x`` for the output times ``times[ti:] <= t``; returns the next
    output index."""
    while ti < times.shape[0] and times[ti] <= t:
        for i in range(x.shape[0]):
            buf[ti, i] = x[i]
        ti += 1
    return ti


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _law(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, code, consts, prog_ptr, re_ptr,
         re_species, re_nu, j, x, p, t, stack, continuous):
    """Propensity of channel ``j``; with ``continuous`` methods a negative law of a
    channel lacking reactant molecules (some ``x_i`` below its stoichiometry) reads 0."""
    if ma_flag[j] != 0:
        v = _mass_action(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, j, x)
    else:
        v = _eval(code, consts, prog_ptr, j, x, p, t, stack)
    if continuous and v < 0.0:
        for q in range(re_ptr[j], re_ptr[j + 1]):
            if x[re_species[q]] < re_nu[q]:
                v = 0.0
                break
    return v


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _propensities(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, code, consts, prog_ptr,
                  re_ptr, re_species, re_nu, x, p, t, a, use, stack, info, continuous,
                  refresh, slow_only):
    """Propensities into ``a`` (see :func:`_law`; only if ``refresh``) and their total,
    with ``slow_only`` over the channels with ``use[j] == 0`` only; -1.0 after recording
    status 1 (negative, NaN or infinite propensity) in ``info``."""
    a0 = 0.0
    for j in range(a.shape[0]):
        if refresh:
            v = _law(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, code, consts, prog_ptr,
                     re_ptr, re_species, re_nu, j, x, p, t, stack, continuous)
            if not (v >= 0.0 and v < math.inf):
                _fail(info, 1, j, 0, t, v)
                return -1.0
            a[j] = v
        if not slow_only or use[j] == 0.0:
            a0 += a[j]
    return a0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _apply(cptr, csp, cdel, j, k, x):
    """``k`` firings of channel ``j``: ``x += k nu_j``."""
    for q in range(cptr[j], cptr[j + 1]):
        x[csp[q]] += k * cdel[q]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _pick(a, mask, value, a_total, rng):
    """Direct-method selection among the channels with ``mask[j] == value`` and
    ``a_j > 0`` (total ``a_total``); returns the channel."""
    target = _uniform(rng) * a_total
    acc = 0.0
    jc = -1
    for j in range(a.shape[0]):
        if mask[j] == value and a[j] > 0.0:
            acc += a[j]
            jc = j
            if target < acc:
                break
    return jc


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _leap_length(rng, a0c, tau, t, stop):
    """``(step, fire_critical, capped)`` of one leap: the non-critical leap ``tau`` or, if
    sooner, the exponential waiting time of the critical channels (total ``a0c``), which
    then fire once; cut at ``stop`` (then nothing critical fires), or extended to it when
    it would end within ``_STOP_SLACK`` of its length before it."""
    tau2 = _exponential(rng) / a0c if a0c > 0.0 else math.inf
    fire_crit = tau2 <= tau
    step = tau2 if fire_crit else tau
    capped = t + step * (1.0 + _STOP_SLACK) >= stop
    if capped:
        step = stop - t
        fire_crit = False
    return step, fire_crit, capped


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _exact_step(cptr, csp, cdel, x, t, stop, a, a0, rng, info, max_count, counters):
    """Critical-reaction regime of tau-leaping: one exact SSA step (direct method), or up
    to ``stop`` if the next reaction comes later. Returns ``(t, channel or -1, status)``;
    the caller fires the events the channel may trigger."""
    tau = _exponential(rng) / a0
    if t + tau >= stop:
        return stop, -1, 0
    t += tau
    jf = _direct_select(a, _uniform(rng) * a0)
    for q in range(cptr[jf], cptr[jf + 1]):
        i = csp[q]
        x[i] += cdel[q]
        if x[i] < 0.0:
            return t, jf, _fail(info, 5, jf, i, t, 0.0)
        if x[i] > max_count:
            return t, jf, _fail(info, 2, jf, i, t, 0.0)
    counters[1] += 1.0
    counters[6] += 1.0
    return t, jf, 0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _channel_sets(cptr, csp, cdel, hor, hor_mult, method, x, a, use, crit, eps, n_c,
                  n_fast):
    """Channel sets of a step: ``use[j] = 1`` for the channels the step leaps over or
    integrates (CLE: every channel with ``a_j > 0``; tau-leaping: the non-critical ones;
    hybrid: the fast candidates, whose changed species all have >= ``n_fast``
    molecules), ``crit[j] = 1`` for tau-leaping's critical channels (Cao et al. 2006:
    within ``n_c`` firings of exhausting a reactant, or changing a species too scarce for
    the relative bound ``eps x_i < g_i``). Returns the critical total propensity."""
    a0c = 0.0
    for j in range(a.shape[0]):
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
    return a0c


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _leap_size(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, code, consts, prog_ptr,
               cptr, csp, cdel, re_ptr, re_species, re_nu, hor, hor_mult, fb_channel,
               fb_species, fb_nu, x, p, t, a, use, mu, sig, rr, stack, eps, continuous):
    """Leap size over the channels in ``use`` (``mu``, ``sig``, ``rr``: (S,) work arrays):
    Cao, Gillespie & Petzold (2006) eq. 33, ``min_i min(max(eps x_i / g_i, 1) / |mu_i|,
    max(eps x_i / g_i, 1)^2 / sigma_i^2)`` with ``mu_i = sum_j nu_ij a_j``,
    ``sigma_i^2 = sum_j nu_ij^2 a_j`` over reactant species, and a relaxation bound
    ``tau <= 2 eps / max_i r_i``. ``r_i`` estimates the relaxation rate of species ``i``
    (minus the drift Jacobian's diagonal): the per-capita consumption rate
    ``sum_j a_j m_ij |nu_ij| / x_i`` over channels consuming ``i`` (``gamma`` for
    first-order decay), plus, for a non-mass-action law that produces a species it reads
    and falls with it (negative feedback), ``nu_ij (a_j(x) - a_j(x + e_i))`` (a unit finite
    difference, one extra law evaluation per such pair and leap). The explicit step
    inflates a species' stationary variance by ``1 / (1 - r tau / 2)`` (Cao, Petzold,
    Rathinam & Gillespie 2004, doi:10.1063/1.1823412; tens of percent at high counts
    with eq. 33 alone); with the bound the inflation is at most about ``eps``. ``inf``
    when nothing bounds the step."""
    S = x.shape[0]
    for i in range(S):
        mu[i] = 0.0
        sig[i] = 0.0
        rr[i] = 0.0
    for j in range(a.shape[0]):
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
                        rr[i] += a[j] * re_nu[qr] * (-d) / x[i]
    for f in range(fb_channel.shape[0]):
        j = fb_channel[f]
        if use[j] == 0.0:
            continue
        i = fb_species[f]
        xi = x[i]
        x[i] = xi + 1.0
        v = _law(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, code, consts, prog_ptr,
                 re_ptr, re_species, re_nu, j, x, p, t, stack, continuous)
        x[i] = xi
        if v < a[j] and v > -math.inf:
            rr[i] += fb_nu[f] * (a[j] - v)
    rmax = 0.0
    for i in range(S):
        if rr[i] > rmax:
            rmax = rr[i]
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
    return tau


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _any_negative(xnew, S):
    """Whether ``xnew[:S]`` holds a negative amount."""
    negative = False
    for i in range(S):
        if xnew[i] < 0.0:
            negative = True
    return negative


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _tau_leap(cptr, csp, cdel, x, t, stop, a, use, crit, a0c, tau, rng, xnew, counters,
              info):
    """One tau-leap (Cao, Gillespie & Petzold 2006): non-critical channels fire
    Poisson(a_j tau) times, at most one critical channel fires (if its exponential time
    comes first); a leap that would make a count negative is halved and redrawn. Updates
    ``x`` and the counters; returns ``(t, status)``.

    A critical channel whose single firing would by itself make a count negative (its
    law is positive with too few reactant molecules) is status 5, as in the exact SSA:
    no halving can help, and with no other channel bounding the leap (``tau = inf``)
    halving never ended."""
    S = x.shape[0]
    fired = 0.0
    capped = False
    while True:
        step, fire_crit, capped = _leap_length(rng, a0c, tau, t, stop)
        for i in range(S):
            xnew[i] = x[i]
        fired = 0.0
        for j in range(a.shape[0]):
            if use[j] == 1.0:
                k = _poisson_inl(rng, a[j] * step)
                if k > 0.0:
                    fired += k
                    _apply(cptr, csp, cdel, j, k, xnew)
        if fire_crit:
            jc = _pick(a, crit, 1, a0c, rng)
            fired += 1.0
            for q in range(cptr[jc], cptr[jc + 1]):
                if x[csp[q]] + cdel[q] < 0.0:
                    return t + step, _fail(info, 5, jc, csp[q], t + step, 0.0)
            _apply(cptr, csp, cdel, jc, 1.0, xnew)
        if not _any_negative(xnew, S):
            break
        counters[2] += 1.0
        tau *= 0.5
    for i in range(S):
        x[i] = xnew[i]
    counters[0] += 1.0
    counters[6] += fired
    return (stop if capped else t + step), 0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _tau_leap_trapezoidal(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, code, consts,
                          prog_ptr, re_ptr, re_species, re_nu, cptr, csp, cdel, x, p, t,
                          stop, a, use, crit, a0c, tau, rng, xnew, a_mid, stack, counters,
                          info):
    """One theta-trapezoidal tau-leap, theta = 1/2 (Anderson & Mattingly 2011; Hu, Li &
    Min 2011, weak second order): the non-critical channels fire Poisson(a_j(x) tau/2)
    times to ``y``, then Poisson(max(2 a_j(y) - a_j(x), 0) tau/2) times; critical
    channels as in :func:`_tau_leap` (at most one firing, at the end of the leap). A leap
    after which (or after whose first stage) a count is negative is halved and redrawn.
    ``a_mid`` (M,) holds a_j(y). Returns ``(t, status)``."""
    S = x.shape[0]
    fired = 0.0
    capped = False
    while True:
        step, fire_crit, capped = _leap_length(rng, a0c, tau, t, stop)
        half = 0.5 * step
        for i in range(S):
            xnew[i] = x[i]
        fired = 0.0
        for j in range(a.shape[0]):
            if use[j] == 1.0:
                k = _poisson_inl(rng, a[j] * half)
                if k > 0.0:
                    fired += k
                    _apply(cptr, csp, cdel, j, k, xnew)
        ok = not _any_negative(xnew, S)
        if ok:
            for j in range(a.shape[0]):
                if use[j] == 1.0:
                    v = _law(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, code, consts,
                             prog_ptr, re_ptr, re_species, re_nu, j, xnew, p, t + half,
                             stack, False)
                    if not (v >= 0.0 and v < math.inf):
                        return t + half, _fail(info, 1, j, 0, t + half, v)
                    a_mid[j] = v
            for j in range(a.shape[0]):
                if use[j] == 1.0:
                    lam = (2.0 * a_mid[j] - a[j]) * half
                    if lam > 0.0:
                        k = _poisson_inl(rng, lam)
                        if k > 0.0:
                            fired += k
                            _apply(cptr, csp, cdel, j, k, xnew)
            if fire_crit:
                jc = _pick(a, crit, 1, a0c, rng)
                fired += 1.0
                for q in range(cptr[jc], cptr[jc + 1]):
                    if x[csp[q]] + cdel[q] < 0.0:
                        return t + step, _fail(info, 5, jc, csp[q], t + step, 0.0)
                _apply(cptr, csp, cdel, jc, 1.0, xnew)
            ok = not _any_negative(xnew, S)
        if ok:
            break
        counters[2] += 1.0
        tau *= 0.5
    for i in range(S):
        x[i] = xnew[i]
    counters[0] += 1.0
    counters[6] += fired
    return (stop if capped else t + step), 0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _hybrid_partition(cptr, csp, x, a, use, mu, tau, lam_fast, rng):
    """Hybrid partition: a fast candidate stays fast if ``a_j tau >= lam_fast``; species
    no fast channel changes are returned to whole counts by unbiased stochastic rounding.
    ``mu`` (S,) is reused as the mark of species a fast channel changes. Returns
    ``(number of fast channels, whether a species was rounded)``."""
    n_fast_ch = 0
    for i in range(x.shape[0]):
        mu[i] = 0.0  # 1 where a fast channel changes species i
    for j in range(a.shape[0]):
        if use[j] == 1.0 and a[j] * tau < lam_fast:
            use[j] = 0.0
        if use[j] == 1.0:
            n_fast_ch += 1
            for q in range(cptr[j], cptr[j + 1]):
                mu[csp[q]] = 1.0
    rounded = False
    for i in range(x.shape[0]):  # unbiased stochastic rounding of slow-only species
        if mu[i] == 0.0:
            f = math.floor(x[i])
            if x[i] != f:
                x[i] = f + (1.0 if _uniform(rng) < x[i] - f else 0.0)
                rounded = True
    return n_fast_ch, rounded


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _fast_increment(cptr, csp, cdel, x, a, use, tau, capped, fire_slow, noise, rng, xnew,
                    counters):
    """Euler-Maruyama step of the channels in ``use`` over ``tau`` into ``xnew`` (with
    ``noise`` the CLE, else the rate equations), halved up to ``_MAX_HALVINGS`` times
    while an amount would go negative (not when a slow reaction is due at ``tau``).
    Returns ``(tau, capped, expected firings)``."""
    S = x.shape[0]
    expected = 0.0
    for h in range(_MAX_HALVINGS + 1):
        for i in range(S):
            xnew[i] = x[i]
        expected = 0.0
        for j in range(a.shape[0]):
            if use[j] == 0.0 or a[j] <= 0.0:
                continue
            lam = a[j] * tau
            expected += lam
            inc = lam
            if noise:
                inc += math.sqrt(lam) * _normal(rng)
            _apply(cptr, csp, cdel, j, inc, xnew)
        if not _any_negative(xnew, S) or fire_slow or h == _MAX_HALVINGS:
            break
        counters[2] += 1.0
        tau *= 0.5
        capped = False
    return tau, capped, expected


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _clamp(x, xnew, t, counters):
    """``x = max(xnew, 0)``, counting the clamp and recording the first one (time and
    species) in ``counters``."""
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


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _continuous_step(cptr, csp, cdel, hybrid, n_fast_ch, a0s, x, t, stop, a, tau, g_int, xi,
                     rng, use, xnew, fast_time, counters, noise):
    """One CLE or hybrid step from ``t`` towards ``stop`` with leap size ``tau`` (after
    the hybrid partition): the fast increment, then (hybrid) the slow channel due when
    ``int a_slow dt`` (slow total ``a0s``) reaches the Exp(1) threshold ``xi``; amounts
    below 0 are clamped. Returns ``(t, g_int, xi)``."""
    capped = t + tau * (1.0 + _STOP_SLACK) >= stop
    if capped:
        tau = stop - t
    fire_slow = a0s > 0.0 and g_int + a0s * tau >= xi
    if fire_slow:
        tau = (xi - g_int) / a0s
        capped = False
    expected = 0.0
    for i in range(x.shape[0]):
        xnew[i] = x[i]
    if n_fast_ch > 0:
        tau, capped, expected = _fast_increment(cptr, csp, cdel, x, a, use, tau, capped,
                                                fire_slow, noise, rng, xnew, counters)
        if hybrid:
            for j in range(a.shape[0]):
                if use[j] == 1.0:
                    fast_time[j] += tau
        counters[0] += 1.0
    g_int += a0s * tau
    t = stop if capped else t + tau
    if fire_slow:
        _apply(cptr, csp, cdel, _pick(a, use, 0.0, a0s, rng), 1.0, xnew)
        g_int = 0.0
        xi = _exponential(rng)
        expected += 1.0
        counters[1] += 1.0
    _clamp(x, xnew, t, counters)
    counters[6] += expected
    return t, g_int, xi


@njit(cache=True, nogil=True, error_model="numpy", **_NO_REFCOUNT)
def _approx_run(m, am, method, x, p, a, times, buf, rng, stack, prev, pend, vals, params,
                max_count, max_steps, info, counters, crit, use, xnew, mu, sig, fast_time,
                a_mid, rr):
    """One run of ``method`` (TAU_LEAP, CLE or HYBRID) from t = 0, recording ``buf[i] = x``
    at ``times[i]``. Returns the status code. Compiled without reference counting (see
    the note above :func:`_breakpoints_due`).

    Per step: time breakpoints of event triggers (:func:`_breakpoints_due`), outputs due
    (:func:`_record_through`); all propensities (:func:`_propensities`; with continuous
    methods a negative law of a channel lacking reactant molecules reads 0); the channel
    sets (:func:`_channel_sets`); the leap size over the leaping/candidate channels
    (:func:`_leap_size`, Cao, Gillespie & Petzold 2006 eq. 33, relaxation bound); then

    * tau-leaping: below ``ssa_factor / a0`` the next ``n_ssa_steps`` steps are exact SSA
      steps (:func:`_exact_step`); else a leap (:func:`_tau_leap`, or
      :func:`_tau_leap_trapezoidal` with ``params[7] == 1``);
    * CLE: Euler-Maruyama step over all channels, halved up to 30 times while an amount
      would go negative, then clamped at 0 (counted) (:func:`_continuous_step`);
    * hybrid: candidates with ``a_j tau >= lambda_fast`` are fast (CLE or rate equations),
      the others fire exactly when ``int a_slow dt`` reaches an Exp(1) threshold; species
      no fast channel changes are returned to whole counts by unbiased stochastic
      rounding (:func:`_hybrid_partition`).
    """
    ma_flag, ma_coef, ma_ptr, ma_species, ma_order = (m.ma_flag, m.ma_coef, m.ma_ptr,
                                                      m.ma_species, m.ma_order)
    code, consts, prog_ptr = m.code, m.consts, m.prog_ptr
    cptr, csp, cdel = m.change_ptr, m.change_species, m.change_delta
    re_ptr, re_species, re_nu, hor, hor_mult = am.re_ptr, am.re_species, am.re_nu, am.hor, \
        am.hor_mult
    fb_channel, fb_species, fb_nu = am.fb_channel, am.fb_species, am.fb_nu
    T = times.shape[0]
    bps = m.breakpoints
    nb = bps.shape[0]
    has_events = m.n_events > 0
    eps, n_c, ssa_factor, n_ssa = params[0], params[1], params[2], int(params[3])
    lam_fast, n_fast = params[4], params[5]
    noise = int(params[6]) == 0 or method == CLE
    trapezoidal = int(params[7]) == 1
    continuous = method != TAU_LEAP
    integer = method == TAU_LEAP
    t, ti, bi = 0.0, 0, 0
    start_steps = counters[0] + counters[1]
    exact_left = 0
    g_int = 0.0
    xi = _exponential(rng)
    while True:
        if bi < nb and bps[bi] <= t:
            bi, status = _breakpoints_due(m, x, p, t, bi, prev, pend, vals, stack, info,
                                          integer)
            if status != 0:
                return status
        ti = _record_through(buf, times, ti, x, t)
        if ti >= T:
            return 0
        if counters[0] + counters[1] - start_steps >= max_steps:
            return _fail(info, 3, 0, 0, t, 0.0)
        stop = times[ti]
        if bi < nb and bps[bi] < stop:
            stop = bps[bi]
        a0 = _propensities(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, code, consts,
                           prog_ptr, re_ptr, re_species, re_nu, x, p, t, a, use, stack, info,
                           continuous, True, False)
        if a0 < 0.0:
            return 1
        if a0 == 0.0:
            t = stop
            continue
        if exact_left > 0:
            exact_left -= 1
            t, jf, status = _exact_step(cptr, csp, cdel, x, t, stop, a, a0, rng, info,
                                        max_count, counters)
            if status != 0:
                return status
            if jf >= 0 and has_events:
                if _fire_events(m, x, p, t, prev, pend, vals, stack, info, jf, True) < 0:
                    return int(info[0])
            continue
        a0c = _channel_sets(cptr, csp, cdel, hor, hor_mult, method, x, a, use, crit, eps, n_c,
                            n_fast)
        tau = _leap_size(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, code, consts,
                         prog_ptr, cptr, csp, cdel, re_ptr, re_species, re_nu, hor, hor_mult,
                         fb_channel, fb_species, fb_nu, x, p, t, a, use, mu, sig, rr, stack,
                         eps, continuous)
        if method == TAU_LEAP:
            if tau < ssa_factor / a0:
                exact_left = n_ssa
                continue
            if trapezoidal:
                t, status = _tau_leap_trapezoidal(
                    ma_flag, ma_coef, ma_ptr, ma_species, ma_order, code, consts, prog_ptr,
                    re_ptr, re_species, re_nu, cptr, csp, cdel, x, p, t, stop, a, use, crit,
                    a0c, tau, rng, xnew, a_mid, stack, counters, info)
            else:
                t, status = _tau_leap(cptr, csp, cdel, x, t, stop, a, use, crit, a0c, tau,
                                      rng, xnew, counters, info)
            if status != 0:
                return status
        else:
            n_fast_ch, a0s = a.shape[0], 0.0
            if method == HYBRID:
                n_fast_ch, rounded = _hybrid_partition(cptr, csp, x, a, use, mu, tau,
                                                       lam_fast, rng)
                a0s = _propensities(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, code,
                                    consts, prog_ptr, re_ptr, re_species, re_nu, x, p, t, a,
                                    use, stack, info, True, rounded, True)
                if a0s < 0.0:
                    return 1
                if n_fast_ch == 0:
                    tau = math.inf
            t, g_int, xi = _continuous_step(cptr, csp, cdel, method == HYBRID, n_fast_ch,
                                            a0s, x, t, stop, a, tau, g_int, xi, rng, use,
                                            xnew, fast_time, counters, noise)
        for i in range(x.shape[0]):
            if x[i] > max_count:
                return _fail(info, 2, -1, i, t, 0.0)
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
    a_mid = np.zeros(M)
    rr = np.zeros(S)
    integer = method == TAU_LEAP
    has_events = m.n_events > 0
    for r in range(states.shape[0]):
        rng = states[r]
        if has_events:
            a0, status = _start(m, x0, p0, x, p, a, order, prev, pend, vals, stack, info,
                                integer)
        else:  # nothing to fire at t = 0; _approx_run evaluates (and checks) the laws
            for i in range(S):
                x[i] = x0[i]
            for i in range(p.shape[0]):
                p[i] = p0[i]
            status = 0
        if status == 0:
            status = _approx_run(m, am, method, x, p, a, times, buf, rng, stack, prev, pend,
                                 vals, params, max_count, max_steps, info, counters, work_m,
                                 use, xnew, mu, sig, fast_time, a_mid, rr)
        if status != 0:
            err_state[:] = x
            return -1 - r
        _collect_run(buf, r, keep, kept, sample_idx, samples, mean, m2, cov, want_cov, d1)
    return states.shape[0]
