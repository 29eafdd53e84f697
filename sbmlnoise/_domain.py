"""One clear line instead of Python's bare ``ValueError: math domain error``.

The compiled model math calls :mod:`math` functions (``math.sqrt``, ``math.log``,
``math.acos`` ...), which raise ``ValueError('math domain error')`` for an argument outside
their domain -- the square root or logarithm of a negative number, ``acos(2)``. Without
context the user cannot tell which kinetic law, rule or event is at fault.
:func:`domain_error` finds it: it evaluates every piece of model math that uses a
domain-restricted function at the initial state (:func:`sbmlnoise.expr.evaluate` returns NaN
there instead of raising) and names the first one that is undefined; when all are defined
at the initial state (the argument left the domain later), it names the candidates.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterator

from . import expr as ex
from .errors import ModelError

if TYPE_CHECKING:
    from .network import ReactionNetwork

__all__ = ["DOMAIN_MESSAGES", "is_domain_error", "domain_error"]

#: what Python's math module says for an argument outside a function's domain
DOMAIN_MESSAGES = ("math domain error", "expected a nonnegative input, got")
#: operators of the expression trees defined only on part of the real line
RESTRICTED = {"sqrt", "ln", "log", "log10", "asin", "acos", "acosh", "atanh", "arcsec",
              "arccsc", "arccosh", "arcsech", "arccoth", "arctanh", "arcsin", "arccos",
              "root", "^", "factorial"}


def is_domain_error(err: BaseException) -> bool:
    """True for the bare ``ValueError`` of a :mod:`math` function's domain check."""
    return type(err) is ValueError and str(err).startswith(DOMAIN_MESSAGES)


def _restricted_ops(tree: ex.Expr) -> list[str]:
    found: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ex.Apply):
            if node.op in RESTRICTED and node.op not in found:
                found.append(node.op)
            stack.extend(node.args)
    return found


def _pieces(net: ReactionNetwork) -> Iterator[tuple[str, ex.Expr]]:
    """(description, tree) of every piece of model math, in evaluation order."""
    for r in net.reactions:
        yield f"the kinetic law of reaction '{r.sbml_id or r.id}'", r.rate
    for var, tree in net.assignments:
        yield f"the assignment rule for '{var}'", tree
    for var, tree in net.rate_rules:
        yield f"the rate rule for '{var}'", tree
    for e in net.events:
        yield f"the trigger of event '{e.id}'", e.trigger
        for var, tree in e.assignments:
            yield f"the assignment to '{var}' of event '{e.id}'", tree


def domain_error(net: ReactionNetwork, where: str = "") -> ModelError:
    """The :class:`~sbmlnoise.errors.ModelError` to raise for a math domain error met while
    computing with ``net``: it names the model element whose math is undefined at the
    initial state, or the elements that could leave their domain later."""
    values = {sid: float(v) for sid, v in zip(net.species_ids, net.initial_amounts)}
    values.update({p.id: float(p.value) for p in net.parameters})
    values.setdefault(ex.TIME, 0.0)
    candidates = []
    for what, tree in _pieces(net):
        ops = _restricted_ops(tree)
        if not ops:
            continue
        candidates.append(f"{what} ({', '.join(ops)})")
        try:
            value = ex.evaluate(tree, values)
        except (ModelError, TypeError):
            continue
        if math.isnan(value):
            return ModelError(f"{where}{what} is undefined at the model's initial state: "
                              f"{', '.join(ops)} of an argument outside its domain (e.g. the "
                              "square root or logarithm of a negative number); fix the "
                              "model's values or guard the expression (piecewise)")
    named = "; ".join(candidates[:5]) if candidates else "its kinetic laws, rules or events"
    return ModelError(f"{where}model '{net.id}': math undefined at a state reached during the "
                      f"computation (an argument outside a function's domain, e.g. the "
                      f"square root or logarithm of a negative number) in {named}")
