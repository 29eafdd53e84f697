"""Tests of the law-shape rule (sbmlnoise/kinetics.py, issue 16 item 3).

Each expected kind follows from the algebra of the law written in the test (e.g.
``k*A*(A-1)/2`` is ``k/2`` times the falling factorial ``A(A-1)``), not from our output.
"""

from __future__ import annotations

import math

import pytest

from sbmlnoise import expr as ex
from sbmlnoise.kinetics import KINDS, classify_law

A, B, E, k, kb = (ex.Sym(s) for s in ("A", "B", "E", "k", "kb"))
P = {"k": 2.0, "kb": 3.0}
STATE = {"A", "B", "E"}


def _c(law, reactants, products=None):
    return classify_law(law, reactants, parameters=P, state=STATE, products=products)


@pytest.mark.parametrize("law, nu, kind, kappa, stochastic", [
    (k, {}, "mass_action", 2.0, True),                                        # => A
    (ex.mul(k, A), {"A": 1}, "mass_action", 2.0, True),                       # A =>
    (ex.mul(k, A, B), {"A": 1, "B": 1}, "mass_action", 2.0, True),            # A + B =>
    (ex.mul(k, A, A), {"A": 2}, "mass_action", 2.0, False),                   # 2A, k A^2
    (ex.mul(k, ex.power(A, ex.Num(2))), {"A": 2}, "mass_action", 2.0, False),
    (ex.mul(k, A, ex.sub(A, ex.ONE)), {"A": 2}, "falling_factorial", 2.0, True),
    (ex.div(ex.mul(k, A, ex.sub(A, ex.ONE)), ex.Num(2)), {"A": 2}, "falling_factorial",
     1.0, True),
    (ex.mul(k, A, ex.sub(A, ex.ONE), ex.sub(A, ex.Num(2))), {"A": 3}, "falling_factorial",
     2.0, True),
    (ex.mul(k, E, A), {"A": 1}, "catalysed", 2.0, True),                      # E catalyst
    (ex.mul(k, E, E, A), {"A": 1}, "catalysed", 2.0, True),
])
def test_mass_action_family(law, nu, kind, kappa, stochastic):
    shape = _c(law, nu)
    assert shape.kind == kind and shape.kind in KINDS
    assert shape.rate_constant == pytest.approx(kappa, rel=1e-12)
    assert shape.stochastic is stochastic
    if not stochastic:
        assert "A*(A-1)" in shape.reason


def test_catalyst_orders_and_sign_split():
    shape = _c(ex.mul(k, E, E, A), {"A": 1})
    assert shape.catalysts == {"E": 2} and shape.orders == {"A": 1, "E": 2}
    split = _c(ex.sub(ex.mul(k, A), ex.mul(kb, B)), {"A": 1}, products={"B": 1})
    assert split.kind == "sign_split" and math.isnan(split.rate_constant)
    assert split.forward.rate_constant == 2.0 and split.reverse.rate_constant == 3.0
    assert split.stochastic


@pytest.mark.parametrize("law, nu", [
    (ex.div(ex.mul(k, A), ex.add(ex.ONE, A)), {"A": 1}),       # Michaelis-Menten
    (ex.mul(k, B), {"A": 1}),                                  # reactant A never read
    (ex.mul(k, ex.power(A, ex.Num(0.5))), {"A": 1}),
    (ex.mul(k, A, ex.Sym(ex.TIME)), {"A": 1}),
    (ex.mul(k, ex.Sym("undefined"), A), {"A": 1}),
])
def test_other(law, nu):
    shape = _c(law, nu)
    assert shape.kind == "other" and not shape.stochastic and shape.reason


