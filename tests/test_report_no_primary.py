"""A report without any statistics (every backend refused): the per-species table says so
instead of looking up a method called ``None``; the text writers skip the species parts."""

from __future__ import annotations

import pytest

from sbmlnoise.analysis import AnalysisReport
from sbmlnoise.report import _primary_table, species_frame


def test_species_table_without_primary_names_the_reason():
    rep = AnalysisReport(model_id="m")
    with pytest.raises(KeyError, match="no primary method"):
        rep.species_table()
    with pytest.raises(KeyError, match="no primary method"):
        species_frame(rep)
    assert _primary_table(rep) == ""
