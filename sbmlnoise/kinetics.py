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
    from .expr import evaluate_array

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
    blocker = _non_polynomial(law, set(state))
    if blocker:
        return LawShape("other", reason=f"the counts enter through '{blocker}', not only "
                        "sums, products and whole powers")
    shape = _single(law, nu, used, parameters, rtol, max_order)
    if shape is not None:
        return shape
    # the sign split: the top-level one first (A*(A-1) stays whole), then the full one
    top = top_level_split(law, frozenset(parameters))
    for pos, negative in ([top] if top is not None else []) + [split_sign(law)]:
        if _is_zero(negative) or _is_zero(pos):
            continue
        fwd = classify_law(pos, reactants, parameters=parameters, state=state, rtol=rtol,
                           max_order=max_order)
        rev = classify_law(negative, products or {}, parameters=parameters, state=state,
                           rtol=rtol, max_order=max_order)
        if fwd.is_mass_action_family and rev.is_mass_action_family:
            return LawShape("sign_split", orders={}, stochastic=fwd.stochastic and
                            rev.stochastic, forward=fwd, reverse=rev,
                            reason="a forward minus a reverse mass-action term")
    return LawShape("other", reason="not of a mass-action form in the counts")


#: operators through which counts may enter a law of the mass-action family
_POLYNOMIAL_OPS = frozenset({"+", "-", "*", "/", "neg", "^"})


def _non_polynomial(law: ex.Expr, state: set[str]) -> str:
    """The first operator through which a count enters ``law`` other than a sum, product,
    quotient or power with a count-free exponent ('' if none). The ratio test of
    :func:`classify_law` samples a few states, so a law such as
    ``piecewise(k*A, A < 1000, 0)`` must be excluded by its structure."""
    stack = [law]
    while stack:
        node = stack.pop()
        if not isinstance(node, ex.Apply) or not (ex.symbols(node) & state):
            continue
        if node.op not in _POLYNOMIAL_OPS or (node.op == "^" and
                                              ex.symbols(node.args[1]) & state):
            return node.op
        stack.extend(node.args)
    return ""


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


# =========================================================================== structural forms
# What the importer records for every reaction (MassAction with a rate-constant tree) and
# how a reversible law is split into a forward and a reverse channel. The SSA and the FSP
# read the stochastic form through :func:`stochastic_form`, the LNA and thermodynamics
# split net laws with :func:`split_sign`: one module decides what a law is.


def _monomial(term: ex.Expr, state: set[str]):
    """Split a product into (constant factors, {species: order}) or None."""
    sign_consts: list[ex.Expr] = []
    orders: dict[str, int] = {}
    stack = [term]
    while stack:
        node = stack.pop()
        if not (ex.symbols(node) & (state | {ex.TIME})):
            sign_consts.append(node)
            continue
        if isinstance(node, ex.Sym):
            orders[node.name] = orders.get(node.name, 0) + 1
        elif isinstance(node, ex.Apply) and node.op == "*":
            stack.extend(node.args)
        elif isinstance(node, ex.Apply) and node.op == "neg":
            sign_consts.append(ex.Num(-1.0))
            stack.append(node.args[0])
        elif isinstance(node, ex.Apply) and node.op == "/":
            num, den = node.args
            if ex.symbols(den) & (state | {ex.TIME}):
                return None
            sign_consts.append(ex.Apply("/", (ex.ONE, den)))
            stack.append(num)
        elif (isinstance(node, ex.Apply) and node.op == "^" and isinstance(node.args[1], ex.Num)
              and float(node.args[1].value).is_integer() and 0 < node.args[1].value <= 16):
            inner = _monomial(node.args[0], state)
            if inner is None:
                return None
            n = int(node.args[1].value)
            base_consts, base_orders = inner
            if base_consts:
                sign_consts.append(ex.power(ex.mul(*base_consts), ex.Num(float(n))))
            for sid, order in base_orders.items():
                orders[sid] = orders.get(sid, 0) + n * order
        else:
            return None
    return sign_consts, orders


