"""Tau-leaping with the theta-trapezoidal scheme (``scheme="trapezoidal"``, weak second
order; Anderson & Mattingly 2011, Hu, Li & Min 2011) at large steps.

References are exact: the Poisson law of birth-death, the closed moment equations of
linear networks (``_linear_moments``) and the exact stationary law of the dimerisation
chain. The claim tested is the one docs/performance/approx.md relies on: at
``epsilon = 0.2`` the trapezoidal leap is as accurate as the explicit leap at the default
``epsilon = 0.03`` -- every check allows ``Z`` standard errors plus the *explicit*
scheme's bias allowance at 0.03 (``BIAS_MEAN * 0.03`` relative on means, ``BIAS_VAR *
0.03`` on variances), while the explicit leap at 0.2 misses the birth-death variance by
far more. Seeds and run counts are fixed in each test.
"""

from __future__ import annotations

import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise.ssa.approx import resolve_options

from _linear_moments import linear_moments
from test_ssa_approx import DIMER, MULTI, TS_HIGH, TS_LOW, _dimer_law

EPS_REF = 0.03
BIAS_MEAN = 1.0
BIAS_VAR = 2.0
Z = 4.5
EPS_BIG = 0.2
BD_STAT = "model bd; => X; k; X => ; g*X; X = 1000; k = 1000; g = 1; end"


def _check(ens, mean, var, label=""):
    """|mean - exact| <= Z se + BIAS_MEAN EPS_REF |exact|, variances likewise."""
    m, v = ens.mean.to_numpy(), ens.variance.to_numpy()
    se_m = ens.stderr["mean"].to_numpy()
    se_v = np.sqrt(2.0 / (ens.runs - 1)) * var
    tol_m = Z * se_m + BIAS_MEAN * EPS_REF * np.abs(mean) + 1e-9
    tol_v = Z * se_v + BIAS_VAR * EPS_REF * var + 1e-9
    assert np.all(np.abs(m - mean) <= tol_m), (label, m, mean, tol_m)
    assert np.all(np.abs(v - var) <= tol_v), (label, v, var, tol_v)


def test_birth_death_stationary_variance_at_large_steps():
    """Stationary birth-death (X ~ Poisson(1000)), epsilon = 0.2, so gamma tau = 0.4 (the
    relaxation bound): the explicit leap's variance recursion V' = (1 - gamma tau)^2 V +
    2 k tau has the fixed point (k / gamma) / (1 - gamma tau / 2), +25 %, and +20 % after
    the shorter last step (0.2) before each output time; the trapezoidal leap stays
    within 4.5 SE (SE 2.2 %, 4000 runs) of the exact variance 1000, with the same number
    of leaps."""
    net = sn.load(BD_STAT)
    times = [5.0, 10.0]
    kw = dict(times=times, runs=4000, seed=2, method="tau_leap", epsilon=EPS_BIG, workers=1)
    trap = sn.ssa(net, scheme="trapezoidal", **kw)
    expl = sn.ssa(net, **kw)
    exact = np.full((2, 1), 1000.0)
    _check(trap, exact, exact, "trapezoidal")
    se = np.sqrt(2.0 / 3999)
    # the explicit leap is visibly biased at this step (the test has power)
    assert np.all(expl.variance["X"].to_numpy() / 1000.0 - 1.0 > 0.20 - Z * se)
    assert trap.settings["leaps"] == pytest.approx(expl.settings["leaps"], rel=0.05)
    assert trap.settings["approximation"]["scheme"] == "trapezoidal"
    assert expl.settings["approximation"]["scheme"] == "explicit"


@pytest.mark.parametrize("text", [TS_HIGH, TS_LOW, MULTI], ids=["ts-high", "ts-low", "multi"])
def test_linear_networks_at_large_steps(text):
    """Two-stage models (mRNA ~100 and ~5: critical channels) and the multiscale gene
    model at epsilon = 0.2: exact moments of every species at 3 times. 600 runs."""
    net = sn.load(text)
    times = [2.0, 10.0, 40.0]
    mean, var = linear_moments(net, times)
    ens = sn.ssa(net, times=times, runs=600, seed=5, method="tau_leap", epsilon=EPS_BIG,
                 scheme="trapezoidal")
    _check(ens, mean, var, text[:12])
    assert ens.settings["leaps"] > 0


def test_dimerisation_at_large_steps():
    """Nonlinear (second-order) channel: 2P <-> P2 at t = 6 against the exact stationary
    law; the trapezoidal stage-2 propensities are the law at the intermediate state.
    1000 runs; conservation exact."""
    net = sn.load(DIMER)
    mean, var = _dimer_law()
    ens = sn.ssa(net, times=[6.0], runs=1000, seed=3, method="tau_leap", epsilon=EPS_BIG,
                 scheme="trapezoidal")
    _check(ens, mean[None, :], var[None, :], "dimer")
    assert ens.mean["P"].iloc[0] + 2 * ens.mean["P2"].iloc[0] == pytest.approx(1000, abs=1e-9)


