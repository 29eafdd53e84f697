"""Tellurium habits (issue 18, item 4): RoadRunner objects as models, concentrations as
libRoadRunner reports them, notebook display and ``.plot()``.

Concentrations are checked against libRoadRunner's own steady state ``[X]`` (independent
tool, rel 1e-6) and the closed form of a birth-death process in a compartment of volume
V = 2.5 (SBML kinetic laws are amount per time and read the *concentration* [X] = n/V):
birth k, death g [X] = (g/V) n, so counts are Poisson with mean k V/g, ``[X] = k/g``,
``Var[X] = (k V/g)/V^2 = k/(g V)`` and ``C(tau) = Var[X] exp(-(g/V) tau)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise.importer._tellurium import coerce_model

K, G, V = 12.0, 1.5, 2.5
BD = (f"model bdv; compartment c = {V}; species X in c; => X; {K}; X => ; {G}*X; "
      "X = 0; end")


def test_coerce_model_accepts_what_tellurium_users_hold(tmp_path):
    net = sn.load(BD)
    assert coerce_model(net) is net
    assert coerce_model(BD).species_ids == ("X",)
    assert coerce_model(BD.encode("utf-8")).species_ids == ("X",)
    path = tmp_path / "bd.ant"
    path.write_text(BD, encoding="utf-8")
    assert coerce_model(path).species_ids == ("X",)
    assert coerce_model(str(path)).species_ids == ("X",)
    with pytest.raises(TypeError, match="from_roadrunner"):
        coerce_model(42)
    with pytest.raises(sn.ModelError, match="UTF-8"):
        coerce_model(b"\xff\xfe\x00model")


def test_coerce_model_roadrunner_current_parameters():
    te = pytest.importorskip("tellurium")
    r = te.loada(BD.replace("model bdv;", "model bdv\n").replace("; end", "\nend"))
    r["X"] = 0.0
    r.setValue("c", V)
    net = coerce_model(r)
    assert net.species_ids == ("X",)
    st = sn.lna(net)
    assert float(st.mean["X"]) == pytest.approx(K * V / G, rel=1e-9)


def test_in_concentrations_matches_roadrunner_and_closed_form():
    st = sn.lna(sn.load(BD))
    net = sn.load(BD)
    conc = st.in_concentrations(net)
    assert conc.units == "concentration" and st.units == "count"
    assert float(st.mean["X"]) == pytest.approx(K * V / G, rel=1e-9)
    assert float(conc.mean["X"]) == pytest.approx(K / G, rel=1e-9)
    assert float(conc.variance["X"]) == pytest.approx(K / (G * V), rel=1e-9)
    assert float(conc.cv["X"]) == pytest.approx(float(st.cv["X"]), rel=1e-12)
    lags = np.array([0.0, 0.5, 2.0])
    np.testing.assert_allclose(conc.autocorrelation("X", lags).to_numpy(),
                               K / (G * V) * np.exp(-G / V * lags), rtol=1e-8)
    te = pytest.importorskip("tellurium")
    r = te.loada(BD.replace("model bdv;", "model bdv\n").replace("; end", "\nend"))
    r.steadyState()
    assert float(conc.mean["X"]) == pytest.approx(float(r["[X]"]), rel=1e-6)


def test_in_concentrations_rescales_ssa_errors_and_distributions():
    net = sn.load(BD)
    st = sn.ssa_stationary(net, t_end=400.0, burn_in=10.0, seed=4)
    conc = st.in_concentrations({"X": V})
    assert float(conc.stderr["mean"]["X"]) == pytest.approx(float(st.stderr["mean"]["X"]) / V)
    assert float(conc.stderr["variance"]["X"]) == pytest.approx(
        float(st.stderr["variance"]["X"]) / V**2)
    d, dc = st.distributions["X"], conc.distributions["X"]
    np.testing.assert_allclose(dc.index.to_numpy(), d.index.to_numpy() / V)
    with pytest.raises(KeyError, match="X"):
        st.in_concentrations({"Y": 1.0})
    with pytest.raises(ValueError, match="positive"):
        st.in_concentrations({"X": 0.0})


def test_repr_html_and_plot():
    import matplotlib
    matplotlib.use("Agg")
    net = sn.load(BD)
    st = sn.ssa_stationary(net, t_end=300.0, burn_in=10.0, seed=5)
    page = st._repr_html_()
    assert "<table>" in page and "±" in page and "95% confidence" in page
    assert "NoiseStatistics" in sn.lna(net)._repr_html_()
    ax = st.plot()
    assert ax.get_ylabel() == "probability" and len(ax.lines) == 1
    ax2 = sn.lna(net).plot("X")
    assert "mean" in ax2.get_ylabel()
    import matplotlib.pyplot as plt
    plt.close("all")
    # birth K, death G [X] = (G/V) n: Poisson with mean K V / G = 20, Fano 1
    assert abs(float(st.mean["X"]) - K * V / G) < 4.5 * float(st.stderr["mean"]["X"])
    assert abs(float(st.fano["X"]) - 1.0) < 4.5 * float(st.stderr["fano"]["X"])
