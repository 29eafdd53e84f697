"""Finite state projection (FSP) of the chemical master equation.

The CME ``dp/dt = A p`` is solved on a finite set ``J`` of states (molecule counts): the
states reachable from the initial state inside per-species count caps. Transitions that
leave ``J`` go to a *sink*; the probability the sink collects is the error of the
projection (Munsky & Khammash 2006, doi:10.1063/1.2145882). Caps grow adaptively until
the error bound is below ``tol``.

Conventions
-----------
* States are molecule counts ``n = Omega * amount`` (``Omega = net.system_size``);
  propensities follow :mod:`sbmlnoise.network` (the kinetic law as written, no hidden
  combinatorial factor). Time is the model's time unit.
* Column convention: ``A[i, j]`` is the rate of the jump ``j -> i`` (``i != j``) and
  ``A[j, j] = -`` (total rate out of ``j``, including the rate into the sink).

Error bounds
------------
*Transient* (``t`` given): the sink mass ``eps(t) = 1 - sum_J p_J(t)``. By the FSP theorem
``0 <= p(x, t) - p_J(x, t)`` and ``||p(t) - p_J(t)||_1 <= eps(t)`` (Munsky & Khammash 2006,
Theorem 2.2); ``probabilities`` sum to exactly ``1 - error_bound``.

*Stationary* (``t=None``): ``p_J`` is the stationary law of the truncated chain with a
reflecting boundary (transitions out of ``J`` removed). The probability the true chain
spends outside ``J`` obeys Little's law: ``pi(J^c) = Phi * E[excursion length]`` where
``Phi`` is the stationary flux from ``J`` across the boundary. We estimate ``Phi`` with
``p_J`` (``Phi_J = sum_x p_J(x) * rate(x -> outside)``) and bound the length of an
excursion that starts at the outside state ``y`` with the Lyapunov function ``V(y)`` =
total overshoot beyond the caps: if the drift ``dV(y) = sum_j a_j(y) (V(y + nu_j) - V(y))``
(linear extension) is negative, ``E[excursion] <= V(y) / |dV(y)|`` provided the drift does
not weaken further out (true for degradation/dilution growing with counts; Foster-Lyapunov
/ optional stopping). Hence

    error_bound = sum_{x -> y leaving J} p_J(x) * a(x -> y) * V(y) / |dV(y)|

Where the drift at ``y`` is not negative (e.g. a protein above its cap while its mRNA
is high, so production still wins) the excursion length is taken as ``4 t_relax``, with
``t_relax`` the slowest relaxation time of the linearised rate equations -- a heuristic,
whose share of the bound is reported as ``extra["bound_relaxation_share"]`` (``inf`` if
the rate equations have no stable steady state). It is exact to first order in ``Phi``
for one-step (birth-death-like) boundaries and conservative for linear degradation; on
the two-stage and dual-reporter models it over-estimates the true outside mass by a
factor of about 4-100 (the tests check it against the exact birth-death tail).
``probabilities`` of a stationary result sum to one (the
conditional law on ``J``); the mass outside is at most ``error_bound`` under the stated
assumptions. The successive-expansion change ``||p_J(k) - p_J(k-1)||_1`` is reported as
``extra["expansion_change"]`` as an independent check.

Temporal statistics
-------------------
For a stationary result the autocovariance and the two-sided power spectral density of
any species are exact for the (reflecting) projected chain:

    C(tau) = (x - mu)^T exp(A |tau|) ((x - mu) o p)
    S(w)   = 2 Re[(x - mu)^T (i w I - A)^{-1} ((x - mu) o p)]

(``o`` the elementwise product). Centring makes ``u = (x - mu) o p`` orthogonal to the
left null vector ``1`` of ``A``, so ``int_0^inf exp(A tau) u dtau = -A^{-1} u`` exists
(``w = 0``); the stationary-vector component of the solution is annihilated by
``(x - mu)^T``.
"""

from __future__ import annotations

import math
import time as _time
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from . import _kernels
from . import _linear as _solve
from ..errors import SimulationError, StateSpaceTooLarge
from ._space import Projection, StochasticModel, _Deferred, prepare, project
from ..stats import NoiseStatistics
from ..importer._tellurium import accepts_model
from .._deadline import check as check_deadline

if TYPE_CHECKING:
    from ..network import ReactionNetwork

__all__ = ["fsp", "FSPResult"]

DEFAULT_MAX_STATES = 2_000_000
#: stationary solves of 3+ dimensional projections above this size start with GMRES+ILU
ITERATIVE_ABOVE = 20_000
_MAX_EXPANSIONS = 40


