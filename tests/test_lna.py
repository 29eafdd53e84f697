"""Tests of the linear noise approximation (sbmlnoise/lna/_lna.py).

Expected values come from closed forms (linear networks, where the LNA is exact for the
first two moments), from a Lyapunov equation solved symbolically with sympy inside this
file (independent of scipy and of our code path), or from an exact CME solution built
here (a truncated sparse generator, stationary vector by a direct sparse solve). No
sampling is used, so there are no seeds. Tolerances are stated per test.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sps
import scipy.sparse.linalg as spla
import sympy as sp
from scipy.integrate import quad

import sbmlnoise as sn
from sbmlnoise.errors import NoSteadyState

MODELS = Path(__file__).resolve().parents[1] / "models"
RTOL = 1e-9  # linear networks: the LNA is exact


def rel(a, b):
    return abs(float(a) - float(b)) / max(abs(float(b)), 1e-300)


# --------------------------------------------------------------------------- exact CME
def cme_stationary(net, bounds):
    """Stationary distribution of the CME on the box 0..bounds (counts), built from the
    network's propensities; reactions leaving the box are dropped (reflecting truncation,
    negligible mass at the boundary for the boxes used here). Returns (states, p)."""
    omega = net.system_size
    ranges = [range(b + 1) for b in bounds]
    states = np.array(list(itertools.product(*ranges)), dtype=float)
    shape = tuple(b + 1 for b in bounds)
    n_states = len(states)
    stoich = np.asarray(net.stoichiometry)
    rows, cols, vals = [], [], []
    for s_idx, n in enumerate(states):
        a = net.propensities(n)
        for j in range(net.n_reactions):
            if a[j] <= 0:
                continue
            m = n + stoich[:, j]
            if np.any(m < 0) or np.any(m > np.array(bounds)):
                continue
            t_idx = np.ravel_multi_index(tuple(m.astype(int)), shape)
            rows += [t_idx, s_idx]
            cols += [s_idx, s_idx]
            vals += [a[j], -a[j]]
    gen = sps.csr_matrix((vals, (rows, cols)), shape=(n_states, n_states))
    # replace one balance equation by normalisation
    gen = gen.tolil()
    gen[0, :] = 1.0
    rhs = np.zeros(n_states)
    rhs[0] = 1.0
    p = spla.spsolve(gen.tocsc(), rhs)
    assert omega > 0
    return states, p


# --------------------------------------------------------------------------- sympy Lyapunov
def sympy_lyapunov(jac, diff):
    """Solve J S + S J^T + D = 0 for symmetric S with sympy (exact rational arithmetic)."""
    n = jac.shape[0]
    syms = {}
    for i in range(n):
        for j in range(i, n):
            syms[i, j] = sp.Symbol(f"s{i}{j}")
    s_mat = sp.Matrix(n, n, lambda i, j: syms[min(i, j), max(i, j)])
    eqs = jac * s_mat + s_mat * jac.T + diff
    sol = sp.solve([eqs[i, j] for i in range(n) for j in range(i, n)], list(syms.values()),
                   dict=True)[0]
    return s_mat.subs(sol)


def sympy_lna(stoich, props, state_syms, ss_subs):
    """Independent LNA: J = N da/dn, D = N diag(a) N^T at the substituted steady state."""
    n_mat = sp.Matrix(stoich)
    a = sp.Matrix(props)
    jac = (n_mat * a.jacobian(state_syms)).subs(ss_subs)
    diff = (n_mat * sp.diag(*a) * n_mat.T).subs(ss_subs)
    return sympy_lyapunov(jac, diff)


# --------------------------------------------------------------------------- linear: exact
def test_birth_death_moments_and_spectra():
    k, g = 10.0, 2.0
    net = sn.load(f"model bd; => X; k; X => ; g*X; k = {k}; g = {g}; X = 3; end")
    st = sn.lna(net)
    assert st.method == "lna" and st.time is None
    assert rel(st.mean["X"], k / g) < RTOL
    assert rel(st.variance["X"], k / g) < RTOL
    assert rel(st.fano["X"], 1.0) < RTOL
    assert rel(st.cv["X"], 1 / math.sqrt(k / g)) < RTOL
    lags = np.array([0.0, 0.3, 1.0, -1.0, 4.0])
    ac = st.autocorrelation("X", lags)
    np.testing.assert_allclose(ac.to_numpy(), k / g * np.exp(-g * np.abs(lags)), rtol=RTOL)
    omegas = np.array([0.0, 0.5, 2.0, 10.0])
    np.testing.assert_allclose(st.psd("X", omegas).to_numpy(), 2 * k / (omegas ** 2 + g ** 2),
                               rtol=RTOL)
    assert rel(st.autocorrelation_time("X"), 1 / g) < RTOL
    # EMRE adds nothing for a linear network
    assert rel(st.extra["emre_mean"]["X"], k / g) < RTOL
    assert st.settings["system_size"] == 1.0


def test_psd_is_fourier_transform_of_autocovariance():
    """Sign convention on a 2-D system: S(w) = 2 int_0^inf C(tau) cos(w tau) dtau
    (quad, abs. tolerance 1e-10, compared at relative 1e-6)."""
    net = sn.load(MODELS / "two_stage.ant")
    st = sn.lna(net)
    for w in (0.0, 0.3, 2.0):
        val = 2 * quad(lambda tau: st.autocorrelation("P", [tau]).iloc[0] * math.cos(w * tau),
                       0, 200, limit=400, epsabs=1e-10)[0]
        assert rel(st.psd("P", [w]).iloc[0], val) < 1e-6


@pytest.mark.parametrize("km,gm,kp,gp", [(2.0, 1.0, 5.0, 0.2), (3.0, 0.7, 1.5, 0.7)])
def test_two_stage_closed_form(km, gm, kp, gp):
    net = sn.load(f"""model ts
      => M; km; M => ; gm*M; M => M + P; kp*M; P => ; gp*P
      km = {km}; gm = {gm}; kp = {kp}; gp = {gp}; M = 0; P = 0
    end""")
    st = sn.lna(net)
    m, p = km / gm, km * kp / (gm * gp)
    assert rel(st.mean["M"], m) < RTOL
    assert rel(st.mean["P"], p) < RTOL
    assert rel(st.variance["M"], m) < RTOL
    assert rel(st.fano["P"], 1 + kp / (gm + gp)) < RTOL
    assert rel(st.covariance.loc["M", "P"], m * kp / (gm + gp)) < RTOL


def test_three_stage_against_sympy_lyapunov():
    net = sn.load(MODELS / "three_stage.ant") if (MODELS / "three_stage.ant").exists() else \
        sn.load("""model three_stage
          G_off => G_on; kon*G_off; G_on => G_off; koff*G_on; G_on => G_on + M; ktx*G_on
          M => ; gm*M; M => M + P; kp*M; P => ; gp*P
          kon = 1; koff = 1; ktx = 4; gm = 1; kp = 2; gp = 0.2
          G_off = 1; G_on = 0; M = 0; P = 0
        end""")
    vals = {p.id: p.value for p in net.parameters}
    kon, koff, ktx, gm, kp, gp = (sp.nsimplify(vals[k]) for k in
                                  ("kon", "koff", "ktx", "gm", "kp", "gp"))
    # independent coordinates (G_on, M, P); G_off = 1 - G_on
    g1, m, p = sp.symbols("g1 m p")
    props = [kon * (1 - g1), koff * g1, ktx * g1, gm * m, kp * m, gp * p]
    stoich = [[1, -1, 0, 0, 0, 0], [0, 0, 1, -1, 0, 0], [0, 0, 0, 0, 1, -1]]
    g1s = kon / (kon + koff)
    ms = ktx * g1s / gm
    ps = kp * ms / gp
    s = sympy_lna(stoich, props, [g1, m, p], {g1: g1s, m: ms, p: ps})
    st = sn.lna(net)
    assert rel(st.mean["G_on"], g1s) < RTOL
    assert rel(st.mean["M"], ms) < RTOL
    assert rel(st.mean["P"], ps) < RTOL
    names = ["G_on", "M", "P"]
    for i, j in itertools.product(range(3), repeat=2):
        assert rel(st.covariance.loc[names[i], names[j]], float(s[i, j])) < RTOL
    # the dependent promoter state: G_off = 1 - G_on
    assert rel(st.variance["G_off"], float(s[0, 0])) < RTOL
    assert rel(st.covariance.loc["G_off", "G_on"], -float(s[0, 0])) < RTOL
    assert rel(st.variance["G_on"], float(g1s * (1 - g1s))) < RTOL  # Bernoulli


# --------------------------------------------------------------------------- decomposition
DUAL = """model dual
  => E; kE; E => ; gE*E
  E => E + X; k*E; X => ; g*X
  E => E + Y; k*E; Y => ; g*Y
  kE = {kE}; gE = {gE}; k = {k}; g = {g}; E = 0; X = 0; Y = 0
