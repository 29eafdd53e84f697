"""SBML events (without delay) for the reaction-rate equations.

:func:`simulate_with_events` integrates ``d amount / dt = N v(amount, p, t)`` piecewise
between events, following the SBML Level 3 Version 2 specification (Hucka et al. 2019,
section 4.12, doi:10.1515/jib-2019-0021):

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
  and events without priority run in document order (SBML leaves their order to chance;
  a fixed order keeps runs reproducible). When
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
from dataclasses import dataclass

import numpy as np
from scipy.integrate import BDF, DOP853, LSODA, RK23, RK45, Radau
from scipy.optimize import brentq

from . import expr as ex
from .errors import ModelError, SimulationError, UnsupportedFeature
from .network import ReactionNetwork

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


def _stoichiometry_slopes(net: ReactionNetwork, ref_ids) -> list[tuple[int, np.ndarray]]:
    """For each species-reference id in ``ref_ids``: (parameter index, d N / d value),
    where N is the net stoichiometry (n_species, n_reactions) of ``net``'s channels.

    The channels do not record which species reference they came from, so the SBML
    document (``net.sbml``) is read again to map reference ids to reactions and roles.
    """
    if not ref_ids:
        return []
    import libsbml

    model = libsbml.readSBMLFromString(net.sbml).getModel()
    roles: dict[str, tuple[str, str, float]] = {}  # ref id -> (reaction id, species, sign)
    for r in model.getListOfReactions():
        for sign, refs in ((-1.0, r.getListOfReactants()), (1.0, r.getListOfProducts())):
            for ref in refs:
                if ref.isSetId():
                    roles[ref.getId()] = (r.getId(), ref.getSpecies(), sign)
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
        slopes.append((net.parameter_ids.index(ref_id), slope))
    return slopes


class _EventModel:
    """Compiled pieces of a network with events: everything takes ``(x, p, t)``."""

    def __init__(self, net: ReactionNetwork):
        self.net = net
        slots = net.slots
        self.n_x = net.n_species
        self.stoich = np.asarray(net.stoichiometry, dtype=float)
        self.rates = ex.compile_vector([r.rate for r in net.reactions], slots,
                                       net.id + ".event_rates")
        try:
            flat = [e for row in net.rate_jacobian_expressions for e in row]
            self.jac = ex.compile_vector(flat, slots, net.id + ".event_jacobian")
        except UnsupportedFeature:
            self.jac = None
        events = net.events
        self.events = events
        self.triggers = ex.compile_vector([e.trigger for e in events], slots,
                                          net.id + ".triggers")
        # switches: the triggers, then the relations inside kinetic laws that depend on
        # the state or time (piecewise rates); the integrator restarts where any flips
        varying = set(net.species_ids) | {ex.TIME}
        rate_relations: list[ex.Apply] = []
        for r in net.reactions:
            for node in _relations(r.rate):
                if node not in rate_relations and ex.symbols(node) & varying:
                    rate_relations.append(node)
        self.switches = ex.compile_vector([e.trigger for e in events] + rate_relations, slots,
                                          net.id + ".switches")
        self.n_switches = len(events) + len(rate_relations)
        atoms: list[ex.Expr] = []
        for node in [n for e in events for n in _relations(e.trigger)] + rate_relations:
            atom = ex.sub(node.args[0], node.args[1])
            if atom not in atoms and ex.symbols(atom):
                atoms.append(atom)
        self.n_atoms = len(atoms)
        self.atoms = ex.compile_vector(atoms, slots, net.id + ".trigger_atoms")
        self.has_priority = np.array([e.priority is not None for e in events])
        self.priorities = ex.compile_vector([e.priority if e.priority is not None else ex.ZERO
                                             for e in events], slots, net.id + ".priorities")
        kinds = {p.id: p.kind for p in net.parameters}
        self.assign_funcs = []
        self.targets = []  # per event: list of (array "x"|"p", index)
        self.changes_parameters = False
        stoich_targets: set[str] = set()
        for e in events:
            targets = []
            for var, _ in e.assignments:
                if var not in slots:
                    raise ModelError(f"event '{e.id}' assigns '{var}', which is not a species, "
                                     "parameter or compartment of the network (a variable "
                                     "defined by an assignment rule cannot be assigned)")
                if kinds.get(var) == "stoichiometry":
                    stoich_targets.add(var)
                if kinds.get(var) == "local":
                    raise ModelError(f"event '{e.id}' assigns the local parameter '{var}'")
                array, index = slots[var]
                if array == "p":
                    self.changes_parameters = True
                targets.append((array, index))
            self.targets.append(targets)
            self.assign_funcs.append(ex.compile_vector([v for _, v in e.assignments], slots,
                                                       f"{net.id}.{e.id}.assignments"))
        self.p0 = net.parameter_values.astype(float).copy()
        self.stoich_slopes = _stoichiometry_slopes(net, sorted(stoich_targets))

    def stoichiometry(self, p) -> np.ndarray:
        """Net stoichiometry for parameter vector ``p`` (stoichiometries set by events)."""
        if not self.stoich_slopes:
            return self.stoich
        out = self.stoich.copy()
        for j, slope in self.stoich_slopes:
            out += (p[j] - self.p0[j]) * slope
        return out

    # ------------------------------------------------------------------ evaluation
    def rhs(self, x, p, t, stoich) -> np.ndarray:
        out = np.zeros(len(self.net.reactions))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self.rates(x, p, t, out)
        return stoich @ out

    def jacobian(self, x, p, t, stoich) -> np.ndarray:
        n_r = len(self.net.reactions)
        out = np.zeros(n_r * self.n_x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self.jac(x, p, t, out)
        return stoich @ out.reshape(n_r, self.n_x)

    def trigger_values(self, x, p, t) -> np.ndarray:
        out = np.zeros(len(self.events))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            try:
                self.triggers(x, p, t, out)
            except (ZeroDivisionError, OverflowError, ValueError):
                out[:] = np.nan
        return out != 0.0  # NaN counts as true, like a nonzero number

    def switch_values(self, x, p, t) -> np.ndarray:
        """Booleans: the triggers (event order), then the kinetic laws' relations."""
        out = np.zeros(self.n_switches)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            try:
                self.switches(x, p, t, out)
            except (ZeroDivisionError, OverflowError, ValueError):
                out[:] = np.nan
        return out != 0.0

    def atom_values(self, x, p, t) -> np.ndarray:
        out = np.zeros(self.n_atoms)
        if self.n_atoms:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                try:
                    self.atoms(x, p, t, out)
                except (ZeroDivisionError, OverflowError, ValueError):
                    out[:] = np.nan
        return out

    def assignment_values(self, k, x, p, t) -> np.ndarray:
        out = np.zeros(len(self.events[k].assignments))
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
        out = np.zeros(len(self.events))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self.priorities(x, p, t, out)
        value = float(out[k])
        return value if not math.isnan(value) else -math.inf

    def apply(self, k, values, x, p) -> None:
        """Perform event ``k``'s assignments in place (all values computed beforehand)."""
        for (array, index), value in zip(self.targets[k], values):
            (x if array == "x" else p)[index] = value


