"""Exact SSA with time-dependent propensities, rate rules, delayed events and delayed
reactions (sbmlnoise/ssa/_timedep.py) against closed forms.

Every statistical check uses a fixed seed and a stated number of runs; means are compared
within 4.5 standard errors (two-sided rate about 7e-6 per comparison), variances within
4.5 standard errors of the sample variance (Poisson: var = mean, kurtosis known).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import sbmlnoise as sn
from sbmlnoise.errors import UnsupportedFeature

RUNS = 2000
Z = 4.5


def _poisson_moments(ens, sid, means):
    """Mean and variance of a Poisson count with the given exact means (one per time)."""
    m = ens.mean[sid].to_numpy()
    v = ens.variance[sid].to_numpy()
    n = ens.runs
    for t, mu, mi, vi in zip(ens.times, means, m, v):
        se = np.sqrt(max(mu, 1e-12) / n)
        assert abs(mi - mu) <= Z * se + 1e-12, (t, mi, mu, se)
        # var of the sample variance of a Poisson(mu): mu/n * (2 mu n/(n-1) + 1)
        se_v = np.sqrt(mu / n * (2 * mu * n / (n - 1) + 1))
        assert abs(vi - mu) <= Z * se_v + 1e-12, (t, vi, mu, se_v)


def _sin_mean(t, k0, w, g):
    """m' = k0 (1 + sin w t) - g m, m(0) = 0."""
    t = np.asarray(t, float)
    return (k0 / g * (1 - np.exp(-g * t))
            + k0 * (g * np.sin(w * t) - w * np.cos(w * t) + w * np.exp(-g * t)) / (g * g + w * w))


LAWS = {"law": "R1: -> X; k0*(1 + sin(w*time))",
        "assignment rule": "R1: -> X; kt\n      kt := k0*(1 + sin(w*time))"}


@pytest.mark.parametrize("form", sorted(LAWS))
def test_time_in_law_is_poisson_with_exact_mean(form):
    # birth k0 (1 + sin w t) written in the law or through an assignment rule, decay g:
    # X(t) ~ Poisson(m(t)) exactly (linear immigration-death)
    net = sn.load(f"""model td
      species X = 0
      {LAWS[form]}
      R2: X -> ; g*X
      k0 = 10; w = 1.3; g = 0.7
    end""")
    times = np.array([0.5, 1.0, 2.0, 3.5])
    ens = sn.ssa(net, times=times, runs=RUNS, seed=11, distributions=[3.5])
    assert ens.settings["timedep"] and "integrated hazard" in ens.settings["waiting_times"]
    _poisson_moments(ens, "X", _sin_mean(times, 10, 1.3, 0.7))
    # the law at t = 3.5: chi-square against Poisson(m(3.5)), bins with expected >= 5
    mu = float(_sin_mean(3.5, 10, 1.3, 0.7))
    sample = ens.extra["samples"][3.5][:, 0].astype(int)
    edges = np.arange(0, int(mu + 6 * np.sqrt(mu)) + 2)
    obs = np.bincount(np.clip(sample, 0, edges[-1]), minlength=edges[-1] + 1).astype(float)
    exp = stats.poisson.pmf(edges, mu) * len(sample)
    exp[-1] += stats.poisson.sf(edges[-1], mu) * len(sample)
    # merge tails until every bin expects >= 5
    o, e, acc_o, acc_e = [], [], 0.0, 0.0
    for oi, ei in zip(obs, exp):
        acc_o += oi
        acc_e += ei
        if acc_e >= 5:
            o.append(acc_o)
            e.append(acc_e)
            acc_o = acc_e = 0.0
    o[-1] += acc_o
    e[-1] += acc_e
    chi2 = stats.chisquare(o, np.array(e) * sum(o) / sum(e))
    assert chi2.pvalue > 1e-4, chi2