# =========================================================================== result
@dataclass(eq=False)
class FSPResult:
    """The finite state projection of a CME.

    Attributes
    ----------
    states : numpy.ndarray of int64, shape (n_states, n_species)
        Enumerated states (molecule counts), columns in ``species`` order.
    probabilities : numpy.ndarray
        Shape (n_states,) for a stationary result, (n_times, n_states) for ``t`` given.
    generator : scipy.sparse.csc_matrix (stationary) or csr_matrix (transient)
        The projected generator, shape (n_states, n_states), column convention
        (``dp/dt = A p``; the diagonal includes the outflow into the sink). A stationary
        result keeps the CSC matrix its solve assembled (column ``j``: the jumps out of
        state ``j``), saving a format conversion of the whole matrix.
    error_bound : float
        Probability mass outside the projection (module docstring).
    stats : NoiseStatistics
        Statistics (method ``"fsp"``) of the stationary law or of the last time point.
    stats_by_time : list of NoiseStatistics or None
        One per time point of a transient result.
    times : numpy.ndarray or None
        Output times of a transient result.
    species : tuple of str
    settings : dict
    """

    states: np.ndarray
    probabilities: np.ndarray
    generator: sps.spmatrix
    error_bound: float
    stats: NoiseStatistics
    species: tuple
    times: np.ndarray | None = None
    stats_by_time: list | None = None
    settings: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    _projection: Projection | None = field(default=None, repr=False)
    _model: StochasticModel | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ access
    @property
    def n_states(self) -> int:
        return int(self.states.shape[0])

    @property
    def is_stationary(self) -> bool:
        return self.times is None

    def _p(self, k=None) -> np.ndarray:
        if self.probabilities.ndim == 1:
            return self.probabilities
        return self.probabilities[-1 if k is None else k]

    def plot_marginal(self, species=None, *, k: int | None = None, lna=None):
        """Marginal distributions as bars, optionally with an LNA Gaussian overlaid
        (:func:`sbmlnoise.plots.plot_marginal`); returns a matplotlib Figure."""
        from ..plots import plot_marginal
        return plot_marginal(self, species, k=k, lna=lna)

    def stats_at(self, k: int) -> NoiseStatistics:
        """Statistics at the ``k``-th output time (transient results)."""
        if self.stats_by_time is None:
            if k in (0, -1):
                return self.stats
            raise IndexError("a stationary FSP result has one set of statistics")
        return self.stats_by_time[k]

    def marginal(self, species: str, k: int | None = None) -> pd.Series:
        """Marginal probability of each count of ``species`` (index: counts 0..max).

        ``k`` selects the output time of a transient result (default: the last).
        """
        i = self._index(species)
        p = self._p(k)
        counts = self.states[:, i]
        values = np.bincount(counts, weights=p, minlength=int(counts.max()) + 1)
        return pd.Series(values, index=pd.Index(np.arange(values.size), name="count"),
                         name=species)

    def _index(self, species: str) -> int:
        try:
            return self.species.index(species)
        except ValueError:
            raise KeyError(f"no species '{species}' in this FSP result; species are "
                           f"{', '.join(self.species)}") from None

    @cached_property
    def _lookup(self) -> dict:
        return {tuple(row): i for i, row in enumerate(self.states.tolist())}

    def state_index(self, counts) -> int:
        """Row of ``states`` holding ``counts`` (a tuple in species order)."""
        key = tuple(int(c) for c in counts)
        try:
            return self._lookup[key]
        except KeyError:
            raise KeyError(f"state {key} is not in the projection") from None

    # ------------------------------------------------------------------ state graph
    def _parts(self) -> tuple[Projection, StochasticModel]:
        """The projection and the model behind the state-graph queries."""
        if self._projection is None or self._model is None:
            raise ValueError("this FSPResult carries no projection (it was not built by "
                             "sn.fsp), so its state graph is unknown")
        return self._projection, self._model

    @cached_property
    def transitions(self) -> pd.DataFrame:
        """One row per directed edge of the state graph inside the projection:
        ``source``, ``target`` (state indices), ``reaction`` (reaction id), ``rate``
        (propensity at the source, events per time)."""
        proj, model = self._parts()
        net = cast("ReactionNetwork", model.net)
        ids = [net.reactions[j].id for j in model.channels]
        reaction = pd.Categorical.from_codes(proj.rxn, categories=pd.Index(ids))
        return pd.DataFrame({"source": proj.src, "target": proj.dst, "reaction": reaction,
                             "rate": proj.rate})

    def currents(self, k: int | None = None) -> pd.DataFrame:
        """Probability currents between states, one row per unordered state pair with at
        least one transition (``source < target``): ``forward_flux`` ``p_s w_st``,
        ``backward_flux`` ``p_t w_ts``, ``net_flux`` (probability per time). Rates of
        several reactions joining the same pair are summed. Stationary results satisfy
        Kirchhoff's law: the net fluxes out of every state sum to zero."""
        proj = self._parts()[0]
        p = self._p(k)
        s, d, w = proj.src, proj.dst, proj.rate
        lo, hi = np.minimum(s, d), np.maximum(s, d)
        n = self.n_states
        pair = lo * n + hi
        uniq, inv = np.unique(pair, return_inverse=True)
        flux = p[s] * w
        fwd = np.bincount(inv, weights=np.where(s == lo, flux, 0.0), minlength=uniq.size)
        bwd = np.bincount(inv, weights=np.where(s == hi, flux, 0.0), minlength=uniq.size)
        return pd.DataFrame({"source": uniq // n, "target": uniq % n, "forward_flux": fwd,
                             "backward_flux": bwd, "net_flux": fwd - bwd})

    @cached_property
    def reflecting_generator(self) -> sps.csr_matrix:
        """The projected generator without the sink (transitions out of the projection
        removed): a proper generator whose stationary law is ``probabilities``."""
        return self._parts()[0].generator(reflecting=True)

    def residual(self, k: int | None = None) -> float:
        """``||A_R p||_1`` for the reflecting generator (stationary results)."""
        return float(np.abs(self.reflecting_generator @ self._p(k)).sum())

    def __repr__(self) -> str:
        when = "stationary" if self.times is None else f"{self.times.size} times"
        return (f"<FSPResult {when}: {self.n_states} states, error bound "
                f"{self.error_bound:.3g}>")


def _get_generator(self) -> sps.spmatrix:
    value = self.__dict__["_generator"]
    if isinstance(value, _Deferred):
        value = value.build()
        self.__dict__["_generator"] = value
    return value


def _set_generator(self, value) -> None:
    self.__dict__["_generator"] = value


# the dataclass keeps ``generator`` as an ordinary init field; reads go through the
# property so a deferred value is built once, on first access (a stationary result's
# absorbing generator: a copy of the whole matrix the stationary statistics never read)
FSPResult.generator = property(  # type: ignore[assignment]
    _get_generator, _set_generator,
    doc="The projected generator (see the class docstring); built on first access.")


