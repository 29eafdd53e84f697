"""Derived structure of the network: stoichiometry, conservation laws, graphs.

Property tests (hypothesis) on random mass-action networks: conservation laws annihilate
the stoichiometry, hold along ODE solutions, and every derived structure is invariant
under relabelling species (networkx's test style: shuffle labels to rule out accidents).
"""

from __future__ import annotations

import numpy as np
import networkx as nx
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings, strategies as st

import sbmlnoise as sn


@st.composite
def networks(draw):
    """A random mass-action network as (n_species, reactions, rates, initial amounts)."""
    n = draw(st.integers(2, 5))
    n_reactions = draw(st.integers(1, 6))
    complexes = st.lists(st.integers(0, 2), min_size=n, max_size=n)
    reactions = []
    for _ in range(n_reactions):
        lhs, rhs = draw(complexes), draw(complexes)
        if lhs == rhs:
            rhs = list(rhs)
            rhs[0] += 1
        reactions.append((lhs, rhs))
    rates = draw(st.lists(st.floats(0.1, 3.0), min_size=n_reactions, max_size=n_reactions))
    amounts = draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))
    return n, reactions, rates, amounts


def antimony(spec, names):
    n, reactions, rates, amounts = spec
    lines = ["model r", "  compartment c = 1;",
             "  species " + ", ".join(f"{names[i]} in c" for i in range(n)) + ";"]
    for j, (lhs, rhs) in enumerate(reactions):
        def side(c):
            return " + ".join(f"{v} {names[i]}" for i, v in enumerate(c) if v) or ""
        law = "*".join([f"k{j}"] + [f"{names[i]}^{v}" for i, v in enumerate(lhs) if v])
        lines.append(f"  R{j}: {side(lhs)} => {side(rhs)}; {law};")
        lines.append(f"  k{j} = {rates[j]!r};")
    for i in range(n):
        lines.append(f"  {names[i]} = {amounts[i]};")
    lines.append("end")
    return "\n".join(lines)


def row_space(matrix):
    return sp.Matrix(matrix).rref()[0] if len(matrix) else sp.Matrix([])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.randoms(use_true_random=False))
def test_structure_is_invariant_under_relabelling(spec, rnd):
    n = spec[0]
    names = [f"S{i}" for i in range(n)]
    shuffled = names[:]
    rnd.shuffle(shuffled)  # species i gets the name shuffled[i]
    a = sn.load(antimony(spec, names))
    b = sn.load(antimony(spec, shuffled))
    # b's rows, reordered into a's species order, equal a's rows
    order = [b.index(shuffled[i]) for i in range(n)]
    np.testing.assert_array_equal(a.stoichiometry, b.stoichiometry[order])
    la, lb = a.conservation_laws, b.conservation_laws[:, order]
    assert la.shape == lb.shape
    assert row_space(la.tolist()) == row_space(lb.tolist())
    relabel = {shuffled[i]: names[i] for i in range(n)}
    gb = nx.relabel_nodes(b.graph, relabel)
    assert set(a.graph.edges) == set(gb.edges)
    assert nx.is_isomorphic(a.complex_graph, b.complex_graph)


@settings(max_examples=25, deadline=None)
@given(networks())
def test_conservation_laws_annihilate_stoichiometry_and_have_full_rank(spec):
    net = sn.load(antimony(spec, [f"S{i}" for i in range(spec[0])]))
    laws = net.conservation_laws
    assert laws.dtype.kind == "i"
    np.testing.assert_array_equal(laws @ net.stoichiometry, 0)
    rank = np.linalg.matrix_rank(net.stoichiometry)
    assert laws.shape[0] == net.n_species - rank
    # independent species + link matrix reproduce the state on the conservation class
    x = net.initial_amounts
    ind = list(net.independent_species)
    assert len(ind) == rank
    link = net.link_matrix
    y = x + net.stoichiometry @ np.arange(1, net.n_reactions + 1) * 0.1
    np.testing.assert_allclose(link @ (y[ind] - x[ind]) + x, y, atol=1e-9)


@settings(max_examples=15, deadline=None)
@given(networks())
def test_conservation_laws_hold_along_ode_solutions(spec):
    n, reactions, rates, amounts = spec
    # keep the dynamics bounded: add first-order decay only where no law would break
    net = sn.load(antimony(spec, [f"S{i}" for i in range(n)]))
    times = np.linspace(0, 0.5, 6)
    try:
        traj = sn.simulate_ode(net, times)
    except sn.SimulationError:
        return  # finite-time blow-up of a random autocatalytic network
    totals = traj.to_numpy() @ net.conservation_laws.T
    # rounding error grows with the amounts that make up each total (runaway growth)
    scale = 1 + np.abs(traj.to_numpy()) @ np.abs(net.conservation_laws.T)
    assert np.all(np.abs(totals - totals[0]) <= 1e-6 * scale)


def test_known_conservation_laws():
    # A + B <-> C ; C -> D + B : total B+C and A+C+D
    net = sn.load("""model m; R1: A + B -> C; k1*A*B - k2*C; R2: C => D + B; k3*C;
                     A = 5; B = 2; C = 0; D = 0; k1 = 1; k2 = 1; k3 = 1; end""")
    laws = net.conservation_laws
    idx = {s: net.index(s) for s in "ABCD"}
    expected = np.zeros((2, 4))
    expected[0, [idx["B"], idx["C"]]] = 1
    expected[1, [idx["A"], idx["C"], idx["D"]]] = 1
    assert row_space(laws.tolist()) == row_space(expected.astype(int).tolist())


def test_graph_roles_and_complex_graph():
    net = sn.load("model m; G => G + M; k*G; M => ; g*M; G = 1; M = 0; k = 1; g = 1; end")
    g = net.graph
    assert g.nodes["G"]["kind"] == "species"
    assert g.edges["G", "_J0"]["role"] == "reactant"
    assert g.edges["_J0", "M"]["role"] == "product"
    assert set(net.complex_graph.nodes) == {"G", "G + M", "M", "0"}


def test_rate_jacobian_is_exact():
    net = sn.load("model m; A + B => C; k*A*B/(K + A); A = 2; B = 3; C = 0; k = 1.5; K = 4; end")
    x = np.array([2.0, 3.0, 0.0])
    jac = net.rate_jacobian(x)[0]
    a, b, k, kk = 2.0, 3.0, 1.5, 4.0
    assert jac[0] == pytest.approx(k * b * kk / (kk + a) ** 2, rel=1e-14)
    assert jac[1] == pytest.approx(k * a / (kk + a), rel=1e-14)
    assert jac[2] == 0.0