end"""


def test_dual_reporter_decomposition():
    kE, gE, k, g = 1.0, 0.1, 2.0, 1.0
    net = sn.load(DUAL.format(kE=kE, gE=gE, k=k, g=g))
    assert sn.find_reporter_pairs(net) == [("X", "Y")]
    st = sn.lna(net)
    table = sn.noise_decomposition(st, [("X", "Y")])
    row = table.loc[("X", "Y")]
    # independent sympy Lyapunov solution
    e, x, y = sp.symbols("e x y")
    kEs, gEs, ks, gs = (sp.nsimplify(v) for v in (kE, gE, k, g))
    props = [kEs, gEs * e, ks * e, gs * x, ks * e, gs * y]
    stoich = [[1, -1, 0, 0, 0, 0], [0, 0, 1, -1, 0, 0], [0, 0, 0, 0, 1, -1]]
    es = kEs / gEs
    xs = ks * es / gs
    s = sympy_lna(stoich, props, [e, x, y], {e: es, x: xs, y: xs})
    mean = float(xs)
    int2 = float((s[1, 1] + s[2, 2] - 2 * s[1, 2]) / (2 * xs * xs))
    ext2 = float(s[1, 2] / (xs * xs))
    assert rel(row["eta_int2"], int2) < RTOL
    assert rel(row["eta_ext2"], ext2) < RTOL
    assert rel(row["eta_tot2"], int2 + ext2) < RTOL
    # closed forms: eta_int^2 = 1/<X>, eta_ext^2 = g / (<E> (g + gE))
    assert rel(row["eta_int2"], 1 / mean) < RTOL
    assert rel(row["eta_ext2"], g / (kE / gE * (g + gE))) < RTOL
    assert rel(row["eta_tot2"], st.variance["X"] / st.mean["X"] ** 2) < RTOL


def test_noise_decomposition_time_course_and_errors():
    net = sn.load(DUAL.format(kE=1, gE=0.5, k=2, g=1))
    tc = sn.lna(net, t=[1.0, 2.0])
    table = sn.noise_decomposition(tc, ("X", "Y"))
    assert list(table.index.names) == ["time", "x", "y"] and len(table) == 2
    with pytest.raises(KeyError, match="Z"):
        sn.noise_decomposition(sn.lna(net), [("X", "Z")])


def test_find_reporter_pairs_relabelling_and_negatives():
    # species declared in another order; parameter names differ but values agree
    net = sn.load("""model dual2
      species Y, E, X
      Y => ; gy*Y; => X; kx*E; => E; kE; X => ; gx*X; => Y; ky*E; E => ; gE*E
      kE = 3; gE = 1; kx = 2; ky = 2; gx = 0.5; gy = 0.5; E = 1; X = 4; Y = 4
    end""")
    assert sn.find_reporter_pairs(net) == [("Y", "X")]
    # different degradation: not a pair
    other = sn.load(DUAL.format(kE=1, gE=1, k=2, g=1).replace("g*Y", "2*g*Y"))
    assert sn.find_reporter_pairs(other) == []
    # different initial amounts: not a pair
    other = sn.load(DUAL.format(kE=1, gE=1, k=2, g=1).replace("Y = 0", "Y = 5"))
    assert sn.find_reporter_pairs(other) == []


# --------------------------------------------------------------------------- conservation
def test_closed_isomerisation_is_binomial():
    total, kf, kr = 50, 2.0, 3.0
    net = sn.load(f"model iso; A -> B; kf*A - kr*B; kf = {kf}; kr = {kr}; A = {total}; "
                  "B = 0; end")
    st = sn.lna(net)
    p = kr / (kf + kr)  # stationary probability of a molecule being A
    assert rel(st.mean["A"], total * p) < RTOL
    assert rel(st.variance["A"], total * p * (1 - p)) < RTOL
    assert rel(st.variance["B"], total * p * (1 - p)) < RTOL
    assert rel(st.covariance.loc["A", "B"], -total * p * (1 - p)) < RTOL


def test_reversible_net_law_is_split_for_diffusion():
    """A reversible law that is not mass action (saturation constant K huge, so the network
    is linear to 1e-12): the noise needs forward and reverse channels (the importer splits
    the law by sign; the LNA would split it otherwise), never |net rate|."""
    total, kf, kr = 40, 1.0, 1.0
    net = sn.load(f"model iso2; A -> B; (kf*A - kr*B)/(1 + A/K); kf = {kf}; kr = {kr}; "
                  f"K = 1e15; A = {total}; B = 0; end")
    st = sn.lna(net)
    split_upstream = [r.direction for r in net.reactions] == ["forward", "reverse"]
    assert split_upstream or st.settings["split_reactions"]
    assert rel(st.variance["A"], total * 0.25) < 1e-9


def test_boundary_species_is_constant():
    net = sn.load("""model bnd
      species $S
      S => S + X; k*S; X => ; g*X
      S = 5; k = 2; g = 1; X = 0
    end""")
    st = sn.lna(net)
    assert rel(st.mean["X"], 10.0) < RTOL
    assert rel(st.variance["X"], 10.0) < RTOL
    assert st.variance["S"] == 0.0 and st.mean["S"] == 5.0


# --------------------------------------------------------------------------- concentrations
def test_concentrations_and_system_size():
    k, g, vol, omega = 3.0, 0.5, 2.0, 100.0
    net = sn.load(f"""model conc
      compartment cell = {vol}; species X in cell
      => X; k*cell; X => ; g*X*cell
      k = {k}; g = {g}; X = 0
    end""", system_size=omega)
    st = sn.lna(net)
    # amount at steady state = k cell / g * ... : concentration X = k / g
    conc = k / g
    counts = conc * vol * omega
    assert st.settings["system_size"] == omega
    assert st.settings["system_size_source"] == "user"
    assert rel(st.mean["X"], counts) < RTOL
    assert rel(st.fano["X"], 1.0) < RTOL
    assert rel(st.extra["concentration_mean"]["X"], conc) < RTOL
    assert rel(st.extra["concentration_covariance"].loc["X", "X"], counts / (omega * vol) ** 2) \
        < RTOL


# --------------------------------------------------------------------------- time course
def test_time_dependent_birth_death_is_poisson():
    """From X(0) = 0 the birth-death law stays Poisson: mean = var = (k/g)(1 - e^{-gt});
    integration tolerance rtol 1e-10 -> compare at relative 1e-6."""
    k, g = 10.0, 2.0
    net = sn.load(f"model bd; => X; k; X => ; g*X; k = {k}; g = {g}; X = 0; end")
    times = np.array([0.0, 0.1, 0.5, 1.0, 3.0])
    tc = sn.lna(net, t=times, rtol=1e-10, atol=1e-12)
    assert type(tc).__name__ == "LNATimeCourse"
    expected = k / g * (1 - np.exp(-g * times))
    np.testing.assert_allclose(tc.mean["X"].to_numpy(), expected, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(tc.variance["X"].to_numpy(), expected, rtol=1e-6, atol=1e-12)
    assert len(tc) == 5 and tc[2].time == 0.5
    st = tc.at(-1)
    assert st.method == "lna" and st.time == 3.0
    assert rel(st.variance["X"], expected[-1]) < 1e-6
    single = sn.lna(net, t=1.0, rtol=1e-10, atol=1e-12)
    assert single.time == 1.0 and rel(single.mean["X"], expected[3]) < 1e-6


def test_time_dependent_reaches_stationary_lna():
    net = sn.load(MODELS / "two_stage.ant")
    st = sn.lna(net)
    tc = sn.lna(net, t=[0.0, 100.0], rtol=1e-10, atol=1e-10)
    last = tc.at(1)
    np.testing.assert_allclose(last.covariance.to_numpy(), st.covariance.to_numpy(), rtol=1e-6)


# --------------------------------------------------------------------------- stability
BRUSSELATOR = """model brusselator
  => X; a; X => Y; b*X; 2 X + Y => 3 X; c*X*(X - 1)*Y/2; X => ; X
  a = 10; b = 300; c = 0.02; X = 10; Y = 10
