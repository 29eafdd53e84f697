"""numba kernels of the SSA (private; drivers in ensemble.py and stationary.py).

All kernels are ``@njit(cache=True, nogil=True)``: compiled once per machine, reused for
every model (a model is data, see :mod:`._model`), and free of the GIL so threads run
them in parallel. They fill preallocated arrays and report failures through a status
code plus ``info`` (float64, shape (8,)):

====== ============================== =================================================
status meaning                         info
====== ============================== =================================================
0      ok
1      propensity negative/NaN/inf    [1, reaction, -, time, value]
2      count above ``max_count``      [2, reaction, species, time]
3      more than ``max_steps`` events [3, -, -, time]
4      event cascade did not settle   [4, -, -, time]
5      a reaction made a count < 0    [5, reaction, species, time]
6      event assigned a non-whole or  [6, event, species, time, value]
       negative count
====== ============================== =================================================
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._program import _eval
from ._rng import _exponential, _uniform
from .direct import _direct_select
from .sorting import RESUM_EVERY, _sorting_promote, _sorting_resum, _sorting_select

_MAX_EVENT_ROUNDS = 1000


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _mass_action(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, j, x):
    """Propensity of a fast-path channel: ``coef * prod_i n_i^m_i`` (flag 1, mass action)
    or ``coef * prod_i n_i (n_i - 1) ... (n_i - m_i + 1)`` (flag 2, combinatorial form such
    as ``k*P*(P-1)/2``)."""
    step = 1.0 if ma_flag[j] == 2 else 0.0
    v = ma_coef[j]
    for q in range(ma_ptr[j], ma_ptr[j + 1]):
        n = x[ma_species[q]]
        for s in range(ma_order[q]):
            v *= n - s * step
    return v


@njit(cache=True, nogil=True, error_model="numpy")
def _propensity(m, j, x, p, t, stack):
    """Propensity of channel ``j`` (events per time) at counts ``x``."""
    if m.ma_flag[j] != 0:
        return _mass_action(m.ma_flag, m.ma_coef, m.ma_ptr, m.ma_species, m.ma_order, j, x)
    return _eval(m.code, m.consts, m.prog_ptr, j, x, p, t, stack)


@njit(cache=True, nogil=True, error_model="numpy")
def _all_propensities(m, x, p, t, a, stack, info):
    """Fill ``a`` (M,), return the total, or -1.0 after recording status 1 in ``info``."""
    a0 = 0.0
    for j in range(m.n_reactions):
        v = _propensity(m, j, x, p, t, stack)
        if not (v >= 0.0 and v < math.inf):
            info[0] = 1.0
            info[1] = j
            info[3] = t
            info[4] = v
            return -1.0
        a[j] = v
        a0 += v
    return a0


@njit(cache=True, nogil=True, error_model="numpy")
def _fire_events(m, x, p, t, prev, pend, vals, stack, info, j, integer):
    """Fire every event whose trigger went false -> true, in priority order, repeating
    until no trigger changes. Returns the number fired, or -1 (status 4 or 6).

    ``j >= 0``: called after reaction ``j`` fired; the first round evaluates only the
    triggers that read a species ``j`` changes (event dependency graph ``ev_dep_*``);
    the other triggers cannot have changed. ``j = -1``: evaluate all (t = 0, time
    breakpoints, after parameter changes). ``integer``: species assignments must be whole
    molecule counts (within 1e-6 relative) -- otherwise status 6 [6, event, species,
    time, value] -- and are stored rounded; continuous methods pass False.

    The trigger update (evaluate, record, detect the false -> true edge) is written out in
    both loops: as an ``inline="always"`` helper it cost 10% of the events/s of event models
    (``benchmarks/kernels.py --quick``, 2.25e6 -> 2.02e6).
    """
    E = m.n_events
    fired = 0
    for rnd in range(_MAX_EVENT_ROUNDS):
        pending = False
        if rnd == 0 and j >= 0:
            for e in range(E):
                pend[e] = 0
            for qe in range(m.ev_dep_ptr[j], m.ev_dep_ptr[j + 1]):
                e = m.ev_dep_list[qe]
                value = _eval(m.code, m.consts, m.prog_ptr, m.ev_trigger[e], x, p, t, stack)
                cur = 1 if value != 0.0 else 0
                pend[e] = 1 if (cur == 1 and prev[e] == 0) else 0
                prev[e] = cur
                if pend[e] == 1:
                    pending = True
        else:
            for e in range(E):
                value = _eval(m.code, m.consts, m.prog_ptr, m.ev_trigger[e], x, p, t, stack)
                cur = 1 if value != 0.0 else 0
                pend[e] = 1 if (cur == 1 and prev[e] == 0) else 0
                prev[e] = cur
                if pend[e] == 1:
                    pending = True
        if not pending:
            return fired
        for k in range(E):
            e = m.ev_order[k]
            if pend[e] == 0:
                continue
            if m.ev_persistent[e] == 0:
                if _eval(m.code, m.consts, m.prog_ptr, m.ev_trigger[e], x, p, t, stack) == 0.0:
                    prev[e] = 0
                    continue
            lo = m.ev_assign_ptr[e]
            hi = m.ev_assign_ptr[e + 1]
            for q in range(lo, hi):
                vals[q - lo] = _eval(m.code, m.consts, m.prog_ptr, m.as_prog[q], x, p, t, stack)
            for q in range(lo, hi):
                if m.as_kind[q] == 0:
                    v = m.as_scale[q] * vals[q - lo]
                    if integer:
                        r = np.rint(v)
                        if not (abs(v - r) <= 1e-6 * max(1.0, abs(v)) and r >= 0.0):
                            info[0] = 6.0
                            info[1] = e
                            info[2] = m.as_index[q]
                            info[3] = t
                            info[4] = v
                            return -1
                        v = r
                    elif not (v >= 0.0 and v < math.inf):
                        info[0] = 6.0
                        info[1] = e
                        info[2] = m.as_index[q]
                        info[3] = t
                        info[4] = v
                        return -1
                    x[m.as_index[q]] = v
                else:
                    p[m.as_index[q]] = vals[q - lo]
            fired += 1
    info[0] = 4.0
    info[3] = t
    return -1


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _fail(info, status, reaction, species, t, value):
    """Record a failure in ``info`` as ``[status, reaction, species, time, value]`` (see
    the module table; fields a status does not use are passed as 0) and return
    ``status``. ``info`` is zero until the one failure of a run writes it."""
    info[0] = status
    info[1] = reaction
    info[2] = species
    info[3] = t
    info[4] = value
    return status


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _record_until(buf, times, ti, x, t_until):
    """Recording: ``buf[i] = x`` for the output times ``times[ti:]`` before ``t_until``
    (the state is piecewise constant until then); returns the next output index."""
    T = times.shape[0]
    S = x.shape[0]
    while ti < T and times[ti] < t_until:
        for s in range(S):
            buf[ti, s] = x[s]
        ti += 1
    return ti


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _breakpoint_events(m, x, p, t, a, a0, prev, pend, vals, stack, info):
    """Fire the events due at a time breakpoint ``t``: at ``t`` and just after it (for
    strict relations such as ``time > 5``), refreshing all propensities after any event.
    Returns ``(status, fired, a0)``; ``fired`` tells whether ``a`` and ``a0`` were
    recomputed."""
    fired = False
    for sub in range(2):
        tt = t if sub == 0 else np.nextafter(t, math.inf)
        nf = _fire_events(m, x, p, tt, prev, pend, vals, stack, info, -1, True)
        if nf < 0:
            return int(info[0]), fired, a0
        if nf > 0:
            a0 = _all_propensities(m, x, p, t, a, stack, info)
            if a0 < 0.0:
                return 1, fired, a0
            fired = True
    return 0, fired, a0


@njit(cache=True, nogil=True, error_model="numpy")
def _accumulate(x, dt, acc_lin, acc_quad, hist, over):
    S = x.shape[0]
    H = hist.shape[1]
    for i in range(S):
        xi = x[i]
        acc_lin[i] += xi * dt
        for k in range(S):
            acc_quad[i, k] += xi * x[k] * dt
        c = int(xi)
        if xi >= 0 and c < H:
            hist[i, c] += dt
        else:
            over[i] += dt


@njit(cache=True, nogil=True, error_model="numpy")
def _advance(m, method, x, p, a, order, a0, t, t_stop, rng, stack, prev, pend, vals,
             max_count, steps, max_steps, acc, acc_lin, acc_quad, hist, over, info):
    """Simulate from ``t`` to ``t_stop`` (state-triggered events fire between reactions).

    Returns ``(t, a0, steps, status)``. With ``acc`` true, time-weighted sums of the
    piecewise-constant path are added to ``acc_lin`` (S,), ``acc_quad`` (S, S) and the
    occupation times ``hist`` (S, H) / ``over`` (S,).

    Propensities are evaluated inline here (not through :func:`_propensity`): in numba a
    call that passes many arrays into a function containing further calls costs ~0.5 us,
    more than a whole SSA step. The select-fire-refresh loop below is repeated in
    :func:`_run_record` on purpose: moving it into ``inline="always"`` helpers gave
    bit-identical results but made the sorting direct method 3x slower and the direct
    method 20% slower (``benchmarks/ssa.py``, 2026-11-27). The bookkeeping around it
    (failure reports :func:`_fail`, resums) is in ``inline="always"`` helpers, which
    measured no slower. Events after a reaction stay inline too: an inlined helper that
    takes the model ``m`` pays reference counts on its 30 arrays at every step (event
    models ran 40% slower that way; docs/performance/ssa-split.md).
    """
    M = m.n_reactions
    ma_flag = m.ma_flag
    ma_coef = m.ma_coef
    ma_ptr = m.ma_ptr
    ma_species = m.ma_species
    ma_order = m.ma_order
    code = m.code
    consts = m.consts
    prog_ptr = m.prog_ptr
    change_ptr = m.change_ptr
    change_species = m.change_species
    change_delta = m.change_delta
    dep_ptr = m.dep_ptr
    dep_list = m.dep_list
    has_events = m.n_events > 0
    since_resum = 0
    while True:
        if method == 0:
            a0 = 0.0
            for j in range(M):
                if ma_flag[j] != 0:
                    v = _mass_action(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, j, x)
                else:
                    v = _eval(code, consts, prog_ptr, j, x, p, t, stack)
                if not (v >= 0.0 and v < math.inf):
                    return t, a0, steps, _fail(info, 1, j, 0, t, v)
                a[j] = v
                a0 += v
        elif since_resum >= RESUM_EVERY:
            a0 = _sorting_resum(a)
            since_resum = 0
        tau = _exponential(rng) / a0 if a0 > 0.0 else math.inf
        if t + tau >= t_stop:
            if acc:
                _accumulate(x, t_stop - t, acc_lin, acc_quad, hist, over)
            return t_stop, a0, steps, 0
        if acc:
            _accumulate(x, tau, acc_lin, acc_quad, hist, over)
        t += tau
        target = _uniform(rng) * a0
        if method == 0:
            j = _direct_select(a, target)
        else:
            k = _sorting_select(a, order, target)
            if k < 0:  # drift: the running total was positive, every channel is zero
                a0 = 0.0
                continue
            j = order[k]
            _sorting_promote(order, k)
        if j < 0:
            a0 = 0.0
            continue
        for q in range(change_ptr[j], change_ptr[j + 1]):
            i = change_species[q]
            x[i] += change_delta[q]
            if x[i] < 0.0:
                return t, a0, steps, _fail(info, 5, j, i, t, 0.0)
            if x[i] > max_count:
                return t, a0, steps, _fail(info, 2, j, i, t, 0.0)
        steps += 1
        if steps >= max_steps:
            return t, a0, steps, _fail(info, 3, 0, 0, t, 0.0)
        if has_events:
            nf = _fire_events(m, x, p, t, prev, pend, vals, stack, info, j, True)
            if nf < 0:
                return t, a0, steps, int(info[0])
            if nf > 0:
                a0 = _all_propensities(m, x, p, t, a, stack, info)
                if a0 < 0.0:
                    return t, a0, steps, 1
                since_resum = 0
                continue
        if method != 0:
            for qq in range(dep_ptr[j], dep_ptr[j + 1]):
                jj = dep_list[qq]
                if ma_flag[jj] != 0:
                    v = _mass_action(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, jj, x)
                else:
                    v = _eval(code, consts, prog_ptr, jj, x, p, t, stack)
                if not (v >= 0.0 and v < math.inf):
                    return t, a0, steps, _fail(info, 1, jj, 0, t, v)
                a0 += v - a[jj]
                a[jj] = v
            since_resum += 1


@njit(cache=True, nogil=True, error_model="numpy")
def _goto(m, method, x, p, a, order, a0, t, target, bi, rng, stack, prev, pend, vals,
          max_count, steps, max_steps, acc, acc_lin, acc_quad, hist, over, info):
    """Advance to ``target``, stopping at the time breakpoints of event triggers to fire
    them at their exact time. Returns ``(t, a0, steps, bi, status)``."""
    bps = m.breakpoints
    while bi < bps.shape[0] and bps[bi] <= target:
        bp = bps[bi]
        if bp > t:
            t, a0, steps, status = _advance(m, method, x, p, a, order, a0, t, bp, rng, stack,
                                            prev, pend, vals, max_count, steps, max_steps,
                                            acc, acc_lin, acc_quad, hist, over, info)
            if status != 0:
                return t, a0, steps, bi, status
        status, fired, a0 = _breakpoint_events(m, x, p, t, a, a0, prev, pend, vals, stack,
                                               info)
        if status != 0:
            return t, a0, steps, bi, status
        bi += 1
    t, a0, steps, status = _advance(m, method, x, p, a, order, a0, t, target, rng, stack,
                                    prev, pend, vals, max_count, steps, max_steps,
                                    acc, acc_lin, acc_quad, hist, over, info)
    return t, a0, steps, bi, status


@njit(cache=True, nogil=True, error_model="numpy")
def _start(m, x0, p0, x, p, a, order, prev, pend, vals, stack, info, integer=True):
    """Reset a run to t = 0: state, parameters, search order, event flags (SBML
    ``initialValue``), events already true at 0, propensities. Returns (a0, status)."""
    x[:] = x0
    p[:] = p0
    for j in range(order.shape[0]):
        order[j] = j
    for e in range(m.n_events):
        prev[e] = m.ev_init[e]
    if m.n_events > 0:
        if _fire_events(m, x, p, 0.0, prev, pend, vals, stack, info, -1, integer) < 0:
            return 0.0, int(info[0])
    a0 = _all_propensities(m, x, p, 0.0, a, stack, info)
    if a0 < 0.0:
        return a0, 1
    return a0, 0


@njit(cache=True, nogil=True, error_model="numpy")
def _run_record(m, method, x, p, a, order, a0, rng, stack, prev, pend, vals, times, buf,
                max_count, max_steps, info):
    """One run from t = 0 (after :func:`_start`) recording ``buf[i] = x`` at every output
    time ``times[i]`` without stopping there: outputs are filled from the state in force
    when the next reaction time passes them, so output times cost nothing per se. Only
    the time breakpoints of event triggers stop the clock (the pending reaction time is
    then discarded and redrawn, exact by memorylessness).

    Returns ``(steps, status)``. Its select-fire-refresh loop repeats :func:`_advance`'s
    inline, because helpers cost speed there (see there); recording (:func:`_record_until`),
    breakpoints (:func:`_breakpoint_events`) and failures (:func:`_fail`) are helpers.
    """
    M = m.n_reactions
    T = times.shape[0]
    ma_flag = m.ma_flag
    ma_coef = m.ma_coef
    ma_ptr = m.ma_ptr
    ma_species = m.ma_species
    ma_order = m.ma_order
    code = m.code
    consts = m.consts
    prog_ptr = m.prog_ptr
    change_ptr = m.change_ptr
    change_species = m.change_species
    change_delta = m.change_delta
    dep_ptr = m.dep_ptr
    dep_list = m.dep_list
    bps = m.breakpoints
    nb = bps.shape[0]
    has_events = m.n_events > 0
    t = 0.0
    steps = 0
    bi = np.searchsorted(bps, 0.0, side="right")  # <= 0: handled by the check at t = 0
    ti = 0
    t_last = times[T - 1]
    since_resum = 0
    while ti < T:
        if method == 0:
            a0 = 0.0
            for j in range(M):
                if ma_flag[j] != 0:
                    v = _mass_action(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, j, x)
                else:
                    v = _eval(code, consts, prog_ptr, j, x, p, t, stack)
                if not (v >= 0.0 and v < math.inf):
                    return steps, _fail(info, 1, j, 0, t, v)
                a[j] = v
                a0 += v
        elif since_resum >= RESUM_EVERY:
            a0 = _sorting_resum(a)
            since_resum = 0
        t_next = t + _exponential(rng) / a0 if a0 > 0.0 else math.inf
        if bi < nb and bps[bi] < t_next and bps[bi] <= t_last:
            ti = _record_until(buf, times, ti, x, bps[bi])
            t = bps[bi]
            status, fired, a0 = _breakpoint_events(m, x, p, t, a, a0, prev, pend, vals, stack,
                                                   info)
            if status != 0:
                return steps, status
            if fired:
                since_resum = 0
            bi += 1
            continue
        ti = _record_until(buf, times, ti, x, t_next)
        if ti >= T:
            break
        t = t_next
        target = _uniform(rng) * a0
        if method == 0:
            j = _direct_select(a, target)
        else:
            k = _sorting_select(a, order, target)
            if k < 0:
                a0 = 0.0
                continue
            j = order[k]
            _sorting_promote(order, k)
        if j < 0:
            a0 = 0.0
            continue
        for q in range(change_ptr[j], change_ptr[j + 1]):
            i = change_species[q]
            x[i] += change_delta[q]
            if x[i] < 0.0:
                return steps, _fail(info, 5, j, i, t, 0.0)
            if x[i] > max_count:
                return steps, _fail(info, 2, j, i, t, 0.0)
        steps += 1
        if steps >= max_steps:
            return steps, _fail(info, 3, 0, 0, t, 0.0)
        if has_events:
            nf = _fire_events(m, x, p, t, prev, pend, vals, stack, info, j, True)
            if nf < 0:
                return steps, int(info[0])
            if nf > 0:
                a0 = _all_propensities(m, x, p, t, a, stack, info)
                if a0 < 0.0:
                    return steps, 1
                since_resum = 0
                continue
        if method != 0:
            for qq in range(dep_ptr[j], dep_ptr[j + 1]):
                jj = dep_list[qq]
                if ma_flag[jj] != 0:
                    v = _mass_action(ma_flag, ma_coef, ma_ptr, ma_species, ma_order, jj, x)
                else:
                    v = _eval(code, consts, prog_ptr, jj, x, p, t, stack)
                if not (v >= 0.0 and v < math.inf):
                    return steps, _fail(info, 1, jj, 0, t, v)
                a0 += v - a[jj]
                a[jj] = v
            since_resum += 1
    return steps, 0


@njit(cache=True, nogil=True, error_model="numpy")
def _collect_run(buf, r, keep, kept, sample_idx, samples, mean, m2, cov, want_cov, d1):
    """After run ``r`` (0-based) recorded in ``buf`` (T, S): keep it among the first
    ``keep`` trajectories, store its states at ``sample_idx`` and merge it into the
    streaming moments (the bookkeeping every ensemble driver shares)."""
    if r < keep:
        kept[r] = buf
    for k in range(sample_idx.shape[0]):
        samples[r, k, :] = buf[sample_idx[k]]
    _welford(buf, r + 1.0, mean, m2, cov, want_cov, d1)


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
def _ensemble_chunk(m, method, x0, p0, times, states, keep, want_cov, mean, m2, cov,
                    kept, sample_idx, samples, max_count, max_steps, info, err_state):
    """Simulate ``states.shape[0]`` runs and merge them into streaming moments.

    Parameters
    ----------
    times : float64 (T,), sorted, >= 0; the state is recorded after events at each time.
    states : uint64 (R, 4), one xoshiro256** state per run (consumed).
    mean, m2 : float64 (T, S), zero on entry; on exit the mean and the sum of squared
        deviations (Welford 1962) over the R runs.
    cov : float64 (T, S, S) (or (0, 0, 0) when ``want_cov`` is false); sum of
        cross-deviation products.
    kept : float64 (keep, T, S), the first ``keep`` trajectories.
    sample_idx, samples : int64 (K,), float64 (R, K, S): every run's state at
        ``times[sample_idx]`` (for distributions).
    info, err_state : failure report (see module docstring) and the state at failure.

    Returns the total number of reaction events, or -1 - run on failure.
    """
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
    total = 0
    # without events every run starts from the same propensities: evaluate them once
    # (a call of _start costs about 2 us, most of a short run; results bit-identical)
    a_init = np.zeros(M)
    a0_init = 0.0
    for r in range(states.shape[0]):
        rng = states[r]
        if m.n_events > 0 or r == 0:
            a0, status = _start(m, x0, p0, x, p, a, order, prev, pend, vals, stack, info,
                                True)
            a_init[:] = a
            a0_init = a0
        else:
            x[:] = x0
            p[:] = p0
            for j in range(M):
                order[j] = j
                a[j] = a_init[j]
            a0, status = a0_init, 0
        steps = 0
        if status == 0:
            steps, status = _run_record(m, method, x, p, a, order, a0, rng, stack, prev, pend,
                                        vals, times, buf, max_count, max_steps, info)
        if status != 0:
            err_state[:] = x
            return -1 - r
        total += steps
        _collect_run(buf, r, keep, kept, sample_idx, samples, mean, m2, cov, want_cov, d1)
    return total


@njit(cache=True, nogil=True, error_model="numpy")
def _stationary_run(m, method, x0, p0, rng, burn_in, dt, n_grid, n_batches, grid,
                    batch_lin, batch_quad, hist, over, max_count, max_steps, info, err_state):
    """One long run: burn in to ``burn_in``, then record ``n_grid`` samples ``grid``
    (n_grid, S) at ``burn_in + g dt`` (state at the left end of each interval) and
    time-weighted sums over batch ``b`` (intervals ``g`` with ``g * n_batches // n_grid
    == b``): ``batch_lin`` (B, S), ``batch_quad`` (B, S, S), occupation times ``hist``
    (S, H) and ``over`` (S,) (counts outside [0, H)). Returns the number of events or
    -1 on failure."""
    S = m.n_species
    M = m.n_reactions
    x = np.empty(S)
    p = np.empty(p0.shape[0])
    a = np.zeros(M)
    order = np.empty(M, dtype=np.int64)
    prev = np.zeros(max(m.n_events, 1), dtype=np.int64)
    pend = np.zeros(max(m.n_events, 1), dtype=np.int64)
    vals = np.zeros(max(m.as_kind.shape[0], 1))
    stack = np.zeros(m.max_stack)
    dummy1 = np.zeros(1)
    dummy2 = np.zeros((1, 1))
    a0, status = _start(m, x0, p0, x, p, a, order, prev, pend, vals, stack, info, True)
    if status != 0:
        err_state[:] = x
        return -1
    t = 0.0
    steps = 0
    bi = 0
    t, a0, steps, bi, status = _goto(m, method, x, p, a, order, a0, t, burn_in, bi, rng,
                                     stack, prev, pend, vals, max_count, steps, max_steps,
                                     False, dummy1, dummy2, dummy2, dummy1, info)
    if status != 0:
        err_state[:] = x
        return -1
    for g in range(n_grid):
        for s in range(S):
            grid[g, s] = x[s]
        b = (g * n_batches) // n_grid
        target = burn_in + (g + 1) * dt
        t, a0, steps, bi, status = _goto(m, method, x, p, a, order, a0, t, target, bi, rng,
                                         stack, prev, pend, vals, max_count, steps,
                                         max_steps, True, batch_lin[b], batch_quad[b], hist,
                                         over, info)
        if status != 0:
            err_state[:] = x
            return -1
    return steps


@njit(cache=True, nogil=True, error_model="numpy")
def _propensities_at(m, x, p, t, out):
    """All propensities at counts ``x`` into ``out`` (M,) (no validity check)."""
    stack = np.zeros(m.max_stack)
    for j in range(m.n_reactions):
        out[j] = _propensity(m, j, x, p, t, stack)
    return out
