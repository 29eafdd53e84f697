"""Tests of the exact SSA backend (sbmlnoise/ssa).

Expected values are closed forms (Poisson birth-death, telegraph and two-stage models,
exponential decay after an event) or exact identities (conservation laws, equality with
``net.propensities``). Every statistical check states its seed, sample size and bound;
bounds are 4-5 standard errors (batch means or ensemble SE), so a correct simulator fails
with probability < 1e-4 per check for the stated seed-independent reasons.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

import sbmlnoise as sn
from sbmlnoise.ssa import METHODS, EnsembleResult, ssa_stationary
from sbmlnoise.ssa._kernels import _propensities_at
from sbmlnoise.ssa._model import build_model

from conftest import MODELS

BD = "model bd; => X; k; X => ; g*X; X = 0; k = 10; g = 1; end"
TELEGRAPH = ("model t; G0 => G1; kon*G0; G1 => G0; koff*G1; G1 => G1 + M; ktx*G1; "
             "M => ; g*M; G0=1; G1=0; M=0; kon=1; koff=2; ktx=10; g=1; end")
TWO_STAGE = ("model ts; => M; km; M => ; gm*M; M => M + P; kp*M; P => ; gp*P; "
             "M = 0; P = 0; km = 2; gm = 1; kp = 5; gp = 0.5; end")


def _chain(n: int) -> str:
    """Linear chain X0 <-> X1 <-> ... <-> X{n-1} with immigration and death:
    2(n-1) + 2 irreversible channels (n=21 gives 42 channels)."""
    lines = ["model chain", " => X0; 5"]
    for i in range(n - 1):
        lines.append(f" X{i} => X{i+1}; 1.0*X{i}")
        lines.append(f" X{i+1} => X{i}; 0.5*X{i+1}")
    lines.append(f" X{n-1} => ; 1.0*X{n-1}")
    lines += [f" X{i} = 0" for i in range(n)]
    lines.append("end")
    return "\n".join(lines)


# --------------------------------------------------------------------------- propensities
@pytest.mark.parametrize("text, system_size", [
    ("model m; A + B => C; k1*A*B; 2 A => D; k2*A^2; C => ; k3*C; => A; k0; "
     "A = 5; B = 7; C = 1; D = 0; k0 = 2; k1 = 0.3; k2 = 0.1; k3 = 1.5; end", None),
    ("model m; compartment V = 2.5; species A in V, B in V; A + B => 2 B; k*A*B; "
     "B => A; kb*B; A = 3; B = 4; k = 0.7; kb = 0.2; end", 100.0),
    ("model h; => P; vmax*A^n/(K^n + A^n); P => ; g*P; A -> ; kd*A; "
     "A = 10; P = 0; vmax = 5; K = 3; n = 2; g = 1; kd = 0.1; end", 10.0),
])
def test_propensities_equal_network(text, system_size):
    """Kernel propensities (mass-action fast path and interpreter) == net.propensities."""
    net = sn.load(text, system_size=system_size)
    model = build_model(net)
    rng = np.random.default_rng(0)
    p = np.asarray(net.parameter_values, float)
    for _ in range(20):
        x = rng.integers(0, 50, size=net.n_species).astype(float)
        got = _propensities_at(model, x, p, 0.0, np.zeros(net.n_reactions))
        np.testing.assert_allclose(got, net.propensities(x, 0.0), rtol=1e-12, atol=1e-300)
    if "vmax" not in text:
        assert model.ma_flag.sum() == net.n_reactions  # all on the fast path


# --------------------------------------------------------------------------- ensembles
def test_birth_death_ensemble_poisson():
    """From X(0)=0, X(t) ~ Poisson(k/g (1 - e^{-g t})): mean and variance both equal
    that value. 4000 runs, seed 11, bound 4.5 SE."""
    net = sn.load(BD)
    times = np.array([0.0, 0.5, 1.0, 2.0, 5.0])
    ens = sn.ssa(net, times=times, runs=4000, seed=11)
    assert isinstance(ens, EnsembleResult) and ens.runs == 4000
    lam = 10 * (1 - np.exp(-times))
    m = ens.mean["X"].to_numpy()
    v = ens.variance["X"].to_numpy()
    assert m[0] == 0 and v[0] == 0
    se_m = np.sqrt(lam[1:] / 4000)
    assert np.all(np.abs(m[1:] - lam[1:]) < 4.5 * se_m)
    # SE of a Poisson sample variance: sqrt((mu4 - sigma^4)/n) = sqrt((lam + 2 lam^2)/n)
    se_v = np.sqrt((lam[1:] + 2 * lam[1:] ** 2) / 4000)
    assert np.all(np.abs(v[1:] - lam[1:]) < 4.5 * se_v)
    assert ens.stderr["mean"].shape == ens.mean.shape


@pytest.mark.parametrize("method", sorted(METHODS))
def test_methods_agree_on_decay(method):
    """Pure decay X -> 0 from 50: X(t) ~ Binomial(50, e^{-t}); 2000 runs, seed 3."""
    net = sn.load("model d; X => ; X; X = 50; end")
    ens = sn.ssa(net, times=[0.0, 0.7, 2.0], runs=2000, seed=3, method=method)
    assert ens.method == method
    p = np.exp(-np.array([0.7, 2.0]))
    mean, var = 50 * p, 50 * p * (1 - p)
    got = ens.mean["X"].to_numpy()[1:]
    assert np.all(np.abs(got - mean) < 4.5 * np.sqrt(var / 2000))


def test_large_network_sorting_matches_direct():
    """42-channel chain: 'auto' picks the sorting method; its means agree with the
    direct method within 5 combined SE (1000 runs each, seeds 1 and 2), and the total
    matches the immigration-death closed form at t=3."""
    net = sn.load(_chain(21))
    assert net.n_reactions >= 40 and net.n_species >= 20
    t = [0.0, 3.0]
    a = sn.ssa(net, times=t, runs=1000, seed=1)
    b = sn.ssa(net, times=t, runs=1000, seed=2, method="direct")
    assert a.method == "sorting" and b.method == "direct"
    diff = (a.mean - b.mean).to_numpy()[1]
    se = np.sqrt((a.variance.to_numpy()[1] + b.variance.to_numpy()[1]) / 1000) + 1e-12
    assert np.all(np.abs(diff) < 5 * se)


def test_boundary_species_stay_fixed():
    """Boundary ($S) species are reactants/products but never change."""
    net = sn.load("model b; $S => X; k*S; X => $W; X; S = 4; W = 0; X = 0; k = 2.5; end")
    ens = sn.ssa(net, times=[0.0, 1.0, 5.0], runs=200, seed=8, keep_trajectories=200)
    traj = ens.trajectories
    assert np.all(traj[:, :, net.index("S")] == 4) and np.all(traj[:, :, net.index("W")] == 0)
    lam = 10 * (1 - np.exp(-5.0))
    assert abs(ens.mean.loc[5.0, "X"] - lam) < 4.5 * np.sqrt(lam / 200)


def test_conservation_covariance_exact():
    """A <-> B with A + B = 20: at every time cov(A, B) = -var(A) = -var(B) exactly."""
    net = sn.load("model c; A => B; 1.0*A; B => A; 0.5*B; A = 20; B = 0; end")
    ens = sn.ssa(net, times=[0.0, 0.3, 1.0, 4.0], runs=500, seed=5, covariance=True)
    for t in (0.3, 1.0, 4.0):
        c = ens.covariance.loc[t]
        assert c.loc["A", "B"] == pytest.approx(-c.loc["A", "A"], rel=1e-9, abs=1e-9)
        assert c.loc["A", "A"] == pytest.approx(ens.variance.loc[t, "A"], rel=1e-9)
    st = ens.statistics(4.0)
    assert st.method == "ssa" and st.time == 4.0


def test_seed_reproducible_across_workers():
    """Same seed -> bit-identical moments and kept trajectories for 1 and 2 workers."""
    net = sn.load(TELEGRAPH)
    times = np.linspace(0, 5, 11)
    one = sn.ssa(net, times=times, runs=300, seed=123, workers=1, keep_trajectories=100, covariance=True)
    two = sn.ssa(net, times=times, runs=300, seed=123, workers=2, keep_trajectories=100, covariance=True)
    np.testing.assert_array_equal(one.mean.to_numpy(), two.mean.to_numpy())
    np.testing.assert_array_equal(one.variance.to_numpy(), two.variance.to_numpy())
    np.testing.assert_array_equal(one.covariance.to_numpy(), two.covariance.to_numpy())
    np.testing.assert_array_equal(one.trajectories, two.trajectories)
    assert one.trajectories.shape == (100, 11, 3)  # kept across two chunks of 64 runs
    # kept runs are the ensemble's first runs: a 100-run ensemble has their mean
    first = sn.ssa(net, times=times, runs=100, seed=123, workers=2)
    np.testing.assert_allclose(first.mean.to_numpy(), one.trajectories.mean(axis=0),
                               rtol=1e-12, atol=1e-12)
    other = sn.ssa(net, times=times, runs=300, seed=124, workers=1)
    assert not np.array_equal(one.mean.to_numpy(), other.mean.to_numpy())
    # kept trajectories are single runs: whole numbers, gene states 0/1
    assert np.all(one.trajectories == np.round(one.trajectories))
    assert set(np.unique(one.trajectories[:, :, 0])) <= {0.0, 1.0}


def test_dask_client_matches_local():
    """Chunks on a dask LocalCluster (in-process, 127.0.0.1) give the local numbers."""
    distributed = pytest.importorskip("dask.distributed")
    net = sn.load(BD)
    local = sn.ssa(net, times=[0.0, 1.0, 3.0], runs=200, seed=9, workers=2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  host="127.0.0.1", protocol="tcp",
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        remote = sn.ssa(net, times=[0.0, 1.0, 3.0], runs=200, seed=9, client=client)
        approx = sn.ssa(net, times=[0.0, 1.0, 3.0], runs=200, seed=9, client=client,
                        method="hybrid", distributions=[3.0])
    np.testing.assert_array_equal(local.mean.to_numpy(), remote.mean.to_numpy())
    np.testing.assert_array_equal(local.variance.to_numpy(), remote.variance.to_numpy())
    assert str(remote.settings["workers"]).startswith("dask")
    here = sn.ssa(net, times=[0.0, 1.0, 3.0], runs=200, seed=9, workers=1, method="hybrid",
                  distributions=[3.0])
    np.testing.assert_array_equal(here.mean.to_numpy(), approx.mean.to_numpy())
    np.testing.assert_array_equal(here.extra["samples"][3.0], approx.extra["samples"][3.0])
    assert here.settings["partition"] == approx.settings["partition"]


def test_top_level_name_is_callable():
    """``sn.ssa`` works as a function even after the ``sbmlnoise.ssa`` package loaded."""
    import sbmlnoise.ssa as pkg

    net = sn.load(BD)
    assert isinstance(pkg(net, times=[0.0, 1.0], runs=5, seed=1), EnsembleResult)
    assert isinstance(sn.ssa(net, times=[0.0, 1.0], runs=5, seed=1), EnsembleResult)
    assert sn.ssa_stationary is ssa_stationary and sn.EnsembleResult is EnsembleResult


# --------------------------------------------------------------------------- events
def test_time_event_parameter_assignment():
    """`at time >= 2: k = 0` stops births exactly at t=2; afterwards the mean decays as
    m(2) e^{-(t-2)} with m(2) = 10 (1 - e^{-2}). 3000 runs, seed 21, 4.5 SE."""
    net = sn.load("model e; => X; k; X => ; X; X = 0; k = 10; E1: at time >= 2: k = 0; end")
    times = np.array([1.0, 2.0, 3.0, 4.0])
    ens = sn.ssa(net, times=times, runs=3000, seed=21)
    m2 = 10 * (1 - np.exp(-2.0))
    expect = np.where(times <= 2, 10 * (1 - np.exp(-times)), m2 * np.exp(-(times - 2)))
    se = np.sqrt(np.maximum(ens.variance["X"].to_numpy(), expect) / 3000)
    assert np.all(np.abs(ens.mean["X"].to_numpy() - expect) < 4.5 * se)


def test_state_event_fires_between_reactions():
    """`at X >= 5: X = 0` resets immediately: no recorded state ever has X >= 5."""
    net = sn.load("model s; => X; 10; X = 0; E1: at X >= 5: X = 0; end")
    ens = sn.ssa(net, times=np.linspace(0, 10, 201), runs=50, seed=2, keep_trajectories=50)
    assert ens.trajectories.max() <= 4
    assert ens.trajectories.max() == 4


@pytest.mark.parametrize("t0, expected", [("true", 0.0), ("false", 7.0)])
def test_event_initial_value(t0, expected):
    """SBML initialValue: a trigger already true at t=0 fires then only if its initial
    value is false (a false -> true transition)."""
    net = sn.load(f"model e; => X; 1; X = 0; E1: at (X >= 0), t0={t0}: X = 7; end")
    ens = sn.ssa(net, times=[0.0], runs=3, seed=1)
    assert ens.mean["X"].iloc[0] == expected


# --------------------------------------------------------------------------- stationary
def test_birth_death_stationary_poisson_and_spectrum():
    """Stationary law Poisson(10): mean 10, Fano 1, histogram = Poisson pmf;
    C(tau) = 10 e^{-|tau|}, S(w) = 20 / (w^2 + 1). One run to t=20000, seed 5; bounds
    4.5 batch-means SE (plus the documented window bias, < 2 %)."""
    net = sn.load(BD)
    st = sn.ssa_stationary(net, t_end=20000.0, burn_in=20.0, seed=5)
    assert st.method == "ssa" and st.time is None
    se = st.stderr
    assert abs(st.mean["X"] - 10) < 4.5 * se["mean"]["X"]
    assert abs(st.fano["X"] - 1) < 4.5 * se["fano"]["X"]
    assert abs(st.variance["X"] - 10) < 4.5 * se["variance"]["X"]
    assert abs(st.cv["X"] - 10 ** -0.5) < 4.5 * se["cv"]["X"]
    dist = st.distributions["X"]
    assert dist.sum() == pytest.approx(1.0, abs=1e-9)
    pmf = sps.poisson.pmf(dist.index.to_numpy(), 10)
    assert 0.5 * np.abs(dist.to_numpy() - pmf).sum() < 0.02  # total variation
    lags = np.array([0.0, 0.5, 1.0, 2.0])
    c = st.autocorrelation("X", lags).to_numpy()
    c_se = st.extra["autocovariance_stderr"]("X", lags)
    assert np.all(np.abs(c - 10 * np.exp(-lags)) < 4.5 * c_se + 0.01 * 10)
    omegas = np.array([0.0, 0.5, 1.0, 3.0])
    s = st.psd("X", omegas).to_numpy()
    s_se = st.extra["psd_stderr"]("X", omegas)
    s_true = 20 / (omegas**2 + 1)
    assert np.all(np.abs(s - s_true) < 4.5 * s_se + 0.02 * s_true)
    assert st.autocorrelation_time("X") == pytest.approx(1.0, rel=0.15)


def test_telegraph_stationary_fano():
    """Telegraph: mean = ktx kon / ((kon+koff) g) = 10/3,
    Fano = 1 + ktx koff / ((kon+koff)(kon+koff+g)) = 1 + 20/12. t_end 20000, seed 7."""
    net = sn.load(TELEGRAPH)
    st = sn.ssa_stationary(net, t_end=20000.0, burn_in=20.0, seed=7)
    kon, koff, ktx, g = 1.0, 2.0, 10.0, 1.0
    mean = ktx * kon / ((kon + koff) * g)
    fano = 1 + ktx * koff / ((kon + koff) * (kon + koff + g))
    assert abs(st.mean["M"] - mean) < 4.5 * st.stderr["mean"]["M"]
    assert abs(st.fano["M"] - fano) < 4.5 * st.stderr["fano"]["M"]
    assert st.mean["G1"] == pytest.approx(kon / (kon + koff), abs=4.5 * st.stderr["mean"]["G1"])


def test_two_stage_protein_fano():
    """Two-stage expression: <P> = km kp / (gm gp) = 20, Fano_P = 1 + kp/(gm + gp) =
    1 + 5/1.5. One run to t=40000, seed 13, 4.5 batch-means SE."""
    net = sn.load(TWO_STAGE)
    st = sn.ssa_stationary(net, t_end=40000.0, burn_in=50.0, seed=13)
    assert abs(st.mean["P"] - 20) < 4.5 * st.stderr["mean"]["P"]
    assert abs(st.fano["P"] - (1 + 5 / 1.5)) < 4.5 * st.stderr["fano"]["P"]
    assert abs(st.fano["M"] - 1) < 4.5 * st.stderr["fano"]["M"]


# --------------------------------------------------------------------------- bad input
def test_bad_arguments():
    net = sn.load(BD)
    with pytest.raises(ValueError):
        sn.ssa(net, times=[0, 1], runs=0)
    with pytest.raises(ValueError):
        sn.ssa(net, times=[0, 1], runs=2.5)
    with pytest.raises(ValueError):
        sn.ssa(net, times=[0, 2, 1], runs=10)
    with pytest.raises(ValueError):
        sn.ssa(net, times=[-1, 1], runs=10)
    with pytest.raises(ValueError):
        sn.ssa(net, times=[0, 1], runs=10, method="tau-leap")
    with pytest.raises(ValueError):
        sn.ssa_stationary(net, t_end=10, burn_in=20)


def test_negative_propensity_names_reaction_state_time():
    net = sn.load("model n; R1: => X; 1; R2: => X; 5 - X; X = 0; end")
    with pytest.raises(sn.SimulationError) as err:
        sn.ssa(net, times=[0, 50], runs=3, seed=1)
    msg = str(err.value)
    assert "'R2'" in msg and "X=6" in msg and "t=" in msg


def test_nan_propensity():
    net = sn.load("model n; => X; 1; => X; sqrt(2 - X); X = 0; end")
    with pytest.raises(sn.SimulationError, match="nan"):
        sn.ssa(net, times=[0, 100], runs=2, seed=1)


def test_runaway_growth_is_stopped():
    net = sn.load("model r; X => 2 X; 1.0*X; X = 10; end")
    with pytest.raises(sn.SimulationError, match="max_steps"):
        sn.ssa(net, times=[0, 100], runs=1, seed=1, max_steps=100_000)
    with pytest.raises(sn.SimulationError, match="max_count"):
        sn.ssa(net, times=[0, 100], runs=1, seed=1, max_count=1000)


def test_non_integer_stoichiometry_unsupported():
    net = sn.load("model h; X => 0.5 Y; X; X = 10; Y = 0; end")
    with pytest.raises(sn.UnsupportedFeature):
        sn.ssa(net, times=[0, 1], runs=2)


def test_time_dependent_rate_exact_and_stationary_refuses():
    """Birth rate 1 + t: X(2) ~ Poisson(2 + 2) (exact integrated-hazard SSA, 2000 runs,
    seed 5, 4.5 SE); the stationary driver still refuses a time-dependent law."""
    net = sn.load("model h; => X; 1 + time; X = 0; end")
    ens = sn.ssa(net, times=[0, 2], runs=2000, seed=5)
    assert abs(ens.mean["X"].iloc[1] - 4.0) < 4.5 * math.sqrt(4.0 / 2000)
    with pytest.raises(sn.UnsupportedFeature, match="time"):
        sn.ssa_stationary(net, t_end=10.0, burn_in=1.0, seed=1)


@pytest.mark.slow
def test_birth_death_ensemble_large():
    """100,000 runs, seed 99: mean and variance at t=1 within 4.5 SE of Poisson."""
    net = sn.load(BD)
    ens = sn.ssa(net, times=[1.0], runs=100_000, seed=99)
    lam = 10 * (1 - math.exp(-1))
    assert abs(ens.mean["X"].iloc[0] - lam) < 4.5 * math.sqrt(lam / 1e5)
    assert abs(ens.variance["X"].iloc[0] - lam) < 4.5 * math.sqrt((lam + 2 * lam**2) / 1e5)


def test_combinatorial_laws_take_the_fast_path_with_exact_propensities():
    net = sn.load(MODELS / "dimerisation.xml")  # dimerise: k1*P*(P-1)/2 (concentrations, V=1)
    model = build_model(net)
    j = net.reaction_ids.index("dimerise")
    assert model.ma_flag[j] == 2
    rng = np.random.default_rng(3)
    for x in rng.integers(0, 40, size=(20, net.n_species)).astype(float):
        out = np.zeros(net.n_reactions)
        _propensities_at(model, x, net.parameter_values.copy(), 0.0, out)
        np.testing.assert_allclose(out, net.propensities(x), rtol=1e-14, atol=0)
    # a law that is not combinatorial stays on the interpreter
    other = sn.load("model m; species P; R: 2 P => ; k*P*(P-2); P = 3; k = 1; end")
    assert build_model(other).ma_flag[0] == 0


def test_dimerisation_stationary_law_is_the_product_form_poisson():
    # synthesis/decay of P with 2P <-> P2 is complex balanced (deficiency zero, weakly
    # reversible), so its stationary law is Poisson(20) x Poisson(40) (Anderson, Craciun &
    # Kurtz 2010): means 20 and 40, Fano factors 1. Seed 4, 4.5 standard errors.
    net = sn.load(MODELS / "dimerisation.xml")
    st = sn.ssa_stationary(net, t_end=4000.0, burn_in=50.0, seed=4)
    for sid, mean in (("P", 20.0), ("P2", 40.0)):
        assert abs(st.mean[sid] - mean) < 4.5 * st.stderr["mean"][sid]
        assert abs(st.fano[sid] - 1.0) < 4.5 * st.stderr["fano"][sid]