end"""


def test_oscillator_raises_no_steady_state():
    net = sn.load(BRUSSELATOR)
    with pytest.raises(NoSteadyState, match=r"t=times") as info:
        sn.lna(net)
    assert info.value.unstable
    assert np.max(np.real(info.value.eigenvalues)) > 0
    # the time-dependent LNA still runs
    tc = sn.lna(net, t=[0.0, 0.5, 1.0])
    assert np.all(np.isfinite(tc.variance.to_numpy()))


def test_repressilator_raises_no_steady_state():
    path = MODELS / "repressilator.ant"
    if not path.exists():
        pytest.skip("bundled repressilator not present")
    with pytest.raises(NoSteadyState, match="eigenvalues"):
        sn.lna(sn.load(path))


# --------------------------------------------------------------------------- nonlinear vs CME
DIMER = """model dimer
  => P; kp*Om; P => ; gp*P
  2 P => P2; k1*P*(P - 1)/(2*Om); P2 => 2 P; k2*P2
  kp = 5; gp = 1; k1 = 1; k2 = 1; Om = {om}; P = 0; P2 = 0
end"""


@pytest.mark.parametrize("om,bounds", [(1, (30, 60)), (2, (40, 90))])
def test_dimerisation_error_is_order_inverse_omega_and_emre_helps(om, bounds):
    """Exact CME (truncated box; mass near the boundary < 1e-10) against the LNA.

    <P> = kp Om / gp exactly (the dimer flux balances), so only P2 is affected. The LNA
    P2 mean misses k1 Var(P) / (2 k2 Om) ~ O(1) molecules (exact: 0.2 / Om relative):
    assert 0.05 / Om < error < 0.5 / Om. EMRE must cut the error at least fivefold and be
    O(1/Om^2): below 0.05 / Om^2 (observed 0.018 / Om^2)."""
    net = sn.load(DIMER.format(om=om))
    states, p = cme_stationary(net, bounds)
    mean = p @ states
    st = sn.lna(net)
    assert rel(st.mean["P"], mean[0]) < 1e-8
    err_lna = rel(st.mean["P2"], mean[1])
    err_emre = rel(st.extra["emre_mean"]["P2"], mean[1])
    assert 0.05 / om < err_lna < 0.5 / om
    assert err_emre < err_lna / 5
    assert 0 < err_emre < 0.05 / om ** 2


@pytest.mark.parametrize("om", [1, 4])
def test_autoregulation_against_cme(om):
    """Negative autoregulation (Hill n = 2) in 1-D: LNA mean error is O(1/Om) relative and
    nonzero (observed 0.014 / Om: assert 1e-3 / Om < error < 0.05 / Om); EMRE reduces it
    to O(1/Om^2) (observed 1.6e-4 / Om^2: assert below 2e-3 / Om^2); the LNA Fano factor
    is below 1 (negative feedback) and within 0.01 of the exact one."""
    net = sn.load(f"""model autoreg
      => P; vmax*Om/(1 + (P/(K*Om))^2); P => ; g*P
      vmax = 40; K = 10; g = 1; Om = {om}; P = 0
    end""")
    bound = 60 * om + 60
    states, p = cme_stationary(net, (bound,))
    mean = float(p @ states[:, 0])
    var = float(p @ states[:, 0] ** 2 - mean ** 2)
    st = sn.lna(net)
    err_lna = rel(st.mean["P"], mean)
    err_emre = rel(st.extra["emre_mean"]["P"], mean)
    assert 1e-3 / om < err_lna < 0.05 / om
    assert 0 < err_emre < min(err_lna / 5, 2e-3 / om ** 2)
    assert st.fano["P"] < 1
    assert abs(st.fano["P"] - var / mean) < 0.01


def test_emre_time_course_matches_stationary():
    net = sn.load(DIMER.format(om=1))
    st = sn.lna(net)
    tc = sn.lna(net, t=[0.0, 400.0], rtol=1e-10, atol=1e-10)  # slowest mode ~0.1
    assert rel(tc.emre_mean["P2"].iloc[-1], st.extra["emre_mean"]["P2"]) < 1e-5


def test_events_unsupported():
    net = sn.load("""model ev; => X; k; X => ; g*X; k = 1; g = 1; X = 0
      at time > 1: X = 0
    end""")
    with pytest.raises(sn.UnsupportedFeature):
        sn.lna(net)


def test_time_dependent_closed_system_is_binomial():
    """A <-> B from A = N, B = 0: each molecule is A with probability
    pA(t) = p + (1 - p) exp(-(kf + kr) t), p = kr / (kf + kr); counts are binomial.
    Integration rtol 1e-10 -> compare at relative 1e-6."""
    total, kf, kr = 30, 1.0, 0.5
    net = sn.load(f"model iso; A -> B; kf*A - kr*B; kf = {kf}; kr = {kr}; A = {total}; "
                  "B = 0; end")
    times = np.array([0.0, 0.2, 1.0, 5.0])
    tc = sn.lna(net, t=times, rtol=1e-10, atol=1e-12)
    p = kr / (kf + kr)
    pa = p + (1 - p) * np.exp(-(kf + kr) * times)
    np.testing.assert_allclose(tc.mean["A"], total * pa, rtol=1e-6)
    np.testing.assert_allclose(tc.variance["A"], total * pa * (1 - pa), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(tc.covariance[:, 0, 1], -total * pa * (1 - pa), rtol=1e-6,
                               atol=1e-9)


def test_invariant_under_species_relabelling():
    """Declaring the species in another order must not change any statistic (1e-12)."""
    body = "=> M; km; M => ; gm*M; M => M + P; kp*M; P => ; gp*P; km = 2; gm = 1; " \
           "kp = 5; gp = 0.2; M = 0; P = 0"
    a = sn.lna(sn.load(f"model a; species M, P; {body}; end"))
    b = sn.lna(sn.load(f"model b; species P, M; {body}; end"))
    for s1 in ("M", "P"):
        assert rel(a.mean[s1], b.mean[s1]) < 1e-12
        for s2 in ("M", "P"):
            assert rel(a.covariance.loc[s1, s2], b.covariance.loc[s1, s2]) < 1e-12
        assert rel(a.psd(s1, [0.7]).iloc[0], b.psd(s1, [0.7]).iloc[0]) < 1e-12


def test_known_steady_state_keyword():
    net = sn.load("model bd; => X; k; X => ; g*X; k = 10; g = 2; X = 0; end")
    st = sn.lna(net, steady_state=[5.0])
    assert rel(st.variance["X"], 5.0) < RTOL
    with pytest.raises(NoSteadyState, match="not stationary"):
        sn.lna(net, steady_state=[4.0])


def _fsp_or_skip():
    try:
        return sn.fsp
    except (AttributeError, ImportError):
        pytest.skip("sn.fsp not available")


def test_agrees_with_fsp_backend():
    """Cross-backend check against sn.fsp (stationary, its default tol 1e-6): the linear
    two-stage model agrees at relative 1e-5 (the FSP truncation error bound is ~3e-7); on
    the bundled dimerisation model (nonlinear) the EMRE mean is closer to the FSP than
    the LNA mean."""
    fsp = _fsp_or_skip()
    net = sn.load(MODELS / "two_stage.ant")
    fr = fsp(net)
    st = sn.lna(net)
    for s in ("M", "P"):
        assert rel(st.mean[s], fr.stats.mean[s]) < 1e-5
        assert rel(st.variance[s], fr.stats.variance[s]) < 1e-5
    net = sn.load(MODELS / "dimerisation.ant")
    fr = fsp(net)
    st = sn.lna(net)
    exact = fr.stats.mean["P2"]
    assert abs(st.extra["emre_mean"]["P2"] - exact) < abs(st.mean["P2"] - exact) / 5


@pytest.mark.parametrize("law", ["kf*A - kr*B", "C*(kf*A - kr*B)", "-kr*B + kf*A",
                                 "(kf*A - kr*B)/(1 + A/K)", "kf*A*C - (kr*B)*C"])
def test_split_of_net_laws(law):
    """The forward/reverse split of a net law: pos - neg equals the law at random states
    (relative 1e-12) and both parts are non-negative there."""
    from sbmlnoise import expr as ex
    from sbmlnoise.lna._model import _split_signed

    net = sn.load(f"model s; compartment C = 2; species A in C, B in C; A -> B; {law}; "
                  "kf = 2; kr = 3; K = 5; A = 4; B = 7; end")
    if len(net.reactions) == 2:  # the importer split a mass-action law already
        rate = ex.sub(net.reactions[0].rate, net.reactions[1].rate)
    else:
        rate = net.reactions[0].rate
    pos, neg = _split_signed(rate)
    assert neg != ex.ZERO and pos != ex.ZERO
    f = ex.compile_vector([rate, pos, neg], net.slots)
    rng = np.random.default_rng(7)
    for _ in range(5):
        x = rng.uniform(0.1, 10, size=2)
        v, p, n = f(x, net.parameter_values, 0.0, [0.0, 0.0, 0.0])
        assert p >= 0 and n >= 0
        assert abs((p - n) - v) <= 1e-12 * max(abs(p), abs(n))


def test_time_course_repeated_times_and_bad_input():
    net = sn.load("model bd; => X; k; X => ; g*X; k = 10; g = 2; X = 0; end")
    tc = sn.lna(net, t=[0.0, 1.0, 1.0])
    assert tc.mean["X"].iloc[1] == tc.mean["X"].iloc[2]
    with pytest.raises(ValueError):
        sn.lna(net, t=[1.0, 0.5])
    with pytest.raises(ValueError):
        sn.lna(net, t=[0.0, 1.0], steady_state=[5.0])


def test_events_message_names_a_backend_that_handles_events():
    # issue 16 #5: sn.fsp refuses events too, so the LNA must not send users there
    net = sn.load("""model ev; => X; k; X => ; g*X; k = 1; g = 1; X = 0
      at time > 1: X = 0
    end""")
    with pytest.raises(sn.UnsupportedFeature) as info:
        sn.lna(net)
    assert "sn.ssa" in str(info.value) and "sn.fsp" not in str(info.value)


def many_reporters(n):
    lines = ["model many", " => E; kE; E => ; gE*E"]
    lines += [f" => X{i}; k*E; X{i} => ; g*X{i}" for i in range(n)]
    lines += [" kE = 10; gE = 1; k = 2; g = 1; E = 0",
              " " + "; ".join(f"X{i} = 0" for i in range(n)), "end"]
    return sn.load("\n".join(lines))


def test_find_reporter_pairs_scales_with_identical_species():
    # issue 16 #12: 100 identical species took 24 s and 200 over 300 s (cubic); the
    # class-based search is about linear (plus the n(n-1)/2 output pairs)
    import time

    small = many_reporters(3)
    assert sn.find_reporter_pairs(small) == [("X0", "X1"), ("X0", "X2"), ("X1", "X2")]
    net = many_reporters(200)
    t0 = time.perf_counter()
    pairs = sn.find_reporter_pairs(net)
    elapsed = time.perf_counter() - t0
    assert len(pairs) == 200 * 199 // 2
    assert pairs[0] == ("X0", "X1") and pairs[-1] == ("X198", "X199")
    assert elapsed < 20.0, elapsed  # ~2 s on the shared 2-core machine


def test_find_reporter_pairs_two_classes_are_not_merged():
    # X0, X1 read E; Y0, Y1 read F (same rates, same signatures): two classes, no cross
    # pairs; (E, F) is no pair either: swapping E and F alone changes who makes X0
    net = sn.load("""model two
      => E; 5; E => ; E; => F; 5; F => ; F
      => X0; 2*E; X0 => ; X0; => X1; 2*E; X1 => ; X1
      => Y0; 2*F; Y0 => ; Y0; => Y1; 2*F; Y1 => ; Y1
      E = 0; F = 0; X0 = 0; X1 = 0; Y0 = 0; Y1 = 0
    end""")
    assert sn.find_reporter_pairs(net) == [("X0", "X1"), ("Y0", "Y1")]


@pytest.mark.parametrize("omega", [1.0, 50.0, 1e4])
def test_noise_coefficients_are_independent_of_system_size(omega):
    # issue 14 #1. Two-stage model in concentrations: mRNA M (km, gm), protein P (kp, gp).
    # eta_P^2 = 1/<P> + gp / (<M> (gp + gm)) (Thattai & van Oudenaarden 2001), with
    # <M> = Omega km/gm, <P> = Omega km kp/(gm gp): eta_P^2 Omega is independent of Omega.
    km, gm, kp, gp = 2.0, 1.0, 5.0, 0.1
    net = sn.load(f"""model ts; => M; km; M => ; gm*M; => P; kp*M; P => ; gp*P
      km = {km}; gm = {gm}; kp = {kp}; gp = {gp}; M = 0; P = 0; end""", system_size=omega)
    st = sn.lna(net)
    table = sn.noise_coefficients(st)
    m_conc, p_conc = km / gm, km * kp / (gm * gp)
    expected_p = 1 / p_conc + gp / (m_conc * (gp + gm))
    assert rel(table.loc["P", "eta2_omega"], expected_p) < RTOL
    assert rel(table.loc["M", "eta2_omega"], 1 / m_conc) < RTOL
    assert rel(st.extra["noise_coefficients"]["P"], expected_p) < RTOL
    assert table.loc["P", "system_size"] == omega


@pytest.mark.parametrize("name", ["telegraph", "three_stage", "two_stage", "birth_death"])
def test_affine_fast_path_matches_general_steady_state(name):
    # issue 15: linear networks skip the general steady-state search (one exact Newton
    # step); the state must be the one sn.steady_state finds (rtol 1e-9)
    from sbmlnoise.lna._lna import _affine_steady_state, _reduced
    from sbmlnoise.lna._model import problem

    net = sn.load(MODELS / f"{name}.ant")
    fast = _affine_steady_state(net, problem(net), *_reduced(net))
    assert fast is not None
    np.testing.assert_allclose(fast[0], sn.steady_state(net).to_numpy(float), rtol=1e-9,
                               atol=1e-12)


def test_small_lyapunov_solver_matches_bartels_stewart():
    from scipy.linalg import solve_continuous_lyapunov

    from sbmlnoise.lna._lna import _lyapunov

    rng = np.random.default_rng(0)
    for r in (1, 2, 4, 6, 7):
        j = rng.normal(size=(r, r)) - 3 * r * np.eye(r)  # stable
        b = rng.normal(size=(r, r))
        d = b @ b.T
        np.testing.assert_allclose(_lyapunov(j, d), solve_continuous_lyapunov(j, -d),
                                   rtol=1e-10, atol=1e-12)
