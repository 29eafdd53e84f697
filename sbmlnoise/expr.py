"""An expression tree we own, built from libsbml's MathML AST.

Every kinetic law, rule and assignment of a model becomes a tree of three node types:

* :class:`Num`  -- a float constant,
* :class:`Sym`  -- a named value (an SBML id, or :data:`TIME` for the ``time`` csymbol),
* :class:`Apply` -- an operator from :data:`OPERATORS` applied to argument trees.

From the tree we derive, without ever pasting text from a model file into source code:

* :func:`compile_vector` -- a Python function built from :mod:`ast` nodes whose only
  names are the argument arrays ``x`` (state), ``p`` (parameters), ``t`` (time), ``out``
  and the :mod:`math` module. Model identifiers are validated and mapped to array slots
  before any code exists, so a hostile id cannot reach the generated code.
* :func:`diff` -- exact symbolic derivatives (used for Jacobians),
* :func:`to_sympy` -- sympy expressions for exact downstream algebra.

Boolean values follow SBML: relations yield 1.0/0.0 when used as numbers.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from .errors import ModelError, UnsupportedFeature

TIME = "<time>"  # not a valid SBML SId, so it cannot clash with a model identifier

#: operator name -> arity (None = variadic)
OPERATORS: dict[str, int | None] = {
    "+": None, "*": None, "-": 2, "/": 2, "^": 2, "neg": 1,
    "exp": 1, "ln": 1, "log10": 1, "log": 2, "sqrt": 1, "root": 2, "abs": 1,
    "floor": 1, "ceil": 1, "factorial": 1,
    "sin": 1, "cos": 1, "tan": 1, "asin": 1, "acos": 1, "atan": 1,
    "sinh": 1, "cosh": 1, "tanh": 1, "asinh": 1, "acosh": 1, "atanh": 1,
    "sec": 1, "csc": 1, "cot": 1, "sech": 1, "csch": 1, "coth": 1,
    "arcsec": 1, "arccsc": 1, "arccot": 1, "arcsech": 1, "arccsch": 1, "arccoth": 1,
    "lt": 2, "leq": 2, "gt": 2, "geq": 2, "eq": 2, "neq": 2,
    "and": None, "or": None, "xor": None, "not": 1,
    "piecewise": None, "min": None, "max": None, "rem": 2, "quotient": 2,
    "delay": 2,
}


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
        if self.op not in OPERATORS:
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


# --------------------------------------------------------------------------- evaluation
_MATH_FUNCS = {
    "exp": "exp", "ln": "log", "log10": "log10", "sqrt": "sqrt", "abs": "fabs",
    "floor": "floor", "ceil": "ceil", "factorial": "gamma_plus_one",
    "sin": "sin", "cos": "cos", "tan": "tan", "asin": "asin", "acos": "acos", "atan": "atan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "asinh": "asinh", "acosh": "acosh",
    "atanh": "atanh",
}

_RECIPROCAL = {"sec": "cos", "csc": "sin", "cot": "tan", "sech": "cosh", "csch": "sinh",
               "coth": "tanh"}
_ARC_RECIPROCAL = {"arcsec": "acos", "arccsc": "asin", "arccot": "atan", "arcsech": "acosh",
                   "arccsch": "asinh", "arccoth": "atanh"}
_COMPARE = {"lt": ast.Lt, "leq": ast.LtE, "gt": ast.Gt, "geq": ast.GtE, "eq": ast.Eq,
            "neq": ast.NotEq}

Slot = tuple[str, int]  # ("x", i) state slot or ("p", j) parameter slot


def _math_call(func: str, *args: ast.expr) -> ast.expr:
    if func == "gamma_plus_one":
        return _math_call("gamma", ast.BinOp(args[0], ast.Add(), ast.Constant(1.0)))
    return ast.Call(ast.Attribute(ast.Name("math", ast.Load()), func, ast.Load()), list(args), [])


def _to_pyast(expr: Expr, slots: Mapping[str, Slot], delays: list | None = None) -> ast.expr:
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
    op = expr.op
    if op == "delay":
        # delay(e, tau): the value of e at time t - tau, looked up by the caller-supplied
        # history function ``_delay(k, x, p, t, tau)``; the delayed trees are numbered here
        if delays is None:
            raise UnsupportedFeature("delay() needs a simulator with a history (the rate "
                                     "equations); this backend cannot evaluate it",
                                     feature="delay")
        if expr.args[0] not in delays:
            delays.append(expr.args[0])
        k = delays.index(expr.args[0])
        tau = _to_pyast(expr.args[1], slots, delays)
        return ast.Call(ast.Name("_delay", ast.Load()),
                        [ast.Constant(k), ast.Name("x", ast.Load()), ast.Name("p", ast.Load()),
                         ast.Name("t", ast.Load()), tau], [])
    args = [_to_pyast(a, slots, delays) for a in expr.args]
    if op in ("+", "*"):
        return _balanced(args, ast.Add if op == "+" else ast.Mult)
    if op == "-":
        return ast.BinOp(args[0], ast.Sub(), args[1])
    if op == "/":
        return ast.BinOp(args[0], ast.Div(), args[1])
    if op == "^":
        return ast.BinOp(args[0], ast.Pow(), args[1])
    if op == "neg":
        return ast.UnaryOp(ast.USub(), args[0])
    if op in _MATH_FUNCS:
        return _math_call(_MATH_FUNCS[op], *args)
    if op in _RECIPROCAL:
        return ast.BinOp(ast.Constant(1.0), ast.Div(), _math_call(_RECIPROCAL[op], *args))
    if op in _ARC_RECIPROCAL:
        inv = ast.BinOp(ast.Constant(1.0), ast.Div(), args[0])
        return _math_call(_ARC_RECIPROCAL[op], inv)
    if op == "log":
        return ast.BinOp(_math_call("log", args[1]), ast.Div(), _math_call("log", args[0]))
    if op == "root":
        return ast.BinOp(args[1], ast.Pow(), ast.BinOp(ast.Constant(1.0), ast.Div(), args[0]))
    if op in _COMPARE:
        return _as_float(ast.Compare(args[0], [_COMPARE[op]()], [args[1]]))
    if op in ("and", "or"):
        if not args:
            return ast.Constant(1.0 if op == "and" else 0.0)
        truth = [ast.Compare(a, [ast.NotEq()], [ast.Constant(0.0)]) for a in args]
        return _as_float(ast.BoolOp(ast.And() if op == "and" else ast.Or(), truth)
                         if len(truth) > 1 else truth[0])
    if op == "xor":
        node: ast.expr = ast.Constant(0.0)
        for a in args:
            truth = _as_float(ast.Compare(a, [ast.NotEq()], [ast.Constant(0.0)]))
            node = ast.BinOp(node, ast.Add(), truth)
        return _math_call("fmod", node, ast.Constant(2.0))
    if op == "not":
        return _as_float(ast.Compare(args[0], [ast.Eq()], [ast.Constant(0.0)]))
    if op == "piecewise":
        pieces = list(args)
        otherwise = pieces.pop() if len(pieces) % 2 == 1 else ast.Constant(math.nan)
        node = otherwise
        for i in range(len(pieces) - 2, -1, -2):
            test = ast.Compare(pieces[i + 1], [ast.NotEq()], [ast.Constant(0.0)])
            node = ast.IfExp(test, pieces[i], node)
        return node
    if op in ("min", "max"):
        if not args:  # the empty min/max: the operation's identity element
            return ast.Constant(math.inf if op == "min" else -math.inf)
        node = args[0]
        for a in args[1:]:
            cmp = ast.Lt() if op == "min" else ast.Gt()
            node = ast.IfExp(ast.Compare(a, [cmp], [node]), a, node)
        return node
    if op == "rem":
        return _math_call("fmod", *args)
    if op == "quotient":
        return _math_call("trunc", ast.BinOp(args[0], ast.Div(), args[1]))
    raise UnsupportedFeature(f"math operator '{op}' cannot be evaluated", feature=op)


def _balanced(args: list, operator) -> ast.expr:
    """``a0 op a1 op ...`` as a balanced tree: depth log2(n), so a flat sum of thousands
    of terms does not exhaust the compiler's recursion limit."""
    while len(args) > 1:
        paired = [ast.BinOp(args[i], operator(), args[i + 1]) for i in range(0, len(args) - 1, 2)]
        if len(args) % 2:
            paired.append(args[-1])
        args = paired
    return args[0]


