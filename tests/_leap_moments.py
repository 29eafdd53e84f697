"""Exact first and second moments of tau-leaping itself, at a fixed step, on networks with
linear (first-order) propensities.

For ``a(x) = c + K x`` one leap of either scheme maps the mean and covariance of the
state linearly (as long as no Poisson mean is cut at 0, no leap is rejected and no channel
is critical -- true at the large counts where these are used), so the moments of the
*simulated* process follow a closed recursion (no sampling). With ``J = N K``,
``b = N c`` and ``D(z) = N diag(c + K z) N^T``:

* explicit leap (Cao, Gillespie & Petzold 2006): ``x' = x + N P(a(x) tau)``, so
  ``m' = (I + tau J) m + tau b`` and ``C' = (I + tau J) C (I + tau J)^T + tau D(m)``;
* theta-trapezoidal leap, theta = 1/2 (Anderson & Mattingly 2011,
  doi:10.4310/CMS.2011.v9.n1.a15): ``y = x + N P(a(x) h)``, ``x' = y + N P((2 a(y) -
  a(x)) h)`` with ``h = tau / 2``. Conditioning on ``y``: ``E[x' | x] = A x + (2h + 2h^2
  J) b`` with ``A = I + 2hJ + 2h^2 J^2`` and ``Cov(x' | x) = h D(2 E[y | x] - x) + B h
  D(x) B^T`` with ``B = I + 2hJ``; averaging over ``x``: ``m' = A m + (2h + 2h^2 J) b``,
  ``C' = A C A^T + h D(2 (m + h (J m + b)) - m) + B h D(m) B^T``.

For birth-death (rate ``k``, death ``g x``, ``u = g tau``, ``h = u / 2``) the stationary
variances relative to the exact ``mu = k / g`` are ``1 / (1 - u / 2)`` (explicit) and
``1 / (1 - h^3 / (1 - 2h + 2h^2))`` (trapezoidal: ``1 + u^3 / 8 + u^4 / 8 + O(u^5)``),
both with the exact stationary mean; see docs/performance/approx.md.

Used by ``tests/test_ssa_leap_moments.py`` to check that the kernels implement these
schemes exactly (sampled moments against the recursion), independently of the exact
process's moments (``_linear_moments``).
"""

from __future__ import annotations

import numpy as np

from _linear_moments import linear_parts


def leap_moments(net, times, tau: float, scheme: str = "trapezoidal"):
    """(means (T, S), variances (T, S)) of the ``scheme`` leap at step ``tau`` from
    ``net.initial_state``; a leap is cut at each output time (as the kernels do)."""
    c, K = linear_parts(net)
    N = np.asarray(net.stoichiometry, float)
    S = N.shape[0]
    J = N @ K
    b = N @ c
    eye = np.eye(S)

    def D(z):
        return N @ np.diag(c + K @ z) @ N.T

    m = np.asarray(net.initial_state, float)
    C = np.zeros((S, S))
    t = 0.0
    means, variances = [], []
    for T in np.asarray(times, float):
        while t < T * (1.0 - 1e-12) - 1e-300:
            step = min(tau, T - t)
            if scheme == "explicit":
                A = eye + step * J
                m, C = A @ m + step * b, A @ C @ A.T + step * D(m)
            else:
                h = 0.5 * step
                A = eye + 2 * h * J + 2 * h * h * J @ J
                B = eye + 2 * h * J
                ey = m + h * (J @ m + b)
                Q = h * D(2.0 * ey - m) + B @ (h * D(m)) @ B.T
                m, C = A @ m + (2 * h * eye + 2 * h * h * J) @ b, A @ C @ A.T + Q
            t += step
        means.append(m.copy())
        variances.append(np.diag(C).copy())
    return np.array(means), np.array(variances)


def birth_death_stationary_variance(u: float, scheme: str) -> float:
    """Stationary variance / mean of birth-death under the leap at ``u = g tau``."""
    if scheme == "explicit":
        return 1.0 / (1.0 - u / 2.0)
    h = u / 2.0
    return 1.0 / (1.0 - h ** 3 / (1.0 - 2.0 * h + 2.0 * h * h))
