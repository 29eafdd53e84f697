"""The general engine of the reaction-rate equations: events, rules, delays.

:func:`simulate_with_events` integrates the extended state (species amounts, then
rate-rule and algebraic-rule parameters, compartment sizes and stoichiometries)
piecewise between events, following the SBML Level 3 Version 2 specification (Hucka et
al. 2019, doi:10.1515/jib-2019-0021):

* **Rates.** ``d amount / dt = N(x) v(x, p, t)`` (the stoichiometry may follow rules and
  events) plus the rate rules; algebraic-rule variables and fast reactions are put on
  their constraint manifold by Newton's method before every evaluation (index-1 DAE; a
  singular Jacobian is reported as "not of index 1"); fast reactions move by index
  reduction, ``(J_f N_f) w = -J_f dx_slow``.
* **Delays.** ``delay(e, tau)`` reads the dense output of earlier steps (method of steps:
  no step is longer than the shortest constant delay); before t = 0 the initial state.
  Delayed events are queued at trigger time + delay (evaluated at trigger time) and
  dropped if non-persistent and their trigger falls before they execute.

* **Firing.** An event fires when its trigger goes from false to true. At ``t = 0`` the
  trigger's value "before" the simulation is ``initialValue``; an event whose
  ``initialValue`` is false and whose trigger is true at ``t = 0`` fires at ``t = 0``.
* **Locating the switch.** Every relational sub-expression of a trigger (``a < b``,
  ``a >= b``, ...) contributes the continuous indicator ``a - b``. After each accepted
  solver step the indicators are checked for sign changes; a change is located with
  Brent's method on the step's dense output, and the exact instant at which the trigger
  *booleans* switch is then bracketed by bisection on the booleans themselves (this also
  covers ``and``/``or``/``not`` combinations and triggers without relations). The events
  execute at the right end of that bracket (a few ulps after the switch), where the
  trigger is already true.
* **Discontinuous rates.** Relations inside kinetic laws (``piecewise`` in time or
  state) are located the same way; the integrator restarts at each switch instead of
  stepping across the discontinuity.
* **Execution.** Simultaneous events run one at a time, highest ``priority`` first; ties
  between equal explicit priorities are broken at random (as SBML specifies; a seeded
  generator, ``seed``, keeps runs reproducible); events without priority run in document
  order. When
  ``useValuesFromTriggerTime`` is true the assignment values are computed when the event
  fires, otherwise when it executes. After each execution all triggers are evaluated
  again: newly true triggers fire (cascades), and pending non-persistent events whose
  trigger turned false are dropped. Integration restarts from the new state.
* **Targets.** Species (assigned values are amounts -- the importer multiplies a
  concentration by its compartment), parameters, compartment sizes and species
  references' stoichiometries (the net stoichiometry changes from the event on). A
  compartment size change keeps every species' *amount* (its concentration changes), as
  SBML specifies. All values of one event are computed before any is assigned, so a
  concentration assigned together with its compartment's size becomes the amount
  ``concentration * old size`` (SBML Test Suite case 01779). Assignment rules are
  inlined in every tree, so they follow changed parameters automatically.

Output times that fall between the last instant with the old trigger values and the
execution instant report the state after the events (so an event at an output time shows
its effect there, as in the SBML Test Suite).

Limits: an indicator that crosses zero twice within one solver step (a trigger that is
true only briefly, in the middle of a step) goes unnoticed, as in any step-wise root
finder; an equality trigger (``a == b``) fires only if the equality holds at a
floating-point instant the search visits.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import BDF, DOP853, LSODA, RK23, RK45, Radau
from scipy.optimize import brentq

from .. import expr as ex
from ..errors import ModelError, SimulationError, UnsupportedFeature
from ..network import ReactionNetwork
from .._deadline import clip as clip_wall_time

__all__ = ["simulate_with_events"]

_SOLVERS = {"LSODA": LSODA, "BDF": BDF, "Radau": Radau, "RK45": RK45, "RK23": RK23,
            "DOP853": DOP853}
_RELATIONS = ("lt", "leq", "gt", "geq", "eq", "neq")
#: upper bound on event executions at one instant (guards against endless cascades)
MAX_CASCADE = 10_000
_EPS = float(np.finfo(float).eps)


@dataclass
class _Pending:
    event: int
    values: np.ndarray | None  # assignment values computed at trigger time, or None
    sizes: np.ndarray | None = None  # compartment sizes of concentration targets then


def _relations(expr: ex.Expr) -> list[ex.Apply]:
    """Every relational node ``rel(a, b)`` inside ``expr``."""
    found: list[ex.Apply] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ex.Apply):
            if node.op in _RELATIONS and len(node.args) == 2:
                found.append(node)
            stack.extend(node.args)
    return found


def _stoichiometry_slopes(net: ReactionNetwork, ref_ids) -> list[tuple[str, np.ndarray]]:
    """For each species-reference id in ``ref_ids``: (id, d N / d value), where N is the
    net stoichiometry (n_species, n_reactions) of ``net``'s channels."""
    if not ref_ids:
        return []
    roles = {ref: (rid, sid, sign) for ref, rid, sid, sign in net.species_references}
    factors = dict(net.conversion_factors)
    slopes = []
    for ref_id in ref_ids:
        if ref_id not in roles:
            raise UnsupportedFeature(f"stoichiometry '{ref_id}' assigned by an event belongs "
                                     "to no reaction of the model", element=ref_id,
                                     feature="EventAssignment to SpeciesReference")
        rid, sid, sign = roles[ref_id]
        slope = np.zeros((net.n_species, net.n_reactions))
        if sid in net.species_index:
            i = net.index(sid)
            sp = net.species[i]
            if not (sp.boundary or sp.constant):
                for j, ch in enumerate(net.reactions):
                    if ch.sbml_id == rid:
                        flip = -1.0 if ch.direction == "reverse" else 1.0
                        slope[i, j] = sign * flip * factors.get(sid, 1.0)
        slopes.append((ref_id, slope))
    return slopes


