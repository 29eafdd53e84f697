"""An expression tree we own, built from libsbml's MathML AST.

Every kinetic law, rule and assignment of a model becomes a tree of three node types:

* :class:`Num`  -- a float constant,
* :class:`Sym`  -- a named value (an SBML id, or :data:`TIME` for the ``time`` csymbol),
* :class:`Apply` -- an operator of :data:`OPERATOR_TABLE` applied to argument trees.

:data:`OPERATOR_TABLE` is the one description of the math language: per operator its
arity, MathML names, C99 scalar and numpy functions, SSA opcode, derivative and sympy
rules and domain. Every evaluator is derived from it (adding an operator is one row, plus
its branch in the SSA interpreter, which ``tests/test_operators.py`` checks exists):

* :func:`compile_vector` -- a Python function built from :mod:`ast` nodes whose only
  names are the argument arrays ``x`` (state), ``p`` (parameters), ``t`` (time), ``out``
  and the table's functions. Model identifiers are validated and mapped to array slots
  before any code exists, so a hostile id cannot reach the generated code.
* :func:`evaluate_array` -- the same on numpy arrays (the FSP's state arrays),
* the SSA bytecode (:mod:`sbmlnoise.ssa._program`) and the importer's MathML map,
* :func:`diff` -- exact symbolic derivatives (used for Jacobians),
* :func:`to_sympy` -- sympy expressions for exact downstream algebra.

Boolean values follow SBML: relations yield 1.0/0.0 when used as numbers. Numbers follow
C99 / IEEE 754 in every evaluator (``1/0 = inf``, ``log(-1) = nan``; never an exception).
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
import sys
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

import numpy as np

from .errors import ModelError, UnsupportedFeature

_T = TypeVar("_T")

TIME = "<time>"  # not a valid SBML SId, so it cannot clash with a model identifier

@dataclass(frozen=True, slots=True)
class Num:
    value: float


@dataclass(frozen=True, slots=True)
class Sym:
    name: str


@dataclass(frozen=True, slots=True)
class Apply:
    op: str
    args: tuple

    def __post_init__(self):
        if self.op not in OPERATOR_TABLE:
            raise UnsupportedFeature(f"math operator '{self.op}' is not supported", feature=self.op)


Expr = Num | Sym | Apply

ZERO = Num(0.0)
ONE = Num(1.0)


# --------------------------------------------------------------------------- building
def add(*terms: Expr) -> Expr:
    """Sum with constant folding (drops zeros)."""
    flat: list[Expr] = []
    const = 0.0
    for term in terms:
        parts = term.args if isinstance(term, Apply) and term.op == "+" else (term,)
        for part in parts:
            if isinstance(part, Num):
                const += part.value
            else:
                flat.append(part)
    if const != 0.0 or not flat:
        flat.append(Num(const))
    return flat[0] if len(flat) == 1 else Apply("+", tuple(flat))


def mul(*factors: Expr) -> Expr:
    """Product with constant folding (a zero factor gives zero)."""
    flat: list[Expr] = []
    const = 1.0
    for factor in factors:
        parts = factor.args if isinstance(factor, Apply) and factor.op == "*" else (factor,)
        for part in parts:
            if isinstance(part, Num):
                const *= part.value
            else:
                flat.append(part)
    if const == 0.0:
        return ZERO
    if const != 1.0 or not flat:
        flat.insert(0, Num(const))
    return flat[0] if len(flat) == 1 else Apply("*", tuple(flat))


def neg(a: Expr) -> Expr:
    if isinstance(a, Num):
        return Num(-a.value)
    return mul(Num(-1.0), a)


def sub(a: Expr, b: Expr) -> Expr:
    return add(a, neg(b))


def div(a: Expr, b: Expr) -> Expr:
    if isinstance(b, Num) and b.value == 1.0:
        return a
    if isinstance(a, Num) and a.value == 0.0:
        return ZERO
    return Apply("/", (a, b))


def power(a: Expr, b: Expr) -> Expr:
    if isinstance(b, Num):
        if b.value == 1.0:
            return a
        if b.value == 0.0:
            return ONE
    return Apply("^", (a, b))


# --------------------------------------------------------------------------- queries
def symbols(expr: Expr) -> set[str]:
    """Names of all :class:`Sym` nodes in ``expr`` (including :data:`TIME`)."""
    found: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Sym):
            found.add(node.name)
        elif isinstance(node, Apply):
            stack.extend(node.args)
    return found


def substitute(expr: Expr, mapping: Mapping[str, Expr], _memo: dict | None = None) -> Expr:
    """Replace symbols by trees (one pass, no recursion into replacements). Shared
    subtrees are visited once (the memo is keyed by node identity), so a tree built by
    nested function calls is not expanded exponentially."""
    if isinstance(expr, Sym):
        return mapping.get(expr.name, expr)
    if isinstance(expr, Apply):
        memo = {} if _memo is None else _memo
        key = id(expr)
        hit = memo.get(key)
        if hit is not None and hit[0] is expr:
            return hit[1]
        out = Apply(expr.op, tuple(substitute(a, mapping, memo) for a in expr.args))
        memo[key] = (expr, out)
        return out
    return expr


def tree_size(expr: Expr, limit: float = math.inf) -> float:
    """Number of nodes of ``expr`` written out as a tree (shared subtrees counted each
    time they occur), computed on the shared structure; stops counting above ``limit``."""
    sizes: dict[int, float] = {}
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, done = stack.pop()
        if not isinstance(node, Apply):
            continue
        if id(node) in sizes:
            continue
        if done:
            total = 1.0 + sum(sizes.get(id(a), 1.0) for a in node.args)
            sizes[id(node)] = min(total, 2 * limit)
            continue
        stack.append((node, True))
        stack.extend((a, False) for a in node.args if isinstance(a, Apply))
    return sizes.get(id(expr), 1.0)


def depth(expr: Expr) -> int:
    """Nesting depth of the tree (iterative, safe for deep trees; shared subtrees are
    measured once)."""
    depths: dict[int, int] = {}
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, done = stack.pop()
        if not isinstance(node, Apply) or id(node) in depths:
            continue
        if done:
            depths[id(node)] = 1 + max((depths.get(id(a), 1) for a in node.args), default=0)
            continue
        stack.append((node, True))
        stack.extend((a, False) for a in node.args if isinstance(a, Apply))
    return depths.get(id(expr), 1)


# --------------------------------------------------------------------------- the table
# Every operator a tree may contain is one row of OPERATOR_TABLE. The evaluators are
# derived from it: compile_vector/evaluate (Python floats, the `scalar` column),
# fsp._space.evaluate_array (numpy arrays, the `numpy` column), the SSA bytecode
# (sbmlnoise.ssa._program: the `opcode` column, one branch of the numba interpreter per
# opcode), the importer's MathML map (the `mathml` column), diff (`derivative`) and
# to_sympy (`sympy`). Numbers follow C99 / IEEE 754 as numpy and numba (error_model
# "numpy") compute them: 1/0 = inf, 0/0 = nan, log(0) = -inf, sqrt(-1) = nan, overflow =
# +-inf; no evaluator raises for a value. Booleans are 1.0/0.0, any non-zero value (NaN
# included) is true.


def _ieee(fast: Callable, slow: Callable) -> Callable:
    """Scalar function with C99 semantics: ``fast`` (the :mod:`math` module) where it
    returns, else ``slow`` (numpy, floating-point errors ignored) where :mod:`math` raises
    (a domain error, a pole, an overflow)."""

    def scalar(*args):
        try:
            return fast(*args)
        except (ArithmeticError, ValueError):
            with np.errstate(all="ignore"):
                return float(slow(*(np.float64(a) for a in args)))

    scalar.__name__ = getattr(fast, "__name__", "scalar")
    return scalar


def _truth(a) -> bool:
    return a != 0.0  # NaN is true (it is not zero), as in every evaluator


def _np_truth(a):
    return np.asarray(a) != 0


def _as_float_array(a):
    return np.asarray(a, dtype=float)


def _min2(a, b):
    if a != a or b != b:
        return math.nan
    return a if a < b else b


def _max2(a, b):
    if a != a or b != b:
        return math.nan
    return a if a > b else b


def _floor(a):
    return float(math.floor(a))


def _ceil(a):
    return float(math.ceil(a))


def _quotient(a, b):
    return float(math.trunc(a / b))


def _np_gamma1(a):
    from scipy.special import gamma  # scipy is slow to import: only when needed

    return gamma(_as_float_array(a) + 1.0)


def _np_log(base, x):
    return np.log(x) / np.log(base)


def _np_root(n, x):
    return np.power(_as_float_array(x), 1.0 / _as_float_array(n))


@dataclass(frozen=True, slots=True)
class Operator:
    """One row of :data:`OPERATOR_TABLE`.

    Attributes
    ----------
    name : str
        The operator's name in trees (``Apply.op``).
    arity : int or None
        Number of arguments; ``None`` = variadic.
    kind : str
        ``"unary"``, ``"binary"``, ``"nary"`` (a left fold of the binary ``scalar`` /
        ``numpy`` step from ``identity``: no arguments give ``identity``, one argument
        ``a`` gives ``step(identity, a)``, more give ``step(...step(a0, a1)..., an)``),
        ``"piecewise"`` (``value0, cond0, value1, cond1, ..., [otherwise]``, the first true
        condition wins; no ``otherwise`` gives NaN) or ``"delay"``.
    mathml : tuple of str
        MathML element names of this operator (libsbml's ``ASTNode.getName()``); the
        first is the one written. The importer reads arithmetic from libsbml's operator
        nodes, ``log``/``root`` with their qualifiers (``log10``, ``sqrt`` without) and
        unary minus (``neg``, no name of its own) by structure, the rest by this name.
    scalar : callable or None
        Python floats -> float, C99 semantics, never raises.
    numpy : callable or None
        The same on numpy arrays (broadcasting).
    opcode : int or None
        Argument of ``OP_UN`` (unary) or ``OP_BIN`` (binary, and each step of an n-ary
        fold) in the SSA bytecode; the numba interpreter has one branch per opcode.
    identity : float or None
        Value of an n-ary operator applied to nothing.
    derivative : callable or None
        ``rule(node, d) -> Expr`` with ``d(i)`` the derivative of argument ``i``; ``None``
        when :func:`diff` has no rule.
    sympy : callable or None
        ``convert(sympy_module, args) -> sympy expression``.
    pyop : type or None
        The :mod:`ast` operator :func:`compile_vector` writes inline (arithmetic and
        comparisons); other operators become calls of ``scalar`` (or ``fast``).
    domain : tuple of str
        Per argument (the last repeats): ``"real"``, ``"positive"``, ``"nonneg"``,
        ``"nonzero"``, ``"unit"`` ([-1, 1]), ``"open_unit"`` ((-1, 1)), ``"ge1"``
        (>= 1), ``"gt1"`` (|x| > 1), ``"unit_pos"`` ((0, 1]), ``"base"`` (> 0, != 1),
        ``"gt_m1"`` (> -1). Outside it the value is NaN or infinite, as C99 says.
    notes : str
        The formula used where it is not the obvious one.
    fast : callable or None
        The plain :mod:`math` form of ``scalar``, which may raise where C99 gives NaN or
        an infinity; :func:`compile_vector` runs it first and falls back to ``scalar``.
    pyop_total : bool
        False when the inline ``pyop`` may raise on Python floats (``/`` at zero).
    """

    name: str
    arity: int | None
    kind: str
    mathml: tuple[str, ...] = ()
    scalar: Callable | None = None
    numpy: Callable | None = None
    opcode: int | None = None
    identity: float | None = None
    derivative: Callable | None = None
    sympy: Callable | None = None
    pyop: type | None = None
    domain: tuple[str, ...] = ("real",)
    notes: str = ""
    fast: Callable | None = None
    pyop_total: bool = True

    def domain_of(self, i: int) -> str:
        """Domain tag of argument ``i``."""
        return self.domain[min(i, len(self.domain) - 1)]


def _chain(outer: Callable[[Expr, Expr], Expr]) -> Callable:
    """Derivative rule of a unary function: ``outer(u, node) * du``."""

    def rule(node: Apply, d: Callable[[int], Expr], name: str) -> Expr:
        du = d(0)
        return ZERO if du == ZERO else mul(outer(node.args[0], node), du)

    return rule


def _zero_rule(node: Apply, d: Callable[[int], Expr], name: str) -> Expr:
    return ZERO


def _d_add(node: Apply, d, name: str) -> Expr:
    return add(*(d(i) for i in range(len(node.args))))


def _d_mul(node: Apply, d, name: str) -> Expr:
    a = node.args
    terms = []
    for i in range(len(a)):
        dx = d(i)
        if dx != ZERO:
            terms.append(mul(*a[:i], dx, *a[i + 1:]))
    return add(*terms) if terms else ZERO


def _d_div(node: Apply, d, name: str) -> Expr:
    u, v = node.args
    return sub(div(d(0), v), div(mul(u, d(1)), power(v, Num(2.0))))


def _d_pow(node: Apply, d, name: str) -> Expr:
    u, v = node.args
    du, dv = d(0), d(1)
    term1 = mul(v, power(u, sub(v, ONE)), du) if du != ZERO else ZERO
    term2 = mul(node, Apply("ln", (u,)), dv) if dv != ZERO else ZERO
    return add(term1, term2)


def _d_via(rewrite: Callable[[tuple], Expr]) -> Callable:
    """Derivative of an operator defined by a rewrite into others."""

    def rule(node: Apply, d, name: str) -> Expr:
        return diff(rewrite(node.args), name)

    return rule


def _d_piecewise(node: Apply, d, name: str) -> Expr:
    # values (even positions, the otherwise included) are differentiated, conditions kept
    return Apply("piecewise", tuple(d(i) if i % 2 == 0 else node.args[i]
                                    for i in range(len(node.args))))


def _d_minmax(node: Apply, d, name: str) -> Expr:
    a = node.args
    if not a:
        return ZERO
    chosen = a[0]  # the piecewise form: the derivative of the selected argument
    for x in a[1:]:
        test = Apply("lt" if node.op == "min" else "gt", (x, chosen))
        chosen = Apply("piecewise", (x, test, chosen))
    return diff(chosen, name)


def _sq(u: Expr) -> Expr:
    return power(u, Num(2.0))


def _inv_sqrt(e: Expr) -> Expr:
    return div(ONE, Apply("sqrt", (e,)))


def _sp(name: str) -> Callable:
    return lambda sp, args: getattr(sp, name)(*args)


def _u(name, opcode, fast, slow, mathml=None, derivative=None, sympy=None, domain=("real",),
       notes="") -> Operator:
    """A unary row."""
    return Operator(name, 1, "unary", (name,) if mathml is None else mathml,
                    _ieee(fast, slow), slow, opcode, None, derivative, sympy, None,
                    domain, notes, fast)


def _cmp(name, opcode, pyop, test, nptest, sympy_name) -> Operator:
    return Operator(name, 2, "binary", (name,), lambda a, b: 1.0 if test(a, b) else 0.0,
                    lambda a, b: _as_float_array(nptest(a, b)), opcode, None, _zero_rule,
                    _sp(sympy_name), pyop)


def _logic(name, opcode, step, npstep, identity, sympy_name) -> Operator:
    return Operator(name, None, "nary", (name,),
                    lambda a, b: 1.0 if step(_truth(a), _truth(b)) else 0.0,
                    lambda a, b: _as_float_array(npstep(_np_truth(a), _np_truth(b))),
                    opcode, identity, _zero_rule, _sp(sympy_name))


_OPERATOR_ROWS: tuple[Operator, ...] = (
    # ---- arithmetic (the importer builds these from MathML operators)
    Operator("+", None, "nary", ("plus",), lambda a, b: a + b, np.add, 0, 0.0, _d_add,
             lambda sp, a: sp.Add(*a), ast.Add),
    Operator("-", 2, "binary", ("minus",), lambda a, b: a - b, np.subtract, 1, None,
             lambda n, d, x: sub(d(0), d(1)), lambda sp, a: a[0] - a[1], ast.Sub),
    Operator("*", None, "nary", ("times",), lambda a, b: a * b, np.multiply, 2, 1.0, _d_mul,
             lambda sp, a: sp.Mul(*a), ast.Mult),
    Operator("/", 2, "binary", ("divide",), _ieee(lambda a, b: a / b, np.divide), np.divide,
             3, None, _d_div, lambda sp, a: a[0] / a[1], ast.Div, domain=("real", "nonzero"),
             pyop_total=False),
    Operator("^", 2, "binary", ("power", "pow"), _ieee(math.pow, np.power),
             lambda a, b: np.power(_as_float_array(a), b), 4, None, _d_pow,
             lambda sp, a: a[0] ** a[1], domain=("positive", "real"),
             notes="C pow: a negative base needs an integer exponent, else NaN",
             fast=math.pow),
    Operator("neg", 1, "unary", (), lambda a: -a, np.negative, 0, None,
             lambda n, d, x: neg(d(0)), lambda sp, a: -a[0], ast.USub),
    # ---- relations and logic (booleans are 1.0 / 0.0)
    _cmp("lt", 5, ast.Lt, lambda a, b: a < b, np.less, "Lt"),
    _cmp("leq", 6, ast.LtE, lambda a, b: a <= b, np.less_equal, "Le"),
    _cmp("gt", 7, ast.Gt, lambda a, b: a > b, np.greater, "Gt"),
    _cmp("geq", 8, ast.GtE, lambda a, b: a >= b, np.greater_equal, "Ge"),
    _cmp("eq", 9, ast.Eq, lambda a, b: a == b, np.equal, "Eq"),
    _cmp("neq", 10, ast.NotEq, lambda a, b: a != b, np.not_equal, "Ne"),
    _logic("and", 11, lambda a, b: a and b, np.logical_and, 1.0, "And"),
    _logic("or", 12, lambda a, b: a or b, np.logical_or, 0.0, "Or"),
    _logic("xor", 13, lambda a, b: a != b, np.logical_xor, 0.0, "Xor"),
    Operator("not", 1, "unary", ("not",), lambda a: 0.0 if _truth(a) else 1.0,
             lambda a: _as_float_array(~_np_truth(a)), 1, None, _zero_rule,
             lambda sp, a: sp.Not(a[0])),
    Operator("piecewise", None, "piecewise", ("piecewise",), derivative=_d_piecewise,
             sympy=lambda sp, a: sp.Piecewise(*[(a[i], a[i + 1])
                                                 for i in range(0, len(a) - 1, 2)],
                                               *([(a[-1], True)] if len(a) % 2 else [])),
             notes="no otherwise and no true condition: NaN"),
    # ---- n-ary selection and integer arithmetic
    Operator("min", None, "nary", ("min",), _min2, np.minimum, 14, math.inf, _d_minmax,
             lambda sp, a: sp.Min(*a), notes="NaN if any argument is NaN"),
    Operator("max", None, "nary", ("max",), _max2, np.maximum, 15, -math.inf, _d_minmax,
             lambda sp, a: sp.Max(*a), notes="NaN if any argument is NaN"),
    Operator("rem", 2, "binary", ("rem",), _ieee(math.fmod, np.fmod), np.fmod, 16, None,
             _zero_rule, lambda sp, a: sp.Mod(a[0], a[1]), domain=("real", "nonzero"),
             notes="C fmod: the sign of the dividend", fast=math.fmod),
    Operator("quotient", 2, "binary", ("quotient",), _ieee(_quotient, lambda a, b:
                                                          np.trunc(np.divide(a, b))),
             lambda a, b: np.trunc(np.divide(a, b)), 17, None, _zero_rule,
             lambda sp, a: sp.floor(a[0] / a[1]), domain=("real", "nonzero"),
             notes="trunc(a / b)"),
    Operator("log", 2, "binary", ("log",), _ieee(lambda b, x: math.log(x) / math.log(b), _np_log),
             _np_log, 18, None,
             _d_via(lambda a: div(Apply("ln", (a[1],)), Apply("ln", (a[0],)))),
             lambda sp, a: sp.log(a[1], a[0]), domain=("base", "positive"),
             notes="log(base, x) = ln x / ln base (MathML <log> with <logbase>)"),
    Operator("root", 2, "binary", ("root",), _ieee(lambda n, x: math.pow(x, 1.0 / n), _np_root),
             _np_root, 19, None, _d_via(lambda a: power(a[1], div(ONE, a[0]))),
             lambda sp, a: a[1] ** (1 / a[0]), domain=("nonzero", "nonneg"),
             notes="root(n, x) = x ^ (1/n) (MathML <root> with <degree>)"),
    # ---- elementary functions
    _u("exp", 2, math.exp, np.exp, derivative=_chain(lambda u, n: n), sympy=_sp("exp")),
    _u("ln", 3, math.log, np.log, derivative=_chain(lambda u, n: div(ONE, u)),
       sympy=_sp("log"), domain=("positive",)),
    _u("log10", 4, math.log10, np.log10, mathml=(),
       derivative=_chain(lambda u, n: div(ONE, mul(u, Num(math.log(10.0))))),
       sympy=lambda sp, a: sp.log(a[0], 10), domain=("positive",),
       notes="MathML <log/> without a base"),
    _u("sqrt", 5, math.sqrt, np.sqrt, mathml=(),
       derivative=_chain(lambda u, n: div(ONE, mul(Num(2.0), n))), sympy=_sp("sqrt"),
       domain=("nonneg",), notes="MathML <root/> without a degree or of degree 2"),
    _u("abs", 6, math.fabs, np.abs, sympy=_sp("Abs"), derivative=_chain(
        lambda u, n: Apply("piecewise", (ONE, Apply("geq", (u, ZERO)), Num(-1.0))))),
    _u("floor", 7, _floor, np.floor, derivative=_zero_rule, sympy=_sp("floor")),
    _u("ceil", 8, _ceil, np.ceil, mathml=("ceiling", "ceil"), derivative=_zero_rule,
       sympy=_sp("ceiling")),
    _u("factorial", 9, lambda a: math.gamma(a + 1.0),
       _np_gamma1, sympy=_sp("factorial"),
       domain=("gt_m1",), notes="gamma(x + 1)"),
    _u("sin", 10, math.sin, np.sin, derivative=_chain(lambda u, n: Apply("cos", (u,))),
       sympy=_sp("sin")),
    _u("cos", 11, math.cos, np.cos, sympy=_sp("cos"),
       derivative=_chain(lambda u, n: neg(Apply("sin", (u,))))),
    _u("tan", 12, math.tan, np.tan, sympy=_sp("tan"),
       derivative=_chain(lambda u, n: add(ONE, _sq(n)))),
    _u("asin", 13, math.asin, np.arcsin, mathml=("arcsin",), sympy=_sp("asin"),
       derivative=_chain(lambda u, n: _inv_sqrt(sub(ONE, _sq(u)))), domain=("unit",)),
    _u("acos", 14, math.acos, np.arccos, mathml=("arccos",), sympy=_sp("acos"),
       derivative=_chain(lambda u, n: neg(_inv_sqrt(sub(ONE, _sq(u))))), domain=("unit",)),
    _u("atan", 15, math.atan, np.arctan, mathml=("arctan",), sympy=_sp("atan"),
       derivative=_chain(lambda u, n: div(ONE, add(ONE, _sq(u))))),
    _u("sinh", 16, math.sinh, np.sinh, sympy=_sp("sinh"),
       derivative=_chain(lambda u, n: Apply("cosh", (u,)))),
    _u("cosh", 17, math.cosh, np.cosh, sympy=_sp("cosh"),
       derivative=_chain(lambda u, n: Apply("sinh", (u,)))),
    _u("tanh", 18, math.tanh, np.tanh, sympy=_sp("tanh"),
       derivative=_chain(lambda u, n: sub(ONE, _sq(n)))),
    _u("asinh", 19, math.asinh, np.arcsinh, mathml=("arcsinh",), sympy=_sp("asinh"),
       derivative=_chain(lambda u, n: _inv_sqrt(add(_sq(u), ONE)))),
    _u("acosh", 20, math.acosh, np.arccosh, mathml=("arccosh",), sympy=_sp("acosh"),
       derivative=_chain(lambda u, n: _inv_sqrt(sub(_sq(u), ONE))), domain=("ge1",)),
    _u("atanh", 21, math.atanh, np.arctanh, mathml=("arctanh",), sympy=_sp("atanh"),
       derivative=_chain(lambda u, n: div(ONE, sub(ONE, _sq(u)))), domain=("open_unit",)),
    # ---- reciprocal functions: 1 / f(x), and f^-1(1 / x) for their inverses
    _u("sec", 22, lambda a: 1.0 / math.cos(a), lambda a: 1.0 / np.cos(a), sympy=_sp("sec"),
       notes="1 / cos x"),
    _u("csc", 23, lambda a: 1.0 / math.sin(a), lambda a: 1.0 / np.sin(a), sympy=_sp("csc"),
       domain=("nonzero",), notes="1 / sin x"),
    _u("cot", 24, lambda a: 1.0 / math.tan(a), lambda a: 1.0 / np.tan(a), sympy=_sp("cot"),
       domain=("nonzero",), notes="1 / tan x"),
    _u("sech", 25, lambda a: 1.0 / math.cosh(a), lambda a: 1.0 / np.cosh(a),
       sympy=_sp("sech"), notes="1 / cosh x"),
    _u("csch", 26, lambda a: 1.0 / math.sinh(a), lambda a: 1.0 / np.sinh(a),
       sympy=_sp("csch"), domain=("nonzero",), notes="1 / sinh x"),
    _u("coth", 27, lambda a: 1.0 / math.tanh(a), lambda a: 1.0 / np.tanh(a),
       sympy=_sp("coth"), domain=("nonzero",), notes="1 / tanh x"),
    _u("arcsec", 28, lambda a: math.acos(1.0 / a), lambda a: np.arccos(1.0 / a),
       sympy=_sp("asec"), domain=("gt1",), notes="acos(1 / x)"),
    _u("arccsc", 29, lambda a: math.asin(1.0 / a), lambda a: np.arcsin(1.0 / a),
       sympy=_sp("acsc"), domain=("gt1",), notes="asin(1 / x)"),
    _u("arccot", 30, lambda a: math.atan(1.0 / a), lambda a: np.arctan(1.0 / a),
       sympy=_sp("acot"), domain=("nonzero",), notes="atan(1 / x)"),
    _u("arcsech", 31, lambda a: math.acosh(1.0 / a), lambda a: np.arccosh(1.0 / a),
       sympy=_sp("asech"), domain=("unit_pos",), notes="acosh(1 / x)"),
    _u("arccsch", 32, lambda a: math.asinh(1.0 / a), lambda a: np.arcsinh(1.0 / a),
       sympy=_sp("acsch"), domain=("nonzero",), notes="asinh(1 / x)"),
    _u("arccoth", 33, lambda a: math.atanh(1.0 / a), lambda a: np.arctanh(1.0 / a),
       sympy=_sp("acoth"), domain=("gt1",), notes="atanh(1 / x)"),
    # ---- delay(e, tau): needs a history; only the rate equations evaluate it
    Operator("delay", 2, "delay", (), notes="delay(e, tau): e at time t - tau (csymbol)"),
)

#: name -> :class:`Operator`: the one operator table every evaluator is derived from
OPERATOR_TABLE: dict[str, Operator] = {op.name: op for op in _OPERATOR_ROWS}

#: operator name -> arity (None = variadic); derived from :data:`OPERATOR_TABLE`
OPERATORS: dict[str, int | None] = {op.name: op.arity for op in _OPERATOR_ROWS}

#: MathML element name -> operator name (what the importer reads by name)
MATHML_NAMES: dict[str, str] = {m: op.name for op in _OPERATOR_ROWS for m in op.mathml}


def fold(items: Sequence[_T], step: Callable[[_T, _T], _T], identity: _T) -> _T:
    """Apply an n-ary operator's binary ``step`` to ``items`` in the one association
    order every evaluator uses: no items give ``identity``, one item ``a`` gives
    ``step(identity, a)``, up to :data:`LEFT_FOLD_LIMIT` items fold left to right, more
    fold pairwise (a balanced tree, so a flat sum of thousands of terms stays shallow)."""
    if not items:
        return identity
    if len(items) == 1:
        return step(identity, items[0])
    if len(items) <= LEFT_FOLD_LIMIT:
        out = items[0]
        for item in items[1:]:
            out = step(out, item)
        return out
    items = list(items)
    while len(items) > 1:
        paired = [step(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            paired.append(items[-1])
        items = paired
    return items[0]


#: longest n-ary application folded left to right (longer ones fold pairwise)
LEFT_FOLD_LIMIT = 8

Slot = tuple[str, int]  # ("x", i) state slot or ("p", j) parameter slot

#: names of each operator's ``scalar`` and ``fast`` functions in the generated code
_PYNAME = {op.name: f"_op{i}" for i, op in enumerate(_OPERATOR_ROWS) if op.scalar is not None}
_FASTNAME = {op.name: f"_fast{i}" for i, op in enumerate(_OPERATOR_ROWS) if op.fast is not None}
_NAMESPACE: dict = {_PYNAME[op.name]: op.scalar for op in _OPERATOR_ROWS if op.name in _PYNAME}
_NAMESPACE.update({_FASTNAME[op.name]: op.fast for op in _OPERATOR_ROWS
                   if op.name in _FASTNAME})


def _call(op: Operator, fast: bool, *args: ast.expr) -> ast.expr:
    name = _FASTNAME[op.name] if fast and op.name in _FASTNAME else _PYNAME[op.name]
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


def _py_step(op: Operator, fast: bool) -> Callable[[ast.expr, ast.expr], ast.expr]:
    """The code of one binary step of ``op``: inline when the table gives an :mod:`ast`
    operator (that cannot raise, unless ``fast``), else a call of its ``fast`` or
    ``scalar`` function."""
    if op.pyop is None or not (fast or op.pyop_total):
        return lambda a, b: _call(op, fast, a, b)
    if issubclass(op.pyop, ast.cmpop):
        cmp = op.pyop
        return lambda a, b: _as_float(ast.Compare(a, [cmp()], [b]))
    arith: Any = op.pyop
    return lambda a, b: ast.BinOp(a, arith(), b)


def _to_pyast(expr: Expr, slots: Mapping[str, Slot], delays: list | None = None,
              fast: bool = False) -> ast.expr:
    """Python code of ``expr``. ``fast``: the :mod:`math` functions and inline division,
    which raise where C99 gives NaN or an infinity (the caller then runs the other)."""
    if isinstance(expr, Num):
        return ast.Constant(float(expr.value))
    if isinstance(expr, Sym):
        if expr.name == TIME:
            return ast.Name("t", ast.Load())
        if expr.name not in slots:
            raise ModelError(f"identifier '{expr.name}' is used in math but not defined")
        array, index = slots[expr.name]
        if array not in ("x", "p") or not isinstance(index, int):
            raise ValueError(f"bad slot {array!r}[{index!r}]")
        return ast.Subscript(ast.Name(array, ast.Load()), ast.Constant(index), ast.Load())
    op = OPERATOR_TABLE[expr.op]
    if op.kind == "delay":
        return _delay_call(expr, slots, delays, fast)
    args = [_to_pyast(a, slots, delays, fast) for a in expr.args]
    if op.kind == "piecewise":
        pieces = list(args)
        node = pieces.pop() if len(pieces) % 2 == 1 else ast.Constant(math.nan)
        for i in range(len(pieces) - 2, -1, -2):
            test = ast.Compare(pieces[i + 1], [ast.NotEq()], [ast.Constant(0.0)])
            node = ast.IfExp(test, pieces[i], node)
        return node
    if op.kind == "nary":
        identity: ast.expr = ast.Constant(op.identity)
        return fold(args, _py_step(op, fast), identity)
    if op.kind == "binary":
        return _py_step(op, fast)(args[0], args[1])
    if op.pyop is not None:  # unary minus
        return ast.UnaryOp(op.pyop(), args[0])
    return _call(op, fast, args[0])


def _delay_call(expr: Apply, slots: Mapping[str, Slot], delays: list | None,
                fast: bool) -> ast.expr:
    """delay(e, tau): the value of e at time t - tau, looked up by the caller-supplied
    history function ``_delay(k, x, p, t, tau)``; the delayed trees are numbered here."""
    if delays is None:
        raise UnsupportedFeature("delay() needs a simulator with a history (the rate "
                                 "equations); this backend cannot evaluate it",
                                 feature="delay")
    if expr.args[0] not in delays:
        delays.append(expr.args[0])
    k = delays.index(expr.args[0])
    tau = _to_pyast(expr.args[1], slots, delays, fast)
    return ast.Call(ast.Name("_delay", ast.Load()),
                    [ast.Constant(k), ast.Name("x", ast.Load()), ast.Name("p", ast.Load()),
                     ast.Name("t", ast.Load()), tau], [])


def _as_float(test: ast.expr) -> ast.expr:
    return ast.IfExp(test, ast.Constant(1.0), ast.Constant(0.0))


def compile_vector(exprs: Iterable[Expr], slots: Mapping[str, Slot],
                   name: str = "generated", delay: Callable | None = None,
                   delayed: list | None = None) -> Callable:
    """Compile trees into ``f(x, p, t, out)`` that writes ``out[k] = exprs[k]``.

    The function body is assembled from :mod:`ast` nodes; the only free names are ``x``,
    ``p``, ``t``, ``out``, the functions of :data:`OPERATOR_TABLE` (and ``_delay`` when
    ``delay`` is given). It returns ``out``. Plain Python floats and numpy scalars both
    work. Values follow C99 like every evaluator derived from the table (``1/0 = inf``,
    ``log(-1) = nan``, never an exception): the body runs the plain :mod:`math` functions
    and inline division, and where one of them raises, the call is repeated with the
    table's ``scalar`` functions.

    ``delay(k, x, p, t, tau)`` must return the value at time ``t - tau`` of the ``k``-th delayed
    tree; the delayed trees are appended, in numbering order, to the list ``delayed``
    (pass the same list to several calls to share the numbering). Without ``delay`` a
    tree containing ``delay()`` raises :class:`UnsupportedFeature`.
    """
    if delay is not None and delayed is None:
        delayed = []
    trees = list(exprs)
    delays = delayed if delay is not None else None
    namespace: dict = dict(_NAMESPACE)
    if delay is not None:
        namespace["_delay"] = delay
    safe: list[Callable] = []

    def _safe(x, p, t, out):
        """The C99 form (built on first use): every operator through ``scalar``."""
        if not safe:
            safe.append(_build(trees, slots, delays, False, namespace, name + ".c99"))
        return safe[0](x, p, t, out)

    namespace["_safe"] = _safe
    return _build(trees, slots, delays, True, namespace, name)


def _build(trees: list, slots: Mapping[str, Slot], delays: list | None, fast: bool,
           namespace: dict, name: str) -> Callable:
    """Compile ``out[k] = trees[k]``; the ``fast`` form runs the whole body in a ``try``
    whose ``except`` (a :mod:`math` domain error, a pole, an overflow, a division by
    zero) hands the call to ``_safe``."""
    body: list[ast.stmt] = []
    for k, expr in enumerate(trees):
        target = ast.Subscript(ast.Name("out", ast.Load()), ast.Constant(k), ast.Store())
        body.append(ast.Assign([target], _to_pyast(expr, slots, delays, fast)))
    if fast and body:
        handler = ast.ExceptHandler(
            type=ast.Tuple([ast.Name("ArithmeticError", ast.Load()),
                            ast.Name("ValueError", ast.Load())], ast.Load()), name=None,
            body=[ast.Return(ast.Call(ast.Name("_safe", ast.Load()),
                                      [ast.Name(v, ast.Load()) for v in ("x", "p", "t", "out")],
                                      []))])
        body = [ast.Try(body=body, handlers=[handler], orelse=[], finalbody=[])]
    body.append(ast.Return(ast.Name("out", ast.Load())))
    args = ast.arguments(posonlyargs=[], args=[ast.arg(a) for a in ("x", "p", "t", "out")],
                         kwonlyargs=[], kw_defaults=[], defaults=[])
    extra: dict[str, Any] = {"type_params": []} if sys.version_info >= (3, 12) else {}
    func = ast.FunctionDef(name="_generated", args=args, body=body, decorator_list=[],
                           returns=None, **extra)
    module = ast.fix_missing_locations(ast.Module(body=[func], type_ignores=[]))
    scope = dict(namespace)
    exec(compile(module, f"<sbmlnoise:{name}>", "exec"), scope)  # noqa: S102 - AST built here
    return scope["_generated"]


def strip_delays(expr: Expr) -> Expr:
    """``expr`` with every ``delay(e, tau)`` replaced by ``e``: its value at t = 0, where
    SBML defines the history before the start as the initial values."""
    if isinstance(expr, Apply):
        if expr.op == "delay":
            return strip_delays(expr.args[0])
        return Apply(expr.op, tuple(strip_delays(a) for a in expr.args))
    return expr


def evaluate(expr: Expr, values: Mapping[str, float]) -> float:
    """Evaluate one tree with a name -> value mapping (slow path, for set-up work).
    ``delay(e, tau)`` evaluates to ``e`` (set-up work happens at t = 0, where the history
    is the initial state)."""
    expr = strip_delays(expr)
    names = sorted(symbols(expr))
    missing = [n for n in names if n not in values and n != TIME]
    if missing:
        raise ModelError(f"identifier '{missing[0]}' is used in math but has no value")
    slots = {n: ("p", i) for i, n in enumerate(names)}
    p = [float(values.get(n, 0.0)) for n in names]
    func = compile_vector([expr], slots, "evaluate")
    out = [0.0]
    return float(func(p, p, float(values.get(TIME, 0.0)), out)[0])


def evaluate_array(expr: Expr, env: Mapping[str, Any], t: float = 0.0) -> Any:
    """Evaluate an expression tree on arrays: ``env`` maps every symbol to a number or an
    array (numpy broadcasting), ``t`` is the time. The ``numpy`` column of
    :data:`OPERATOR_TABLE`, so the same C99 semantics as :func:`compile_vector`, booleans
    as 1.0/0.0; floating-point warnings are the caller's (``np.errstate``)."""
    if isinstance(expr, Num):
        return float(expr.value)
    if isinstance(expr, Sym):
        if expr.name == TIME:
            return float(t)
        try:
            return env[expr.name]
        except KeyError:
            raise ModelError(f"identifier '{expr.name}' is used in math but not defined") from None
    op = OPERATOR_TABLE[expr.op]
    if op.kind == "piecewise":
        pieces = list(expr.args)
        otherwise = evaluate_array(pieces.pop(), env, t) if len(pieces) % 2 == 1 else math.nan
        result = otherwise
        for i in range(len(pieces) - 2, -1, -2):
            cond = evaluate_array(pieces[i + 1], env, t)
            result = np.where(np.asarray(cond) != 0, evaluate_array(pieces[i], env, t), result)
        return result
    if op.numpy is None:
        raise UnsupportedFeature(f"math operator '{op.name}' cannot be evaluated on arrays",
                                 feature=op.name)
    a = [evaluate_array(x, env, t) for x in expr.args]
    if op.kind == "nary":
        return fold(a, op.numpy, op.identity)
    return op.numpy(*a)


# --------------------------------------------------------------------------- calculus
def diff(expr: Expr, name: str) -> Expr:
    """Exact derivative of ``expr`` with respect to symbol ``name``.

    Discontinuous pieces (piecewise, comparisons, floor, ...) are differentiated piece by
    piece, i.e. away from their switching points.
    """
    if isinstance(expr, Num):
        return ZERO
    if isinstance(expr, Sym):
        return ONE if expr.name == name else ZERO
    if name not in symbols(expr):
        return ZERO
    rule = OPERATOR_TABLE[expr.op].derivative
    if rule is None:
        raise UnsupportedFeature(f"no derivative rule for math operator '{expr.op}'",
                                 feature=expr.op)
    args = expr.args
    return rule(expr, lambda i: diff(args[i], name), name)


# --------------------------------------------------------------------------- sympy
def to_sympy(expr: Expr, symbol_map: Mapping[str, object] | None = None):
    """Convert to a sympy expression; symbols are created by name unless mapped."""
    import sympy as sp

    symbol_map = dict(symbol_map or {})

    def conv(node):
        if isinstance(node, Num):
            v = node.value
            return sp.Integer(int(v)) if float(v).is_integer() and abs(v) < 1e15 else sp.Float(v)
        if isinstance(node, Sym):
            if node.name not in symbol_map:
                symbol_map[node.name] = sp.Symbol("t" if node.name == TIME else node.name)
            return symbol_map[node.name]
        convert = OPERATOR_TABLE[node.op].sympy
        if convert is None:
            raise UnsupportedFeature(f"math operator '{node.op}' has no sympy form",
                                     feature=node.op)
        return convert(sp, [conv(x) for x in node.args])

    return conv(expr)
