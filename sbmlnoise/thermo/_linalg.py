"""Exact integer linear algebra for the thermodynamic analysis (private).

:func:`integer_nullspace` returns an integer basis of the right null space of a small
integer (or rational) matrix by fraction-free Gauss-Jordan elimination on ``int64`` numpy
arrays, with rows divided by their gcd after every step so entries stay small. If an
entry would overflow, it repeats the elimination on exact Python integers.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

_LIMIT = 2 ** 30  # entries above this could overflow int64 in the next product


def _to_integer_matrix(mat: np.ndarray) -> np.ndarray:
    """Scale each row of a float matrix of (near-)rationals to integers (exactly)."""
    mat = np.asarray(mat, dtype=float)
    rounded = np.round(mat)
    if np.all(np.abs(mat - rounded) < 1e-12):
        return rounded.astype(np.int64)
    out = np.zeros(mat.shape, dtype=object)
    for i, row in enumerate(mat):
        fracs = [Fraction(v).limit_denominator(10 ** 6) for v in row]
        lcm = 1
        for f in fracs:
            lcm = lcm * f.denominator // np.gcd(lcm, f.denominator)
        out[i] = [int(f * lcm) for f in fracs]
    if np.max(np.abs(out.astype(float)), initial=0) > _LIMIT:
        raise OverflowError("stoichiometry too irregular for int64 elimination")
    return out.astype(np.int64)


def _rref_int(a: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Fraction-free reduced row echelon form: every pivot column is zero except at its
    pivot row (pivots are positive integers, not necessarily 1)."""
    a = a.copy()
    n_rows, n_cols = a.shape
    pivots: list[int] = []
    r = 0
    for c in range(n_cols):
        if r >= n_rows:
            break
        nz = np.nonzero(a[r:, c])[0]
        if nz.size == 0:
            continue
        # smallest |entry| as pivot keeps numbers small
        p = r + nz[np.argmin(np.abs(a[r + nz, c]))]
        if p != r:
            a[[r, p]] = a[[p, r]]
        if a[r, c] < 0:
            a[r] = -a[r]
        piv = a[r, c]
        others = np.nonzero(a[:, c])[0]
        others = others[others != r]
        if others.size:
            factors = a[others, c].copy()
            a[others] = a[others] * piv - np.outer(factors, a[r])
            g = np.gcd.reduce(np.abs(a[others]), axis=1)
            g[g == 0] = 1
            a[others] //= g[:, None]
            if a.dtype != object and np.max(np.abs(a[others])) > _LIMIT:
                raise OverflowError
        pivots.append(c)
        r += 1
    return a[:r], pivots


def integer_nullspace(mat: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer basis of ``{c : mat @ c = 0}`` and the rank of ``mat``.

    Parameters
    ----------
    mat : array_like, shape (m, n)
        Integer (or simple rational) entries.

    Returns
    -------
    basis : ndarray of int64, shape (n, k)
        Column ``q`` belongs to the ``q``-th non-pivot column ``f_q`` of the row echelon
        form: it is nonzero at ``f_q`` and at pivot columns to the left of ``f_q`` only,
        so ordering the columns puts a basis of any leading block's null space first.
        Each column is divided by the gcd of its entries and has a positive entry at
        ``f_q``.
    rank : int
    """
    mat = np.asarray(mat)
    n = mat.shape[1]
    if mat.size == 0 or mat.shape[0] == 0:
        return np.eye(n, dtype=np.int64), 0
    try:
        a = _to_integer_matrix(mat)
        red, pivots = _rref_int(a)
    except OverflowError:
        # exact Python integers (slower, unbounded)
        red, pivots = _rref_int(_to_integer_matrix(mat).astype(object))
    free = [c for c in range(n) if c not in set(pivots)]
    basis = np.zeros((n, len(free)), dtype=object)
    for q, f in enumerate(free):
        # x_f = L, x_{c_r} = -red[r, f] * L / red[r, c_r]
        lcm = 1
        for r, c in enumerate(pivots):
            if red[r, f]:
                pv = int(red[r, c])
                lcm = lcm * pv // int(np.gcd(lcm, pv))
        col = [0] * n
        col[f] = lcm
        for r, c in enumerate(pivots):
            if red[r, f]:
                col[c] = -int(red[r, f]) * lcm // int(red[r, c])
        g = 0
        for v in col:
            g = math.gcd(g, v)
        basis[:, q] = [v // (g or 1) for v in col]
    if basis.size and max(abs(int(v)) for v in basis.ravel()) >= 2 ** 62:
        return basis.astype(float), len(pivots)
    return basis.astype(np.int64), len(pivots)