class _EventModel:
    """Compiled pieces of a network for the general rate equations; everything takes
    ``(x, p, t)`` where ``x`` is the extended state: species amounts, then
    :attr:`ReactionNetwork.ode_extra_ids` (rate-rule and algebraic-rule parameters,
    compartment sizes and stoichiometries)."""

    def __init__(self, net: ReactionNetwork):
        self.net = net
        n_s = net.n_species
        self.n_s = n_s
        extra = list(net.ode_extra_ids)
        slots = dict(net.slots)
        for k, v in enumerate(extra):
            slots[v] = ("x", n_s + k)
        self.slots = slots
        self.n_x = n_s + len(extra)
        self.slots_names = (*net.species_ids, *extra)
        self.extra_p = np.array([net.parameter_ids.index(v) for v in extra], dtype=np.int64)
        self.p0 = net.parameter_values.astype(float).copy()
        self.x0 = np.concatenate([net.initial_amounts.astype(float), self.p0[self.extra_p]])
        self.history = _History()
        self.p_now = self.p0
        self.delayed: list[ex.Expr] = []
        self._delayed_funcs: dict[int, object] = {}
        self._kw = {"delay": self._delay, "delayed": self.delayed} if net.has_delays else {}
        self.stoich = np.asarray(net.stoichiometry, dtype=float)
        self.rates = self._compile([r.rate for r in net.reactions], "rates")
        self.rr_index = np.array([slots[v][1] for v, _ in net.rate_rules], dtype=np.int64)
        self.rr_func = self._compile([e for _, e in net.rate_rules], "rate_rules")
        self._setup_constraints(net, slots)
        self.jac: Callable | None = None
        if not (net.rate_rules or self.n_constraints or net.variable_stoichiometry
                or net.has_delays or extra):
            try:  # the network's sparse, cached derivative (compiled here on first use)
                net.rate_jacobian(self.x0, 0.0)
                self.jac = net.rate_jacobian
            except UnsupportedFeature:
                self.jac = None
        self._setup_events(net, slots)
        self._setup_stoichiometry(net)
        self.rule_func = self._compile([e for _, e in net.assignments], "assignments")
        self.max_step = self._max_step()

    def _compile(self, exprs, what):
        return ex.compile_vector(list(exprs), self.slots, f"{self.net.id}.{what}", **self._kw)

    # ------------------------------------------------------------------ set-up
    def _setup_constraints(self, net, slots) -> None:
        """Fast reactions (rate == 0, extents free) and algebraic rules (g == 0, their
        variables free): solved together by Newton's method."""
        fast = net.fast_reactions
        self.n_fast = len(fast)
        self.fast_n = np.zeros((self.n_x, self.n_fast))
        for j, f in enumerate(fast):
            for sid, nu in f.stoichiometry:
                self.fast_n[net.index(sid), j] += nu
        self.alg_index = np.array([slots[v][1] if slots.get(v, ("p", 0))[0] == "x" else -1
                                   for v in net.algebraic_variables], dtype=np.int64)
        if np.any(self.alg_index < 0):
            bad = net.algebraic_variables[int(np.argmin(self.alg_index))]
            raise UnsupportedFeature(f"algebraic rule determines '{bad}', which cannot be "
                                     "solved for", element=bad, feature="AlgebraicRule")
        self.n_constraints = self.n_fast + len(net.algebraic_rules)
        self.constraints = self._compile([f.rate for f in fast] + list(net.algebraic_rules),
                                         "constraints")
        if self.n_fast:
            exprs = [ex.diff(f.rate, v) for f in fast for v in
                     (*net.species_ids, *net.ode_extra_ids)]
            self.fast_jac = self._compile(exprs, "fast_jacobian")
        self._u_last = np.zeros(self.n_constraints)

    def _setup_events(self, net, slots) -> None:
        events = net.events
        self.events = events
        self.triggers = self._compile([e.trigger for e in events], "triggers")
        varying = set(net.species_ids) | set(net.ode_extra_ids) | {ex.TIME}
        rate_relations: list[ex.Apply] = []
        for tree in [r.rate for r in net.reactions] + [e for _, e in net.rate_rules]:
            for node in _relations(tree):
                if node not in rate_relations and ex.symbols(node) & varying:
                    rate_relations.append(node)
        self.switches = self._compile([e.trigger for e in events] + rate_relations, "switches")
        self.n_switches = len(events) + len(rate_relations)
        atoms: list[ex.Expr] = []
        for node in [n for e in events for n in _relations(e.trigger)] + rate_relations:
            atom = ex.sub(node.args[0], node.args[1])
            if atom not in atoms and ex.symbols(atom):
                atoms.append(atom)
        self.n_atoms = len(atoms)
        self.atoms = self._compile(atoms, "trigger_atoms")
        self.has_priority = np.array([e.priority is not None for e in events])
        self.priorities = self._compile([e.priority if e.priority is not None else ex.ZERO
                                         for e in events], "priorities")
        self.has_delay = [e.delay is not None for e in events]
        self.delays = self._compile([e.delay if e.delay is not None else ex.ZERO
                                     for e in events], "event_delays")
        kinds = {p.id: p.kind for p in net.parameters}
        self.assign_funcs = []
        self.targets = []  # per event: list of (array "x"|"p", index)
        self.changes_parameters = bool(net.ode_extra_ids)
        self.stoich_targets: set[str] = set()
        for e in events:
            targets = []
            for var, _ in e.assignments:
                if var not in slots:
                    raise ModelError(f"event '{e.id}' assigns '{var}', which is not a species, "
                                     "parameter or compartment of the network (a variable "
                                     "defined by an assignment rule cannot be assigned)")
                if kinds.get(var) == "stoichiometry":
                    self.stoich_targets.add(var)
                if kinds.get(var) == "local":
                    raise ModelError(f"event '{e.id}' assigns the local parameter '{var}'")
                array, index = slots[var]
                if array == "p":
                    self.changes_parameters = True
                targets.append((array, index))
            self.targets.append(targets)
            self.assign_funcs.append(self._compile([v for _, v in e.assignments],
                                                   f"{e.id}.assignments"))

    def _setup_stoichiometry(self, net) -> None:
        """Stoichiometries that change: set by events or rate rules (a slot) or by an
        assignment rule / stoichiometryMath (a tree)."""
        refs = set(self.stoich_targets) | {v for v, _ in net.rate_rules
                                           if v in {r[0] for r in net.species_references}}
        refs |= {v for v, _, _ in net.variable_stoichiometry}
        self.stoich_slopes = _stoichiometry_slopes(net, sorted(refs))
        self.stoich_getters = []
        exprs = {v: (e, v0) for v, e, v0 in net.variable_stoichiometry}
        trees = []
        for ref, _ in self.stoich_slopes:
            if ref in exprs:
                trees.append(exprs[ref][0])
                self.stoich_getters.append(("e", len(trees) - 1, exprs[ref][1]))
            else:
                array, index = self.slots[ref]
                self.stoich_getters.append((array, index, self.p0[net.parameter_ids.index(ref)]))
        self.stoich_exprs = self._compile(trees, "stoichiometry") if trees else None
        self.n_stoich_exprs = len(trees)

    def _max_step(self) -> float:
        """Method of steps: no solver step longer than the shortest delay, so a delayed
        value always lies in the stored history (dense output of earlier steps)."""
        if not self.net.has_delays:
            return math.inf
        taus = []
        trees = [r.rate for r in self.net.reactions] + [e for _, e in self.net.rate_rules]
        trees += list(self.net.algebraic_rules) + [e.trigger for e in self.events]
        values = dict(zip(self.net.parameter_ids, self.p0))
        values.update(zip(self.net.species_ids, self.x0))
        for tree in trees:
            stack = [tree]
            while stack:
                node = stack.pop()
                if isinstance(node, ex.Apply):
                    if node.op == "delay":
                        try:
                            taus.append(ex.evaluate(node.args[1], values))
                        except ModelError:
                            pass
                    stack.extend(node.args)
        taus = [t for t in taus if math.isfinite(t) and t > 0]
        return min(taus) if taus else math.inf

    # ------------------------------------------------------------------ delays
    def _delay(self, k, x, p, t, tau):
        td = t - tau
        if tau < 0:
            raise SimulationError(f"delay() with negative delay {tau:g} at t={t:g}")
        func = self._delayed_funcs.get(k)
        if func is None:
            func = self._delayed_funcs[k] = ex.compile_vector(
                [self.delayed[k]], self.slots, f"{self.net.id}.delayed{k}", **self._kw)
        if td < 0 and self.net.initial_history:
            state, p_then = self._initial_history(td)
        else:
            state, p_then = self.history.state(td, x, p)
        out = np.zeros(1)
        func(state, p_then, td, out)
        return out[0]

    def _initial_history(self, td: float) -> tuple[np.ndarray, np.ndarray]:
        """(state, parameters) at ``td < 0``: initial values, with the initial assignments
        that use ``time`` evaluated at ``td`` (the SBML Test Suite's reading of the
        history)."""
        state = np.array(self.history.initial[0] if self.history.initial is not None
                         else self.x0, dtype=float)
        values = dict(zip(self.net.parameter_ids, self.p0))
        values.update(zip(self.slots_names, state))
        values[ex.TIME] = td
        p = np.array(self.p0, dtype=float)
        for var, expr in self.net.initial_history:
            slot = self.slots.get(var)
            if slot is not None:
                (state if slot[0] == "x" else p)[slot[1]] = ex.evaluate(expr, values)
        return state, p

    def stoichiometry(self, x, p, t) -> np.ndarray:
        """Net stoichiometry at (x, p, t) (stoichiometries set by events or rules)."""
        if not self.stoich_slopes:
            return self.stoich
        out = self.stoich.copy()
        values = None
        if self.stoich_exprs is not None:
            values = np.zeros(self.n_stoich_exprs)
            with np.errstate(all="ignore"):
                self.stoich_exprs(x, p, t, values)
        for (_, slope), (array, index, v0) in zip(self.stoich_slopes, self.stoich_getters):
            if array == "e":
                assert values is not None  # "e" getters exist only with stoich_exprs
                v = values[index]
            else:
                v = (x if array == "x" else p)[index]
            out += (v - v0) * slope
        return out

    # ------------------------------------------------------------------ constraints
    def complete(self, x, p, t) -> np.ndarray:
        """``x`` moved onto the constraint manifold: fast reactions at equilibrium (along
        their stoichiometry) and algebraic-rule variables solved (Newton's method)."""
        if not self.n_constraints:
            return x
        base = np.asarray(x, dtype=float).copy()

        def state(u):
            y = base.copy()
            if self.n_fast:
                y += self.fast_n @ u[:self.n_fast]
            if len(self.alg_index):
                y[self.alg_index] = u[self.n_fast:]
            return y

        def residual(u):
            out = np.zeros(self.n_constraints)
            with np.errstate(all="ignore"):
                try:
                    self.constraints(state(u), p, t, out)
                except (ZeroDivisionError, OverflowError, ValueError):
                    out[:] = np.nan
            return out

        u = np.concatenate([np.zeros(self.n_fast), base[self.alg_index]]) \
            if len(self.alg_index) else np.zeros(self.n_fast)
        if self.n_fast:
            r0 = residual(u)[:self.n_fast]
            scale = max(1.0, float(np.max(np.abs(base[:self.n_s])))) if self.n_s else 1.0
            if not np.all(np.abs(r0) <= 1e-9 * scale):
                u = self._relax_fast(residual, u)
        u = _newton(residual, u)
        if u is None:
            raise SimulationError(f"model '{self.net.id}': the algebraic constraints (fast "
                                  f"reactions / algebraic rules) have no solution near the "
                                  f"state at t={t:g}, or their Jacobian is singular (the "
                                  "system is not of index 1)")
        return state(u)

    def _relax_fast(self, residual, u):
        """Let the fast reactions run (extent rate = their rate) until they stop: picks
        the equilibrium the reactions actually reach when several solve rate == 0."""
        from scipy.integrate import solve_ivp

        n_f = self.n_fast

        def flow(_s, v):
            out = np.zeros_like(v)
            r = residual(v)[:n_f]
            out[:n_f] = np.where(np.isfinite(r), r, 0.0)
            return out

        try:
            sol = solve_ivp(flow, (0.0, 1e6), u, method="LSODA", rtol=1e-10, atol=1e-14)
        except (ValueError, ArithmeticError):
            return u
        return sol.y[:, -1] if sol.success and np.all(np.isfinite(sol.y[:, -1])) else u

    # ------------------------------------------------------------------ evaluation
    def rhs(self, x, p, t) -> np.ndarray:
        x = self.complete(x, p, t)
        out = np.zeros(len(self.net.reactions))
        dx = np.zeros(self.n_x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self.rates(x, p, t, out)
            dx[:self.n_s] = self.stoichiometry(x, p, t) @ out
            if len(self.rr_index):
                rr = np.zeros(len(self.rr_index))
                self.rr_func(x, p, t, rr)
                dx[self.rr_index] = rr
            if self.n_fast:
                jf_flat = np.zeros(self.n_fast * self.n_x)
                self.fast_jac(x, p, t, jf_flat)
                jf = jf_flat.reshape(self.n_fast, self.n_x)
                # d v_fast/dt = 0 along the solution: the fast extents' rates w solve
                # (J_f N_f) w = -J_f dx_slow (index reduction of the constraint)
                try:
                    w = np.linalg.solve(jf @ self.fast_n, -(jf @ dx))
                except np.linalg.LinAlgError:
                    w = np.linalg.lstsq(jf @ self.fast_n, -(jf @ dx), rcond=None)[0]
                dx += self.fast_n @ w
        if len(self.alg_index):
            dx[self.alg_index] = 0.0
        return dx

    def jacobian(self, x, p, t) -> np.ndarray:
        """Jacobian of the species' rates of change (only for models that compiled one:
        ``jac`` is not None)."""
        jac = self.jac
        assert jac is not None  # the solver asks for it only when it was compiled
        return self.stoich @ jac(x, t, parameters=p)

    def _eval(self, func, n, x, p, t) -> np.ndarray:
        out = np.zeros(n)
        if n:
            x = self.complete(x, p, t)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                try:
                    func(x, p, t, out)
                except (ZeroDivisionError, OverflowError, ValueError):
                    out[:] = np.nan
        return out

    def trigger_values(self, x, p, t) -> np.ndarray:
        return self._eval(self.triggers, len(self.events), x, p, t) != 0.0  # NaN is true

    def switch_values(self, x, p, t) -> np.ndarray:
        """Booleans: the triggers (event order), then the kinetic laws' relations."""
        return self._eval(self.switches, self.n_switches, x, p, t) != 0.0

    def atom_values(self, x, p, t) -> np.ndarray:
        return self._eval(self.atoms, self.n_atoms, x, p, t)

    def assignment_values(self, k, x, p, t) -> np.ndarray:
        out = np.zeros(len(self.events[k].assignments))
        x = self.complete(x, p, t)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            try:
                self.assign_funcs[k](x, p, t, out)
            except ZeroDivisionError:
                raise SimulationError(f"event '{self.events[k].id}': an assignment divides by "
                                      f"zero at t={t:g}") from None
        return out

    def priority(self, k, x, p, t) -> float:
        if not self.has_priority[k]:
            return -math.inf
        value = float(self._eval(self.priorities, len(self.events), x, p, t)[k])
        return value if not math.isnan(value) else -math.inf

    def delay_of(self, k, x, p, t) -> float:
        if not self.has_delay[k]:
            return 0.0
        value = float(self._eval(self.delays, len(self.events), x, p, t)[k])
        if not value >= 0:
            raise SimulationError(f"event '{self.events[k].id}' has delay {value:g} at "
                                  f"t={t:g}; a delay must be non-negative")
        return value

    def target_sizes(self, k, x, p) -> np.ndarray:
        """Per assignment of event ``k``: the size of a concentration target's
        compartment (1 for other targets)."""
        comps = self.events[k].concentration_compartments
        out = np.ones(len(self.events[k].assignments))
        for i, c in enumerate(comps):
            if c is not None and c in self.slots:
                array, index = self.slots[c]
                size = (x if array == "x" else p)[index]
                out[i] = size if size != 0 else 1.0
        return out

    def apply(self, k, values, x, p) -> None:
        """Perform event ``k``'s assignments in place (all values computed beforehand)."""
        for (array, index), value in zip(self.targets[k], values):
            (x if array == "x" else p)[index] = value


class _History:
    """Dense output of the accepted solver steps, for ``delay()``: the state at an
    earlier time; before t = 0 the initial state (SBML: the history is the initial
    value)."""

    def __init__(self) -> None:
        self.ends: list[float] = []
        self.pieces: list = []  # (t_start, t_end, dense or state array, parameters)
        #: (state, parameters) at t = 0
        self.initial: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, t0: float, t1: float, piece, p) -> None:
        self.ends.append(t1)
        self.pieces.append((t0, t1, piece, np.array(p, dtype=float)))

    def state(self, td: float, current, p_now):
        """(state, parameters) at time ``td``; the current ones past the history."""
        if self.initial is not None and td <= 0.0:
            return self.initial
        if not self.ends or td >= self.ends[-1]:
            return current, p_now
        import bisect

        k = bisect.bisect_left(self.ends, td)
        t0, t1, piece, p = self.pieces[k]
        if callable(piece):
            return np.asarray(piece(min(max(td, t0), t1)), dtype=float), p
        return piece, p


