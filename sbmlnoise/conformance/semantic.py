"""Score the SBML Test Suite *semantic* cases with the reaction-rate equations.

For each case: import the model, integrate from ``start`` over ``duration`` with
``steps`` intervals, report each variable as the settings ask (species as amount or
concentration, parameters and compartments by value) and compare with
``NNNNN-results.csv``: a point passes when ``|sim - expected| <= absolute +
relative * |expected|`` (the suite's rule). A case passes when every point does.
Constraint-based (``fbc``) cases without kinetic laws are solved by flux balance analysis
(:mod:`sbmlnoise.conformance._fba`) and compared on their single row.
"""

from __future__ import annotations

import time as _time
import warnings
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import ModelError, UnsupportedFeature
from ..importer import load
from ..ode import ode_trajectory
from .common import Case, discover, summarize


def simulate_case(case: Case) -> pd.DataFrame:
    """The case's variables at its output times, as the suite reports them."""
    s = case.settings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            net = load(case.model)
        except UnsupportedFeature as err:
            if err.feature != "reaction without kinetic law":
                raise
            return _flux_balance_case(case, err)
    start, duration, steps = s.get("start") or 0.0, s["duration"], s["steps"]
    times = np.linspace(start, start + duration, steps + 1)
    amounts, params, rule_values = ode_trajectory(net, times, rtol=1e-10, atol=1e-14,
                                                  rules=True)
    columns = {}
    amount_ids = set(s.get("amount", []))
    conc_ids = set(s.get("concentration", []))
    pvals = {p.id: p.value for p in net.parameters}
    comp_of = {sp.id: sp.compartment for sp in net.species}
    hosu = {sp.id: sp.has_only_substance_units for sp in net.species}
    for var in s["variables"]:
        col = np.empty(len(times))
        for k, t in enumerate(times):
            x = amounts[k]
            p_now = params[k] if params is not None else None
            values = _values_at(net, x, t, pvals, p_now, rule_values[k])
            if var not in values:
                raise UnsupportedFeature(f"output variable '{var}' is not a species, "
                                         "parameter or compartment of the network",
                                         element=var, feature="output variable")
            v = values[var]
            is_species = var in comp_of or var in _assigned_species(net)
            if is_species:
                comp = comp_of.get(var) or _assigned_species(net)[var]
                want_conc = var in conc_ids or (var not in amount_ids and not hosu.get(var, False))
                if want_conc and var not in amount_ids:
                    size = values.get(comp, 1.0)
                    dims = {c.id: c.spatial_dimensions for c in net.compartments}.get(comp, 3)
                    v = v / size if dims != 0 else v
            col[k] = v
        columns[var] = col
    return pd.DataFrame(columns, index=pd.Index(times, name="time"))


def _flux_balance_case(case: Case, err: UnsupportedFeature) -> pd.DataFrame:
    """A constraint-based (fbc) case: the optimal fluxes and objective value, one row."""
    from ._fba import flux_balance, has_objective

    text = case.model.read_text(encoding="utf-8")
    if not has_objective(text):
        raise err
    values = flux_balance(text)
    missing = [v for v in case.settings["variables"] if v not in values]
    if missing:
        raise UnsupportedFeature(f"output variable '{missing[0]}' is not a flux or objective "
                                 "of the flux balance model", element=missing[0],
                                 feature="output variable")
    return pd.DataFrame({v: [values[v]] for v in case.settings["variables"]},
                        index=pd.Index([0.0], name="time"))


def _assigned_species(net) -> dict[str, str]:
    cached = getattr(net, "_conformance_assigned_species", None)
    if cached is None:
        import libsbml

        doc = libsbml.readSBMLFromString(net.sbml)
        model = doc.getModel()
        cached = {s.getId(): s.getCompartment() for s in model.getListOfSpecies()
                  if model.getAssignmentRule(s.getId()) is not None}
        object.__setattr__(net, "_conformance_assigned_species", cached)
    return cached