def test_time_event_with_trapezoidal_leaps():
    """An event at t=5 resets X to 0: afterwards mean = var = 1000 (1 - exp(-(t-5)))."""
    text = "model bd; => X; k; X => ; g*X; X = 0; k = 1000; g = 1; E: at (time >= 5): X = 0; end"
    net = sn.load(text)
    times = np.array([4.0, 5.0, 6.0, 9.0])
    ens = sn.ssa(net, times=times, runs=400, seed=2, method="tau_leap", epsilon=EPS_BIG,
                 scheme="trapezoidal")
    s = np.where(times >= 5, times - 5, times)
    exact = 1000 * (1 - np.exp(-s))[:, None]
    _check(ens, exact, exact, "event")


def test_workers_bit_identical():
    net = sn.load(MULTI)
    kw = dict(times=[1.0, 3.0], runs=120, seed=9, method="tau_leap", scheme="trapezoidal",
              epsilon=EPS_BIG)
    one = sn.ssa(net, workers=1, **kw)
    two = sn.ssa(net, workers=2, **kw)
    assert np.array_equal(one.mean.to_numpy(), two.mean.to_numpy())
    assert np.array_equal(one.variance.to_numpy(), two.variance.to_numpy())


def test_scheme_option_checked():
    net = sn.load(BD_STAT)
    with pytest.raises(ValueError, match="scheme must be one of"):
        sn.ssa(net, times=[1.0], runs=2, method="tau_leap", scheme="midpoint")
    with pytest.raises(ValueError, match="applies to method='tau_leap' only"):
        resolve_options({"scheme": "trapezoidal"}, method="cle")
    opts, params = resolve_options({"scheme": "trapezoidal"}, method="tau_leap")
    assert opts["scheme"] == "trapezoidal" and params[7] == 1.0


def _autorepression_law(k=2000.0, K=500.0, g=1.0, n_max=4000):
    """Exact stationary law of the birth-death chain with birth k K / (K + n), death g n
    (detailed balance): mean and variance."""
    n = np.arange(n_max + 1, dtype=float)
    logp = np.zeros(n.size)
    logp[1:] = np.cumsum(np.log(k * K / (K + n[:-1])) - np.log(g * n[1:]))
    pi = np.exp(logp - logp.max())
    pi /= pi.sum()
    mean = float(pi @ n)
    return mean, float(pi @ (n - mean) ** 2)


@pytest.mark.parametrize("scheme", ["explicit", "trapezoidal"])
def test_non_mass_action_law_at_large_steps(scheme):
    """Negative autoregulation, birth law k K / (K + X) evaluated by the expression
    interpreter (also at the trapezoidal leap's intermediate state): at t = 8 (relaxation
    rate about 1.6) the moments equal the exact stationary ones; epsilon = 0.2 for the
    trapezoidal leap, the default 0.03 for the explicit one. 1000 runs."""
    net = sn.load("model ar; => X; k*K/(K+X); X => ; g*X; X = 500; k = 2000; K = 500; "
                  "g = 1; end")
    mean, var = _autorepression_law()
    eps = EPS_BIG if scheme == "trapezoidal" else EPS_REF
    ens = sn.ssa(net, times=[8.0], runs=1000, seed=4, method="tau_leap", epsilon=eps,
                 scheme=scheme)
    _check(ens, np.array([[mean]]), np.array([[var]]), scheme)
    assert ens.settings["leaps"] < ens.settings["events"] / 20


def test_relaxation_bound_counts_negative_feedback():
    """The relaxation bound uses the relaxation rate lambda = g + k K / (K + x*)^2 = 1.61
    (minus the drift's derivative at the fixed point x* = 780.8), not only the per-capita
    consumption g = 1: the explicit leap at epsilon = 0.03 takes about t lambda / (2 eps)
    = 215 leaps over t = 8 (136 with g alone), and its stationary variance stays within
    epsilon + 4.5 SE (SE 2.2 %, 4000 runs) of the exact one (+7.0 % with g alone)."""
    k, K, g = 2000.0, 500.0, 1.0
    net = sn.load("model ar; => X; k*K/(K+X); X => ; g*X; X = 500; k = 2000; K = 500; "
                  "g = 1; end")
    x_star = (-K + np.sqrt(K * K + 4.0 * k * K / g)) / 2.0
    lam = g + k * K / (K + x_star) ** 2
    runs = 4000
    ens = sn.ssa(net, times=[8.0], runs=runs, seed=4, method="tau_leap", epsilon=EPS_REF,
                 workers=1)
    assert ens.settings["leaps"] / runs == pytest.approx(8.0 * lam / (2 * EPS_REF), rel=0.08)
    _, var = _autorepression_law(k, K, g)
    se = np.sqrt(2.0 / (runs - 1))
    assert abs(ens.variance["X"].iloc[0] / var - 1.0) <= EPS_REF + Z * se
