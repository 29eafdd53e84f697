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