def test_rate_rule_parameter_drives_birth_rate():
    # k' = a cos(w t), k(0) = k0 -> k(t) = k0 + (a/w) sin(w t); law "k" is mass action
    # in form, so this also checks that the fast path is not used for rate-rule parameters
    net = sn.load("""model rr
      species X = 0
      R1: -> X; k
      R2: X -> ; g*X
      k' = a*cos(w*time)
      k = 10; a = 5; w = 1; g = 0.7
    end""")
    times = np.array([1.0, 2.5, 3.5])
    ens = sn.ssa(net, times=times, runs=1500, seed=12)
    k0, a, w, g = 10, 5, 1, 0.7
    A = a / w
    exact = (k0 / g * (1 - np.exp(-g * times))
             + A * (g * np.sin(w * times) - w * np.cos(w * times) + w * np.exp(-g * times))
             / (g * g + w * w))
    _poisson_moments(ens, "X", exact)


@pytest.mark.parametrize("from_trigger", [True, False])
def test_delayed_event(from_trigger):
    # birth-death; at time 2 an event fires with delay 1 and executes X = X + 10 at t = 3,
    # with X read at trigger time (t = 2) or at execution (t = 3)
    flag = "true" if from_trigger else "false"
    net = sn.load(f"""model ev
      species X = 0
      R1: -> X; k
      R2: X -> ; g*X
      E1: at 1 after time >= 2, fromTrigger={flag}: X = X + 10
      k = 10; g = 0.7
    end""")
    times = np.array([1.0, 2.9, 3.0, 4.0])
    ens = sn.ssa(net, times=times, runs=RUNS, seed=13)
    k, g = 10, 0.7

    def m(t):
        return k / g * (1 - np.exp(-g * t))

    mean = ens.mean["X"].to_numpy()
    var = ens.variance["X"].to_numpy()
    se = np.sqrt(var / ens.runs)
    # before execution: Poisson(m(t)); the event has not happened at 2.9
    assert abs(mean[0] - m(1.0)) <= Z * se[0]
    assert abs(mean[1] - m(2.9)) <= Z * se[1]
    # at 3.0 (state after the event at the output time)
    base = m(2.0) if from_trigger else m(3.0)
    assert abs(mean[2] - (base + 10)) <= Z * se[2]
    assert abs(var[2] - base) <= Z * np.sqrt(base / ens.runs * (2 * base + 1))
    # t = 4: the shifted count decays for 1 time unit, new births are Poisson
    expect4 = (base + 10) * np.exp(-g) + m(1.0)
    assert abs(mean[3] - expect4) <= Z * se[3]


def test_delayed_reaction_nonconsuming_mean():
    # S: immigration k, decay g, S(0) = 5; R3: -> P with law c*delay(S, tau): P is produced
    # at intensity c*S(t - tau) (S(s) = 5 for s < 0). E[P(t)] = c*5*min(t, tau)
    # + c * int_0^{t - tau} E[S(s)] ds,  E[S(s)] = k/g + (5 - k/g) exp(-g s).
    net = sn.load("""model dl
      species S = 5, P = 0
      R1: -> S; k
      R2: S -> ; g*S
      R3: -> P; c*delay(S, tau)
      k = 10; g = 0.7; c = 0.3; tau = 1.5
    end""")
    times = np.array([1.0, 1.5, 2.0, 3.0, 5.0])
    ens = sn.ssa(net, times=times, runs=RUNS, seed=14)
    assert "delayed_reactions" in ens.settings
    k, g, c, tau, s0 = 10, 0.7, 0.3, 1.5, 5.0
    u = np.maximum(times - tau, 0.0)
    exact = c * s0 * np.minimum(times, tau) + c * (k / g * u + (s0 - k / g)
                                                   * (1 - np.exp(-g * u)) / g)
    mean = ens.mean["P"].to_numpy()
    se = np.sqrt(ens.variance["P"].to_numpy() / ens.runs)
    assert np.all(np.abs(mean - exact) <= Z * se), (mean, exact, se)
    # for t <= tau P counts a Poisson process of rate c*S0: variance = mean
    assert abs(ens.variance["P"].iloc[0] - c * s0) <= Z * np.sqrt(1.5 * (2 * 1.5 + 1) / RUNS)


