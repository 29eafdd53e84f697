"""Expression trees -> bytecode for a cached stack-machine interpreter.

Non-mass-action propensities, event triggers and event assignments are evaluated by one
numba kernel, :func:`_eval`, that is compiled once (``cache=True``) and reused for every
model: a model only contributes *data* (an ``int64`` code array and a ``float64`` constant
pool), never source code, so there is no per-model compilation latency.

Code layout: pairs ``(opcode, argument)`` in a flat ``int64`` array. Program ``k`` of a
model is ``code[2*ptr[k]:2*ptr[k+1]]``. The argument of ``OP_UN`` and ``OP_BIN`` is the
operator's ``opcode`` in :data:`sbmlnoise.expr.OPERATOR_TABLE` (n-ary operators emit one
``OP_BIN`` per step of :func:`sbmlnoise.expr.fold`); :func:`_unary` and :func:`_binary`
hold one branch per opcode (``tests/test_operators.py`` checks that every opcode of the
table has its branch and computes the table's ``scalar`` function). Values follow SBML:
relations yield 1.0/0.0 and any non-zero value counts as true; numbers follow C99
(``error_model="numpy"``: 1/0 = inf, log(-1) = NaN).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numba import njit

from .. import expr as ex
from ..errors import ModelError, UnsupportedFeature

# opcodes
OP_CONST, OP_X, OP_P, OP_T, OP_BIN, OP_UN, OP_SELECT = 0, 1, 2, 3, 4, 5, 6


class ProgramBuilder:
    """Accumulates compiled programs of one model.

    ``slots`` maps a symbol to ``("x", i)`` (a state count) or ``("p", j)`` (a parameter).
    """

    def __init__(self, slots):
        self.slots = slots
        self.code: list[int] = []
        self.consts: list[float] = []
        self.ptr: list[int] = [0]
        self.max_stack = 1

    def add(self, tree: ex.Expr | None) -> int:
        """Append one program (``None`` gives an empty program); returns its number."""
        if tree is not None:
            depth = self._emit(tree, 0)
            self.max_stack = max(self.max_stack, depth)
        self.ptr.append(len(self.code) // 2)
        return len(self.ptr) - 2

    def arrays(self):
        code = np.array(self.code if self.code else [0, 0], dtype=np.int64)
        consts = np.array(self.consts if self.consts else [0.0], dtype=np.float64)
        return code, consts, np.array(self.ptr, dtype=np.int64), int(self.max_stack) + 2

    # each _emit returns the maximal stack height reached, given `height` on entry
    def _push(self, op: int, arg: int) -> None:
        self.code.extend((op, arg))

    def _emit(self, node, height: int) -> int:
        if isinstance(node, ex.Num):
            self.consts.append(float(node.value))
            self._push(OP_CONST, len(self.consts) - 1)
            return height + 1
        if isinstance(node, ex.Sym):
            if node.name == ex.TIME:
                self._push(OP_T, 0)
                return height + 1
            if node.name not in self.slots:
                raise ModelError(f"identifier '{node.name}' is used in math but not defined")
            array, index = self.slots[node.name]
            self._push(OP_X if array == "x" else OP_P, int(index))
            return height + 1
        op = ex.OPERATOR_TABLE[node.op]
        args = node.args
        if op.kind == "piecewise":
            pieces = list(args)
            otherwise = pieces.pop() if len(pieces) % 2 == 1 else ex.Num(math.nan)
            return self._emit_piecewise(pieces, otherwise, height)
        if op.opcode is None:
            raise UnsupportedFeature(f"ssa: math operator '{op.name}' cannot be evaluated",
                                     feature=op.name)
        if op.kind == "unary":
            best = self._emit(args[0], height)
            self._push(OP_UN, op.opcode)
            return best
        if op.kind == "binary":
            return self._step(op.opcode, self._leaf(args[0]), self._leaf(args[1]))(height)
        # n-ary: the association order of ex.fold, each step one OP_BIN
        opcode = op.opcode
        leaves = [self._leaf(a) for a in args]
        identity = self._leaf(ex.Num(float(op.identity if op.identity is not None else 0.0)))
        return ex.fold(leaves, lambda a, b: self._step(opcode, a, b), identity)(height)

    def _leaf(self, tree) -> Callable[[int], int]:
        """Deferred emission of ``tree``: ``emit(height) -> max height``."""
        return lambda height: self._emit(tree, height)

    def _step(self, opcode: int, left, right) -> Callable[[int], int]:
        def emit(height: int) -> int:
            best = left(height)
            best = max(best, right(height + 1))
            self._push(OP_BIN, opcode)
            return best

        return emit

    def _emit_piecewise(self, pieces, otherwise, height: int) -> int:
        if not pieces:
            return self._emit(otherwise, height)
        best = self._emit(pieces[0], height)
        best = max(best, self._emit(pieces[1], height + 1))
        best = max(best, self._emit_piecewise(pieces[2:], otherwise, height + 2))
        self._push(OP_SELECT, 0)
        return best


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _arith(f, a, b):
    """Opcodes 0-4 and 14-19 of OP_BIN (see ``OPERATOR_TABLE``)."""
    if f == 0:  # +
        return a + b
    if f == 1:  # -
        return a - b
    if f == 2:  # *
        return a * b
    if f == 3:  # /
        return a / b
    if f == 4:  # ^
        if b == 2.0:
            return a * a
        if b == 1.0:
            return a
        return a ** b
    if f == 14:  # min (NaN if either is NaN)
        if a != a or b != b:
            return math.nan
        return a if a < b else b
    if f == 15:  # max
        if a != a or b != b:
            return math.nan
        return a if a > b else b
    if f == 16:  # rem: C fmod
        return np.fmod(a, b)
    if f == 17:  # quotient: trunc(a / b)
        return np.trunc(a / b)
    if f == 18:  # log(base a, x b)
        return math.log(b) / math.log(a)
    if f == 19:  # root(degree a, x b)
        return b ** (1.0 / a)
    return math.nan


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _binary(f, a, b):
    """Binary opcodes: relations and logic here, arithmetic in :func:`_arith`."""
    if f < 5 or f > 13:
        return _arith(f, a, b)
    if f == 5:  # lt
        return 1.0 if a < b else 0.0
    if f == 6:  # leq
        return 1.0 if a <= b else 0.0
    if f == 7:  # gt
        return 1.0 if a > b else 0.0
    if f == 8:  # geq
        return 1.0 if a >= b else 0.0
    if f == 9:  # eq
        return 1.0 if a == b else 0.0
    if f == 10:  # neq
        return 1.0 if a != b else 0.0
    if f == 11:  # and
        return 1.0 if (a != 0.0 and b != 0.0) else 0.0
    if f == 12:  # or
        return 1.0 if (a != 0.0 or b != 0.0) else 0.0
    return 1.0 if ((a != 0.0) != (b != 0.0)) else 0.0  # 13: xor


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _elementary(f, a):
    """Unary opcodes 0-21 (see ``OPERATOR_TABLE``)."""
    if f == 0:  # neg
        return -a
    if f == 1:  # not
        return 1.0 if a == 0.0 else 0.0
    if f == 2:
        return math.exp(a)
    if f == 3:  # ln
        return math.log(a)
    if f == 4:
        return math.log10(a)
    if f == 5:
        return math.sqrt(a)
    if f == 6:
        return abs(a)
    if f == 7:
        return np.floor(a)
    if f == 8:  # ceil
        return np.ceil(a)
    if f == 9:  # factorial: gamma(x + 1)
        return math.gamma(a + 1.0)
    if f == 10:
        return math.sin(a)
    if f == 11:
        return math.cos(a)
    if f == 12:
        return math.tan(a)
    if f == 13:
        return math.asin(a)
    if f == 14:
        return math.acos(a)
    if f == 15:
        return math.atan(a)
    if f == 16:
        return math.sinh(a)
    if f == 17:
        return math.cosh(a)
    if f == 18:
        return math.tanh(a)
    if f == 19:
        return math.asinh(a)
    if f == 20:
        return math.acosh(a)
    if f == 21:
        return math.atanh(a)
    return math.nan


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _unary(f, a):
    """Unary opcodes: the reciprocal functions here, the rest in :func:`_elementary`."""
    if f < 22:
        return _elementary(f, a)
    if f == 22:  # sec
        return 1.0 / math.cos(a)
    if f == 23:  # csc
        return 1.0 / math.sin(a)
    if f == 24:  # cot
        return 1.0 / math.tan(a)
    if f == 25:  # sech
        return 1.0 / math.cosh(a)
    if f == 26:  # csch
        return 1.0 / math.sinh(a)
    if f == 27:  # coth
        return 1.0 / math.tanh(a)
    if f == 28:  # arcsec
        return math.acos(1.0 / a)
    if f == 29:  # arccsc
        return math.asin(1.0 / a)
    if f == 30:  # arccot
        return math.atan(1.0 / a)
    if f == 31:  # arcsech
        return math.acosh(1.0 / a)
    if f == 32:  # arccsch
        return math.asinh(1.0 / a)
    if f == 33:  # arccoth
        return math.atanh(1.0 / a)
    return math.nan


@njit(cache=True, nogil=True, error_model="numpy")
def _eval(code, consts, ptr, k, x, p, t, stack):
    """Evaluate program ``k`` at counts ``x`` (float64, (n_species,)), parameters ``p``
    and time ``t``; ``stack`` is scratch float64 of the builder's ``max_stack``.

    The operators are dispatched by group into :func:`_binary` and :func:`_unary`, which
    numba inlines into this loop (``inline="always"``: no call per operation).
    """
    sp = 0
    i = 2 * ptr[k]
    stop = 2 * ptr[k + 1]
    while i < stop:
        op = code[i]
        f = code[i + 1]
        i += 2
        if op == 0:
            stack[sp] = consts[f]
            sp += 1
        elif op == 1:
            stack[sp] = x[f]
            sp += 1
        elif op == 2:
            stack[sp] = p[f]
            sp += 1
        elif op == 3:
            stack[sp] = t
            sp += 1
        elif op == 4:
            sp -= 1
            stack[sp - 1] = _binary(f, stack[sp - 1], stack[sp])
        elif op == 5:
            stack[sp - 1] = _unary(f, stack[sp - 1])
        else:  # select: value, condition, otherwise
            sp -= 2
            if stack[sp] == 0.0:
                stack[sp - 1] = stack[sp + 1]
    if sp == 0:
        return 0.0
    return stack[0]
