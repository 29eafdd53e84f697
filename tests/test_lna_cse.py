"""Shared-subtree compilation (sbmlnoise.lna._cse) gives the same numbers as the plain
compiled trees, and keeps nested rate laws compilable (BIOMD0000000071: ~1 min and 2 GB to
compile its LNA Hessian written out as trees)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise import expr as ex
from sbmlnoise.lna import _cse

BIOMD71 = Path(__file__).resolve().parents[2] / "shared" / "biomodels" / "BIOMD0000000071.xml"


def _nested(depth: int, derivatives: bool = True):
    """Rate laws that nest each other (like substituted assignment rules): a graph of
    ~4 x depth nodes, a tree of ~2^depth, with a log (domain errors at x <= 0) and a
    division (poles) so that the C99 fallback is exercised."""
    x, y, k = ex.Sym("x"), ex.Sym("y"), ex.Sym("k")
    r = ex.mul(k, x)
    for i in range(depth):
        r = ex.div(ex.add(r, ex.mul(r, y), ex.Num(float(i))), ex.add(ex.ONE, ex.mul(r, r)))
    rates = [r, ex.Apply("ln", (ex.sub(r, y),)), ex.mul(r, ex.div(x, y))]
    if not derivatives:
        return rates
    jac = [ex.diff(v, s) for v in rates for s in ("x", "y")]
    hes = [ex.diff(d, s) for d in jac for s in ("x", "y")]
    return rates + jac + hes


SLOTS = {"x": ("x", 0), "y": ("x", 1), "k": ("p", 0)}


@pytest.fixture(scope="module")
def compiled():
    trees = _nested(2)
    plain = ex.compile_vector(trees, SLOTS, "plain")
    saved = _cse.SHARE_MIN_NODES
    _cse.SHARE_MIN_NODES = 1  # force the shared path on this small set
    try:
        shared = _cse.compile_shared(trees, SLOTS, "shared", n_params=1)
    finally:
        _cse.SHARE_MIN_NODES = saved
    return trees, plain, shared


@pytest.mark.parametrize("state", [(0.7, 1.3), (2.0, 0.5), (0.0, 0.0), (-1.0, 2.0),
                                   (1e200, 1e-200), (math.nan, 1.0)])
def test_shared_compilation_is_bit_identical(compiled, state):
    trees, plain, shared = compiled
    assert shared.n_temporaries > 0  # the shared path ran
    x, p = np.array(state, dtype=float), np.array([1.7])
    with np.errstate(all="ignore"):
        a = plain(x, p, 0.0, np.zeros(len(trees)))
        b = shared(x, p, 0.0, np.zeros(len(trees)))
    # same IEEE operations in the same order: equal values, NaN and infinities included
    np.testing.assert_array_equal(a, b)
    # and against the tree-walking evaluator (an independent code path)
    env = {"x": float(x[0]), "y": float(x[1]), "k": 1.7}
    ref = np.array([ex.evaluate(t, env) for t in trees])
    np.testing.assert_array_equal(ref, b)


def test_small_sets_compile_plainly():
    trees = _nested(2, derivatives=False)
    assert _cse.written_size(trees, 1e9) < _cse.SHARE_MIN_NODES
    f = _cse.compile_shared(trees, SLOTS, "small", n_params=1)
    assert not hasattr(f, "n_temporaries")


def test_deep_nesting_compiles_fast():
    # 2^22 nodes written out: hopeless as one function; a few hundred temporaries shared
    trees = _nested(22, derivatives=False)
    assert _cse.written_size(trees, 1e9) > 1e6
    t0 = time.process_time()
    f = _cse.compile_shared(trees, SLOTS, "deep", n_params=1)
    assert time.process_time() - t0 < 5.0
    out = f(np.array([0.3, 0.2]), np.array([1.1]), 0.0, np.zeros(3))
    # the first rate by direct recursion of its definition
    r = 1.1 * 0.3
    for i in range(22):
        r = (r + r * 0.2 + i) / (1 + r * r)
    assert out[0] == pytest.approx(r, rel=1e-12)
    assert out[1] == pytest.approx(math.log(r - 0.2), rel=1e-12)
    assert out[2] == pytest.approx(r * (0.3 / 0.2), rel=1e-12)


@pytest.mark.skipif(not BIOMD71.exists(), reason="shared BioModels folder not present")
def test_biomd71_lna_problem_builds_quickly():
    """The glycolysis model whose LNA Hessian (1.8e6 nodes as trees) took about a minute
    and 2 GB to compile: now a few seconds, and the compiled Hessian agrees with the
    tree-walking evaluator."""
    from sbmlnoise.lna._model import LNAProblem
    net = sn.load(BIOMD71)
    t0 = time.process_time()
    prob = LNAProblem(net)
    assert time.process_time() - t0 < 20.0
    assert prob._hes_f.n_temporaries > 0
    x = np.asarray(net.initial_amounts, dtype=float)
    cov = np.eye(net.n_species) * 1e-6
    h = prob.hessian_contraction(x, cov)
    assert h.shape == (prob.n_channels,)
    assert np.all(np.isfinite(prob.rates(x)))


def test_diff_shared_builds_the_same_trees():
    rates = _nested(2, derivatives=False)
    memo: dict = {}
    for v in rates:
        for s in ("x", "y", "k"):
            d1, d2 = ex.diff(v, s), _cse.diff_shared(v, s, memo)
            assert d1 == d2  # structurally equal: the same table rules
            for s2 in ("x", "y"):
                assert ex.diff(d1, s2) == _cse.diff_shared(d2, s2, memo)
    with pytest.raises(sn.UnsupportedFeature):
        _cse.diff_shared(ex.Apply("factorial", (ex.Sym("x"),)), "x")


def test_signed_zero_constants_stay_apart(monkeypatch):
    # hash-consing must not merge Num(-0.0) into Num(0.0): 1/-0.0 = -inf
    x = ex.Sym("x")
    trees = [ex.Apply("/", (ex.ONE, ex.Apply("*", (ex.Num(-0.0), x)))),
             ex.Apply("/", (ex.ONE, ex.Apply("*", (ex.Num(0.0), x))))] * 3
    monkeypatch.setattr(_cse, "SHARE_MIN_NODES", 1)
    f = _cse.compile_shared(trees, SLOTS, "zeros", n_params=1)
    with np.errstate(all="ignore"):
        out = f(np.array([1.0, 1.0]), np.array([1.0]), 0.0, np.zeros(6))
    np.testing.assert_array_equal(out, [-np.inf, np.inf] * 3)
