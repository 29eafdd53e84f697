"""Private: compile many expression trees that share subtrees, each shared subtree once.

Symbolic derivatives of a law that nests assignment rules (a glycolysis model's rates
substitute rate laws into rate laws) share their subtrees as a graph, but written out as
Python code the graph becomes a tree: the 392 second derivatives of BIOMD0000000071 are
1.8 million nodes as a tree, and compiling them as one function took about a minute and
2 GB of memory. :func:`compile_shared` finds structurally equal subtrees (hash-consing), gives
every one used more than once a temporary, and computes the temporaries level by level with
:func:`sbmlnoise.expr.compile_vector` (level ``k`` reads only the parameters, the state and
temporaries of lower levels, passed as extra "parameters"). The values are the same
floating-point numbers as the plain compiled trees (each temporary is evaluated by the same
code, once; IEEE arithmetic is deterministic), so callers can switch without any change in
results. Small sets of trees (below :data:`SHARE_MIN_NODES` written out) are compiled
plainly, with no per-call overhead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .. import expr as ex

#: written-out size (nodes) of a set of trees from which shared subtrees get temporaries
SHARE_MIN_NODES = 20_000
#: smallest shared subtree (nodes, written out) worth a temporary
_MIN_TEMP_NODES = 4


def written_size(exprs: Sequence[ex.Expr], limit: float) -> float:
    """Total node count of ``exprs`` written out as trees (counting stops above ``limit``)."""
    total = 0.0
    for e in exprs:
        total += ex.tree_size(e, limit)
        if total > limit:
            break
    return total


def compile_shared(exprs: Sequence[ex.Expr], slots: Mapping[str, ex.Slot], name: str,
                   n_params: int) -> Callable:
    """``f(x, p, t, out)`` writing ``out[k] = exprs[k]`` like
    :func:`sbmlnoise.expr.compile_vector`, with shared subtrees evaluated once.

    Parameters
    ----------
    exprs : sequence of Expr
    slots : mapping
        Symbol -> ``("x", i)`` or ``("p", j)``, as for ``compile_vector``.
    name : str
        Label of the generated code.
    n_params : int
        Length of the parameter vector ``p`` the function will be called with.
    """
    trees = list(exprs)
    if written_size(trees, SHARE_MIN_NODES) <= SHARE_MIN_NODES or _has_delay(trees):
        return ex.compile_vector(trees, slots, name)
    roots, temps, levels = _share(trees)
    if not temps:
        return ex.compile_vector(trees, slots, name)
    ext_slots = dict(slots)
    ext_slots.update({_temp_name(k): ("p", n_params + k) for k in range(len(temps))})
    stages = []
    start = 0
    for lvl, stop in enumerate(levels):
        f = ex.compile_vector(temps[start:stop], ext_slots, f"{name}.shared{lvl}")
        stages.append((f, n_params + start, n_params + stop))
        start = stop
    final = ex.compile_vector(roots, ext_slots, name)
    n_ext = n_params + len(temps)

    def evaluate(x, p, t, out):
        ext = np.empty(n_ext)
        ext[:n_params] = p
        for f, lo, hi in stages:
            f(x, ext, t, ext[lo:hi])
        return final(x, ext, t, out)

    evaluate.n_temporaries = len(temps)  # type: ignore[attr-defined]
    return evaluate


def _temp_name(k: int) -> str:
    return f"<shared {k}>"  # not an SBML SId: cannot clash with a model identifier


def _has_delay(trees: list) -> bool:
    seen: set[int] = set()
    stack = list(trees)
    while stack:
        node = stack.pop()
        if not isinstance(node, ex.Apply) or id(node) in seen:
            continue
        seen.add(id(node))
        if node.op == "delay":
            return True
        stack.extend(node.args)
    return False


def _share(trees: list):
    """Hash-cons ``trees``; return the roots and the temporaries (ordered by level, each
    with its shared children replaced by temporary symbols) and the end index of each
    level in that order."""
    canon: dict = {}  # structural key -> canonical node
    of: dict[int, ex.Expr] = {}  # id(node) -> canonical node
    keep: list = []  # keeps every visited node alive so ids stay unique

    def canonical(node):
        stack = [(node, False)]
        while stack:
            cur, done = stack.pop()
            if id(cur) in of:
                continue
            if not isinstance(cur, ex.Apply):
                # the sign of a zero is part of a number (1/-0.0 = -inf): -0.0 != 0.0 here
                key = (("n", cur.value, math.copysign(1.0, cur.value))
                       if isinstance(cur, ex.Num) else ("s", cur.name))
                of[id(cur)] = canon.setdefault(key, cur)
                keep.append(cur)
                continue
            if not done:
                stack.append((cur, True))
                stack.extend((a, False) for a in cur.args if id(a) not in of)
                continue
            args = tuple(of[id(a)] for a in cur.args)
            key = (cur.op, tuple(id(a) for a in args))
            hit = canon.get(key)
            if hit is None:
                hit = cur if all(a is b for a, b in zip(args, cur.args)) else ex.Apply(cur.op, args)
                canon[key] = hit
                keep.append(hit)
            of[id(cur)] = hit
            keep.append(cur)
        return of[id(node)]

    roots = [canonical(t) for t in trees]
    uses: dict[int, int] = {}
    size: dict[int, float] = {}
    order: list = []  # canonical Apply nodes, children before parents
    stack = [(r, False) for r in roots]
    while stack:
        cur, done = stack.pop()
        if not isinstance(cur, ex.Apply):
            continue
        if done:
            size[id(cur)] = 1.0 + sum(size.get(id(a), 1.0) for a in cur.args)
            order.append(cur)
            continue
        uses[id(cur)] = uses.get(id(cur), 0) + 1
        if uses[id(cur)] > 1:
            continue
        stack.append((cur, True))
        stack.extend((a, False) for a in cur.args)
    shared = {id(n) for n in order
              if uses[id(n)] > 1 and size[id(n)] >= _MIN_TEMP_NODES}
    # level of the code of a node: 0 without temporaries, else one above the highest
    # temporary it reads (a temporary's own level is that of its code)
    dep: dict[int, int] = {}
    for node in order:  # children first
        dep[id(node)] = max((dep[id(a)] + (id(a) in shared) for a in node.args
                             if id(a) in dep), default=0)
    ranked = sorted((n for n in order if id(n) in shared), key=lambda n: dep[id(n)])
    names = {id(n): ex.Sym(_temp_name(k)) for k, n in enumerate(ranked)}
    rewritten: dict[int, ex.Expr] = {}
    for node in order:
        args = tuple(names.get(id(a)) or rewritten.get(id(a), a) for a in node.args)
        rewritten[id(node)] = (node if all(a is b for a, b in zip(args, node.args))
                               else ex.Apply(node.op, args))
    temps = [rewritten[id(n)] for n in ranked]
    ends: list[int] = []
    for k, n in enumerate(ranked):
        if k + 1 == len(ranked) or dep[id(ranked[k + 1])] != dep[id(n)]:
            ends.append(k + 1)
    out_roots = [names.get(id(r)) or rewritten.get(id(r), r) for r in roots]
    return out_roots, temps, ends


def diff_shared(expr: ex.Expr, name: str, memo: dict | None = None) -> ex.Expr:
    """:func:`sbmlnoise.expr.diff` with each shared subtree differentiated once.

    The same table rules build the same trees as ``expr.diff`` (so the same numbers), but
    ``expr.diff`` re-derives a subtree at every place it is referenced and looks up its
    symbols at every node: on nested rate laws (BIOMD0000000071) that made the sensitivity
    tensors take about 10 s. Pass one ``memo`` dict to several calls with the same
    ``name`` to share the work between them.
    """
    memo = {} if memo is None else memo
    has: dict = memo.setdefault(("has", name), {})
    done: dict = memo.setdefault(("d", name), {})
    return _diff(expr, name, has, done)


def _contains(node: ex.Expr, name: str, has: dict) -> bool:
    if isinstance(node, ex.Sym):
        return node.name == name
    if not isinstance(node, ex.Apply):
        return False
    hit = has.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    found = any(_contains(a, name, has) for a in node.args)
    has[id(node)] = (node, found)
    return found


def _diff(node: ex.Expr, name: str, has: dict, done: dict) -> ex.Expr:
    if isinstance(node, ex.Num):
        return ex.ZERO
    if isinstance(node, ex.Sym):
        return ex.ONE if node.name == name else ex.ZERO
    if not _contains(node, name, has):
        return ex.ZERO
    hit = done.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    rule = ex.OPERATOR_TABLE[node.op].derivative
    if rule is None:
        return ex.diff(node, name)  # raises UnsupportedFeature with the usual message
    args = node.args
    out = rule(node, lambda i: _diff(args[i], name, has, done), name)
    done[id(node)] = (node, out)
    return out
