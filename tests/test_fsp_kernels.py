"""The FSP's compiled kernels (issue 15's overhead work) against independent numpy
constructions of the same objects.

* the fused generator kernel (CSC straight from the propensities) equals a generator
  assembled by scipy's COO -> CSR path from the edge list (bit for bit: same merge and
  summation order), for models with a dense box, a conservation law (box points that are
  not states: a table), two channels with the same jump (merged duplicates) and
  unreachable states (the remapped path);
* the pinned LU solved in place equals the solve of the copied system and leaves the
  generator's values unchanged;
* moments and marginals equal numpy's weighted mean / covariance / ``np.bincount``;
* the deferred edge list and absorbing generator are the ones built eagerly.
No tolerance is looser than 1e-13 relative (floating-point order only) unless stated.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sps

import sbmlnoise as sn
from sbmlnoise.fsp import _kernels, _linear, _space

TELEGRAPH = ("model t; G0 => G1; kon*G0; G1 => G0; koff*G1; G1 => G1 + M; ktx*G1; "
             "M => ; g*M; G0=1; G1=0; M=0; kon=1; koff=2; ktx=10; g=1; end")
# two channels with the same jump (X -> X + 1): merged into one generator entry
DUPLICATE = ("model dup; => X; k1; => X; k2*X/(1+X); X => ; g*X; k1=3; k2=2; g=1; X=0; "
             "end")
# conservation A + B = 6 with a dimerisation: the box of the key species holds points
# that are states only inside the caps of the dependent species (a lookup table)
CONSERVED = ("model c; 2 A => B; k*A*(A-1)/2; B => 2 A; kr*B; A=6; B=0; k=1; kr=2; end")
# the initial state's class can never reach X < 2 once there (no way back): states
# below are unreachable from the start at X = 5 inside the box [0, 30]
ONE_WAY = "model ow; => X; k; X => ; g*X*(X>2); k=2; g=1; X=5; end"


def _coo_generator(proj):
    """Column-convention generator from the edge list by scipy's COO -> CSR path (the
    construction the kernels replaced)."""
    n = proj.n_states
    total = np.bincount(proj.src, weights=proj.rate, minlength=n)
    rows = np.concatenate([proj.dst, np.arange(n)])
    cols = np.concatenate([proj.src, np.arange(n)])
    data = np.concatenate([proj.rate, -total])
    return sps.csr_matrix((data, (rows, cols)), shape=(n, n))


def _projection(text, caps):
    net = sn.load(text)
    model = _space.prepare(net)
    upper = np.array([caps.get(s, 1) for s in net.species_ids], dtype=np.int64)
    return model, _space.project(model, np.zeros(upper.size, dtype=np.int64), upper,
                                 10 ** 6)


@pytest.mark.parametrize("text, caps", [(TELEGRAPH, {"M": 60}), (DUPLICATE, {"X": 40}),
                                        (CONSERVED, {"A": 6, "B": 3}),
                                        (ONE_WAY, {"X": 30})])
def test_fused_generator_equals_coo_assembly(text, caps):
    _, proj = _projection(text, caps)
    fused = proj.generator_csc(reflecting=True)
    expected = _coo_generator(proj).tocsc()
    expected.sort_indices()
    assert fused.shape == expected.shape
    np.testing.assert_array_equal(fused.indptr, expected.indptr)
    np.testing.assert_array_equal(fused.indices, expected.indices)
    np.testing.assert_array_equal(fused.data, expected.data)  # bit for bit
    # the absorbing generator subtracts the outflow to the sink on the diagonal only
    absorbing = proj.generator(reflecting=False)
    outflow = np.bincount(proj.out_src, weights=proj.out_rate, minlength=proj.n_states)
    np.testing.assert_array_equal(absorbing.diagonal(), expected.diagonal() - outflow)
    off = (absorbing - sps.diags(absorbing.diagonal())).tocsr()
    ref = (expected - sps.diags(expected.diagonal())).tocsr()
    assert abs(off - ref).max() == 0.0


def test_duplicate_jumps_are_merged():
    _, proj = _projection(DUPLICATE, {"X": 40})
    a = proj.generator_csc(reflecting=True)
    # X -> X + 1 at rate k1 + k2 X / (1 + X): one entry per column below the cap
    x = proj.states[:, 0]
    for j in (0, 7, 39):
        col = a[:, j].toarray().ravel()
        up = int(np.flatnonzero(x == x[j] + 1)[0])
        assert col[up] == pytest.approx(3.0 + 2.0 * x[j] / (1.0 + x[j]), rel=1e-15)
    assert np.count_nonzero(proj.src == proj.dst) == 0


def test_unreachable_states_are_dropped():
    _, proj = _projection(ONE_WAY, {"X": 30})
    # from X = 5 degradation stops at X = 2: X = 0, 1 are never reached
    assert proj.states[:, 0].min() == 2
    assert proj.n_states == 29


@pytest.mark.parametrize("text, caps", [(TELEGRAPH, {"M": 60}), (CONSERVED, {"A": 6, "B": 3})])
def test_in_place_pinned_solve_equals_copied_system(text, caps):
    _, proj = _projection(text, caps)
    gen = proj.generator_csc(reflecting=True)
    before = gen.data.copy()
    ref = proj.n_states // 2
    info: dict = {}
    x = _linear._direct_pinned_in_place(gen, ref, info)
    np.testing.assert_array_equal(gen.data, before)  # values restored
    mat, rhs = _linear._pinned(gen, ref)
    y = _linear.factorize(mat).solve(rhs)
    np.testing.assert_allclose(x, y, rtol=1e-13, atol=0.0)
    assert x[ref] == pytest.approx(1.0, rel=1e-14)
    assert info["solver"] == "splu"


def test_moments_and_marginals_match_numpy():
    rng = np.random.default_rng(15)
    states = rng.integers(0, 40, size=(5000, 3))
    p = rng.random(5000)
    mean, cov = _kernels.moments(states, p)
    w = p / p.sum()
    mu = w @ states
    c = ((states - mu) * w[:, None]).T @ (states - mu)
    np.testing.assert_allclose(mean, mu, rtol=1e-13)
    np.testing.assert_allclose(cov, c, rtol=1e-12, atol=1e-12)
    flat, offs = _kernels.marginals(states, p)
    for i in range(3):
        expected = np.bincount(states[:, i], weights=p)
        np.testing.assert_array_equal(flat[offs[i]:offs[i + 1]], expected)


def test_box_states_kernel_matches_division():
    klo = np.array([2, 0, 5])
    radix = np.array([3, 4, 2])
    strides = np.array([8, 2, 1])
    link = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [-1, -1, 0]], dtype=np.int64)
    offset = np.array([0, 0, 0, 9], dtype=np.int64)
    lower = np.zeros(4, dtype=np.int64)
    upper = np.array([10, 10, 10, 5], dtype=np.int64)
    states, ok = _kernels.box_states(klo, radix, strides, link, offset, lower, upper)
    codes = np.arange(24)
    key = np.stack([(codes // strides[i]) % radix[i] + klo[i] for i in range(3)], axis=1)
    np.testing.assert_array_equal(states, key @ link.T + offset)
    np.testing.assert_array_equal(ok, (states[:, 3] >= 0) & (states[:, 3] <= 5))


def test_deferred_edges_and_generator_of_a_result():
    net = sn.load(TELEGRAPH)
    fr = sn.fsp(net, bounds={"M": 60})
    proj = fr._projection
    # the edge list is built on first access and agrees with the generator
    assert isinstance(proj.__dict__["_src"], _space._Deferred)
    src, dst, rate = proj.src, proj.dst, proj.rate
    assert not isinstance(proj.__dict__["_rxn"], _space._Deferred)
    a = fr.reflecting_generator
    np.testing.assert_array_equal(np.asarray(a[dst, src]).ravel(), rate)
    # the absorbing generator (deferred) is the reflecting one minus the sink outflow
    diff = (fr.generator - a).tocsr()
    outflow = proj.outflow()
    np.testing.assert_array_equal(diff.diagonal(), -outflow)
    assert fr.generator is fr.generator  # built once
    # the stationary law solves the reflecting chain (Peccoud-Ycart checked in test_fsp)
    assert np.abs(a @ fr.probabilities).sum() < 1e-12


@pytest.mark.parametrize("text, caps", [(TELEGRAPH, {"M": 60}), (DUPLICATE, {"X": 40}),
                                        (CONSERVED, {"A": 6, "B": 3})])
def test_small_chunks_grow_the_buffers_and_resume(monkeypatch, text, caps):
    """Chunks of 7 states: the entry buffers start at one chunk's worst case, are
    re-sized from the entries per state so far and grown when a chunk needs more; the
    generator is the same as the COO assembly and the edges leaving the box the same as
    with the default chunk."""
    _, whole = _projection(text, caps)
    monkeypatch.setattr(_space, "_CHUNK", 7)
    calls = {"resumed": 0}
    kernel = _kernels.table_generator

    def counting(*args):
        out = kernel(*args)
        calls["resumed"] += out[2] < args[0].shape[0]
        return out

    monkeypatch.setattr(_kernels, "table_generator", counting)
    # no slack: the buffers fall short and the kernel stops and resumes
    monkeypatch.setattr(_space, "_SLACK", 0.0)
    monkeypatch.setattr(_space, "_RESERVE_BYTES", 0)
    _, proj = _projection(text, caps)
    fused = proj.generator_csc(reflecting=True)
    expected = _coo_generator(proj).tocsc()
    expected.sort_indices()
    np.testing.assert_array_equal(fused.indptr, expected.indptr)
    np.testing.assert_array_equal(fused.indices, expected.indices)
    np.testing.assert_array_equal(fused.data, expected.data)
    np.testing.assert_array_equal(fused.data, whole.generator_csc(True).data)
    for name in ("out_src", "out_rxn", "out_rate", "out_target"):
        np.testing.assert_array_equal(getattr(proj, name), getattr(whole, name))
    # more than two chunks: the second chunk must have outgrown its buffer
    assert calls["resumed"] > 0 or whole.n_states <= 14
