"""One operator table, four evaluators (issue 11): every evaluator derived from
``sbmlnoise.expr.OPERATOR_TABLE`` must compute the same numbers.

The evaluators: ``expr.compile_vector`` (Python floats), ``fsp._space.evaluate_array``
(numpy arrays), the SSA bytecode interpreter ``ssa._program._eval`` (numba) and the
importer's MathML translation (a tree written as MathML, read by libsbml and translated
back, then compiled). The reference is an independent recursive evaluation with the
table's ``scalar`` column; the expected values of the per-operator tests are the closed
forms of :mod:`math` (C99 libm), not our output.

Tolerance: ``|a - b| <= 1e-12 * S`` where ``S`` is the largest finite absolute value of
any sub-expression at that point (numpy's vectorised exp/log/sinh... differ from libm by
one unit in the last place, and a difference of large terms carries that error); NaN and
infinities must agree exactly. Examples whose value hinges on a discontinuity closer than
``1e-9`` relative (a comparison of nearly equal numbers, ``floor`` of a value next to an
integer) are discarded with ``assume``, since one ulp decides them.
Default run: 150 random expressions, 3 points each (``derandomize``: the same examples
every run, ~6 s); the ``slow`` run: 3,000 fresh ones (~60 s).
"""

from __future__ import annotations

import math

import libsbml
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sbmlnoise import expr as ex
from sbmlnoise.fsp._space import evaluate_array
from sbmlnoise.importer._sbml import _ast_to_expr
from sbmlnoise.ssa._program import OP_BIN, OP_UN, ProgramBuilder, _eval

TABLE = ex.OPERATOR_TABLE
SLOTS = {"x0": ("x", 0), "x1": ("x", 1), "p0": ("p", 0), "p1": ("p", 1)}
NAMES = ("x0", "x1", "p0", "p1")
EVALUATED = [op for op in TABLE.values() if op.kind != "delay"]
_ZERO_RULE = TABLE["lt"].derivative  # relations and logic: booleans in sympy
#: a point inside each domain tag, and a guard that maps any tree into the domain
SAMPLE = {"real": (-2.3, -0.4, 0.0, 0.7, 3.1), "positive": (0.3, 1.0, 2.5, 7.0),
          "nonneg": (0.0, 0.3, 2.5), "nonzero": (-2.2, -0.3, 0.6, 4.0),
          "unit": (-0.9, 0.0, 0.45), "open_unit": (-0.8, 0.1, 0.6), "ge1": (1.0, 1.7, 9.0),
          "gt1": (-3.5, 1.3, 8.0), "unit_pos": (0.2, 0.7, 1.0), "base": (0.4, 2.0, 10.0),
          "gt_m1": (-0.5, 0.0, 3.0, 6.0)}


def _abs_plus(e, c):
    return ex.Apply("+", (ex.Apply("abs", (e,)), ex.Num(c)))


GUARD = {
    "real": lambda e: e,
    "positive": lambda e: _abs_plus(e, 0.25),
    "nonneg": lambda e: _abs_plus(e, 0.25),
    "nonzero": lambda e: _abs_plus(e, 0.25),
    "unit": lambda e: ex.Apply("*", (ex.Num(0.9), ex.Apply("tanh", (e,)))),
    "open_unit": lambda e: ex.Apply("*", (ex.Num(0.9), ex.Apply("tanh", (e,)))),
    "ge1": lambda e: _abs_plus(e, 1.25),
    "gt1": lambda e: _abs_plus(e, 1.25),
    "unit_pos": lambda e: ex.Apply("/", (ex.ONE, _abs_plus(e, 1.25))),
    "base": lambda e: _abs_plus(e, 1.5),
    "gt_m1": lambda e: ex.Apply("abs", (e,)),
}


