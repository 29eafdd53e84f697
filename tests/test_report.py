"""report.json / CSV / report.html of an analysis of the telegraph model.

The HTML is parsed with html.parser: every section is present, figures are embedded
base64 PNGs, nothing points outside the file, and model-derived text is escaped. The JSON
follows docs/report-schema.md and its numbers equal the statistics objects'.
SSA: seed 5, about 2e4 events (numbers are only compared with themselves here).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sbmlnoise as sn
from sbmlnoise.report._writers import SCHEMA, jsonable, render_html

ROOT = Path(__file__).resolve().parents[1]
TELEGRAPH = ROOT / "models" / "telegraph.xml"
SECTIONS = ["summary", "species", "panels", "consistency", "bursts", "thermodynamics",
            "network", "settings"]
JSON_KEYS = {"schema", "created", "model", "primary", "species", "species_table",
             "statistics", "consistency", "bursts", "thermodynamics", "fluxes", "skipped",
             "settings", "versions", "timings", "warnings"}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.imgs, self.urls, self.tags, self.text = [], [], [], set(), []
        self.scripts = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        if tag == "img":
            self.imgs.append(attrs)
        if tag == "script":
            self.scripts.append(attrs.get("src", ""))
        for key in ("src", "href", "action", "data"):
            if attrs.get(key):
                self.urls.append(attrs[key])

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    rep = sn.analyze(TELEGRAPH, method="all", seed=5, ssa_events=2e4, trajectories=2)
    out = tmp_path_factory.mktemp("telegraph-report")
    paths = rep.write(out)
    return rep, out, paths


def test_html_sections_images_offline(report):
    rep, out, paths = report
    parser = _Collector()
    parser.feed(Path(paths["html"]).read_text(encoding="utf-8"))
    for sec in SECTIONS:
        assert sec in parser.sections, sec
    assert "link" not in parser.tags and parser.scripts == [""]  # one inline script
    # the overview, one panel set per species and the network drawing
    assert len(parser.imgs) == 1 + len(rep.species) + 1
    for img in parser.imgs:
        src = img["src"]
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000
    for url in parser.urls:
        assert url.startswith("data:") or url.startswith("#"), url
    text = " ".join(parser.text)
    assert "detailed balance" in text
    assert "transcription" in text  # reaction channels table


def test_json_schema_and_numbers(report):
    rep, out, paths = report
    doc = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    assert JSON_KEYS <= set(doc)
    assert doc["schema"] == SCHEMA
    assert doc["primary"] == rep.primary == "fsp"
    assert set(doc["statistics"]) == {"fsp", "lna", "ssa"}
    for m, st in rep.statistics.items():
        block = doc["statistics"][m]
        assert block["method"] == m
        for s in rep.species:
            for q in ("mean", "variance", "std", "fano", "cv"):
                want = float(getattr(st, q)[s])
                got = block["species"][s][q]
                assert (got is None and not math.isfinite(want)) or got == want, (m, s, q)
        cov = np.array(block["covariance"]["values"], dtype=float)
        np.testing.assert_array_equal(cov, st.covariance.loc[block["covariance"]["species"],
                                                             block["covariance"]["species"]])
    ssa = doc["statistics"]["ssa"]["species"]["M"]
    assert ssa["stderr"]["mean"] == float(rep.statistics["ssa"].stderr["mean"]["M"])
    kinetic = doc["bursts"]["kinetic"][0]
    assert kinetic["species"] == "M" and kinetic["burst_size"] == pytest.approx(10.0)
    assert doc["thermodynamics"]["status"] == "ok"
    assert doc["thermodynamics"]["detailed_balance"] is False
    assert doc["model"]["id"] == "telegraph"
    assert len(doc["consistency"]) == len(rep.consistency)
    rows = {r["species"]: r for r in doc["species_table"]}
    assert rows["M"]["fano"] == float(rep.statistics["fsp"].fano["M"])
    dist = doc["statistics"]["fsp"]["distributions"]["M"]
    assert sum(dist["probability"]) == pytest.approx(1.0, abs=1e-5)


def test_csv_tables(report):
    rep, out, paths = report
    names = {Path(p).name for p in paths["csv"]}
    for name in ("species.csv", "consistency.csv", "covariance_fsp.csv",
                 "distributions_fsp.csv", "bursts_kinetic.csv", "bursts_moment.csv",
                 "trajectories.csv", "fluxes.csv"):
        assert name in names, name
    species = pd.read_csv(out / "species.csv", index_col="species")
    fsp = species[species["method"] == "fsp"]
    assert fsp.loc["M", "fano"] == pytest.approx(float(rep.statistics["fsp"].fano["M"]),
                                                 rel=1e-12)
    assert not list(out.glob(".*.tmp"))


def test_html_escapes_model_text(report):
    rep, _, _ = report
    evil = '<script>alert("x")</script>'
    bad = dataclasses.replace(rep, model_name=evil, warnings=[evil])
    text = render_html(bad)
    assert evil not in text
    assert "&lt;script&gt;" in text


def test_jsonable_nan_and_numpy():
    doc = jsonable({"a": np.float64("nan"), "b": np.int64(3), "c": np.array([1.0, np.inf]),
                    "d": pd.Series({"x": 1.5})})
    assert doc == {"a": None, "b": 3, "c": [1.0, None], "d": {"x": 1.5}}
    json.dumps(doc, allow_nan=False)


def test_report_without_ssa_or_thermo(tmp_path):
    rep = sn.analyze("model bd; => X; k; X => ; g*X; k = 10; g = 2; X = 0; end",
                     method="lna", trajectories=0, thermo=None)
    paths = rep.write(tmp_path)
    parser = _Collector()
    parser.feed(Path(paths["html"]).read_text(encoding="utf-8"))
    for sec in SECTIONS:
        assert sec in parser.sections
    doc = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    assert doc["thermodynamics"]["status"] == "skipped"
    assert doc["statistics"]["lna"]["distributions"] is None


# --------------------------------------------------------------------------- issue 18 / 15
from sbmlnoise.report import _figures as rf  # noqa: E402
from sbmlnoise.report import _text as rt  # noqa: E402
from sbmlnoise.report._writers import species_frame  # noqa: E402

TWO_STAGE_BIG = ("model ts; => M; k_m; M => ; g_m*M; M => M + P; k_p*M; P => ; g_p*P; "
                 "k_m = 2; g_m = 0.5; k_p = 10; g_p = 0.02; M = 0; P = 0; end")


class _Visible(HTMLParser):
    """Text a reader sees (no style or script content), whitespace collapsed."""

    def __init__(self):
        super().__init__()
        self.skip, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def _visible_text(html_text: str) -> str:
    parser = _Visible()
    parser.feed(html_text)
    return " ".join("".join(parser.parts).split())


def test_fmt_pm_digits_follow_the_error_bar():
    assert rt.fmt_pm(1154.3, 410.0) == "1150 ± 410"
    assert rt.fmt_pm(84.53, 9.04) == "84.5 ± 9.0"
    assert rt.fmt_pm(0.002183, 0.000471) == "0.00218 ± 0.00047"
    assert rt.fmt_pm(1.2345e17, 4.1e15) == "(1.234 ± 0.041)e17"
    assert rt.fmt_pm(5.0, float("nan")) == "5" and rt.fmt_pm(float("nan"), 1.0) == "-"
    assert rt.fmt(1.5e17) == "1.500e17" and rt.fmt(0.25) == "0.25"
    assert rt.fmt(156.0, 2) == "160" and rt.fmt(123456.0) == "123500"


def test_summary_names_noisiest_method_and_no_python_text(report, tmp_path):
    rep, out, paths = report
    text = _visible_text(Path(paths["html"]).read_text(encoding="utf-8"))
    # the promoter states are tied by G_off + G_on = 1: the noisiest free species is M
    assert "The noisiest species is M" in text
    assert "finite state projection" in text and "27 comparisons agree" in text
    for raw in ("{'", "['", "None", "nan", "NaN", "array("):
        assert raw not in text, raw
    # species names beside ids
    named = sn.analyze("model named; species U, V; U is \"LacI repressor\"; "
                       "V is \"TetR repressor\"; => U; 10; U => ; U; => V; 5*U; V => ; V; "
                       "U = 0; V = 0; end", method="lna", trajectories=0, thermo=None)
    page = render_html(named)
    vis = _visible_text(page)
    assert "LacI repressor (U)" in vis and "TetR repressor" in vis
    assert 'id="sp-U"' in page and 'id="sp-V"' in page


def test_every_species_has_a_card_and_ssa_numbers_carry_intervals(tmp_path):
    species = " ".join(f"=> X{i}; {i + 1}; X{i} => ; X{i};" for i in range(14))
    inits = " ".join(f"X{i} = 0;" for i in range(14))
    rep = sn.analyze(f"model many; {species} {inits} end", method="ssa", seed=3,
                     ssa_events=2e4, trajectories=0, thermo=None)
    page = render_html(rep)
    for i in range(14):
        assert f'id="sp-X{i}"' in page
    assert "Every one of the 14 species has a card" in page
    st = rep.statistics["ssa"]
    for i in (0, 13):
        want = rt.fmt_pm(st.fano[f"X{i}"], 1.959963984540054 * st.stderr["fano"][f"X{i}"])
        assert "±" in want and want in page


def test_bursts_only_where_assumptions_hold(report):
    rep, _, _ = report
    frame = species_frame(rep)
    assert frame.loc["M", "burst_estimate"] == "kinetic"
    assert frame.loc["M", "burst_size"] == pytest.approx(10.0)
    for g in ("G_on", "G_off"):  # promoter states: conserved, no burst estimate
        assert frame.loc[g, "burst_estimate"] == "" and math.isnan(frame.loc[g, "burst_size"])
        assert "conservation law" in frame.loc[g, "burst_note"]
    auto = sn.analyze(ROOT / "models" / "autoregulation.ant", method="lna", trajectories=0,
                      thermo=None)
    row = species_frame(auto).loc["P"]
    assert row["burst_estimate"] == "" and ("feedback" in row["burst_note"]
                                            or "Poisson" in row["burst_note"])
    two = sn.analyze(ROOT / "models" / "two_stage.ant", method="lna", trajectories=0,
                     thermo=None)
    row = species_frame(two).loc["P"]  # Fano 1 + kp/(gm+gp) = 31/6: b = F - 1 = 25/6
    assert row["burst_estimate"] == "moment"
    assert row["burst_size"] == pytest.approx(25 / 6, rel=1e-9)


def test_oscillator_window_spans_periods():
    """A damped cosine autocovariance with period 70: the report draws four periods."""
    lags = np.linspace(0.0, 2000.0, 4001)
    acov = lambda sid, x: np.exp(-np.abs(x) / 300.0) * np.cos(2 * np.pi * np.abs(x) / 70.0)
    st = sn.NoiseStatistics(mean=pd.Series({"X": 10.0}),
                            covariance=pd.DataFrame([[1.0]], index=["X"], columns=["X"]),
                            method="lna", autocovariance_function=acov)
    assert rt.acf_period(st, "X", 400.0) == pytest.approx(70.0, rel=0.01)
    assert rt.acf_period(st, "X", 50.0) == pytest.approx(70.0, rel=0.05)  # 2 x minimum
    del lags


def test_readable_axes_near_1e17():
    fig = rf._figure(3, 2)
    ax = fig.add_axes([0.2, 0.2, 0.7, 0.7])
    ax.plot(1e17 + np.arange(5) * 1e3, [1, 3, 2, 5, 4])
    rf.readable_axes(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert 2 <= len(labels) <= 6
    assert all(len(t) <= 7 for t in labels), labels
    assert ax.xaxis.get_offset_text().get_text()  # the 1e17 lives in the offset


def test_two_stage_report_is_fast_and_uses_exact_lna(tmp_path):
    """Issue 15: k_m=2, g_m=0.5, k_p=10, g_p=0.02 (protein mean 2000, FSP primary with
    ~1e5 states): the report takes < 2 s CPU after analyze (no FSP expm while drawing);
    the autocorrelation comes from the LNA, exact for these linear propensities."""
    import time
    sn.analyze("model w; => X; 1; X => ; X; X = 0; end", method="lna", trajectories=1,
               thermo=None).to_html(tmp_path / "warm.html")  # imports, fonts
    rep = sn.analyze(TWO_STAGE_BIG, method="all", seed=1, ssa_events=2e4, trajectories=1)
    assert rep.primary == "fsp"
    assert rf.temporal_source(rep)[0] == "lna"
    t0 = time.process_time()
    rep.write(tmp_path / "out")
    assert time.process_time() - t0 < 2.0
    mean_p = float(rep.statistics["fsp"].mean["P"])
    assert mean_p == pytest.approx(2 * 10 / (0.5 * 0.02), rel=1e-3)


def test_std_interval_by_delta_method():
    """SE(sqrt V) = SE(V) / (2 sqrt V): V = 16 +- 2 (SE) gives std 4 with SE 0.25."""
    st = sn.NoiseStatistics(mean=pd.Series({"X": 10.0}),
                            covariance=pd.DataFrame([[16.0]], index=["X"], columns=["X"]),
                            method="ssa", stderr={"variance": pd.Series({"X": 2.0})})
    assert rt.half_width(st, "std", "X") == pytest.approx(rt.Z95 * 0.25)
    assert math.isnan(rt.half_width(st, "fano", "X"))
    assert "±" in st._repr_html_()


def test_interval_caveat_when_batches_are_short(report):
    """Batch means need batches much longer than the correlation time: the telegraph run
    (batches of many relaxation times) gets no caveat; the same run cut into 10^5
    batches does, in the summary and the terminal."""
    rep, _, _ = report
    assert rt.interval_caveat(rep) is None
    st = rep.statistics["ssa"]
    short = dataclasses.replace(st, settings=dict(st.settings, n_batches=100_000))
    bad = dataclasses.replace(rep, statistics=dict(rep.statistics, ssa=short), _cache={},
                              primary="ssa")
    caveat = rt.interval_caveat(bad)
    assert caveat and "too narrow" in caveat
    assert "Caution" in render_html(bad)
    from sbmlnoise.report._terminal import terminal_summary
    assert "caution:" in terminal_summary(bad, pm="+/-")