def _as_float(test: ast.expr) -> ast.expr:
    return ast.IfExp(test, ast.Constant(1.0), ast.Constant(0.0))


def compile_vector(exprs: Iterable[Expr], slots: Mapping[str, Slot],
                   name: str = "generated", delay: Callable | None = None,
                   delayed: list | None = None) -> Callable:
    """Compile trees into ``f(x, p, t, out)`` that writes ``out[k] = exprs[k]``.

    The function body is assembled from :mod:`ast` nodes; the only free names are ``x``,
    ``p``, ``t``, ``out`` and ``math`` (and ``_delay`` when ``delay`` is given). It
    returns ``out``. Plain Python floats and numpy scalars both work; numba can jit the
    result as well.

    ``delay(k, x, p, t, tau)`` must return the value at time ``t - tau`` of the ``k``-th delayed
    tree; the delayed trees are appended, in numbering order, to the list ``delayed``
    (pass the same list to several calls to share the numbering). Without ``delay`` a
    tree containing ``delay()`` raises :class:`UnsupportedFeature`.
    """
    if delay is not None and delayed is None:
        delayed = []
    body: list[ast.stmt] = []
    for k, expr in enumerate(exprs):
        target = ast.Subscript(ast.Name("out", ast.Load()), ast.Constant(k), ast.Store())
        body.append(ast.Assign([target], _to_pyast(expr, slots,
                                                   delayed if delay is not None else None)))
    body.append(ast.Return(ast.Name("out", ast.Load())))
    args = ast.arguments(posonlyargs=[], args=[ast.arg(a) for a in ("x", "p", "t", "out")],
                         kwonlyargs=[], kw_defaults=[], defaults=[])
    func = ast.FunctionDef(name="_generated", args=args, body=body, decorator_list=[],
                           returns=None, type_params=[])
    module = ast.fix_missing_locations(ast.Module(body=[func], type_ignores=[]))
    namespace: dict = {"math": math}
    if delay is not None:
        namespace["_delay"] = delay
    exec(compile(module, f"<sbmlnoise:{name}>", "exec"), namespace)  # noqa: S102 - AST built here
    return namespace["_generated"]


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
    try:
        return float(func(p, p, float(values.get(TIME, 0.0)), out)[0])
    except ZeroDivisionError:
        return math.nan
    except (OverflowError, ValueError):
        return math.nan


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
    a = expr.args
    op = expr.op
    if op == "+":
        return add(*(diff(x, name) for x in a))
    if op == "*":
        terms = []
        for i, x in enumerate(a):
            dx = diff(x, name)
            if dx != ZERO:
                terms.append(mul(*a[:i], dx, *a[i + 1:]))
        return add(*terms) if terms else ZERO
    if op == "-":
        return sub(diff(a[0], name), diff(a[1], name))
    if op == "neg":
        return neg(diff(a[0], name))
    if op == "/":
        u, v = a
        du, dv = diff(u, name), diff(v, name)
        return sub(div(du, v), div(mul(u, dv), power(v, Num(2.0))))
    if op == "^":
        u, v = a
        du, dv = diff(u, name), diff(v, name)
        term1 = mul(v, power(u, sub(v, ONE)), du) if du != ZERO else ZERO
        term2 = mul(expr, Apply("ln", (u,)), dv) if dv != ZERO else ZERO
        return add(term1, term2)
    if op == "exp":
        return mul(expr, diff(a[0], name))
    if op == "ln":
        return div(diff(a[0], name), a[0])
    if op == "log10":
        return div(diff(a[0], name), mul(a[0], Num(math.log(10.0))))
    if op == "log":
        return diff(div(Apply("ln", (a[1],)), Apply("ln", (a[0],))), name)
    if op == "sqrt":
        return div(diff(a[0], name), mul(Num(2.0), expr))
    if op == "root":
        return diff(power(a[1], div(ONE, a[0])), name)
    if op == "abs":
        sign = Apply("piecewise", (Num(1.0), Apply("geq", (a[0], ZERO)), Num(-1.0)))
        return mul(sign, diff(a[0], name))
    if op == "sin":
        return mul(Apply("cos", a), diff(a[0], name))
    if op == "cos":
        return neg(mul(Apply("sin", a), diff(a[0], name)))
    if op == "tanh":
        return mul(sub(ONE, power(expr, Num(2.0))), diff(a[0], name))
    if op == "piecewise":
        pieces = list(a)
        new = []
        for i, piece in enumerate(pieces):
            is_value = (i % 2 == 0)
            new.append(diff(piece, name) if is_value else piece)
        return Apply("piecewise", tuple(new))
    if op in ("min", "max"):
        if not a:
            return ZERO
        # piecewise form: derivative of the selected argument
        chosen = a[0]
        for x in a[1:]:
            test = Apply("lt" if op == "min" else "gt", (x, chosen))
            chosen = Apply("piecewise", (x, test, chosen))
        return diff(chosen, name)
    if op in _COMPARE or op in ("and", "or", "xor", "not", "floor", "ceil", "rem", "quotient"):
        return ZERO
    raise UnsupportedFeature(f"no derivative rule for math operator '{op}'", feature=op)


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
        args = [conv(x) for x in node.args]
        op = node.op
        simple = {"exp": sp.exp, "ln": sp.log, "sqrt": sp.sqrt, "abs": sp.Abs,
                  "floor": sp.floor, "ceil": sp.ceiling, "factorial": sp.factorial,
                  "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin,
                  "acos": sp.acos, "atan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh,
                  "tanh": sp.tanh, "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh,
                  "sec": sp.sec, "csc": sp.csc, "cot": sp.cot}
        if op == "+":
            return sp.Add(*args)
        if op == "*":
            return sp.Mul(*args)
        if op == "-":
            return args[0] - args[1]
        if op == "/":
            return args[0] / args[1]
        if op == "^":
            return args[0] ** args[1]
        if op == "neg":
            return -args[0]
        if op in simple:
            return simple[op](*args)
        if op == "log10":
            return sp.log(args[0], 10)
        if op == "log":
            return sp.log(args[1], args[0])
        if op == "root":
            return args[1] ** (1 / args[0])
        rel = {"lt": sp.Lt, "leq": sp.Le, "gt": sp.Gt, "geq": sp.Ge, "eq": sp.Eq, "neq": sp.Ne}
        if op in rel:
            return rel[op](*args)
        if op == "and":
            return sp.And(*args)
        if op == "or":
            return sp.Or(*args)
        if op == "not":
            return sp.Not(args[0])
        if op == "xor":
            return sp.Xor(*args)
        if op == "min":
            return sp.Min(*args)
        if op == "max":
            return sp.Max(*args)
        if op == "piecewise":
            pieces = []
            for i in range(0, len(args) - 1, 2):
                pieces.append((args[i], args[i + 1]))
            if len(args) % 2 == 1:
                pieces.append((args[-1], True))
            return sp.Piecewise(*pieces)
        raise UnsupportedFeature(f"math operator '{op}' has no sympy form", feature=op)

    return conv(expr)