def _newton(residual, u, tol: float = 1e-12, max_iter: int = 50):
    """Newton's method with a finite-difference Jacobian and backtracking; None when it
    does not converge or the Jacobian is singular."""
    r = residual(u)
    if not np.all(np.isfinite(r)):
        return None
    scale = max(1.0, float(np.max(np.abs(u)))) if u.size else 1.0
    for _ in range(max_iter):
        norm = float(np.max(np.abs(r))) if r.size else 0.0
        if norm <= tol * max(1.0, scale):
            return u
        jac = np.empty((r.size, u.size))
        for i in range(u.size):
            h = 1e-7 * max(1.0, abs(u[i]))
            du = u.copy()
            du[i] += h
            jac[:, i] = (residual(du) - r) / h
        try:
            step = np.linalg.solve(jac, -r)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(jac, -r, rcond=None)[0]
            if not np.all(np.isfinite(step)):
                return None
        lam = 1.0
        while lam > 1e-6:
            trial = u + lam * step
            rt = residual(trial)
            if np.all(np.isfinite(rt)) and np.max(np.abs(rt)) < norm:
                break
            lam *= 0.5
        else:
            return u if norm <= 1e-8 * max(1.0, scale) else None
        u, r = trial, rt
    return u if float(np.max(np.abs(r))) <= 1e-8 * max(1.0, scale) else None