def mass_action_law(term: ex.Expr, stoich: Mapping[str, float], state: set[str],
                    values: Mapping[str, float]):
    """Deterministic mass action read from the structure of ``term``:
    ``rate = k prod_i x_i^nu_i`` with ``nu`` exactly the (integer) stoichiometry ``stoich``
    and ``k`` a product of state-free factors. Returns
    :class:`sbmlnoise.network.MassAction` (``k`` evaluated with ``values``, and as a tree)
    or None (also for a non-finite ``k``). Amount or count semantics are the caller's."""
    from .network import MassAction

    split = _monomial(term, state)
    if split is None:
        return None
    consts, orders = split
    wanted = {s: int(nu) for s, nu in stoich.items() if nu}
    if any(float(nu) != int(nu) for nu in stoich.values()) or orders != wanted:
        return None
    k_expr = ex.mul(*consts) if consts else ex.ONE
    k = ex.evaluate(k_expr, values)
    if not math.isfinite(k):
        return None
    return MassAction(k, tuple(sorted(orders.items())), k_expr)


def expand_terms(rate: ex.Expr, limit: int = 8) -> list[ex.Expr]:
    """Expand ``rate`` into a sum of products (distributing over + and -), at most
    ``limit`` terms; a tree that does not expand is one term."""
    if isinstance(rate, ex.Apply):
        if rate.op == "+":
            out = [t for a in rate.args for t in expand_terms(a, limit)]
            return out if len(out) <= limit else [rate]
        if rate.op == "-":
            return expand_terms(rate.args[0], limit) + [
                ex.neg(t) for t in expand_terms(rate.args[1], limit)]
        if rate.op == "neg":
            return [ex.neg(t) for t in expand_terms(rate.args[0], limit)]
        if rate.op == "*":
            products: list[list[ex.Expr]] = [[]]
            for factor in rate.args:
                parts = expand_terms(factor, limit)
                products = [p + [q] for p in products for q in parts]
                if len(products) > limit:
                    return [rate]
            return [ex.mul(*p) for p in products]
        if rate.op == "/":
            return [ex.Apply("/", (t, rate.args[1])) for t in expand_terms(rate.args[0], limit)]
    return [rate]


def _top_terms(rate: ex.Expr, constants=frozenset()) -> list[ex.Expr]:
    """Split a law at its top-level sum only: through +, -, negation, constant factors
    (symbols in ``constants``) and a common divisor, never into a product with a
    state-dependent factor (``A*(A-1)`` stays one term)."""
    if isinstance(rate, ex.Apply):
        if rate.op == "+":
            return [t for a in rate.args for t in _top_terms(a, constants)]
        if rate.op == "-":
            return (_top_terms(rate.args[0], constants)
                    + [ex.neg(t) for t in _top_terms(rate.args[1], constants)])
        if rate.op == "neg":
            return [ex.neg(t) for t in _top_terms(rate.args[0], constants)]
        if rate.op == "/":
            return [ex.neg(ex.Apply("/", (ex.neg(t), rate.args[1]))) if _is_negated(t)
                    else ex.Apply("/", (t, rate.args[1]))
                    for t in _top_terms(rate.args[0], constants)]
        if rate.op == "*":
            # one factor is a sum (possibly inside a constant product or a quotient, as in
            # V*(Vmax*(S - P/Keq)/(S + Km))) and every other factor is constant
            split = [(a, _top_terms(a, constants)) for a in rate.args]
            sums = [(a, terms) for a, terms in split if len(terms) > 1]
            if len(sums) == 1:
                others = [a for a in rate.args if a is not sums[0][0]]
                if all(ex.symbols(a) <= constants for a in others):
                    return [ex.neg(ex.mul(*others, ex.neg(t))) if _is_negated(t)
                            else ex.mul(*others, t) for t in sums[0][1]]
    return [rate]


def _is_negated(term: ex.Expr) -> bool:
    return (isinstance(term, ex.Apply) and term.op == "*" and isinstance(term.args[0], ex.Num)
            and term.args[0].value < 0) or (isinstance(term, ex.Num) and term.value < 0)