# =========================================================================== the table
def test_table_is_complete_and_consistent():
    groups: dict[str, set[int]] = {"unary": set(), "binary": set()}
    for op in TABLE.values():
        assert op.kind in ("unary", "binary", "nary", "piecewise", "delay"), op.name
        assert all(tag in GUARD for tag in op.domain), op.name
        if op.kind in ("unary", "binary", "nary"):
            assert op.scalar is not None and op.numpy is not None and op.opcode is not None
            group = "unary" if op.kind == "unary" else "binary"
            assert op.opcode not in groups[group], f"opcode of {op.name} used twice"
            groups[group].add(op.opcode)
            assert op.arity == {"unary": 1, "binary": 2, "nary": None}[op.kind]
        if op.kind == "nary":
            assert op.identity is not None
    assert ex.OPERATORS == {name: op.arity for name, op in TABLE.items()}
    # the importer reads every MathML element of the table through the table
    from sbmlnoise.importer import _sbml

    assert _sbml._NAMED_FUNCS is ex.MATHML_NAMES
    for name in ("arcsin", "ceiling", "power", "rem", "quotient", "arccoth", "xor"):
        assert name in ex.MATHML_NAMES


def _ssa_value(tree, x, p, t=0.0):
    b = ProgramBuilder(SLOTS)
    b.add(tree)
    code, consts, ptr, max_stack = b.arrays()
    return _eval(code, consts, ptr, 0, np.asarray(x, float), np.asarray(p, float), float(t),
                 np.zeros(max_stack))


def _close(a, b, scale):
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return abs(a - b) <= 1e-12 * max(scale, abs(a), abs(b), 1e-300)


@pytest.mark.parametrize("op", [op for op in EVALUATED if op.opcode is not None],
                         ids=lambda op: op.name)
def test_every_opcode_has_its_numba_branch(op):
    """Each opcode of the table reaches a branch of the interpreter that computes the
    operator (a missing branch falls through to NaN), at points inside the domain
    compared with the closed form of ``scalar`` (C99 libm, like numba)."""
    tags = [op.domain_of(i) for i in range(op.arity or 2)]
    grids = np.meshgrid(*[SAMPLE[t] for t in tags])
    points = np.stack([g.ravel() for g in grids], axis=1)
    syms = tuple(ex.Sym(n) for n in ("x0", "x1")[:points.shape[1]])
    tree = ex.Apply(op.name, syms)
    for row in points:
        expected = op.scalar(*row) if op.kind != "nary" else ex.fold(list(row), op.scalar,
                                                                     op.identity)
        got = _ssa_value(tree, list(row) + [0.0] * (2 - row.size), [0.0, 0.0])
        assert not math.isnan(got) or math.isnan(expected), (op.name, row)
        assert _close(got, expected, 0.0), (op.name, row, got, expected)


def test_an_unknown_opcode_falls_through_to_nan():
    """The check above is meaningful: an opcode without a branch gives NaN."""
    code = np.array([0, 0, OP_UN, 99, 0, 0, 0, 0, OP_BIN, 99], dtype=np.int64)
    ptr = np.array([0, 2, 5], dtype=np.int64)
    consts = np.array([1.5])
    assert math.isnan(_eval(code, consts, ptr, 0, np.zeros(1), np.zeros(1), 0.0, np.zeros(4)))
    assert math.isnan(_eval(code, consts, ptr, 1, np.zeros(1), np.zeros(1), 0.0, np.zeros(4)))


