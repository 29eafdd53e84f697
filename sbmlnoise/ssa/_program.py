"""Expression trees -> bytecode for a cached stack-machine interpreter.

Non-mass-action propensities, event triggers and event assignments are evaluated by one
numba kernel, :func:`_eval`, that is compiled once (``cache=True``) and reused for every
model: a model only contributes *data* (an ``int64`` code array and a ``float64`` constant
pool), never source code, so there is no per-model compilation latency.

Code layout: pairs ``(opcode, argument)`` in a flat ``int64`` array. Program ``k`` of a
model is ``code[2*ptr[k]:2*ptr[k+1]]``. Values follow SBML: relations yield 1.0/0.0 and
any non-zero value counts as true.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .. import expr as ex
from ..errors import ModelError, UnsupportedFeature

# opcodes
OP_CONST, OP_X, OP_P, OP_T, OP_BIN, OP_UN, OP_SELECT = 0, 1, 2, 3, 4, 5, 6

# binary operators (argument of OP_BIN)
B_ADD, B_SUB, B_MUL, B_DIV, B_POW = 0, 1, 2, 3, 4
B_LT, B_LEQ, B_GT, B_GEQ, B_EQ, B_NEQ = 5, 6, 7, 8, 9, 10
B_AND, B_OR, B_XOR, B_MIN, B_MAX, B_REM, B_QUOT = 11, 12, 13, 14, 15, 16, 17

_BINARY = {"+": B_ADD, "*": B_MUL, "-": B_SUB, "/": B_DIV, "^": B_POW,
           "lt": B_LT, "leq": B_LEQ, "gt": B_GT, "geq": B_GEQ, "eq": B_EQ, "neq": B_NEQ,
           "and": B_AND, "or": B_OR, "xor": B_XOR, "min": B_MIN, "max": B_MAX,
           "rem": B_REM, "quotient": B_QUOT}

# unary functions (argument of OP_UN)
_UNARY_NAMES = ("neg", "recip", "not", "exp", "ln", "log10", "sqrt", "abs", "floor", "ceil",
                "factorial", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
                "tanh", "asinh", "acosh", "atanh")
_UNARY = {name: i for i, name in enumerate(_UNARY_NAMES)}
_RECIPROCAL = {"sec": "cos", "csc": "sin", "cot": "tan", "sech": "cosh", "csch": "sinh",
               "coth": "tanh"}
_ARC_RECIPROCAL = {"arcsec": "acos", "arccsc": "asin", "arccot": "atan", "arcsech": "acosh",
                   "arccsch": "asinh", "arccoth": "atanh"}


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
        op, args = node.op, node.args
        if op in ("+", "*", "and", "or", "xor", "min", "max") and len(args) != 2:
            if not args:
                empty = {"+": 0.0, "*": 1.0, "and": 1.0, "or": 0.0, "xor": 0.0}
                if op not in empty:
                    raise ModelError(f"'{op}' needs at least one argument")
                return self._emit(ex.Num(empty[op]), height)
            if len(args) == 1:
                if op in ("and", "or", "xor"):  # truth value of the single argument
                    return self._emit(ex.Apply("neq", (args[0], ex.ZERO)), height)
                return self._emit(args[0], height)
            best = self._emit(args[0], height)
            for a in args[1:]:
                best = max(best, self._emit(a, height + 1))
                self._push(OP_BIN, _BINARY[op])
            return best
        if op in _BINARY:
            best = self._emit(args[0], height)
            best = max(best, self._emit(args[1], height + 1))
            self._push(OP_BIN, _BINARY[op])
            return best
        if op in _UNARY:
            best = self._emit(args[0], height)
            self._push(OP_UN, _UNARY[op])
            return best
        if op in _RECIPROCAL:
            best = self._emit(args[0], height)
            self._push(OP_UN, _UNARY[_RECIPROCAL[op]])
            self._push(OP_UN, _UNARY["recip"])
            return best
        if op in _ARC_RECIPROCAL:
            best = self._emit(args[0], height)
            self._push(OP_UN, _UNARY["recip"])
            self._push(OP_UN, _UNARY[_ARC_RECIPROCAL[op]])
            return best
        if op == "log":  # log(base, x) = ln x / ln base
            best = self._emit(args[1], height)
            self._push(OP_UN, _UNARY["ln"])
            best = max(best, self._emit(args[0], height + 1))
            self._push(OP_UN, _UNARY["ln"])
            self._push(OP_BIN, B_DIV)
            return best
        if op == "root":  # root(n, x) = x ^ (1/n)
            best = self._emit(args[1], height)
            best = max(best, self._emit(args[0], height + 1))
            self._push(OP_UN, _UNARY["recip"])
            self._push(OP_BIN, B_POW)
            return best
        if op == "piecewise":
            pieces = list(args)
            otherwise = pieces.pop() if len(pieces) % 2 == 1 else ex.Num(math.nan)
            return self._emit_piecewise(pieces, otherwise, height)
        raise UnsupportedFeature(f"ssa: math operator '{op}' cannot be evaluated",
                                 feature=op)

    def _emit_piecewise(self, pieces, otherwise, height: int) -> int:
        if not pieces:
            return self._emit(otherwise, height)
        best = self._emit(pieces[0], height)
        best = max(best, self._emit(pieces[1], height + 1))
        best = max(best, self._emit_piecewise(pieces[2:], otherwise, height + 2))
        self._push(OP_SELECT, 0)
        return best


@njit(cache=True, nogil=True, error_model="numpy")
def _eval(code, consts, ptr, k, x, p, t, stack):
    """Evaluate program ``k`` at counts ``x`` (float64, (n_species,)), parameters ``p``
    and time ``t``; ``stack`` is scratch float64 of the builder's ``max_stack``.

    One flat loop without calls (calls into helper functions cost ~100 ns each in numba
    here, more than the arithmetic).
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
            a = stack[sp - 1]
            b = stack[sp]
            r = math.nan
            if f == 0:
                r = a + b
            elif f == 1:
                r = a - b
            elif f == 2:
                r = a * b
            elif f == 3:
                r = a / b
            elif f == 4:
                if b == 2.0:
                    r = a * a
                elif b == 1.0:
                    r = a
                else:
                    r = a ** b
            elif f == 5:
                r = 1.0 if a < b else 0.0
            elif f == 6:
                r = 1.0 if a <= b else 0.0
            elif f == 7:
                r = 1.0 if a > b else 0.0
            elif f == 8:
                r = 1.0 if a >= b else 0.0
            elif f == 9:
                r = 1.0 if a == b else 0.0
            elif f == 10:
                r = 1.0 if a != b else 0.0
            elif f == 11:
                r = 1.0 if (a != 0.0 and b != 0.0) else 0.0
            elif f == 12:
                r = 1.0 if (a != 0.0 or b != 0.0) else 0.0
            elif f == 13:
                r = 1.0 if ((a != 0.0) != (b != 0.0)) else 0.0
            elif f == 14:
                r = b if b < a else a
            elif f == 15:
                r = b if b > a else a
            elif f == 16:
                if b != 0.0:
                    r = a - b * float(int(a / b))
            elif f == 17:
                if b != 0.0:
                    r = float(int(a / b))
            stack[sp - 1] = r
        elif op == 5:
            a = stack[sp - 1]
            r = math.nan
            if f == 0:
                r = -a
            elif f == 1:
                r = 1.0 / a
            elif f == 2:
                r = 1.0 if a == 0.0 else 0.0
            elif f == 3:
                r = math.exp(a)
            elif f == 4:
                r = math.log(a) if a > 0.0 else (-math.inf if a == 0.0 else math.nan)
            elif f == 5:
                r = math.log10(a) if a > 0.0 else (-math.inf if a == 0.0 else math.nan)
            elif f == 6:
                r = math.sqrt(a) if a >= 0.0 else math.nan
            elif f == 7:
                r = abs(a)
            elif f == 8:
                r = float(math.floor(a))
            elif f == 9:
                r = float(math.ceil(a))
            elif f == 10:
                r = math.gamma(a + 1.0)
            elif f == 11:
                r = math.sin(a)
            elif f == 12:
                r = math.cos(a)
            elif f == 13:
                r = math.tan(a)
            elif f == 14:
                r = math.asin(a) if -1.0 <= a <= 1.0 else math.nan
            elif f == 15:
                r = math.acos(a) if -1.0 <= a <= 1.0 else math.nan
            elif f == 16:
                r = math.atan(a)
            elif f == 17:
                r = math.sinh(a)
            elif f == 18:
                r = math.cosh(a)
            elif f == 19:
                r = math.tanh(a)
            elif f == 20:
                r = math.asinh(a)
            elif f == 21:
                r = math.acosh(a) if a >= 1.0 else math.nan
            elif f == 22:
                r = math.atanh(a) if -1.0 < a < 1.0 else math.nan
            stack[sp - 1] = r
        else:  # select: value, condition, otherwise
            sp -= 2
            if stack[sp] == 0.0:
                stack[sp - 1] = stack[sp + 1]
    if sp == 0:
        return 0.0
    return stack[0]
