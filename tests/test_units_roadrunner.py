"""``analyze(..., units="concentration")`` and RoadRunner objects accepted by every public
entry point (issue 18 item 4).

Closed form: birth-death in a compartment of size V = 2 (SBML kinetic laws are amount per
time and read the concentration [X] = n/V): birth k, death g [X] = (g/V) n, so the counts
are Poisson with mean k V/g; hence ``E[X] = E n / 2 = k/g`` and
``Var[X] = Var n / 4 = k/(g V)``, the CV and the Fano factor of the counts unchanged, and
``C(tau) = Var[X] exp(-(g/V) tau)``. The means are also checked against libRoadRunner's own
steady state ``[X]`` (an independent tool, rel 1e-6).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import sbmlnoise as sn

K, G, V = 10.0, 1.0, 2.0
BD = f"""model bdc
compartment cell = {V}
species X in cell
=> X; k; X => ; g*X
k = {K}; g = {G}; X = 0
end"""


def test_concentration_report_matches_the_closed_form():
    counts = sn.analyze(BD, method="all", seed=1, trajectories=2, thermo=None,
                        ssa_events=2e5)
    conc = sn.analyze(BD, method="all", seed=1, trajectories=2, thermo=None,
                      ssa_events=2e5, units="concentration")
    assert counts.settings["units"] == "count"
    assert conc.settings["units"] == "concentration"
    n_mean, n_var = K * V / G, K * V / G  # Poisson counts
    for m in ("fsp", "lna"):
        a = counts.species_table(m).loc["X"]
        c = conc.species_table(m).loc["X"]
        assert a["mean"] == pytest.approx(n_mean, rel=1e-6)
        assert c["mean"] == pytest.approx(n_mean / V, rel=1e-6)          # mean X / 2
        assert c["variance"] == pytest.approx(n_var / V ** 2, rel=1e-6)  # variance / 4
        assert c["std"] == pytest.approx(math.sqrt(n_var) / V, rel=1e-6)
        assert c["cv"] == pytest.approx(a["cv"], rel=1e-12)
        assert c["fano"] == pytest.approx(1.0, rel=1e-6)  # Fano of the counts, stated so
        st = conc.statistics[m]
        assert float(st.covariance.loc["X", "X"]) == pytest.approx(n_var / V ** 2, rel=1e-6)
        # the autocovariance amplitude: Var[X] exp(-(g/V) tau)
        acf = st.autocorrelation("X", [0.0, 1.0]).to_numpy()
        assert acf == pytest.approx(n_var / V ** 2 * np.exp(-G / V * np.array([0.0, 1.0])),
                                    rel=1e-4)
    # SSA: the same sample, rescaled exactly; standard errors alike; Fano SE of the counts
    a, c = counts.species_table("ssa").loc["X"], conc.species_table("ssa").loc["X"]
    assert c["mean"] == pytest.approx(a["mean"] / V, rel=1e-12)
    assert c["mean_stderr"] == pytest.approx(a["mean_stderr"] / V, rel=1e-12)
    assert c["variance"] == pytest.approx(a["variance"] / V ** 2, rel=1e-12)
    assert c["fano"] == pytest.approx(a["fano"], rel=1e-12)
    assert c["fano_stderr"] == pytest.approx(a["fano_stderr"], rel=1e-12)
    # consistency values and trajectories in concentration too
    cons = conc.consistency.set_index(["method_a", "method_b", "quantity"])
    assert cons.loc[("lna", "fsp", "mean"), "value_b"] == pytest.approx(n_mean / V, rel=1e-6)
    assert conc.trajectories["X"].to_numpy() == pytest.approx(
        counts.trajectories["X"].to_numpy() / V)


def test_concentration_means_equal_roadrunner_steady_state():
    te = pytest.importorskip("tellurium")
    r = te.loada(BD)
    r.steadyState()
    rep = sn.analyze(r, method="lna", trajectories=0, thermo=None, units="concentration")
    assert float(rep.statistics["lna"].mean["X"]) == pytest.approx(r["[X]"], rel=1e-6)


def test_unit_named_in_every_table_header(tmp_path):
    rep = sn.analyze(BD, method="fsp", trajectories=0, thermo=None, units="concentration")
    text = rep.summary()
    assert "mean [X] (concentration)" in text and "Fano factor (of counts)" in text
    page = open(rep.to_html(tmp_path / "r.html"), encoding="utf-8").read()
    assert "<th>mean [X] (concentration)</th>" in page
    assert "<th>Fano factor (of counts)</th>" in page
    assert "shown are concentrations [X]" in page
    data = json.loads(open(rep.to_json(tmp_path / "r.json"), encoding="utf-8").read())
    assert data["units"] == "concentration"
    assert data["species_table"][0]["mean"] == pytest.approx(K / G, rel=1e-6)
    counts = sn.analyze(BD, method="fsp", trajectories=0, thermo=None)
    assert "mean (molecules)" in counts.summary()
    with pytest.raises(ValueError, match="units must be"):
        sn.analyze(BD, method="fsp", units="molar")


def test_cli_units_concentration(tmp_path):
    model = tmp_path / "bd.ant"
    model.write_text(BD, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "sbmlnoise", "analyze", str(model),
                          "--method", "lna", "--thermo", "none", "--units", "concentration",
                          "--out", str(tmp_path / "rep"), "--wall-time", "100", "--annotate",
                          str(tmp_path / "ann.xml"), "--no-progress"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "mean [X] (concentration)" in out.stdout
    data = json.loads((tmp_path / "rep" / "report.json").read_text(encoding="utf-8"))
    assert data["species_table"][0]["mean"] == pytest.approx(K / G, rel=1e-6)
    # the annotated SBML keeps counts (its unit attribute says "item")
    ann = sn.read_annotations(str(tmp_path / "ann.xml"))
    entry = ann["species"]["X"] if "species" in ann else ann["X"]
    assert float(entry["mean"]) == pytest.approx(K * V / G, rel=1e-6)


def test_roadrunner_objects_accepted_by_every_entry_point():
    te = pytest.importorskip("tellurium")
    r = te.loada(BD)
    r.simulate(0, 3, 10)  # moves the current state: the initial state is still used
    net = sn.load(BD)
    exact = K * V / G
    assert float(sn.lna(r).mean["X"]) == pytest.approx(exact, rel=1e-9)
    assert float(sn.fsp(r).stats.mean["X"]) == pytest.approx(exact, rel=1e-6)
    ens = sn.ssa(r, times=[0.0, 1.0], runs=20, seed=1)
    assert ens.mean.shape == (2, 1)
    st = sn.ssa_stationary(r, t_end=200.0, burn_in=10.0, seed=1)
    assert abs(float(st.mean["X"]) - exact) < 5 * float(st.stderr["mean"]["X"])
    ode = sn.simulate_ode(r, [0.0, 50.0])
    assert float(ode["X"].iloc[-1]) == pytest.approx(exact, rel=1e-5)
    assert sn.thermodynamics(r) is not None
    sc = sn.scan(r, {"k": [5.0, 10.0]}, method="lna")
    assert list(sc["mean"]) == pytest.approx([exact / 2, exact], rel=1e-9)
    sens = sn.sensitivities(r, "lna")
    assert len(sens) and len(sn.noise_control(sens, "cv2"))
    # the same objects as from the network
    assert float(sn.lna(net).mean["X"]) == float(sn.lna(r).mean["X"])
    with pytest.raises(TypeError, match="from_roadrunner"):
        sn.lna(42)


@pytest.mark.parametrize("name", ["fsp", "lna", "ssa", "ssa_stationary", "simulate_ode",
                                  "steady_state", "thermodynamics", "scan", "sensitivities",
                                  "extrinsic_noise", "oscillation", "multistability",
                                  "time_course_noise"])
def test_every_model_entry_point_coerces_its_model(name):
    func = getattr(sn, name)
    assert getattr(func, "__wrapped__", None) is not None, name
    with pytest.raises(TypeError, match="cannot read a model from a builtins.int"):
        func(42)


def test_csv_and_consistency_note_state_the_units(tmp_path):
    import pandas as pd
    rep = sn.analyze(BD, method="all", seed=1, trajectories=0, thermo=None, ssa_events=2e5,
                     units="concentration")
    paths = rep.write(tmp_path)
    species = pd.read_csv(tmp_path / "species.csv", index_col="species")
    assert set(species["units"]) == {"concentration"}
    assert species.loc[species["method"] == "fsp", "mean"].iloc[0] == pytest.approx(K / G)
    page = open(paths["html"], encoding="utf-8").read()
    cons = page[page.index('id="consistency"'):]
    assert "Values in concentrations [X]" in cons.split("</section>")[0]