def test_seeded_and_independent_of_workers():
    net = sn.load("""model td
      species X = 0
      R1: -> X; k0*(1 + sin(w*time))
      R2: X -> ; g*X
      k0 = 5; w = 2; g = 1
    end""")
    a = sn.ssa(net, times=[0.5, 1, 2], runs=200, seed=3, workers=1)
    b = sn.ssa(net, times=[0.5, 1, 2], runs=200, seed=3, workers=2)
    assert np.array_equal(a.mean.to_numpy(), b.mean.to_numpy())
    assert np.array_equal(a.variance.to_numpy(), b.variance.to_numpy())


def test_refusals_name_element_and_feature():
    consuming = sn.load("""model consuming
      species S = 5, P = 0
      R1: S -> P; c*delay(S, 1)
      c = 0.3
    end""")
    with pytest.raises(UnsupportedFeature, match="R1") as err:
        sn.ssa(consuming, times=[1.0], runs=2, seed=1)
    assert err.value.element == "R1"
    mixed = sn.load("""model mixed
      species S = 5, P = 0
      R1: -> P; c*S*delay(S, 1)
      c = 0.3
    end""")
    with pytest.raises(UnsupportedFeature, match="outside delay"):
        sn.ssa(mixed, times=[1.0], runs=2, seed=1)
    species_rr = sn.load("""model speciesrr
      species X = 0, Y = 1
      R1: -> X; k*Y
      Y' = 0.1
      k = 1
    end""")
    with pytest.raises(UnsupportedFeature) as err:
        sn.ssa(species_rr, times=[1.0], runs=2, seed=1)
    assert err.value.element == "Y"


def test_approximate_methods_refuse_time_dependence_by_name():
    net = sn.load("model h2; => X; 1 + time; X = 0; end")
    for method in ("tau_leap", "cle", "hybrid"):
        with pytest.raises(UnsupportedFeature, match="approximate") as err:
            sn.ssa(net, times=[1.0], runs=2, seed=1, method=method)
        assert err.value.element == "_J0" or err.value.element in net.reaction_ids


def test_delayed_degradation_is_poisson_k_min_t_tau():
    # production at rate k from t = 0 (G switched on by an event at 0; G = 0 before, so
    # the SBML history of the delayed law is 0), each molecule removed exactly tau after
    # its birth: X(t) ~ Poisson(k min(t, tau)). 2000 runs, seed 15.
    net = sn.load("""model dd
      species X = 0, G = 0
      R1: -> X; k*G
      R2: X -> ; delay(k*G, tau)
      E0: at (time >= 0), t0=false: G = 1
      k = 20; tau = 1.5
    end""")
    times = np.array([0.5, 1.0, 1.4, 2.0, 4.0])
    ens = sn.ssa(net, times=times, runs=RUNS, seed=15)
    _poisson_moments(ens, "X", 20 * np.minimum(times, 1.5))


def test_consuming_delay_with_impossible_history_stops_clearly():
    # history: R1 fired at rate k on [-tau, 0) but X(0) = 0, so the completions in
    # [0, tau) would remove molecules that do not exist -> SimulationError naming R2
    net = sn.load("""model ddbad
      species X = 0
      R1: -> X; k
      R2: X -> ; delay(k, tau)
      k = 20; tau = 1.5
    end""")
    with pytest.raises(sn.SimulationError, match="R2"):
        sn.ssa(net, times=[1.0], runs=4, seed=1)