class _Run:
    """One simulation: the state (t, x, p), the stored trigger values and the outputs."""

    def __init__(self, model: _EventModel, times, rtol, atol, method):
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
        net = model.net
        self.x = net.initial_amounts.astype(float).copy()
        self.p = net.parameter_values.astype(float).copy()
        self.t = 0.0
        self.amounts = np.empty((len(times), model.n_x))
        self.params = np.empty((len(times), len(self.p)))
        self.next_out = 0
        self.n_fired = 0

    # ------------------------------------------------------------------ outputs
    def record(self, upto: float, source=None) -> None:
        """Fill outputs with time <= ``upto`` from ``source(t)`` (default: the state)."""
        times = self.times
        while self.next_out < len(times) and times[self.next_out] <= upto:
            tk = times[self.next_out]
            self.amounts[self.next_out] = source(tk) if source is not None else self.x
            self.params[self.next_out] = self.p
            self.next_out += 1

    def _output_in(self, upto: float) -> bool:
        return self.next_out < len(self.times) and self.times[self.next_out] <= upto

    # ------------------------------------------------------------------ events
    def execute(self, before: np.ndarray) -> np.ndarray:
        """Fire every event whose trigger went false -> true relative to ``before``,
        run the cascade at the current instant; returns the trigger values afterwards."""
        m, x, p, t = self.model, self.x, self.p, self.t
        stored = m.trigger_values(x, p, t)
        pending = [self._instance(k) for k in np.flatnonzero(stored & ~before)]
        count = 0
        while pending:
            current = m.trigger_values(x, p, t)
            pending = [q for q in pending if m.events[q.event].persistent or current[q.event]]
            if not pending:
                break
            best = max(range(len(pending)),
                       key=lambda i: (m.priority(pending[i].event, x, p, t), -pending[i].event))
            chosen = pending.pop(best)
            values = chosen.values if chosen.values is not None else \
                m.assignment_values(chosen.event, x, p, t)
            m.apply(chosen.event, values, x, p)
            self.n_fired += 1
            count += 1
            if count > MAX_CASCADE:
                raise SimulationError(f"more than {MAX_CASCADE} event executions at t={t:g} "
                                      f"(events keep re-triggering each other, e.g. "
                                      f"'{m.events[chosen.event].id}')")
            now = m.trigger_values(x, p, t)
            pending.extend(self._instance(k) for k in np.flatnonzero(now & ~stored))
            stored = now
        return stored

    def _instance(self, k: int) -> _Pending:
        m = self.model
        values = m.assignment_values(k, self.x, self.p, self.t) \
            if m.events[k].use_values_from_trigger_time else None
        return _Pending(int(k), values)

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
        stoich = m.stoichiometry(p)

        def fun(t, x):
            return m.rhs(x, p, t, stoich)

        kwargs = {}
        if m.jac is not None and self.solver_class in (LSODA, BDF, Radau):
            kwargs["jac"] = lambda t, x: m.jacobian(x, p, t, stoich)
        return self.solver_class(fun, self.t, self.x.copy(), t_end, rtol=self.rtol,
                                 atol=self.atol, **kwargs)

    def run(self) -> None:
        m = self.model
        n_events = len(m.events)
        self.execute(np.array([e.initial_value for e in m.events], dtype=bool))
        stored = m.switch_values(self.x, self.p, self.t)
        self.record(self.t)
        t_end = float(self.times[-1])
        while self.t < t_end:
            solver = self._solver(t_end)
            atoms_a = m.atom_values(self.x, self.p, self.t)
            restart = False
            while solver.status == "running":
                message = solver.step()
                if solver.status == "failed":
                    raise SimulationError(f"ODE integration of model '{m.net.id}' failed at "
                                          f"t={solver.t:g}: {message}")
                ta, tb = solver.t_old, solver.t
                y_b = np.asarray(solver.y, dtype=float).copy()
                flags_b = m.switch_values(y_b, self.p, tb)
                atoms_b = m.atom_values(y_b, self.p, tb)
                quiet = not np.any(flags_b != stored) and \
                    not len(self._sign_changes(atoms_a, atoms_b))
                dense = None if quiet and not self._output_in(tb) else solver.dense_output()
                switch = None if quiet else \
                    self._find_switch(ta, tb, dense, stored, atoms_a, atoms_b, flags_b)
                if switch is None:
                    if dense is not None:
                        self.record(tb, dense)
                    self.x, self.t = y_b, tb
                    stored, atoms_a = flags_b, atoms_b
                    continue
                lo, hi = switch
                self.record(lo, dense)
                self.t = hi
                self.x = np.asarray(dense(hi), dtype=float).copy()
                self.execute(stored[:n_events])
                stored = m.switch_values(self.x, self.p, self.t)
                self.record(hi)
                restart = True
                break
            if not restart:
                self.t = max(self.t, t_end)
                break
        self.record(math.inf)


def simulate_with_events(net: ReactionNetwork, times, *, rtol: float = 1e-8,
                         atol: float = 1e-12, method="LSODA"):
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
    run = _Run(model, times, rtol, atol, method)
    run.run()
    return run.amounts, (run.params if model.changes_parameters else None)
