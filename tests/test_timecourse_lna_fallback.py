"""analyze answers with the time-dependent LNA when no simulation can run, and refuses
where no honest reading supports that answer; curate reads item-unit models whose amounts
are not molecule counts at a stated size (docs/curate.md, docs/oscillations.md); the HTML
report of a time-course answer says which method answered (it raised a KeyError before)."""

from __future__ import annotations

import math

import pytest
from scipy.integrate import solve_ivp

import sbmlnoise as sn
from sbmlnoise.errors import SbmlnoiseError, UnsupportedFeature

# jumps of 1/2 (non-integer stoichiometry: no exact SSA) and a time event (no stationary
# LNA, no FSP): only the time-dependent LNA answers. First-order propensities: its moments
# are those of the jump process.
HALF = ("model half; => 0.5 Y; k; Y => ; g*Y; k = {k}; g = 2; Y = 0; "
        "E1: at time >= 1: k = 2*k; end")


def _exact_moments(k: float, g: float, t_end: float) -> tuple[float, float]:
    """m' = k(t)/2 - g m, v' = k(t)/4 + g m - 2 g v (the closed moment equations)."""
    def rhs(t, y):
        kt = k if t < 1.0 else 2.0 * k
        return [kt / 2 - g * y[0], kt / 4 + g * y[0] - 2 * g * y[1]]
    first = solve_ivp(rhs, (0.0, 1.0), [0.0, 0.0], rtol=1e-10, atol=1e-12)
    second = solve_ivp(rhs, (1.0, t_end), first.y[:, -1], rtol=1e-10, atol=1e-12)
    return float(second.y[0, -1]), float(second.y[1, -1])


def test_non_integer_stoichiometry_with_an_event_gets_the_lna_time_course():
    rep = sn.analyze(sn.load(HALF.format(k=100)), seed=1)
    assert rep.primary == "timecourse"
    st = rep.statistics["timecourse"]
    assert st.method == "timecourse:lna"
    assert "exact SSA cannot simulate" in st.settings["approximation"]
    # the window reaches past the time-triggered event
    assert st.time > 1.0 and "time-triggered event" in st.settings["window"]
    mean, var = _exact_moments(100.0, 2.0, st.time)
    assert float(st.mean["Y"]) == pytest.approx(mean, rel=1e-4)
    assert float(st.variance["Y"]) == pytest.approx(var, rel=1e-3)


def test_too_few_molecules_for_the_lna_is_refused():
    with pytest.raises(UnsupportedFeature, match="needs many molecules"):
        sn.analyze(sn.load(HALF.format(k=1)), seed=1)


def test_a_law_that_drives_a_species_negative_gets_no_answer():
    # X is consumed at a constant rate 5 whatever its amount: the rate equations take it
    # below zero at t = 2, where no reading of the noise makes sense
    net = sn.load("model neg; X => 0.5 Y; 5; Y => ; g*Y; g = 1; X = 10; Y = 100; end")
    with pytest.raises(SbmlnoiseError, match="species 'X' negative"):
        sn.analyze(net, seed=1)


ITEMS = """
model items
  J1: => X; k
  J2: X => ; g*X
  E1: at time >= 1: k = 2*k
  k = 0.5; g = 1; X = 0.43
end
"""


def test_curate_reads_non_whole_item_amounts_as_micromolar(tmp_path):
    # X = 0.43 "items": no exact simulation can start, the LNA has fewer than 10
    # molecules; curate reads the amounts as uM in 1 fL (602.2 per unit, rounded)
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "items.ant").write_text(ITEMS, encoding="utf-8")
    res = sn.curate(folder, db=tmp_path / "c.sqlite", timeout=120, workers=1, progress=False)
    row = res.models[0]
    assert row["status"] == "ok", row
    assert "amounts read as uM in 1e-15 L" in row["method"], row["method"]
    assert any("own size" in w for w in row["warnings"])
    import sqlite3
    conn = sqlite3.connect(str(tmp_path / "c.sqlite"))
    try:
        mean = conn.execute("SELECT mean FROM species_stats WHERE species='X' AND method=?",
                            (row["method"],)).fetchone()[0]
    finally:
        conn.close()
    # linear birth-death from round(0.43 x 602.2) = 259 with k doubling at t = 1: the
    # exact mean at the end of the window t_end = 1 + 5 g^-1 = 6
    omega = 6.02214076e23 * 1e-6 * 1e-15
    x0 = round(0.43 * omega)
    m1 = 0.5 * omega + (x0 - 0.5 * omega) * math.exp(-1.0)
    exact = omega + (m1 - omega) * math.exp(-5.0)
    assert mean == pytest.approx(exact, rel=0.03)


@pytest.mark.parametrize("model, words", [
    (HALF.format(k=100), "time-dependent linear noise approximation"),
    ("model tb; => X; k; X => ; g*X; k' = 1; k = 0; g = 2; X = 0; end",
     "ensemble of stochastic runs"),
])
def test_the_report_of_a_time_course_answer_says_which_method(tmp_path, model, words):
    rep = sn.analyze(sn.load(model), seed=1)
    assert rep.primary == "timecourse"
    rep.to_html(tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert words in text and "noise over time" in text
