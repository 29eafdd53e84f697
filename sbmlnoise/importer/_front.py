"""The importer's front door: :func:`load` (files, text, COMBINE archives, RoadRunner
objects) and :func:`from_roadrunner`, with the checks every network passes (finite
values) and the cell volume applied last (:mod:`._volume`)."""

from __future__ import annotations

import math

from ..network import ReactionNetwork
from ._omex import is_combine_archive, read_master_sbml
from ._sbml import _read_source, _SbmlReader, antimony_to_sbml
from ._volume import apply_volume

__all__ = ["load", "from_roadrunner", "is_roadrunner"]


def is_roadrunner(obj) -> bool:
    """Duck test for a libRoadRunner model (Tellurium's ``te.loada`` returns one)."""
    return callable(getattr(obj, "getCurrentSBML", None)) and \
        callable(getattr(obj, "getGlobalParameterIds", None))


def load(source, *, system_size: float | None = None,
         volume: float | None = None) -> ReactionNetwork:
    """Read a model into a :class:`ReactionNetwork`.

    Parameters
    ----------
    source : str, os.PathLike or RoadRunner
        A path to an SBML (``.xml``/``.sbml``), Antimony (``.ant``/``.txt``) or COMBINE
        archive (``.omex``) file, or the text of SBML or Antimony (SBML is recognised by
        content: it starts with ``<``), or a libRoadRunner/Tellurium model object (read
        by :func:`from_roadrunner`).
    system_size : float, optional
        Molecules per model substance unit (``Omega``). Default: 1 for ``item`` or
        undefined substance units, ``N_A * scale`` for ``mole``.
    volume : float, optional
        Cell volume in litres: the model is read as a cell of this volume at the same
        concentrations (every compartment scaled by one factor, initial counts rounded
        to whole molecules; see ``docs/units.md`` and :mod:`sbmlnoise.importer._volume`). Recorded
        in ``system_size_source``. Exclusive with ``system_size``.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; -> X; k; X -> ; g*X; k = 10; g = 1; X = 0; end")
    >>> net.species_ids, net.stoichiometry.tolist()
    (('X',), [[1.0, -1.0]])
    """
    if system_size is not None and not (system_size > 0 and math.isfinite(system_size)):
        raise ValueError("system_size must be a positive finite number")
    if volume is not None and system_size is not None:
        raise ValueError("pass either system_size= or volume=, not both")
    if is_roadrunner(source):  # the Tellurium habit: sn.load(te.loada(...))
        return from_roadrunner(source, system_size=system_size, volume=volume)
    if is_combine_archive(source):  # COMBINE archive: its master SBML model
        text, _ = read_master_sbml(source)
        net = _SbmlReader(text, None, system_size).read()
    else:
        text, path = _read_source(source)
        if text.lstrip("\ufeff \t\r\n").startswith("<"):
            sbml_text = text
        else:
            sbml_text = antimony_to_sbml(text)
        net = _SbmlReader(sbml_text, path, system_size).read()
    if volume is not None:
        net = apply_volume(net, volume)
    return net


def from_roadrunner(rr, *, system_size: float | None = None,
                    state: str = "initial", volume: float | None = None) -> ReactionNetwork:
    """Import a libRoadRunner (or Tellurium ``te.loada``) model with its *current*
    parameter values.

    ``state="initial"`` (default) takes the species' initial amounts as ``te.loada``
    defines them (``rr.model.getFloatingSpeciesInitAmounts()``), also after
    ``rr.simulate()`` has moved the current state; ``state="current"`` takes the amounts
    reached by the last simulation instead (usually not whole molecule counts). When the
    two differ, the network's ``warnings`` say which one was used. ``volume=``: as in
    :func:`load` (applied last).
    """
    if state not in ("initial", "current"):
        raise ValueError("state must be 'initial' or 'current'")
    try:
        sbml_text = rr.getCurrentSBML()
    except AttributeError:
        raise TypeError("from_roadrunner expects a roadrunner.RoadRunner object") from None
    if volume is not None and system_size is not None:
        raise ValueError("pass either system_size= or volume=, not both")
    net = load(sbml_text, system_size=system_size)
    current = {}
    for pid in rr.getGlobalParameterIds():
        if pid in net.parameter_ids:
            current[pid] = float(rr.getValue(pid))
    if current:
        net = net.with_parameters(**current)
    if state == "initial":
        try:
            ids = list(rr.model.getFloatingSpeciesIds())
            init = [float(v) for v in rr.model.getFloatingSpeciesInitAmounts()]
        except AttributeError:
            ids, init = [], []
        amounts = {sid: v for sid, v in zip(ids, init) if sid in net.species_ids}
        moved = [sid for sid, v in amounts.items()
                 if not math.isclose(v, net.species[net.index(sid)].initial_amount,
                                     rel_tol=1e-12, abs_tol=1e-300)]
        if amounts:
            net = net.with_initial_amounts(**amounts)
        if moved:
            import dataclasses

            note = ("from_roadrunner: the model's initial state (as te.loada defines it) is "
                    "used, not the current state of the RoadRunner object (it differs for "
                    f"{', '.join(moved[:5])}); pass state='current' for that")
            net = dataclasses.replace(net, warnings=tuple(net.warnings) + (note,))
    if volume is not None:  # last, so the amounts it rounds are the final ones
        net = apply_volume(net, volume)
    return net