# =========================================================================== front door
@accepts_model
def fsp(net, t=None, tol: float = 1e-6, bounds: dict | None = None,
        max_states: int | None = None, steady_state=None) -> FSPResult:
    """Solve the chemical master equation by finite state projection.

    Parameters
    ----------
    net : ReactionNetwork
        Integer stoichiometry, no events, no explicit time dependence.
    t : None or array_like of float
        ``None``: the stationary distribution. Otherwise sorted non-negative output times
        (model time units); the transient solution from ``net.initial_state``.
    tol : float
        Target for the error bound (probability outside the projection).
    bounds : dict, optional
        ``{species_id: upper}`` or ``{species_id: (lower, upper)}`` count caps that are
        kept fixed (not grown); other species grow adaptively.
    max_states : int, optional
        Largest projection allowed (default 2,000,000).
    steady_state : pandas.Series, optional
        The rate equations' stable steady state (amounts) when the caller already has it
        (``analyze`` does); it only centres the first projection.

    Returns
    -------
    FSPResult

    Raises
    ------
    StateSpaceTooLarge
        If reaching ``tol`` would need more than ``max_states`` states (the message gives
        an estimate and the species that drive the growth).
    UnsupportedFeature
        Non-integer stoichiometry or initial counts, events, time-dependent rates.

    Notes
    -----
    Enumeration, generator assembly and propensity evaluation are vectorised over states
    (``O(n_states * n_reactions)``). The first box spans the rate-equation state
    +- 8 Poisson standard deviations (+ 10) per free species (narrower if that exceeds
    ``max_states``); for a stationary solve it need not contain the initial state, only
    its conservation class. Each side of a species' range then grows by the distance
    its marginal's geometric tail needs to fall below ``tol``. The stationary law is a
    sparse LU solve of the reflecting generator with one state's probability fixed
    (GMRES with an incomplete-LU preconditioner first for projections of three or more
    dimensions above ``ITERATIVE_ABOVE`` states, and as the fallback of the direct
    solve); transient solutions use ``scipy.sparse.linalg.expm_multiply`` (Al-Mohy &
    Higham 2011, doi:10.1137/100788860). Error bounds: see the module docstring.
    ``extra`` of the result and of ``stats`` holds ``error_bound``, ``n_states``,
    ``residual`` (``||A_R p||_1``), ``solver``, ``expansions``, ``outflow`` (stationary
    flux across the boundary), ``expansion_change`` and ``bound_relaxation_share``
    (the part of the bound that rests on the relaxation-time heuristic).

    References
    ----------
    B. Munsky and M. Khammash, J. Chem. Phys. 124, 044104 (2006), doi:10.1063/1.2145882.
    A. Gupta, J. Mikelson and M. Khammash, J. Chem. Phys. 147, 154101 (2017),
    doi:10.1063/1.5006484 (stationary FSP).

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; => X; k; X => ; g*X; k = 5; g = 1; X = 0; end")
    >>> fr = sn.fsp(net, tol=1e-10)
    >>> round(float(fr.stats.fano["X"]), 6)
    1.0
    """
    started = _time.perf_counter()
    times, max_states = _check_arguments(t, tol, max_states)
    model = prepare(net, "fsp")
    box = _plan_box(model, bounds, times, steady_state, max_states)
    run = _expand(model, box, times, tol, max_states)
    step, lower, upper = run.step, run.lower, run.upper
    species = tuple(net.species_ids)
    settings = {"tol": tol, "bounds": dict(bounds or {}), "max_states": max_states,
                "system_size": float(net.system_size),
                "t": None if times is None else times.tolist(),
                "caps": dict(zip(species, upper.tolist())),
                "lower_caps": dict(zip(species, lower.tolist())), "expansions": run.expansions}
    extra = {"error_bound": float(step.eps), "n_states": step.proj.n_states,
             "dropped_transitions": step.proj.dropped,
             "solver": step.info.get("solver", "expm_multiply"),
             "expansions": run.expansions, "seconds": None}
    if times is None:
        return _stationary_result(model, step, species, settings, extra, run.change,
                                  box.t_relax, started)
    return _transient_result(model, step, times, species, settings, extra, started)


# =========================================================================== stages of fsp
@dataclass
class _Box:
    """The first projection's caps and what the expansion may not move (planned by
    :func:`_plan_box`)."""

    lower: np.ndarray
    upper: np.ndarray
    #: species whose upper cap is fixed (by ``bounds`` or a conservation law)
    user_capped: np.ndarray
    #: species whose lower cap is fixed (user bound, constant species, conservation law)
    lower_fixed: np.ndarray
    #: start state of the enumeration (``None``: the initial state)
    start: np.ndarray | None
    #: rate-equation state in counts
    hint: np.ndarray
    #: slowest relaxation time of the rate equations (``inf`` if unknown)
    t_relax: float


@dataclass
class _Step:
    """One solve of one projection (a pass of :func:`_expand`)."""

    proj: Projection
    #: error bound of this projection
    eps: float
    #: shape (2, n_species): probability lost across the upper / lower caps per species
    blame: np.ndarray
    #: the stationary law, or the law at the last output time
    p_last: np.ndarray
    #: what the linear solver reports (``solver``, ...)
    info: dict
    #: stationary: reflecting generator, closed class, reference state, heuristic share
    a_r: sps.csr_matrix | None = None
    closed: np.ndarray | None = None
    ref: int = 0
    heuristic: float = 0.0
    #: transient: the laws at every output time, shape (n_times, n_states), and the
    #: absorbing generator
    P: np.ndarray | None = None
    a_j: sps.csr_matrix | None = None


@dataclass
class _Expansion:
    """Outcome of the expansion loop: the last solve and the caps in force at its end
    (after an exhausted loop, the grown caps that were not solved any more)."""

    step: _Step
    lower: np.ndarray
    upper: np.ndarray
    expansions: int
    #: ``||p_J(k) - p_J(k-1)||_1`` between the last two stationary solves (``nan``)
    change: float


