"""State spaces and generators for the finite state projection (private to :mod:`.fsp`).

Everything here works on whole arrays of states: propensities are evaluated for all
states at once (mass-action products, or the propensity expression trees evaluated with
numpy ufuncs), all reactions are fired on all states at once, and states are looked up
through packed integer keys (a dense table over the box of independent species, or a dict
for very sparse boxes). There is no Python loop over states.

Units: states are molecule counts (int64), propensities events per model time unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sps
from scipy.sparse import csgraph

from ..expr import evaluate_array  # noqa: F401 - the numpy evaluator, re-exported
from ..errors import SimulationError, UnsupportedFeature
from ..kinetics import stochastic_form
from . import _kernels

#: largest box (product of per-species ranges of the independent species) enumerated densely
DENSE_BOX_LIMIT = 12_000_000


# =========================================================================== propensities
class Propensities:
    """Vectorised propensities ``a(X)`` for a state array ``X`` of shape (m, n_species).

    Mass-action channels use ``a_j = Omega * k_j * prod_i (n_i / Omega) ** order_ij``
    (the network's convention: the law as written, see :mod:`sbmlnoise.network`);
    stochastic mass action (``kappa prod_i n_i (n_i - 1) ... (n_i - nu_i + 1)``, e.g.
    ``k*P*(P-1)/2``, recognised by :func:`sbmlnoise.kinetics.stochastic_form` like the
    SSA's fast path) is evaluated in that form; other channels evaluate
    ``net.propensity_expressions`` on arrays.
    """

    def __init__(self, net, reaction_indices):
        self.net = net
        self.omega = float(net.system_size)
        self.reactions = [net.reactions[j] for j in reaction_indices]
        self.exprs = [net.propensity_expressions[j] for j in reaction_indices]
        self.params = {p.id: float(v) for p, v in zip(net.parameters, net.parameter_values)}
        species = set(net.species_ids)
        #: per channel: (kappa, [(species index, nu)]) of a stochastic mass-action law
        #: (:func:`sbmlnoise.kinetics.stochastic_form`, the SSA's rule), else None
        self.falling = []
        for r, tree in zip(self.reactions, self.exprs):
            form = None
            if r.mass_action is None:
                react: dict[str, float] = {}
                for sid, nu in r.reactants:
                    react[sid] = react.get(sid, 0.0) + nu
                form = stochastic_form(tree, react, self.params, species)
            self.falling.append(None if form is None else
                                (form[0], [(net.index(sid), nu) for sid, nu in form[1]]))

    def __call__(self, states: np.ndarray) -> np.ndarray:
        """Propensities, shape (m, n_channels); raises :class:`SimulationError` naming the
        first state where one is negative or not finite."""
        states = np.asarray(states, dtype=float)
        out = self.raw(states)
        bad = ~np.isfinite(out) | (out < 0)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            self._raise_bad(states[row], out[row, col], col)
        return out

    def raw(self, states: np.ndarray) -> np.ndarray:
        """Propensities without the sign check (negative or NaN values are returned as
        they are, e.g. for states the projection will later find unreachable)."""
        states = np.asarray(states)
        m = states.shape[0]
        out = np.empty((m, len(self.reactions)))
        env = None
        # float columns, converted once each and only when a channel reads them
        cols: dict = {}

        def column(i):
            if i not in cols:
                cols[i] = states[:, i].astype(float)
            return cols[i]

        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for j, r in enumerate(self.reactions):
                if r.mass_action is not None:
                    col = out[:, j]
                    col[:] = self.omega * r.mass_action.rate_constant
                    for sid, order in r.mass_action.orders:
                        i = self.net.index(sid)
                        if self.omega == 1.0 and order == 1:
                            # x / 1.0 and x ** 1.0 are exact: multiply by the counts
                            # (cast chunk by chunk, no float copy of the column)
                            col *= states[:, i]
                            continue
                        x = column(i)
                        if self.omega != 1.0:
                            x = x / self.omega
                        if order != 1:
                            x = x ** order
                        col *= x
                elif self.falling[j] is not None:
                    kappa, orders = self.falling[j]
                    col = np.full(m, kappa)
                    for i, nu in orders:
                        for q in range(nu):
                            col *= column(i) - q
                    out[:, j] = col
                else:
                    if env is None:
                        env = dict(self.params)
                        env.update({s: column(i) for i, s in enumerate(self.net.species_ids)})
                    out[:, j] = np.broadcast_to(evaluate_array(self.exprs[j], env), (m,))
        return out

    def _raise_bad(self, state, value, col):
        state = dict(zip(self.net.species_ids, np.asarray(state).astype(np.int64).tolist()))
        r = self.reactions[col]
        hint = "check the kinetic law at low counts"
        if r.reversible and r.direction == "net" and value < 0:
            hint = ("the reversible reaction's law was not split into forward and "
                    "reverse terms; write it as two irreversible reactions")
        raise SimulationError(
            f"fsp: propensity of reaction '{r.id}' is {float(value)!r} at counts "
            f"{state}; propensities must be finite and non-negative ({hint})")


# =========================================================================== the model
@dataclass
class StochasticModel:
    """What the projection needs from a network, in counts.

    ``nu`` (n_species, n_channels) int64 holds the net stoichiometry of the channels that
    change the state (``channels`` are their indices in ``net.reactions``); ``key`` the
    species whose counts determine a state within its conservation class, ``link`` and
    ``offset`` give ``x = link @ x[key] + offset``; ``conservation_cap`` is the largest
    count a conservation law allows (``inf`` if none).
    """

    net: object
    nu: np.ndarray
    channels: np.ndarray
    x0: np.ndarray
    key: np.ndarray
    link: np.ndarray
    offset: np.ndarray
    fixed: np.ndarray
    conservation_cap: np.ndarray
    propensities: Propensities

    @property
    def n_species(self) -> int:
        return self.x0.size


def prepare(net, backend: str = "fsp") -> StochasticModel:
    net.require_stochastic(backend)
    if net.events:
        raise UnsupportedFeature(
            f"{backend}: model '{net.id}' has events, which the finite state projection "
            "cannot represent (use sn.ssa)", element=net.events[0].id, feature="Event")
    if net.is_time_dependent:
        raise UnsupportedFeature(
            f"{backend}: model '{net.id}' has time-dependent rates; the projected generator "
            "must be constant (use sn.ssa)", feature="csymbol time")
    x0f = np.asarray(net.initial_state, dtype=float)
    huge = ~(np.abs(x0f) < 2.0 ** 62)  # also NaN
    if np.any(huge):
        i = int(np.argmax(huge))
        raise UnsupportedFeature(
            f"{backend}: initial count of species '{net.species_ids[i]}' is {x0f[i]:.3g}, "
            "beyond any enumerable state space (load the model at a cell volume: "
            "sn.load(..., volume=1e-15))", element=net.species_ids[i],
            feature="huge initial count")
    x0 = np.round(x0f).astype(np.int64)
    if np.any(np.abs(x0f - x0) > 1e-6 * np.maximum(1.0, np.abs(x0f))) or np.any(x0 < 0):
        i = int(np.argmax(np.abs(x0f - x0)))
        raise UnsupportedFeature(
            f"{backend}: initial count of species '{net.species_ids[i]}' is {x0f[i]!r}, not a "
            "whole non-negative number (set system_size so that counts are integers)",
            element=net.species_ids[i], feature="non-integer initial count")
    nu_all = np.round(np.asarray(net.stoichiometry, dtype=float)).astype(np.int64)
    channels = np.flatnonzero(np.any(nu_all != 0, axis=0))
    nu = nu_all[:, channels]
    fixed = ~np.any(nu_all != 0, axis=1)
    ind = np.asarray(net.independent_species, dtype=np.int64)
    link = np.asarray(net.link_matrix, dtype=float)
    offset = x0 - link @ x0[ind]
    caps = np.full(x0.size, np.inf)
    for law in np.asarray(net.conservation_laws, dtype=float):
        if np.all(law >= 0) and np.any(law > 0):
            total = float(law @ x0)
            for i in np.flatnonzero(law > 0).tolist():
                caps[i] = min(caps[i], math.floor(total / law[i] + 1e-9))
    caps[fixed] = x0[fixed]
    return StochasticModel(net=net, nu=nu, channels=channels, x0=x0, key=ind, link=link,
                           offset=offset, fixed=fixed, conservation_cap=caps,
                           propensities=Propensities(net, channels))


# =========================================================================== projection
class _Deferred:
    """A dataclass field value built on first access (see :func:`_lazy_fields`)."""

    __slots__ = ("build",)

    def __init__(self, build) -> None:
        self.build = build


def _lazy_fields(cls, names, group=False):
    """Route reads of the init fields ``names`` of dataclass ``cls`` through properties
    that resolve a :class:`_Deferred` value once. With ``group``, one deferred value
    shared by all ``names`` builds a dict holding every one of them."""
    def make(name):
        def get(self):
            value = self.__dict__["_" + name]
            if isinstance(value, _Deferred):
                built = value.build()
                if group:
                    for other in names:
                        if self.__dict__.get("_" + other) is value:
                            self.__dict__["_" + other] = built[other]
                    return built[name]
                self.__dict__["_" + name] = built
                return built
            return value

        def put(self, value):
            self.__dict__["_" + name] = value

        return property(get, put)

    for name in names:
        setattr(cls, name, make(name))
    return cls


@dataclass
class Projection:
    """A finite projection: reachable states inside ``[lower, upper]`` and its edges.

    Internal edges ``src -> dst`` (state indices) by channel ``rxn`` (index into
    ``model.channels``) at ``rate``; edges leaving the box: ``out_src``, ``out_rxn``,
    ``out_rate``, ``out_target`` (the state outside, counts). ``dropped`` counts edges with
    positive propensity that would make a count negative (treated as impossible).
    """

    states: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    rxn: np.ndarray
    rate: np.ndarray
    out_src: np.ndarray
    out_rxn: np.ndarray
    out_rate: np.ndarray
    out_target: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    dropped: int
    initial_index: int
    #: state graph src -> dst of the internal edges (CSR pattern; the values are the
    #: generator's and carry no meaning), reused by the stationary solve
    graph: object = None

    @property
    def n_states(self) -> int:
        return self.states.shape[0]

    def outflow(self) -> np.ndarray:
        """Total rate out of the projection per state, shape (n_states,)."""
        return np.bincount(self.out_src, weights=self.out_rate, minlength=self.n_states)

    def generator(self, reflecting: bool = False) -> sps.csr_matrix:
        """Column-convention generator: ``A[i, j]`` = rate ``j -> i``; the diagonal holds
        minus the total outflow, including the outflow to the sink unless ``reflecting``."""
        return self.generator_csc(reflecting).tocsr()

    def generator_csc(self, reflecting: bool = False) -> sps.csc_matrix:
        """:meth:`generator` in CSC (rows sorted, duplicates merged, an explicit diagonal
        in every column), assembled by one compiled pass over the edges. The reflecting
        generator is built once and cached (callers must not modify it); the absorbing
        one is a copy with the sink outflow subtracted on the diagonal."""
        cached = self.__dict__.get("_csc")
        if cached is None:
            n = self.n_states
            room = self.src.size + n
            itype = np.int32 if room < 2 ** 31 else np.int64
            indptr = np.empty(n + 1, dtype=itype)
            indices = np.empty(room, dtype=itype)
            data = np.empty(room)
            nnz = _kernels.generator_csc(self.src, self.dst, self.rate, np.zeros(0),
                                               n, indptr, indices, data)
            if nnz < room:  # duplicate edges were merged
                indices, data = indices[:nnz].copy(), data[:nnz].copy()
            cached = sps.csc_matrix((data, indices, indptr), shape=(n, n))
            cached.has_sorted_indices = True
            cached.has_canonical_format = True
            self.__dict__["_csc"] = cached
        mat = cached
        if reflecting:
            return mat
        out = mat.copy()
        if self.out_src.size:
            # per-state outflow summed in edge order (as :meth:`outflow`), only for the
            # states on the boundary
            uniq, inv = np.unique(self.out_src, return_inverse=True)
            diag = _kernels.diagonal_positions(out.indptr, out.indices, uniq)
            out.data[diag] -= np.bincount(inv, weights=self.out_rate,
                                                minlength=uniq.size)
        return out


# the internal edge list of a tabulated projection is built on first access: the
# stationary solve reads the generator's CSC arrays, assembled without it
_lazy_fields(Projection, ("src", "dst", "rxn", "rate"), group=True)


def _box_states(model: StochasticModel, lower, upper, limit):
    """All states in the box whose key species lie in their ranges, or None if the box is
    larger than ``limit``. Returns (states, strides, klo, khi, table, codes): ``table``
    maps a box code to a state index (-1: not a state), ``codes`` a state to its code;
    both are ``None`` when every box point is a state (code = index)."""
    key = model.key
    klo = lower[key].astype(np.int64)
    khi = upper[key].astype(np.int64)
    radix = khi - klo + 1
    if np.any(radix <= 0):
        return None
    size = 1
    for r in radix.tolist():
        size *= int(r)
        if size > limit:
            return None
    strides = np.ones(key.size, dtype=np.int64)
    for i in range(key.size - 2, -1, -1):
        strides[i] = strides[i + 1] * radix[i + 1]
    link_int = np.round(model.link)
    if np.all(np.abs(model.link - link_int) < 1e-12) and \
            np.all(np.abs(model.offset - np.round(model.offset)) < 1e-9):
        states, ok = _kernels.box_states(
            klo, radix.astype(np.int64), strides, link_int.astype(np.int64),
            np.round(model.offset).astype(np.int64), np.asarray(lower, dtype=np.int64),
            np.asarray(upper, dtype=np.int64))
    else:
        codes = np.arange(size, dtype=np.int64)
        xk = np.empty((size, key.size), dtype=np.int64)
        for i in range(key.size):
            xk[:, i] = (codes // strides[i]) % radix[i] + klo[i]
        full = xk @ model.link.T + model.offset
        del xk
        states = np.round(full).astype(np.int64)
        ok = np.all(np.abs(full - states) < 1e-7, axis=1)
        for s in range(states.shape[1]):
            col = states[:, s]
            ok &= (col >= lower[s]) & (col <= upper[s])
    if ok.all():  # every box point is a state: its table code is its index (no table)
        return states, strides, klo, khi, None, None
    table = np.full(size, -1, dtype=np.int64)
    keep = np.flatnonzero(ok)
    table[keep] = np.arange(keep.size)
    # the table code of a kept state is its position in the box
    return states[keep], strides, klo, khi, table, keep


def _negative_count_error(model, j, state, target):
    """A positive propensity that would make a count negative is a kinetic law that does
    not vanish without enough reactant molecules: say so instead of guessing."""
    net = model.net
    reaction = net.reactions[int(model.channels[j])].id
    i = int(np.argmax(target < 0))
    at = ", ".join(f"{sid}={int(v)}" for sid, v in zip(net.species_ids, state))
    raise SimulationError(
        f"fsp: reaction '{reaction}' has a positive propensity at state ({at}) but firing it "
        f"would make species '{net.species_ids[i]}' negative; its kinetic law must vanish "
        "when there are too few reactant molecules (e.g. k*A*(A-1)/2 for 2 A)")


def _channel_arrays(model, strides):
    """Per channel: the non-zero net stoichiometry (``nu_idx``, ``nu_val``, ``nu_ptr``,
    CSC-like) and the table-code offset ``delta`` of a jump."""
    nu = model.nu
    key_pos = {int(s): c for c, s in enumerate(model.key)}
    nch = nu.shape[1]
    nu_idx, nu_val, nu_ptr = [], [], [0]
    delta = np.zeros(nch, dtype=np.int64)
    for j in range(nch):
        for s in np.flatnonzero(nu[:, j]).tolist():
            nu_idx.append(s)
            nu_val.append(int(nu[s, j]))
            if s in key_pos:
                delta[j] += int(nu[s, j]) * int(strides[key_pos[s]])
        nu_ptr.append(len(nu_idx))
    return (np.asarray(nu_idx, dtype=np.int64), np.asarray(nu_val, dtype=np.int64),
            np.asarray(nu_ptr, dtype=np.int64), delta)


def _table_args(model, states, lower, upper, codes, table, strides):
    props = np.ascontiguousarray(model.propensities.raw(states), dtype=float)
    nu_idx, nu_val, nu_ptr, delta = _channel_arrays(model, strides)
    return (props, np.ascontiguousarray(states), nu_idx, nu_val, nu_ptr,
            np.asarray(lower, dtype=np.int64), np.asarray(upper, dtype=np.int64),
            np.zeros(0, np.int64) if codes is None else codes,
            np.zeros(0, np.int64) if table is None else table, delta, table is None)


def _edges_table(model, states, lower, upper, codes, table, strides):
    """:func:`_edges` for a tabulated box: a target's table code is the source's code
    plus a per-channel constant, and only the species a channel changes are checked
    against the bounds. One compiled sweep over states (:func:`._kernels.table_edges`);
    internal edges come out source-major (channels in order within a source)."""
    args = _table_args(model, states, lower, upper, codes, table, strides)
    src, dst, rxn, rate, osrc, orxn, orate, faulty = _kernels.table_edges(*args)
    out_target = states[osrc] + model.nu[:, orxn].T if osrc.size else \
        np.zeros((0, model.n_species), np.int64)
    return src, dst, rxn, rate, osrc, orxn, orate, out_target, 0, faulty


#: states per chunk of the fused generator kernel (propensities of one chunk at a time)
_CHUNK = 1 << 16
#: entry buffers are sized to this multiple of the entries per state seen so far
_SLACK = 1.1
#: below this many bytes the entry buffers reserve the worst case (n_channels + 1 entries
#: per state) up front; pages never written are never touched
_RESERVE_BYTES = 128 * 2 ** 20


def _grown(buf, used, need):
    """``buf`` with room for at least ``need`` entries (1.5x growth), its first ``used``
    entries kept."""
    if need <= buf.size:
        return buf
    out = np.empty(max(need, int(1.5 * buf.size)), dtype=buf.dtype)
    out[:used] = buf[:used]
    return out


def _table_generator(model, states, lower, upper, codes, table, strides):
    """The reflecting generator (CSC) of a tabulated box straight from the propensities
    (:func:`._kernels.table_generator`, ``_CHUNK`` states at a time so the propensity
    array stays small), the edges leaving the box and the faulty states; the internal
    edge list is not built. Returns ``(csc, osrc, orxn, orate, out_target, faulty)``.

    The entry buffers reserve the worst case (``n_channels + 1`` per state) when that is
    at most ``_RESERVE_BYTES``; otherwise they start at the first chunk's worst case and
    are then sized from the entries per state seen so far (``_SLACK``), growing by 1.5x
    when a chunk needs more -- a large worst-case reservation would count against an
    address-space limit (``curate`` sets one)."""
    nu_idx, nu_val, nu_ptr, delta = _channel_arrays(model, strides)
    states = np.ascontiguousarray(states)
    m = states.shape[0]
    nch = model.nu.shape[1]
    itype = np.int32 if m * (nch + 1) < 2 ** 31 else np.int64
    first = min(max(m, 1), _CHUNK)
    if m * (nch + 1) * (np.dtype(itype).itemsize + 8) <= _RESERVE_BYTES:
        first = max(m, 1)
    indptr = np.empty(m + 1, dtype=itype)
    indices = np.empty(first * (nch + 1), dtype=itype)
    data = np.empty(indices.size)
    osrc = np.empty(first * nch, dtype=np.int64)
    orxn = np.empty(osrc.size, dtype=np.int64)
    orate = np.empty(osrc.size)
    faulty = np.zeros(m, dtype=bool)
    fixed = (nu_idx, nu_val, nu_ptr, np.asarray(lower, dtype=np.int64),
             np.asarray(upper, dtype=np.int64),
             np.zeros(0, np.int64) if codes is None else codes,
             np.zeros(0, np.int64) if table is None else table, delta, table is None)
    pos, o = 0, 0
    for s0 in range(0, max(m, 1), _CHUNK):
        chunk = states[s0:s0 + _CHUNK]
        props = np.ascontiguousarray(model.propensities.raw(chunk), dtype=float)
        if s0 > 0:  # size for the rest from what the states so far needed
            per = pos / s0
            indices = _grown(indices, pos, int(per * m * _SLACK) + nch + 1)
            data = _grown(data, pos, indices.size)
        r = 0
        while r < props.shape[0]:
            pos, o, r = _kernels.table_generator(props, states, *fixed, s0, r, pos, o,
                                                 indptr, indices, data, osrc, orxn, orate,
                                                 faulty)
            if r < props.shape[0]:
                indices = _grown(indices, pos, pos + (props.shape[0] - r) * (nch + 1))
                data = _grown(data, pos, indices.size)
                osrc = _grown(osrc, o, o + (props.shape[0] - r) * nch)
                orxn = _grown(orxn, o, osrc.size)
                orate = _grown(orate, o, osrc.size)
    csc = sps.csc_matrix((data[:pos], indices[:pos], indptr), shape=(m, m), copy=False)
    csc.has_sorted_indices = True
    csc.has_canonical_format = True
    osrc, orxn, orate = osrc[:o].copy(), orxn[:o].copy(), orate[:o].copy()
    out_target = states[osrc] + model.nu[:, orxn].T if o else \
        np.zeros((0, model.n_species), np.int64)
    return csc, osrc, orxn, orate, out_target, faulty


def _edges(model, states, lookup, lower, upper):
    """Fire every channel on every state; classify targets as internal, outside or
    negative. ``lookup(targets) -> index or -1``.

    A negative or non-finite propensity, or a positive one that would make a count
    negative, is not an error here: the state may be unreachable from the initial state
    (``kon*(1-G)`` at G=2). Such states are returned in ``faulty`` (a boolean mask) and
    :func:`_check_reachable` raises only if the projection reaches one of them."""
    props = model.propensities.raw(states)
    faulty = np.any(~np.isfinite(props) | (props < 0), axis=1)
    src, dst, rxn, rate = [], [], [], []
    osrc, orxn, orate, otgt = [], [], [], []
    dropped = 0
    for j in range(model.nu.shape[1]):
        a = props[:, j]
        live = np.flatnonzero((a > 0) & np.isfinite(a))
        if live.size == 0:
            continue
        tgt = states[live] + model.nu[:, j]
        neg = np.any(tgt < 0, axis=1)
        if neg.any():
            faulty[live[neg]] = True
        inside = ~neg & np.all(tgt >= lower, axis=1) & np.all(tgt <= upper, axis=1)
        outside = ~neg & ~inside
        idx = np.full(live.size, -1, dtype=np.int64)
        if inside.any():
            idx[inside] = lookup(tgt[inside])
        internal = inside & (idx >= 0)
        src.append(live[internal]); dst.append(idx[internal])
        rxn.append(np.full(int(internal.sum()), j, dtype=np.int64)); rate.append(a[live[internal]])
        if outside.any():
            osrc.append(live[outside]); orxn.append(np.full(int(outside.sum()), j, dtype=np.int64))
            orate.append(a[live[outside]]); otgt.append(tgt[outside])
    cat = (lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt))
    out_target = np.concatenate(otgt) if otgt else np.zeros((0, model.n_species), np.int64)
    return (cat(src, np.int64), cat(dst, np.int64), cat(rxn, np.int64), cat(rate, float),
            cat(osrc, np.int64), cat(orxn, np.int64), cat(orate, float), out_target, dropped,
            faulty)


def _check_reachable(model, states, faulty, reach) -> None:
    """Raise the error of the first reachable state whose propensities are invalid
    (``reach=None``: every state is reachable)."""
    hit = np.flatnonzero(faulty) if reach is None else reach[faulty[reach]]
    if hit.size == 0:
        return
    state = states[int(hit.min())]
    model.propensities(state[None, :])  # raises for a negative / non-finite propensity
    a = model.propensities.raw(state[None, :])[0]
    for j in range(model.nu.shape[1]):
        target = state + model.nu[:, j]
        if a[j] > 0 and np.any(target < 0):
            _negative_count_error(model, j, state, target)


def project(model: StochasticModel, lower: np.ndarray, upper: np.ndarray,
            max_states: int, start_state: np.ndarray | None = None) -> Projection:
    """States reachable from ``start_state`` (default ``model.x0``; it must lie in the
    conservation class of ``x0``) without leaving ``[lower, upper]`` (counts, per
    species, inclusive), with all their edges."""
    start_state = model.x0 if start_state is None else np.asarray(start_state, np.int64)
    lower = np.asarray(lower, dtype=np.int64)
    upper = np.asarray(upper, dtype=np.int64)
    limit = max(DENSE_BOX_LIMIT, 4 * int(max_states))
    limit = min(limit, 4 * DENSE_BOX_LIMIT)
    box = _box_states(model, lower, upper, limit)
    if box is not None:
        states, strides, klo, khi, table, codes = box

        def lookup(targets):
            tk = targets[:, model.key]
            okk = np.all(tk >= klo, axis=1) & np.all(tk <= khi, axis=1)
            res = np.full(targets.shape[0], -1, dtype=np.int64)
            # targets come from firing reactions, so they satisfy the conservation laws
            # and their key species determine them: no need to compare full states
            code = (tk[okk] - klo) @ strides
            res[okk] = code if table is None else table[code]
            return res

        inside = np.all(start_state >= lower) and np.all(start_state <= upper)
        start = lookup(start_state[None, :])[0] if inside else -1
        if start < 0:
            raise SimulationError("fsp: the initial state lies outside the requested bounds")
        csc, osrc, orxn, orate, otgt, faulty = _table_generator(
            model, states, lower, upper, codes, table, strides)
        n = states.shape[0]
        # the CSC arrays of A read as CSR are the state graph src -> dst (plus self-loops,
        # which change neither reachability nor the communicating classes); the graph
        # functions read the pattern only, so the generator's values serve as weights
        graph = sps.csr_matrix((csc.data, csc.indices, csc.indptr), shape=(n, n),
                               copy=False)
        order = csgraph.breadth_first_order(graph, int(start), directed=True,
                                            return_predecessors=False)
        box_args = (model, states, lower, upper, codes, table, strides)
        if order.size == n:
            _check_reachable(model, states, faulty, None)

            def edges():
                e = _edges_table(*box_args)
                return {"src": e[0], "dst": e[1], "rxn": e[2], "rate": e[3]}

            # one deferred value for the four edge fields (see _lazy_fields)
            lazy: Any = _Deferred(edges)
            full = Projection(states, lazy, lazy, lazy, lazy, osrc, orxn, orate, otgt,
                              lower, upper, 0, int(start), graph)
            full.__dict__["_csc"] = csc
            return full
        del graph, csc
        e = _edges_table(*box_args)
        src, dst = e[0], e[1]
        reach = np.sort(order)
        _check_reachable(model, states, e[9], reach)
        remap = np.full(n, -1, dtype=np.int64)
        remap[reach] = np.arange(reach.size)
        states = states[reach]
        keep = remap[src] >= 0
        src, dst, rxn, rate = remap[src[keep]], remap[dst[keep]], e[2][keep], e[3][keep]
        okeep = remap[e[4]] >= 0
        osrc, orxn, orate, otgt = remap[e[4][okeep]], e[5][okeep], e[6][okeep], e[7][okeep]
        return Projection(states, src, dst, rxn, rate, osrc, orxn, orate, otgt, lower, upper,
                          e[8], int(remap[start]))
    if not (np.all(start_state >= lower) and np.all(start_state <= upper)):
        raise SimulationError("fsp: the initial state lies outside the requested bounds")
    return _project_bfs(model, lower, upper, max_states, start_state)


def _project_bfs(model, lower, upper, max_states, start_state) -> Projection:
    """Breadth-first enumeration with a dict on packed keys (for boxes too large to
    tabulate): each level fires all channels on the whole frontier at once."""
    key = model.key
    klo = lower[key]
    radix = (upper[key] - klo + 1).astype(object)
    mult = [1] * key.size
    for i in range(key.size - 2, -1, -1):
        mult[i] = mult[i + 1] * int(radix[i + 1])
    use_int = mult[0] * int(radix[0]) < 2 ** 62 if key.size else True
    strides = np.asarray(mult, dtype=np.int64) if use_int else None

    def pack(xs):
        tk = xs[:, key] - klo
        if use_int:
            return (tk @ strides).tolist()
        return [row.tobytes() for row in tk]

    index: dict = {}
    chunks = [start_state[None, :].copy()]
    index[pack(chunks[0])[0]] = 0
    frontier = chunks[0]
    n = 1
    while frontier.shape[0]:
        cand = (frontier[:, None, :] + model.nu.T[None, :, :]).reshape(-1, model.n_species)
        ok = np.all(cand >= lower, axis=1) & np.all(cand <= upper, axis=1)
        cand = np.unique(cand[ok], axis=0)
        keys = pack(cand)
        new = [i for i, k in enumerate(keys) if k not in index]
        if not new:
            break
        cand = cand[new]
        for k in (keys[i] for i in new):
            index[k] = n
            n += 1
        if n > 4 * max_states:
            break
        chunks.append(cand)
        frontier = cand
    states = np.concatenate(chunks)

    def lookup(targets):
        return np.fromiter((index.get(k, -1) for k in pack(targets)), dtype=np.int64,
                           count=targets.shape[0])

    e = _edges(model, states, lookup, lower, upper)
    # keep only states reachable along positive-propensity edges
    graph = sps.csr_matrix((np.ones(e[0].size), (e[0], e[1])), shape=(n, n))
    reach = np.sort(csgraph.breadth_first_order(graph, 0, directed=True,
                                                return_predecessors=False))
    _check_reachable(model, states, e[9], reach)
    remap = np.full(n, -1, dtype=np.int64)
    remap[reach] = np.arange(reach.size)
    keep = remap[e[0]] >= 0
    okeep = remap[e[4]] >= 0
    return Projection(states[reach], remap[e[0][keep]], remap[e[1][keep]], e[2][keep],
                      e[3][keep], remap[e[4][okeep]], e[5][okeep], e[6][okeep], e[7][okeep],
                      lower, upper, e[8], 0)
