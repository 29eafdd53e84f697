"""Noise statistics of the variables defined by assignment rules (totals, normalised
activities, observables): what a modeller often reads first.

* FSP: exact expectations over the projected distribution,
  ``E g(n/Omega) = sum_n p(n) g(n/Omega)`` and the same for ``g^2`` (error bound of the
  projection as for the species);
* LNA: the first-order delta method, ``Var g ~ grad g . C . grad g`` at the steady state
  (``C`` the LNA covariance of the amounts), marked approximate: valid when the
  fluctuations are small against the curvature of ``g``.

Values are in the units of the rule's variable: species defined by a rule in *amounts*
(model substance units), parameters by value -- not counts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .. import expr as ex
from ..network import ReactionNetwork
from ..stats import NoiseStatistics

__all__ = ["assignment_statistics"]

_COLUMNS = ["variable", "method", "mean", "variance", "sd", "cv", "approximation"]


def assignment_statistics(net: ReactionNetwork, statistics: dict[str, NoiseStatistics],
                          artifacts: dict[str, Any]) -> pd.DataFrame | None:
    """One row per (assignment-rule variable, method) for the stationary FSP (exact) and
    LNA (delta method); None when the model has no assignment rules or no such method
    ran. Columns: ``variable``, ``method``, ``mean``, ``variance``, ``sd``, ``cv``,
    ``approximation``."""
    if not net.assignments:
        return None
    rows: list[dict[str, Any]] = []
    fr = artifacts.get("fsp_result")
    if fr is not None and getattr(fr, "is_stationary", False):
        rows.extend(_fsp_rows(net, fr))
    st = statistics.get("lna")
    if st is not None and st.time is None:
        rows.extend(_lna_rows(net, st))
    return pd.DataFrame(rows, columns=_COLUMNS) if rows else None


def _row(var: str, method: str, mean: float, variance: float, approx: str) -> dict[str, Any]:
    variance = max(float(variance), 0.0)
    sd = math.sqrt(variance)
    cv = sd / abs(mean) if mean else math.nan
    return {"variable": var, "method": method, "mean": float(mean), "variance": variance,
            "sd": sd, "cv": cv, "approximation": approx}


def _fsp_rows(net: ReactionNetwork, fr) -> list[dict[str, Any]]:
    p = np.asarray(fr.probabilities, dtype=float)
    if p.ndim != 1:
        return []
    states = np.asarray(fr.states, dtype=float) / float(net.system_size)
    values = np.asarray(net.evaluate_assignments(states), dtype=float)
    out = []
    total = float(p.sum())
    for k, var in enumerate(net.assignment_ids):
        g = values[:, k]
        ok = np.isfinite(g)
        if not ok.all() and float(p[~ok].sum()) > 0:
            continue  # undefined where the distribution has mass
        mean = float(p[ok] @ g[ok]) / total
        second = float(p[ok] @ (g[ok] ** 2)) / total
        out.append(_row(var, "fsp", mean, second - mean * mean, "exact (FSP)"))
    return out


def _lna_rows(net: ReactionNetwork, st: NoiseStatistics) -> list[dict[str, Any]]:
    omega = float(net.system_size)
    ids = list(net.species_ids)
    x = st.mean.reindex(ids).to_numpy(float) / omega
    cov = st.covariance.reindex(index=ids, columns=ids).to_numpy(float) / omega ** 2
    flat = [g for row in net.assignment_gradients for g in row]
    func = ex.compile_vector(flat, net.slots, f"{net.id}.rule_gradients")
    out_buf = np.zeros(len(flat))
    with np.errstate(all="ignore"):
        grads = np.asarray(func(x, np.asarray(net.parameter_values, float), 0.0, out_buf),
                           dtype=float).reshape(len(net.assignments), len(ids))
        values = np.asarray(net.evaluate_assignments(x), dtype=float).ravel()
    rows = []
    for k, var in enumerate(net.assignment_ids):
        g = grads[k]
        if not (np.all(np.isfinite(g)) and math.isfinite(values[k])):
            continue
        rows.append(_row(var, "lna", values[k], float(g @ cov @ g),
                         "first-order delta method around the LNA mean"))
    return rows