class _Run:
    """One simulation: the state (t, x, p), the stored trigger values, the queue of
    delayed event executions and the outputs."""

    def __init__(self, model: _EventModel, times, rtol, atol, method, wall_time=None,
                 seed=0):
        self.model = model
        self.times = times
        self.rtol, self.atol = rtol, atol
        if isinstance(method, str):
            if method not in _SOLVERS:
                raise ValueError(f"unknown ODE method '{method}'; use one of "
                                 f"{', '.join(_SOLVERS)}")
            self.solver_class = _SOLVERS[method]
        else:
            self.solver_class = method
        self.x = model.x0.copy()
        self.p = model.p0.copy()
        model.p_now = self.p
        self.t = 0.0
        self.amounts = np.empty((len(times), model.n_s))
        self.rules = np.empty((len(times), len(model.net.assignments)))
        self.params = np.empty((len(times), len(self.p)))
        self.next_out = 0
        self.n_fired = 0
        self.queue: list[tuple[float, int, _Pending]] = []  # (time, sequence, instance)
        self._trigger_time: float | None = None
        self.sequence = 0
        wall_time = clip_wall_time(wall_time)  # an enclosing analysis' limit (sbmlnoise._deadline)
        self.deadline = None if wall_time is None else _time.monotonic() + wall_time
        self.rng = np.random.default_rng(seed)
        self.wall_time = wall_time

    # ------------------------------------------------------------------ outputs
    def record(self, upto: float, source=None) -> None:
        """Fill outputs with time <= ``upto`` from ``source(t)`` (default: the state)."""
        times, m = self.times, self.model
        while self.next_out < len(times) and times[self.next_out] <= upto:
            tk = times[self.next_out]
            x = np.asarray(source(tk), float) if source is not None else self.x
            x = m.complete(x, self.p, tk)
            self.amounts[self.next_out] = x[:m.n_s]
            self.params[self.next_out] = self.p
            if len(m.extra_p):
                self.params[self.next_out, m.extra_p] = x[m.n_s:]
            if self.rules.shape[1]:
                self.rules[self.next_out] = m._eval(m.rule_func, self.rules.shape[1], x,
                                                    self.p, tk)
            self.next_out += 1

    def _output_in(self, upto: float) -> bool:
        return self.next_out < len(self.times) and self.times[self.next_out] <= upto

    # ------------------------------------------------------------------ events
    def execute(self, before: np.ndarray, due=()) -> np.ndarray:
        """Fire every event whose trigger went false -> true relative to ``before``
        (zero delay: now; otherwise queued), run ``due`` queued instances and the cascade
        at the current instant; returns the trigger values afterwards."""
        m, x, p, t = self.model, self.x, self.p, self.t
        stored = m.trigger_values(x, p, t)
        self._drop_fallen(before & ~stored)
        pending = list(due) + self._fire(np.flatnonzero(stored & ~before))
        count = 0
        while pending:
            current = m.trigger_values(x, p, t)
            pending = [q for q in pending if m.events[q.event].persistent or current[q.event]]
            if not pending:
                break
            chosen = pending.pop(self._choose(pending))
            if chosen.values is None:
                values = m.assignment_values(chosen.event, x, p, t)
            elif chosen.sizes is not None:
                # a concentration fixed at trigger time becomes an amount with the
                # compartment size at execution
                values = chosen.values * m.target_sizes(chosen.event, x, p) / chosen.sizes
            else:
                values = chosen.values
            m.apply(chosen.event, values, x, p)
            if m.n_constraints:
                x[:] = m.complete(x, p, t)
            self.n_fired += 1
            count += 1
            if count > MAX_CASCADE:
                raise SimulationError(f"more than {MAX_CASCADE} event executions at t={t:g} "
                                      f"(events keep re-triggering each other, e.g. "
                                      f"'{m.events[chosen.event].id}')")
            now = m.trigger_values(x, p, t)
            fallen = stored & ~now
            self._drop_fallen(fallen)
            pending = [q for q in pending
                       if m.events[q.event].persistent or not fallen[q.event]]
            pending.extend(self._fire(np.flatnonzero(now & ~stored)))
            stored = now
        return stored

    @property
    def trigger_time(self) -> float:
        return self.t if self._trigger_time is None else self._trigger_time

    @trigger_time.setter
    def trigger_time(self, value) -> None:
        self._trigger_time = value

    def _choose(self, pending) -> int:
        """Index of the instance to execute next: highest priority; among equal explicit
        priorities one at random (SBML L3: their order is random); events without a
        priority in document order."""
        m, x, p, t = self.model, self.x, self.p, self.t
        prios = [m.priority(q.event, x, p, t) for q in pending]
        top = max(prios)
        tied = [i for i, v in enumerate(prios) if v == top]
        if len(tied) > 1 and top != -math.inf:
            return tied[int(self.rng.integers(len(tied)))]
        return min(tied, key=lambda i: pending[i].event)

    def _fire(self, indices) -> list:
        """Instances of newly triggered events that execute now; delayed ones are queued."""
        now = []
        for k in indices:
            inst = self._instance(k)
            delay = self.model.delay_of(int(k), self.x, self.p, self.t)
            if delay > 0:
                self.sequence += 1
                # counted from the last instant before the trigger switched (the bracket
                # is a few ulps wide): an event at t = 1 with delay 2 executes at t = 3
                self.queue.append((self.trigger_time + delay, self.sequence, inst))
            else:
                now.append(inst)
        return now

    def _drop_fallen(self, fallen) -> None:
        """Queued instances of non-persistent events whose trigger turned false."""
        if not np.any(fallen) or not self.queue:
            return
        events = self.model.events
        self.queue = [q for q in self.queue
                      if events[q[2].event].persistent or not fallen[q[2].event]]

    def _due(self) -> list:
        """Queued instances whose execution time has come (removed from the queue)."""
        due = [q for q in self.queue if q[0] <= self.t]
        self.queue = [q for q in self.queue if q[0] > self.t]
        return [q[2] for q in sorted(due, key=lambda q: (q[0], q[1]))]

    def _instance(self, k: int) -> _Pending:
        m = self.model
        if not m.events[k].use_values_from_trigger_time:
            return _Pending(int(k), None)
        values = m.assignment_values(k, self.x, self.p, self.t)
        sizes = None
        if m.has_delay[k] and any(c is not None for c in m.events[k].concentration_compartments):
            sizes = m.target_sizes(k, self.x, self.p)
        return _Pending(int(k), values, sizes)

    # ------------------------------------------------------------------ switching
    @staticmethod
    def _sign_changes(atoms_a, atoms_b) -> np.ndarray:
        """Indices of indicators whose sign differs between the two ends of a step."""
        finite = np.isfinite(atoms_a) & np.isfinite(atoms_b)
        return np.flatnonzero(finite & (np.sign(atoms_a) != np.sign(atoms_b)))

    def _find_switch(self, ta, tb, dense, stored, atoms_a, atoms_b, flags_b):
        """First instant in (ta, tb] where the switch booleans differ from ``stored``:
        ``(lo, hi)`` with no change at ``lo`` and a change at ``hi``, or None.
        ``atoms_b``/``flags_b`` are the indicators and switches at ``tb``."""
        m, p = self.model, self.p

        def differs(s):
            if s == tb:
                return bool(np.any(flags_b != stored))
            return bool(np.any(m.switch_values(dense(s), p, s) != stored))

        candidates = []
        for k in self._sign_changes(atoms_a, atoms_b):
            ga, gb = atoms_a[k], atoms_b[k]
            if ga == 0.0:
                candidates.append(ta)
            elif gb == 0.0:
                candidates.append(tb)
            else:
                def g(s, k=k):
                    return m.atom_values(dense(s), p, s)[k]
                xtol = 4 * _EPS * max(1.0, abs(tb))
                try:
                    candidates.append(brentq(g, ta, tb, xtol=xtol, rtol=4 * _EPS))
                except (ValueError, RuntimeError):
                    candidates.append(tb)
        lo = ta
        for c in sorted(candidates):
            if c < lo:
                continue
            scale = 4 * _EPS * max(1.0, abs(c))
            below = c - 16.0 * scale  # a tight bracket saves bisection steps
            if lo < below < c and not differs(below):
                lo = below
            for mult in (0.0, 1.0, 16.0, 256.0, 4096.0, 65536.0):
                hi = min(c + mult * scale, tb)
                if hi <= lo:
                    continue
                if differs(hi):
                    return self._bisect(lo, hi, differs)
                lo = hi
                if hi >= tb:
                    break
        if tb > lo and differs(tb):
            return self._bisect(lo, tb, differs)
        return None

    @staticmethod
    def _bisect(lo, hi, differs):
        while hi - lo > 2 * _EPS * max(1.0, abs(hi)):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            if differs(mid):
                hi = mid
            else:
                lo = mid
        return lo, hi

    # ------------------------------------------------------------------ driver
    def _solver(self, t_end):
        m = self.model
        p = self.p.copy()
        m.p_now = p

        def fun(t, x):
            return m.rhs(x, p, t)

        kwargs = {}
        if m.jac is not None and self.solver_class in (LSODA, BDF, Radau):
            kwargs["jac"] = lambda t, x: m.jacobian(x, p, t)
        if math.isfinite(m.max_step):
            kwargs["max_step"] = m.max_step
        return self.solver_class(fun, self.t, self.x.copy(), t_end, rtol=self.rtol,
                                 atol=self.atol, **kwargs)

    def _check_time(self) -> None:
        if self.deadline is not None and _time.monotonic() > self.deadline:
            raise SimulationError(f"ODE integration of model '{self.model.net.id}' stopped "
                                  f"after the wall-time limit of {self.wall_time:g} s at "
                                  f"t={self.t:g} (of {self.times[-1]:g})")

    def run(self) -> None:
        m = self.model
        n_events = len(m.events)
        # the history before t = 0 is the initial state as given (fast reactions reach
        # equilibrium at t = 0, not before: SBML Test Suite case 01539)
        m.history.initial = (self.x.copy(), self.p.copy())
        self.x = m.complete(self.x, self.p, self.t)
        if m.net.n_reactions:

            rates = np.zeros(m.net.n_reactions)
            with np.errstate(all="ignore"):
                try:
                    m.rates(self.x, self.p, self.t, rates)
                except ZeroDivisionError:
                    rates[:] = np.nan
            check_finite_rates(m.net, rates, self.p)
        self.execute(np.array([e.initial_value for e in m.events], dtype=bool))
        stored = m.switch_values(self.x, self.p, self.t)
        self.record(self.t)
        t_final = float(self.times[-1])
        while self.t < t_final or (self.queue and min(q[0] for q in self.queue) <= self.t):
            if self.queue and min(q[0] for q in self.queue) <= self.t:
                self.execute(stored[:n_events], self._due())
                stored = m.switch_values(self.x, self.p, self.t)
                if m.net.has_delays:
                    m.history.add(self.t, self.t, self.x.copy(), self.p)
                self.record(self.t)
                continue
            t_end = min([t_final] + [q[0] for q in self.queue])
            solver = self._solver(t_end)
            atoms_a = m.atom_values(self.x, self.p, self.t)
            restart = False
            while solver.status == "running":
                self._check_time()
                message = solver.step()
                if solver.status == "failed":
                    raise SimulationError(f"ODE integration of model '{m.net.id}' failed at "
                                          f"t={solver.t:g}: {message}")
                ta, tb = solver.t_old, solver.t
                y_b = np.asarray(solver.y, dtype=float).copy()
                if not np.all(np.isfinite(y_b)):
                    raise SimulationError(f"ODE solution of model '{m.net.id}' diverged "
                                          f"(non-finite values by t={tb:g})")
                flags_b = m.switch_values(y_b, self.p, tb)
                atoms_b = m.atom_values(y_b, self.p, tb)
                quiet = not np.any(flags_b != stored) and \
                    not len(self._sign_changes(atoms_a, atoms_b))
                need_dense = not quiet or self._output_in(tb) or m.net.has_delays
                dense = solver.dense_output() if need_dense else None
                switch = None if quiet else \
                    self._find_switch(ta, tb, dense, stored, atoms_a, atoms_b, flags_b)
                if switch is None:
                    if dense is not None:
                        if m.net.has_delays:
                            m.history.add(ta, tb, dense, self.p)
                        self.record(tb if tb < t_end or tb >= t_final else
                                    np.nextafter(tb, -math.inf), dense)
                    self.x, self.t = y_b, tb
                    stored, atoms_a = flags_b, atoms_b
                    continue
                lo, hi = switch
                assert dense is not None  # a switch is only searched on dense output
                if m.net.has_delays:
                    m.history.add(ta, lo, dense, self.p)
                self.record(lo, dense)
                self.t = hi
                self.x = np.asarray(dense(hi), dtype=float).copy()
                self.trigger_time = lo
                self.execute(stored[:n_events])
                self.trigger_time = None
                stored = m.switch_values(self.x, self.p, self.t)
                if m.net.has_delays:
                    m.history.add(hi, hi, self.x.copy(), self.p)
                self.record(hi)
                restart = True
                break
            if not restart:
                self.t = max(self.t, t_end)
                if m.net.has_delays:
                    m.history.add(self.t, self.t, self.x.copy(), self.p)
        self.record(math.inf)


