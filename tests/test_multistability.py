"""Tests of sn.multistability / sn.fixed_points (sbmlnoise/dynamics/_multistability.py).

The symmetric toggle switch (models/toggle_switch.ant: a = 30, K = 10, n = 2, g = 1):

* fixed points: closed form. At a symmetric-breaking fixed point u = a / (1 + (v/K)^2),
  v = a / (1 + (u/K)^2); for these parameters u v = K^2 and u + v = a, so
  u, v = (a -/+ sqrt(a^2 - 4 K^2)) / 2 = 3.8197, 26.1803; the symmetric one solves
  u (1 + (u/K)^2) = a.
* switching: the MFPT solved on a CME generator built independently inside this file
  (truncated box, reflecting), and the exact SSA (8 runs x 6000 time units, seed 3)
  against it within 3 standard errors; both directions agree by symmetry.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sps
import scipy.sparse.linalg as spla
from scipy import optimize

import sbmlnoise as sn

TOGGLE = Path(__file__).resolve().parents[1] / "models" / "toggle_switch.ant"


def test_fixed_points_of_symmetric_toggle_closed_form():
    net = sn.load(TOGGLE)
    fp = sn.fixed_points(net, starts=32, seed=1)
    a, k = 30.0, 10.0
    lo, hi = (a - math.sqrt(a * a - 4 * k * k)) / 2, (a + math.sqrt(a * a - 4 * k * k)) / 2
    stable = fp[fp["stable"]]
    assert len(stable) == 2 and len(fp) == 3
    got = sorted(tuple(np.round(r, 9)) for r in stable[["U", "V"]].to_numpy())
    np.testing.assert_allclose(got, [(lo, hi), (hi, lo)], rtol=1e-8)
    sym = optimize.brentq(lambda u: u * (1 + (u / k) ** 2) - a, 0, a)
    saddle = fp[~fp["stable"]].iloc[0]
    assert saddle["U"] == pytest.approx(sym, rel=1e-8)
    assert saddle["V"] == pytest.approx(sym, rel=1e-8)
    assert saddle["max_real_eigenvalue"] > 0


def independent_mfpt(net, upper, start, target_mask):
    """MFPT from ``start`` to the states where ``target_mask(U, V)`` is True, on the box
    0..upper (reflecting), generator built here from the model's propensities."""
    states = np.array(list(itertools.product(range(upper + 1), repeat=2)), dtype=float)
    n = len(states)
    index = {tuple(s.astype(int)): i for i, s in enumerate(states)}
    stoich = np.asarray(net.stoichiometry)
    rows, cols, vals = [], [], []
    for i, s in enumerate(states):
        a = net.propensities(s)
        for j in range(net.n_reactions):
            t = tuple((s + stoich[:, j]).astype(int))
            if a[j] > 0 and t in index:
                rows += [i, i]
                cols += [index[t], i]
                vals += [a[j], -a[j]]
    back = sps.csr_matrix((vals, (rows, cols)), shape=(n, n))  # backward operator
    target = np.array([target_mask(*s) for s in states])
    out = np.flatnonzero(~target)
    tau = np.zeros(n)
    tau[out] = spla.spsolve(back[out][:, out].tocsc(), -np.ones(out.size))
    return tau[index[start]]


def test_toggle_switching_rate_fsp_against_independent_generator_and_ssa():
    net = sn.load(TOGGLE)
    ms = sn.multistability(net, method="fsp", starts=16)
    sw = ms.switching.set_index(["from", "to"])
    assert len(sw) == 2 and (sw["method"] == "fsp").all()
    m1, m2 = sw["mfpt"].to_numpy()
    assert m1 == pytest.approx(m2, rel=1e-8)  # symmetry
    # the same first-passage problem solved on an independently built generator
    states = ms.states
    names = [s for s in states.index if states.loc[s, "stable"]]
    a_name, b_name = names
    core_b = {tuple(c) for c in ms.cores[b_name].tolist()}
    start_a = tuple(int(round(states.loc[a_name, c])) for c in ("U", "V"))
    upper = int(ms.settings["box_upper"][0])
    ref = independent_mfpt(net, upper, start_a, lambda u, v: (int(u), int(v)) in core_b)
    assert sw.loc[(a_name, b_name), "mfpt"] == pytest.approx(ref, rel=1e-8)
    assert ms.settings["boundary_mass"] < 1e-12
    assert 20 < ref < 200  # ~59.5 time units: switching is rare against 1/g = 1
    # the exact SSA estimate of the same rate (8 runs x 6000 time units, seed 3)
    ssa = sn.multistability(net, method="ssa", starts=16, seed=3, workers=1)
    for _, row in ssa.switching.iterrows():
        assert row["transitions"] > 300
        assert abs(row["mfpt"] - ref) <= 3 * row["mfpt_se"], (row["mfpt"], row["mfpt_se"], ref)


def test_monostable_model_has_no_switching():
    net = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    ms = sn.multistability(net, starts=8)
    assert list(ms.states.index) == ["state0"] and ms.switching.empty
    assert ms.states.loc["state0", "X"] == pytest.approx(10.0)
    assert ms.states.loc["state0", "sd_X"] == pytest.approx(math.sqrt(10.0))
    with pytest.raises(ValueError, match="unknown method"):
        sn.multistability(net, method="mc")
