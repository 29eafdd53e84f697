"""Compare sbmlnoise's rate equations with libRoadRunner on one SBML model.

Both simulators integrate the model from its initial state to ``t_end`` at tight
tolerances (ours rtol 1e-10; RoadRunner's CVODE rtol 1e-10, atol 1e-14 x the amount
scale) and are compared at ``n_points`` equally spaced times. Species are compared as
RoadRunner reports them: concentrations ``[S]`` (amount / compartment size at that time)
for species without ``hasOnlySubstanceUnits``, amounts otherwise; assignment-rule
parameters and compartment sizes by value. A value agrees when
``|ours - rr| <= rtol * |rr| + atol * max_t |rr|`` (``atol`` guards values that pass
through zero; default ``rtol = 1e-4``, ``atol = 1e-6``).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from ..importer import load
from ..ode import ode_trajectory


def compare_with_roadrunner(path, *, t_end: float = 20.0, n_points: int = 51,
                            rtol: float = 1e-4, atol: float = 1e-6) -> dict:
    """Simulate ``path`` with sbmlnoise and libRoadRunner and compare.

    Returns
    -------
    dict
        ``status`` ("agree", "disagree", "roadrunner-fails", "sbmlnoise-fails"),
        ``worst`` (the worst variable, time, both values), ``n_variables`` compared and
        ``reason``.
    """
    import roadrunner

    path = Path(path)
    times = np.linspace(0.0, t_end, n_points)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = load(path)
            amounts, params, rules = ode_trajectory(net, times, rtol=1e-10, rules=True)
    except Exception as err:  # noqa: BLE001 - a comparison reports, it does not crash
        return {"status": "sbmlnoise-fails", "reason": f"{type(err).__name__}: {err}"}
    ours = _our_values(net, amounts, params, rules)
    selections, names = ["time"], []
    for name, (kind, _) in ours.items():
        selections.append(f"[{name}]" if kind == "concentration" else name)
        names.append(name)
    source, note = str(path), ""
    if any("no initial value; 0 is assumed" in w for w in net.warnings):
        # RoadRunner refuses a rate-rule parameter without a value; give it the value
        # sbmlnoise assumed (0) so the dynamics can still be compared
        source, note = _with_zero_values(net.sbml), "rate-rule variables without value set to 0"
    result, failure = None, ""
    # tight tolerances first; CVODE sometimes gives up there (too much work), then its
    # defaults (rtol 1e-6) -- still 100x tighter than the comparison
    for tolerances in ((1e-10, 1e-14 * max(1e-300, _scale(net))), None):
        try:
            rr = roadrunner.RoadRunner(source)
            if tolerances is not None:
                rr.integrator.relative_tolerance = tolerances[0]
                rr.integrator.absolute_tolerance = tolerances[1]
            rr.timeCourseSelections = selections
            result = np.asarray(rr.simulate(0.0, t_end, n_points))
            break
        except Exception as err:  # noqa: BLE001
            failure = f"{type(err).__name__}: {err}"
    if result is None:
        return {"status": "roadrunner-fails", "reason": failure}
    worst = None
    for k, name in enumerate(names):
        theirs = result[:, k + 1]
        mine = ours[name][1]
        floor = atol * float(np.nanmax(np.abs(theirs))) if np.any(np.isfinite(theirs)) else 0.0
        with np.errstate(invalid="ignore"):
            diff = np.abs(mine - theirs)
            allowed = rtol * np.abs(theirs) + floor
            ratio = np.where(allowed > 0, diff / np.where(allowed > 0, allowed, 1.0),
                             np.where(diff > 0, np.inf, 0.0))
        ratio = np.where(np.isnan(mine) & np.isnan(theirs), 0.0, ratio)
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
        i = int(np.argmax(ratio))
        if worst is None or ratio[i] > worst["ratio"]:
            worst = {"variable": name, "time": float(times[i]), "sbmlnoise": float(mine[i]),
                     "roadrunner": float(theirs[i]), "ratio": float(ratio[i])}
    status = "agree" if worst is None or worst["ratio"] <= 1.0 else "disagree"
    return {"status": status, "worst": worst, "n_variables": len(names), "reason": note}


def _with_zero_values(sbml: str) -> str:
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    model = doc.getModel()
    for rule in model.getListOfRules():
        if rule.isRate():
            p = model.getParameter(rule.getVariable())
            if p is not None and not p.isSetValue() and \
                    model.getInitialAssignment(p.getId()) is None:
                p.setValue(0.0)
    return libsbml.writeSBMLToString(doc)


def _scale(net) -> float:
    from ..ode._solve import amount_scale

    return amount_scale(net)


def _our_values(net, amounts, params, rules) -> dict:
    """name -> (kind, values over time): species as RoadRunner reports them."""
    n_t = amounts.shape[0]
    p = params if params is not None else np.tile(net.parameter_values, (n_t, 1))
    sizes = {pid: p[:, k] for k, pid in enumerate(net.parameter_ids)}
    rule_values = {name: rules[:, k] for k, name in enumerate(net.assignment_ids)}
    sizes.update({name: v for name, v in rule_values.items()})
    dims = {c.id: c.spatial_dimensions for c in net.compartments}
    comp_ids = set(dims)
    out: dict = {}
    concentration = set(net.concentration_species)
    species_comp = {s.id: s.compartment for s in net.species}
    import libsbml

    model = libsbml.readSBMLFromString(net.sbml).getModel()
    for s in model.getListOfSpecies():
        species_comp.setdefault(s.getId(), s.getCompartment())
    columns = {sid: amounts[:, i] for i, sid in enumerate(net.species_ids)}
    columns.update({name: v for name, v in rule_values.items()
                    if name in species_comp})
    for sid, values in columns.items():
        comp = species_comp[sid]
        if sid in concentration and dims.get(comp, 3) != 0:
            size = sizes.get(comp)
            if size is None:
                continue
            out[sid] = ("concentration", values / size)
        else:
            out[sid] = ("amount", values)
    for name, values in rule_values.items():
        if name not in species_comp and name not in comp_ids:
            out[name] = ("value", values)
    return out


def main(argv=None) -> int:  # pragma: no cover - exercised by tools/biomodels_roadrunner.py
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--t-end", type=float, default=20.0)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    report = {}
    for f in args.files:
        entry = compare_with_roadrunner(f, t_end=args.t_end)
        report[Path(f).stem] = entry
        worst = entry.get("worst") or {}
        print(f"{Path(f).stem:18s} {entry['status']:16s} "
              f"{worst.get('variable', '')} {worst.get('ratio', math.nan):.3g} "
              f"{entry.get('reason', '')[:80]}", flush=True)
    counts: dict = {}
    for e in report.values():
        counts[e["status"]] = counts.get(e["status"], 0) + 1
    print("summary:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if args.json:
        from .._io import atomic_write

        atomic_write(args.json, json.dumps(report, indent=1))
    return 0