def top_level_split(rate: ex.Expr, constants=frozenset()) -> tuple[ex.Expr, ex.Expr] | None:
    """``(forward, reverse)`` with ``rate = forward - reverse`` when the law's top-level
    terms fall into positive and explicitly negated ones (e.g. a reversible
    Michaelis-Menten law or ``k1*P*(P-1)/2 - k2*P2``; a product with a state-dependent
    factor such as ``A*(A-1)`` stays one term); ``None`` otherwise. ``constants``: the
    symbols that are constant (parameters), through which a sum may be distributed."""
    terms = _top_terms(rate, frozenset(constants))
    if len(terms) < 2 or len(terms) > 16:
        return None
    positive = [t for t in terms if not _is_negated(t)]
    negative = [ex.neg(t) for t in terms if _is_negated(t)]
    if not positive or not negative:
        return None
    if any(_is_negated(t) for t in negative) or any(
            isinstance(t, ex.Num) for t in positive + negative):
        return None
    return ex.add(*positive), ex.add(*negative)


def reversible_channels(rate: ex.Expr, reactants: Mapping[str, float],
                        products: Mapping[str, float], state: set[str],
                        values: Mapping[str, float], reversible: bool):
    """The channels one SBML reaction becomes (the importer's rule).

    Returns ``[("net", law, mass_action)]`` or, for a reversible law that splits (or an
    irreversible one written as an explicit difference: positive and negative parts),
    ``[("forward", law_f, ma_f), ("reverse", law_r, ma_r)]`` with ``rate = law_f - law_r``
    (``law_r`` a non-negative rate of the reverse channel). In order: the whole law as
    mass action (:func:`mass_action_law`); a two-term expansion whose terms are mass
    action for the reactants and for the products (the laws are rebuilt as
    ``k prod x^nu``); the :func:`top_level_split` by sign (mass action recorded where a
    part is). ``mass_action`` entries are :class:`sbmlnoise.network.MassAction` or None.
    """
    single = mass_action_law(rate, reactants, state, values)
    if single is not None and single.rate_constant >= 0:
        return [("net", rate, single)]
    if reversible:
        terms = expand_terms(rate)
        if len(terms) == 2:
            for fwd_term, rev_term in (terms, terms[::-1]):
                fwd = mass_action_law(fwd_term, reactants, state, values)
                rev = mass_action_law(ex.neg(rev_term), products, state, values)
                if fwd and rev and fwd.rate_constant >= 0 and rev.rate_constant >= 0:
                    return [("forward", _rebuild(fwd), fwd), ("reverse", _rebuild(rev), rev)]
        split = top_level_split(rate, frozenset(values))
        if split is not None:
            fwd_law, rev_law = split
            return [("forward", fwd_law, mass_action_law(fwd_law, reactants, state, values)),
                    ("reverse", rev_law, mass_action_law(rev_law, products, state, values))]
    elif top_level_split(rate, frozenset(values)) is not None:
        # marked irreversible, but the law is an explicit difference and may go negative
        # (``k1*A - k2*B``; a capacity law ``kon*(1 - G)``): the rate equations run the
        # reaction backwards then. The stochastic channels are the positive and negative
        # parts, max(v, 0) forward and max(-v, 0) reverse: the same rate equations
        # (max(v,0) - max(-v,0) = v) and, where v >= 0 on every reachable state (the
        # capacity law), the same master equation as the single channel.
        zero = ex.Num(0.0)
        return [("forward", ex.Apply("max", (rate, zero)), None),
                ("reverse", ex.Apply("max", (ex.neg(rate), zero)), None)]
    return [("net", rate, None)]


def _rebuild(ma) -> ex.Expr:
    return ex.mul(ma.rate_constant_expr, *(ex.power(ex.Sym(sp), ex.Num(float(o)))
                                           for sp, o in ma.orders))


def stochastic_form(propensity: ex.Expr, reactants: Mapping[str, float],
                    parameters: Mapping[str, float], species: set[str]):
    """``(kappa, [(species, nu)])`` when the propensity (counts) is stochastic mass action
    ``kappa prod_i n_i (n_i - 1) ... (n_i - nu_i + 1)`` over exactly its reactants (the
    form the SSA kernels and the FSP evaluate without the expression), else None: the
    ``"falling_factorial"`` kind of :func:`classify_law`, or ``"mass_action"`` with every
    ``nu_i <= 1``, and no catalyst factor."""
    shape = classify_law(propensity, reactants, parameters=parameters, state=species,
                         max_order=0)
    if shape.kind not in ("mass_action", "falling_factorial") or not shape.stochastic:
        return None
    if not (math.isfinite(shape.rate_constant) and shape.rate_constant >= 0):
        return None
    return shape.rate_constant, sorted(shape.orders.items())
