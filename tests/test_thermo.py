"""Thermodynamic analysis (sn.thermodynamics) against closed forms.

Expected numbers come from theory written out here: the matrix-tree theorem for a
three-state cycle (Hill 1966; Schnakenberg 1976), a dense solve of small master equations
written in this file, linear steady states solved here, and the product-form Poisson law
of complex-balanced networks (Anderson, Craciun & Kurtz 2010). No random numbers are used;
tolerances are stated per assertion (FSP-based checks use tol=1e-9 and rtol 1e-6).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import null_space
from scipy.stats import poisson

import sbmlnoise as sn

LEVELS = ["network", "cme"]


# --------------------------------------------------------------------------- models
def cycle3(k1, km1, k2, km2, k3, km3, names=("A", "B", "C"), order=(1, 2, 3)):
    a, b, c = names
    lines = {1: f"J1: {a} -> {b}; k1*{a} - km1*{b}",
             2: f"J2: {b} -> {c}; k2*{b} - km2*{c}",
             3: f"J3: {c} -> {a}; k3*{c} - km3*{a}"}
    body = "\n".join(lines[i] for i in order)
    return sn.load(f"""model c3
{body}
{a} = 1; {b} = 0; {c} = 0
k1 = {k1}; km1 = {km1}; k2 = {k2}; km2 = {km2}; k3 = {k3}; km3 = {km3}
end""")


def matrix_tree_cycle3(k1, km1, k2, km2, k3, km3):
    """Stationary law, net cycle flux and entropy production of the 3-state cycle
    A<->B<->C<->A (Hill's diagram method / matrix-tree theorem)."""
    w_a = k2 * k3 + km1 * k3 + km1 * km2      # spanning trees directed into A
    w_b = k3 * k1 + km2 * k1 + km2 * km3
    w_c = k1 * k2 + km3 * k2 + km3 * km1
    total = w_a + w_b + w_c
    flux = (k1 * k2 * k3 - km1 * km2 * km3) / total
    affinity = math.log(k1 * k2 * k3 / (km1 * km2 * km3))
    return np.array([w_a, w_b, w_c]) / total, flux, affinity, flux * affinity


BROKEN = (2.0, 1.0, 3.0, 1.0, 3.0, 1.0)       # k1 k2 k3 / (km1 km2 km3) = 18
BALANCED = (2.0, 1.0, 3.0, 2.0, 1.0, 3.0)     # 6 / 6


def _fsp_kwargs(level):
    return {"tol": 1e-9} if level == "cme" else {}


# --------------------------------------------------------------------------- 3-state cycle
@pytest.mark.parametrize("level", LEVELS)
def test_cycle3_wegscheider_met_is_detailed_balanced(level):
    th = sn.thermodynamics(cycle3(*BALANCED), level=level, **_fsp_kwargs(level))
    assert th.detailed_balance, th.reason
    assert th.irreversible == []
    assert abs(th.entropy_production) < 1e-12
    assert np.allclose(th.pairs["net_flux"].astype(float), 0.0, atol=1e-12)
    assert np.allclose(th.cycles["affinity"].astype(float), 0.0, atol=1e-12)
    assert np.allclose(th.cycles["flux"].astype(float), 0.0, atol=1e-12)


@pytest.mark.parametrize("level", LEVELS)
def test_cycle3_broken_matches_matrix_tree(level):
    p, flux, affinity, sigma = matrix_tree_cycle3(*BROKEN)
    th = sn.thermodynamics(cycle3(*BROKEN), level=level, **_fsp_kwargs(level))
    assert not th.detailed_balance
    assert th.irreversible == []
    assert len(th.cycles) == 1
    cyc = th.cycles.iloc[0]
    # the cycle is oriented along its flux: A -> B -> C -> A
    assert cyc["affinity"] == pytest.approx(affinity, rel=1e-9)
    assert cyc["flux"] == pytest.approx(flux, rel=1e-6)
    assert th.entropy_production == pytest.approx(sigma, rel=1e-6)
    assert th.units == "k_B per time unit"
    # every pair carries the cycle flux (one molecule: deterministic = CME fluxes)
    assert np.allclose(th.pairs["net_flux"].astype(float), flux, rtol=1e-6)
    assert "ln 18" in th.summary()
    if level == "network":
        assert cyc["members"] == ["J1", "J2", "J3"]
        assert "J1 -> J2 -> J3" in th.reason
        assert list(th.pairs["k_plus"]) == [2.0, 3.0, 3.0]
        # forward flux of J1 = k1 * p_A
        assert th.pairs["J_plus"].iloc[0] == pytest.approx(BROKEN[0] * p[0], rel=1e-9)
        # linear network, deficiency 0, weakly reversible: complex balanced; the product
        # form restricted to A + B + C = 1 is the stationary law itself
        assert th.deficiency == 0 and th.weakly_reversible and th.complex_balanced
        assert th.product_form([1, 0, 0]) == pytest.approx(p[0], rel=1e-9)
        assert th.product_form({"A": 0, "B": 0, "C": 1}) == pytest.approx(p[2], rel=1e-9)
        assert th.product_form([1, 1, 0]) == 0.0
    else:
        assert cyc["members"] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
        assert cyc["reactions"] == ["J1_fwd", "J2_fwd", "J3_fwd"]
        assert th.extra["schnakenberg_sum"] == pytest.approx(sigma, rel=1e-6)
        # no parallel reactions: the reaction-resolved value is the same
        assert th.extra["entropy_production_resolved"] == pytest.approx(sigma, rel=1e-6)


def test_cycle3_invariant_under_relabelling():
    ref = sn.thermodynamics(cycle3(*BROKEN))
    other = sn.thermodynamics(cycle3(*BROKEN, names=("Z", "X", "Y"), order=(3, 1, 2)))
    assert other.entropy_production == pytest.approx(ref.entropy_production, rel=1e-12)
    assert other.cycles["affinity"].iloc[0] == pytest.approx(ref.cycles["affinity"].iloc[0])
    assert sorted(other.cycles["members"].iloc[0]) == ["J1", "J2", "J3"]


# --------------------------------------------------------------------------- two cycles
RATES4 = {("A", "B"): 2.0, ("B", "A"): 1.0, ("B", "C"): 3.0, ("C", "B"): 0.5,
          ("C", "A"): 1.0, ("A", "C"): 2.0, ("B", "D"): 1.5, ("D", "B"): 1.0,
          ("D", "C"): 4.0, ("C", "D"): 0.25}
NAMES4 = ["A", "B", "C", "D"]


def four_state():
    lines, params = [], []
    for n, (a, b) in enumerate([("A", "B"), ("B", "C"), ("C", "A"), ("B", "D"), ("D", "C")]):
        lines.append(f"R{n}: {a} -> {b}; kf{n}*{a} - kr{n}*{b}")
        params.append(f"kf{n} = {RATES4[(a, b)]}; kr{n} = {RATES4[(b, a)]}")
    return sn.load("model two\n" + "\n".join(lines) + "\nA = 1; B = 0; C = 0; D = 0\n"
                   + "\n".join(params) + "\nend")


def dense_master_equation():
    """Stationary law, currents and entropy production of the 4-state chain, by hand."""
    n = len(NAMES4)
    q = np.zeros((n, n))                      # column convention dp/dt = Q p
    for (a, b), w in RATES4.items():
        i, j = NAMES4.index(a), NAMES4.index(b)
        q[j, i] += w
        q[i, i] -= w
    p = null_space(q)[:, 0]
    p = p / p.sum()
    sigma = 0.0
    current = {}
    for (a, b), w in RATES4.items():
        i, j = NAMES4.index(a), NAMES4.index(b)
        fwd, bwd = p[i] * w, p[j] * RATES4[(b, a)]
        current[(a, b)] = fwd - bwd
        sigma += 0.5 * (fwd - bwd) * math.log(fwd / bwd)
    return p, current, sigma


@pytest.mark.parametrize("level", LEVELS)
def test_two_independent_cycles_against_dense_master_equation(level):
    p, current, sigma = dense_master_equation()
    th = sn.thermodynamics(four_state(), level=level, **_fsp_kwargs(level))
    assert not th.detailed_balance
    assert len(th.cycles) == 2                # 5 edges - 4 states + 1
    assert th.entropy_production == pytest.approx(sigma, rel=1e-6)
    # Schnakenberg: sigma = sum over basis cycles of flux x affinity
    assert float((th.cycles["flux"] * th.cycles["affinity"]).sum()) == \
        pytest.approx(sigma, rel=1e-6)
    lnr = {e: math.log(RATES4[e] / RATES4[e[::-1]]) for e in RATES4}
    a1 = lnr[("A", "B")] + lnr[("B", "C")] + lnr[("C", "A")]
    a2 = lnr[("B", "D")] + lnr[("D", "C")] + lnr[("C", "B")]
    allowed = [a1, a2, a1 + a2, a1 - a2]
    for a in th.cycles["affinity"]:
        assert min(abs(abs(a) - abs(b)) for b in allowed) < 1e-9
    if level == "network":
        edges = [("A", "B"), ("B", "C"), ("C", "A"), ("B", "D"), ("D", "C")]
        for n, e in enumerate(edges):
            row = th.pairs.set_index("pair").loc[f"R{n}"]
            assert row["net_flux"] == pytest.approx(current[e], rel=1e-6, abs=1e-12)
        # each basis cycle's affinity is sum_j c_j ln(k+_j / k-_j)
        for _, cyc in th.cycles.iterrows():
            expect = sum(c * lnr[edges[int(name[1:])]] for name, c in cyc["coefficients"].items())
            assert cyc["affinity"] == pytest.approx(expect, abs=1e-12)
    else:
        f = th.pairs.set_index("forward")
        for n, e in enumerate([("A", "B"), ("B", "C"), ("C", "A"), ("B", "D"), ("D", "C")]):
            sign = 1.0 if f"R{n}_fwd" in f.index else -1.0
            name = f"R{n}_fwd" if sign > 0 else f"R{n}_rev"
            assert sign * f.loc[name, "net_flux"] == pytest.approx(current[e], rel=1e-6)


# --------------------------------------------------------------------------- open networks
BIRTH_DEATH = """model bd
birth: => A; k
death: A => ; g*A
A = 0; k = 4; g = 1
end"""

# 0 <-> A <-> B <-> 0 driven around its cycle: k1 k2 k3 / (km1 km2 km3) = 10
DRIVEN = dict(k1=5.0, km1=1.0, k2=2.0, km2=1.0, k3=1.0, km3=1.0)


def driven_open():
    d = DRIVEN
    return sn.load(f"""model driven
R1: -> A; k1 - km1*A
R2: A -> B; k2*A - km2*B
R3: B -> ; k3*B - km3
A = 0; B = 0
k1 = {d['k1']}; km1 = {d['km1']}; k2 = {d['k2']}; km2 = {d['km2']}
k3 = {d['k3']}; km3 = {d['km3']}
end""")


def driven_closed_form():
    """Linear steady state and the entropy production of the driven open network.

    The network is linear, deficiency zero and weakly reversible, so its CME stationary
    law is a product of Poissons with means c = the deterministic steady state (ACK 2010).
    Then p(n) a+_j(n) / (p(n + nu_j) a-_j(n + nu_j)) = J+_j(c) / J-_j(c) on every
    transition of pair j, and the probability currents of pair j sum to the deterministic
    net flux: the CME entropy production equals sum_j (J+_j - J-_j) ln(J+_j / J-_j).
    """
    d = DRIVEN
    m = np.array([[-(d["km1"] + d["k2"]), d["km2"]], [d["k2"], -(d["km2"] + d["k3"])]])
    c = np.linalg.solve(m, [-d["k1"], -d["km3"]])
    jp = np.array([d["k1"], d["k2"] * c[0], d["k3"] * c[1]])
    jm = np.array([d["km1"] * c[0], d["km2"] * c[1], d["km3"]])
    sigma = float(np.sum((jp - jm) * np.log(jp / jm)))
    return c, jp - jm, sigma


@pytest.mark.parametrize("level", LEVELS)
def test_birth_death_is_detailed_balanced(level):
    th = sn.thermodynamics(sn.load(BIRTH_DEATH), level=level, **_fsp_kwargs(level))
    assert th.detailed_balance, th.reason
    assert th.irreversible == []
    assert abs(th.entropy_production) < 1e-12
    assert len(th.cycles) == 0
    # swapped complexes 0 -> A and A -> 0 form a pair whatever the SBML flags
    assert set(th.pairs["forward"]) | set(th.pairs["reverse"]) == {"birth", "death"}


@pytest.mark.parametrize("level", LEVELS)
def test_driven_open_cycle(level):
    c, net_flux, sigma = driven_closed_form()
    th = sn.thermodynamics(driven_open(), level=level, **_fsp_kwargs(level))
    assert not th.detailed_balance
    assert th.deficiency == 0 and th.weakly_reversible and th.complex_balanced
    assert th.entropy_production == pytest.approx(sigma, rel=1e-6)
    assert th.product_form_means.to_numpy() == pytest.approx(c, rel=1e-9)
    expect = poisson.pmf(2, c[0]) * poisson.pmf(1, c[1])
    assert th.product_form({"A": 2, "B": 1}) == pytest.approx(expect, rel=1e-9)
    top = th.cycles.iloc[0]
    assert top["affinity"] == pytest.approx(math.log(10.0), rel=1e-9)
    if level == "network":
        assert len(th.cycles) == 1
        assert top["flux"] == pytest.approx(net_flux[0], rel=1e-9)
        assert np.allclose(th.pairs["net_flux"], net_flux, rtol=1e-9)


# --------------------------------------------------------------------------- telegraph
TELEGRAPH = """model telegraph
switch: Goff -> Gon; kon*Goff - koff*Gon
tx: Gon => Gon + M; ktx*Gon
deg: M => ; g*M
Goff = 1; Gon = 0; M = 0
kon = 1; koff = 2; ktx = 6; g = 1
end"""


def test_telegraph_network_level_names_irreversible_transcription():
    th = sn.thermodynamics(sn.load(TELEGRAPH))
    assert not th.detailed_balance
    assert "tx" in th.irreversible and "deg" in th.irreversible
    assert "tx" in th.reason
    assert th.entropy_production == math.inf
    assert "unbounded" in th.summary()
    assert list(th.pairs["pair"]) == ["switch"]
    json.dumps(th.to_dict(), allow_nan=False)


def test_telegraph_cme_level_has_one_way_transitions():
    th = sn.thermodynamics(sn.load(TELEGRAPH), level="cme", tol=1e-8)
    assert not th.detailed_balance
    assert th.entropy_production == math.inf
    # with the gene off, mRNA decays and is never made: one-way degradation jumps
    assert th.irreversible == ["deg"]
    assert "deg" in th.reason and "tx" in th.reason
    ow = th.one_way.iloc[0]
    assert ow["source"][0] == 1 and ow["target"][2] == ow["source"][2] - 1
    json.dumps(th.to_dict(), allow_nan=False)


# --------------------------------------------------------------------------- catalysis
@pytest.mark.parametrize("reverse", [False, True])
def test_catalyst_encodings_give_equal_verdicts(reverse):
    back_a = "M => ; g*M" if not reverse else "G + M => G; g*G*M"
    back_b = "M => ; g*M" if not reverse else "M => ; g*G*M"
    a = sn.load(f"model a\nG => G + M; k*G\n{back_a}\nG = 1; M = 0; k = 3; g = 1\nend")
    b = sn.load(f"model b\nspecies G\n=> M; k*G\n{back_b}\nG = 1; M = 0; k = 3; g = 1\nend")
    ta, tb = sn.thermodynamics(a), sn.thermodynamics(b)
    assert ta.detailed_balance == tb.detailed_balance == reverse
    assert len(ta.irreversible) == len(tb.irreversible) == (0 if reverse else 2)
    assert ta.deficiency == tb.deficiency
    assert ta.weakly_reversible == tb.weakly_reversible
    assert ta.entropy_production == pytest.approx(tb.entropy_production, abs=1e-12)
    if reverse:
        assert list(tb.pairs["reactant_complex"]) == ["G"]
        assert list(tb.pairs["product_complex"]) == ["G + M"]
        assert tb.pairs["k_plus"].iloc[0] == pytest.approx(3.0)


# --------------------------------------------------------------------------- non-mass-action
def test_non_mass_action_pairs_use_flux_ratio_at_steady_state():
    vf, vr = (2.0, 3.0, 3.0), (1.0, 1.0, 1.0)
    net = sn.load(f"""model mm
J1: A -> B; (vf1*A - vr1*B)/(1 + A + B)
J2: B -> C; (vf2*B - vr2*C)/(1 + B + C)
J3: C -> A; (vf3*C - vr3*A)/(1 + C + A)
A = 1; B = 0; C = 0
vf1 = {vf[0]}; vf2 = {vf[1]}; vf3 = {vf[2]}; vr1 = {vr[0]}; vr2 = {vr[1]}; vr3 = {vr[2]}
end""")
    th = sn.thermodynamics(net)
    assert not th.detailed_balance
    assert "flux ratio" in th.reason
    assert len(th.pairs) == 3 and not th.pairs["mass_action"].any()
    # J+/J- = vf A / (vr B): the cycle product is vf1 vf2 vf3 / (vr1 vr2 vr3) = 18
    assert th.cycles["affinity"].iloc[0] == pytest.approx(math.log(18.0), rel=1e-6)
    assert th.cycles["affinity_from"].iloc[0] == "steady-state fluxes"
    ep = (th.pairs["net_flux"] * th.pairs["log_ratio"]).sum()
    assert th.entropy_production == pytest.approx(ep, rel=1e-12)


# --------------------------------------------------------------------------- API details
def test_bad_arguments():
    net = sn.load(BIRTH_DEATH)
    with pytest.raises(ValueError, match="level"):
        sn.thermodynamics(net, level="bogus")
    with pytest.raises(ValueError, match="rtol"):
        sn.thermodynamics(net, rtol=-1.0)
    th = sn.thermodynamics(sn.load(TELEGRAPH))
    with pytest.raises(ValueError, match="product-form"):
        th.product_form_means


def test_to_dict_is_json_and_report_is_frozen():
    th = sn.thermodynamics(cycle3(*BROKEN))
    d = json.loads(json.dumps(th.to_dict(), allow_nan=False))
    assert d["detailed_balance"] is False and d["deficiency"] == 0
    assert d["cycles"][0]["members"] == ["J1", "J2", "J3"]
    with pytest.raises(Exception):
        th.detailed_balance = True


def test_hundred_species_ring_is_detailed_balanced():
    """A reversible ring X0 <-> X1 <-> ... <-> X99 <-> X0 with k+ = k- = 1 (no driving)."""
    n = 100
    lines = [f"R{i}: X{i} -> X{(i + 1) % n}; X{i} - X{(i + 1) % n}" for i in range(n)]
    init = "; ".join(f"X{i} = {1 if i == 0 else 0}" for i in range(n))
    net = sn.load("model ring\n" + "\n".join(lines) + f"\n{init}\nend")
    # equal rates: the equilibrium spreads the one molecule evenly (closed form)
    ss = pd.Series(1.0 / n, index=list(net.species_ids))
    th = sn.thermodynamics(net, steady_state=ss)
    assert th.detailed_balance, th.reason
    assert np.allclose(th.pairs["net_flux"], 0.0, atol=1e-15)
    assert len(th.pairs) == n and len(th.cycles) == 1
    assert th.deficiency == 0 and th.rank == n - 1


def test_chemostats_close_an_emergent_cycle():
    """$S -> A -> $P: both reactions become 0 <-> A once the chemostats are folded in;
    they keep their own pairs, and the cycle R1 + R2 carries the chemical affinity
    ln(k1 S k2 / (km1 km2 P)). Steady state A* = (k1 S + km2 P) / (km1 + k2)."""
    k1, km1, k2, km2, s_, p_ = 2.0, 1.0, 1.0, 1.0, 1.0, 1.0
    net = sn.load(f"""model chemostat
R1: $S -> A; k1*S - km1*A
R2: A -> $P; k2*A - km2*P
S = {s_}; P = {p_}; A = 0; k1 = {k1}; km1 = {km1}; k2 = {k2}; km2 = {km2}
end""")
    a = (k1 * s_ + km2 * p_) / (km1 + k2)
    flux = k1 * s_ - km1 * a
    affinity = math.log(k1 * s_ * k2 / (km1 * km2 * p_))
    th = sn.thermodynamics(net)
    assert not th.detailed_balance
    assert list(th.pairs["pair"]) == ["R1", "R2"]
    assert list(th.pairs["k_plus"]) == pytest.approx([k1 * s_, k2])
    cyc = th.cycles.iloc[0]
    assert cyc["members"] == ["R1", "R2"]
    assert cyc["affinity"] == pytest.approx(affinity, rel=1e-12)
    assert cyc["flux"] == pytest.approx(flux, rel=1e-9)
    assert th.entropy_production == pytest.approx(flux * affinity, rel=1e-9)
    # The state graph merges R1 and R2 (both move A by +-1): state-level detailed balance,
    # while the reaction-resolved entropy production keeps the chemostat drive; with the
    # Poisson product form it equals the deterministic value flux * affinity.
    cme = sn.thermodynamics(net, level="cme", tol=1e-10)
    assert cme.detailed_balance and abs(cme.entropy_production) < 1e-12
    assert cme.extra["entropy_production_resolved"] == pytest.approx(flux * affinity,
                                                                      rel=1e-6)
    assert "network level disagrees" in cme.reason
    # chemostats at equilibrium (P = k1 k2 S / (km1 km2)): detailed balanced
    eq = sn.thermodynamics(net.with_initial_amounts(P=k1 * k2 * s_ / (km1 * km2)))
    assert eq.detailed_balance, eq.reason


@pytest.mark.parametrize("rates", [(1.0, 2.0, 1.0, 3.0, 1.0, 3.0),      # driven backwards
                                   (0.5, 0.1, 7.0, 2.0, 1.5, 4.0),
                                   (10.0, 10.0, 1e-3, 1e-3, 2.0, 2.0)])  # balanced, stiff
def test_cycle3_closed_form_for_other_rates(rates):
    p, flux, affinity, sigma = matrix_tree_cycle3(*rates)
    th = sn.thermodynamics(cycle3(*rates))
    cyc = th.cycles.iloc[0]
    # cycles are oriented along their net flux: affinity and flux are both >= 0
    assert cyc["affinity"] == pytest.approx(abs(affinity), abs=1e-12)
    assert cyc["flux"] == pytest.approx(abs(flux), rel=1e-6, abs=1e-12)
    assert th.entropy_production == pytest.approx(sigma, rel=1e-6, abs=1e-12)
    assert th.detailed_balance == (abs(affinity) < 1e-12)
    if flux < 0:
        assert cyc["members"] == ["-J1", "-J2", "-J3"]


def test_cme_level_reuses_an_fsp_result():
    from sbmlnoise.fsp import fsp  # sn.fsp is shadowed by the submodule once imported

    net = cycle3(*BROKEN)
    fr = fsp(net, tol=1e-9)
    th = sn.thermodynamics(net, level="cme", fsp_result=fr)
    _, _, _, sigma = matrix_tree_cycle3(*BROKEN)
    assert th.entropy_production == pytest.approx(sigma, rel=1e-6)
    assert th.settings["n_states"] == 3
    json.dumps(th.to_dict(), allow_nan=False)


def test_product_form_with_a_conservation_law_and_an_open_part():
    """G0 <-> G1 (one gene copy) and an independent birth-death M: deficiency zero and
    weakly reversible, so pi(g, m) = Bernoulli(g) x Poisson(m; k/g) (ACK 2010)."""
    kon, koff, k, g = 1.0, 3.0, 4.0, 2.0
    net = sn.load(f"""model split
S: G0 -> G1; kon*G0 - koff*G1
birth: => M; k
death: M => ; g*M
G0 = 1; G1 = 0; M = 0; kon = {kon}; koff = {koff}; k = {k}; g = {g}
end""")
    th = sn.thermodynamics(net)
    assert th.detailed_balance and th.complex_balanced and th.deficiency == 0
    on = kon / (kon + koff)
    for (g0, g1, m) in [(1, 0, 0), (0, 1, 2), (1, 0, 5)]:
        expect = (on if g1 else 1.0 - on) * poisson.pmf(m, k / g)
        assert th.product_form({"G0": g0, "G1": g1, "M": m}) == pytest.approx(expect,
                                                                              rel=1e-9)
    assert th.product_form({"G0": 1, "G1": 1, "M": 0}) == 0.0
    assert th.settings["product_form_exact"] is True


# --------------------------------------------------------------------------- properties
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

EDGES5 = [("A", "B"), ("B", "C"), ("C", "A"), ("C", "D"), ("D", "A")]


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(balanced=st.booleans(),
       energies=st.lists(st.floats(-2, 2), min_size=4, max_size=4),
       barriers=st.lists(st.floats(-1, 1), min_size=5, max_size=5),
       drive=st.lists(st.floats(0.2, 2.0), min_size=5, max_size=5))
def test_single_molecule_levels_agree(balanced, energies, barriers, drive):
    """One molecule hopping on a 4-state graph with two cycles: the network is linear, so
    both levels must give the same verdict and entropy production, sigma >= 0, and
    Schnakenberg's sum over basis cycles equals sigma. Rates k_ij = exp((E_i - E_j)/2 + b)
    are detailed balanced; multiplying the forward rates by `drive` breaks it."""
    energy = dict(zip("ABCD", energies))
    lines, params = [], []
    for n, (a, b) in enumerate(EDGES5):
        kf = math.exp((energy[a] - energy[b]) / 2 + barriers[n])
        kr = math.exp((energy[b] - energy[a]) / 2 + barriers[n])
        if not balanced:
            kf *= drive[n]
        lines.append(f"R{n}: {a} -> {b}; kf{n}*{a} - kr{n}*{b}")
        params.append(f"kf{n} = {kf!r}; kr{n} = {kr!r}")
    net = sn.load("model p\n" + "\n".join(lines) + "\nA = 1; B = 0; C = 0; D = 0\n"
                  + "\n".join(params) + "\nend")
    # driven affinities of A->B->C->A and C->D->A->C (edge 2 backwards)
    lnd = [math.log(d) for d in drive]
    lnr_cycles = [lnd[0] + lnd[1] + lnd[2], lnd[3] + lnd[4] - lnd[2]]
    truly_balanced = balanced or all(abs(a) < 1e-9 for a in lnr_cycles)
    net_th = sn.thermodynamics(net)
    cme_th = sn.thermodynamics(net, level="cme", tol=1e-10)
    assert net_th.detailed_balance == cme_th.detailed_balance == truly_balanced
    assert net_th.entropy_production >= -1e-12
    assert cme_th.entropy_production == pytest.approx(net_th.entropy_production, rel=1e-6,
                                                      abs=1e-10)
    for th in (net_th, cme_th):
        total = float((th.cycles["flux"] * th.cycles["affinity"]).sum())
        assert total == pytest.approx(th.entropy_production, rel=1e-6, abs=1e-10)


# ------------------------------------------- issue 16 item 3: one law-shape rule for product form
def test_product_form_follows_the_cme_law_shape():
    """``2A <-> B``: ``kf*A*A`` is refused (the CME -- SSA and FSP -- refuses it too: the
    law does not vanish at A = 1); ``kf*A*(A-1)`` and ``kf*A*(A-1)/2`` are stochastic mass
    action, so the stationary law is the product form restricted to the conservation class
    (Anderson, Craciun & Kurtz 2010, doi:10.1007/s11538-010-9517-4), compared with the
    exact FSP to 1e-10."""
    refused = sn.load("r: 2A -> B; kf*A*A - kb*B; kf = 0.01; kb = 1; A = 21; B = 0")
    th = sn.thermodynamics(refused)
    with pytest.raises(ValueError, match="CME"):
        th.product_form_means
    with pytest.raises(sn.SimulationError, match="negative"):
        sn.fsp(refused)  # A = 1 is reachable from 21
    for law in ("kf*A*(A-1)", "kf*A*(A-1)/2"):
        net = sn.load(f"r: 2A -> B; {law} - kb*B; kf = 0.01; kb = 1; A = 20; B = 0")
        th = sn.thermodynamics(net)
        assert th.settings["product_form_exact"] is True
        marginal = sn.fsp(net, tol=1e-12).marginal("A")
        pf = [th.product_form({"A": a, "B": (20 - a) // 2}) if (20 - a) % 2 == 0 else 0.0
              for a in marginal.index]
        assert np.max(np.abs(marginal.to_numpy() - np.array(pf))) < 1e-10
