"""Parameter scans (sn.scan, sbmlnoise scan) against the telegraph closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sbmlnoise as sn
from sbmlnoise.studies._scan import parse_range
from sbmlnoise.cli import main

from conftest import bundled_path

KOFF, KTX, G = 2.0, 20.0, 1.0


def telegraph(kon, koff=KOFF, ktx=KTX, g=G):
    """Peccoud & Ycart 1995: mRNA mean and Fano factor of the telegraph model."""
    s = kon + koff
    return ktx * kon / (s * g), 1 + ktx * koff / (s * (s + g))


@pytest.fixture(scope="module")
def net():
    return sn.load(bundled_path("telegraph", ".ant"))


@pytest.mark.parametrize("method,tol", [("lna", 1e-10), ("fsp", 1e-6)])
def test_scan_kon_reproduces_closed_form_fano(net, method, tol):
    """LNA: exact for this linear network (rel 1e-10); FSP: tol=1e-10, rel 1e-6."""
    kon = np.logspace(-1, 1, 9)
    df = sn.scan(net, {"kon": kon}, method=method, fsp_tol=1e-10, progress=False)
    m = df[df["species"] == "M"].sort_values("kon")
    assert len(m) == kon.size and set(df["species"]) == set(net.species_ids)
    assert list(df.columns[:7]) == ["kon", "species", "mean", "variance", "fano", "cv",
                                    "method"]
    mean, fano = telegraph(m["kon"].to_numpy())
    np.testing.assert_allclose(m["fano"], fano, rtol=tol)
    np.testing.assert_allclose(m["mean"], mean, rtol=tol)
    np.testing.assert_allclose(m["cv"], np.sqrt(fano / mean), rtol=tol)
    assert set(m["method"]) == {method}
    assert df.attrs["parameters"] == ["kon"]


def test_two_d_grid_is_cartesian_and_exact(net):
    kon, koff = [0.5, 1.0, 4.0], [1.0, 3.0]
    df = sn.scan(net, {"kon": kon, "koff": koff}, method="lna", species="M")
    assert len(df) == 6
    assert list(zip(df["kon"], df["koff"])) == [(a, b) for a in kon for b in koff]
    _, fano = telegraph(df["kon"].to_numpy(), df["koff"].to_numpy())
    np.testing.assert_allclose(df["fano"], fano, rtol=1e-10)


def test_auto_uses_fsp_and_parallel_workers_agree(net):
    kon = [0.3, 3.0]
    serial = sn.scan(net, {"kon": kon}, method="auto", species="M", fsp_tol=1e-8)
    assert set(serial["method"]) == {"fsp"}
    assert "error_bound" in serial and (serial["error_bound"] <= 1e-8).all()
    parallel = sn.scan(net, {"kon": kon}, method="auto", species="M", fsp_tol=1e-8,
                       workers=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_ssa_scan_has_stderr_covering_truth(net):
    """SSA per point, seed 7, ~2000 relaxation times each: the closed form lies within 5
    batch-means standard errors (a loose bound so the test is not flaky)."""
    df = sn.scan(net, {"kon": [0.5, 2.0]}, method="ssa", species="M", seed=7)
    for col in ("mean_stderr", "variance_stderr", "fano_stderr", "cv_stderr"):
        assert col in df and (df[col] > 0).all()
    mean, fano = telegraph(df["kon"].to_numpy())
    assert np.all(np.abs(df["fano"] - fano) < 5 * df["fano_stderr"])
    assert np.all(np.abs(df["mean"] - mean) < 5 * df["mean_stderr"])
    again = sn.scan(net, {"kon": [0.5, 2.0]}, method="ssa", species="M", seed=7)
    pd.testing.assert_frame_equal(df, again)


def test_failed_points_are_reported_not_raised():
    osc = sn.load(bundled_path("repressilator", ".ant"))
    pid = next(p.id for p in osc.parameters if p.kind == "global")
    df = sn.scan(osc, {pid: [float(dict(zip(osc.parameter_ids, osc.parameter_values))[pid])]},
                 method="lna")
    assert df["fano"].isna().all()
    assert df["error"].str.contains("steady state").all()


def test_dask_client(net):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        df = sn.scan(net, {"kon": [0.5, 1.0]}, method="lna", species="M", client=client)
    _, fano = telegraph(df["kon"].to_numpy())
    np.testing.assert_allclose(df["fano"], fano, rtol=1e-10)


def test_bad_input(net):
    with pytest.raises(KeyError, match="nope"):
        sn.scan(net, {"nope": [1.0]})
    with pytest.raises(ValueError, match="finite"):
        sn.scan(net, {"kon": [np.nan]})
    with pytest.raises(ValueError, match="method"):
        sn.scan(net, {"kon": [1.0]}, method="magic")
    with pytest.raises(ValueError, match="mapping"):
        sn.scan(net, {})


def test_parse_range():
    np.testing.assert_allclose(parse_range("0.1:10:log3"), [0.1, 1.0, 10.0])
    np.testing.assert_allclose(parse_range("1:2:3"), [1.0, 1.5, 2.0])
    np.testing.assert_allclose(parse_range("1, 5"), [1.0, 5.0])
    for bad in ("1:2", "a:b:3", "0:1:log3", "", "1:2:x"):
        with pytest.raises(ValueError):
            parse_range(bad)


def test_cli_scan_writes_csv_and_html(tmp_path, capsys):
    out = tmp_path / "scan"
    code = main(["scan", str(bundled_path("telegraph", ".ant")), "--param", "kon=0.1:10:log5",
                 "--method", "lna", "--out", str(out), "--no-progress"])
    assert code == 0
    df = pd.read_csv(out / "scan.csv")
    m = df[df["species"] == "M"]
    np.testing.assert_allclose(m["fano"], telegraph(m["kon"].to_numpy())[1], rtol=1e-10)
    page = (out / "scan.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3
    code = main(["scan", str(bundled_path("telegraph", ".ant")), "--param", "kon=1,2",
                 "--param", "koff=1,2", "--method", "lna", "--out", str(tmp_path / "two"),
                 "--no-progress"])
    assert code == 0 and len(pd.read_csv(tmp_path / "two" / "scan.csv")) == 12


def test_cli_scan_bad_range_is_one_line_error(tmp_path, capsys):
    code = main(["scan", str(bundled_path("telegraph", ".ant")), "--param", "kon=1:2",
                 "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("sbmlnoise: error:") and "start:stop:N" in err
