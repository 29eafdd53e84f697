"""Flux balance analysis of constraint-based (``fbc``) SBML models.

Constraint-based models have reactions without kinetic laws; their steady-state fluxes
``v`` solve the linear program (Orth, Thiele & Palsson 2010, doi:10.1038/nbt.1614)

    optimise  c . v   subject to   S v = 0,   lb <= v <= ub,

with ``S`` the stoichiometry of the non-boundary, non-constant species, ``c`` the active
objective's coefficients and the bounds from the ``fbc`` package (Version 1 FluxBound
elements or Version 2 ``lowerFluxBound``/``upperFluxBound`` parameters; a reaction with
no bound is free in both directions if reversible, else ``0 <= v``). Solved with SciPy's
HiGHS. The optimal objective value is unique; individual fluxes need not be (alternative
optima) -- HiGHS returns one vertex of the optimal face.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError, SimulationError, UnsupportedFeature


def has_objective(sbml_text: str) -> bool:
    """True when the document is an ``fbc`` model with an objective."""
    import libsbml

    model = libsbml.readSBMLFromString(sbml_text).getModel()
    plugin = model.getPlugin("fbc") if model is not None else None
    return plugin is not None and plugin.getNumObjectives() > 0


def flux_balance(sbml_text: str) -> dict[str, float]:
    """Optimal fluxes (by reaction id) and the objective value (by objective id)."""
    from scipy.optimize import linprog
    import libsbml

    doc = libsbml.readSBMLFromString(sbml_text)
    model = doc.getModel()
    if model is not None:
        for k in range(model.getNumInitialAssignments() - 1, -1, -1):
            if model.getInitialAssignment(k).getMath() is None:  # L3V2: no effect
                model.removeInitialAssignment(k)
    if doc.getModel() is not None and doc.getModel().getNumInitialAssignments():
        # initial assignments to stoichiometries and bounds: libsbml evaluates them
        props = libsbml.ConversionProperties()
        props.addOption("expandInitialAssignments", True)
        if doc.convert(props) != libsbml.LIBSBML_OPERATION_SUCCESS:
            raise UnsupportedFeature("fbc: libsbml could not evaluate the initial "
                                     "assignments", feature="InitialAssignment")
    model = doc.getModel()
    plugin = model.getPlugin("fbc") if model is not None else None
    if plugin is None or plugin.getNumObjectives() == 0:
        raise UnsupportedFeature("model has reactions without kinetic laws and no fbc "
                                 "objective", feature="reaction without kinetic law")
    reactions = [r.getId() for r in model.getListOfReactions()]
    index = {rid: j for j, rid in enumerate(reactions)}
    rows = [s.getId() for s in model.getListOfSpecies()
            if not (s.getBoundaryCondition() or s.getConstant())]
    row = {sid: i for i, sid in enumerate(rows)}
    stoich = np.zeros((len(rows), len(reactions)))
    for j, r in enumerate(model.getListOfReactions()):
        for sign, refs in ((-1.0, r.getListOfReactants()), (1.0, r.getListOfProducts())):
            for ref in refs:
                if ref.getSpecies() in row:
                    nu = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
                    stoich[row[ref.getSpecies()], j] += sign * nu
    lower, upper = _bounds(model, plugin, reactions, index)
    objective = plugin.getActiveObjective() or plugin.getObjective(0)
    c = np.zeros(len(reactions))
    for fo in objective.getListOfFluxObjectives():
        if fo.getReaction() not in index:
            raise ModelError(f"fbc objective '{objective.getId()}' names unknown reaction "
                             f"'{fo.getReaction()}'")
        c[index[fo.getReaction()]] += fo.getCoefficient()
    sense = -1.0 if objective.getType() in ("maximize", libsbml.OBJECTIVE_TYPE_MAXIMIZE) \
        else 1.0
    bounds = [(None if math.isinf(lo) else lo, None if math.isinf(hi) else hi)
              for lo, hi in zip(lower, upper)]
    result = linprog(sense * c, A_eq=stoich if rows else None,
                     b_eq=np.zeros(len(rows)) if rows else None, bounds=bounds,
                     method="highs")
    if result.status == 2:  # infeasible: no flux distribution exists (SBML Test Suite: NaN)
        out = {rid: math.nan for rid in reactions}
        out[objective.getId()] = math.nan
        return out
    if result.status != 0:
        raise SimulationError(f"flux balance analysis failed: {result.message}")
    out = {rid: float(v) for rid, v in zip(reactions, result.x)}
    out[objective.getId()] = float(c @ result.x)
    return out


def _bounds(model, plugin, reactions, index):
    lower = np.array([-math.inf if model.getReaction(r).getReversible() else 0.0
                      for r in reactions])
    upper = np.full(len(reactions), math.inf)
    values = {p.getId(): p.getValue() for p in model.getListOfParameters()}
    for j, r in enumerate(model.getListOfReactions()):
        rp = r.getPlugin("fbc")
        if rp is None:
            continue
        if rp.isSetLowerFluxBound():
            lower[j] = values[rp.getLowerFluxBound()]
        if rp.isSetUpperFluxBound():
            upper[j] = values[rp.getUpperFluxBound()]
    for k in range(plugin.getNumFluxBounds() if hasattr(plugin, "getNumFluxBounds") else 0):
        fb = plugin.getFluxBound(k)
        j = index.get(fb.getReaction())
        if j is None:
            continue
        op, value = fb.getOperation(), fb.getValue()
        if op in ("lessEqual", "less"):
            upper[j] = value
        elif op in ("greaterEqual", "greater"):
            lower[j] = value
        elif op == "equal":
            lower[j] = upper[j] = value
    return lower, upper
