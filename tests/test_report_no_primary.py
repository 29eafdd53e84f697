"""A report without any statistics (every backend refused): the per-species table says so
instead of looking up a method called ``None``; the writers skip the species parts."""

from __future__ import annotations

import pytest

from sbmlnoise.analysis import AnalysisReport
from sbmlnoise.report import report_dict, write_html


def test_species_table_without_primary_names_the_reason():
    rep = AnalysisReport(model_id="m")
    with pytest.raises(KeyError, match="no primary method"):
        rep.species_table()


def test_writers_skip_species_without_primary(tmp_path):
    rep = AnalysisReport(model_id="m")
    d = report_dict(rep)
    assert d["primary"] is None and not d["species_table"]
    text = (tmp_path / "r.html").read_text(encoding="utf-8") \
        if write_html(rep, tmp_path / "r.html") else ""
    assert "<html" in text.lower() and 'id="species"' not in text
