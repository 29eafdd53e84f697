"""The reaction network: one immutable object that every analysis reads.

Conventions (they hold for every backend):

* **State.** The state vector holds the *amount* of every species that is not defined by
  an assignment rule, in the model's substance units, in :attr:`ReactionNetwork.species`
  order. Boundary and constant species are part of the state but no reaction changes them
  (their rows of :attr:`~ReactionNetwork.stoichiometry` are zero).
* **Rates.** ``Reaction.rate`` is the SBML kinetic law with function definitions, local
  parameters and assignment rules resolved, and with every species symbol rewritten to mean
  the species' *amount*: a concentration-valued symbol ``S`` of the file becomes
  ``S / V_c``. The rate is the reaction extent per unit time (substance units / time).
* **Counts.** Stochastic backends work in molecule counts ``n = Omega * amount`` where
  ``Omega`` is :attr:`ReactionNetwork.system_size` (molecules per model substance unit: 1
  for ``item`` or undefined units, Avogadro's number times the unit's scale for ``mole``,
  or what the user passed as ``system_size``). The propensity of reaction ``j`` is

      a_j(n) = Omega * v_j(n / Omega),

  i.e. the SBML kinetic law evaluated as written (no hidden combinatorial correction). For
  ``2A -> 0`` a law ``k*A*(A-1)/2`` with ``Omega = 1`` gives the textbook propensity
  ``k n (n-1) / 2``; a law ``k*A^2`` gives ``k n^2`` -- write the law you mean.
* **Time.** The model's time unit; rates are per that unit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Callable

import networkx as nx
import numpy as np

from . import expr as ex
from .errors import UnsupportedFeature


@dataclass(frozen=True)
class Species:
    """One state species. ``initial_amount`` is in model substance units."""

    id: str
    name: str
    compartment: str
    initial_amount: float
    boundary: bool = False
    constant: bool = False
    has_only_substance_units: bool = False


@dataclass(frozen=True)
class Compartment:
    id: str
    name: str
    size: float
    spatial_dimensions: float = 3.0
    constant: bool = True


@dataclass(frozen=True)
class Parameter:
    """A constant value addressable by math: a global parameter, a compartment size,
    a reaction-local parameter (id ``"<reaction>.<local id>"``) or a species reference's
    stoichiometry."""

    id: str
    value: float
    kind: str = "global"  # "global" | "compartment" | "local" | "stoichiometry"
    name: str = ""


@dataclass(frozen=True)
class MassAction:
    """``rate = rate_constant * prod_i amount_i ** order``, in model substance units.

    ``rate_constant_expr`` is the same constant as a tree over parameter ids, so derived
    quantities (e.g. a changed parameter) can be recomputed.
    """

    rate_constant: float
    orders: tuple[tuple[str, int], ...]
    rate_constant_expr: ex.Expr = ex.ONE


@dataclass(frozen=True)
class Reaction:
    """One reaction channel.

    A reversible SBML reaction whose law splits into a forward and a backward mass-action
    term becomes two channels, ``direction`` ``"forward"`` and ``"reverse"``, sharing
    ``sbml_id``. ``reactants``/``products`` are ``(species id, stoichiometry)`` pairs.
    """

    id: str
    name: str
    reactants: tuple[tuple[str, float], ...]
    products: tuple[tuple[str, float], ...]
    rate: ex.Expr
    modifiers: tuple[str, ...] = ()
    reversible: bool = False
    sbml_id: str = ""
    direction: str = "net"
    mass_action: MassAction | None = None


@dataclass(frozen=True)
class Event:
    """An SBML event (trigger, assignments, priority and delay in amount semantics).
    ``delay`` is None for an event that executes when it fires."""

    id: str
    trigger: ex.Expr
    assignments: tuple[tuple[str, ex.Expr], ...]
    initial_value: bool = True
    persistent: bool = True
    priority: ex.Expr | None = None
    use_values_from_trigger_time: bool = True
    delay: ex.Expr | None = None
    #: per assignment: the compartment of a concentration species target (the amount
    #: assigned is concentration x size *at execution*), else None
    concentration_compartments: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class FastReaction:
    """An SBML reaction marked ``fast``: it is held at equilibrium (``rate == 0``) at all
    times, an algebraic constraint. ``stoichiometry`` is the net change of each species
    per unit extent (conversion factors applied, boundary/constant species left out)."""

    id: str
    rate: ex.Expr
    stoichiometry: tuple[tuple[str, float], ...]


@dataclass(frozen=True, eq=False)
class ReactionNetwork:
    """An imported model; see the module docstring for units and conventions."""

    id: str
    name: str
    species: tuple[Species, ...]
    reactions: tuple[Reaction, ...]
    parameters: tuple[Parameter, ...]
    compartments: tuple[Compartment, ...] = ()
    assignments: tuple[tuple[str, ex.Expr], ...] = ()
    conversion_factors: tuple[tuple[str, float], ...] = ()
    events: tuple[Event, ...] = ()
    system_size: float = 1.0
    system_size_source: str = "default"
    substance_units: str = "undefined"
    sbml: str = ""
    source_path: str | None = None
    warnings: tuple[str, ...] = ()
    concentration_species: tuple[str, ...] = field(default=())
    #: (variable, d variable / dt): rate rules; a species' derivative is of its *amount*
    rate_rules: tuple[tuple[str, ex.Expr], ...] = ()
    #: expressions constrained to 0 (algebraic rules), and the variables they determine
    algebraic_rules: tuple[ex.Expr, ...] = ()
    algebraic_variables: tuple[str, ...] = ()
    #: fast reactions (kept at equilibrium; their channels are not in ``reactions``)
    fast_reactions: tuple[FastReaction, ...] = ()
    #: species-reference stoichiometries defined by an assignment rule: (id, tree, value
    #: used in :attr:`stoichiometry`)
    variable_stoichiometry: tuple[tuple[str, ex.Expr, float], ...] = ()
    #: (reference id, SBML reaction id, species, -1 reactant / +1 product) of every species
    #: reference with an id or a stoichiometryMath
    species_references: tuple[tuple[str, str, str, float], ...] = ()
    #: initial assignments that use ``time`` (amount semantics): they define the history
    #: before t = 0 that ``delay()`` reads
    initial_history: tuple[tuple[str, ex.Expr], ...] = ()

    # ------------------------------------------------------------------ ids and indices
    @cached_property
    def species_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.species)

    @cached_property
    def reaction_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.reactions)

    @cached_property
    def parameter_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.parameters)

    @cached_property
    def species_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.species_ids)}

    @property
    def n_species(self) -> int:
        return len(self.species)

    @property
    def n_reactions(self) -> int:
        return len(self.reactions)

    def index(self, species: str) -> int:
        """Position of ``species`` in the state vector (``KeyError`` names it)."""
        try:
            return self.species_index[species]
        except KeyError:
            raise KeyError(f"no species '{species}' in model '{self.id}'; "
                           f"species are {', '.join(self.species_ids)}") from None

    # ------------------------------------------------------------------ values
    @cached_property
    def parameter_values(self) -> np.ndarray:
        return np.array([p.value for p in self.parameters], dtype=float)

    @cached_property
    def initial_amounts(self) -> np.ndarray:
        """Initial state in model substance units, shape (n_species,)."""
        return np.array([s.initial_amount for s in self.species], dtype=float)

    @cached_property
    def initial_state(self) -> np.ndarray:
        """Initial state in molecule counts (``system_size * initial_amounts``)."""
        return self.system_size * self.initial_amounts

    @cached_property
    def slots(self) -> dict[str, tuple[str, int]]:
        """Symbol name -> ("x", state index) or ("p", parameter index)."""
        slots: dict[str, tuple[str, int]] = {}
        for i, p in enumerate(self.parameters):
            slots[p.id] = ("p", i)
        for i, s in enumerate(self.species):
            slots[s.id] = ("x", i)
        return slots

    # ------------------------------------------------------------------ stoichiometry
    def _stoich(self, which: str) -> np.ndarray:
        out = np.zeros((self.n_species, self.n_reactions))
        for j, r in enumerate(self.reactions):
            for sid, nu in getattr(r, which):
                out[self.species_index[sid], j] += nu
        return out

    @cached_property
    def reactant_stoichiometry(self) -> np.ndarray:
        """(n_species, n_reactions): how many of each species a reaction consumes."""
        return self._stoich("reactants")

    @cached_property
    def product_stoichiometry(self) -> np.ndarray:
        """(n_species, n_reactions): how many of each species a reaction produces."""
        return self._stoich("products")

    @cached_property
    def stoichiometry(self) -> np.ndarray:
        """Net stoichiometry (n_species, n_reactions): products - reactants, scaled by
        conversion factors; zero rows for boundary and constant species."""
        net = self.product_stoichiometry - self.reactant_stoichiometry
        factors = dict(self.conversion_factors)
        for i, s in enumerate(self.species):
            if s.boundary or s.constant:
                net[i, :] = 0.0
            elif s.id in factors:
                net[i, :] *= factors[s.id]
        net.setflags(write=False)
        return net

    @cached_property
    def sparse_stoichiometry(self):
        """The net stoichiometry as a ``scipy.sparse.csc_array``."""
        import scipy.sparse as sps

        return sps.csc_array(self.stoichiometry)

    @cached_property
    def integer_stoichiometry(self) -> bool:
        n = self.stoichiometry
        return bool(np.all(np.abs(n - np.round(n)) < 1e-12))

    # ------------------------------------------------------------------ conservation
    @cached_property
    def conservation_laws(self) -> np.ndarray:
        """Integer basis of the left null space of the stoichiometry, shape
        (n_laws, n_species): each row ``L`` satisfies ``L @ stoichiometry == 0``, so
        ``L @ x`` is constant along every trajectory. Rows are in reduced row-echelon
        form scaled to coprime integers."""
        n = self.stoichiometry
        if n.size == 0:
            return np.eye(self.n_species, dtype=np.int64)
        if np.linalg.matrix_rank(n) == self.n_species:
            return np.zeros((0, self.n_species), dtype=np.int64)
        rows = []
        for vec in _rational_left_null_space(n):
            denominators = [q.denominator for q in vec]
            scale = int(np.lcm.reduce(denominators)) if denominators else 1
            ints = [int(q * scale) for q in vec]
            g = int(np.gcd.reduce(np.abs(ints))) or 1
            ints = [v // g for v in ints]
            first = next((v for v in ints if v != 0), 1)
            rows.append([-v for v in ints] if first < 0 else ints)
        if not rows:
            return np.zeros((0, self.n_species), dtype=np.int64)
        return np.array(rows, dtype=np.int64)

    @cached_property
    def independent_species(self) -> tuple[int, ...]:
        """Indices of a maximal set of species whose amounts determine the rest through
        the conservation laws (the reduced system of Reder 1988)."""
        dependent = set(self._dependent_pivots)
        return tuple(i for i in range(self.n_species) if i not in dependent)

    @cached_property
    def _dependent_pivots(self) -> tuple[int, ...]:
        laws = self.conservation_laws
        if laws.shape[0] == 0:
            return ()
        # pick pivots from the right so that "upstream" species stay independent
        pivots = _rref_pivots([[Fraction(int(v)) for v in row[::-1]] for row in laws])
        return tuple(sorted(self.n_species - 1 - p for p in pivots))

    @cached_property
    def link_matrix(self) -> np.ndarray:
        """``L0`` with ``x = L0 @ x_independent + offset`` for states sharing the initial
        state's conserved totals (shape (n_species, n_independent))."""
        ind = list(self.independent_species)
        dep = list(self._dependent_pivots)
        laws = self.conservation_laws.astype(float)
        link = np.zeros((self.n_species, len(ind)))
        link[ind, range(len(ind))] = 1.0
        if dep:
            a_dep = laws[:, dep]
            a_ind = laws[:, ind]
            link[dep, :] = -np.linalg.solve(a_dep, a_ind)
        return link

    # ------------------------------------------------------------------ evaluation
    @cached_property
    def _rate_function(self) -> Callable:
        return ex.compile_vector([r.rate for r in self.reactions], self.slots, self.id + ".rates")

    def rates(self, amounts, t: float = 0.0) -> np.ndarray:
        """Reaction rates (extent per time) at ``amounts`` (model substance units)."""
        out = np.zeros(self.n_reactions)
        x = np.asarray(amounts, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._rate_function(x, self.parameter_values, float(t), out)

    def propensities(self, counts, t: float = 0.0) -> np.ndarray:
        """Propensities (events per time) at molecule ``counts``:
        ``a(n) = system_size * rates(n / system_size)``."""
        omega = self.system_size
        return omega * self.rates(np.asarray(counts, dtype=float) / omega, t)

    @cached_property
    def propensity_expressions(self) -> tuple[ex.Expr, ...]:
        """Propensity trees over counts (species symbols mean counts)."""
        omega = self.system_size
        if omega == 1.0:
            return tuple(r.rate for r in self.reactions)
        scaled = {s: ex.div(ex.Sym(s), ex.Num(omega)) for s in self.species_ids}
        return tuple(ex.mul(ex.Num(omega), ex.substitute(r.rate, scaled)) for r in self.reactions)

    @cached_property
    def rate_jacobian_expressions(self) -> tuple[tuple[ex.Expr, ...], ...]:
        """d rate_j / d amount_i as trees, indexed [j][i] (zero where rate_j does not
        depend on species i)."""
        rows = []
        for r in self.reactions:
            used = ex.symbols(r.rate)
            rows.append(tuple(ex.diff(r.rate, s) if s in used else ex.ZERO
                              for s in self.species_ids))
        return tuple(rows)

    @cached_property
    def _rate_jacobian_function(self):
        entries = [(j, i, e) for j, row in enumerate(self.rate_jacobian_expressions)
                   for i, e in enumerate(row) if e != ex.ZERO]
        rows = np.array([j for j, _, _ in entries], dtype=np.int64)
        cols = np.array([i for _, i, _ in entries], dtype=np.int64)
        func = ex.compile_vector([e for _, _, e in entries], self.slots, self.id + ".jacobian")
        return func, rows, cols

    def rate_jacobian(self, amounts, t: float = 0.0, parameters=None) -> np.ndarray:
        """Exact d rates / d amounts, shape (n_reactions, n_species), at the model's
        parameter values or at ``parameters`` (ordered as ``parameter_ids``: values an
        event has changed). Only the non-zero entries are evaluated."""
        func, rows, cols = self._rate_jacobian_function
        values = np.zeros(len(rows))
        p = self.parameter_values if parameters is None else np.asarray(parameters, float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            func(np.asarray(amounts, float), p, float(t), values)
        out = np.zeros((self.n_reactions, self.n_species))
        out[rows, cols] = values
        return out

    @cached_property
    def _assignment_function(self) -> Callable:
        return ex.compile_vector([e for _, e in self.assignments], self.slots,
                                 self.id + ".assignments")

    def assigned_values(self, amounts, t: float = 0.0) -> dict[str, float]:
        """Values of rule-defined variables (species: amounts) at a state."""
        if not self.assignments:
            return {}
        out = np.zeros(len(self.assignments))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self._assignment_function(np.asarray(amounts, float), self.parameter_values,
                                      float(t), out)
        return {name: float(v) for (name, _), v in zip(self.assignments, out)}

    @cached_property
    def is_time_dependent(self) -> bool:
        return any(ex.TIME in ex.symbols(r.rate) for r in self.reactions)

    @property
    def is_mass_action(self) -> bool:
        return all(r.mass_action is not None for r in self.reactions)

    # ------------------------------------------------------------------ rule-determined values
    @cached_property
    def assignment_ids(self) -> tuple[str, ...]:
        """Ids of the species and parameters defined by assignment rules, in the order of
        :attr:`assignments` (columns after the species in :func:`~sbmlnoise.simulate_ode`)."""
        return tuple(name for name, _ in self.assignments)

    def evaluate_assignments(self, states, times=None, parameters=None) -> np.ndarray:
        """Values of every assignment-rule variable (:attr:`assignment_ids`) at many states.

        Parameters
        ----------
        states : array_like, shape (n, n_species) or (n_species,)
            Species amounts (model substance units) -- e.g. an ODE trajectory, SSA samples
            divided by :attr:`system_size`, or the states of an FSP state space.
        times : array_like, shape (n,), optional
            Model time of each state (0 if omitted); needed when a rule uses ``time``.
        parameters : array_like, shape (n, n_parameters), optional
            Parameter vector per state (events or rate rules may change parameters);
            :attr:`parameter_values` if omitted.

        Returns
        -------
        ndarray, shape (n, len(assignment_ids))
            Species in *amounts* (model substance units; divide by the compartment size
            for a concentration), parameters by value. Non-finite where a rule is
            undefined (e.g. division by zero).

        Notes
        -----
        Other backends report rule-determined variables with this: the FSP's exact
        expectation is ``p @ evaluate_assignments(states / system_size)`` over its state
        space; SSA sample statistics are taken over ``evaluate_assignments(samples /
        system_size, times)``; the LNA delta method needs the gradient, see
        :meth:`assignment_gradients`.
        """
        x = np.atleast_2d(np.asarray(states, dtype=float))
        n = x.shape[0]
        t = np.zeros(n) if times is None else np.broadcast_to(np.asarray(times, float), (n,))
        out = np.full((n, len(self.assignments)), np.nan)
        if not self.assignments:
            return out
        func = self._assignment_function
        p_all = None if parameters is None else np.atleast_2d(np.asarray(parameters, float))
        row = np.zeros(len(self.assignments))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for k in range(n):
                p = self.parameter_values if p_all is None else p_all[k if len(p_all) > 1 else 0]
                try:
                    out[k] = func(x[k], p, float(t[k]), row)
                except (ZeroDivisionError, OverflowError, ValueError):
                    out[k] = np.nan
        return out

    @cached_property
    def assignment_gradients(self) -> tuple[tuple[ex.Expr, ...], ...]:
        """d (assignment variable) / d amount_i as trees, indexed [rule][species], for the
        delta method (LNA): Var g(x) ~ grad g . C . grad g (first order, valid when the
        fluctuations are small against the curvature of g)."""
        return tuple(tuple(ex.diff(e, s) for s in self.species_ids) for _, e in self.assignments)

    # ------------------------------------------------------------------ continuous rules
    @cached_property
    def ode_extra_ids(self) -> tuple[str, ...]:
        """Non-species variables integrated or solved with the species by the rate
        equations: rate-rule targets, then algebraic-rule targets (parameters,
        compartment sizes, stoichiometries)."""
        extra = [v for v, _ in self.rate_rules if v not in self.species_index]
        extra += [v for v in self.algebraic_variables
                  if v not in self.species_index and v not in extra]
        return tuple(extra)

    @cached_property
    def has_delays(self) -> bool:
        trees = [r.rate for r in self.reactions] + [e for _, e in self.rate_rules]
        trees += [e for _, e in self.assignments] + list(self.algebraic_rules)
        trees += [f.rate for f in self.fast_reactions]
        trees += [e for _, e, _ in self.variable_stoichiometry]
        for e in self.events:
            trees += [e.trigger] + [v for _, v in e.assignments]
            trees += [x for x in (e.priority, e.delay) if x is not None]
        return any(_has_op(t, "delay") for t in trees)

    @property
    def needs_general_solver(self) -> bool:
        """True when the rate equations need more than ``N v``: events, rate rules,
        algebraic rules, fast reactions, delays or varying stoichiometry."""
        return bool(self.events or self.rate_rules or self.algebraic_rules
                    or self.fast_reactions or self.variable_stoichiometry or self.has_delays)

    def continuous_features(self) -> list[tuple[str, str]]:
        """(element, feature) of every construct only the rate equations handle."""
        found = [(v, "RateRule") for v, _ in self.rate_rules]
        found += [(v, "AlgebraicRule") for v in self.algebraic_variables]
        found += [(f.id, "FastReaction") for f in self.fast_reactions]
        found += [(v, "variable stoichiometry") for v, _, _ in self.variable_stoichiometry]
        found += [(e.id, "EventWithDelay") for e in self.events if e.delay is not None]
        if self.has_delays:
            found.append(("delay", "delay() (delay differential equation)"))
        return found

    # ------------------------------------------------------------------ graphs
    @cached_property
    def graph(self) -> nx.DiGraph:
        """Species-reaction graph: species -> reaction (role "reactant" or "modifier",
        ``stoichiometry``), reaction -> species (role "product"). Nodes carry
        ``kind`` = "species" | "reaction"."""
        g = nx.DiGraph()
        for s in self.species:
            g.add_node(s.id, kind="species", name=s.name)
        for r in self.reactions:
            g.add_node(r.id, kind="reaction", name=r.name, sbml_id=r.sbml_id)
            for sid, nu in r.reactants:
                g.add_edge(sid, r.id, role="reactant", stoichiometry=nu)
            for sid, nu in r.products:
                g.add_edge(r.id, sid, role="product", stoichiometry=nu)
            for sid in r.modifiers:
                if sid in self.species_index and not g.has_edge(sid, r.id):
                    g.add_edge(sid, r.id, role="modifier", stoichiometry=0.0)
        return g

    @staticmethod
    def complex_label(pairs) -> str:
        parts = [(f"{nu:g} {sid}" if nu != 1 else sid) for sid, nu in sorted(pairs) if nu]
        return " + ".join(parts) if parts else "0"

    @cached_property
    def complex_graph(self) -> nx.MultiDiGraph:
        """Complex graph: nodes are complexes (labels like ``"2 A + B"``, ``"0"`` for
        the empty complex), one edge per reaction channel with attribute ``reaction``."""
        g = nx.MultiDiGraph()
        for r in self.reactions:
            src, dst = self.complex_label(r.reactants), self.complex_label(r.products)
            g.add_edge(src, dst, key=r.id, reaction=r.id)
        return g

    # ------------------------------------------------------------------ variants
    def with_parameters(self, **values: float) -> "ReactionNetwork":
        """A copy with some parameter values changed (mass-action constants updated)."""
        unknown = [k for k in values if k not in self.parameter_ids]
        if unknown:
            raise KeyError(f"no parameter '{unknown[0]}' in model '{self.id}'")
        params = tuple(dataclasses.replace(p, value=float(values.get(p.id, p.value)))
                       for p in self.parameters)
        lookup = {p.id: p.value for p in params}
        reactions = []
        for r in self.reactions:
            if r.mass_action is not None:
                k = ex.evaluate(r.mass_action.rate_constant_expr, lookup)
                r = dataclasses.replace(r, mass_action=dataclasses.replace(r.mass_action,
                                                                           rate_constant=k))
            reactions.append(r)
        return dataclasses.replace(self, parameters=params, reactions=tuple(reactions))

    def with_initial_amounts(self, **amounts: float) -> "ReactionNetwork":
        """A copy with some initial amounts (model substance units) changed."""
        for k in amounts:
            self.index(k)
        species = tuple(dataclasses.replace(s, initial_amount=float(amounts.get(s.id, s.initial_amount)))
                        for s in self.species)
        return dataclasses.replace(self, species=species)

    def require_stochastic(self, backend: str) -> None:
        """Raise :class:`UnsupportedFeature` if a stochastic backend cannot run this model
        (rate rules, algebraic rules, fast reactions, delays, varying stoichiometry or
        non-integer stoichiometry)."""
        features = self.continuous_features()
        if features:
            element, feature = features[0]
            raise UnsupportedFeature(
                f"{backend}: '{element}' is a {feature}, which this stochastic backend does "
                "not handle yet; the rate equations (sn.simulate_ode) do",
                element=element, feature=feature)
        if not self.integer_stoichiometry:
            j = int(np.argmax(np.any(np.abs(self.stoichiometry - np.round(self.stoichiometry)) > 1e-12, axis=0)))
            raise UnsupportedFeature(
                f"{backend}: reaction '{self.reactions[j].id}' has non-integer net "
                "stoichiometry; a stochastic backend needs whole molecules (use sn.lna or "
                "sn.simulate_ode)", element=self.reactions[j].id, feature="non-integer stoichiometry")

    def summary(self) -> str:
        return (f"model '{self.id}': {self.n_species} species, {self.n_reactions} reaction "
                f"channels, {len(self.parameters)} parameters, "
                f"{self.conservation_laws.shape[0]} conservation laws, "
                f"system_size {self.system_size:g} ({self.system_size_source})")

    def __repr__(self) -> str:
        return f"<ReactionNetwork {self.summary()}>"


def _has_op(expr: ex.Expr, op: str) -> bool:
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ex.Apply):
            if node.op == op:
                return True
            stack.extend(node.args)
    return False


# ---------------------------------------------------------------------- exact linear algebra
def _rref(rows: list[list[Fraction]]) -> tuple[list[list[Fraction]], list[int]]:
    """Reduced row-echelon form over the rationals (exact); returns (rows, pivot columns)."""
    rows = [r[:] for r in rows]
    n_rows = len(rows)
    n_cols = len(rows[0]) if rows else 0
    pivots: list[int] = []
    r = 0
    for c in range(n_cols):
        pivot = next((i for i in range(r, n_rows) if rows[i][c] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        lead = rows[r][c]
        rows[r] = [v / lead for v in rows[r]]
        for i in range(n_rows):
            if i != r and rows[i][c] != 0:
                factor = rows[i][c]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r])]
        pivots.append(c)
        r += 1
        if r == n_rows:
            break
    return rows, pivots


def _rref_pivots(rows: list[list[Fraction]]) -> list[int]:
    return _rref(rows)[1]


def _rational_left_null_space(matrix: np.ndarray) -> list[list[Fraction]]:
    """Exact basis of {l : l @ matrix = 0} for a matrix of (near-)rational floats."""
    n_species, n_reactions = matrix.shape
    # null space of matrix.T: rows are reactions, columns species
    rows = [[Fraction(float(matrix[i, j])).limit_denominator(10**9) for i in range(n_species)]
            for j in range(n_reactions)]
    reduced, pivots = _rref(rows)
    free = [c for c in range(n_species) if c not in pivots]
    basis = []
    for f in free:
        vec = [Fraction(0)] * n_species
        vec[f] = Fraction(1)
        for k, p in enumerate(pivots):
            vec[p] = -reduced[k][f]
        basis.append(vec)
    return basis
