"""sn.analyze and the burst estimates, against closed forms.

Telegraph model (Peccoud & Ycart 1995, doi:10.1006/tpbi.1995.1027): with switching rates
kon, koff, transcription ktx (while on) and decay g,
    mean = ktx kon / ((kon + koff) g),
    Fano = 1 + ktx koff / ((kon + koff)(kon + koff + g)),
burst size ktx / koff, burst frequency kon. Birth-death: Fano 1, C(tau) = (k/g) e^{-g tau},
autocorrelation time 1/g.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sbmlnoise as sn
from sbmlnoise.bursts import degradation_rate, moment_bursts, telegraph_bursts

ROOT = Path(__file__).resolve().parents[1]
TELEGRAPH = ROOT / "models" / "telegraph.xml"
KON, KOFF, KTX, G = 0.5, 2.0, 20.0, 1.0
MEAN_M = KTX * KON / ((KON + KOFF) * G)
FANO_M = 1 + KTX * KOFF / ((KON + KOFF) * (KON + KOFF + G))

BD = "model bd; => X; k; X => ; g*X; k = 10; g = 2; X = 0; end"


def _tel_text(encoding: str, kon=1.0, koff=4.0, ktx=40.0, g=1.0) -> str:
    pars = f"kon = {kon}; koff = {koff}; ktx = {ktx}; g = {g};"
    if encoding == "product":      # G1 => G1 + M
        body = "G0 => G1; kon*G0; G1 => G0; koff*G1; G1 => G1 + M; ktx*G1; M => ; g*M;"
        init = "G0 = 1; G1 = 0; M = 0;"
    elif encoding == "modifier":   # -> M with G1 only in the rate (modifier)
        body = "G0 -> G1; kon*G0 - koff*G1; => M; ktx*G1; M => ; g*M;"
        init = "G0 = 1; G1 = 0; M = 0;"
    elif encoding == "single":     # one species G in {0, 1}
        body = "=> G; kon*(1 - G); G => ; koff*G; => M; ktx*G; M => ; g*M;"
        init = "G = 0; M = 0;"
    elif encoding == "off_active":  # the *first* species is the producing state
        body = "A => B; koff*A; B => A; kon*B; A => A + M; ktx*A; M => ; g*M;"
        init = "A = 0; B = 1; M = 0;"
    else:
        raise ValueError(encoding)
    return f"model tel; {body} {pars} {init} end"


# --------------------------------------------------------------------------- analyze
@pytest.fixture(scope="module")
def telegraph_fsp():
    return sn.analyze(TELEGRAPH, method="fsp", trajectories=0, thermo=None)


def test_telegraph_fsp_matches_closed_form(telegraph_fsp):
    rep = telegraph_fsp
    table = rep.species_table()
    tol = 1e-4  # FSP truncation tol 1e-6; relative error on moments well below 1e-4
    assert rep.primary == "fsp"
    assert table.loc["M", "mean"] == pytest.approx(MEAN_M, rel=tol)
    assert table.loc["M", "fano"] == pytest.approx(FANO_M, rel=tol)
    assert table.loc["M", "burst_size"] == pytest.approx(KTX / KOFF, rel=1e-12)
    assert table.loc["M", "burst_frequency"] == pytest.approx(KON, rel=1e-12)
    assert table.loc["M", "burst_estimate"] == "kinetic"
    assert list(table.columns[:6]) == ["method", "mean", "variance", "std", "fano", "cv"]
    assert table.loc["G_on", "mean"] == pytest.approx(KON / (KON + KOFF), rel=tol)


def test_species_table_matches_statistics(telegraph_fsp):
    st = telegraph_fsp.statistics["fsp"]
    table = telegraph_fsp.species_table("fsp")
    for col in ("mean", "variance", "std", "fano", "cv"):
        np.testing.assert_array_equal(table[col].to_numpy(),
                                      getattr(st, col).loc[table.index].to_numpy())


def test_birth_death_lna_temporal_summary():
    rep = sn.analyze(BD, method="lna", trajectories=0, thermo=None)
    row = rep.species_table().loc["X"]
    assert row["mean"] == pytest.approx(5.0, rel=1e-9)
    assert row["fano"] == pytest.approx(1.0, rel=1e-9)
    assert row["autocorrelation_time"] == pytest.approx(0.5, rel=1e-6)   # 1/g
    assert row["psd_zero"] == pytest.approx(2 * 10 / 2 ** 2, rel=1e-6)   # 2k/g^2
    assert row["corner_frequency"] == pytest.approx(2.0, rel=1e-2)       # S(g) = S(0)/2
    assert math.isnan(row["peak_frequency"])
    assert rep.settings["time_scale"] == pytest.approx(0.5, rel=1e-9)
    assert rep.bursts["moment"]["X"]["gamma"] == pytest.approx(2.0)


def test_all_methods_consistency_table():
    """FSP, LNA and a short SSA (seed 3, ~20k events) agree on the birth-death model:
    every comparison within 4 SE / the FSP bound."""
    rep = sn.analyze(BD, method="all", seed=3, ssa_events=2e4, trajectories=2, thermo="network")
    assert set(rep.statistics) == {"fsp", "lna", "ssa"}
    cons = rep.consistency
    assert set(cons["quantity"]) == {"mean", "variance", "fano"}
    assert len(cons) == 3 * 3  # 3 method pairs x 3 quantities x 1 species
    assert not cons["flagged"].any(), cons
    ssa_rows = cons[cons["method_a"] == "ssa"]
    assert (ssa_rows["basis"].str.contains("SE")).all()
    assert rep.trajectories is not None and set(rep.trajectories["run"]) == {0, 1}
    assert rep.thermo is not None and rep.thermo_status["status"] == "ok"
    assert rep.timings["total"] > 0
    for key in ("sbmlnoise", "libsbml", "numpy", "scipy"):
        assert rep.versions[key]


def test_lna_inaccuracy_is_flagged_for_dimerisation():
    """2A -> A2 style nonlinearity: the LNA mean misses the exact CME mean by more than
    the FSP tolerance, which the consistency table must flag."""
    text = ("model dim; => A; k; 2 A => ; c*A*(A-1)/2; k = 2; c = 1; A = 0; end")
    rep = sn.analyze(text, method="all", seed=1, ssa_events=1e4, trajectories=0, thermo=None)
    rows = rep.consistency[(rep.consistency["method_a"] == "lna")
                           & (rep.consistency["method_b"] == "fsp")]
    assert rows["flagged"].any()


def test_auto_falls_back_to_lna_when_state_space_too_large():
    text = "model big; => X; k; X => ; g*X; k = 1e5; g = 1; X = 1e5; end"
    rep = sn.analyze(text, method="auto", max_states=50, ssa_events=2e4, trajectories=0,
                     thermo=None, seed=2)
    assert rep.primary == "lna"
    assert "fsp" in rep.skipped and "max_states" in rep.skipped["fsp"]
    assert any("FSP not used" in w for w in rep.warnings)


def test_explicit_method_is_strict():
    text = "model big; => X; k; X => ; g*X; k = 1e5; g = 1; X = 1e5; end"
    with pytest.raises(sn.StateSpaceTooLarge):
        sn.analyze(text, method="fsp", max_states=50, trajectories=0, thermo=None)


def test_oscillator_uses_ssa_and_says_so():
    """Brusselator-like limit cycle: no stable steady state -> the SSA is primary."""
    text = ("model osc; => X; a*om; X => ; b*X; X => Y; c*X; 2 X + Y => 3 X; "
            "d*X*(X-1)*Y/om^2; "
            "a = 1; b = 1; c = 3; d = 1; om = 60; X = 60; Y = 180; end")
    rep = sn.analyze(text, method="auto", seed=4, ssa_events=2e4, trajectories=0,
                     max_states=2000, thermo=None)
    assert rep.primary == "ssa"
    assert "lna" in rep.skipped
    assert any("oscillator" in w for w in rep.warnings)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown method"):
        sn.analyze(BD, method="magic")
    with pytest.raises(KeyError, match="no species 'Q'"):
        sn.analyze(BD, method="lna", species=["Q"])


def test_species_selection_and_text_input():
    rep = sn.analyze(_tel_text("product"), method="lna", species="M", trajectories=0,
                     thermo=None)
    assert rep.species == ("M",)
    assert list(rep.species_table().index) == ["M"]
    assert "G0" in rep.statistics["lna"].mean.index  # backends still model everything


def test_thermodynamics_failure_is_recorded(monkeypatch):
    import sbmlnoise.thermo as thermo_mod

    def boom(net, level="network", **kwargs):  # the real signature takes reuse keywords
        raise sn.UnsupportedFeature("no thermodynamics for this test", feature="test")

    monkeypatch.setattr(thermo_mod, "thermodynamics", boom)
    rep = sn.analyze(BD, method="lna", trajectories=0)
    assert rep.thermo is None
    assert rep.thermo_status["status"] == "unavailable"
    assert "no thermodynamics" in rep.thermo_status["reason"]


# --------------------------------------------------------------------------- bursts
@pytest.mark.parametrize("encoding", ["product", "modifier", "single", "off_active"])
def test_telegraph_motif_every_encoding(encoding):
    net = sn.load(_tel_text(encoding))
    found = telegraph_bursts(net)
    assert len(found) == 1
    b = found[0]
    assert b["species"] == "M"
    assert b["burst_size"] == pytest.approx(40.0 / 4.0)
    assert b["burst_frequency"] == pytest.approx(1.0)
    assert b["k_off"] == pytest.approx(4.0) and b["k_tx"] == pytest.approx(40.0)
    assert b["feedback"] is False


def test_no_motif_in_birth_death_and_two_stage_protein():
    assert telegraph_bursts(sn.load(BD)) == []
    text = ("model ts; => M; km; M => ; gm*M; M => M + P; kp*M; P => ; gp*P; "
            "km = 2; gm = 1; kp = 5; gp = 0.2; M = 0; P = 0; end")
    assert telegraph_bursts(sn.load(text)) == []


def test_feedback_is_reported():
    text = ("model fb; G0 => G1; kon*G0*(1 + M); G1 => G0; koff*G1; G1 => G1 + M; ktx*G1; "
            "M => ; g*M; kon = 1; koff = 4; ktx = 40; g = 1; G0 = 1; G1 = 0; M = 0; end")
    b = telegraph_bursts(sn.load(text), pd.Series({"M": 3.0}))[0]
    assert b["feedback"] is True
    assert b["k_on"] == pytest.approx(1.0 * (1 + 3.0))


def test_moment_bursts_formulae():
    net = sn.load(BD)
    assert degradation_rate(net, "X") == pytest.approx(2.0)
    frame = moment_bursts(net, pd.Series({"X": 12.0}), pd.Series({"X": 4.0}))
    assert frame.loc["X", "burst_size"] == pytest.approx(3.0)         # F - 1
    assert frame.loc["X", "burst_frequency"] == pytest.approx(12.0 * 2.0 / 3.0)
    poisson = moment_bursts(net, pd.Series({"X": 5.0}), pd.Series({"X": 1.0}))
    assert math.isnan(poisson.loc["X", "burst_size"])
    assert "Poisson" in poisson.loc["X", "note"]


def test_telegraph_moment_estimate_approaches_kinetic_in_bursty_limit():
    """koff >> kon, g: F - 1 -> ktx/koff (Raj & van Oudenaarden 2008)."""
    text = _tel_text("product", kon=0.1, koff=200.0, ktx=2000.0, g=1.0)
    rep = sn.analyze(text, method="lna", trajectories=0, thermo=None)
    moment = rep.bursts["moment"]["M"]
    assert moment["burst_size"] == pytest.approx(10.0, rel=0.01)
    assert moment["burst_frequency"] == pytest.approx(0.1, rel=0.02)


def test_dual_reporter_decomposition_closed_form():
    """Linear dual reporter (models/dual_reporter): eta_int^2 = 1/<X> and
    eta_ext^2 = (1/<E>) g/(g + gE) (Swain, Elowitz & Siggia 2002), exact for the LNA of a
    linear network."""
    rep = sn.analyze(ROOT / "models" / "dual_reporter.xml", method="lna", trajectories=0,
                     thermo=None)
    row = rep.noise_decomposition.loc[("X", "Y")]
    assert row["eta_int2"] == pytest.approx(1 / 20, rel=1e-9)
    assert row["eta_ext2"] == pytest.approx(0.1 * 1 / 1.1, rel=1e-9)


def test_time_point_birth_death():
    """From X(0) = 0 the birth-death count is Poisson with mean (k/g)(1 - e^{-g t}) at
    every t (Fano 1): FSP and LNA exactly (rel 1e-4), the SSA ensemble (2000 runs, seed 6)
    within 4 standard errors."""
    t = 0.5
    rep = sn.analyze(BD, method="all", time=t, ssa_runs=2000, seed=6, trajectories=0,
                     thermo=None)
    exact = 10 / 2 * (1 - math.exp(-2 * t))
    for m in ("fsp", "lna"):
        st = rep.statistics[m]
        assert st.time == pytest.approx(t)
        assert float(st.mean["X"]) == pytest.approx(exact, rel=1e-4)
        assert float(st.fano["X"]) == pytest.approx(1.0, rel=1e-4)
    ssa = rep.statistics["ssa"]
    assert abs(float(ssa.mean["X"]) - exact) < 4 * float(ssa.stderr["mean"]["X"])
    assert abs(float(ssa.fano["X"]) - 1.0) < 4 * float(ssa.stderr["fano"]["X"])
    assert rep.settings["stationary"] is False and rep.bursts["moment"] == {}
    assert "t = 0.5" in rep.summary()


def test_round_off_fano_is_poissonian():
    net = sn.load(BD)
    frame = moment_bursts(net, pd.Series({"X": 2.0}), pd.Series({"X": 1.0 + 1e-15}))
    assert math.isnan(frame.loc["X", "burst_size"])
    assert math.isnan(frame.loc["X", "burst_frequency"])


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted((ROOT / "models").glob("*.xml")),
                         ids=lambda p: p.stem)
def test_auto_on_every_bundled_model(path, tmp_path):
    """auto + full report on each bundled model (seed 0, 3e4 SSA events): either a report
    whose primary numbers are finite, or one clear UnsupportedFeature naming every
    backend (e.g. a model whose propensities go negative in the SSA)."""
    try:
        rep = sn.analyze(path, seed=0, ssa_events=3e4, trajectories=1)
    except sn.UnsupportedFeature as err:
        assert "no noise backend" in str(err) and "ssa:" in str(err)
        return
    table = rep.species_table()
    assert np.all(np.isfinite(table["mean"].to_numpy(dtype=float)))
    paths = rep.write(tmp_path)
    assert Path(paths["html"]).stat().st_size > 10_000


def test_unreached_steady_state_is_flagged():
    # dX/dt = -(X-1)(X-3)(X-5): stable states 1 and 5. From X0 = 3.9 the rate equations go
    # to 5, so stationary statistics around 1 would describe a state the model never visits.
    import pandas as pd

    from sbmlnoise.analysis._context import _reaches_steady_state

    net = sn.load("model bis; species X; make: => X; 15 + 9*X^2; lose: X => ; 23*X + X^3; "
                  "X = 3.9; end")
    assert sn.steady_state(net)["X"] == pytest.approx(5.0)
    for state, slope, flagged in ((1.0, -8.0, True), (5.0, -8.0, False)):
        ss = pd.Series([state], index=["X"])
        ss.attrs["eigenvalues"] = np.array([slope])   # f'(1) = f'(5) = -8
        warning = _reaches_steady_state(net, ss)
        assert (warning is not None) == flagged
        if flagged:
            assert "multistable" in warning and "X" in warning
