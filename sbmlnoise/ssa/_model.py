"""The array form of a network that the SSA kernels read (built once per call).

Propensities in counts (see :mod:`sbmlnoise.network`): ``a_j(n) = Omega * v_j(n / Omega)``.
Mass-action channels (``reaction.mass_action`` set, ``v = k prod amount_i^order_i``) take
a fast path with no per-model code at all,

    a_j(n) = Omega * k * prod_i (n_i / Omega)^order_i = c_j * prod_i n_i^order_i,
    c_j = k * Omega^(1 - sum_i order_i),

so ``2A -> 0`` with ``v = k A^2`` gives ``a = k n^2 / Omega``: exactly what the SBML law
says (no hidden combinatorial factor; write ``k*A*(A-1)/2`` for the textbook propensity).
Other channels are bytecode programs over ``net.propensity_expressions`` run by the
cached interpreter of :mod:`._program`.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import expr as ex
from ..errors import ModelError, UnsupportedFeature
from ..kinetics import stochastic_form
from ._program import ProgramBuilder

SSAModel = namedtuple("SSAModel", [
    "n_species", "n_reactions", "n_events",
    "ma_flag", "ma_coef", "ma_ptr", "ma_species", "ma_order",
    "code", "consts", "prog_ptr", "max_stack",
    "change_ptr", "change_species", "change_delta",
    "dep_ptr", "dep_list",
    "ev_trigger", "ev_init", "ev_persistent", "ev_order", "ev_use_trigger_values",
    "ev_assign_ptr", "as_kind", "as_index", "as_scale", "as_prog",
    "breakpoints", "ev_dep_ptr", "ev_dep_list",
])


def _csr(lists, dtype=np.int64):
    ptr = np.zeros(len(lists) + 1, dtype=np.int64)
    for i, row in enumerate(lists):
        ptr[i + 1] = ptr[i] + len(row)
    flat = np.array([v for row in lists for v in row], dtype=dtype)
    if flat.size == 0:
        flat = np.zeros(1, dtype=dtype)
    return ptr, flat


def _inline_assignments(tree, assignments: dict, limit: int = 50):
    for _ in range(limit):
        names = ex.symbols(tree) & set(assignments)
        if not names:
            return tree
        tree = ex.substitute(tree, {n: assignments[n] for n in names})
    raise ModelError("assignment rules are cyclic")


def _time_breakpoints(trigger, values: dict, event_id: str) -> list[float]:
    """Times at which a trigger's truth value can change other than at reactions.

    Time may only appear as one side of a relation whose other side is free of time and
    species (e.g. ``time >= 25``); such a relation switches at the other side's value.
    """
    found: list[float] = []

    def walk(node):
        if isinstance(node, ex.Sym):
            if node.name == ex.TIME:
                raise UnsupportedFeature(
                    f"ssa: the trigger of event '{event_id}' uses time outside a plain "
                    "comparison (time >= value); the exact SSA cannot locate when it fires",
                    element=event_id, feature="time-dependent trigger")
            return
        if not isinstance(node, ex.Apply):
            return
        if node.op in ("lt", "leq", "gt", "geq", "eq", "neq"):
            a, b = node.args
            for side, other in ((a, b), (b, a)):
                if side == ex.Sym(ex.TIME):
                    if ex.TIME in ex.symbols(other) or (ex.symbols(other) - set(values)):
                        raise UnsupportedFeature(
                            f"ssa: the trigger of event '{event_id}' compares time with a "
                            "non-constant value", element=event_id,
                            feature="time-dependent trigger")
                    found.append(ex.evaluate(other, values))
                    return
        for arg in node.args:
            walk(arg)

    walk(trigger)
    return found


def _falling_factorial(net, reaction, tree):
    """``(coef, [(species index, m)])`` when the propensity ``tree`` (counts) is
    ``coef * prod_i n_i (n_i - 1) ... (n_i - m_i + 1)`` with ``m_i`` the reactant
    stoichiometry -- the combinatorial law DSMTS and most stochastic models write, e.g.
    ``k*P*(P-1)/2`` for ``2 P -> P2``. It vanishes when too few molecules are present, so
    the kernels may evaluate it without the interpreter. ``None`` otherwise. The rule is
    :func:`sbmlnoise.kinetics.stochastic_form` (the FSP applies the same)."""
    wanted: dict[str, float] = {}
    for sid, nu in reaction.reactants:
        wanted[sid] = wanted.get(sid, 0) + nu
    form = stochastic_form(tree, wanted, {p.id: p.value for p in net.parameters},
                           set(net.species_ids))
    if form is None:
        return None
    coef, orders = form
    return coef, sorted((net.index(sid), int(m)) for sid, m in orders)


def build_model(net, timedep: bool = False):
    """Array form of ``net`` for the kernels; raises for what the exact SSA cannot run.

    With ``timedep`` (the kernels of :mod:`._timedep`), time-dependent laws, rate rules on
    parameters, delayed events and non-consuming delayed reactions are accepted and the
    result is ``(SSAModel, TDModel)``."""
    if timedep:
        from ._timedep import check_features

        check_features(net)
        _check_integer(net)
    else:
        net.require_stochastic("ssa")
    omega = float(net.system_size)
    S, M = net.n_species, net.n_reactions
    slots = net.slots
    assignments = dict(net.assignments)
    event_params = {var for e in net.events for var, _ in e.assignments if var in net.parameter_ids}
    rr_vars = {v for v, _ in net.rate_rules}
    prop_exprs = list(net.propensity_expressions)
    rx_delay, chain, chain_tau = np.full(M, -1.0), np.full(M, -1, dtype=np.int64), np.zeros(M)
    if timedep:
        rx_delay, chain, chain_tau = _delayed_laws(net, prop_exprs, event_params | rr_vars)
        event_params = event_params | rr_vars
    for r, tree in zip(net.reactions, prop_exprs):
        if not timedep and ex.TIME in ex.symbols(tree):
            raise UnsupportedFeature(
                f"ssa: the rate of reaction '{r.id}' depends on time; ssa_stationary and the "
                "approximate methods need propensities that are constant between reactions "
                "(sn.ssa with an exact method handles it)", element=r.id,
                feature="time-dependent rate")

    builder = ProgramBuilder(slots)
    ma_flag = np.zeros(M, dtype=np.int64)
    ma_coef = np.zeros(M)
    ma_rows, dep_species = [], []
    for j, (r, tree) in enumerate(zip(net.reactions, prop_exprs)):
        ma = r.mass_action
        uses_event_params = bool(ex.symbols(r.rate) & event_params) or rx_delay[j] != -1.0
        if ma is not None and not uses_event_params:
            orders = [(net.index(sid), int(o)) for sid, o in ma.orders]
            total = sum(o for _, o in orders)
            ma_flag[j] = 1
            ma_coef[j] = ma.rate_constant * omega ** (1 - total)
            ma_rows.append(orders)
            dep_species.append({i for i, o in orders if o != 0})
            builder.add(None)
        elif not uses_event_params and (falling := _falling_factorial(net, r, tree)) is not None:
            ma_flag[j] = 2
            ma_coef[j], orders = falling
            ma_rows.append(orders)
            dep_species.append({i for i, _ in orders})
            builder.add(None)
        else:
            ma_rows.append([])
            builder.add(tree)
            dep_species.append({slots[s][1] for s in ex.symbols(tree)
                                if s in slots and slots[s][0] == "x"})
    ma_ptr, ma_species = _csr([[i for i, _ in row] for row in ma_rows])
    _, ma_order = _csr([[o for _, o in row] for row in ma_rows])

    # state changes and dependency graph (reaction j -> reactions to recompute after j)
    nu = np.asarray(net.stoichiometry)
    changes = [[(i, float(np.rint(nu[i, j]))) for i in range(S) if nu[i, j] != 0]
               for j in range(M)]
    change_ptr, change_species = _csr([[i for i, _ in row] for row in changes])
    _, change_delta = _csr([[d for _, d in row] for row in changes], dtype=np.float64)
    readers: dict[int, list[int]] = {i: [] for i in range(S)}
    for k, deps in enumerate(dep_species):
        for i in deps:
            readers[i].append(k)
    dep_lists = []
    for j in range(M):
        affected = sorted({k for i, _ in changes[j] for k in readers[i]})
        dep_lists.append(affected)
    dep_ptr, dep_list = _csr(dep_lists)

    (ev_trigger, ev_init, ev_persistent, ev_order, ev_use, ev_assign_ptr, as_kind, as_index,
     as_scale, as_prog, breakpoints, ev_dep_ptr, ev_dep_list, amounts_as_counts) = _events(
        net, builder, assignments, slots, changes, omega)
    E = len(net.events)
    td_parts = _td_programs(net, builder, assignments, amounts_as_counts, prop_exprs) \
        if timedep else None
    code, consts, prog_ptr, max_stack = builder.arrays()
    bps = np.array(sorted(set(b for b in breakpoints if np.isfinite(b))) or [np.inf])
    model = SSAModel(S, M, E, ma_flag, ma_coef, ma_ptr, ma_species, ma_order,
                    code, consts, prog_ptr, max_stack,
                    change_ptr, change_species, change_delta, dep_ptr, dep_list,
                    ev_trigger, ev_init, ev_persistent, ev_order if E else np.zeros(1, np.int64),
                    ev_use, ev_assign_ptr, as_kind, as_index, as_scale, as_prog, bps,
                    ev_dep_ptr, ev_dep_list)
    if td_parts is None:
        return model
    from ._timedep import ATOL, RTOL, TDModel

    integrate, rr_index, rr_prog, ev_delay_prog = td_parts
    max_assign = max([len(e.assignments) for e in net.events] or [0])
    return model, TDModel(bool(integrate), rr_index, rr_prog, np.maximum(rx_delay, -1.0),
                          chain, chain_tau, ev_delay_prog, int(max_assign), RTOL, ATOL)


def _events(net, builder, assignments, slots, changes, omega):
    """Event arrays of :class:`SSAModel` (triggers, flags, priority order, assignments,
    time breakpoints, event dependency graph) and the amount -> count substitution."""
    M = net.n_reactions
    E = len(net.events)
    values = {p.id: p.value for p in net.parameters}
    amounts_as_counts = {s: ex.div(ex.Sym(s), ex.Num(omega)) for s in net.species_ids} \
        if omega != 1.0 else {}
    ev_trigger = np.zeros(E, dtype=np.int64)
    ev_init = np.zeros(E, dtype=np.int64)
    ev_persistent = np.zeros(E, dtype=np.int64)
    ev_use = np.zeros(E, dtype=np.int64)
    priorities = []
    assign_rows = []
    trigger_species: list[set[int]] = []
    breakpoints: list[float] = []
    for e_idx, ev in enumerate(net.events):
        trig = ex.substitute(_inline_assignments(ev.trigger, assignments), amounts_as_counts)
        breakpoints += _time_breakpoints(trig, values, ev.id)
        ev_trigger[e_idx] = builder.add(trig)
        trigger_species.append({slots[s][1] for s in ex.symbols(trig)
                                if s in slots and slots[s][0] == "x"})
        ev_init[e_idx] = int(bool(ev.initial_value))
        ev_persistent[e_idx] = int(bool(ev.persistent))
        ev_use[e_idx] = int(bool(ev.use_values_from_trigger_time))
        prio = 0.0
        if ev.priority is not None:
            if ex.symbols(ev.priority) - set(values):
                raise UnsupportedFeature(f"ssa: event '{ev.id}' has a state-dependent "
                                         "priority", element=ev.id, feature="event priority")
            prio = ex.evaluate(ev.priority, values)
        priorities.append(prio)
        rows = []
        for var, tree in ev.assignments:
            tree = ex.substitute(_inline_assignments(tree, assignments), amounts_as_counts)
            if var in net.species_index:
                kind, index, scale = 0, net.index(var), omega
            elif var in net.parameter_ids:
                kind, index, scale = 1, net.parameter_ids.index(var), 1.0
            else:
                raise UnsupportedFeature(f"ssa: event '{ev.id}' assigns '{var}', which is "
                                         "neither a state species nor a parameter",
                                         element=ev.id, feature="event assignment")
            rows.append((kind, index, scale, builder.add(tree)))
        assign_rows.append(rows)
    ev_order = np.array(sorted(range(E), key=lambda e: (-priorities[e], e)), dtype=np.int64)
    ev_assign_ptr, as_kind = _csr([[r[0] for r in rows] for rows in assign_rows])
    _, as_index = _csr([[r[1] for r in rows] for rows in assign_rows])
    _, as_scale = _csr([[r[2] for r in rows] for rows in assign_rows], dtype=np.float64)
    _, as_prog = _csr([[r[3] for r in rows] for rows in assign_rows])
    # event dependency graph: reaction j -> events whose trigger reads a species j changes
    ev_dep_ptr, ev_dep_list = _csr([sorted({e for e in range(E)
                                            if trigger_species[e] & {i for i, _ in changes[j]}})
                                    for j in range(M)])
    return (ev_trigger, ev_init, ev_persistent, ev_order, ev_use, ev_assign_ptr, as_kind,
            as_index, as_scale, as_prog, breakpoints, ev_dep_ptr, ev_dep_list,
            amounts_as_counts)


def _delayed_laws(net, prop_exprs: list, varying: set):
    """Delays of the reactions' laws (see :mod:`._timedep`): ``rx_delay[j]`` (>= 0: a
    non-consuming delayed reaction, -2: fires only as a delayed completion, -1: none),
    ``chain[j1] = j2`` and ``chain_tau[j1]`` for consuming delayed pairs. Rewrites
    ``prop_exprs`` in place to the initiation propensities."""
    from ._timedep import _chained_completion, _delayed_law

    M = net.n_reactions
    rx_delay = np.full(M, -1.0)
    chain = np.full(M, -1, dtype=np.int64)
    chain_tau = np.zeros(M)
    values0 = {p.id: p.value for p in net.parameters}
    fixed = set(values0) - varying
    for j2, r2 in enumerate(net.reactions):
        hit = _chained_completion(net, r2, values0, fixed)
        if hit is not None and chain[hit[0]] < 0:
            chain[hit[0]], chain_tau[hit[0]] = j2, hit[1]
            prop_exprs[j2] = ex.ZERO
            rx_delay[j2] = -2.0  # fires only as the completion of its partner
    for j, (r, tree) in enumerate(zip(net.reactions, prop_exprs)):
        if rx_delay[j] == -2.0:
            continue
        found = _delayed_law(net, r, tree, values0, fixed)
        if found is not None:
            rx_delay[j], prop_exprs[j] = found
    return rx_delay, chain, chain_tau


def _td_programs(net, builder, assignments, amounts_as_counts, prop_exprs):
    """Rate-rule right-hand sides and event delays as programs (counts semantics)."""
    rr_index, rr_prog = [], []
    for var, rhs in net.rate_rules:
        tree = ex.substitute(_inline_assignments(rhs, assignments), amounts_as_counts)
        rr_index.append(net.parameter_ids.index(var))
        rr_prog.append(builder.add(tree))
    ev_delay = []
    for ev in net.events:
        if ev.delay is None:
            ev_delay.append(-1)
        else:
            tree = ex.substitute(_inline_assignments(ev.delay, assignments), amounts_as_counts)
            ev_delay.append(builder.add(tree))
    integrate = bool(net.rate_rules) or any(ex.TIME in ex.symbols(t) for t in prop_exprs)
    return (integrate, np.array(rr_index, dtype=np.int64), np.array(rr_prog, dtype=np.int64),
            np.array(ev_delay or [-1], dtype=np.int64))


def _check_integer(net) -> None:
    if not net.integer_stoichiometry:
        nu = np.asarray(net.stoichiometry)
        j = int(np.argmax(np.any(np.abs(nu - np.round(nu)) > 1e-12, axis=0)))
        raise UnsupportedFeature(
            f"ssa: reaction '{net.reactions[j].id}' has non-integer net stoichiometry; a "
            "stochastic backend needs whole molecules (use sn.lna or sn.simulate_ode)",
            element=net.reactions[j].id, feature="non-integer stoichiometry")


def fixed_species(net) -> np.ndarray:
    """Boolean mask: species that no reaction, event assignment or rate rule changes."""
    changed = np.any(np.asarray(net.stoichiometry) != 0, axis=1)
    targets = {v for e in net.events for v, _ in e.assignments}
    targets |= {v for v, _ in net.rate_rules}
    return np.array([not changed[i] and sid not in targets
                     for i, sid in enumerate(net.species_ids)], dtype=bool)


def initial_counts(net) -> np.ndarray:
    """``net.initial_state`` as whole molecule counts (float64). A species that nothing
    changes (no reaction, event or rule: a boundary stimulus, a fixed enzyme level) is a
    parameter of the propensities, not a molecule count, and keeps its value as given."""
    x0 = np.asarray(net.initial_state, dtype=float)
    rounded = np.rint(x0)
    bad = np.abs(x0 - rounded) > 1e-6 * np.maximum(1.0, np.abs(x0))
    if bad.any():
        fixed = fixed_species(net)
        rounded = np.where(fixed, x0, rounded)
        bad &= ~fixed
    if bad.any():
        i = int(np.argmax(bad))
        raise ModelError(f"ssa: initial count of species '{net.species_ids[i]}' is "
                         f"{x0[i]:g}, not a whole number of molecules (system_size "
                         f"{net.system_size:g}); pass system_size= to sn.load")
    if (rounded < 0).any():
        i = int(np.argmax(rounded < 0))
        raise ModelError(f"ssa: initial count of species '{net.species_ids[i]}' is negative")
    return rounded


def ssa_refusal(net):
    """``None`` if the exact :func:`~sbmlnoise.ssa.ssa` can simulate ``net`` (including
    time-dependent laws, rate rules on parameters, delayed events and the supported
    ``delay()`` forms), else the :class:`UnsupportedFeature` it would raise (naming the
    element and the feature). Cheap: builds the kernels' array model, simulates nothing."""
    try:
        from ._timedep import needs_timedep
        build_model(net, timedep=needs_timedep(net))
    except UnsupportedFeature as err:
        return err
    return None
