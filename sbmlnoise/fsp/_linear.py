"""Sparse linear algebra for the finite state projection (private to :mod:`.fsp`).

All generators use the column convention ``dp/dt = A p`` (``A[i, j]`` is the rate of the
jump ``j -> i``; columns of a proper generator sum to zero).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla
from scipy.sparse import csgraph

from .._deadline import check, gmres_callback
from ..errors import SimulationError
from . import _kernels

#: above this many states the direct solver is tried with a memory guard, then GMRES
DIRECT_LIMIT = 3_000_000


def closed_class(generator: sps.csr_matrix, graph=None) -> np.ndarray:
    """Indices of the unique closed communicating class of a proper generator.

    Raises
    ------
    SimulationError
        If there are several closed classes (the stationary law depends on the initial
        state, e.g. several absorbing states).
    """
    n = generator.shape[0]
    if graph is not None:  # the same edges j -> i, already built by the projection
        ncomp, labels = csgraph.connected_components(graph, directed=True,
                                                     connection="strong")
        if ncomp == 1:
            return np.arange(n)
    adj = generator.tocoo()
    off = adj.row != adj.col
    # graph edge j -> i for A[i, j] > 0
    g = sps.csr_matrix((np.ones(int(off.sum())), (adj.col[off], adj.row[off])), shape=(n, n))
    ncomp, labels = csgraph.connected_components(g, directed=True, connection="strong")
    if ncomp == 1:
        return np.arange(n)
    leaving = labels[adj.col[off]] != labels[adj.row[off]]
    has_exit = np.zeros(ncomp, dtype=bool)
    has_exit[labels[adj.col[off][leaving]]] = True
    closed = np.flatnonzero(~has_exit)
    if closed.size != 1:
        raise SimulationError(
            f"fsp: the projected chain has {closed.size} closed classes (e.g. several "
            "absorbing states), so its stationary distribution is not unique; use a "
            "transient solution (sn.fsp(net, t=[...]))")
    return np.flatnonzero(labels == closed[0])


def _reduced(generator: sps.csr_matrix, ref: int):
    """``(-A)`` without row and column ``ref`` (CSC) and the column ``A[:, ref]``
    without ``ref``."""
    n = generator.shape[0]
    coo = generator.tocoo()
    on_col = coo.col == ref
    col = np.zeros(n)
    np.add.at(col, coo.row[on_col], coo.data[on_col])
    col = np.delete(col, ref)
    keep = ~on_col & (coo.row != ref)
    rows, cols = coo.row[keep], coo.col[keep]
    # shift indices above ref down by one (one pass, no fancy indexing of the matrix)
    rows = rows - (rows > ref)
    cols = cols - (cols > ref)
    sub = sps.csc_matrix((-coo.data[keep], (rows, cols)), shape=(n - 1, n - 1))
    return sub, col


def factorize(matrix: sps.csc_matrix):
    """SuperLU factorisation tuned for (shifted) generators.

    ``-A`` with a row and column removed, and ``i w I - A``, are column diagonally
    dominant, so Gaussian elimination needs no row interchanges and keeps the dominance
    under symmetric permutations: we let SuperLU keep the diagonal pivots
    (``diag_pivot_thresh=0``, ``SymmetricMode``) and order by minimum degree on
    ``A^T + A`` (the state graph is structurally almost symmetric). On a 100 x 10^4
    grid this halves the fill of the default COLAMD ordering.
    """
    return spla.splu(matrix, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                     options={"SymmetricMode": True})


def _iterative(matrix, rhs, info, drop_tol=1e-3, fill_factor=5.0, maxiter=40):
    """GMRES(100) preconditioned by an incomplete LU with the same ordering and diagonal
    pivoting as :func:`factorize`. Returns ``None`` if it does not converge."""
    check("fsp: the linear solve")  # an analysis' wall-time limit (sbmlnoise._deadline)
    try:
        ilu = spla.spilu(matrix, drop_tol=drop_tol, fill_factor=fill_factor,
                         permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                         options={"SymmetricMode": True})
    except (RuntimeError, MemoryError):
        return None
    pre = spla.LinearOperator(matrix.shape, ilu.solve, dtype=matrix.dtype)
    scale = float(np.abs(rhs).sum()) or 1.0
    x, code = spla.gmres(matrix, rhs, M=pre, rtol=1e-12, atol=1e-14 * scale, restart=100,
                         maxiter=maxiter, callback=gmres_callback("fsp: GMRES"),
                         callback_type="pr_norm")
    if code != 0 or not np.all(np.isfinite(x)):
        return None
    info["solver"] = "gmres+ilu"
    return x


def _pinned(generator: sps.csr_matrix, ref: int):
    """``-A`` (CSC) with row and column ``ref`` replaced by the unit vector, and the right
    side ``A[:, ref]`` with 1 at ``ref``: the system of :func:`_reduced` at full size, so
    its solution has ``x[ref] = 1``. Only the values are new: the index arrays are shared
    with ``generator`` when it is CSC (no fancy indexing of the matrix; the zeroed
    entries stay as explicit zeros in the pattern)."""
    src = generator if sps.isspmatrix_csc(generator) else generator.tocsc()
    src.sum_duplicates()  # a no-op on a canonical matrix (the projection's)
    csc = sps.csc_matrix((np.negative(src.data), src.indices, src.indptr),
                         shape=src.shape, copy=False)
    csc.has_sorted_indices = True
    csc.has_canonical_format = True
    n = csc.shape[0]
    start, stop = csc.indptr[ref], csc.indptr[ref + 1]
    rows = csc.indices[start:stop]
    rhs = np.zeros(n)
    np.add.at(rhs, rows, -csc.data[start:stop])
    csc.data[csc.indices == ref] = 0.0
    csc.data[start:stop] = 0.0
    diag = start + np.flatnonzero(rows == ref)
    if diag.size == 0:
        raise SimulationError("fsp: the generator has no diagonal entry at the reference state")
    csc.data[diag[0]] = 1.0
    rhs[ref] = 1.0
    return csc, rhs


def _direct_pinned_in_place(generator: sps.csc_matrix, ref: int, info: dict):
    """The direct solve of :func:`_pinned`'s system without copying the matrix.

    The generator's values are overwritten in place with those of ``-M`` (``M`` the
    pinned matrix: ``A`` with row and column ``ref`` replaced by ``-e_ref``), factorised
    (SuperLU reads the values and keeps its own factors) and restored at once; then
    ``(-M) x = -rhs``. Negation commutes exactly with every floating-point step of the
    elimination (diagonal pivots, :func:`factorize`), so ``x`` is the solution of the
    copied system bit for bit (up to the sign of exact zeros). Returns ``None`` when
    the factorisation fails (the caller falls back to :func:`_solve`)."""
    n = generator.shape[0]
    data, indices, indptr = generator.data, generator.indices, generator.indptr
    start, stop = int(indptr[ref]), int(indptr[ref + 1])
    rows = indices[start:stop]
    if not np.any(rows == ref):
        return None
    rhs = np.zeros(n)
    np.add.at(rhs, rows, -data[start:stop])
    rhs[ref] = -1.0
    room = int(_kernels.pin_count(indices, indptr, ref))
    saved_pos = np.empty(room, dtype=np.int64)
    saved_val = np.empty(room)
    m = _kernels.pin(data, indices, indptr, ref, saved_pos, saved_val)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", sps.linalg.MatrixRankWarning)
            lu = factorize(generator)
    except (RuntimeError, MemoryError, sps.linalg.MatrixRankWarning):
        return None
    finally:
        _kernels.unpin(data, saved_pos, saved_val, m)
    x = lu.solve(rhs)
    if not np.all(np.isfinite(x)):
        return None
    info["solver"] = "splu"
    return x


def _solve(matrix: sps.csc_matrix, rhs: np.ndarray, info: dict,
           prefer_iterative: bool = False) -> np.ndarray:
    """Solve ``matrix x = rhs``: sparse direct (:func:`factorize`), or first GMRES with an
    incomplete-LU preconditioner when ``prefer_iterative`` (state spaces of three or more
    dimensions, where the fill of a direct factorisation grows like ``n^(4/3)``);
    each falls back to the other."""
    n = matrix.shape[0]
    if prefer_iterative:
        x = _iterative(matrix, rhs, info)
        if x is not None:
            return x
    if n <= DIRECT_LIMIT:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", sps.linalg.MatrixRankWarning)
                x = factorize(matrix).solve(rhs)
            if np.all(np.isfinite(x)):
                info["solver"] = "splu"
                return x
        except (RuntimeError, MemoryError, sps.linalg.MatrixRankWarning):
            pass
    x = _iterative(matrix, rhs, info, drop_tol=1e-5, fill_factor=20.0, maxiter=200)
    if x is None:
        raise SimulationError(f"fsp: neither the direct nor the iterative solver succeeded on "
                              f"{n} states; reduce the state space (bounds=, max_states=)")
    return x


def stationary(generator: sps.csr_matrix, ref: int, info: dict,
               prefer_iterative: bool = False) -> np.ndarray:
    """Stationary vector of an irreducible proper generator: fix ``p[ref] = 1``, solve
    the remaining equations ``A p = 0`` (nonsingular for an irreducible chain: the
    reduced matrix is a nonsingular M-matrix), normalise. The equation of ``ref`` is
    implied because the columns of ``A`` sum to zero."""
    n = generator.shape[0]
    if n == 1:
        return np.ones(1)
    p = None
    if (not prefer_iterative and n <= DIRECT_LIMIT and sps.isspmatrix_csc(generator)
            and generator.has_canonical_format):
        p = _direct_pinned_in_place(generator, ref, info)
    if p is None:
        mat, rhs = _pinned(generator, ref)
        p = _solve(mat, rhs, info, prefer_iterative)
    p[ref] = 1.0
    np.clip(p, 0.0, None, out=p)
    total = p.sum()
    if not np.isfinite(total) or total <= 0:
        raise SimulationError("fsp: stationary solve produced no probability mass")
    p /= total
    return p


def solve_centered(generator: sps.csr_matrix, u: np.ndarray, omega: float, ref: int,
                   info: dict) -> np.ndarray:
    """``z = (i w I - A)^{-1} u`` for ``u`` with ``sum(u) = 0``.

    At ``w = 0`` ``-A`` is singular; a solution exists because ``u`` is orthogonal to the
    left null vector ``1``, and it is unique up to multiples of the stationary vector. We
    fix ``z[ref] = 0`` (callers contract ``z`` with a centred vector, which annihilates
    the stationary vector, so the choice does not matter).
    """
    n = generator.shape[0]
    if omega == 0.0:
        mat, _ = _reduced(generator, ref)
        keep = np.arange(n) != ref
        z = np.zeros(n)
        z[keep] = _solve(mat, u[keep], info)
        return z
    mat = (1j * omega * sps.identity(n, format="csc") - generator.tocsc()).tocsc()
    return factorize(mat).solve(u.astype(complex))


def propagate(generator: sps.csr_matrix, p0: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``exp(A t_k) p0`` for sorted ``times`` (Al-Mohy & Higham's ``expm_multiply``,
    stepping from one output time to the next). Shape (n_times, n)."""
    out = np.empty((times.size, p0.size))
    p = p0.astype(float)
    last = 0.0
    for k, t in enumerate(times):
        dt = float(t) - last
        if dt > 0:
            p = spla.expm_multiply(generator * dt, p)
            p = np.clip(p, 0.0, None)
        out[k] = p
        last = float(t)
    return out


