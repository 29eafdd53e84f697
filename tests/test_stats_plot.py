"""``NoiseStatistics.plot`` takes one species, any iterable of species, or none (all)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sbmlnoise.stats import NoiseStatistics

pytest.importorskip("matplotlib")


def _stats() -> NoiseStatistics:
    ids = ["A", "B", "C"]
    m = np.array([1.0, 4.0, 9.0])
    return NoiseStatistics(mean=pd.Series(m, index=ids),
                           covariance=pd.DataFrame(np.diag(m), index=ids, columns=ids),
                           method="lna", settings={})


@pytest.mark.parametrize("species, drawn", [(None, ["A", "B", "C"]), ("B", ["B"]),
                                            (("C", "A"), ["C", "A"]),
                                            (iter(["A", "C"]), ["A", "C"])])
def test_plot_species_selection(species, drawn):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = _stats().plot(species)
    try:
        assert [t.get_text() for t in ax.get_xticklabels()] == drawn
        heights = [p.get_height() for p in ax.patches]
        assert heights == pytest.approx([{"A": 1.0, "B": 4.0, "C": 9.0}[s] for s in drawn])
    finally:
        plt.close(ax.figure)


def test_plot_unknown_species():
    with pytest.raises(KeyError):
        _stats().plot(["A", "nope"])
