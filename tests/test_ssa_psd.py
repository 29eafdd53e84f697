"""SSA stationary spectrum and autocovariance against the birth-death closed form
(issue 16 item 1).

Birth-death ``=> X; k``, ``X => ; g X``: the stationary law is Poisson(k/g), the
autocovariance ``C(tau) = (k/g) exp(-g |tau|)`` (a linear process: the regression of
the mean is exact) and the two-sided PSD its Fourier transform
``S(w) = 2 g (k/g) / (g^2 + w^2) = 2 k / (g^2 + w^2)``.
At the sampling step 0.19 of issue 16 the old Riemann-sum estimator read +9% at w = 5
(the spectrum of the sampled series, aliased), 5-7 reported standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import sbmlnoise as sn

K, G = 20.0, 2.0
OMEGAS = np.array([0.0, 1.0, 2.0, 5.0, 8.0])


@pytest.fixture(scope="module")
def bd_run():
    net = sn.load(f"model bd; => X; {K}; X => ; {G}*X; X = 10; end")
    # one run, seed 1, 2e4 time units (4e4 relaxation times), 32 batches
    return sn.ssa_stationary(net, t_end=20000, burn_in=10, seed=1, dt=0.19)


def test_psd_at_coarse_step_covers_exact_value(bd_run):
    exact = 2 * K / (G**2 + OMEGAS**2)
    est = bd_run.psd_function("X", OMEGAS)
    se = bd_run.extra["psd_stderr"]("X", OMEGAS)
    z = (est - exact) / se
    assert np.all(np.abs(z) < 3.5), z  # 3.5 sigma, 5 frequencies
    assert abs(est[3] / exact[3] - 1) < 0.05  # was +9% at w = 5
    assert bd_run.settings["psd_omega_max"] == pytest.approx(0.5 * np.pi / 0.19, rel=1e-3)
    assert np.all(bd_run.extra["psd_bias"]("X", OMEGAS) <= se)


def test_autocovariance_between_grid_lags(bd_run):
    lags = np.array([0.05, 0.1, 0.285, 0.5, 1.0])  # mostly off the 0.19 grid
    exact = (K / G) * np.exp(-G * lags)
    est = bd_run.autocovariance_function("X", lags)
    se = bd_run.extra["autocovariance_stderr"]("X", lags)
    assert np.all(np.abs(est - exact) < 3.5 * se + 1e-3 * exact), (est, exact, se)
    # the spline interpolant itself: exact grid values of the exponential are reproduced
    # between nodes to 1e-3 (linear interpolation: +1.5% at mid-cell)
    from sbmlnoise.ssa.stationary import _lag_window_psd, _spline

    grid = np.arange(40) * 0.19
    mid = grid[:-1] + 0.095
    fit = _spline(grid, np.exp(-G * grid))(mid)
    assert np.max(np.abs(fit / np.exp(-G * mid) - 1)) < 1e-3
    # and the quadrature of the exact autocovariance gives the exact PSD up to the
    # lag-window bias (6/L^2) S''(w) (Priestley 1981, sec. 6.2), here L = 30
    c = (K / G) * np.exp(-G * np.arange(200) * 0.19)
    S = _lag_window_psd(c, 0.19, 30.0, OMEGAS)
    exact_S = 2 * K / (G**2 + OMEGAS**2)
    second = 2 * K * (6 * OMEGAS**2 - 2 * G**2) / (G**2 + OMEGAS**2) ** 3
    assert np.allclose(S, exact_S + 6 / 30.0**2 * second, rtol=2e-3)


@pytest.mark.slow
def test_psd_error_bars_are_calibrated_over_seeds():
    """40 seeds: the reported PSD error (batch means + estimated bias) covers the exact
    value about as a standard error should (RMS z-score 0.7-1.4, |z| > 3 at most twice
    out of 200)."""
    net = sn.load(f"model bd; => X; {K}; X => ; {G}*X; X = 10; end")
    exact = 2 * K / (G**2 + OMEGAS**2)
    zs = []
    for seed in range(40):
        st = sn.ssa_stationary(net, t_end=5000, burn_in=10, seed=100 + seed, dt=0.19)
        zs.append((st.psd_function("X", OMEGAS) - exact) / st.extra["psd_stderr"]("X", OMEGAS))
    zs = np.array(zs)
    rms = np.sqrt((zs**2).mean())
    assert 0.7 < rms < 1.4, rms
    assert (np.abs(zs) > 3).sum() <= 2, zs
