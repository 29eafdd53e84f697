"""Compiled (numba, ``cache=True``) linear-time kernels of the finite state projection.

Private to :mod:`.fsp`. They replace numpy passes that each allocate a temporary as
large as the state array (per-channel fancy indexing, COO -> CSR -> CSC conversions,
``states.astype(float)`` for the moments): at 10^6 states those passes cost as much as
the sparse LU of a one-dimensional chain (issue 15). Every kernel is a single (or
double) sweep over states or edges; floating-point sums run in the same order as the
numpy code they replace wherever the result feeds the linear solve (the generator's
diagonal, merged duplicate edges), so the generator is bit-for-bit the same.

Conventions as in :mod:`._space`: column-convention generator ``A[i, j]`` = rate of the
jump ``j -> i``; states are molecule counts (int64).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _jump_kind(states, s, j, nu_idx, nu_val, nu_ptr, lower, upper):
    """Where channel ``j`` takes state ``s``: 1 inside the box, 2 out of it, 3 to a
    negative count."""
    k = 1
    for q in range(nu_ptr[j], nu_ptr[j + 1]):
        i = nu_idx[q]
        c = states[s, i] + nu_val[q]
        if c < 0:
            return 3
        if c < lower[i] or c > upper[i]:
            k = 2
    return k


@njit(cache=True, nogil=True)
def table_edges(props, states, nu_idx, nu_val, nu_ptr, lower, upper, codes, table, delta,
                identity):
    """Fire every channel on every state of a tabulated box (:func:`._space._edges_table`).

    Internal edges come out source-major (channels in order within a source): ``src``,
    ``dst``, ``rxn``, ``rate``; edges leaving the box: ``osrc``, ``orxn``, ``orate``;
    ``faulty`` marks states with a negative / non-finite propensity or a positive one that
    would make a count negative. ``nu_idx``/``nu_val``/``nu_ptr``: the non-zero net
    stoichiometry per channel (CSC-like); ``delta[j]``: table-code offset of channel j;
    ``identity``: every box point is a state (the code is the index; ``codes`` and
    ``table`` are unused).
    """
    m, nch = props.shape
    n_in = 0
    n_out = 0
    faulty = np.zeros(m, dtype=np.bool_)
    # kind: 0 no jump (propensity not positive and finite), 1 internal, 2 leaves the
    # box, 3 would make a count negative, 4 inside the box but not in the table
    kind = np.zeros((m, nch), dtype=np.int8)
    for s in range(m):
        for j in range(nch):
            a = props[s, j]
            if not (a > 0.0 and a < np.inf):
                if not (a >= 0.0 and a < np.inf):  # negative, NaN or infinite
                    faulty[s] = True
                continue
            k = _jump_kind(states, s, j, nu_idx, nu_val, nu_ptr, lower, upper)
            if k == 1 and not identity and table[codes[s] + delta[j]] < 0:
                k = 4
            kind[s, j] = k
            if k == 1:
                n_in += 1
            elif k == 2:
                n_out += 1
            elif k == 3:
                faulty[s] = True
    src = np.empty(n_in, dtype=np.int64)
    dst = np.empty(n_in, dtype=np.int64)
    rxn = np.empty(n_in, dtype=np.int64)
    rate = np.empty(n_in)
    osrc = np.empty(n_out, dtype=np.int64)
    orxn = np.empty(n_out, dtype=np.int64)
    orate = np.empty(n_out)
    e = 0
    o = 0
    for s in range(m):
        for j in range(nch):
            k = kind[s, j]
            if k == 1:
                src[e] = s
                dst[e] = s + delta[j] if identity else table[codes[s] + delta[j]]
                rxn[e] = j
                rate[e] = props[s, j]
                e += 1
            elif k == 2:
                osrc[o] = s
                orxn[o] = j
                orate[o] = props[s, j]
                o += 1
    return src, dst, rxn, rate, osrc, orxn, orate, faulty


@njit(cache=True, nogil=True, inline="always")
def _add_sorted(indices, data, start, pos, i, value):
    """Add ``value`` at row ``i`` of the column being built in ``indices/data[start:pos]``
    (rows ascending; few per column: insertion sort, a repeated row merged). Returns
    the new end ``pos``."""
    k = pos - 1
    while k >= start:
        if indices[k] == i:
            data[k] += value
            return pos
        if indices[k] < i:
            break
        k -= 1
    for r in range(pos, k + 1, -1):  # insert after k
        indices[r] = indices[r - 1]
        data[r] = data[r - 1]
    indices[k + 1] = i
    data[k + 1] = value
    return pos + 1


@njit(cache=True, nogil=True, inline="always")
def _set_diagonal(indices, data, start, pos, j, out, self_rate, has_self):
    """The diagonal entry of column ``j``: minus the total rate out (``out``), plus the
    rate of jumps that return to ``j`` itself when there are any (their sum first, in
    edge order, so the value is bit-identical to a dense accumulation)."""
    for k in range(start, pos):
        if indices[k] == j:
            data[k] = (self_rate + out) if has_self else out
            return


@njit(cache=True, nogil=True)
def generator_csc(src, dst, rate, extra_out, n, indptr, indices, data):
    """CSC arrays of the column-convention generator of the edges ``src -> dst``.

    Column ``j`` holds ``A[i, j]`` = summed rate of the edges ``j -> i`` (rows sorted,
    duplicates merged in edge order) and the diagonal ``-(sum of the rates out of j) -
    extra_out[j]`` (the outflow to the sink; an empty array for none). Every
    column has a diagonal entry. Fills ``indptr`` (n + 1), ``indices`` and ``data``
    (room for ``src.size + n`` entries; index arrays of the caller's integer type) and
    returns the number of entries written.
    """
    ne = src.size
    ordered = True
    for e in range(1, ne):
        if src[e] < src[e - 1]:
            ordered = False
            break
    if ordered:  # source-major already (the tabulated enumeration): no sort needed
        order = np.empty(0, dtype=np.int64)
        first = np.empty(0, dtype=np.int64)
    else:  # stable counting sort by source
        first = np.zeros(n + 1, dtype=np.int64)
        for e in range(ne):
            first[src[e] + 1] += 1
        for j in range(n):
            first[j + 1] += first[j]
        order = np.empty(ne, dtype=np.int64)
        fill = first[:n].copy()
        for e in range(ne):
            order[fill[src[e]]] = e
            fill[src[e]] += 1
    indptr[0] = 0
    pos = 0
    cursor = 0  # next edge of the ordered list
    for j in range(n):
        start = pos
        # the diagonal first, then insert the edges of column j in row order (few per
        # column: insertion sort), merging duplicate rows in edge order
        indices[pos] = j
        data[pos] = 0.0
        pos += 1
        if ordered:
            lo = cursor
            while cursor < ne and src[cursor] == j:
                cursor += 1
            hi = cursor
        else:
            lo = first[j]
            hi = first[j + 1]
        # total rate out of j, accumulated in edge order (as np.bincount does)
        total = 0.0
        self_rate = 0.0
        has_self = False
        for q in range(lo, hi):
            e = q if ordered else order[q]
            total += rate[e]
            i = dst[e]
            if i == j:
                self_rate += rate[e]
                has_self = True
                continue
            pos = _add_sorted(indices, data, start, pos, i, rate[e])
        out = -(total + extra_out[j]) if extra_out.size else -(total + 0.0)
        _set_diagonal(indices, data, start, pos, j, out, self_rate, has_self)
        indptr[j + 1] = pos
    return pos


@njit(cache=True, nogil=True)
def diagonal_positions(indptr, indices, cols):
    """Position in ``data`` of the diagonal entry of each column in ``cols`` (-1: none)."""
    out = np.full(cols.size, -1, dtype=np.int64)
    for q in range(cols.size):
        j = cols[q]
        for k in range(indptr[j], indptr[j + 1]):
            if indices[k] == j:
                out[q] = k
                break
    return out


@njit(cache=True, nogil=True)
def pin_count(indices, indptr, ref):
    """How many entries :func:`pin` overwrites (column ``ref`` and row ``ref``)."""
    m = indptr[ref + 1] - indptr[ref]
    for k in range(indices.size):
        if indices[k] == ref:
            m += 1
    return m


@njit(cache=True, nogil=True)
def pin(data, indices, indptr, ref, saved_pos, saved_val):
    """Turn the generator's CSC values, in place, into those of ``A`` with row and
    column ``ref`` replaced by ``-e_ref`` (the negated pinned system of
    :func:`._linear._pinned`); the overwritten entries' positions and values go to
    ``saved_pos``/``saved_val`` (room for every entry of column ``ref`` plus every
    entry in row ``ref``); returns how many were saved. :func:`unpin` restores them."""
    m = 0
    n = indptr.size - 1
    for j in range(n):
        for k in range(indptr[j], indptr[j + 1]):
            if indices[k] == ref or j == ref:
                saved_pos[m] = k
                saved_val[m] = data[k]
                m += 1
                data[k] = -1.0 if (j == ref and indices[k] == ref) else 0.0
    return m


@njit(cache=True, nogil=True)
def unpin(data, saved_pos, saved_val, m):
    """Undo :func:`pin`."""
    for q in range(m):
        data[saved_pos[q]] = saved_val[q]


@njit(cache=True, nogil=True)
def moments(states, p):
    """Mean vector and covariance matrix of the counts under the weights ``p / sum(p)``
    (two passes: the mean, then centred products; no (n_states, n_species) temporary)."""
    n, d = states.shape
    total = 0.0
    for s in range(n):
        total += p[s]
    scale = 1.0 / total if total > 0 else 1.0
    mean = np.zeros(d)
    for s in range(n):
        w = p[s] * scale
        for i in range(d):
            mean[i] += w * states[s, i]
    cov = np.zeros((d, d))
    c = np.empty(d)
    for s in range(n):
        w = p[s] * scale
        if w == 0.0:
            continue
        for i in range(d):
            c[i] = states[s, i] - mean[i]
        for i in range(d):
            wi = w * c[i]
            for k in range(i, d):
                cov[i, k] += wi * c[k]
    for i in range(d):
        for k in range(i):
            cov[i, k] = cov[k, i]
    return mean, cov


@njit(cache=True, nogil=True)
def nearest(states, target):
    """Row of ``states`` nearest to ``target`` in the 1-norm (first on ties)."""
    best = -1
    best_d = np.inf
    for s in range(states.shape[0]):
        dist = 0.0
        for i in range(states.shape[1]):
            dist += abs(states[s, i] - target[i])
        if dist < best_d:
            best_d = dist
            best = s
    return best


@njit(cache=True, nogil=True)
def spread(states):
    """``max - min`` of each column (``np.ptp(states, axis=0)`` without a temporary)."""
    n, d = states.shape
    lo = np.empty(d, dtype=states.dtype)
    hi = np.empty(d, dtype=states.dtype)
    if n == 0:
        return np.zeros(d, dtype=states.dtype)
    for i in range(d):
        lo[i] = states[0, i]
        hi[i] = states[0, i]
    for s in range(1, n):
        for i in range(d):
            v = states[s, i]
            if v < lo[i]:
                lo[i] = v
            elif v > hi[i]:
                hi[i] = v
    return hi - lo


@njit(cache=True, nogil=True)
def box_states(klo, radix, strides, link, offset, lower, upper):
    """The integer-link box of :func:`._space._box_states` in one sweep: box code ``c``
    has key counts ``(c // strides) % radix + klo`` (``strides`` of the last key 1,
    counted with an odometer) and state ``link @ key + offset``
    (``link`` int64, shape (n_species, n_key)). Returns ``(states, ok)``; ``ok[c]`` is
    False where a dependent count falls outside ``[lower, upper]``."""
    size = 1
    for r in radix:
        size *= r
    ns, nk = link.shape
    states = np.empty((size, ns), dtype=np.int64)
    ok = np.ones(size, dtype=np.bool_)
    # odometer over the key counts (the last key varies fastest: code order)
    xk = klo.copy()
    for c in range(size):
        if c > 0:
            k = nk - 1
            xk[k] += 1
            while k > 0 and xk[k] > klo[k] + radix[k] - 1:
                xk[k] = klo[k]
                k -= 1
                xk[k] += 1
        for i in range(ns):
            v = offset[i]
            for k in range(nk):
                v += link[i, k] * xk[k]
            states[c, i] = v
            if v < lower[i] or v > upper[i]:
                ok[c] = False
    return states, ok


@njit(cache=True, nogil=True)
def table_generator(props, states, nu_idx, nu_val, nu_ptr, lower, upper, codes, table,
                    delta, identity, s0, r0, pos, o, indptr, indices, data, osrc, orxn,
                    orate, faulty):
    """:func:`table_edges` and :func:`generator_csc` fused: the reflecting generator's
    CSC columns ``s0 .. s0 + len(props) - 1`` straight from the propensities of those
    states (``props`` is a chunk; ``states``, ``codes`` the whole box), without the
    internal edge list.

    Appends to ``indices``/``data`` from ``pos`` and to the outgoing-edge arrays
    ``osrc``/``orxn``/``orate`` from ``o``, sets ``indptr[s0 + 1 ..]`` and ``faulty``,
    starting at row ``r0`` of the chunk, and returns ``(pos, o, r)``: ``r < len(props)``
    when a buffer could not hold row ``r``'s entries (the caller grows it and resumes
    at ``r``). The columns equal :func:`generator_csc` of :func:`table_edges`'
    source-major edges (same merge and summation order).
    """
    m, nch = props.shape
    if s0 == 0 and r0 == 0:
        indptr[0] = 0
    for r in range(r0, m):
        if pos + nch + 1 > indices.size or o + nch > osrc.size:
            return pos, o, r
        s = s0 + r
        start = pos
        indices[pos] = s
        data[pos] = 0.0
        pos += 1
        total = 0.0
        self_rate = 0.0
        has_self = False
        for j in range(nch):
            a = props[r, j]
            if not (a > 0.0 and a < np.inf):
                if not (a >= 0.0 and a < np.inf):  # negative, NaN or infinite
                    faulty[s] = True
                continue
            k = _jump_kind(states, s, j, nu_idx, nu_val, nu_ptr, lower, upper)
            if k == 3:
                faulty[s] = True
                continue
            if k == 2:
                osrc[o] = s
                orxn[o] = j
                orate[o] = a
                o += 1
                continue
            t = s + delta[j] if identity else table[codes[s] + delta[j]]
            if t < 0:
                continue
            total += a
            if t == s:
                self_rate += a
                has_self = True
                continue
            pos = _add_sorted(indices, data, start, pos, t, a)
        _set_diagonal(indices, data, start, pos, s, -(total + 0.0), self_rate, has_self)
        indptr[s + 1] = pos
    return pos, o, m


@njit(cache=True, nogil=True)
def marginals(states, p):
    """Every species' marginal law in one sweep: ``out[offs[i] + c]`` = total weight of
    the states with count ``c`` of species ``i`` (``c = 0 .. max``), summed in state
    order (the values of ``np.bincount(states[:, i], weights=p)``)."""
    n, d = states.shape
    hi = np.zeros(d, dtype=np.int64)
    for s in range(n):
        for i in range(d):
            if states[s, i] > hi[i]:
                hi[i] = states[s, i]
    offs = np.zeros(d + 1, dtype=np.int64)
    for i in range(d):
        offs[i + 1] = offs[i] + hi[i] + 1
    out = np.zeros(offs[d])
    for s in range(n):
        w = p[s]
        for i in range(d):
            out[offs[i] + states[s, i]] += w
    return out, offs
