"""The stationary LNA's extras are built on first access (LazyExtras) but read like the
plain dict they were: same keys in the same order, same values, pickles to a dict."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pandas as pd

import sbmlnoise as sn
from sbmlnoise.lna._extras import LazyExtras

TWO_STAGE = ("model ts; => M; 2; M => ; 0.5*M; M => M + P; 10*M; P => ; 0.1*P; "
             "M = 0; P = 0; end")


def test_lazy_extras_behave_as_a_dict():
    calls = []

    def build():
        calls.append(1)
        return 42

    d = LazyExtras({"a": 1})
    d.lazy("b", build)
    d["c"] = 3
    assert list(d) == ["a", "b", "c"] and "b" in d and len(d) == 3
    assert not calls  # nothing built yet
    assert d["b"] == 42 and d.get("b") == 42 and calls == [1]  # built once
    assert dict(d) == {"a": 1, "b": 42, "c": 3} == {**d} == d.copy() == d
    d2 = LazyExtras()
    d2.lazy("x", lambda: [1, 2])
    assert pickle.loads(pickle.dumps(d2)) == {"x": [1, 2]}
    assert copy.deepcopy(d2) == {"x": [1, 2]}
    assert json.dumps(d2) == '{"x": [1, 2]}'
    assert d2.pop("x") == [1, 2] and d2.get("x", "gone") == "gone"
    d3 = LazyExtras()
    d3.lazy("y", lambda: 1 / 0)
    d3["y"] = 5  # an overwritten builder never runs
    assert d3["y"] == 5 and list(d3.values()) == [5]


def test_stationary_extras_values():
    # two-stage gene expression (Thattai & van Oudenaarden 2001, doi:10.1073/pnas.151588598):
    # Var(P)/<P> = 1 + kp/(gm + gp) with <M> = km/gm, <P> = km kp/(gm gp)
    st = sn.lna(sn.load(TWO_STAGE))
    ex = st.extra
    assert isinstance(ex, LazyExtras)
    assert list(ex) == ["emre_mean", "concentration_mean", "concentration_covariance",
                        "compartment_sizes", "emre_concentration_mean", "jacobian",
                        "diffusion", "eigenvalues", "warnings", "noise_coefficients"]
    km, gm, kp, gp = 2.0, 0.5, 10.0, 0.1
    np.testing.assert_allclose(st.mean[["M", "P"]], [km / gm, km * kp / (gm * gp)], rtol=1e-12)
    np.testing.assert_allclose(st.fano["P"], 1 + kp / (gm + gp), rtol=1e-12)
    # the linear network: EMRE mean = LNA mean; the jacobian is the rate matrix
    pd.testing.assert_series_equal(ex["emre_mean"], st.mean.rename("emre_mean"))
    np.testing.assert_allclose(ex["jacobian"].to_numpy(), [[-gm, 0.0], [kp, -gp]])
    np.testing.assert_allclose(ex["diffusion"].to_numpy(),
                               [[2 * km, 0.0], [0.0, 2 * km * kp / gm]], rtol=1e-12)
    eta2 = ex["noise_coefficients"]
    np.testing.assert_allclose(eta2.to_numpy(), (st.variance / st.mean ** 2).to_numpy(),
                               rtol=1e-12)
    # the extras pickle as a plain dict with every value built
    back = pickle.loads(pickle.dumps(ex))
    assert type(back) is dict and list(back) == list(ex)
    pd.testing.assert_frame_equal(back["concentration_covariance"],
                                  ex["concentration_covariance"])