# ------------------------- issue 16 item 3 / issue 11: one rule for the CME, SSA, FSP, thermo
def test_dimerisation_law_shape_decides_ssa_fsp_and_product_form_alike():
    """``2A <-> B`` written ``kf*A*(A-1) - kb*B``: the forward channel is stochastic mass
    action (falling factorial, kappa = kf), so the SSA's fast path, the FSP's
    propensities and the product form all take it; their propensities equal the law as
    written (``net.propensities``, the expression) at random states to 1e-14. Written
    ``kf*A*A - kb*B`` the forward law does not vanish at A = 1: thermodynamics refuses
    the product form on the law's shape, the FSP because A = 1 is reachable from A0 = 3,
    the SSA when a run reaches A = 1 (20 runs to t = 2000, seed 3: the forward channel
    fires at A = 1 ten times faster than the reverse one refills A)."""
    import numpy as np

    import sbmlnoise as sn
    from sbmlnoise.fsp._space import prepare
    from sbmlnoise.ssa._kernels import _propensities_at
    from sbmlnoise.ssa._model import build_model

    net = sn.load("r: 2A -> B; kf*A*(A-1) - kb*B; kf = 0.01; kb = 1; A = 20; B = 0")
    assert [r.direction for r in net.reactions] == ["forward", "reverse"]
    env = dict(zip(net.parameter_ids, net.parameter_values))
    shape = classify_law(net.propensity_expressions[0], {"A": 2}, parameters=env,
                         state={"A", "B"})
    assert shape.kind == "falling_factorial" and shape.stochastic
    assert shape.rate_constant == pytest.approx(0.01, rel=1e-12)
    model = build_model(net)
    assert model.ma_flag[0] == 2 and model.ma_coef[0] == pytest.approx(0.01, rel=1e-12)
    fsp_model = prepare(net)
    assert fsp_model.propensities.falling[0] is not None
    assert sn.thermodynamics(net).settings["product_form_exact"] is True
    rng = np.random.default_rng(11)
    states = rng.integers(0, 30, size=(25, 2)).astype(float)
    fsp_a = fsp_model.propensities.raw(states)
    for x, a_fsp in zip(states, fsp_a):
        a_ssa = _propensities_at(model, x, net.parameter_values.copy(), 0.0, np.zeros(2))
        np.testing.assert_allclose(a_ssa, net.propensities(x), rtol=1e-14, atol=0)
        np.testing.assert_allclose(a_fsp, net.propensities(x)[fsp_model.channels],
                                   rtol=1e-14, atol=0)

    refused = sn.load("r: 2A -> B; kf*A*A - kb*B; kf = 0.01; kb = 0.001; A = 3; B = 0")
    env = dict(zip(refused.parameter_ids, refused.parameter_values))
    shape = classify_law(refused.propensity_expressions[0], {"A": 2}, parameters=env,
                         state={"A", "B"})
    assert shape.kind == "mass_action" and not shape.stochastic
    with pytest.raises(ValueError, match="CME"):
        sn.thermodynamics(refused).product_form_means
    with pytest.raises(sn.SimulationError, match="negative"):
        sn.fsp(refused)
    with pytest.raises(sn.SimulationError, match="negative"):
        sn.ssa(refused, times=[0.0, 2000.0], runs=20, seed=3)


def test_piecewise_law_is_not_taken_for_mass_action():
    """The ratio test samples a few small states; a law that switches off at 1,000
    molecules must not be classified (and so must not take the SSA's fast path)."""
    law = ex.Apply("piecewise", (ex.mul(k, A, ex.sub(A, ex.ONE)),
                                 ex.Apply("lt", (A, ex.Num(1000.0))), ex.ZERO))
    shape = _c(law, {"A": 2})
    assert shape.kind == "other" and "piecewise" in shape.reason


def test_top_level_sign_split_keeps_the_falling_factorial_whole():
    """``k*A*(A-1)/2 - kb*B`` as one law: a sign split into a falling factorial forward
    and a first-order reverse part (the importer's rule; a full distribution would give
    k*A^2/2 and k*A/2 + kb*B, which are not of the family)."""
    law = ex.sub(ex.div(ex.mul(k, A, ex.sub(A, ex.ONE)), ex.Num(2.0)), ex.mul(kb, B))
    shape = _c(law, {"A": 2}, products={"B": 1})
    assert shape.kind == "sign_split" and shape.stochastic
    assert shape.forward.kind == "falling_factorial"
    assert shape.forward.rate_constant == pytest.approx(1.0, rel=1e-12)
    assert shape.reverse.rate_constant == pytest.approx(3.0, rel=1e-12)
