"""Private: the compiled problem behind :func:`sbmlnoise.lna`.

:class:`LNAProblem` turns a :class:`~sbmlnoise.network.ReactionNetwork` into the objects the
linear noise approximation needs, once per network (cached):

* **channels** -- the reaction channels of the network, with every reversible reaction whose
  kinetic law is a *net* rate (``f - r``, not split by the importer) split into a forward
  and a reverse channel by :func:`sbmlnoise.kinetics.split_sign`. The drift is unchanged
  but the diffusion matrix
  ``D = N diag(a) N^T`` needs the two one-way propensities (a net rate would give
  ``D = 0`` at equilibrium);
* exact **first and second derivatives** of the channel rates with respect to the species
  amounts, differentiated symbolically (:func:`sbmlnoise.expr.diff`) only for the species
  that occur in a law, and compiled with :func:`sbmlnoise.expr.compile_vector` into flat
  sparse lists (no finite differences, no per-call sympy); subtrees the derivatives share
  are computed once (:func:`sbmlnoise.lna._cse.compile_shared`).

Units: rates ``v`` are extents per time in model substance units at amounts ``x``; the
propensities in counts are ``a(n) = Omega v(n / Omega)``, so ``da/dn = dv/dx`` and
``d2a/dn2 = (1/Omega) d2v/dx2``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from .. import expr as ex
from ..kinetics import split_sign
from ..network import ReactionNetwork
from ._cse import compile_shared, diff_shared

_CACHE: "weakref.WeakKeyDictionary[ReactionNetwork, LNAProblem]" = weakref.WeakKeyDictionary()


#: the sign split of a net law (one rule with thermodynamics and classify_law)
_split_signed = split_sign


@dataclass(frozen=True)
class Channel:
    """One LNA channel: a column of the stoichiometry and a rate tree (amounts)."""

    reaction: str
    direction: str  # the network's direction, or "forward"/"reverse" after a split here
    column: int  # reaction index in the network
    sign: float  # +1, or -1 for the reverse half of a split net law
    rate: ex.Expr


class LNAProblem:
    """Compiled channel rates, Jacobian and Hessian entries of one network.

    Attributes
    ----------
    stoichiometry : ndarray, shape (n_species, n_channels)
        Net stoichiometry of the channels.
    channels : tuple of Channel
    split : tuple of str
        Reactions whose net law was split into forward and reverse channels here.
    unsplit_reversible : tuple of str
        Reversible reactions with a net law that could not be split; their diffusion uses
        ``|v|`` (a warning is attached to the result).
    """

    def __init__(self, net: ReactionNetwork):
        self.net = net
        species = set(net.species_ids)
        channels: list[Channel] = []
        split, unsplit = [], []
        for j, r in enumerate(net.reactions):
            if r.reversible and r.direction == "net":
                pos, neg = split_sign(r.rate)
                if neg != ex.ZERO and pos != ex.ZERO:
                    channels.append(Channel(r.id, "forward", j, 1.0, pos))
                    channels.append(Channel(r.id, "reverse", j, -1.0, neg))
                    split.append(r.id)
                    continue
                unsplit.append(r.id)
            channels.append(Channel(r.id, r.direction, j, 1.0, r.rate))
        self.channels = tuple(channels)
        self.split = tuple(split)
        self.unsplit_reversible = tuple(unsplit)
        stoich = np.asarray(net.stoichiometry, dtype=float)
        self.stoichiometry = np.column_stack(
            [c.sign * stoich[:, c.column] for c in channels]) if channels else \
            np.zeros((net.n_species, 0))
        self.n_channels = len(channels)

        jac_rows, jac_cols, jac_exprs = [], [], []
        hes_rows, hes_k, hes_l, hes_exprs = [], [], [], []
        memo: dict = {}  # shared subtrees differentiated once (nested laws)
        for c, ch in enumerate(channels):
            syms = sorted((s for s in ex.symbols(ch.rate) if s in species), key=net.index)
            first = {}
            for s in syms:
                d = diff_shared(ch.rate, s, memo)
                if d != ex.ZERO:
                    first[s] = d
                    jac_rows.append(c)
                    jac_cols.append(net.index(s))
                    jac_exprs.append(d)
            for a_i, s in enumerate(syms):
                if s not in first:
                    continue
                for s2 in syms[a_i:]:
                    d2 = diff_shared(first[s], s2, memo)
                    if d2 != ex.ZERO:
                        hes_rows.append(c)
                        hes_k.append(net.index(s))
                        hes_l.append(net.index(s2))
                        hes_exprs.append(d2)
        slots = net.slots
        n_p = len(net.parameter_values)
        # shared subtrees once: nested rate laws make derivatives that are small graphs
        # but huge trees (BIOMD0000000071: 1.8e6 Hessian nodes written out, ~1 min and
        # 2 GB to compile as one function; 0.4 s shared)
        self._rate_f = compile_shared([c.rate for c in channels], slots,
                                      net.id + ".lna_rates", n_p)
        self._jac_f = compile_shared(jac_exprs, slots, net.id + ".lna_jacobian", n_p)
        self._hes_f = compile_shared(hes_exprs, slots, net.id + ".lna_hessian", n_p)
        self._jac_idx = (np.array(jac_rows, dtype=np.intp), np.array(jac_cols, dtype=np.intp))
        self._hes_idx = (np.array(hes_rows, dtype=np.intp), np.array(hes_k, dtype=np.intp),
                         np.array(hes_l, dtype=np.intp))
        # off-diagonal Hessian entries stand for both (k, l) and (l, k)
        self._hes_mult = np.where(self._hes_idx[1] == self._hes_idx[2], 1.0, 2.0)
        self.n_jacobian_entries = len(jac_exprs)
        # a Jacobian that reads no species and not the time (zero- and first-order laws)
        # is a constant of the network: evaluated once, copied on each call
        state = species | {ex.TIME}
        self._jac_constant = not any(ex.symbols(e) & state for e in jac_exprs)
        self._jac_cached: np.ndarray | None = None
        #: species ids as a pandas Index, shared by every result (building an Index from a
        #: list of strings costs about 40 microseconds per Series)
        import pandas as pd
        self.index = pd.Index(list(net.species_ids))
        self.compartment_sizes: np.ndarray | None = None  # set by sbmlnoise.lna on first use
        self.n_hessian_entries = len(hes_exprs)

    # ----------------------------------------------------------------- evaluation
    def rates(self, amounts: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Channel rates (extent per time), shape (n_channels,)."""
        out = np.zeros(self.n_channels)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._rate_f(np.asarray(amounts, float), self.net.parameter_values,
                                float(t), out)

    def rate_jacobian(self, amounts: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Exact ``d v_c / d x_i`` (per time), shape (n_channels, n_species)."""
        if self._jac_cached is not None:
            return self._jac_cached.copy()
        vals = np.zeros(self.n_jacobian_entries)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self._jac_f(np.asarray(amounts, float), self.net.parameter_values, float(t), vals)
        out = np.zeros((self.n_channels, self.net.n_species))
        out[self._jac_idx] = vals
        if self._jac_constant:
            self._jac_cached = out.copy()
        return out

    def hessian_contraction(self, amounts: np.ndarray, cov_amounts: np.ndarray,
                            t: float = 0.0) -> np.ndarray:
        """``h_c = sum_kl d2 v_c / dx_k dx_l  C_kl`` for a symmetric ``C`` (amounts^2),
        shape (n_channels,)."""
        if self.n_hessian_entries == 0:
            return np.zeros(self.n_channels)
        vals = np.zeros(self.n_hessian_entries)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self._hes_f(np.asarray(amounts, float), self.net.parameter_values, float(t), vals)
        rows, k, l_ = self._hes_idx
        weights = vals * self._hes_mult * cov_amounts[k, l_]
        return np.bincount(rows, weights=weights, minlength=self.n_channels)


def problem(net: ReactionNetwork) -> LNAProblem:
    """The cached :class:`LNAProblem` of ``net``."""
    prob = _CACHE.get(net)
    if prob is None:
        prob = LNAProblem(net)
        _CACHE[net] = prob
    return prob
