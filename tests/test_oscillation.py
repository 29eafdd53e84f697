"""Tests of sn.oscillation (sbmlnoise/dynamics/_oscillation.py).

* LNA: the quasi-cycle spectrum of a two-species linear focus, whose peak and half-maximum
  points solve quadratics in w^2 (derived below); the LNA is exact for linear propensities.
* SSA: the Brusselator (Prigogine & Lefever 1968) in its limit-cycle regime (a = 1, b = 3 >
  1 + a^2): the mean cycle length agrees with the rate equations' period within its
  standard error at large system size, and the coherence (Q, coherent cycles) grows in
  proportion to the system size (phase diffusion ~ 1/Omega; Gaspard 2002,
  doi:10.1063/1.1509751). Seeds, runs and tolerances are stated per test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise.errors import NoSteadyState
from sbmlnoise.dynamics._oscillation import COLUMNS, deterministic_cycle

MODELS_DIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "models"

BRUSSELATOR = """model brusselator
  compartment cell = 1; species X in cell, Y in cell;
  r1: => X; a
  r2: 2X + Y => 3X; X*X*Y
  r3: X => Y; b*X
  r4: X => ; X
  a = 1; b = 3; X = 1; Y = 3
end"""


def focus(k0=100.0, g1=0.1, g2=0.1, kxy=1.0, kyx=1.0):
    """Linear focus: => X (k0), X => (g1 X), X => (kyx Y: Y removes X), => Y (kxy X),
    Y => (g2 Y). Jacobian [[-g1, -kyx], [kxy, -g2]]."""
    return sn.load(f"""model focus
      => X; k0; X => ; g1*X; X => ; kyx*Y; => Y; kxy*X; Y => ; g2*Y
      k0 = {k0}; g1 = {g1}; g2 = {g2}; kxy = {kxy}; kyx = {kyx}
      X = 0; Y = 0
    end""")


def focus_closed_form(k0, g1, g2, kxy, kyx):
    """Peak frequency and Q of S_XX(w) = (alpha + beta u) / ((Delta - u)^2 + T^2 u),
    u = w^2, for the focus above (D = diag(2 k0, 2 kxy X*) at the fixed point)."""
    x = k0 / (g1 + kyx * kxy / g2)
    d1, d2 = 2 * k0, 2 * kxy * x
    alpha, beta = g2 ** 2 * d1 + kyx ** 2 * d2, d1
    delta, trace = g1 * g2 + kxy * kyx, g1 + g2
    # d f / du = 0  <=>  beta u^2 + 2 alpha u - (beta Delta^2 + 2 alpha Delta - alpha T^2) = 0
    c = beta * delta ** 2 + 2 * alpha * delta - alpha * trace ** 2
    u_p = (-alpha + math.sqrt(alpha ** 2 + beta * c)) / beta
    f = lambda u: (alpha + beta * u) / ((delta - u) ** 2 + trace ** 2 * u)  # noqa: E731
    fmax = f(u_p)
    # f(u) = fmax / 2  <=>  fmax u^2 + (fmax (T^2 - 2 Delta) - 2 beta) u + fmax Delta^2 - 2 alpha = 0
    qa, qb, qc = fmax, fmax * (trace ** 2 - 2 * delta) - 2 * beta, fmax * delta ** 2 - 2 * alpha
    disc = math.sqrt(qb ** 2 - 4 * qa * qc)
    u1, u2 = (-qb - disc) / (2 * qa), (-qb + disc) / (2 * qa)
    assert u1 > 0  # a narrow peak: both half-maximum points exist
    w_p = math.sqrt(u_p)
    return w_p, w_p / (math.sqrt(u2) - math.sqrt(u1)), x, fmax


@pytest.mark.parametrize("params", [dict(k0=100.0, g1=0.1, g2=0.1, kxy=1.0, kyx=1.0),
                                    dict(k0=50.0, g1=0.3, g2=0.05, kxy=2.0, kyx=0.5)])
def test_lna_quasi_cycle_spectrum_of_linear_focus(params):
    net = focus(**params)
    table = sn.oscillation(net)  # auto: stable focus -> LNA
    assert list(table.columns) == list(COLUMNS)
    row = table.loc["X"]
    w_p, q, x, fmax = focus_closed_form(**params)
    assert row["method"] == "lna"
    assert row["peak_frequency"] == pytest.approx(w_p, rel=1e-7)
    assert row["period"] == pytest.approx(2 * math.pi / w_p, rel=1e-7)
    assert row["q_factor"] == pytest.approx(q, rel=1e-6)
    # the spectrum itself at the peak (exact LNA PSD of the backend)
    st = sn.lna(net)
    assert float(st.psd("X", [w_p]).iloc[0]) == pytest.approx(fmax, rel=1e-9)
    # eigenvalues -(g1 + g2)/2 +/- i sqrt(kxy kyx - (g1 - g2)^2 / 4)
    g1, g2 = params["g1"], params["g2"]
    im = math.sqrt(params["kxy"] * params["kyx"] - (g1 - g2) ** 2 / 4)
    assert row["deterministic_period"] == pytest.approx(2 * math.pi / im, rel=1e-9)
    assert row["acf_decay_time"] == pytest.approx(2 / (g1 + g2), rel=1e-9)
    assert math.isnan(row["period_se"])  # exact: no sampling error


def test_lna_node_has_no_peak_and_limit_cycle_is_refused():
    bd = sn.load("model bd; => X; 10; X => ; 2*X; X = 0; end")
    row = sn.oscillation(bd).loc["X"]
    assert math.isnan(row["period"]) and math.isnan(row["q_factor"])
    assert "no spectral peak" in row["note"]
    with pytest.raises(NoSteadyState, match="method='ssa'"):
        sn.oscillation(sn.load(BRUSSELATOR, system_size=100), method="lna")
    with pytest.raises(ValueError, match="unknown method"):
        sn.oscillation(bd, method="fft")
    with pytest.raises(KeyError, match="no species 'Z'"):
        sn.oscillation(bd, species="Z")


def test_deterministic_cycle_of_brusselator_starts_off_the_fixed_point():
    # the initial state is the unstable fixed point (X = a, Y = b / a): a small push is
    # needed; the period is independent of Omega (amounts) and amplitudes scale with it
    c1 = deterministic_cycle(sn.load(BRUSSELATOR, system_size=1))
    c2 = deterministic_cycle(sn.load(BRUSSELATOR, system_size=50))
    assert c1["converged"] and c2["converged"]
    assert c1["period"] == pytest.approx(c2["period"], rel=1e-6)
    # independent reference: scipy's DOP853 on x' = a - (b + 1) x + x^2 y,
    # y' = b x - x^2 y (a = 1, b = 3), period between upward crossings of x = a
    from scipy.integrate import solve_ivp

    def rhs(t, z):
        x, y = z
        return [1.0 - 4.0 * x + x * x * y, 3.0 * x - x * x * y]

    def up(t, z):
        return z[0] - 1.0
    up.direction = 1.0
    sol = solve_ivp(rhs, (0.0, 300.0), [1.1, 3.0], method="DOP853", rtol=1e-11,
                    atol=1e-12, events=up)
    crossings = sol.t_events[0]
    assert c1["period"] == pytest.approx(crossings[-1] - crossings[-2], rel=1e-4)
    np.testing.assert_allclose(c2["amplitude"], 50 * c1["amplitude"], rtol=1e-3)


def test_brusselator_ssa_period_and_coherence_grow_with_size():
    # 8 runs x 60 cycles per size, seed 11; about 5 s on one core once numba is warm
    tables = {om: sn.oscillation(sn.load(BRUSSELATOR, system_size=om), runs=8, cycles=60,
                                 seed=11, workers=1) for om in (300, 1200)}
    big = tables[1200].loc["X"]
    assert big["method"] == "ssa"
    # mean cycle length against the rate equations' period: within 3 standard errors
    assert abs(big["period"] - big["deterministic_period"]) <= 3 * big["period_se"]
    assert big["period_se"] < 0.01 * big["period"]
    # the spectral peak sits at 2 pi / period (3 standard errors)
    assert abs(big["peak_frequency"] - 2 * math.pi / big["deterministic_period"]) <= \
        3 * big["peak_frequency_se"]
    small = tables[300].loc["X"]
    # phase diffusion ~ 1/Omega: coherent cycles grow 4x (3 combined standard errors)
    ratio = big["coherent_cycles"] / small["coherent_cycles"]
    se = ratio * math.hypot(big["coherent_cycles_se"] / big["coherent_cycles"],
                            small["coherent_cycles_se"] / small["coherent_cycles"])
    assert abs(ratio - 4) <= 3 * se, (ratio, se)
    q_ratio = big["q_factor"] / small["q_factor"]
    q_se = q_ratio * math.hypot(big["q_factor_se"] / big["q_factor"],
                                small["q_factor_se"] / small["q_factor"])
    assert abs(q_ratio - 4) <= 3 * q_se, (q_ratio, q_se)
    # amplitudes: close to the deterministic one at large size (half peak-to-trough)
    assert big["amplitude_mean"] == pytest.approx(big["deterministic_amplitude"], rel=0.05)


@pytest.mark.slow
def test_brusselator_q_linear_in_system_size_slow():
    # 16 runs x 150 cycles at Omega = 1000, 4000, seed 5 (about a minute)
    rows = {om: sn.oscillation(sn.load(BRUSSELATOR, system_size=om), runs=16, cycles=150,
                               seed=5, species="X", max_events=2e9).loc["X"] for om in (1000, 4000)}
    big, small = rows[4000], rows[1000]
    assert abs(big["period"] - big["deterministic_period"]) <= 3 * big["period_se"]
    q_ratio = big["q_factor"] / small["q_factor"]
    q_se = q_ratio * math.hypot(big["q_factor_se"] / big["q_factor"],
                                small["q_factor_se"] / small["q_factor"])
    assert abs(q_ratio - 4) <= 3 * q_se, (q_ratio, q_se)
    # a Lorentzian line: Q = pi x coherent cycles (phase diffusion), 3 standard errors
    for row in (small, big):
        pred = math.pi * row["coherent_cycles"]
        se = math.hypot(row["q_factor_se"], math.pi * row["coherent_cycles_se"])
        assert abs(row["q_factor"] - pred) <= 3 * se


# --------------------------------------------------------------------------- time course
def test_time_course_noise_birth_death_is_poisson_at_all_times():
    # birth k = 10, death g = 1 from X = 0: X(t) ~ Poisson(10 (1 - e^-t)) exactly, so
    # mean = variance = 10 (1 - e^-t), Fano = 1. 800 runs, seed 4; 4 jackknife SE.
    net = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    tc = sn.time_course_noise(net, runs=800, seed=4, n_times=21)
    assert tc.settings["window"].startswith("5 x the slowest relaxation")
    assert tc.times[-1] == pytest.approx(5.0)
    lam = 10 * (1 - np.exp(-tc.times[1:]))
    m, m_se = tc.mean["X"].to_numpy()[1:], tc.stderr["mean"]["X"].to_numpy()[1:]
    sd, sd_se = tc.sd["X"].to_numpy()[1:], tc.stderr["sd"]["X"].to_numpy()[1:]
    f, f_se = tc.fano["X"].to_numpy()[1:], tc.stderr["fano"]["X"].to_numpy()[1:]
    # 20 times each: allow 4 SE (family-wise false-alarm rate well below 1%)
    assert np.all(np.abs(m - lam) <= 4 * m_se)
    assert np.all(np.abs(sd - np.sqrt(lam)) <= 4 * sd_se)
    assert np.all(np.abs(f - 1) <= 4 * f_se)
    np.testing.assert_allclose(tc.ode["X"].to_numpy()[1:], lam, rtol=1e-6)
    # linear propensities: the LNA is exact (sd = sqrt(lam)) and valid throughout
    np.testing.assert_allclose(tc.lna_sd["X"].to_numpy()[1:], np.sqrt(lam), rtol=1e-5)
    assert tc.lna_valid.all() and tc.lna_valid_until == pytest.approx(5.0)
    frame = tc.to_frame()
    assert {"mean", "mean_se", "sd", "cv", "fano", "ode_mean", "lna_sd"} <= set(frame.columns)
    assert tc.trajectories.shape == (5, 21, 1)


def test_time_course_noise_oscillator_flags_where_lna_fails():
    # Brusselator at Omega = 200: the LNA variance grows without bound along the limit
    # cycle (phase diffusion), so it must be flagged invalid before the window ends.
    net = sn.load(BRUSSELATOR, system_size=200)
    tc = sn.time_course_noise(net, runs=100, seed=2, n_times=41)
    assert tc.settings["window"].startswith("10 periods")
    assert tc.lna_sd is not None and not tc.lna_valid.all()
    assert tc.lna_valid_until is None or tc.lna_valid_until < tc.times[-1]
    # the ensemble dephases: its sd at the end is of the order of the cycle amplitude
    assert tc.sd["X"].iloc[-1] > 0.2 * tc.mean["X"].iloc[-1]


def test_time_course_noise_rejects_bad_input():
    net = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    with pytest.raises(ValueError, match="runs must be >= 2"):
        sn.time_course_noise(net, [0, 1], runs=1)
    # 1000 runs x 5 time units x 10 events per unit time = 5e4 > 1e4: refused up front
    with pytest.raises(sn.SimulationError, match="max_events"):
        sn.time_course_noise(net, [0, 5], runs=1000, max_events=1e4)


def test_stationary_law_of_an_oscillator_by_ssa_stationary():
    # Brusselator: d<X + Y>/dt = a Omega - <X> exactly (r2 and r3 only convert), so the
    # stationary mean of X is a Omega although the rate equations oscillate; the limit
    # cycle's time average is a Omega too. One run of 200 periods after 20, 32 batches,
    # seed 8; 4 batch-means standard errors.
    om = 200
    net = sn.load(BRUSSELATOR, system_size=om)
    cyc = deterministic_cycle(net)
    assert cyc["mean"][0] == pytest.approx(1.0 * om, rel=2e-3)  # a = 1 (one-cycle average)
    st = sn.ssa_stationary(net, t_end=220 * cyc["period"], burn_in=20 * cyc["period"], seed=8)
    assert abs(st.mean["X"] - om) <= 4 * st.stderr["mean"]["X"]
    assert st.stderr["mean"]["X"] < 0.02 * om
    # a broad, non-Gaussian law: far from the LNA (which does not exist here)
    assert st.fano["Y"] > 10
    dist = st.distributions["X"]
    assert dist.sum() == pytest.approx(1.0, abs=1e-9)


def test_figures_draw_from_results():
    # the figures read only the results (no recomputation); PNG rendering must work
    import io

    from sbmlnoise.report._osc_figures import (
        period_histogram_figure,
        spectrum_figure,
        time_course_figure,
    )

    table = sn.oscillation(focus())
    fig = spectrum_figure(table)
    assert len(fig.axes) == 2
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"
    empty = period_histogram_figure(table)  # LNA: no cycle lengths, a note instead
    assert len(empty.axes) == 1
    bru = sn.oscillation(sn.load(BRUSSELATOR, system_size=100), runs=4, cycles=20, seed=1,
                         species="X")
    assert len(bru.attrs["cycle_lengths"]["X"]) == bru.loc["X", "n_cycles"]
    hist = period_histogram_figure(bru)
    assert "cycles" in hist.axes[0].get_title()
    spectrum_figure(bru).savefig(io.BytesIO(), format="png")
    net = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    tc = sn.time_course_noise(net, runs=50, seed=1, n_times=11)
    fig = time_course_figure(tc)
    fig.savefig(io.BytesIO(), format="png")
    assert fig.axes[0].get_title() == "X"


def test_oscillation_refuses_events_and_bad_settings():
    ev = sn.load("""model ev; => X; k; X => ; g*X; k = 1; g = 1; X = 0
      at time > 1: X = 0
    end""")
    with pytest.raises(sn.UnsupportedFeature, match="time_course_noise"):
        sn.oscillation(ev)
    bru = sn.load(BRUSSELATOR, system_size=100)
    with pytest.raises(ValueError, match="runs must be >= 2"):
        sn.oscillation(bru, runs=1)
    with pytest.raises(ValueError, match="cycles must be >= 10"):
        sn.oscillation(bru, cycles=5)
    with pytest.raises(sn.SimulationError, match="max_events"):
        sn.oscillation(bru, max_events=1e4)


def test_noise_dynamics_picks_answers_by_kind():
    # the dispatcher for analyze: oscillator -> time course + oscillation; toggle ->
    # multistability; events -> time course; a monostable model -> nothing unless asked
    bru = sn.noise_dynamics(sn.load(BRUSSELATOR, system_size=100), seed=1, runs=50,
                            cycles=20, oscillation_runs=4)
    assert bru.kind == "oscillator"
    assert bru.time_course is not None and bru.oscillation is not None
    assert bru.oscillation.loc["X", "method"] == "ssa"
    ev = sn.noise_dynamics(sn.load("""model ev; => X; k; X => ; g*X; k = 10; g = 1; X = 0
      at time > 1: X = 0
    end"""), seed=1, runs=50)
    assert ev.kind == "non-autonomous" and ev.time_course is not None
    # the time-dependent LNA maps the covariance through the reset (exact here: after it
    # X is Poisson again, mean = variance = 10 (1 - exp(-(t - 1))))
    sd = ev.time_course.lna_sd["X"]
    assert float(sd.iloc[-1]) ** 2 == pytest.approx(10 * (1 - math.exp(-4.0)), rel=1e-3)
    bd = sn.load("model bd; => X; 10; X => ; X; X = 0; end")
    mono = sn.noise_dynamics(bd, seed=1)
    assert mono.kind == "monostable" and mono.time_course is None
    asked = sn.noise_dynamics(bd, time=[0, 1, 2], seed=1, runs=50)
    assert list(asked.time_course.times) == [0, 1, 2]
    toggle = sn.noise_dynamics(sn.load(MODELS_DIR / "toggle_switch.ant"), seed=1)
    assert toggle.kind == "multistable"
    assert len(toggle.multistability.switching) == 2


def test_oscillator_time_scales_come_from_its_unstable_fixed_point():
    # started far from the cycle (X = Y = 0), the linearisation at the initial state knows
    # nothing of the rotation; the context takes the unstable fixed point's eigenvalues:
    # J = [[b - 1, a^2], [-b, -a^2]] = [[2, 1], [-3, -1]] at (a, b/a), lambda = 1/2 +- i
    # sqrt(3)/2, so period 2 pi / (sqrt(3)/2) and the relaxation time 1/|Re| = 2
    from sbmlnoise.analysis._context import build_context
    net = sn.load(BRUSSELATOR.replace("X = 1; Y = 3", "X = 0; Y = 0"), system_size=100)
    ctx = build_context(net)
    assert ctx.unstable
    assert ctx.scales["period"] == pytest.approx(2 * math.pi / (math.sqrt(3) / 2), rel=1e-6)
    assert ctx.scales["slow"] == pytest.approx(2.0, rel=1e-6)
