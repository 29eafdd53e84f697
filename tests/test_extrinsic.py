"""Extrinsic noise (law of total variance) against the negative-binomial closed form.

Birth-death with birth rate k ~ Gamma(a, scale theta) across cells and death rate g: given
k the stationary law is Poisson(k/g), so the mixture is negative binomial with
mean a theta / g and variance E[k/g] + Var[k/g] = a theta/g + a theta^2/g^2.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import sbmlnoise as sn
from sbmlnoise.studies._extrinsic import distributions_from_sbml, gauss_rule

from conftest import bundled_path

A, THETA, G = 4.0, 2.5, 2.0
MEAN = A * THETA / G
VAR_INT = MEAN  # E[k/g]
VAR_EXT = A * THETA ** 2 / G ** 2  # Var[k/g]

BD = "model bd; => X; k; X => ; g*X; k = 10; g = 2; X = 0; end"


@pytest.fixture(scope="module")
def net():
    return sn.load(BD)


@pytest.mark.parametrize("method", ["lna", "fsp"])
def test_quadrature_matches_negative_binomial_exactly(net, method):
    d = sn.extrinsic_noise(net, {"k": stats.gamma(A, scale=THETA)}, method=method,
                           quadrature=6)
    row = d.loc["X"]
    assert row["mean"] == pytest.approx(MEAN, rel=1e-8)
    assert row["variance_intrinsic"] == pytest.approx(VAR_INT, rel=1e-8)
    assert row["variance_extrinsic"] == pytest.approx(VAR_EXT, rel=1e-8)
    assert row["variance_total"] == pytest.approx(stats.nbinom(A, G / (G + THETA)).var(),
                                                  rel=1e-8)
    assert row["cv2_total"] == pytest.approx(row["cv2_intrinsic"] + row["cv2_extrinsic"])
    assert d.attrs["mode"] == "quadrature" and d.attrs["nodes"] == 6


def test_sampling_within_standard_error(net):
    """400 LNA evaluations at gamma draws, seed 3: each estimate within 3 standard errors."""
    d = sn.extrinsic_noise(net, {"k": stats.gamma(A, scale=THETA)}, samples=400, seed=3)
    row = d.loc["X"]
    for col, truth in (("mean", MEAN), ("variance_intrinsic", VAR_INT),
                       ("variance_extrinsic", VAR_EXT),
                       ("variance_total", VAR_INT + VAR_EXT)):
        se = row[f"{col}_stderr"]
        assert se > 0
        assert abs(row[col] - truth) < 3 * se, (col, row[col], truth, se)


@pytest.mark.slow
def test_ssa_sampling_within_standard_error(net):
    """60 draws, one SSA run each (seed 5, 1000 time units): within 3 standard errors; the
    SSA's own estimation noise is removed from the extrinsic part."""
    d = sn.extrinsic_noise(net, {"k": stats.gamma(A, scale=THETA)}, method="ssa",
                           samples=60, seed=5, t_end=1000, burn_in=10)
    row = d.loc["X"]
    assert abs(row["variance_total"] - (VAR_INT + VAR_EXT)) < 3 * row["variance_total_stderr"]
    assert abs(row["mean"] - MEAN) < 3 * row["mean_stderr"]


def test_two_parameters_tensor_quadrature(net):
    """k ~ Gamma, g ~ Uniform(1, 3), independent: E[k/g] = E[k] E[1/g] with
    E[1/g] = ln(3)/2 and E[1/g^2] = 1/3; 1/g is not a polynomial, so 12 Legendre nodes
    give ~1e-10 accuracy, not machine precision."""
    d = sn.extrinsic_noise(net, {"k": stats.gamma(A, scale=THETA), "g": stats.uniform(1, 2)},
                           quadrature=12)
    ek, ek2 = A * THETA, A * THETA ** 2 + (A * THETA) ** 2
    e_inv, e_inv2 = np.log(3) / 2, 1 / 3
    mean = ek * e_inv
    var_ext = ek2 * e_inv2 - mean ** 2
    row = d.loc["X"]
    assert row["mean"] == pytest.approx(mean, rel=1e-9)
    assert row["variance_intrinsic"] == pytest.approx(mean, rel=1e-9)
    assert row["variance_extrinsic"] == pytest.approx(var_ext, rel=1e-9)


