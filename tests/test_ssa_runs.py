"""``sn.ssa(..., runs=)`` accepts whole numbers (Python or numpy, int or integral float) and
refuses everything else with one ``ValueError`` (strings, booleans, non-finite or
fractional numbers, complex numbers, arrays) -- before any simulation starts."""

from __future__ import annotations

import numpy as np
import pytest

import sbmlnoise as sn

BD = "model bd; => X; k; X => ; g*X; k = 10; g = 1; X = 0; end"


@pytest.mark.parametrize("runs", [3, np.int64(3), 3.0, np.float32(3.0)])
def test_whole_runs_accepted(runs):
    res = sn.ssa(sn.load(BD), times=[0.0, 1.0], runs=runs, seed=1)
    assert res.runs == 3


@pytest.mark.parametrize("runs", [True, np.bool_(True), "3", 2.5, float("nan"), float("inf"),
                                  0, -1, 1j, np.array([3])])
def test_bad_runs_refused(runs):
    with pytest.raises(ValueError, match="runs must be an integer >= 1"):
        sn.ssa(sn.load(BD), times=[0.0, 1.0], runs=runs, seed=1)