def _check_arguments(t, tol: float, max_states: int | None) -> tuple[np.ndarray | None, int]:
    """Validate ``tol``, ``max_states`` and the output times of :func:`fsp`; returns the
    times as a float array (``None`` for a stationary solve) and ``max_states``."""
    if not tol > 0:
        raise ValueError("tol must be positive")
    max_states = DEFAULT_MAX_STATES if max_states is None else int(max_states)
    if max_states < 1:
        raise ValueError("max_states must be a positive integer")
    times = None
    if t is not None:
        times = np.atleast_1d(np.asarray(t, dtype=float)).ravel()
        if times.size == 0 or not np.all(np.isfinite(times)) or np.any(times < 0):
            raise ValueError("t must be finite, non-negative times")
        if np.any(np.diff(times) < 0):
            raise ValueError("t must be sorted in increasing order")
    return times, max_states


def _plan_box(model: StochasticModel, bounds: dict | None, times: np.ndarray | None,
              steady_state, max_states: int) -> _Box:
    """The first projection: user and conservation caps, then a box of mean +- ``k_sd``
    Poisson standard deviations around the rate-equation state (``k_sd`` from 8 down to
    3 until the box fits ``max_states``). Raises ``ValueError`` if the initial state lies
    outside user bounds of a transient solve (or of a stationary one with no state of
    its conservation class inside them)."""
    net = cast("ReactionNetwork", model.net)
    lower, upper, user_capped = _parse_bounds(model, bounds)
    given = bounds or {}
    user_lower = np.array([given.get(sid) is not None and np.ndim(given[sid]) > 0
                           for sid in net.species_ids], dtype=np.bool_)
    lower0, upper0 = lower.copy(), upper.copy()
    hint, t_relax = _rate_equation_guess(model, times, steady_state)
    for k_sd in (8.0, 6.0, 4.0, 3.0):
        # the first box spans mean +- k_sd Poisson sd; narrower if it would not fit
        lower, upper = lower0.copy(), upper0.copy()
        _initial_caps(model, upper, user_capped, hint, k_sd)
        start = None
        if times is None:
            start = _stationary_start(model, lower, upper, hint, user_capped | user_lower,
                                      k_sd)
        size = float(np.prod((upper[model.key] - lower[model.key] + 1).astype(float)))
        if size <= max_states:
            break
    if start is None and not (np.all(model.x0 >= lower) and np.all(model.x0 <= upper)):
        # only a stationary law may live away from the initial state (same class)
        start = _class_state(model, lower, upper, hint) if times is None else None
        if start is None:
            i = int(np.argmax((model.x0 < lower) | (model.x0 > upper)))
            raise ValueError(f"the initial count of '{net.species_ids[i]}' ({model.x0[i]}) "
                             f"lies outside its bounds [{lower[i]}, {upper[i]}]")
    lower_fixed = user_lower | model.fixed | np.isfinite(model.conservation_cap)
    return _Box(lower=lower, upper=upper, user_capped=user_capped, lower_fixed=lower_fixed,
                start=start, hint=hint, t_relax=t_relax)


def _solve_projection(model: StochasticModel, proj: Projection, times: np.ndarray | None,
                      box: _Box) -> _Step:
    """Solve the CME on one projection: the stationary law of the reflecting chain and
    its Little's-law bound, or the transient laws from the initial state and their sink
    mass (module docstring)."""
    info: dict = {}
    if times is None:
        a_r = proj.generator_csc(reflecting=True)
        p, closed, ref = _stationary(a_r, proj, box.hint, info)
        eps, blame, heuristic = _stationary_bound(model, proj, p, box.t_relax)
        return _Step(proj=proj, eps=eps, blame=blame, p_last=p, info=info, a_r=a_r,
                     closed=closed, ref=ref, heuristic=heuristic)
    a_j = proj.generator()
    e0 = np.zeros(proj.n_states)
    e0[proj.initial_index] = 1.0
    P = _solve.propagate(a_j, e0, times)
    eps = max(0.0, 1.0 - float(P[-1].sum()))
    return _Step(proj=proj, eps=eps, blame=_transient_blame(model, proj, P), p_last=P[-1],
                 info=info, P=P, a_j=a_j)


def _expand(model: StochasticModel, box: _Box, times: np.ndarray | None, tol: float,
            max_states: int) -> _Expansion:
    """Solve, and grow the caps of the species that lose probability, until the error
    bound is at most ``tol`` (at most ``_MAX_EXPANSIONS`` solves). Raises
    :class:`StateSpaceTooLarge` when the next projection would exceed ``max_states``;
    warns when the losing species are all capped or the expansions run out."""
    lower, upper = box.lower, box.upper
    previous = None
    change = float("nan")
    for expansion in range(_MAX_EXPANSIONS):
        check_deadline(f"fsp: projection {expansion + 1}")
        size = float(np.prod((upper[model.key] - lower[model.key] + 1).astype(float)))
        if size > 50.0 * max_states:
            raise _too_large(model, None, None, upper, lower, box.user_capped, float("nan"),
                             tol, max_states, size)
        proj = project(model, lower, upper, max_states, box.start)
        if proj.n_states > max_states:
            raise _too_large(model, proj, None, upper, lower, box.user_capped, float("nan"),
                             tol, max_states, proj.n_states)
        step = _solve_projection(model, proj, times, box)
        if times is None:
            if previous is not None:
                change = _expansion_change(previous, proj, step.p_last)
            previous = (proj, step.p_last)
        eps = step.eps
        if eps <= tol:
            break
        grow = _growable(step.blame[0], box.user_capped, model, upper)
        grow_low = _growable(step.blame[1], box.lower_fixed | (lower <= 0), model, upper)
        if grow.size == 0 and grow_low.size == 0:
            # stacklevel 3: the warning points at the caller of fsp
            warnings.warn(f"fsp: error bound {eps:.3g} exceeds tol={tol:g} but the species "
                          "that lose probability are capped by `bounds`", stacklevel=3)
            break
        new_lower, new_upper = _grow(proj, step.p_last, lower, upper, box.hint, grow,
                                     grow_low, eps, tol)
        estimate = _size_estimate(proj, lower, upper, new_lower, new_upper)
        if estimate > max_states:
            raise _too_large(model, proj, step.p_last, upper, lower, box.user_capped, eps,
                             tol, max_states, estimate, np.union1d(grow, grow_low))
        upper, lower = new_upper, new_lower
    else:
        warnings.warn(f"fsp: stopped after {_MAX_EXPANSIONS} expansions with error bound "
                      f"{eps:.3g} > tol={tol:g}", stacklevel=3)
    return _Expansion(step=step, lower=lower, upper=upper, expansions=expansion + 1,
                      change=change)