def _values_at(net, x, t, pvals, p_now, rules) -> dict[str, float]:
    values = dict(pvals)
    p = np.asarray(p_now if p_now is not None else net.parameter_values, dtype=float)
    if p_now is not None:
        values.update(zip(net.parameter_ids, p_now))
    values.update(zip(net.species_ids, x))
    values.update(zip(net.assignment_ids, rules))
    if net.reactions:  # reaction ids stand for their rates (net flux of all channels)
        try:
            with np.errstate(all="ignore"):
                rates = net._rate_function(np.asarray(x, float), p, float(t),
                                           np.zeros(net.n_reactions))
        except (UnsupportedFeature, ZeroDivisionError, OverflowError, ValueError):
            rates = None
        if rates is not None:
            for ch, v in zip(net.reactions, rates):
                sign = -1.0 if ch.direction == "reverse" else 1.0
                values[ch.sbml_id] = values.get(ch.sbml_id, 0.0) + sign * v \
                    if ch.sbml_id not in pvals else values[ch.sbml_id]
    return values


def _read_results(path) -> pd.DataFrame:
    """The expected results; the first column is time, whatever its header says (a
    model may have a parameter called ``Time``: SBML Test Suite case 01821)."""
    with open(path, encoding="utf-8") as handle:
        header = [c.strip() for c in handle.readline().split(",")]
    data = pd.read_csv(path, header=None, skiprows=1)
    if header[0].lower() != "time":  # a steady-state (flux balance) case: no time column
        data.columns = header[:data.shape[1]]
        return data
    data = data.iloc[:, 1:len(header)]
    data.columns = header[1:data.shape[1] + 1]
    return data


def score_case(case: Case) -> dict:
    """Run one case: ``{"status", "reason", "seconds", "max_error"}``."""
    started = _time.perf_counter()
    try:
        sim = simulate_case(case)
        expected = _read_results(case.results)
        absolute = case.settings.get("absolute") or 0.0
        relative = case.settings.get("relative") or 0.0
        worst = 0.0
        for var in case.settings["variables"]:
            exp_col = expected[var].to_numpy(dtype=float)
            got = sim[var].to_numpy(dtype=float)
            if len(exp_col) != len(got):
                return _entry("error", f"expected {len(exp_col)} rows, simulated {len(got)}",
                              started)
            both_nan = np.isnan(exp_col) & np.isnan(got)
            same_inf = np.isinf(exp_col) & (exp_col == got)
            with np.errstate(invalid="ignore"):  # inf - inf where both are infinite
                err = np.abs(got - exp_col)
            allowed = absolute + relative * np.abs(exp_col)
            bad = ~(both_nan | same_inf) & ~(err <= allowed)
            if bad.any():
                k = int(np.argmax(bad))
                return _entry("fail", f"{var} at t={sim.index[k]:g}: expected {exp_col[k]:.8g}, "
                              f"got {got[k]:.8g}", started, float(np.nanmax(err)))
            finite = np.isfinite(err)
            if finite.any() and err[finite].max() > worst:
                worst = float(err[finite].max())
        return _entry("pass", "", started, worst)
    except UnsupportedFeature as err:
        return _entry("unsupported", str(err), started)
    except ModelError as err:
        return _entry("error", str(err), started)
    except Exception as err:  # a runner reports, it does not crash
        return _entry("error", f"{type(err).__name__}: {err}", started)


def _entry(status, reason, started, max_error=None) -> dict:
    entry = {"status": status, "reason": reason,
             "seconds": round(_time.perf_counter() - started, 4)}
    if max_error is not None:
        entry["max_error"] = max_error
    return entry


def run_semantic(directory, *, cases: str | None = None,
                 progress: Callable[[str, dict], None] | None = None) -> dict:
    """Score every case under ``directory``; returns the API.md JSON structure."""
    results = {}
    for case in discover(directory, cases):
        entry = score_case(case)
        results[case.id] = entry
        if progress:
            progress(case.id, entry)
    return {"suite": "semantic", "cases": results, "summary": summarize(results)}