@pytest.mark.parametrize("dist,moments", [
    (stats.norm(3, 0.5), (3.0, 0.25)),
    (stats.gamma(2.5, loc=1, scale=0.4), (2.0, 0.4)),
    (stats.expon(scale=2), (2.0, 4.0)),
    (stats.beta(2, 3, loc=1, scale=2), (1.8, 4 * 0.04)),
    (stats.uniform(2, 4), (4.0, 16 / 12)),
    (stats.lognorm(0.3, scale=2.0), (2 * np.exp(0.045), 4 * (np.exp(0.09) - 1) * np.exp(0.09))),
    (stats.poisson(3.0), (3.0, 3.0)),
])
def test_gauss_rules_integrate_moments(dist, moments):
    x, w = gauss_rule(dist, 8)
    assert w.sum() == pytest.approx(1.0)
    m = w @ x
    assert m == pytest.approx(moments[0], rel=1e-10)
    assert w @ (x - m) ** 2 == pytest.approx(moments[1], rel=1e-8)


def _distrib_sbml(formula: str) -> str:
    import libsbml
    doc = libsbml.readSBMLFromString(sn.antimony_to_sbml(BD))
    assert doc.enablePackage(libsbml.DistribExtension.getXmlnsL3V1V1(), "distrib", True) == 0
    doc.setPackageRequired("distrib", True)
    model = doc.getModel()
    p = model.getParameter("k")
    up = p.getPlugin("distrib").createUncertainty().createUncertParameter()
    up.setType(libsbml.DISTRIB_UNCERTTYPE_DISTRIBUTION)
    settings = libsbml.L3ParserSettings()
    settings.setModel(model)
    up.setMath(libsbml.parseL3FormulaWithSettings(formula, settings))
    return libsbml.writeSBMLToString(doc)


def test_distributions_declared_with_sbml_distrib():
    net = sn.load(_distrib_sbml(f"gamma({A}, {THETA})"))  # distrib gamma(shape, scale)
    dists = distributions_from_sbml(net)
    assert set(dists) == {"k"}
    assert dists["k"].mean() == pytest.approx(A * THETA)
    d = sn.extrinsic_noise(net, quadrature=4)
    assert d.loc["X", "variance_total"] == pytest.approx(VAR_INT + VAR_EXT, rel=1e-10)
    lognormal = distributions_from_sbml(sn.load(_distrib_sbml("lognormal(1, 0.5)")))["k"]
    assert lognormal.median() == pytest.approx(np.e)
    with pytest.raises(ValueError, match="distrib"):
        sn.extrinsic_noise(sn.load(BD))


def test_bad_input(net):
    with pytest.raises(KeyError, match="nope"):
        sn.extrinsic_noise(net, {"nope": stats.norm(1, 0.1)})
    with pytest.raises(TypeError, match="scipy.stats"):
        sn.extrinsic_noise(net, {"k": 3.0})
    with pytest.raises(ValueError, match="either"):
        sn.extrinsic_noise(net, {"k": stats.gamma(2)}, samples=10, quadrature=3)
    with pytest.raises(ValueError, match="quadrature"):
        sn.extrinsic_noise(net, {"k": stats.gamma(2)}, method="ssa", quadrature=3)
    with pytest.raises(sn.SimulationError, match="k="):
        # a normal birth rate reaches negative values at its outer Hermite nodes
        sn.extrinsic_noise(net, {"k": stats.norm(1, 1)}, method="fsp", quadrature=6)