def test_ssa_refusal_reports_without_simulating():
    from sbmlnoise.ssa import ssa_refusal

    assert ssa_refusal(sn.load("model ok1; => X; 1 + time; X = 0; end")) is None
    err = ssa_refusal(sn.load("model bad1; species S = 5, P = 0; R1: S -> P; "
                              "c*delay(S, 1); c = 0.3; end"))
    assert isinstance(err, UnsupportedFeature) and err.element == "R1"


@pytest.mark.parametrize("persistent", [True, False])
def test_non_persistent_delayed_event_is_cancelled(persistent):
    # the trigger is true on [2, 2.5) only; execution would be at 3. A non-persistent
    # event is cancelled when its trigger turns false (SBML L3), a persistent one executes.
    flag = "true" if persistent else "false"
    net = sn.load(f"""model np1
      species X = 0
      R1: -> X; k
      R2: X -> ; g*X
      E1: at 1 after (time >= 2 && time < 2.5), persistent={flag}: X = X + 10
      k = 10; g = 0.7
    end""")
    ens = sn.ssa(net, times=[3.0], runs=1000, seed=16)
    m3 = 10 / 0.7 * (1 - np.exp(-0.7 * 3.0))
    m2 = 10 / 0.7 * (1 - np.exp(-0.7 * 2.0))
    # persistent: X(3) = X(2) + 10 (values from trigger time); cancelled: X(3) ~ Poisson(m3)
    expected = m2 + 10 if persistent else m3
    se = np.sqrt(m3 / ens.runs)
    assert abs(ens.mean["X"].iloc[0] - expected) <= Z * se


def test_queue_capacity_grows_without_changing_results():
    # about 3000 molecules pending removal at once (> the initial queue capacity of 1024):
    # the chunk is redone with a larger queue from the same streams. X(t) ~ Poisson(k
    # min(t, tau)); 200 runs, seed 17, 4.5 SE.
    from sbmlnoise.ssa._timedep import QUEUE_CAPACITY

    k, tau = 2000.0, 1.5
    assert k * tau > 2 * QUEUE_CAPACITY
    net = sn.load(f"""model ddbig
      species X = 0, G = 0
      R1: -> X; k*G
      R2: X -> ; delay(k*G, tau)
      E0: at (time >= 0), t0=false: G = 1
      k = {k}; tau = {tau}
    end""")
    times = np.array([1.0, 2.0])
    ens = sn.ssa(net, times=times, runs=200, seed=17)
    _poisson_moments(ens, "X", k * np.minimum(times, tau))


def test_linear_model_with_every_feature_matches_the_rate_equations():
    # for a linear network the mean obeys the rate equations exactly, so the project's ODE
    # solver (delay differential equations, delayed events, rate rules; an independent
    # code path) gives the exact mean: rate rule k' = a cos(w t) on a birth rate, a delayed
    # event S += 8, a non-consuming delay P' = c S(t - tau) (history S = 5 before 0) and a
    # consuming delayed pair. 1500 runs, seed 18, 4.5 SE.
    net = sn.load("""model combo
      species S = 5, P = 0, X = 0, G = 0
      R1: -> S; k
      R2: S -> ; g*S
      R3: -> P; c*delay(S, tau)
      R4: -> X; kx*G
      R5: X -> ; delay(kx*G, tau)
      E0: at (time >= 0), t0=false: G = 1
      E1: at 0.7 after time >= 1.2: S = S + 8
      k' = a*cos(w*time)
      k = 10; g = 0.7; c = 0.3; tau = 1.5; kx = 6; a = 4; w = 2
    end""")
    times = np.array([1.0, 1.9, 2.5, 4.0])
    ens = sn.ssa(net, times=times, runs=1500, seed=18)
    ode = sn.simulate_ode(net, np.concatenate([[0.0], times])).iloc[1:]
    for sid in ("S", "P", "X"):
        z = (ens.mean[sid].to_numpy() - ode[sid].to_numpy()) / ens.stderr["mean"][sid].to_numpy()
        assert np.all(np.abs(z) <= Z), (sid, z)
