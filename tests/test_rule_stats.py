"""Assignment-rule variables in the noise statistics (issue 12 item 3): exact from the FSP,
delta method from the LNA, checked against closed forms computed independently here."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import sbmlnoise as sn

MODEL = """model r
=> A; k; A => ; g*A
=> B; k; B => ; g*B
T := A + B
frac := A / (A + B + 1)
k = 5; g = 1; A = 0; B = 0
end"""


def test_fsp_is_exact_and_lna_delta_method_on_a_linear_total():
    rep = sn.analyze(MODEL, method="all", seed=1, trajectories=0, thermo=None)
    tab = rep.assignment_statistics.set_index(["variable", "method"])
    # A, B independent Poisson(5): T = A + B is Poisson(10)
    for method in ("fsp", "lna"):
        assert tab.loc[("T", method), "mean"] == pytest.approx(10.0, rel=1e-6)
        assert tab.loc[("T", method), "variance"] == pytest.approx(10.0, rel=1e-6)
    # a nonlinear observable: exact expectation by direct summation over the Poisson law
    n = np.arange(0, 80)
    pa = stats.poisson.pmf(n, 5.0)
    a, b = np.meshgrid(n, n, indexing="ij")
    w = np.outer(pa, pa)
    f = a / (a + b + 1.0)
    mean = float((w * f).sum())
    var = float((w * f * f).sum()) - mean ** 2
    assert tab.loc[("frac", "fsp"), "mean"] == pytest.approx(mean, rel=1e-6)
    assert tab.loc[("frac", "fsp"), "variance"] == pytest.approx(var, rel=1e-5)
    assert tab.loc[("frac", "fsp"), "approximation"] == "exact (FSP)"
    assert "delta method" in tab.loc[("frac", "lna"), "approximation"]


def test_no_rules_no_table():
    rep = sn.analyze("model bd; => X; 5; X => ; X; X = 0; end", method="lna",
                     trajectories=0, thermo=None)
    assert rep.assignment_statistics is None