@pytest.mark.parametrize("name, args, expected", [
    ("/", (1.0, 0.0), math.inf), ("/", (-1.0, 0.0), -math.inf), ("/", (0.0, 0.0), math.nan),
    ("ln", (0.0,), -math.inf), ("ln", (-1.0,), math.nan), ("sqrt", (-1.0,), math.nan),
    ("^", (-8.0, 1 / 3), math.nan), ("^", (0.0, -1.0), math.inf), ("^", (-2.0, 3.0), -8.0),
    ("exp", (1000.0,), math.inf), ("cosh", (1000.0,), math.inf),
    ("factorial", (-1.0,), math.inf), ("factorial", (4.0,), 24.0),
    ("asin", (2.0,), math.nan), ("acosh", (0.5,), math.nan), ("atanh", (1.0,), math.inf),
    ("floor", (math.inf,), math.inf), ("floor", (-2.5,), -3.0), ("ceil", (-2.5,), -2.0),
    ("rem", (-7.0, 3.0), -1.0), ("rem", (1.0, 0.0), math.nan), ("quotient", (-7.0, 2.0), -3.0),
    ("quotient", (1.0, 0.0), math.inf), ("arccot", (0.0,), math.pi / 2),
    ("csc", (0.0,), math.inf), ("min", (1.0, math.nan), math.nan),
    ("max", (math.nan, 1.0), math.nan), ("log", (2.0, 8.0), 3.0), ("root", (3.0, 27.0), 3.0),
    ("and", (math.nan, 2.0), 1.0), ("not", (math.nan,), 0.0), ("xor", (1.0, 3.0), 0.0),
])
def test_c99_values_in_every_evaluator(name, args, expected):
    """Poles, domain errors and overflow give the C99 value (numpy, numba), never an
    exception, in every evaluator. The expected values are C99's (Annex F)."""
    syms = tuple(ex.Sym(n) for n in ("x0", "x1")[:len(args)])
    tree = ex.Apply(name, syms)
    x = list(args) + [0.0] * (2 - len(args))
    env = dict(zip(("x0", "x1"), x))
    values = {
        "scalar": TABLE[name].scalar(*args) if TABLE[name].kind != "nary" else
        ex.fold(list(args), TABLE[name].scalar, TABLE[name].identity),
        "evaluate": ex.evaluate(tree, env),
        "compile_vector": ex.compile_vector([tree], SLOTS)(x, [0.0, 0.0], 0.0, [0.0])[0],
        "numpy": float(_numpy_value(tree, env)),
        "ssa": _ssa_value(tree, x, [0.0, 0.0]),
    }
    for which, value in values.items():
        assert _close(value, expected, 0.0), (which, value, expected)


def _numpy_value(tree, env):
    with np.errstate(all="ignore"):
        return evaluate_array(tree, {k: np.array([v]) for k, v in env.items()})[0]


def test_nary_folds_empty_and_single_arguments():
    x = ex.Sym("x0")
    cases = [("+", (), 0.0), ("*", (), 1.0), ("and", (), 1.0), ("or", (), 0.0),
             ("min", (), math.inf), ("max", (), -math.inf), ("and", (x,), 1.0),
             ("or", (x,), 1.0), ("xor", (x, x, x), 1.0), ("min", (x,), 2.5)]
    for name, args, expected in cases:
        tree = ex.Apply(name, args)
        assert ex.evaluate(tree, {"x0": 2.5}) == expected, name
        assert _ssa_value(tree, [2.5, 0.0], [0.0, 0.0]) == expected, name
        arr = evaluate_array(tree, {"x0": np.array([2.5])})
        assert np.all(np.asarray(arr) == expected), name


# =========================================================================== derivatives
@pytest.mark.parametrize("op", [op for op in EVALUATED if op.derivative is not None
                                and op.kind in ("unary", "binary")], ids=lambda op: op.name)
def test_derivative_rules_match_central_differences(op):
    """``diff`` of each rule against a central difference (step 1e-6 relative, rtol 1e-6)
    inside the domain, away from the points where the function jumps."""
    if op.name in ("floor", "ceil", "rem", "quotient") or op.name in (
            "lt", "leq", "gt", "geq", "eq", "neq"):
        pytest.skip("piecewise constant: the rule is zero")
    names = ("x0", "x1")[:op.arity]
    tree = ex.Apply(op.name, tuple(ex.Sym(n) for n in names))
    tags = [op.domain_of(i) for i in range(op.arity)]
    for row in np.stack([g.ravel() for g in np.meshgrid(*[SAMPLE[t] for t in tags])], 1):
        env = dict(zip(names, row.tolist()))
        if op.name == "abs" and env["x0"] == 0.0:
            continue
        if any(tag in ("unit", "open_unit", "unit_pos", "ge1", "gt_m1", "nonneg")
               and abs(abs(env[n]) - 1.0) < 1e-9 or (tag == "nonneg" and env[n] == 0.0)
               for n, tag in zip(names, tags)):
            continue  # on the boundary of the domain
        for n in names:
            h = 1e-6 * max(1.0, abs(env[n]))
            up, down = dict(env, **{n: env[n] + h}), dict(env, **{n: env[n] - h})
            fd = (ex.evaluate(tree, up) - ex.evaluate(tree, down)) / (2 * h)
            exact = ex.evaluate(ex.diff(tree, n), env)
            assert exact == pytest.approx(fd, rel=1e-6, abs=1e-6), (op.name, env, n)


