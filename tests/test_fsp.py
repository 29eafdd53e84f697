"""Finite state projection: closed forms, exact CMEs and invariants.

Expected values come from theory (Poisson laws, Peccoud & Ycart 1995 telegraph law,
two-stage expression Fano factors, one-species detailed balance) or from a dense master
equation assembled independently in this file. Tolerances are stated per test; the
FSP is deterministic (no seeds).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.special as sp
import scipy.stats as st

import sbmlnoise as sn

from conftest import MODELS
from sbmlnoise.fsp import _space as fsp_space

BIRTH_DEATH = "model bd; => X; k; X => ; g*X; k = 5; g = 1; X = 0; end"
TELEGRAPH = ("model t; G0 => G1; kon*G0; G1 => G0; koff*G1; G1 => G1 + M; ktx*G1; "
             "M => ; g*M; G0=1; G1=0; M=0; kon=1; koff=2; ktx=10; g=1; end")
TWO_STAGE = ("model ge; => M; km; M => ; gm*M; M => M + P; kp*M; P => ; gp*P; "
             "km=2; gm=1; kp=5; gp=0.5; M=0; P=0; end")
CLOSED = "model c; A + B -> C; k1*A*B - k2*C; A=6; B=4; C=1; k1=0.5; k2=2; end"


@pytest.fixture(scope="module")
def bd():
    return sn.fsp(sn.load(BIRTH_DEATH), tol=1e-10)


@pytest.fixture(scope="module")
def telegraph():
    return sn.fsp(sn.load(TELEGRAPH), tol=1e-9)


def _kirchhoff_residual(fr):
    cur = fr.currents()
    n = fr.n_states
    out = (np.bincount(cur.source, weights=cur.net_flux, minlength=n)
           - np.bincount(cur.target, weights=cur.net_flux, minlength=n))
    return np.abs(out).max()


# --------------------------------------------------------------------------- birth-death
def test_birth_death_poisson(bd):
    # stationary law Poisson(k/g) = Poisson(5); tolerance 1e-8 absolute per count
    m = bd.marginal("X")
    assert np.abs(m.to_numpy() - st.poisson(5.0).pmf(m.index.to_numpy())).max() < 1e-8
    assert bd.error_bound < 1e-10
    assert bd.stats.method == "fsp"
    assert bd.stats.mean["X"] == pytest.approx(5.0, rel=1e-8)
    assert bd.stats.fano["X"] == pytest.approx(1.0, rel=1e-8)
    assert set(bd.stats.extra) >= {"error_bound", "n_states", "residual"}


def test_birth_death_autocovariance_and_psd(bd):
    # C(tau) = (k/g) exp(-g |tau|), S(w) = 2k / (w^2 + g^2); rtol 1e-7
    lags = np.array([0.0, 0.3, 1.0, 2.5, -1.0])
    c = bd.stats.autocorrelation("X", lags).to_numpy()
    np.testing.assert_allclose(c, 5.0 * np.exp(-np.abs(lags)), rtol=1e-7, atol=1e-10)
    omegas = np.array([0.0, 0.1, 1.0, 3.0, -2.0])
    s = bd.stats.psd("X", omegas).to_numpy()
    np.testing.assert_allclose(s, 10.0 / (omegas ** 2 + 1.0), rtol=1e-7)
    assert bd.stats.autocorrelation_time("X") == pytest.approx(1.0, rel=1e-7)


def test_birth_death_transient_poisson():
    # from X(0)=0: Poisson with mean (k/g)(1 - exp(-g t)); tolerance 1e-9
    times = [0.0, 0.2, 1.0, 4.0]
    fr = sn.fsp(sn.load(BIRTH_DEATH), t=times, tol=1e-10)
    assert fr.probabilities.shape == (4, fr.n_states)
    for k, t in enumerate(times):
        lam = 5.0 * (1 - np.exp(-t))
        m = fr.marginal("X", k)
        expected = st.poisson(lam).pmf(m.index.to_numpy()) if lam > 0 else (m.index == 0) * 1.0
        assert np.abs(m.to_numpy() - expected).max() < 1e-9
        assert fr.stats_at(k).time == t
        assert fr.stats_at(k).mean["X"] == pytest.approx(lam, abs=1e-8)
    # FSP theorem: probabilities sum to 1 - sink mass, and the sink mass is the bound
    assert fr.probabilities[-1].sum() == pytest.approx(1.0 - fr.error_bound, abs=1e-12)
    assert fr.stats is fr.stats_by_time[-1]


def test_two_sided_bounds_give_conditional_poisson():
    # a reflecting truncation of a birth-death chain keeps detailed balance, so the
    # stationary law on [2, 12] is Poisson(5) conditioned on [2, 12] (tolerance 1e-12);
    # the bound must cover the true mass outside
    with pytest.warns(UserWarning):
        fr = sn.fsp(sn.load(BIRTH_DEATH), bounds={"X": (2, 12)})
    n = np.arange(2, 13)
    exact = st.poisson(5.0).pmf(n) / st.poisson(5.0).pmf(n).sum()
    m = fr.marginal("X")
    assert m.loc[0:1].sum() == 0
    np.testing.assert_allclose(m.loc[2:12].to_numpy(), exact, atol=1e-12)
    outside = st.poisson(5.0).cdf(1) + st.poisson(5.0).sf(12)
    assert fr.error_bound >= outside


def test_telegraph_transient_means():
    # linear network: exact means from the moment equations, G1(0) = 0, M(0) = 0;
    # s = kon + koff, a = kon / s: <G1> = a (1 - e^{-s t}),
    # <M> = ktx a / g (1 - e^{-g t}) - ktx a / (g - s) (e^{-s t} - e^{-g t}); atol 1e-8
    kon, koff, ktx, g = 1.0, 2.0, 10.0, 1.0
    s, a = kon + koff, kon / (kon + koff)
    times = np.array([0.1, 0.5, 2.0])
    fr = sn.fsp(sn.load(TELEGRAPH), t=times, tol=1e-10)
    for k, t in enumerate(times):
        m_exact = ktx * a / g * (1 - np.exp(-g * t)) - ktx * a / (g - s) * (np.exp(-s * t)
                                                                          - np.exp(-g * t))
        assert fr.stats_at(k).mean["G1"] == pytest.approx(a * (1 - np.exp(-s * t)), abs=1e-8)
        assert fr.stats_at(k).mean["M"] == pytest.approx(m_exact, abs=1e-8)
    assert fr.error_bound <= 1e-10


def test_error_bound_covers_true_tail():
    # with the cap fixed by `bounds`, the stationary bound must cover the Poisson tail
    net = sn.load(BIRTH_DEATH)
    for cap in (8, 12, 18):
        with pytest.warns(UserWarning, match="capped by `bounds`"):
            fr = sn.fsp(net, bounds={"X": cap}, tol=1e-14)
        true_tail = st.poisson(5.0).sf(cap)
        assert true_tail <= fr.error_bound <= 3 * true_tail


def test_transient_bound_is_sink_mass():
    # a tight cap makes the transient error visible; it must bound the L1 error
    net = sn.load(BIRTH_DEATH)
    with pytest.warns(UserWarning):
        fr = sn.fsp(net, t=[2.0], bounds={"X": 6})
    lam = 5.0 * (1 - np.exp(-2.0))
    exact = st.poisson(lam).pmf(np.arange(7))
    l1 = np.abs(fr.marginal("X").to_numpy() - exact).sum() + st.poisson(lam).sf(6)
    assert fr.error_bound > 0
    assert l1 <= fr.error_bound + 1e-12


# --------------------------------------------------------------------------- telegraph
def test_telegraph_peccoud_ycart(telegraph):
    # Peccoud & Ycart (1995) Poisson-Beta law; absolute tolerance 1e-8 per count
    kon, koff, ktx, g = 1.0, 2.0, 10.0, 1.0
    m = telegraph.marginal("M")
    n = m.index.to_numpy().astype(float)
    a, b = kon / g, (kon + koff) / g
    log_pref = (n * np.log(ktx / g) - sp.gammaln(n + 1) + sp.gammaln(a + n) - sp.gammaln(a)
                + sp.gammaln(b) - sp.gammaln(b + n))
    exact = np.exp(log_pref) * sp.hyp1f1(a + n, b + n, -ktx / g)
    assert np.abs(m.to_numpy() - exact).max() < 1e-8
    fano = 1 + ktx * koff / ((kon + koff) * (kon + koff + g))
    assert telegraph.stats.fano["M"] == pytest.approx(fano, rel=1e-6)
    assert telegraph.stats.mean["M"] == pytest.approx(ktx * kon / ((kon + koff) * g), rel=1e-8)
    assert telegraph.marginal("G1").to_numpy() == pytest.approx([2 / 3, 1 / 3], abs=1e-10)


def test_telegraph_temporal_statistics_linear_theory(telegraph):
    # propensities are linear, so the moment equations close: with y = (G1, M),
    # J = [[-(kon+koff), 0], [ktx, -g]], D = sum_j nu_j nu_j^T a_j(mean),
    # J S + S J^T + D = 0, C(tau) = [expm(J tau) S]_MM, PSD = 2 Re[(i w - J)^-1 S]_MM.
    kon, koff, ktx, g = 1.0, 2.0, 10.0, 1.0
    g1, m = kon / (kon + koff), ktx * kon / ((kon + koff) * g)
    jac = np.array([[-(kon + koff), 0.0], [ktx, -g]])
    d = np.diag([kon * (1 - g1) + koff * g1, ktx * g1 + g * m])
    sigma = sla.solve_continuous_lyapunov(jac, -d)
    assert telegraph.stats.variance["M"] == pytest.approx(sigma[1, 1], rel=1e-7)
    lags = np.array([0.0, 0.2, 1.0, 3.0])
    expected = [(sla.expm(jac * t) @ sigma)[1, 1] for t in lags]
    np.testing.assert_allclose(telegraph.stats.autocorrelation("M", lags).to_numpy(),
                               expected, rtol=1e-6)
    omegas = np.array([0.0, 0.5, 2.0, 10.0])
    psd = [2 * np.real(np.linalg.solve(1j * w * np.eye(2) - jac, sigma))[1, 1] for w in omegas]
    np.testing.assert_allclose(telegraph.stats.psd("M", omegas).to_numpy(), psd, rtol=1e-6)


def test_large_counts_box_is_centred():
    # Omega = 1000: Poisson(1000); the stationary box is centred on the rate-equation state
    # (lower cap > 0) and still reproduces the pmf to 1e-10
    net = sn.load("model s; => X; k; X => ; g*X; k = 1; g = 1; X = 0; end", system_size=1000)
    fr = sn.fsp(net, tol=1e-10)
    assert fr.states[:, 0].min() > 0
    assert fr.n_states < 1000
    m = fr.marginal("X")
    assert np.abs(m.to_numpy() - st.poisson(1000).pmf(m.index.to_numpy())).max() < 1e-10
    assert fr.probabilities.sum() == pytest.approx(1.0, abs=1e-12)


def test_telegraph_invariants(telegraph):
    fr = telegraph
    p = fr.probabilities
    assert p.min() >= 0
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert p.sum() >= 1.0 - fr.error_bound - 1e-12
    # the reflecting generator annihilates p; the sink generator loses only the outflow
    assert fr.residual() < 1e-10
    # ||A p||_1 with the sink generator is the stationary flux across the boundary
    assert np.abs(fr.generator @ p).sum() == pytest.approx(fr.extra["outflow"], rel=1e-6)
    assert fr.extra["outflow"] < 1e-7
    # column convention: columns of the sink generator sum to minus the outflow (<= 0)
    colsum = np.asarray(fr.generator.sum(axis=0)).ravel()
    assert colsum.max() < 1e-9
    # conservation law G0 + G1 = 1 holds on every state
    assert np.all(fr.states[:, 0] + fr.states[:, 1] == 1)
    assert _kirchhoff_residual(fr) < 1e-12


def test_transitions_and_currents_structure(telegraph):
    fr = telegraph
    tr = fr.transitions
    assert list(tr.columns) == ["source", "target", "reaction", "rate"]
    assert set(tr.reaction.astype(str)) == {r.id for r in sn.load(TELEGRAPH).reactions}
    # rate = propensity at the source state
    net = sn.load(TELEGRAPH)
    rows = tr.sample(20, random_state=0)
    ids = [r.id for r in net.reactions]
    for _, row in rows.iterrows():
        a = net.propensities(fr.states[row.source])
        assert row.rate == pytest.approx(a[ids.index(str(row.reaction))])
        assert np.any(fr.states[row.target] != fr.states[row.source])
    cur = fr.currents()
    assert list(cur.columns) == ["source", "target", "forward_flux", "backward_flux",
                                 "net_flux"]
    assert np.all(cur.source < cur.target)
    assert not cur.duplicated(["source", "target"]).any()
    i = fr.state_index((0, 1, 3))
    assert tuple(fr.states[i]) == (0, 1, 3)
    with pytest.raises(KeyError):
        fr.state_index((5, 5, 5))


# --------------------------------------------------------------------------- two-stage
def test_two_stage_protein_fano():
    # constitutive two-stage model: <M> = km/gm, <P> = km kp/(gm gp),
    # Fano(P) = 1 + kp/(gm + gp) (Thattai & van Oudenaarden 2001); rtol 1e-6
    km, gm, kp, gp = 2.0, 1.0, 5.0, 0.5
    fr = sn.fsp(sn.load(TWO_STAGE), tol=1e-7)
    assert fr.error_bound < 1e-7
    assert fr.stats.mean["M"] == pytest.approx(km / gm, rel=1e-6)
    assert fr.stats.mean["P"] == pytest.approx(km * kp / (gm * gp), rel=1e-6)
    assert fr.stats.fano["P"] == pytest.approx(1 + kp / (gm + gp), rel=1e-6)
    assert fr.stats.fano["M"] == pytest.approx(1.0, rel=1e-6)
    assert _kirchhoff_residual(fr) < 1e-12
    # covariance Cov(M, P) = <M> kp/(gm + gp) (linear-noise exact for linear networks)
    assert fr.stats.covariance.loc["M", "P"] == pytest.approx(km / gm * kp / (gm + gp),
                                                              rel=1e-6)


# --------------------------------------------------------------------------- closed system
def _dense_closed_cme(a0, b0, c0, k1, k2):
    """Independent dense CME of A + B <-> C: index the states by C."""
    cmax = c0 + min(a0, b0)
    cs = np.arange(cmax + 1)
    a, b = a0 + c0 - cs, b0 + c0 - cs
    q = np.zeros((cs.size, cs.size))
    for i, c in enumerate(cs):
        fwd, bwd = k1 * a[i] * b[i], k2 * c
        if i + 1 < cs.size:
            q[i + 1, i] += fwd
        if i > 0:
            q[i - 1, i] += bwd
        q[i, i] -= (fwd if i + 1 < cs.size else 0) + (bwd if i > 0 else 0)
    null = sla.null_space(q)[:, 0]
    return cs, null / null.sum()


def test_closed_system_against_dense_cme():
    net = sn.load(CLOSED)
    fr = sn.fsp(net)
    assert fr.error_bound == 0.0
    cs, p = _dense_closed_cme(6, 4, 1, 0.5, 2.0)
    assert fr.n_states == cs.size
    for c, prob in zip(cs, p):
        i = fr.state_index((6 + 1 - c, 4 + 1 - c, c))
        assert fr.probabilities[i] == pytest.approx(prob, abs=1e-12)
    # conservation laws hold on every state
    laws = net.conservation_laws
    assert np.all(fr.states @ laws.T == net.initial_state.astype(int) @ laws.T)
    # a closed reversible system is detailed balanced: every net current vanishes
    assert np.abs(fr.currents().net_flux).max() < 1e-12


def test_closed_system_transient_matches_dense_expm():
    net = sn.load(CLOSED)
    fr = sn.fsp(net, t=[0.1, 0.7])
    cs = np.arange(6)  # C from 0 to 5 (B limits)
    a, b = 7 - cs, 5 - cs
    q = np.diag(-(0.5 * a * b * (cs < 5) + 2.0 * cs))
    q[cs[1:], cs[:-1]] = 0.5 * a[:-1] * b[:-1]
    q[cs[:-1], cs[1:]] = 2.0 * cs[1:]
    p0 = (cs == 1).astype(float)
    for k, t in enumerate([0.1, 0.7]):
        exact = sla.expm(q * t) @ p0
        got = [fr.probabilities[k, fr.state_index((7 - c, 5 - c, c))] for c in cs]
        np.testing.assert_allclose(got, exact, atol=1e-10)
    assert fr.error_bound < 1e-12


# --------------------------------------------------------------------------- general laws
def test_hill_birth_death_detailed_balance():
    # one species: p(n+1)/p(n) = b(n) / (g (n+1)) for any birth rate b (tolerance 1e-9)
    text = "model h; => X; v*K^2/(K^2+X^2); X => ; g*X; v=20; K=10; g=1; X=0; end"
    net = sn.load(text)
    assert net.reactions[0].mass_action is None
    fr = sn.fsp(net, tol=1e-12)
    m = fr.marginal("X").to_numpy()
    n = np.arange(m.size)
    b = 20 * 100 / (100 + n ** 2.0)
    logp = np.concatenate([[0.0], np.cumsum(np.log(b[:-1] / (n[1:] * 1.0)))])
    exact = np.exp(logp - sp.logsumexp(logp))
    assert np.abs(m - exact).max() < 1e-9
    # vectorised propensities agree with the network's scalar evaluation
    props = fsp_space.Propensities(net, np.arange(net.n_reactions))(fr.states)
    scalar = np.array([net.propensities(s) for s in fr.states])
    np.testing.assert_allclose(props, scalar, rtol=1e-12)


def test_system_size_scales_counts():
    # concentration units with Omega = 20: birth 1 conc/time, death 1/time -> Poisson(20)
    net = sn.load("model s; => X; k; X => ; g*X; k = 1; g = 1; X = 0; end", system_size=20)
    fr = sn.fsp(net, tol=1e-10)
    m = fr.marginal("X")
    assert np.abs(m.to_numpy() - st.poisson(20).pmf(m.index.to_numpy())).max() < 1e-8
    assert fr.settings["system_size"] == 20


def test_species_relabelling_invariance():
    a = sn.fsp(sn.load(TWO_STAGE), tol=1e-7)
    swapped = ("model ge2; P => ; gp*P; M => M + P; kp*M; M => ; gm*M; => M; km; "
               "P=0; M=0; km=2; gm=1; kp=5; gp=0.5; end")
    b = sn.fsp(sn.load(swapped), tol=1e-7)
    for sid in ("M", "P"):
        assert a.stats.variance[sid] == pytest.approx(b.stats.variance[sid], rel=1e-8)


def test_dict_enumeration_matches_box(monkeypatch):
    # the BFS/dict fallback used for huge boxes gives the same projection
    net = sn.load(TELEGRAPH)
    box = sn.fsp(net, bounds={"M": 40})
    monkeypatch.setattr(fsp_space, "DENSE_BOX_LIMIT", 0)
    bfs = sn.fsp(net, bounds={"M": 40})
    assert bfs.n_states == box.n_states
    order = [box.state_index(tuple(s)) for s in bfs.states]
    np.testing.assert_allclose(bfs.probabilities, box.probabilities[order], atol=1e-14)


# --------------------------------------------------------------------------- errors
def test_state_space_too_large_message():
    net = sn.load("model b; => A; k; k = 1; A = 0; end")
    with pytest.raises(sn.StateSpaceTooLarge) as err:
        sn.fsp(net, max_states=500)
    msg = str(err.value)
    assert "max_states=500" in msg and "species A" in msg and "estimate" in msg


def test_state_space_too_large_before_enumeration():
    # three species at ~10^4 copies: the box alone is far above max_states
    text = ("model big; => A; k; A => ; g*A; => B; k; B => ; g*B; => C; k; C => ; g*C; "
            "k = 10000; g = 1; A = 0; B = 0; C = 0; end")
    with pytest.raises(sn.StateSpaceTooLarge, match="max_states=10,000") as err:
        sn.fsp(sn.load(text), max_states=10_000)
    assert "estimate" in str(err.value) and "A, B, C" in str(err.value)


def test_iterative_fallback_matches_direct(monkeypatch):
    # force the GMRES + ILU path: Poisson(5) law to 1e-8 again
    from sbmlnoise.fsp import _linear as fsp_solve

    monkeypatch.setattr(fsp_solve, "DIRECT_LIMIT", 0)
    fr = sn.fsp(sn.load(BIRTH_DEATH), tol=1e-10)
    assert fr.extra["solver"] == "gmres+ilu"
    m = fr.marginal("X")
    assert np.abs(m.to_numpy() - st.poisson(5.0).pmf(m.index.to_numpy())).max() < 1e-8


def test_three_dimensional_iterative_path(monkeypatch):
    # dual reporter (E drives X and Y): linear, so exact moments are
    # <E> = kE/gE, <X> = k<E>/g, Cov(E, X) = k Var(E)/(g + gE), and
    # Cov(X, Y) = k Cov(E, X) / g (X, Y independent given E; moment equations);
    # GMRES+ILU forced for the 3-D solve; rtol 1e-6
    import sys

    text = ("model dr; => E; kE; E => ; gE*E; E => E + X; k*E; X => ; g*X; "
            "E => E + Y; k*E; Y => ; g*Y; kE = 2; gE = 0.5; k = 1; g = 1; "
            "E = 0; X = 0; Y = 0; end")
    net = sn.load(text)
    sn.fsp  # noqa: B018 - make sure the module is loaded
    monkeypatch.setattr(sys.modules["sbmlnoise.fsp._solver"], "ITERATIVE_ABOVE", 0)
    fr = sn.fsp(net, tol=1e-7)
    assert fr.extra["solver"] == "gmres+ilu"
    kE, gE, k, g = 2.0, 0.5, 1.0, 1.0
    e = kE / gE
    cov_ex = k * e / (g + gE)
    cov_xy = k * cov_ex / g
    var_x = k * e / g + cov_xy
    s = fr.stats
    assert s.mean["E"] == pytest.approx(e, rel=1e-6)
    assert s.mean["X"] == pytest.approx(k * e / g, rel=1e-6)
    assert s.covariance.loc["E", "X"] == pytest.approx(cov_ex, rel=1e-6)
    assert s.covariance.loc["X", "Y"] == pytest.approx(cov_xy, rel=1e-6)
    assert s.variance["X"] == pytest.approx(var_x, rel=1e-6)
    assert _kirchhoff_residual(fr) < 1e-12


def test_time_dependent_and_events_rejected():
    with pytest.raises(sn.UnsupportedFeature, match="time"):
        sn.fsp(sn.load("model td; => X; k*time; X => ; g*X; k = 1; g = 1; X = 0; end"))
    ev = sn.load("model ev; => X; k; X => ; g*X; k = 1; g = 1; X = 0; "
                 "E1: at time > 1: k = 2; end")
    with pytest.raises(sn.UnsupportedFeature, match="event"):
        sn.fsp(ev)


def test_non_integer_stoichiometry_rejected():
    net = sn.load("model n; => X; k; X => 0.5 Y; g*X; k = 1; g = 1; X = 0; Y = 0; end")
    with pytest.raises(sn.UnsupportedFeature, match="fsp"):
        sn.fsp(net)


def test_bad_arguments():
    net = sn.load(BIRTH_DEATH)
    with pytest.raises(ValueError):
        sn.fsp(net, t=[1.0, 0.5])
    with pytest.raises(ValueError):
        sn.fsp(net, tol=0)
    with pytest.raises(KeyError):
        sn.fsp(net, bounds={"nope": 3})
    with pytest.raises(ValueError, match="outside its bounds"):
        sn.fsp(net, t=[1.0], bounds={"X": (2, 12)})


def test_law_positive_without_enough_molecules_is_an_error_not_a_dropped_edge():
    # k*P*P is positive at P = 1 although 2 P => needs two molecules: the CME of this law
    # is undefined, so the FSP must refuse (as the SSA does) instead of silently dropping.
    net = sn.load("model m; species P; R: 2 P => ; k*P*P; P = 3; k = 1; end")
    with pytest.raises(sn.SimulationError, match="'R'.*negative"):
        sn.fsp(net)


def test_one_reversible_law_equals_two_irreversible_reactions():
    # the bundled dimerisation writes 2P -> P2 as two reactions; the same chemistry in one
    # reversible law is split by sign on import, so the exact CME answer must be identical
    two = sn.load(MODELS / "dimerisation.ant")
    text = (MODELS / "dimerisation.ant").read_text(encoding="utf-8")
    text = text.replace("dimerise: 2 P => P2; k1*P*(P - 1)/2;",
                        "dimerise: 2 P -> P2; k1*P*(P - 1)/2 - k2*P2;")
    text = text.replace("dissociate: P2 => 2 P; k2*P2;", "")
    one = sn.load(text)
    assert one.n_reactions == two.n_reactions
    a, b = sn.fsp(one).stats, sn.fsp(two).stats
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-9)
    np.testing.assert_allclose(a.covariance, b.covariance, rtol=1e-8)


# --------------------------------------------------------- issue 16 item 2: reachable states
def test_promoter_law_negative_only_in_unreachable_states():
    """``on: => G; kon*(1-G)`` is negative at G=2, which the chain never reaches from G=0:
    the projection keeps only states reachable from the initial state, so the telegraph
    law comes out exactly (P(G=1) = kon/(kon+koff); M Fano = 1 + km*koff/((kon+koff)
    (kon+koff+g)), Peccoud & Ycart 1995, doi:10.1006/tpbi.1995.1027)."""
    net = sn.load("""
        on: => G; kon*(1-G)
        off: G => ; koff*G
        tx: => M; km*G
        deg: M => ; g*M
        kon = 1; koff = 2; km = 10; g = 1; G = 0; M = 0
    """)
    res = sn.fsp(net, tol=1e-8)
    st_ = res.stats
    assert st_.mean["G"] == pytest.approx(1 / 3, rel=1e-7)
    assert st_.mean["M"] == pytest.approx(10 / 3, rel=1e-6)
    assert st_.fano["M"] == pytest.approx(1 + 10 * 2 / (3 * 4), rel=1e-6)
    assert set(res.marginal("G").index) == {0, 1}
    # started at G = 3 the law is negative: the rate equations run 'on' backwards, and so
    # does its negative-part channel max(-v, 0) (G -> 0 at kon*(G-1)); the chain falls to
    # {0, 1} and has the same stationary law, P(G=1) = kon/(kon+koff)
    low = sn.load("on: => G; kon*(1-G); off: G => ; koff*G; kon = 1; koff = 2; G = 3")
    assert [r.direction for r in low.reactions][:2] == ["forward", "reverse"]
    st_low = sn.fsp(low, tol=1e-9).stats
    assert st_low.mean["G"] == pytest.approx(1 / 3, rel=1e-7)


# ------------------------------------------ issue 16 items 5, 17: size message and estimate
def test_too_large_message_for_mole_units_shows_the_real_mean():
    """Birth-death in mole units: mean k/g = 5 mol = 3.01e24 molecules (N_A = 6.022e23
    exactly by the 2019 SI); the message must centre the ranges there, not near 1e15."""
    net = sn.load("model m\nunit substance = mole\n=> X; k; X => ; g*X; k = 5; g = 1; "
                  "X = 0\nend")
    mean = 5 * 6.02214076e23
    with pytest.raises(sn.StateSpaceTooLarge) as info:
        sn.fsp(net)
    text = str(info.value)
    assert f"X = {mean:.6g} +-" in text and "e+15" not in text
    assert "LNA" in text


def test_projected_states_is_the_fsp_first_box():
    """The pre-check estimate is the FSP's own first box: birth-death mean 1e6 -> range
    mean +- (8 sqrt(mean+1) + 10) -> 16,021 states, and the FSP reports the same box
    (k_sd 3 after narrowing: 6,023) rather than the 1e6 of a 0..mean+6 sd estimate."""
    from sbmlnoise.fsp._solver import projected_states

    net = sn.load("=> X; k; X => ; g*X; k = 1e6; g = 1; X = 0")
    sd = 8 * np.sqrt(1e6 + 1) + 10
    assert projected_states(net) == pytest.approx(2 * sd + 1, rel=1e-9)
    assert projected_states(net, [1e6], k_sd=3.0) == pytest.approx(
        2 * (3 * np.sqrt(1e6 + 1) + 10) + 1, rel=1e-9)
    with pytest.raises(sn.StateSpaceTooLarge, match="about 6,02[0-9] states"):
        sn.fsp(net, max_states=1000)


# ------------------------------- issue 15: autocovariance at a cost independent of lag x rate
def test_two_stage_autocovariance_by_shift_invert_krylov():
    """Two-stage model (linear: the exact covariance function is C(tau) = expm(J tau)
    Sigma with the LNA's Sigma, exact here). Lags out to 40 protein lifetimes come from one
    Krylov basis per species (no expm_multiply stepping whose cost grows with lag x rate);
    agreement to the FSP tolerance, 1e-6 of C(0)."""
    import scipy.linalg as sla

    net = sn.load("=> M; 2; M => ; 0.5*M; M => M + P; 4*M; P => ; 0.1*P; M = 0; P = 0")
    fr = sn.fsp(net, tol=1e-9)
    lags = np.concatenate([[0.0, 0.01], np.linspace(0.5, 400.0, 60)])
    J = np.array([[-0.5, 0.0], [4.0, -0.1]])
    sigma = sn.lna(net).covariance.to_numpy()
    for i, sid in enumerate(("M", "P")):
        exact = np.array([(sla.expm(J * t) @ sigma)[i, i] for t in lags])
        got = fr.stats.autocorrelation(sid, lags).to_numpy()
        assert np.max(np.abs(got - exact)) < 1e-6 * exact[0], sid
    temporal = fr.stats.autocovariance_function.__self__
    assert all(info["converged"] and info["m"] <= 100
               for info in temporal.krylov_info.values())
