"""Approximate stochastic methods (tau-leaping, CLE, hybrid), method choice and the
ensemble extras (distributions, plots, deprecations, event caps).

References are exact: closed forms (Poisson birth-death), the closed moment equations of
linear networks (``_linear_moments``, independent of sbmlnoise's backends) and the exact
stationary law of the dimerisation chain (detailed balance). Each check allows 4.5
standard errors plus the method's known O(epsilon) bias: ``BIAS_MEAN * epsilon`` relative
on means and ``BIAS_VAR * epsilon`` relative on variances (epsilon = 0.03). Seeds and run
counts are fixed in each test.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats as sps

import sbmlnoise as sn
from sbmlnoise.errors import SimulationError
from sbmlnoise.ssa import choose_method

from _linear_moments import linear_moments

EPS = 0.03
BIAS_MEAN = 1.0
BIAS_VAR = 2.0
Z = 4.5

BD_BIG = "model bd; => X; k; X => ; g*X; X = 0; k = 1000; g = 1; end"
TS_LOW = ("model ts; => M; km; M => ; gm*M; M => M + P; kp*M; P => ; gp*P; M = 5; "
          "P = 5000; km = 5; gm = 1; kp = 50; gp = 0.05; end")
TS_HIGH = ("model ts; => M; km; M => ; gm*M; M => M + P; kp*M; P => ; gp*P; M = 100; "
           "P = 10000; km = 100; gm = 1; kp = 10; gp = 0.1; end")
MULTI = ("model ms; G0 => G1; kon*G0; G1 => G0; koff*G1; G1 => G1 + M; ktx*G1; "
         "M => ; gm*M; M => M + P; kp*M; P => ; gp*P; G0 = 1; G1 = 0; M = 100; "
         "P = 10000; kon = 0.5; koff = 0.5; ktx = 200; gm = 1; kp = 10; gp = 0.1; end")
DIMER = ("model dim; 2 P => P2; k1*P*(P-1)/2; P2 => 2 P; k2*P2; P = 1000; P2 = 0; "
         "k1 = 0.002; k2 = 1; end")


def _check(ens, mean, var, label=""):
    """Every (time, species): |mean - exact| <= Z se + BIAS_MEAN eps |exact| and the
    same for variances with BIAS_VAR."""
    m, v = ens.mean.to_numpy(), ens.variance.to_numpy()
    se_m = ens.stderr["mean"].to_numpy()
    se_v = np.sqrt(2.0 / (ens.runs - 1)) * var  # normal-theory SE at the exact variance
    tol_m = Z * se_m + BIAS_MEAN * EPS * np.abs(mean) + 1e-9
    tol_v = Z * se_v + BIAS_VAR * EPS * var + 1e-9
    assert np.all(np.abs(m - mean) <= tol_m), (label, m, mean, tol_m)
    assert np.all(np.abs(v - var) <= tol_v), (label, v, var, tol_v)


@pytest.mark.parametrize("method", ["tau_leap", "cle", "hybrid"])
def test_birth_death_poisson(method):
    """From X=0 the law stays Poisson: mean = var = k/g (1 - exp(-g t)). 400 runs."""
    net = sn.load(BD_BIG)
    times = np.array([0.5, 2.0, 8.0])
    ens = sn.ssa(net, times=times, runs=400, seed=11, method=method, epsilon=EPS)
    exact = 1000.0 * (1 - np.exp(-times))[:, None]
    _check(ens, exact, exact, method)
    assert ens.method == method
    approx = ens.settings["approximation"]
    assert approx["method"] == method and "epsilon=0.03" in approx["step_control"]
    assert approx["bias"]
    # far fewer steps than events: it really leaps
    assert ens.settings["leaps"] + ens.settings["exact_steps"] < ens.settings["events"] / 5


@pytest.mark.parametrize("text, method", [(TS_LOW, "tau_leap"), (TS_LOW, "hybrid"),
                                          (TS_HIGH, "cle"), (TS_HIGH, "tau_leap")])
def test_two_stage_large_bursts(text, method):
    """Two-stage model with burst size kp/gm = 50 (or 10 at high mRNA): exact moments of
    the linear network. 300 runs."""
    net = sn.load(text)
    times = [5.0, 30.0, 60.0]
    mean, var = linear_moments(net, times)
    ens = sn.ssa(net, times=times, runs=300, seed=5, method=method)
    _check(ens, mean, var, method)
    assert ens.settings["clamps"] == 0


def _dimer_law():
    """Exact stationary law of P2 (P = 1000 - 2 P2) by detailed balance."""
    n = np.arange(0, 501)
    logp = np.zeros(n.size)
    for q in range(1, n.size):
        p_prev = 1000 - 2 * (q - 1)
        logp[q] = logp[q - 1] + math.log(0.002 * p_prev * (p_prev - 1) / 2) - math.log(q)
    pi = np.exp(logp - logp.max())
    pi /= pi.sum()
    p = 1000 - 2 * n
    mean = np.array([pi @ p, pi @ n])
    var = np.array([pi @ (p - mean[0]) ** 2, pi @ (n - mean[1]) ** 2])
    return mean, var


@pytest.mark.parametrize("method", ["tau_leap", "cle", "hybrid"])
def test_dimerisation_stationary(method):
    """2P <-> P2 (law k1 P (P-1)/2), from P=1000: at t=6 (relaxation rate about 3) the
    moments equal the exact stationary ones (detailed balance). 400 runs."""
    net = sn.load(DIMER)
    mean, var = _dimer_law()
    ens = sn.ssa(net, times=[6.0], runs=400, seed=3, method=method)
    _check(ens, mean[None, :], var[None, :], method)
    # conservation holds exactly for whole-count methods, to round-off for the others
    total = ens.mean["P"].iloc[0] + 2 * ens.mean["P2"].iloc[0]
    assert abs(total - 1000) < 1e-6


@pytest.mark.parametrize("method", ["tau_leap", "hybrid"])
def test_multiscale_gene_and_products(method):
    """One gene copy switching (slow, low count) driving mRNA ~100 and protein ~1e4:
    exact moments of the linear network; the hybrid keeps the gene channels exact and
    reports the partition. 300 runs."""
    net = sn.load(MULTI)
    times = [2.0, 10.0, 40.0]
    mean, var = linear_moments(net, times)
    ens = sn.ssa(net, times=times, runs=300, seed=7, method=method)
    _check(ens, mean, var, method)
    g = ens.mean[["G0", "G1"]].to_numpy()
    assert np.allclose(g.sum(axis=1), 1.0)
    if method == "hybrid":
        part = ens.settings["partition"]
        ids = [r.id for r in net.reactions]
        assert part[ids[0]] == 0.0 and part[ids[1]] == 0.0  # gene switching: exact
        assert part[ids[5]] > 0.9  # protein decay: fast almost always
        assert ens.settings["clamps"] == 0


def test_time_event_with_tau_leaping():
    """An event at t=5 resets X to 0: afterwards mean = var = 1000 (1 - exp(-(t-5)))."""
    text = BD_BIG.replace("end", "E: at (time >= 5): X = 0; end")
    net = sn.load(text)
    times = np.array([4.0, 5.0, 6.0, 9.0])
    ens = sn.ssa(net, times=times, runs=300, seed=2, method="tau_leap")
    s = np.where(times >= 5, times - 5, times)
    exact = 1000 * (1 - np.exp(-s))[:, None]
    _check(ens, exact, exact, "event")


def test_workers_bit_identical_and_keyword_only():
    net = sn.load(MULTI)
    kw = dict(times=[1.0, 3.0], runs=150, seed=9, method="hybrid", keep_trajectories=3)
    one = sn.ssa(net, workers=1, **kw)
    two = sn.ssa(net, workers=2, **kw)
    assert np.array_equal(one.mean.to_numpy(), two.mean.to_numpy())
    assert np.array_equal(one.variance.to_numpy(), two.variance.to_numpy())
    assert np.array_equal(one.trajectories, two.trajectories)
    assert one.settings["partition"] == two.settings["partition"]


def test_positional_times_runs_deprecated():
    net = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    with pytest.warns(DeprecationWarning, match="times=.*runs="):
        old = sn.ssa(net, [0.0, 1.0], 20, seed=1)
    new = sn.ssa(net, times=[0.0, 1.0], runs=20, seed=1)
    assert np.array_equal(old.mean.to_numpy(), new.mean.to_numpy())
    with pytest.raises(TypeError):
        sn.ssa(net, [0.0, 1.0], times=[0.0, 1.0], runs=3)
    with pytest.raises(TypeError, match="runs="):
        sn.ssa(net, times=[0.0, 1.0])
    with pytest.raises(TypeError, match="epsilon"):
        sn.ssa(net, times=[0.0, 1.0], runs=2, method="direct", epsilon=0.1)
    with pytest.raises(TypeError, match="unknown"):
        sn.ssa(net, times=[0.0, 1.0], runs=2, method="cle", epsilom=0.1)
    with pytest.raises(ValueError, match="epsilon"):
        sn.ssa(net, times=[0.0, 1.0], runs=2, method="cle", epsilon=2.0)


def test_choose_method_reasons():
    small = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    name, reason = choose_method(small, t_end=10, runs=100)
    assert name == "direct" and "exact" in reason
    big = sn.load("model bd; => X; 1e7; X => ; X; X = 1e7; end")
    assert choose_method(big, t_end=10, runs=100)[0] == "lna"
    assert choose_method(big, t_end=10, runs=100, allow_lna=False)[0] == "cle"
    mid = sn.load("model bd; => X; 300; X => ; X; X = 300; end")
    assert choose_method(mid, t_end=100, runs=1000)[0] == "tau_leap"
    name, reason = choose_method(sn.load(MULTI), t_end=100, runs=1000)
    assert name == "hybrid" and "below 100" in reason
    # sn.ssa(method="auto") stays exact for affordable ensembles and says why
    ens = sn.ssa(small, times=[0.0, 1.0], runs=10, seed=1)
    assert ens.method == "direct" and "exact" in ens.settings["method_reason"]


def test_validate_compares_with_exact_at_small_size():
    net = sn.load("model bd; => X; k; X => ; g*X; X = 0; k = 1e5; g = 1; end")
    ens = sn.ssa(net, times=[1.0, 3.0], runs=200, seed=4, method="tau_leap", validate=True)
    val = ens.settings["validation"]
    assert 0 < val["system_size_factor"] < 1
    assert val["exact_method"] == "direct"
    table = ens.extra["validation"]
    assert set(table["species"]) == {"X"} and len(table) == 2
    assert val["passed"], table


def test_event_cap_raises_for_approximations():
    net = sn.load(BD_BIG)
    with pytest.raises(SimulationError, match="max_steps"):
        sn.ssa(net, times=[0.0, 100.0], runs=2, seed=1, method="tau_leap", max_steps=500)


def test_non_whole_event_assignment_refused_exact_accepted_cle():
    text = ("model m; => X; 5; X => ; X; X = 0; E1: at (time >= 1): X = 2.5; end")
    net = sn.load(text)
    with pytest.raises(SimulationError, match=r"event 'E1' assigns 2.5 .*'X'"):
        sn.ssa(net, times=[0.0, 2.0], runs=2, seed=1, method="direct")
    with pytest.raises(SimulationError, match="E1"):
        sn.ssa(net, times=[0.0, 2.0], runs=2, seed=1, method="tau_leap")
    ens = sn.ssa(net, times=[1.0], runs=20, seed=1, method="cle")
    assert np.allclose(ens.mean["X"], 2.5)  # the CLE has continuous amounts


def test_event_dependency_graph_lists_readers():
    from sbmlnoise.ssa._model import build_model

    text = ("model m; => A; 1; => B; 1; A => ; A; B => ; B; A = 0; B = 0; "
            "E1: at (A > 3): B = 0; E2: at (time > 2): A = 0; end")
    net = sn.load(text)
    m = build_model(net)
    ids = [r.id for r in net.reactions]
    deps = {ids[j]: list(m.ev_dep_list[m.ev_dep_ptr[j]:m.ev_dep_ptr[j + 1]])
            for j in range(len(ids))}
    # reactions changing A re-check E1 only; those changing B re-check nothing
    a_changers = [ids[j] for j in range(len(ids)) if net.stoichiometry[net.index("A"), j]]
    for rid in ids:
        assert deps[rid] == ([0] if rid in a_changers else []), deps
    # and the events still act: A is birth-death (1, 1) from 0, reset to 0 by E2 just
    # after t = 2, so A(1) ~ Poisson(1 - e^-1) and A(5) ~ Poisson(1 - e^-3)
    ens = sn.ssa(net, times=[1.0, 5.0], runs=2000, seed=1)
    for k, t in enumerate((1.0, 3.0)):
        m = 1.0 - np.exp(-t)
        assert abs(float(ens.mean["A"].iloc[k]) - m) < 4.5 * np.sqrt(m / 2000)


def test_distributions_poisson():
    """Birth-death from 0: the law at t is Poisson(10 (1 - e^-t)); total variation
    distance of 20,000 runs below 0.02 (its sampling size is about 0.01)."""
    net = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    ens = sn.ssa(net, times=[0.5, 3.0], runs=20_000, seed=8, distributions=[3.0])
    st = ens.statistics(3.0)
    dist = st.distributions["X"]
    lam = 10 * (1 - math.exp(-3.0))
    k = np.arange(0, 60)
    exact = sps.poisson.pmf(k, lam)
    emp = dist.reindex(k.astype(float), fill_value=0.0).to_numpy()
    assert 0.5 * np.abs(emp - exact).sum() < 0.02
    assert abs(dist.sum() - 1.0) < 1e-12
    assert ens.statistics(0.5).distributions is None
    with pytest.raises(ValueError, match="not one of the output times"):
        sn.ssa(net, times=[1.0], runs=2, distributions=[2.0])


def test_plot_and_html():
    net = sn.load(TS_LOW)
    ens = sn.ssa(net, times=np.linspace(0, 5, 11), runs=30, seed=1, method="hybrid",
                 keep_trajectories=2)
    fig = ens.plot()
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 * (1 + 2)  # two species: mean + 2 trajectories each
    fig.canvas.draw()
    page = ens._repr_html_()
    assert "hybrid" in page and "<table>" in page and "Approximation" in page
    with pytest.raises(KeyError):
        ens.plot("nope")


def test_warm_up_runs_every_kernel():
    from sbmlnoise.ssa import warm_up

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warm_up() >= 0.0


def test_initial_count_above_max_count_names_species_and_volume():
    net = sn.load("model m; => X; 1; X = 5e12; end")
    with pytest.raises(SimulationError, match=r"initial count of species 'X'.*volume="):
        sn.ssa(net, times=[0.0, 1.0], runs=2, method="tau_leap")


def test_auto_switches_to_an_approximation_beyond_the_exact_budget():
    """1e7 molecules, 2e7 events per unit time x 10 x 20 runs = 4e9 > 1e9: "auto" runs
    the CLE and says why; the mean stays at 1e7 within 5 SE + eps."""
    net = sn.load("model bd; => X; 1e7; X => ; X; X = 1e7; end")
    ens = sn.ssa(net, times=[0.0, 10.0], runs=20, seed=1)
    assert ens.method == "cle"
    assert "exceeds" in ens.settings["method_reason"]
    assert abs(ens.mean["X"].iloc[-1] / 1e7 - 1) < 5 * math.sqrt(1e7 / 20) / 1e7 + EPS
