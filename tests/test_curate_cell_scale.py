"""curate answers mole-unit models at the documented cell-scale volume when the model's
own size gives no noise answer, and rescales the LNA to that volume when it does."""

import sqlite3

import pytest

import sbmlnoise as sn
from sbmlnoise.curate._worker import CELL_VOLUME

AVOGADRO = 6.02214076e23

# a mole-unit model in one litre with a time event: at its own size (1e17 molecules) the
# FSP and LNA refuse the event and no simulation can run; at 1 fL the SSA can. After the
# event X is Poisson with mean 2 k Omega / (g + h), Omega = N_A * 1e-15 (per mole).
EVENT = """
model evmole
  unit substance = mole
  unit volume = litre
  compartment cell = 1
  species X in cell, Y in cell
  J1: => X; cell*k
  J2: X => ; cell*g*X
  J3: X => Y; cell*h*X
  J4: Y => ; cell*g*Y
  E1: at time > 5: k = 2*k
  k = 1e-6; g = 1; h = 0.5
  X = 0; Y = 0
end
"""

# the same network without the event: the stationary LNA answers at the model's own size
# and curate adds its exact rescaling to 1 fL (Poisson: Fano 1, CV^2 = 1 / mean).
PLAIN = EVENT.replace("  E1: at time > 5: k = 2*k\n", "")

# a delayed event whose assignment reads the state at trigger time: the time-dependent LNA
# cannot carry that covariance, so at its own size (1e17 molecules) nothing answers, and
# at 1 fL the exact SSA (delayed events) does
DELAYED = EVENT.replace("  E1: at time > 5: k = 2*k\n",
                        "  E1: at 0.5 after time > 5: X = 2 * X\n")


def _rows(db, model_id):
    conn = sqlite3.connect(str(db))
    try:
        return {(s, m): (mean, fano, cv) for s, m, mean, fano, cv in conn.execute(
            "SELECT species, method, mean, fano, cv FROM species_stats WHERE model_id=?",
            (model_id,))}
    finally:
        conn.close()


def test_mole_unit_models_get_a_cell_scale_answer(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "event.ant").write_text(EVENT, encoding="utf-8")
    (folder / "plain.ant").write_text(PLAIN, encoding="utf-8")
    (folder / "delayed.ant").write_text(DELAYED, encoding="utf-8")
    db = tmp_path / "c.sqlite"
    res = sn.curate(folder, db=db, timeout=120, workers=1, progress=False)
    by = {m["name"]: m for m in res.models}
    label = f"{CELL_VOLUME:g} L"
    omega = AVOGADRO * CELL_VOLUME

    delayed = by["delayed.ant"]
    assert delayed["status"] == "ok", delayed
    assert delayed["method"].endswith(f"@ {label}"), delayed["method"]
    assert any("own size" in w for w in delayed["warnings"])

    # the event model: the time-dependent LNA answers at the model's own size (the event
    # maps the covariance) and is rescaled to 1 fL; linear network, so the LNA is exact:
    # after the event X is Poisson with mean 2 k Omega / (g + h) once it has relaxed
    ev = by["event.ant"]
    assert ev["status"] == "ok" and ev["method"] == "timecourse", ev
    rows = _rows(db, ev["id"])
    mean, fano, cv = rows[("X", f"timecourse @ {label} (rescaled)")]
    own_mean, own_fano, _ = rows[("X", "timecourse")]
    assert mean == pytest.approx(own_mean * CELL_VOLUME / 1.0, rel=1e-9)
    assert fano == pytest.approx(own_fano, rel=1e-9)
    assert fano == pytest.approx(1.0, rel=1e-3)
    assert cv == pytest.approx(mean ** -0.5, rel=1e-3)
    assert mean == pytest.approx(2 * 1e-6 * omega / 1.5, rel=0.05)

    plain = by["plain.ant"]
    assert plain["status"] == "ok" and plain["method"] == "lna", plain
    rows = _rows(db, plain["id"])
    key = f"lna @ {label} (rescaled)"
    mean, fano, cv = rows[("X", key)]
    cell_mean = 1e-6 * omega / 1.5
    assert mean == pytest.approx(cell_mean, rel=1e-6)
    assert fano == pytest.approx(1.0, rel=1e-6)
    assert cv == pytest.approx(cell_mean ** -0.5, rel=1e-6)


def test_cell_scale_can_be_turned_off_or_moved(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "plain.ant").write_text(PLAIN, encoding="utf-8")
    off = sn.curate(folder, db=tmp_path / "off.sqlite", timeout=120, workers=1,
                    progress=False, cell_volume=None)
    plain = off.models[0]
    assert plain["status"] == "ok" and plain["method"] == "lna"
    assert not any("@" in k for (_, k) in _rows(tmp_path / "off.sqlite", plain["id"]))
    big = sn.curate(folder, db=tmp_path / "big.sqlite", timeout=120, workers=1,
                    progress=False, cell_volume=5e-14)
    rows = _rows(tmp_path / "big.sqlite", big.models[0]["id"])
    mean, fano, _ = rows[("X", "lna @ 5e-14 L (rescaled)")]
    assert mean == pytest.approx(1e-6 * AVOGADRO * 5e-14 / 1.5, rel=1e-6)


def test_rescaled_rows_outside_the_lna_validity_are_named():
    from sbmlnoise.curate._worker import _cell_validity
    key = "lna @ 1e-15 L (rescaled)"
    def row(sid, mean, cv):
        var = None if mean is None else (cv * mean) ** 2
        return {"species": sid, "method": key, "mean": mean, "variance": var, "cv": cv}
    rows = [row("A", 200.0, 1.3),    # Fano 338
            row("B", 50.0, 2.0),     # few molecules
            row("C", 1e4, 0.01),     # Poisson
            row("D", None, None)]
    note = _cell_validity(rows)
    assert note is not None and key in note and "A (CV 1.3" in note
    assert "1 species" in note and "B (" not in note
    assert _cell_validity(rows[1:]) is None
