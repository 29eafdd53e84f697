"""The system size as a user choice: a cell volume in litres (``sn.load(..., volume=)``).

A model written in concentrations describes any volume equally well; its noise does not.
``volume=V`` reads the model as a description of a cell of ``V`` litres with the *same
concentrations*: every compartment is scaled by one factor ``s = V / V_ref``, where
``V_ref`` is the size in litres of the reference compartment (the largest
three-dimensional compartment that holds a species), so volume ratios between
compartments are kept. Amounts and reaction rates scale by ``s``; in sbmlnoise's terms
only the system size changes,

    Omega = Omega_units * s,      Omega_units = molecules per model substance unit
                                  (N_A x unit scale for mole, 1 for item/undefined),

and propensities ``a_j(n) = Omega v_j(n / Omega)`` follow. This is exact for kinetic laws
that scale with the volume at fixed concentrations (``V * f(concentrations)``, i.e. any
law written per compartment volume as SBML prescribes); a law that is a bare amount flux
(``=> X; k`` with ``k`` in mol/s) is read as a flux of the reference compartment and
scales with it too -- van Kampen's system size, doi:10.1016/B978-044452965-7/50013-X.
Initial counts are rounded to whole molecules at the new size (the largest relative
change is recorded in the network's warnings).

Noise coefficients: at fixed concentrations the LNA variances grow like ``Omega`` and
means like ``Omega``, so ``eta^2 * Omega`` (``eta^2 = var / mean^2``) does not depend on
the volume; :func:`sbmlnoise.lna.noise_coefficients` returns it so a reader can rescale to any volume:
``eta^2(V') = eta^2 Omega / Omega(V')``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelError

if TYPE_CHECKING:
    from ..network import ReactionNetwork

#: litres per cubic metre
_LITRES_PER_M3 = 1000.0


def _volume_unit_litres(model, unit_id: str) -> tuple[float, str]:
    """Litres per unit of a volume unit id, and how it was read."""
    import libsbml

    if unit_id in ("", None):
        if model.getLevel() < 3:
            return 1.0, "litre (SBML Level 2 default volume unit)"
        return 1.0, "litre (assumed: the model defines no volume unit)"
    if unit_id == "litre" or unit_id == "liter":
        return 1.0, "litre"
    ud = model.getUnitDefinition(unit_id)
    if ud is None:
        if unit_id == "volume":
            return 1.0, "litre (SBML default 'volume')"
        raise ModelError(f"volume=: compartment unit '{unit_id}' is not defined")
    factor = 1.0
    dims = 0.0
    for k in range(ud.getNumUnits()):
        u = ud.getUnit(k)
        kind = libsbml.UnitKind_toString(u.getKind())
        f = (u.getMultiplier() * 10.0 ** u.getScale()) ** u.getExponent()
        if kind in ("litre", "liter"):
            factor *= f
            dims += 3 * u.getExponent()
        elif kind in ("metre", "meter"):
            factor *= f * (_LITRES_PER_M3 ** (u.getExponent() / 3.0))
            dims += u.getExponent()
        elif kind == "dimensionless":
            factor *= f
        else:
            raise ModelError(f"volume=: compartment unit '{unit_id}' has kind '{kind}', "
                             "not a volume")
    if not math.isclose(dims, 3.0):
        raise ModelError(f"volume=: compartment unit '{unit_id}' is not a volume "
                         f"(length^{dims:g})")
    return factor, unit_id


def reference_compartment(net: ReactionNetwork) -> tuple[str, float, str]:
    """``(compartment id, size in litres, how its unit was read)`` of the largest
    three-dimensional compartment holding a species."""
    import libsbml

    holding = {s.compartment for s in net.species}
    candidates = [c for c in net.compartments
                  if c.id in holding and c.spatial_dimensions == 3 and c.size > 0
                  and math.isfinite(c.size)]
    if not candidates:
        raise ModelError("volume=: the model has no three-dimensional compartment of "
                         "positive size holding a species, so a cell volume cannot be "
                         "mapped onto it; pass system_size= instead")
    ref = max(candidates, key=lambda c: c.size)
    doc = libsbml.readSBMLFromString(net.sbml)
    model = doc.getModel()
    comp = model.getCompartment(ref.id) if model is not None else None
    unit_id = ""
    if comp is not None and comp.isSetUnits():
        unit_id = comp.getUnits()
    elif model is not None and model.getLevel() >= 3 and model.isSetVolumeUnits():
        unit_id = model.getVolumeUnits()
    per_unit, how = _volume_unit_litres(model, unit_id)
    return ref.id, float(ref.size) * per_unit, how


def apply_volume(net: ReactionNetwork, volume: float):
    """``net`` (loaded with its default system size) read as a cell of ``volume``
    litres; see the module docstring. The result's ``system_size_source`` records the
    volume, the reference compartment and the factor."""
    if isinstance(volume, bool) or not (isinstance(volume, (int, float, np.floating))
                                        and volume > 0 and math.isfinite(volume)):
        raise ValueError(f"volume must be a positive finite number of litres, got {volume!r}")
    cid, v_ref, how = reference_compartment(net)
    scale = float(volume) / v_ref
    omega = float(net.system_size) * scale
    source = (f"volume {float(volume):g} L: compartment '{cid}' ({v_ref:g} L, unit {how}) "
              f"and every other compartment scaled by {scale:g} at fixed concentrations; "
              f"Omega = {net.system_size:g} x {scale:g} molecules per substance unit")
    amounts, worst = {}, 0.0
    for s in net.species:
        count = s.initial_amount * omega
        whole = float(np.rint(count))
        if count != whole:
            worst = max(worst, abs(count - whole) / max(abs(count), 1.0))
        amounts[s.id] = whole / omega
    warnings = list(net.warnings)
    if worst > 0:
        warnings.append(f"volume={float(volume):g} L: initial counts rounded to whole "
                        f"molecules (largest relative change {worst:.2g})")
    out = dataclasses.replace(net, system_size=omega, system_size_source=source,
                              warnings=tuple(warnings))
    return out.with_initial_amounts(**amounts)


def cell_volume(net: ReactionNetwork) -> dict:
    """The cell volume (litres) a network's system size stands for: ``V_ref x Omega /
    Omega_units``, with the reference compartment and ``Omega``. For a model loaded
    without ``volume=`` this is the reference compartment's own size."""
    from ._sbml import _SbmlReader

    cid, v_ref, how = reference_compartment(net)
    omega_units = float(_SbmlReader(net.sbml, None, None).read().system_size)
    return {"volume_litres": v_ref * float(net.system_size) / omega_units,
            "reference_compartment": cid, "reference_litres": v_ref,
            "system_size": float(net.system_size), "omega_units": omega_units,
            "unit": how}

