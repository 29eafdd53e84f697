"""Backends agree on random small mass-action networks (issue 16, "Done when").

Hypothesis draws networks of two species ``A``, ``B`` from a menu of mass-action
reactions, always with first-order degradation of both (so a stationary law exists and
stays small). For *linear* networks (all reactions of order <= 1) the LNA's mean and
covariance are exact (Van Kampen; the second-moment equations close), so FSP and LNA must
agree to the FSP's tolerance. For every network the SSA's stationary mean and variance
must cover the FSP's (an independent, exact method) within 4.5 of their reported standard
errors (5 numbers per example; a 4.5-sigma band keeps false alarms below 1e-4 per example).
The calibration test (``-m slow``) checks over 40 seeds that those standard errors have
the stated size: RMS z-score between 0.7 and 1.4, |z| > 3 at most 3 times in 160.
"""

from __future__ import annotations

import numpy as np
import pytest

import sbmlnoise as sn

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

LINEAR = ["=> A; {k}", "=> B; {k}", "A => B; {k}*A", "B => A; {k}*B", "A => A + B; {k}*A"]
NONLINEAR = ["A + B => ; {k}*A*B/10", "2 A => B; {k}*A*(A-1)/20", "A + B => A; {k}*A*B/10"]


@st.composite
def networks(draw, linear_only=False):
    menu = LINEAR if linear_only else LINEAR + NONLINEAR
    chosen = draw(st.lists(st.sampled_from(menu), min_size=1, max_size=4, unique=True))
    rate = st.sampled_from([0.5, 1.0, 2.0, 3.0])
    lines = [r.format(k=draw(rate)) for r in chosen]
    lines += [f"A => ; {draw(st.sampled_from([1.0, 2.0]))}*A",
              f"B => ; {draw(st.sampled_from([1.0, 2.0]))}*B",
              f"=> A; {draw(st.sampled_from([1.0, 4.0, 8.0]))}"]
    text = "\n".join(f"r{i}: {line}" for i, line in enumerate(lines)) + "\nA = 0; B = 0"
    return text, all(r in LINEAR for r in chosen)


def _usable(net) -> bool:
    """A stationary law with small counts: the linear part of the drift is stable
    (slowest rate above 0.1) and the rate-equation means are below 25."""
    x = np.array([3.0, 3.0])
    drift = lambda y: net.stoichiometry @ net.rates(y)  # noqa: E731
    jac = np.column_stack([(drift(x + e) - drift(x - e)) / 2.0 for e in np.eye(2)])
    if np.max(np.linalg.eigvals(jac).real) > -0.1:
        return False
    try:
        mean = sn.lna(net).mean.to_numpy()
    except sn.SbmlnoiseError:
        return False
    return bool(np.all(mean < 25.0))


def _fsp(net):
    return sn.fsp(net, tol=1e-10).stats


@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(networks(linear_only=True))
def test_fsp_equals_lna_on_linear_networks(case):
    text, linear = case
    assert linear
    net = sn.load(text)
    hypothesis.assume(_usable(net))
    exact, lna = _fsp(net), sn.lna(net)
    scale = max(1.0, float(np.abs(exact.covariance.to_numpy()).max()))
    assert np.allclose(exact.mean.to_numpy(), lna.mean.to_numpy(), rtol=1e-6, atol=1e-8)
    assert np.allclose(exact.covariance.to_numpy(), lna.covariance.to_numpy(),
                       rtol=1e-6, atol=1e-7 * scale)


@settings(max_examples=4, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(networks(), st.integers(0, 2**31 - 1))
def test_ssa_covers_fsp_within_its_error(case, seed):
    text, _ = case
    net = sn.load(text)
    hypothesis.assume(_usable(net))
    exact = _fsp(net)
    est = sn.ssa_stationary(net, t_end=1500, burn_in=30, seed=seed)
    for key in ("mean", "variance"):
        diff = (getattr(est, key) - getattr(exact, key)).to_numpy()
        se = est.stderr[key].to_numpy()
        # a species never made has mean and variance exactly 0 and no error
        assert np.all(np.abs(diff) <= 4.5 * se + 1e-9), (text, key, diff, se)


@pytest.mark.slow
def test_ssa_error_bars_are_calibrated():
    """40 seeds on a linear two-species network against its exact FSP moments."""
    net = sn.load("=> A; 4; A => ; A; A => B; 2*A; B => ; 2*B; B => A; 0.5*B; A = 0; B = 0")
    exact = _fsp(net)
    zs = []
    for seed in range(40):
        est = sn.ssa_stationary(net, t_end=3000, burn_in=30, seed=1000 + seed)
        for key in ("mean", "variance"):
            zs.extend(((getattr(est, key) - getattr(exact, key)) / est.stderr[key]).tolist())
    zs = np.array(zs)
    rms = float(np.sqrt(np.mean(zs**2)))
    assert 0.7 < rms < 1.4, rms
    assert int((np.abs(zs) > 3).sum()) <= 3, zs
