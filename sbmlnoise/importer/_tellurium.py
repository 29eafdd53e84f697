"""Tellurium habits: accept whatever a Tellurium / libRoadRunner user holds as a model.

:func:`coerce_model` turns a :class:`~sbmlnoise.network.ReactionNetwork`, a
libRoadRunner / Tellurium model object (``te.loada(...)``, ``roadrunner.RoadRunner``), an
:class:`~sbmlnoise.analysis.AnalysisReport`, a path, SBML or Antimony text, or bytes of
either into a network. A RoadRunner object is read with its *current* parameter values
(:func:`sbmlnoise.from_roadrunner`). :func:`accepts_model` applies it to the model argument
of a public entry point (``sn.fsp``, ``sn.lna``, ``sn.ssa``, ``sn.simulate_ode``, ...), so
``sn.fsp(te.loada(...))`` works like ``sn.fsp(sn.from_roadrunner(r))``.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Callable, TypeVar, cast

from .._domain import domain_error, is_domain_error
from ..errors import ModelError
from ..network import ReactionNetwork
from ._front import from_roadrunner, is_roadrunner, load

__all__ = ["coerce_model", "is_roadrunner", "accepts_model"]

_F = TypeVar("_F", bound=Callable[..., Any])


def accepts_model(func: _F) -> _F:
    """Decorator of a public entry point whose first argument (or ``net=``) is a model.

    * The model may be anything :func:`coerce_model` reads -- a libRoadRunner/Tellurium
      object (its current SBML and parameter values, the initial state as ``te.loada``
      defines it), a path, SBML or Antimony text, or a report -- not only a
      :class:`~sbmlnoise.network.ReactionNetwork` (passed through untouched, at the cost
      of one ``isinstance``).
    * A bare ``ValueError('math domain error')`` from the compiled model math (``sqrt`` or
      ``log`` of a negative number ...) becomes one :class:`~sbmlnoise.errors.ModelError`
      naming the kinetic law, rule or event at fault (:func:`sbmlnoise._domain.domain_error`).
    """
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if args and not isinstance(args[0], ReactionNetwork):
            args = (coerce_model(args[0]),) + args[1:]
        elif not args and "net" in kwargs and not isinstance(kwargs["net"], ReactionNetwork):
            kwargs["net"] = coerce_model(kwargs["net"])
        try:
            return func(*args, **kwargs)
        except ValueError as err:
            if not is_domain_error(err):
                raise
            net: ReactionNetwork = args[0] if args else kwargs["net"]
            raise domain_error(net, f"{func.__name__}: ") from None
    return cast(_F, wrapper)


def coerce_model(obj, *, system_size: float | None = None):
    """A :class:`~sbmlnoise.network.ReactionNetwork` from anything that describes a model.

    Parameters
    ----------
    obj : ReactionNetwork, RoadRunner, AnalysisReport, str, bytes or os.PathLike
        A network (returned as is unless ``system_size`` asks for another), a
        libRoadRunner/Tellurium object (its current SBML and parameter values), a report
        (its network), a path to an SBML/Antimony file, or the text of either.
    system_size : float, optional
        Molecules per model substance unit (see :func:`sbmlnoise.load`).

    Raises
    ------
    TypeError
        For any other object, naming what is accepted.
    ModelError
        For bytes that are not UTF-8 text.

    Examples
    --------
    >>> from sbmlnoise.importer._tellurium import coerce_model
    >>> coerce_model("model bd; => X; 5; X => ; X; X = 0; end").species_ids
    ('X',)
    """
    if isinstance(obj, ReactionNetwork):
        if system_size is not None and float(system_size) != float(obj.system_size):
            raise ValueError(f"system_size={system_size:g} given for an already loaded "
                             f"network (system_size {obj.system_size:g}); pass it to "
                             "sn.load instead")
        return obj
    if is_roadrunner(obj):
        return from_roadrunner(obj, system_size=system_size)
    network = getattr(obj, "network", None)
    if isinstance(network, ReactionNetwork):  # an AnalysisReport
        return coerce_model(network, system_size=system_size)
    if isinstance(obj, (bytes, bytearray)):
        try:
            obj = bytes(obj).decode("utf-8")
        except UnicodeDecodeError as err:
            raise ModelError(f"model bytes are not UTF-8 text (byte {err.start})") from None
    if isinstance(obj, (str, os.PathLike)):
        return load(obj, system_size=system_size)
    raise TypeError(
        f"cannot read a model from a {type(obj).__module__}.{type(obj).__name__}: give a "
        "ReactionNetwork, a Tellurium/libRoadRunner model (te.loada(...), or "
        "sn.from_roadrunner(r)), a path to an SBML/Antimony file, or their text")
