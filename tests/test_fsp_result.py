"""FSPResult's state-graph queries need the projection that built it: a result assembled
without one (e.g. by hand, or copied without its private fields) refuses them with one
clear ValueError instead of an AttributeError on ``None``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import sbmlnoise as sn
from sbmlnoise.fsp import fsp

BD = "model bd_result; => X; k; X => ; g*X; k = 3; g = 1; X = 0; end"


def test_state_graph_queries_need_the_projection():
    fr = fsp(sn.load(BD), tol=1e-10)
    # with the projection: birth-death currents vanish at stationarity (detailed
    # balance of a one-dimensional chain), to the solver's precision
    assert np.max(np.abs(fr.currents()["net_flux"])) < 1e-12
    bare = dataclasses.replace(fr, _projection=None, _model=None)
    for query in (lambda r: r.transitions, lambda r: r.currents(),
                  lambda r: r.reflecting_generator):
        with pytest.raises(ValueError, match="carries no projection"):
            query(bare)
    # the statistics do not need it: Poisson(3) law, Fano factor 1 (tol 1e-10)
    assert float(bare.stats.fano["X"]) == pytest.approx(1.0, abs=1e-8)