def _stationary_result(model: StochasticModel, step: _Step, species: tuple, settings: dict,
                       extra: dict, change: float, t_relax: float,
                       started: float) -> FSPResult:
    """Assemble a stationary :class:`FSPResult`: the absorbing generator, the residual,
    the exact temporal statistics and the statistics of ``step``'s law."""
    proj, p, a_r, closed = step.proj, step.p_last, step.a_r, step.closed
    assert a_r is not None and closed is not None  # a stationary step sets both
    # the absorbing generator differs from the reflecting one only on the diagonal
    flow = a_r @ p
    residual = float(np.abs(flow, out=flow).sum())
    extra.update(residual=residual, expansion_change=change,
                 bound_relaxation_share=step.heuristic, relaxation_time=t_relax,
                 outflow=float(p[proj.out_src] @ proj.out_rate),
                 closed_class_size=int(closed.size))
    temporal = _Temporal(a_r, p, proj.states, closed, step.ref, species, t_relax,
                         direct=step.info.get("solver") == "splu")
    extra["seconds"] = _time.perf_counter() - started
    stats = _statistics(proj.states, p, species, "fsp", settings, None, extra,
                        temporal.autocovariance, temporal.psd)
    a_j = _Deferred(lambda: proj.generator_csc(reflecting=False))
    result = FSPResult(states=proj.states, probabilities=p, generator=a_j,
                       error_bound=float(step.eps), stats=stats, species=species,
                       settings=settings, extra=extra, _projection=proj, _model=model)
    return result


def _transient_result(model: StochasticModel, step: _Step, times: np.ndarray, species: tuple,
                      settings: dict, extra: dict, started: float) -> FSPResult:
    """Assemble a transient :class:`FSPResult`: statistics at every output time, each with
    its own sink mass as error bound."""
    proj, P = step.proj, step.P
    assert P is not None and step.a_j is not None  # a transient step sets both
    # no linear system is solved for a transient result; the residual does not apply
    extra.update(residual=float("nan"), sink_mass=[max(0.0, 1.0 - float(row.sum())) for row in P])
    extra["seconds"] = _time.perf_counter() - started
    by_time = []
    for k, tk in enumerate(times):
        ex_k = dict(extra, error_bound=max(0.0, 1.0 - float(P[k].sum())))
        by_time.append(_statistics(proj.states, P[k], species, "fsp", settings, float(tk),
                                   ex_k, None, None))
    return FSPResult(states=proj.states, probabilities=P, generator=step.a_j,
                     error_bound=float(step.eps), stats=by_time[-1], species=species,
                     times=times, stats_by_time=by_time, settings=settings, extra=extra,
                     _projection=proj, _model=model)