@pytest.mark.parametrize("op", [op for op in EVALUATED if op.sympy is not None
                                and op.kind in ("unary", "binary")
                                and op.derivative is not _ZERO_RULE or op.name in (
                                    "floor", "ceil", "rem", "quotient")],
                         ids=lambda op: op.name)
def test_sympy_column_evaluates_equal(op):
    sp = pytest.importorskip("sympy")
    names = ("x0", "x1")[:op.arity]
    tree = ex.Apply(op.name, tuple(ex.Sym(n) for n in names))
    row = [SAMPLE[op.domain_of(i)][1] for i in range(op.arity)]
    symbols = {n: sp.Symbol(n, real=True) for n in names}
    value = ex.to_sympy(tree, symbols).subs({symbols[n]: v for n, v in zip(names, row)})
    if op.name == "quotient":  # sympy's floor(a/b) equals trunc(a/b) for a/b >= 0 only
        row = [abs(v) for v in row]
        value = ex.to_sympy(tree, symbols).subs({symbols[n]: v for n, v in zip(names, row)})
    assert float(sp.N(value)) == pytest.approx(ex.evaluate(tree, dict(zip(names, row))),
                                               rel=1e-12, abs=1e-15)


# =========================================================================== random trees
_GEN_OPS = sorted(op.name for op in EVALUATED)


@st.composite
def _trees(draw, depth: int = 3):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            return ex.Sym(draw(st.sampled_from(NAMES + (ex.TIME,))))
        value = draw(st.floats(0.1, 4.0) | st.sampled_from([0.5, 1.0, 2.0, 3.0]))
        return ex.Num(value if draw(st.booleans()) else -value)
    op = TABLE[draw(st.sampled_from(_GEN_OPS))]
    if op.kind == "piecewise":
        n = draw(st.integers(1, 2))
        args = []
        for _ in range(n):
            args.append(draw(_trees(depth - 1)))
            args.append(ex.Apply(draw(st.sampled_from(["lt", "geq", "neq"])),
                                 (draw(_trees(depth - 1)), draw(_trees(depth - 1)))))
        if draw(st.booleans()):
            args.append(draw(_trees(depth - 1)))
        return ex.Apply("piecewise", tuple(args))
    n = op.arity if op.arity is not None else draw(st.integers(1, 3))
    args = tuple(GUARD[op.domain_of(i)](draw(_trees(depth - 1))) for i in range(n))
    return ex.Apply(op.name, args)


def _reference(tree, env, report):
    """Independent recursive evaluation with the table's ``scalar`` column; records the
    largest finite magnitude (``report["S"]``) and whether a discontinuity is within
    1e-9 relative (``report["ill"]``)."""
    if isinstance(tree, ex.Num):
        v = tree.value
    elif isinstance(tree, ex.Sym):
        v = env[tree.name]
    else:
        op = TABLE[tree.op]
        if op.kind == "piecewise":
            args = list(tree.args)
            other = _reference(args.pop(), env, report) if len(args) % 2 else math.nan
            v = other
            for i in range(len(args) - 2, -1, -2):
                cond = _reference(args[i + 1], env, report)
                _truth_margin(cond, report)
                value = _reference(args[i], env, report)
                v = value if cond != 0.0 else v
        else:
            vals = [_reference(a, env, report) for a in tree.args]
            _margins(op, vals, report)
            v = (ex.fold(vals, op.scalar, op.identity) if op.kind == "nary"
                 else op.scalar(*vals))
    if math.isfinite(v):
        report["S"] = max(report["S"], abs(v))
        if abs(v) > 1e300:
            report["ill"] = True
    return float(v)


def _truth_margin(value, report):
    if value != 0.0 and abs(value) < 1e-9 * max(report["S"], 1.0):
        report["ill"] = True