class ShiftInvertKrylov:
    """``exp(A t) u`` for any ``t`` at a cost independent of ``t * ||A||``.

    Shift-and-invert Krylov (Moret & Novati 2004, doi:10.1007/s10543-004-2814-5; van den
    Eshof & Hochbruck 2006, doi:10.1137/040605461): one sparse LU of ``I - gamma A``
    (shareable between vectors through ``lu``), an Arnoldi basis ``V_m`` of
    ``M = (I - gamma A)^{-1}`` started at ``u``, and ``exp(A t) u ~ beta V_m exp(t A_m)
    e_1`` with ``A_m = (I - H_m^{-1}) / gamma``. The slow modes, which dominate at long
    lags, are the best resolved. The basis grows in steps of 20 until two successive sizes
    agree to ``rtol`` (relative to ``|u|``) at every ``probe`` time; ``info`` holds ``m``,
    ``converged`` and ``difference`` (the last change, an error estimate). Building costs
    one LU plus ``m`` triangular solves; each evaluation afterwards an ``m x m`` ``expm``.
    """

    def __init__(self, generator: sps.csr_matrix, u: np.ndarray, gamma: float,
                 probe, *, m_max: int = 160, rtol: float = 1e-9, lu=None):
        import scipy.linalg as sla

        n = u.size
        self.beta = float(np.linalg.norm(u))
        self.info = {"m": 0, "converged": True, "difference": 0.0, "gamma": float(gamma)}
        self.V = u[:, None] / (self.beta or 1.0)
        self.Am = np.zeros((1, 1))
        if self.beta == 0.0 or n == 1:
            return
        self.lu = lu if lu is not None else factorize(
            (sps.identity(n, format="csc") - gamma * generator.tocsc()).tocsc())
        probe = np.asarray(probe, dtype=float)
        m_max = int(min(m_max, n))
        V = np.zeros((n, m_max + 1))
        H = np.zeros((m_max + 1, m_max))
        V[:, 0] = u / self.beta
        previous = None
        for j in range(m_max):
            w = self.lu.solve(V[:, j])
            for _ in range(2):  # classical Gram-Schmidt, twice
                h = V[:, : j + 1].T @ w
                w = w - V[:, : j + 1] @ h
                H[: j + 1, j] += h
            H[j + 1, j] = np.linalg.norm(w)
            breakdown = bool(H[j + 1, j] <= 1e-14 * max(1.0, abs(H[j, j])))
            if not breakdown:
                V[:, j + 1] = w / H[j + 1, j]
            m = j + 1
            if m % 20 and not breakdown and m != m_max:
                continue
            try:
                Am = (np.eye(m) - sla.inv(H[:m, :m])) / gamma
            except (np.linalg.LinAlgError, ValueError):
                break
            self.V, self.Am, self.info["m"] = V[:, :m], Am, m
            values = self._coefficients(probe)
            if breakdown:  # invariant subspace: exact
                return
            if previous is not None:
                # the bases are nested and orthonormal: pad and compare coefficients
                padded = np.zeros_like(values)
                padded[:, : previous.shape[1]] = previous
                diff = float(np.max(np.linalg.norm(values - padded, axis=1)))
                self.info["difference"] = diff
                if diff <= rtol:
                    return
            previous = values
        self.info["converged"] = False

    def _coefficients(self, times) -> np.ndarray:
        """``exp(t A_m) e_1`` for each time: by the eigendecomposition of ``A_m`` when it
        is well conditioned (the usual case), else one dense ``expm`` per time."""
        import scipy.linalg as sla

        times = np.atleast_1d(np.asarray(times, dtype=float))
        lam, Q = np.linalg.eig(self.Am)
        if np.linalg.cond(Q) < 1e6:
            c = np.linalg.solve(Q, np.eye(self.Am.shape[0])[:, 0])
            return np.real((np.exp(np.outer(times, lam)) * c[None, :]) @ Q.T)
        return np.array([sla.expm(float(t) * self.Am)[:, 0] for t in times])

    def contract(self, x: np.ndarray, times) -> np.ndarray:
        """``x . exp(A t) u`` for each ``t`` (shape of ``times``)."""
        w = self.V.T @ x
        return self.beta * (self._coefficients(times) @ w)
