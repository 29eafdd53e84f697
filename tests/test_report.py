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
from sbmlnoise.report import SCHEMA, jsonable, render_html

ROOT = Path(__file__).resolve().parents[1]
TELEGRAPH = ROOT / "models" / "telegraph.xml"
SECTIONS = ["summary", "species", "distributions", "autocorrelation", "psd", "trajectories",
            "consistency", "bursts", "thermodynamics", "network", "settings"]
JSON_KEYS = {"schema", "created", "model", "primary", "species", "species_table",
             "statistics", "consistency", "bursts", "thermodynamics", "fluxes", "skipped",
             "settings", "versions", "timings", "warnings"}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.imgs, self.urls, self.tags, self.text = [], [], [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        if tag == "img":
            self.imgs.append(attrs)
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
    assert "script" not in parser.tags and "link" not in parser.tags
    # distributions, autocorrelation, PSD, trajectories and the network drawing
    assert len(parser.imgs) >= 5
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
    assert rows["M"]["fano"] == float(rep.species_table().loc["M", "fano"])
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
    assert "<script>" not in text
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
