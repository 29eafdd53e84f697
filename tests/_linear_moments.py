"""Exact first and second moments of networks with linear (first-order) propensities.

For ``a(n) = c + K n`` the moment equations close (no approximation): ``dm/dt = N (c + K
m)``, ``dC/dt = A C + C A^T + N diag(c + K m) N^T`` with ``A = N K`` (e.g. van Kampen,
Stochastic Processes in Physics and Chemistry, ch. 8 on linear one-step processes;
Gadgil, Lee & Othmer, Bull. Math. Biol. 67 (2005) 901, doi:10.1016/j.bulm.2004.09.009).
Used by the approximate-SSA tests as an exact reference independent of sbmlnoise's
backends: ``c`` and ``K`` are read off ``net.propensities`` at 0 and unit vectors, and
linearity is checked at a random point.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp


def linear_parts(net):
    S = net.n_species
    c = np.asarray(net.propensities(np.zeros(S)), float)
    K = np.column_stack([np.asarray(net.propensities(np.eye(S)[i]), float) - c
                         for i in range(S)])
    x = np.arange(1.0, S + 1.0) * 3.7
    assert np.allclose(net.propensities(x), c + K @ x, rtol=1e-12, atol=1e-9), "not linear"
    return c, K


def linear_moments(net, times):
    """(means (T, S), variances (T, S)) of molecule counts from ``net.initial_state``."""
    c, K = linear_parts(net)
    N = np.asarray(net.stoichiometry, float)
    S = N.shape[0]
    A = N @ K

    def rhs(t, y):
        m = y[:S]
        C = y[S:].reshape(S, S)
        a = c + K @ m
        dC = A @ C + C @ A.T + N @ np.diag(a) @ N.T
        return np.concatenate([N @ a, dC.ravel()])

    y0 = np.concatenate([np.asarray(net.initial_state, float), np.zeros(S * S)])
    times = np.asarray(times, float)
    sol = solve_ivp(rhs, (0.0, times[-1]), y0, t_eval=times, rtol=1e-10, atol=1e-10,
                    method="LSODA")
    means = sol.y[:S].T
    var = np.array([np.diag(sol.y[S:, k].reshape(S, S)) for k in range(times.size)])
    return means, var