def simulate_with_events(net: ReactionNetwork, times, *, rtol: float = 1e-8,
                         atol: float = 1e-12, method="LSODA", wall_time: float | None = None,
                         rules: bool = False, seed: int | None = 0):
    """Integrate the reaction-rate equations of a network with events.

    Parameters
    ----------
    net : ReactionNetwork
        A network whose :attr:`~ReactionNetwork.events` are executed as SBML L3V2 events
        without delay (see the module docstring for the semantics).
    times : array_like, shape (n_times,)
        Sorted, non-negative output times (model time units). Integration starts at 0.
    rtol, atol : float
        Solver tolerances (``atol`` in model substance units).
    method : str or scipy.integrate.OdeSolver subclass
        ``"LSODA"`` (default), ``"BDF"``, ``"Radau"``, ``"RK45"``, ``"RK23"`` or
        ``"DOP853"``.

    Returns
    -------
    amounts : ndarray, shape (n_times, n_species)
        Species amounts (model substance units) at ``times``; at an event instant the
        values after the events.
    params : ndarray, shape (n_times, n_parameters) or None
        The parameter vector (``net.parameters`` order, compartment sizes included) in
        force at each output time, or None when no event assigns a parameter or
        compartment (then it is ``net.parameter_values`` throughout).

    Raises
    ------
    SimulationError
        The integrator fails, or events re-trigger each other endlessly at one instant.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model m; X -> ; k*X; k = 1; X = 10; "
    ...               "E1: at (X < 1): X = 10; end")
    >>> amounts, params = simulate_with_events(net, [0.0, 2.0])
    >>> round(float(amounts[1, 0]), 6)   # no event before ln(10) = 2.303
    1.353353
    """
    times = np.asarray(times, dtype=float).ravel()
    if times.size == 0:
        raise ValueError("times must not be empty")
    if np.any(~np.isfinite(times)) or np.any(times < 0) or np.any(np.diff(times) < 0):
        raise ValueError("times must be finite, non-negative and sorted")
    model = _EventModel(net)
    run = _Run(model, times, rtol, atol, method, wall_time, seed)
    run.run()
    params = run.params if model.changes_parameters else None
    if rules:
        return run.amounts, params, run.rules
    return run.amounts, params


def check_finite_rates(net: ReactionNetwork, rates, params) -> None:
    """Raise :class:`SimulationError` naming the first reaction whose rate at the start
    is infinite or NaN (and the non-finite parameters it uses): integrating from there
    would only produce NaN or make the solver step forever."""
    rates = np.asarray(rates, dtype=float)
    bad = np.flatnonzero(~np.isfinite(rates))
    if not bad.size:
        return
    reaction = net.reactions[int(bad[0])]
    from .. import expr as ex

    used = ex.symbols(reaction.rate)
    culprits = [f"{pid} = {v:g}" for pid, v in zip(net.parameter_ids, params)
                if pid in used and not math.isfinite(v)]
    why = f" (it uses {', '.join(culprits)})" if culprits else \
        " (e.g. a division by a species that is zero)"
    raise SimulationError(f"rate of reaction '{reaction.sbml_id or reaction.id}' is not "
                          f"finite ({rates[bad[0]]:g}) at t=0{why}; fix the model's values")
