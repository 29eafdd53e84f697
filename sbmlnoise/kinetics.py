"""The shape of a kinetic law: one rule shared by every backend that must know it.

A propensity ``a(n)`` over molecule counts (species symbols mean counts, see
:attr:`sbmlnoise.network.ReactionNetwork.propensity_expressions`) is classified against the
reactant stoichiometry ``nu`` of its channel:

``"mass_action"``
    ``a(n) = kappa prod_i n_i^{nu_i}`` -- deterministic mass action. For ``nu_i <= 1``
    this *is* stochastic mass action (``stochastic=True``). For a reactant with ``nu_i >=
    2`` (``2A -> B`` at ``k*A*A``) the law does not vanish at ``n_A = 1``: firing would
    make a count negative, so the chemical master equation (SSA, FSP) refuses it and no
    product-form stationary law exists (``stochastic=False``).
``"falling_factorial"``
    ``a(n) = kappa prod_i n_i (n_i - 1) ... (n_i - nu_i + 1)`` with some ``nu_i >= 2``:
    stochastic mass action (Gillespie 1977, doi:10.1021/j100540a008). With every channel
    of this kind (or first-order mass action) a complex-balanced network has the
    product-form Poisson stationary law of Anderson, Craciun & Kurtz 2010
    (doi:10.1007/s11538-010-9517-4), whose means are a complex-balanced equilibrium of the
    deterministic system with rate constants ``kappa``.
``"catalysed"``
    either of the two above times ``prod_m n_m^{o_m}`` over species ``m`` that are not
    reactants (modifiers, catalysts); ``catalysts`` lists them with their orders.
``"sign_split"``
    ``a = f - g`` with ``f`` and ``g`` each of a kind above (a reversible reaction written
    as one law); ``forward`` and ``reverse`` hold their shapes (the reverse one is
    classified against ``products``).
``"other"``
    anything else (Hill, Michaelis-Menten, ...); ``reason`` says why.

The classification is numerical and exact for these forms: the law is evaluated at a few
integer states (deterministic seeds) and the ratios to the candidate forms must be equal
to ``rtol``. Worked case (``2A -> 0``, ``Omega = 1``): ``k*A*(A-1)/2`` is
``falling_factorial`` with ``kappa = k/2``; ``k*A^2`` is ``mass_action`` with
``stochastic=False``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from . import expr as ex

__all__ = ["LawShape", "classify_law", "split_sign", "KINDS"]

KINDS = ("mass_action", "falling_factorial", "catalysed", "sign_split", "other")


@dataclass(frozen=True)
class LawShape:
    """Result of :func:`classify_law` (see the module docstring for the kinds).

    ``rate_constant`` is ``kappa`` in propensity units (events per time per the product of
    the count factors); NaN for ``"other"`` and ``"sign_split"``. ``orders`` maps every
    species in the law to its order; ``stochastic`` is True when the propensity is
    stochastic mass action (it vanishes whenever a reactant count is below its
    stoichiometry, so the CME may use it); ``falling`` tells which form the reactant
    factors take (``catalysed`` laws too).
    """

    kind: str
    rate_constant: float = math.nan
    orders: dict = field(default_factory=dict)
    catalysts: dict = field(default_factory=dict)
    stochastic: bool = False
    falling: bool = False
    reason: str = ""
    forward: "LawShape | None" = None
    reverse: "LawShape | None" = None

    @property
    def is_mass_action_family(self) -> bool:
        """True for mass action, falling factorial and catalysed laws."""
        return self.kind in ("mass_action", "falling_factorial", "catalysed")


def _falling(n: np.ndarray, k: int) -> np.ndarray:
    out = np.ones_like(n, dtype=float)
    for j in range(int(k)):
        out = out * (n - j)
    return out


def _evaluate(law: ex.Expr, env: dict, points: dict) -> np.ndarray:
    from .fsp._space import evaluate_array

    values = dict(env)
    values.update(points)
    with np.errstate(all="ignore"):
        out = evaluate_array(law, values)
    size = len(next(iter(points.values()))) if points else 1
    return np.broadcast_to(np.asarray(out, dtype=float), (size,))


def _fit(values: np.ndarray, basis: np.ndarray, rtol: float) -> float | None:
    """Common ratio ``values / basis`` (None if not constant or not positive)."""
    ok = basis != 0
    if not ok.any() or not np.all(np.isfinite(values)):
        return None
    if np.any(values[~ok] != 0):
        return None
    ratio = values[ok] / basis[ok]
    kappa = float(np.median(ratio))
    if not (kappa > 0 and math.isfinite(kappa)):
        return None
    if np.max(np.abs(ratio - kappa)) > rtol * abs(kappa):
        return None
    return kappa


def classify_law(law: ex.Expr, reactants: Mapping[str, float], *,
                 parameters: Mapping[str, float] | None = None,
                 state: set | frozenset | None = None,
                 products: Mapping[str, float] | None = None,
                 rtol: float = 1e-9, max_order: int = 4) -> LawShape:
    """Classify a propensity expression against its reactant stoichiometry.

    Parameters
    ----------
    law : Expr
        Propensity over counts (species symbols mean molecule counts).
    reactants : mapping species id -> stoichiometry
        Reactant coefficients of the channel (catalysts may be listed on both sides).
    parameters : mapping id -> value
        Values of every non-state symbol in ``law`` (parameters, compartment sizes, fixed
        species counts).
    state : set of str, optional
        Symbols that are dynamic counts (default: every symbol of ``law`` not in
        ``parameters``).
    products : mapping, optional
        Product coefficients; needed to classify the negative part of a ``sign_split``.
    rtol : float
        Relative tolerance of the ratio test.
    max_order : int
        Highest order of a catalyst factor recognised.

    Returns
    -------
    LawShape

    Examples
    --------
    >>> from sbmlnoise import expr as ex
    >>> from sbmlnoise.kinetics import classify_law
    >>> A, k = ex.Sym("A"), ex.Sym("k")
    >>> classify_law(ex.mul(k, A, ex.sub(A, ex.ONE)), {"A": 2}, parameters={"k": 1}).kind
    'falling_factorial'
    >>> s = classify_law(ex.mul(k, A, A), {"A": 2}, parameters={"k": 1})
    >>> s.kind, s.stochastic
    ('mass_action', False)
    """
    parameters = dict(parameters or {})
    symbols = ex.symbols(law) - {ex.TIME}
    if ex.TIME in ex.symbols(law):
        return LawShape("other", reason="the law depends on time")
    if state is None:
        state = {s for s in symbols if s not in parameters}
    missing = symbols - set(state) - set(parameters)
    if missing:
        return LawShape("other", reason=f"no value for {', '.join(sorted(missing))}")
    nu = {s: int(round(v)) for s, v in reactants.items() if s in state and v}
    if any(abs(v - round(v)) > 1e-12 for s, v in reactants.items() if s in state):
        return LawShape("other", reason="non-integer reactant stoichiometry")
    used = sorted(symbols & set(state))
    shape = _single(law, nu, used, parameters, rtol, max_order)
    if shape is not None:
        return shape
    pos, negative = split_sign(law)
    if not (isinstance(negative, ex.Num) and negative.value == 0.0) and \
            not (isinstance(pos, ex.Num) and pos.value == 0.0):
        fwd = classify_law(pos, reactants, parameters=parameters, state=state, rtol=rtol,
                           max_order=max_order)
        rev = classify_law(negative, products or {}, parameters=parameters, state=state,
                           rtol=rtol, max_order=max_order)
        if fwd.is_mass_action_family and rev.is_mass_action_family:
            return LawShape("sign_split", orders={}, stochastic=fwd.stochastic and
                            rev.stochastic, forward=fwd, reverse=rev,
                            reason="a forward minus a reverse mass-action term")
    return LawShape("other", reason="not of a mass-action form in the counts")


def _points(used, nu, rng, n_points=7):
    """Integer test states: reactants from nu_i + 1 upward (where both forms are
    non-zero), others from 1, plus states with each reactant below its stoichiometry."""
    pts = {s: rng.integers(nu.get(s, 0) + 1, nu.get(s, 0) + 25, n_points).astype(float)
           for s in used}
    low = {}
    for s in used:
        if nu.get(s, 0) >= 1:
            row = {t: pts[t][:1].copy() for t in used}
            row[s] = np.array([float(nu[s] - 1)])
            low[s] = row
    return pts, low


def _single(law, nu, used, parameters, rtol, max_order) -> LawShape | None:
    rng = np.random.default_rng(20261129)
    pts, low = _points(used, nu, rng)
    try:
        values = _evaluate(law, parameters, pts) if used else \
            np.atleast_1d(_evaluate(law, parameters, {"__x": np.zeros(1)}))
    except Exception as err:  # noqa: BLE001 - an unevaluable law is simply "other"
        return LawShape("other", reason=f"cannot be evaluated: {err}")
    if not used:
        kappa = _fit(values, np.ones_like(values), rtol)
        if kappa is None:
            return None
        return LawShape("mass_action", kappa, {}, {}, True, False, "zeroth order")
    catalysts = [s for s in used if s not in nu]
    if len(catalysts) > 6:
        return None
    missing = [s for s in nu if s not in used]
    if missing:
        return None  # a reactant the law does not read: cannot vanish when it runs out
    for cat_orders in _catalyst_orders(catalysts, max_order):
        cat = np.ones_like(values)
        for s, o in cat_orders.items():
            cat = cat * pts[s] ** o
        for falling in (False, True):
            basis = cat.copy()
            for s, k in nu.items():
                basis = basis * (_falling(pts[s], k) if falling else pts[s] ** k)
            kappa = _fit(values, basis, rtol)
            if kappa is None:
                continue
            stochastic = all(_vanishes(law, parameters, row) for row in low.values())
            kind = "catalysed" if catalysts else (
                "falling_factorial" if falling and max(nu.values(), default=0) >= 2
                else "mass_action")
            orders = dict(nu)
            orders.update(cat_orders)
            return LawShape(kind, kappa, orders, dict(cat_orders), stochastic,
                            falling and max(nu.values(), default=0) >= 2,
                            "" if stochastic else
                            "the law does not vanish when a reactant count is below its "
                            "stoichiometry (the CME refuses it; write e.g. k*A*(A-1) for 2 A)")
    return None


def _catalyst_orders(catalysts, max_order):
    import itertools

    for combo in itertools.product(range(1, max_order + 1), repeat=len(catalysts)):
        yield dict(zip(catalysts, combo))


def _vanishes(law, parameters, row) -> bool:
    try:
        v = _evaluate(law, parameters, row)
    except Exception:  # noqa: BLE001
        return False
    return bool(np.all(v == 0))


def split_sign(e: ex.Expr) -> tuple[ex.Expr, ex.Expr]:
    """The sign split of a law: ``e = pos - neg`` with both parts free of explicit minus
    signs where possible (a reversible law ``kf*A*B - kr*C`` gives ``kf*A*B`` and
    ``kr*C``; a law without a minus sign gives ``(e, 0)``)."""
    if isinstance(e, ex.Num):
        return (e, ex.ZERO) if e.value >= 0 else (ex.ZERO, ex.Num(-e.value))
    if not isinstance(e, ex.Apply):
        return e, ex.ZERO
    if e.op == "+":
        parts = [split_sign(a) for a in e.args]
        return ex.add(*[p for p, _ in parts]), ex.add(*[n for _, n in parts])
    if e.op == "-":
        (ap, an), (bp, bn) = split_sign(e.args[0]), split_sign(e.args[1])
        return ex.add(ap, bn), ex.add(an, bp)
    if e.op == "neg":
        p, n = split_sign(e.args[0])
        return n, p
    if e.op == "*":
        pos: ex.Expr = ex.ONE
        neg: ex.Expr = ex.ZERO
        for a in e.args:
            p, n = split_sign(a)
            pos, neg = (ex.add(ex.mul(pos, p), ex.mul(neg, n)),
                        ex.add(ex.mul(pos, n), ex.mul(neg, p)))
        return pos, neg
    if e.op == "/":
        p, n = split_sign(e.args[0])
        if _is_zero(split_sign(e.args[1])[1]):
            return ex.div(p, e.args[1]), (ex.ZERO if _is_zero(n) else ex.div(n, e.args[1]))
    return e, ex.ZERO


def _is_zero(e: ex.Expr) -> bool:
    return isinstance(e, ex.Num) and e.value == 0.0