def _margins(op, vals, report):
    if op.name in ("lt", "leq", "gt", "geq", "eq", "neq"):
        a, b = vals
        if a != b and abs(a - b) <= 1e-9 * max(abs(a), abs(b), report["S"], 1.0):
            report["ill"] = True
    elif op.name in ("floor", "ceil") or op.name in ("rem", "quotient"):
        q = vals[0] / vals[1] if len(vals) == 2 and vals[1] != 0 else vals[0]
        if math.isfinite(q) and q != round(q) and abs(q - round(q)) < 1e-9 * max(1.0, abs(q)):
            report["ill"] = True
    elif op.name in ("and", "or", "xor", "not"):
        for v in vals:
            _truth_margin(v, report)


def _to_mathml(tree) -> str:
    """Content MathML of a tree, element names from the table's ``mathml`` column."""
    if isinstance(tree, ex.Num):
        return f"<cn>{tree.value!r}</cn>"
    if isinstance(tree, ex.Sym):
        if tree.name == ex.TIME:
            return ('<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/'
                    'symbols/time">t</csymbol>')
        return f"<ci>{tree.name}</ci>"
    args = [_to_mathml(a) for a in tree.args]
    name = tree.op
    if name == "neg":
        return f"<apply><minus/>{args[0]}</apply>"
    if name == "log10":
        return f"<apply><log/>{args[0]}</apply>"
    if name == "sqrt":
        return f"<apply><root/>{args[0]}</apply>"
    if name == "log":
        return f"<apply><log/><logbase>{args[0]}</logbase>{args[1]}</apply>"
    if name == "root":
        return f"<apply><root/><degree>{args[0]}</degree>{args[1]}</apply>"
    if name == "piecewise":
        pieces = "".join(f"<piece>{args[i]}{args[i + 1]}</piece>"
                         for i in range(0, len(args) - 1, 2))
        other = f"<otherwise>{args[-1]}</otherwise>" if len(args) % 2 else ""
        return f"<piecewise>{pieces}{other}</piecewise>"
    return f"<apply><{TABLE[name].mathml[0]}/>{''.join(args)}</apply>"


def _from_mathml(tree):
    xml = f'<math xmlns="http://www.w3.org/1998/Math/MathML">{_to_mathml(tree)}</math>'
    node = libsbml.readMathMLFromString(xml)
    assert node is not None, xml
    return _ast_to_expr(node, {}, {}, "test")


def _check_agreement(tree, points, t):
    """The four evaluators against the reference at each point."""
    func = ex.compile_vector([tree], SLOTS, "operators")
    back = ex.compile_vector([_from_mathml(tree)], SLOTS, "operators_mathml")
    env_arrays = {n: np.array([pt[i] for pt in points]) for i, n in enumerate(NAMES)}
    with np.errstate(all="ignore"):
        arr = np.broadcast_to(np.asarray(evaluate_array(tree, env_arrays, t), float),
                              (len(points),))
    for k, pt in enumerate(points):
        env = dict(zip(NAMES, pt), **{ex.TIME: t})
        report = {"S": 0.0, "ill": False}
        ref = _reference(tree, env, report)
        assume(not report["ill"])
        got = {
            "compile_vector": func(pt[:2], pt[2:], t, [0.0])[0],
            "evaluate": ex.evaluate(tree, env),
            "numpy": arr[k],
            "ssa": _ssa_value(tree, pt[:2], pt[2:], t),
            "mathml": back(pt[:2], pt[2:], t, [0.0])[0],
        }
        for which, value in got.items():
            assert _close(value, ref, report["S"]), (which, value, ref, tree, env)


_FLOATS = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
_POINTS = st.lists(st.tuples(_FLOATS, _FLOATS, _FLOATS, _FLOATS), min_size=3, max_size=3)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(tree=_trees(), points=_POINTS, t=_FLOATS)
def test_all_evaluators_agree_on_random_expressions(tree, points, t):
    _check_agreement(tree, points, t)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(tree=_trees(4), points=_POINTS, t=_FLOATS)
def test_all_evaluators_agree_on_random_expressions_long(tree, points, t):
    _check_agreement(tree, points, t)
