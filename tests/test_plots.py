"""Plots render headless (Agg, no display) and show the numbers they are given."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import sbmlnoise as sn
from sbmlnoise import plots

from conftest import bundled_path

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def net():
    return sn.load(bundled_path("telegraph", ".ant"))


def _render(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 2000
    return path


def test_marginal_bars_are_the_fsp_probabilities(net, tmp_path):
    fr = sn.fsp(net)
    fig = sn.plot_marginal(fr, "M", lna=sn.lna(net))
    ax = fig.axes[0]
    heights = np.array([p.get_height() for p in ax.patches])
    marginal = fr.marginal("M")
    shown = marginal[marginal > 1e-12 * marginal.max()].to_numpy()
    np.testing.assert_allclose(heights, shown)
    assert any(line.get_label() == "LNA Gaussian" for line in ax.get_lines())
    _render(fig, tmp_path, "marginal")


def test_statistics_and_report(net, tmp_path):
    rep = sn.analyze(net, method="all", seed=1, ssa_events=2e4, trajectories=1, thermo=None)
    fig = sn.plot_statistics(rep.statistics, "M")
    fano_ax = fig.axes[0]
    bars = [p.get_height() for p in fano_ax.patches]
    expected = [float(st.fano["M"]) for st in rep.statistics.values()]
    np.testing.assert_allclose(bars, expected)
    _render(fig, tmp_path, "statistics")
    for kind in ("distributions", "statistics", "autocorrelation", "psd"):
        _render(sn.plot_report(rep, kind), tmp_path, kind)
    with pytest.raises(ValueError, match="kind"):
        sn.plot_report(rep, "nope")


def test_ensemble(net, tmp_path):
    ens = sn.ssa(net, times=np.linspace(0, 10, 21), runs=50, seed=2, keep_trajectories=3)
    fig = sn.plot_ensemble(ens, ["M", "G_on"])
    assert len([ax for ax in fig.axes if ax.has_data()]) == 2
    mean_line = next(line for line in fig.axes[0].get_lines()
                     if line.get_label().startswith("mean"))
    np.testing.assert_allclose(mean_line.get_ydata(), ens.mean["M"].to_numpy())
    _render(fig, tmp_path, "ensemble")
    with pytest.raises(KeyError, match="Q"):
        sn.plot_ensemble(ens, "Q")


def test_scan_curves_and_heat_map(net, tmp_path):
    one = sn.scan(net, {"kon": np.logspace(-1, 1, 5)}, method="lna")
    fig = sn.plot_scan(one, "fano", species="M")
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), one[one["species"] == "M"]["fano"])
    assert fig.axes[0].get_xscale() == "log"
    _render(fig, tmp_path, "scan1")
    two = sn.scan(net, {"kon": [0.5, 1, 2], "koff": [1, 2]}, method="lna", species="M")
    fig = sn.plot_scan(two, "cv")
    mesh = fig.axes[0].collections[0]
    assert np.asarray(mesh.get_array()).size == 6
    _render(fig, tmp_path, "scan2")


def test_sensitivities_and_extrinsic(net, tmp_path):
    sens = sn.sensitivities(net, species="M")
    fig = sn.plot_sensitivities(sens, "cv2")
    widths = sorted(abs(p.get_width()) for p in fig.axes[0].patches)
    expected = sorted(abs(sens[sens["measure"] == "cv2"]["value"]))
    np.testing.assert_allclose(widths, expected)
    _render(fig, tmp_path, "sens")
    bd = sn.load("model bd; => X; k; X => ; g*X; k = 10; g = 2; X = 0; end")
    d = sn.extrinsic_noise(bd, {"k": stats.gamma(4, scale=2.5)}, quadrature=4)
    _render(sn.plot_extrinsic(d), tmp_path, "extrinsic")


def test_no_pyplot_state_is_left_behind(net):
    """Figures are plain matplotlib Figures: pyplot's figure registry does not grow."""
    import matplotlib.pyplot as plt
    before = list(plt.get_fignums())
    fig = plots.plot_marginal(sn.fsp(net), "M")
    assert plt.get_fignums() == before
    assert fig.__class__.__name__ == "Figure"


def test_result_methods_draw_headless(tmp_path):
    """Issue 17: rep.plot(), fr.plot_marginal() and ens.plot() return figures that render."""
    import matplotlib
    net = sn.load("model bd; => X; k; X => ; g*X; k = 8; g = 1; X = 0; end")
    fr = sn.fsp(net)
    rep = sn.analyze(net, method="fsp", trajectories=0, thermo=None)
    ens = sn.ssa(net, times=[0.0, 1.0, 2.0], runs=20, seed=1, keep_trajectories=2)
    for k, fig in enumerate([fr.plot_marginal("X"), rep.plot(), rep.plot("statistics")]):
        assert isinstance(fig, matplotlib.figure.Figure)
        fig.savefig(tmp_path / f"f{k}.png")
        assert (tmp_path / f"f{k}.png").stat().st_size > 1000
    assert ens.plot() is not None
