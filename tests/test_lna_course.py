"""The time-dependent LNA with rate rules, events and non-integer stoichiometry
(sbmlnoise.lna._course) against closed forms.

Every model here has first-order (linear) propensities, where the LNA's first two moments
are exact for the jump process (the moment equations close), so the comparison is with
the exact process, not with another approximation. Tolerances: the integrator's rtol
(1e-6) plus the split scheme's step control (1e-3 local)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

import sbmlnoise as sn
from sbmlnoise.errors import UnsupportedFeature
from sbmlnoise.lna import _course
from sbmlnoise.lna._course import course_refusal
from sbmlnoise.lna._lna import lna_course

K, G = 10.0, 2.0


def _poisson(t):
    return K / G * (1.0 - np.exp(-G * np.asarray(t, float)))


@pytest.fixture(params=["coupled", "split"])
def scheme(request, monkeypatch):
    """Both integration schemes: mean and covariance together (LSODA) and the split
    scheme (L-stable SDIRK stages on the covariance) the large models use."""
    if request.param == "split":
        monkeypatch.setattr(_course, "SPLIT_FROM", 0)
    return request.param


def test_time_dependent_birth_by_rate_rule_is_poisson(scheme):
    # k' = 1, k(0) = 0: birth rate t, death g X. X(t) is Poisson with mean
    # int_0^t s exp(-g (t - s)) ds = t/g - (1 - exp(-g t))/g^2.
    net = sn.load("model m; => X; k; X => ; g*X; k' = 1; k = 0; g = 2; X = 0; end")
    t = np.array([0.0, 0.5, 1.0, 2.0, 4.0])
    course = lna_course(net, t)
    exact = t / G - (1.0 - np.exp(-G * t)) / G ** 2
    np.testing.assert_allclose(course.mean["X"], exact, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(course.variance["X"], exact, rtol=1e-3, atol=1e-6)
    assert course.settings["rule_variables"] == ["k"]
    assert course.settings["rule_mean"]["k"] == pytest.approx(4.0, rel=1e-6)
    # the rule variable reads no species: it carries no noise
    assert course.settings["rule_sd"]["k"] == pytest.approx(0.0, abs=1e-9)


def test_event_reset_restarts_the_poisson_law(scheme):
    net = sn.load("model m; => X; k; X => ; g*X; k = 10; g = 2; X = 0; "
                  "E1: at (time >= 1): X = 0; end")
    t = np.array([0.0, 0.5, 1.0, 1.5, 3.0])
    course = lna_course(net, t)
    exact = np.where(t < 1.0, _poisson(t), _poisson(np.maximum(t - 1.0, 0.0)))
    np.testing.assert_allclose(course.mean["X"], exact, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(course.variance["X"], exact, rtol=1e-3, atol=1e-6)
    assert course.settings["events_fired"] == 1


def test_event_shift_keeps_the_variance_and_adds_binomial_decay(scheme):
    # X(1+) = P + 5 with P ~ Poisson(m1). After s = t - 1: survivors of P are
    # Poisson(m1 e^{-gs}), of the 5 Binomial(5, e^{-gs}), new births Poisson(k/g (1-e^{-gs})).
    net = sn.load("model m; => X; k; X => ; g*X; k = 10; g = 2; X = 0; "
                  "E1: at (time >= 1): X = X + 5; end")
    t = np.array([0.0, 0.5, 1.0, 1.25, 2.0, 3.0])
    course = lna_course(net, t)
    m1 = float(_poisson(1.0))
    s = np.maximum(t - 1.0, 0.0)
    q = np.exp(-G * s)
    after = t >= 1.0
    mean = np.where(after, m1 * q + 5.0 * q + K / G * (1 - q), _poisson(t))
    var = np.where(after, m1 * q + 5.0 * q * (1 - q) + K / G * (1 - q), _poisson(t))
    np.testing.assert_allclose(course.mean["X"], mean, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(course.variance["X"], var, rtol=1e-3, atol=1e-6)


def test_non_integer_stoichiometry_moments(scheme):
    # => 0.5 Y at rate k, Y => at rate g Y: jumps of +0.5 and -1. Exact moment equations
    # dm/dt = k/2 - g m,  dv/dt = k/4 + g m - 2 g v  (amounts = counts, system size 1).
    net = sn.load("model m; => 0.5 Y; k; Y => ; g*Y; k = 10; g = 2; Y = 0; "
                  "E1: at (time >= 100): k = 10; end")
    t = np.array([0.0, 0.3, 1.0, 3.0])
    course = lna_course(net, t)

    def m(s):
        return K / (2 * G) * (1 - math.exp(-G * s))

    def v(tt):
        return quad(lambda s: math.exp(-2 * G * (tt - s)) * (K / 4 + G * m(s)), 0.0, tt)[0]

    np.testing.assert_allclose(course.mean["Y"], [m(x) for x in t], rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(course.variance["Y"], [v(x) for x in t], rtol=1e-3, atol=1e-6)
    assert v(20.0) == pytest.approx(0.375 * K / G, rel=1e-6)  # the closed form: 3k/(8g)


def test_rate_rule_variable_inherits_species_noise(scheme):
    # p' = X - a p is driven by the fluctuating X (birth k, death g X): linear, so the
    # LNA covariance is exact. Stationary: var(X) = k/g; cov(X, p) and var(p) solve
    # A C + C A^T + D = 0 with A = [[-g, 0], [1, -a]], D = diag(k + g m, 0).
    net = sn.load("model m; => X; k; X => ; g*X; p' = X - a*p; p = 0; a = 1; k = 10; "
                  "g = 2; X = 5; end")
    from scipy.linalg import solve_continuous_lyapunov
    a = np.array([[-G, 0.0], [1.0, -1.0]])
    d = np.diag([2 * K, 0.0])
    c = solve_continuous_lyapunov(a, -d)
    course = lna_course(net, [0.0, 20.0])
    assert course.variance["X"].iloc[-1] == pytest.approx(c[0, 0], rel=1e-3)
    assert course.settings["rule_sd"]["p"] == pytest.approx(math.sqrt(c[1, 1]), rel=1e-3)


def test_rule_variable_noise_at_a_mole_scale_system_size(scheme):
    # the same linear model in model units at Omega = 1e22 molecules per unit (amounts of a
    # few units: 1e22 molecules, a Poisson sd 1e-11 of the amount): the rule variable's
    # covariance must not be lost beside the species' (scaled variables of 1e-11 and 1)
    omega = 1e22
    net = sn.load("model m; => X; k; X => ; g*X; p' = X - a*p; p = 0; a = 1; k = 10; "
                  "g = 2; X = 5; end", system_size=omega)
    from scipy.linalg import solve_continuous_lyapunov
    a = np.array([[-G, 0.0], [1.0, -1.0]])
    c = solve_continuous_lyapunov(a, -np.diag([2 * K, 0.0])) / omega  # model units
    course = lna_course(net, [0.0, 20.0])
    assert course.variance["X"].iloc[-1] == pytest.approx(c[0, 0] * omega ** 2, rel=1e-3)
    assert course.settings["rule_sd"]["p"] == pytest.approx(math.sqrt(c[1, 1]), rel=1e-3)


def test_species_driven_by_a_rate_rule_inherits_the_noise(scheme):
    # as test_rate_rule_variable_inherits_species_noise, with p a species (no reaction
    # changes it: a zero stoichiometry row, but it moves)
    net = sn.load("model m; species p; => X; k; X => ; g*X; p' = X - a*p; p = 0; a = 1; "
                  "k = 10; g = 2; X = 5; end")
    from scipy.linalg import solve_continuous_lyapunov
    a = np.array([[-G, 0.0], [1.0, -1.0]])
    c = solve_continuous_lyapunov(a, -np.diag([2 * K, 0.0]))
    course = lna_course(net, [0.0, 20.0])
    assert course.variance["p"].iloc[-1] == pytest.approx(c[1, 1], rel=1e-3)
    assert course.variance["X"].iloc[-1] == pytest.approx(c[0, 0], rel=1e-3)


def test_split_scheme_tracks_a_stiff_mode_driven_by_a_moving_rate(monkeypatch):
    # k' = 1 (birth rate t), death g X with g = 1e4: stiff, the quasi-static Poisson law
    # moves with k. The split scheme's L-stable stages land on it at every step (an
    # exponential step with the coefficients frozen at mid-step is first order here).
    monkeypatch.setattr(_course, "SPLIT_FROM", 0)
    g = 1e4
    net = sn.load(f"model m; => X; k; X => ; g*X; k' = 1e6; k = 0; g = {g}; X = 0; end")
    t = np.array([0.0, 1e-3, 0.5, 1.0, 2.0])
    course = lna_course(net, t)
    exact = 1e6 * (t / g - (1.0 - np.exp(-g * t)) / g ** 2)
    np.testing.assert_allclose(course.mean["X"], exact, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(course.variance["X"], exact, rtol=2e-3, atol=1e-6)


def test_split_scheme_agrees_with_the_coupled_integration_on_a_stiff_network(monkeypatch):
    # fourteen species (the split scheme's size), rates from 1e4 to 1e-2 per unit time, a
    # species no reaction changes (zero variance), nonlinear binding, a conserved pair
    # (G0 + G1) whose total an event makes random (G1 = 0 at t = 1), an event that resets
    # one species and a rate rule on the input that reads a species: the coupled LSODA integration of mean and
    # covariance (rtol 1e-7) is the reference
    lines = ["model m", "  species F", "  => A; k", "  A + B -> C; kb*A*B", "  C -> A + B; ku*C",
             "  C -> D; 1e4*C", "  D -> ; 1e-2*D", "  B -> B + E; 3*B*F", "  E -> ; 2*E"]
    for i in range(5):
        lines.append(f"  {'E' if i == 0 else f'S{i}'} -> S{i + 1}; {10.0 ** (i - 1)}*"
                     f"{'E' if i == 0 else f'S{i}'}")
    lines += ["  S5 -> ; 0.5*S5", "  G0 -> G1; 0.02*G0*S1", "  G1 -> G0; 3*G1",
              "  S2 -> S2 + S3; 0.5*G1", "  k' = 20 - 0.1*k + 0.5*S5", "  k = 100; kb = 0.01; ku = 5",
              "  G0 = 40; G1 = 0", "  E2: at (time >= 1): G1 = 0",
              "  A = 50; B = 300; C = 0; D = 0; E = 0; F = 7",
              "  S1 = 0; S2 = 0; S3 = 0; S4 = 0; S5 = 0",
              "  E1: at (time >= 2): D = 0", "end"]
    net = sn.load("\n".join(lines))
    t = np.array([0.0, 0.3, 1.0, 2.0, 2.5, 4.0, 8.0])
    monkeypatch.setattr(_course, "SPLIT_FROM", 100)
    ref = lna_course(net, t, rtol=1e-7)
    monkeypatch.setattr(_course, "SPLIT_FROM", 0)
    split = lna_course(net, t)
    np.testing.assert_allclose(split.mean.to_numpy(), ref.mean.to_numpy(), rtol=1e-5,
                               atol=1e-6)
    c_ref = np.asarray(ref.covariance, float).reshape(len(t), net.n_species, -1)
    c_split = np.asarray(split.covariance, float).reshape(len(t), net.n_species, -1)
    for k in range(1, len(t)):
        # in units of sd_i sd_j (Poisson floor of one molecule): 3e-3
        sd = np.sqrt(np.maximum(np.diag(c_ref[k]), 1.0))
        assert np.max(np.abs(c_split[k] - c_ref[k]) / np.outer(sd, sd)) < 3e-3
    f = net.species_ids.index("F")
    assert np.all(c_split[:, f, :] == 0.0) or np.max(np.abs(c_split[:, f, :])) < 1e-9
    assert np.all(np.linalg.eigvalsh(c_split[-1]) > -1e-9 * np.max(np.abs(c_split[-1])))
    # the rate-rule variable reads S5: it inherits (and feeds back) the species' noise
    assert ref.settings["rule_sd"]["k"] > 0.1
    assert split.settings["rule_sd"]["k"] == pytest.approx(ref.settings["rule_sd"]["k"],
                                                           rel=3e-3)
    g0, g1 = net.species_ids.index("G0"), net.species_ids.index("G1")
    total = c_split[:, g0, g0] + c_split[:, g1, g1] + 2 * c_split[:, g0, g1]
    assert np.all(np.abs(total[t < 1]) < 1e-6)  # conserved: no variance of the total
    assert np.all(total[t > 1] > 1.0)           # after the event: the random total stays


def test_psd_projection_removes_only_negative_eigenvalues():
    c = np.array([[1.0, 0.0], [0.0, -1e-6]])
    np.testing.assert_array_equal(_course._psd(c), np.diag([1.0, 0.0]))
    good = np.array([[2.0, 1.0], [1.0, 2.0]])
    assert _course._psd(good) is good


def test_refusals_name_the_element():
    delayed = sn.load("model m; => X; k; X => ; g*X; k = 10; g = 2; X = 0; "
                      "E1: at 2 after (time >= 1): X = X / 2; end")
    reason = course_refusal(delayed)
    assert reason and "E1" in reason and "trigger time" in reason
    with pytest.raises(UnsupportedFeature, match="E1"):
        lna_course(delayed, [0.0, 3.0])
    plain_delay = sn.load("model m; => X; k; X => ; g*X; k = 10; g = 2; X = 0; "
                          "E1: at 2 after (time >= 1): X = 0; end")
    assert course_refusal(plain_delay) is None  # a constant assignment carries no state


def test_stop_invalid_cuts_a_diverging_course():
    # X grows without bound (birth 0.5 X, death 0.49 X): the relative
    # fluctuations grow; the course stops where a species' CV passes CV_VALID
    net = sn.load("model m; X => 2 X; b*X; X => ; d*X; b = 0.5; d = 0.49; X = 200; end")
    t = np.linspace(0.0, 400.0, 81)
    course = lna_course(net, t, stop_invalid=True)
    # linear, so the LNA is exact: CV^2(t) = (b + d) / ((b - d) x0) (1 - exp(-(b - d) t));
    # the course must stop at the first output time past the crossing CV = CV_VALID
    b, d, x0 = 0.5, 0.49, 200.0
    crossing = -math.log(1 - _course.CV_VALID ** 2 * (b - d) * x0 / (b + d)) / (b - d)
    first_past = float(t[np.searchsorted(t, crossing)])
    assert course.settings["stopped_at"] == pytest.approx(first_past)
    assert float(course.times[-1]) == pytest.approx(first_past - 5.0)


def test_lna_front_door_dispatches_rate_rules_and_events():
    net = sn.load("model m; => X; k; X => ; g*X; k = 10; g = 2; X = 0; "
                  "E1: at (time >= 1): X = 0; end")
    st = sn.lna(net, t=1.5)
    assert float(st.mean["X"]) == pytest.approx(float(_poisson(0.5)), rel=1e-4)
    with pytest.raises(UnsupportedFeature):
        sn.lna(net)  # the stationary LNA of a model with events