# =========================================================================== helpers
def _parse_bounds(model: StochasticModel, bounds: dict | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower caps, upper caps (``-1``: not yet set) and the mask of species whose upper cap
    is fixed, from the user's ``bounds`` and the conservation laws; constant species are
    held at their initial count."""
    net = cast("ReactionNetwork", model.net)
    n = model.n_species
    lower = np.zeros(n, dtype=np.int64)
    upper = np.full(n, -1, dtype=np.int64)
    capped = np.zeros(n, dtype=bool)
    for sid, value in (bounds or {}).items():
        i = net.index(sid)
        lo, hi = (0, value) if np.ndim(value) == 0 else tuple(value)
        if hi is None or (isinstance(hi, float) and not math.isfinite(hi)):
            continue
        lo, hi = int(lo), int(hi)
        if lo < 0 or hi < lo:
            raise ValueError(f"bounds for '{sid}' must satisfy 0 <= lower <= upper")
        lower[i], upper[i] = lo, hi
        capped[i] = True
    fixed_cap = np.isfinite(model.conservation_cap)
    cons = np.where(fixed_cap, model.conservation_cap, 0).astype(np.int64)
    upper = np.where(capped & fixed_cap, np.minimum(upper, cons), upper)
    upper = np.where(~capped & fixed_cap, cons, upper)
    capped = capped | fixed_cap
    lower = np.where(model.fixed, model.x0, lower)
    return lower, upper, capped


def _rate_equation_guess(model, times, known=None):
    """The rate-equation state in counts (steady state -- ``known`` when the caller has
    it --, or the maximum along the trajectory for transient problems; ``x0`` if
    unavailable) and the slowest relaxation time of the rate equations (``inf`` if
    unknown)."""
    net = model.net
    guess = None
    t_relax = math.inf
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if times is None:
                from ..ode import steady_state
                ss = known if known is not None else steady_state(net)
                guess = np.asarray(ss, dtype=float) * net.system_size
                eig = np.asarray(ss.attrs.get("eigenvalues", []), dtype=complex)
                if eig.size and np.all(eig.real < 0):
                    t_relax = float(1.0 / np.min(-eig.real))
            else:
                from ..ode import simulate_ode
                traj = simulate_ode(net, np.unique(np.concatenate([[0.0], times])))
                guess = traj[list(net.species_ids)].to_numpy().max(axis=0) * net.system_size
    except Exception:  # noqa: BLE001 - any failure just means "no guess"
        guess = None
    if guess is None or not np.all(np.isfinite(guess)):
        guess = model.x0.astype(float)
    # counts must fit int64 box arithmetic; the unclipped guess is kept for messages
    model.__dict__["_raw_guess"] = np.clip(guess, 0.0, None)
    return np.clip(guess, 0.0, 1e15), t_relax


def projected_states(net, counts=None, k_sd: float = 8.0) -> float:
    """Number of states in the FSP's first box: per independent free species the range
    ``counts +- k_sd sqrt(counts + 1) + 10`` (clipped at 0; a species bounded by a
    conservation law spans ``0..cap``), multiplied over species. ``counts`` defaults to
    the rate-equation steady state in molecule counts. The same rule :func:`fsp` uses,
    so a pre-check (``analyze(method="auto")``) and the FSP agree; a float (may exceed
    int64)."""
    from ._space import prepare as _prepare

    model = _prepare(net, "fsp")
    if counts is None:
        _rate_equation_guess(model, None)
        counts = model.__dict__["_raw_guess"]
    counts = np.clip(np.nan_to_num(np.asarray(counts, dtype=float), nan=0.0,
                                   posinf=1e300), 0.0, 1e300)
    size = 1.0
    for i in np.asarray(model.key, dtype=int):
        if model.fixed[i]:
            continue
        if np.isfinite(model.conservation_cap[i]):
            span = float(model.conservation_cap[i]) + 1.0
        else:
            sd = k_sd * math.sqrt(counts[i] + 1.0) + 10.0
            span = (counts[i] + sd) - max(0.0, counts[i] - sd) + 1.0
        size *= span
        if size > 1e300:
            return math.inf
    return float(size)


def _initial_caps(model, upper, capped, guess, k_sd=8.0):
    """Fill ``upper`` for uncapped species with mean + ``k_sd`` Poisson sd + 10 of the
    rate-equation ``guess`` (in place; never below the initial count)."""
    free = ~capped
    caps = np.ceil(guess + k_sd * np.sqrt(guess + 1.0) + 10.0).astype(np.int64)
    upper[free] = np.maximum(caps[free], model.x0[free])


def _stationary(a_r, proj, hint, info):
    closed = _solve.closed_class(a_r, getattr(proj, "graph", None))
    everything = closed.size == proj.n_states
    states = proj.states if everything else proj.states[closed]
    ref_local = int(_kernels.nearest(states, np.asarray(hint, dtype=float)))
    sub = a_r if everything else a_r[closed][:, closed].tocsc()
    # the box's ranges bound the spread; the states are scanned only if they could span
    # three or more dimensions
    iterative = False
    if closed.size > ITERATIVE_ABOVE and int(np.sum(proj.upper - proj.lower >= 2)) >= 3:
        iterative = int(np.sum(_kernels.spread(states) >= 2)) >= 3
    p_c = _solve.stationary(sub, ref_local, info, prefer_iterative=iterative)
    p = np.zeros(proj.n_states)
    p[closed] = p_c
    return p, closed, ref_local


def _violation(proj, targets):
    over = np.clip(targets - proj.upper, 0, None)
    under = np.clip(proj.lower - targets, 0, None)
    return over, under


def _stationary_bound(model, proj, p, t_relax=math.inf):
    """Little's-law bound on the stationary mass outside (module docstring).

    Returns ``(eps, blame per species, share of eps from relaxation-time excursions)``.
    Where the Lyapunov drift at an outside state is not negative (e.g. a protein above
    its cap while its mRNA is high), the excursion length is taken as
    ``4 * t_relax`` (``t_relax`` = slowest relaxation time of the rate equations) --
    a heuristic, reported separately -- or ``inf`` if ``t_relax`` is unknown.
    """
    n_species = model.n_species
    nothing = (0.0, np.zeros((2, n_species)), 0.0)
    if proj.out_src.size == 0:
        return nothing
    flux = p[proj.out_src] * proj.out_rate
    live = flux > 0
    if not live.any():
        return nothing
    y = proj.out_target[live]
    flux = flux[live]
    over, under = _violation(proj, y)
    v = (over + under).sum(axis=1).astype(float)
    a_y = model.propensities(y)
    drift = a_y @ model.nu.T  # (m, n_species)
    dv = ((over > 0) * drift).sum(axis=1) - ((under > 0) * drift).sum(axis=1)
    negative = dv < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(negative, v / -dv, 4.0 * t_relax)
    contrib = flux * tau
    eps = float(contrib.sum())
    finite = np.where(np.isfinite(contrib), contrib, 1e300)[:, None] / v[:, None]
    blame = np.stack([(finite * over).sum(axis=0), (finite * under).sum(axis=0)])
    heuristic = float(contrib[~negative].sum() / eps) if eps > 0 and math.isfinite(eps) else \
        (1.0 if not negative.all() else 0.0)
    return eps, blame, heuristic


def _transient_blame(model, proj, P):
    if proj.out_src.size == 0:
        return np.zeros((2, model.n_species))
    flux = P[:, proj.out_src].sum(axis=0) * proj.out_rate
    over, under = _violation(proj, proj.out_target)
    v = (over + under).sum(axis=1, keepdims=True).astype(float)
    return np.stack([(flux[:, None] * over / v).sum(axis=0),
                     (flux[:, None] * under / v).sum(axis=0)])


def _growable(blame, capped, model, upper):
    ok = (blame > 0) & ~capped
    if not ok.any():
        return np.zeros(0, dtype=np.int64)
    top = blame[ok].max()
    return np.flatnonzero(ok & (blame >= 0.05 * top))


def _size_estimate(proj, lower, upper, new_lower, new_upper) -> float:
    ratio = np.prod((new_upper - new_lower + 1).astype(float)
                    / (upper - lower + 1).astype(float))
    return float(proj.n_states) * float(ratio)


def _grow(proj, p, lower, upper, hint, grow, grow_low, eps, tol):
    """New caps: extend each losing side by the distance the marginal's geometric tail
    needs to fall by ``tol / eps`` (times 1.25, plus 2), kept between 10% and 100% of
    the current distance from the rate-equation state ``hint``; without a usable tail
    (no decay, or ``eps`` infinite) the distance doubles."""
    new_lower, new_upper = lower.copy(), upper.copy()
    for side, species in (("up", grow), ("down", grow_low)):
        for i in species.tolist():
            lo, hi = int(lower[i]), int(upper[i])
            centre = float(np.clip(hint[i], lo, hi))
            dist = (hi - centre) if side == "up" else (centre - lo)
            step = None
            if math.isfinite(eps) and eps > 0 and hi > lo:
                marg = np.bincount(proj.states[:, i] - lo, weights=p, minlength=hi - lo + 1)
                w = max(1, (hi - lo) // 10)
                edge, inner = (marg[-1], marg[-1 - w]) if side == "up" else (marg[0], marg[w])
                if edge > 0 and inner > edge:
                    rho = (edge / inner) ** (1.0 / w)
                    step = 1.25 * math.log(tol / eps) / math.log(rho) + 2.0
            if step is None:
                step = dist + 4.0
            step = int(math.ceil(min(max(step, 0.1 * dist, 4.0), dist + 4.0)))
            if side == "up":
                new_upper[i] = min(hi + step, np.iinfo(np.int64).max // 4)
            else:
                new_lower[i] = max(0, lo - step)
    return new_lower, new_upper


def _stationary_start(model, lower, upper, hint, capped, k_sd=8.0):
    """For a stationary solve the projection need not contain the initial state, only
    its conservation class: centre a box on the rate-equation steady state. Sets lower
    caps (mean - k_sd sd - 10, in place) for free species and returns a start state in the
    box and class, or ``None`` (then lower caps stay at 0 and the start is ``x0``)."""
    free = ~capped & ~model.fixed & ~np.isfinite(model.conservation_cap)
    if not free.any():
        return None
    lows = np.floor(hint - k_sd * np.sqrt(hint + 1.0) - 10.0).astype(np.int64)
    new_lower = lower.copy()
    new_lower[free] = np.clip(lows[free], 0, None)
    if np.all(new_lower == lower):
        return None
    start = _class_state(model, new_lower, upper, hint)
    if start is None:
        return None
    lower[:] = new_lower
    return start


def _class_state(model, lower, upper, target):
    """A state of the initial state's conservation class inside ``[lower, upper]``, near
    ``target`` (counts), or ``None``."""
    key = model.key
    xk = np.clip(np.round(target[key]), lower[key], upper[key])
    state = model.link @ xk + model.offset
    start = np.round(state).astype(np.int64)
    if (np.any(np.abs(state - start) > 1e-7) or np.any(start < lower)
            or np.any(start > upper)):
        return None
    return start


def _expansion_change(previous, proj, p) -> float:
    old_proj, old_p = previous
    lookup = {tuple(r): i for i, r in enumerate(proj.states.tolist())} \
        if proj.n_states < 200_000 else None
    if lookup is None:
        return float("nan")
    idx = np.fromiter((lookup.get(tuple(r), -1) for r in old_proj.states.tolist()),
                      dtype=np.int64, count=old_proj.n_states)
    new_on_old = np.zeros(old_proj.n_states)
    new_on_old[idx >= 0] = p[idx[idx >= 0]]
    rest = 1.0 - new_on_old.sum()
    return float(np.abs(new_on_old - old_p).sum() + max(rest, 0.0))


def _too_large(model, proj, p, upper, lower, capped, eps, tol, max_states, estimate,
               grow=None):
    names = model.net.species_ids
    if grow is None:
        free = np.flatnonzero(~capped)
        ranges = (upper - lower + 1)[free]
        grow = free[ranges >= 0.5 * ranges.max()] if free.size else free
    drivers = [names[i] for i in grow]
    detail = ""
    if proj is not None and p is not None and math.isfinite(eps) and eps > 0:
        factor = 1.0
        known = True
        for i in grow:
            counts = proj.states[:, i]
            marg = np.bincount(counts, weights=p, minlength=int(upper[i]) + 1)
            cap = int(upper[i])
            w = max(1, (cap - int(lower[i])) // 10)
            if cap - w < 0 or marg[cap] <= 0 or marg[cap - w] <= 0:
                known = False
                break
            rho = (marg[cap] / marg[cap - w]) ** (1.0 / w)
            if not 0 < rho < 1:
                known = False
                break
            extra = math.ceil(math.log(tol / eps) / math.log(rho))
            factor *= (cap + extra - lower[i] + 1) / (cap - lower[i] + 1)
        if known:
            estimate = max(estimate, proj.n_states * factor)
    elif math.isinf(eps):
        detail = (" The net drift of the growing species is not negative at the caps "
                  "(they grow without bound), so the distribution may have no finite "
                  "projection within tol.")
    raw = model.__dict__.get("_raw_guess")
    if proj is None and raw is not None and np.any(raw[grow] > 1e15):
        # the box was built around counts clipped to 1e15: show the real centre
        parts, estimate = [], 1.0
        for i in grow:
            sd = 3.0 * math.sqrt(raw[i] + 1.0) + 10.0
            parts.append(f"{names[i]} = {raw[i]:.6g} +- {sd:.3g}")
        for i in np.flatnonzero(~capped & ~model.fixed):
            sd = 3.0 * math.sqrt(raw[i] + 1.0) + 10.0
            estimate *= (raw[i] + sd) - max(0.0, raw[i] - sd) + 1.0
        caps = ", ".join(parts)
        detail += (f" The mean counts are about {', '.join(f'{names[i]} = {raw[i]:.3g}' for i in grow)}"
                   f" molecules (system_size {float(model.net.system_size):.4g}); at such "
                   "counts the LNA is accurate (relative error O(1/sqrt(counts))).")
    else:
        caps = ", ".join(f"{int(lower[i])} <= {names[i]} <= {int(upper[i])}" for i in grow)
    where = "the count ranges" if proj is None else f"{proj.n_states:,} states"
    if math.isnan(eps):
        what = (f"the projection ({caps}) holds about {int(estimate):,} states (estimate), "
                f"more than max_states={max_states:,}")
    else:
        what = (f"reaching error bound tol={tol:g} needs about {int(estimate):,} states "
                f"(estimate), more than max_states={max_states:,}; caps so far: {caps} "
                f"({where}, error bound {eps:.3g})")
    return StateSpaceTooLarge(
        f"fsp: {what}. Growth is driven by species {', '.join(drivers)}.{detail} Raise "
        "max_states, cap species with bounds={...}, or use sn.ssa / sn.lna.")


def _statistics(states, p, species, method, settings, t, extra, acov, psd):
    states = np.ascontiguousarray(states)
    p = np.ascontiguousarray(p)
    mean, cov = _kernels.moments(states, p)
    dists = {}
    flat, offs = _kernels.marginals(states, p)
    for i, sid in enumerate(species):
        values = flat[offs[i]:offs[i + 1]]
        dists[sid] = pd.Series(values, index=pd.Index(np.arange(values.size), name="count"),
                               name=sid)
    return NoiseStatistics(mean=pd.Series(mean, index=list(species), name="mean"),
                           covariance=pd.DataFrame(cov, index=list(species),
                                                   columns=list(species)),
                           method=method, settings=dict(settings), stderr=None,
                           distributions=dists, time=t, extra=dict(extra),
                           autocovariance_function=acov, psd_function=psd)


class _Temporal:
    """Exact stationary autocovariance and PSD on the closed class of the projection."""

    def __init__(self, a_r: sps.csr_matrix, p: np.ndarray, states: np.ndarray,
                 closed: np.ndarray, ref: int, species, t_relax: float = math.inf,
                 direct: bool = True) -> None:
        everything = closed.size == a_r.shape[0]
        self.a = a_r if everything else a_r[closed][:, closed].tocsc()
        self.p = p if everything else p[closed]
        self.states = states if everything else states[closed]
        self.ref = ref
        self.species = tuple(species)
        # shift of the Krylov method: the slowest relaxation time, else the mean dwell time
        if math.isfinite(t_relax) and t_relax > 0:
            self.gamma = t_relax
        else:
            exit_rate = float(self.p @ -self.a.diagonal()) if self.p.size else 0.0
            self.gamma = 1.0 / exit_rate if exit_rate > 0 else 1.0
        self._krylov: dict = {}
        self._lu = None
        # a sparse LU of I - gamma A costs about what the stationary LU cost; where that
        # solve had to be iterative (large 3-D+ spaces) the Krylov method is not used
        self.direct = bool(direct)
        self.krylov_info: dict = {}

    def _centred(self, i):
        x = self.states[:, i].astype(float)
        mu = float(self.p @ x)
        xc = x - mu
        return xc, xc * self.p

    def _col(self, species):
        return self.species.index(species)

    def autocovariance(self, species, lags):
        """``C(tau) = x_c . exp(A tau) (x_c p)`` by shift-and-invert Krylov
        (:class:`~sbmlnoise.fsp._linear.ShiftInvertKrylov`: cost independent of lag x
        rate, one basis per species reused for every later call); ``expm_multiply``
        stepping if the basis does not converge."""
        i = self._col(species)
        xc, u = self._centred(i)
        lags = np.abs(np.asarray(lags, dtype=float))
        if not self.direct:
            return self._stepped(xc, u, lags)
        if i not in self._krylov:
            if self._lu is None and self.a.shape[0] > 1:
                n = self.a.shape[0]
                self._lu = _solve.factorize(
                    (sps.identity(n, format="csc") - self.gamma * self.a.tocsc()).tocsc())
            probe = np.unique(np.concatenate([lags, self.gamma * np.array([0.1, 1.0, 10.0])]))
            try:
                kry = _solve.ShiftInvertKrylov(self.a, u, self.gamma, probe, rtol=1e-10,
                                               lu=self._lu)
            except SimulationError:
                kry = None
            self._krylov[i] = kry if kry is not None and kry.info["converged"] else None
            self.krylov_info[species] = None if kry is None else dict(kry.info)
        if self._krylov[i] is not None:
            return self._krylov[i].contract(xc, lags)
        return self._stepped(xc, u, lags)

    def _stepped(self, xc, u, lags):
        """Fallback: ``expm_multiply`` from one lag to the next (cost ~ lag x rate)."""
        order = np.argsort(lags)
        out = np.empty(lags.size)
        v = u.copy()
        last = 0.0
        for k in order:
            dt = lags[k] - last
            if dt > 0:
                v = spla.expm_multiply(self.a * dt, v)
                last = lags[k]
            out[k] = float(xc @ v)
        return out

    def psd(self, species: str, omegas) -> np.ndarray:
        """Two-sided PSD ``S(w) = 2 Re[x_c^T (i w I - A)^{-1} (x_c o p)]`` at the angular
        frequencies ``omegas`` (module docstring)."""
        xc, u = self._centred(self._col(species))
        omegas = np.abs(np.asarray(omegas, dtype=float))
        out = np.empty(omegas.size)
        cache: dict = {}
        for k, w in enumerate(omegas):
            if w not in cache:
                z = _solve.solve_centered(self.a, u, float(w), self.ref, {})
                cache[w] = 2.0 * float(np.real(xc @ z))
            out[k] = cache[w]
        return out
