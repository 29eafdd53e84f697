"""Thermodynamic analysis of reaction networks: detailed balance, cycles, entropy production.

:func:`thermodynamics` answers, for a model as imported by :func:`sbmlnoise.load`:

* is the network **detailed balanced** (every reaction has a reverse and the Wegscheider
  conditions hold on every cycle), and if not, *why* (which reaction is irreversible,
  which cycle carries an affinity);
* the **cycle fluxes** and **affinities** of a cycle basis (Schnakenberg 1976), and the
  **entropy production** of the non-equilibrium steady state (NESS);
* the chemical reaction network theory verdicts: **deficiency**, **weak reversibility**,
  **complex balance**, and for complex-balanced mass-action networks the **product-form
  Poisson** stationary distribution of Anderson, Craciun & Kurtz (2010).

Two levels:

``level="network"``
    Reaction pairs, cycles of the stoichiometric null space and deterministic steady-state
    fluxes (see :mod:`sbmlnoise.thermo._network` for how channels are normalised).
``level="cme"``
    The state graph of the chemical master equation from the finite state projection
    (:func:`sbmlnoise.fsp`): Kolmogorov's criterion on the fundamental cycles of a
    spanning tree, stationary probability currents and Schnakenberg's entropy production
    (see :mod:`sbmlnoise.thermo._cme`).

Units: fluxes are reaction extents per model time unit (model substance units per time;
at ``level="cme"`` probability per time). Entropy production is a rate in **k_B per time
unit**: at the network level ``sigma = Omega * sum_pairs (J+ - J-) ln(J+/J-)`` with the
amount-scale fluxes ``J`` and ``Omega = net.system_size`` (so it counts molecules); at the
CME level ``sigma = 1/2 sum_ij (p_i w_ij - p_j w_ji) ln(p_i w_ij / (p_j w_ji))``.

References
----------
J. Schnakenberg, "Network theory of microscopic and macroscopic behavior of master equation
systems", Rev. Mod. Phys. 48, 571 (1976). doi:10.1103/RevModPhys.48.571
M. Feinberg, "Necessary and sufficient conditions for detailed balancing in mass action
systems of arbitrary complexity", Chem. Eng. Sci. 44, 1819 (1989).
doi:10.1016/0009-2509(89)85124-3
D. F. Anderson, G. Craciun, T. G. Kurtz, "Product-form stationary distributions for
deficiency zero chemical reaction networks", Bull. Math. Biol. 72, 1947 (2010).
doi:10.1007/s11538-010-9517-4
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from ..errors import StateSpaceTooLarge
from ..importer._tellurium import accepts_model

if TYPE_CHECKING:
    from ._network import NetworkAnalysis

__all__ = ["thermodynamics", "ThermoReport"]

LEVELS = ("network", "cme")


@dataclass(frozen=True, eq=False)
class ThermoReport:
    """Result of :func:`thermodynamics`.

    Attributes
    ----------
    level : str
        ``"network"`` or ``"cme"``.
    detailed_balance : bool
        True if the network (or the CME state graph) satisfies detailed balance within
        ``rtol``/``atol``.
    irreversible : list of str
        Reaction ids without a reverse (network level: channels whose swapped counterpart
        does not exist; CME level: reactions that cause one-way transitions).
    pairs : pandas.DataFrame
        One row per reverse pair. Network level: ``pair, forward, reverse,
        reactant_complex, product_complex, paired_by, mass_action, k_plus, k_minus``
        (effective mass-action constants, amount units), ``log_ratio`` (ln k+/k- or
        ln J+/J-), ``J_plus, J_minus, net_flux`` (amount per time unit) and
        ``entropy_production`` (k_B per time unit). CME level: ``forward, reverse,
        n_transitions, forward_flux, backward_flux, net_flux, entropy_production``
        (probability fluxes summed over the state graph's edges of that reaction pair).
    cycles : pandas.DataFrame
        One row per basis cycle: ``members``, ``affinity`` (ln of the product of
        forward/backward rates; at the network level ln prod (k+/k-)^c for mass action,
        ln prod (J+/J-)^c at the steady state otherwise), ``flux`` (cycle flux of the
        Schnakenberg decomposition) and more (see the docs).
    entropy_production : float
        Steady-state entropy production rate in ``units``; ``math.inf`` when a reaction
        with positive flux has no reverse; ``nan`` when no steady state is available.
    units : str
    deficiency : int
        ``n_complexes - n_linkage_classes - rank(N)``.
    weakly_reversible : bool
    complex_balanced : bool or None
        Whether the steady state balances inflow and outflow at every complex (``None``
        without a steady state).
    reason : str
        Why (not) detailed balanced, in words.
    """

    level: str
    detailed_balance: bool
    irreversible: list
    pairs: pd.DataFrame
    cycles: pd.DataFrame
    entropy_production: float
    units: str
    deficiency: int
    weakly_reversible: bool
    complex_balanced: bool | None
    reason: str
    n_complexes: int = 0
    n_linkage_classes: int = 0
    rank: int = 0
    steady_state: pd.Series | None = None
    one_way: pd.DataFrame | None = None
    settings: dict = field(default_factory=dict)
    notes: tuple = ()
    extra: dict = field(default_factory=dict)
    _poisson: dict | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ product form
    @property
    def product_form_means(self) -> pd.Series:
        """Poisson parameters ``c = Omega * x*`` (counts) of the product-form stationary
        distribution of a complex-balanced mass-action network (Anderson, Craciun & Kurtz
        2010), over the dynamic species. Raises ``ValueError`` if the network is not
        complex balanced or not mass action."""
        return self._require_product_form()["means"].copy()

    def product_form(self, counts) -> float:
        """Stationary probability of ``counts`` under the product-form distribution.

        ``pi(n) = prod_i c_i^{n_i} e^{-c_i} / n_i!`` for open networks; for networks with
        conservation laws the product is restricted to the conservation class of the
        initial state (``L @ n == L @ n0``) and normalised over it.

        Parameters
        ----------
        counts : mapping species -> count, or array_like over ``net.species_ids`` or over
            the dynamic species (``product_form_means.index``)

        Notes
        -----
        Given only when every propensity is stochastic mass action, decided by the one
        rule of :func:`sbmlnoise.kinetics.classify_law`: ``k*A*(A-1)`` for ``2A`` is
        (its Poisson means are then the complex-balanced equilibrium of the rate
        constants ``kappa``), ``k*A*A`` is not -- the CME (SSA, FSP) refuses that law, and
        so does this method (``settings["product_form_refused"]`` says why).
        """
        pf = self._require_product_form()
        means = pf["means"]
        if isinstance(counts, (dict, pd.Series)):
            n = np.array([float(counts[s]) for s in means.index])
        else:
            arr = np.asarray(counts, dtype=float).ravel()
            if arr.size == len(means):
                n = arr
            elif arr.size == len(pf["all_ids"]):
                n = arr[[pf["all_ids"].index(s) for s in means.index]]
            else:
                raise ValueError(f"counts must have {len(means)} entries (species "
                                 f"{', '.join(means.index)}), got {arr.size}")
        if np.any(n < 0) or np.any(n != np.round(n)):
            return 0.0
        laws, totals = pf["laws"], pf["totals"]
        if laws.shape[0] and not np.allclose(laws @ n, totals, atol=1e-9):
            return 0.0
        logw = _log_poisson_weight(n[None, :], means.to_numpy())[0]
        if laws.shape[0]:
            return float(math.exp(logw - self._log_normaliser()))
        return float(math.exp(logw))

    def _log_normaliser(self) -> float:
        """log of the product-form weights summed over the initial conservation class
        (memoised in the product-form data)."""
        pf = self._require_product_form()
        if "log_z" not in pf:
            states = _enumerate_class(pf["laws"], pf["totals"])
            means = pf["means"].to_numpy()
            logw = _log_poisson_weight(states, means)
            m = float(np.max(logw))
            # species outside every conservation law sit at 0 in ``states``; their
            # Poisson factor sums to one, so undo its exp(-c) at n = 0
            free = ~np.any(pf["laws"] != 0, axis=0)
            pf["log_z"] = (m + math.log(float(np.sum(np.exp(logw - m))))
                           + float(np.sum(means[free])))
        return pf["log_z"]

    def _require_product_form(self) -> dict:
        """The product-form data (Poisson means, conservation laws and totals); raises
        ``ValueError`` saying why there is none."""
        if self._poisson is None:
            why = self.settings.get("product_form_refused") or (
                "it is not complex balanced" if self.complex_balanced is False else
                "no steady state is available" if self.complex_balanced is None else
                "not all of its reactions are mass action")
            raise ValueError(f"no product-form stationary distribution: {why} "
                             "(Anderson, Craciun & Kurtz 2010 need a complex-balanced "
                             "mass-action network)")
        return self._poisson

    # ------------------------------------------------------------------ output
    def summary(self) -> str:
        """A few lines for people."""
        lines = []
        verdict = "detailed balanced" if self.detailed_balance else "not detailed balanced"
        lines.append(f"{self.level} level: {verdict}: {self.reason}")
        if math.isinf(self.entropy_production):
            ex = ""
            if self.irreversible:
                more = len(self.irreversible) - 5
                ex = (" (one-way: " + ", ".join(self.irreversible[:5])
                      + (f" and {more} more" if more > 0 else "") + ")")
            lines.append(f"entropy production unbounded{ex}")
        elif math.isnan(self.entropy_production):
            lines.append("entropy production not available (no steady state)")
        else:
            lines.append(f"entropy production {self.entropy_production:.3g} {self.units}")
        if len(self.cycles):
            top = self.cycles.iloc[0]
            flux_units = "per time unit" if self.level == "cme" else "amount per time unit"
            if not self.detailed_balance and np.isfinite(top["affinity"]) and top["affinity"]:
                lines.append(f"strongest cycle {_members_text(top['members'])}: affinity "
                             f"{_ln(top['affinity'])}; net cycle flux {top['flux']:.3g} "
                             f"{flux_units}")
            lines.append(f"{len(self.cycles)} basis cycle(s)")
        cb = {True: "yes", False: "no", None: "unknown"}[self.complex_balanced]
        lines.append(f"deficiency {self.deficiency}, weakly reversible: "
                     f"{'yes' if self.weakly_reversible else 'no'}, complex balanced: {cb}"
                     + ("; product-form Poisson stationary distribution"
                        if self._poisson is not None else ""))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self, max_cycles: int = 1000) -> dict:
        """JSON-able dict. Non-finite floats become the strings ``"inf"``, ``"-inf"``,
        ``"nan"``; DataFrames become lists of records. Only the ``max_cycles`` strongest
        cycles are included (``n_cycles`` gives the total; CME state graphs can have
        10^5 fundamental cycles)."""
        out = {
            "level": self.level, "detailed_balance": bool(self.detailed_balance),
            "irreversible": list(self.irreversible), "reason": self.reason,
            "entropy_production": self.entropy_production, "units": self.units,
            "deficiency": int(self.deficiency), "weakly_reversible": bool(self.weakly_reversible),
            "complex_balanced": self.complex_balanced, "n_complexes": int(self.n_complexes),
            "n_linkage_classes": int(self.n_linkage_classes), "rank": int(self.rank),
            "pairs": self.pairs.to_dict(orient="records"),
            "cycles": self.cycles.head(max_cycles).to_dict(orient="records"),
            "n_cycles": int(len(self.cycles)),
            "settings": dict(self.settings), "notes": list(self.notes),
        }
        if self.steady_state is not None:
            out["steady_state"] = {str(k): float(v) for k, v in self.steady_state.items()}
        if self.one_way is not None:
            out["one_way"] = self.one_way.to_dict(orient="records")
        if self._poisson is not None:
            out["product_form_means"] = {k: float(v) for k, v in self._poisson["means"].items()}
        return _jsonable(out)


def _members_text(members) -> str:
    from ._network import members_text

    if isinstance(members, (list, tuple)):
        return members_text(members)
    return str(members)


def _ln(a: float) -> str:
    if abs(a) < 700:
        return f"ln {math.exp(a):.3g} ({a:.3g})"
    return f"{a:.3g}"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def _log_poisson_weight(states: np.ndarray, means: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    states = np.asarray(states, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logc = np.where(means > 0, np.log(np.where(means > 0, means, 1.0)), -np.inf)
        term = np.where(states > 0, states * logc, 0.0)
    return np.sum(term - gammaln(states + 1.0) - means, axis=1)


def _enumerate_class(laws: np.ndarray, totals: np.ndarray, limit: int = 2_000_000) -> np.ndarray:
    """All nonnegative integer states ``n`` with ``laws @ n == totals`` (species not
    covered by any law are summed out analytically, so they stay 0 here)."""
    n_sp = laws.shape[1]
    covered = np.any(laws != 0, axis=0)
    upper = np.full(n_sp, np.inf)
    for law, tot in zip(laws, totals):
        if np.all(law >= 0):
            pos = law > 0
            upper[pos] = np.minimum(upper[pos], np.floor(tot / law[pos] + 1e-9))
    if np.any(covered & ~np.isfinite(upper)):
        raise StateSpaceTooLarge("product form: a conservation class is unbounded; "
                                 "evaluate the unnormalised weights instead")
    states = np.zeros((1, n_sp))
    for i in np.nonzero(covered)[0]:
        vals = np.arange(int(upper[i]) + 1, dtype=float)
        states = np.repeat(states, vals.size, axis=0)
        states[:, i] = np.tile(vals, states.shape[0] // vals.size)
        # prune partial states that already exceed a nonnegative law's total
        ok = np.ones(states.shape[0], bool)
        for law, tot in zip(laws, totals):
            if np.all(law >= 0):
                ok &= states @ law <= tot + 1e-9
        states = states[ok]
        if states.shape[0] > limit:
            raise StateSpaceTooLarge(f"product form: conservation class has more than {limit} "
                                     "states; the normaliser is not computed")
    keep = np.all(np.abs(states @ laws.T - totals) < 1e-9, axis=1)
    return states[keep]


def _validate(level, rtol, atol) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    if not (rtol >= 0 and math.isfinite(rtol)):
        raise ValueError("`rtol` must be non-negative and finite.")
    if not (atol >= 0 and math.isfinite(atol)):
        raise ValueError("`atol` must be non-negative and finite.")


@accepts_model
def thermodynamics(net, *, level: str = "network", rtol: float = 1e-9, atol: float = 1e-12,
                   steady_state: pd.Series | None = None, **fsp_kwargs) -> ThermoReport:
    """Detailed balance, cycle affinities and fluxes, and entropy production.

    Parameters
    ----------
    net : ReactionNetwork
    level : {"network", "cme"}
        ``"network"``: reaction pairs, Wegscheider conditions on a basis of the
        stoichiometric cycle space, deficiency, weak reversibility and complex balance,
        fluxes at the deterministic steady state (:func:`sbmlnoise.steady_state`).
        ``"cme"``: Kolmogorov's criterion and Schnakenberg's cycle decomposition on the
        state graph of the stationary finite state projection (:func:`sbmlnoise.fsp`);
        the network-level structure (deficiency, ...) is reported as well.
    rtol, atol : float
        A cycle of log-ratios ``a_j`` (affinity ``A = sum_j a_j``) satisfies the
        Wegscheider/Kolmogorov condition when ``|A| <= atol + rtol * sum_j |a_j|``.
        Steady-state balance checks use ``atol + rtol * (largest flux)``.
    steady_state : pandas.Series, optional
        Deterministic steady state (amounts by species id) to use instead of calling
        :func:`sbmlnoise.steady_state` (e.g. one computed already).
    **fsp_kwargs
        Passed to :func:`sbmlnoise.fsp` (``tol``, ``bounds``, ``max_states``) at
        ``level="cme"``. ``fsp_result=`` reuses an existing stationary FSP result.

    Returns
    -------
    ThermoReport

    Notes
    -----
    Network level: channels are paired when their (catalyst-augmented, chemostat-free)
    complexes are swapped; the cycle space is the integer null space of the net
    stoichiometry with one column per pair (then one per irreversible channel). For mass
    action the cycle affinity is ``sum_j c_j ln(k+_j / k-_j)``; otherwise
    ``sum_j c_j ln(J+_j / J-_j)`` at the steady state. Detailed balance of a mass-action
    network holds iff every channel has a reverse and every pair-cycle affinity vanishes
    (Feinberg 1989). Cycle fluxes solve ``J_net = C f`` (least squares; exact at a
    steady state). Cost: one integer elimination of the (species x pairs) matrix plus a
    steady-state solve; a 100-species network takes well under a second.

    CME level: cost is linear in the number of FSP transitions (plus the FSP solve).

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load('''model c3
    ... J1: A -> B; k1*A - km1*B; J2: B -> C; k2*B - km2*C; J3: C -> A; k3*C - km3*A
    ... A = 1; B = 0; C = 0; k1 = 2; km1 = 1; k2 = 3; km2 = 1; k3 = 3; km3 = 1
    ... end''')
    >>> th = sn.thermodynamics(net)
    >>> th.detailed_balance, round(float(th.cycles["affinity"][0]), 4)  # ln 18
    (False, 2.8904)
    """
    _validate(level, rtol, atol)
    from ._network import analyze_network

    fsp_result = fsp_kwargs.pop("fsp_result", None)
    ana = analyze_network(net, rtol=rtol, atol=atol, steady_state=steady_state)
    settings: dict[str, Any] = {"rtol": rtol, "atol": atol,
                                "system_size": float(net.system_size), "level": level}
    common = _structure(net, ana, settings)
    if level == "network":
        return _network_report(ana, settings, common)
    return _cme_report(net, ana, fsp_result, fsp_kwargs, rtol, atol, settings, common)


class _Structure(TypedDict):
    """The fields of a :class:`ThermoReport` both levels take from the network analysis."""

    deficiency: int
    weakly_reversible: bool
    complex_balanced: bool | None
    n_complexes: int
    n_linkage_classes: int
    rank: int
    steady_state: pd.Series | None
    _poisson: dict | None


def _structure(net, ana: NetworkAnalysis, settings: dict[str, Any]) -> _Structure:
    """Deficiency, reversibility, complex balance and the product-form data of ``ana``;
    records in ``settings`` whether the product form is exact or why it is refused."""
    poisson = None
    if ana.poisson_means is not None:
        poisson = {"means": pd.Series(ana.poisson_means, index=list(ana.dyn_ids),
                                      name="poisson_mean"),
                   "laws": ana.laws, "totals": ana.totals, "all_ids": list(net.species_ids)}
        settings["product_form_exact"] = bool(ana.poisson_exact)
    elif ana.product_form_reason:
        settings["product_form_refused"] = ana.product_form_reason
    return _Structure(deficiency=ana.deficiency, weakly_reversible=ana.weakly_reversible,
                      complex_balanced=ana.complex_balanced, n_complexes=len(ana.complexes),
                      n_linkage_classes=ana.n_linkage_classes, rank=ana.rank,
                      steady_state=ana.steady_state, _poisson=poisson)


def _network_report(ana: NetworkAnalysis, settings: dict[str, Any],
                    common: _Structure) -> ThermoReport:
    """The ``level="network"`` report: pairs, Wegscheider cycles (strongest first) and the
    deterministic entropy production."""
    notes = list(ana.notes)
    if ana.steady_state_note:
        notes.append(ana.steady_state_note)
    cycles = _sorted_cycles(ana.cycles_frame)
    irreversible = [rid for e in ana.irreversible for rid in e.reactions]
    return ThermoReport(level="network", detailed_balance=ana.detailed_balance,
                        irreversible=irreversible, pairs=ana.pairs_frame, cycles=cycles,
                        entropy_production=ana.entropy_production,
                        units="k_B per time unit", reason=ana.reason, settings=settings,
                        notes=tuple(notes), **common)


def _reaction_pairs(ana: NetworkAnalysis) -> dict[str, tuple[int, int]]:
    """Reaction id -> (network-level pair index, +1 forward / -1 reverse), for reactions
    that form a whole channel (not split by sign)."""
    reaction_pairs = {}
    for i, (f, r, _) in enumerate(ana.pairs):
        for sign, edge in ((1, f), (-1, r)):
            for part in edge.parts:
                if part.label == part.reaction:       # whole reactions only
                    reaction_pairs[part.reaction] = (i, sign)
    return reaction_pairs


def _cme_report(net, ana: NetworkAnalysis, fsp_result, fsp_kwargs: dict, rtol: float,
                atol: float, settings: dict[str, Any], common: _Structure) -> ThermoReport:
    """The ``level="cme"`` report: Kolmogorov's criterion and Schnakenberg's decomposition
    on the stationary FSP state graph (solved here unless ``fsp_result`` is given), with
    the reaction-resolved entropy production and any disagreement with the network
    level in the reason."""
    from ._cme import analyze_cme, resolved_entropy_production

    if fsp_result is None:
        from ..fsp import fsp

        fsp_result = fsp(net, **fsp_kwargs)
    cme = analyze_cme(net, fsp_result, rtol=rtol, atol=atol)
    reason = cme["reason"]
    if not cme["detailed_balance"] and not ana.detailed_balance and ana.irreversible:
        reason += f" (network level: {ana.reason})"
    # reaction-resolved entropy production (parallel reactions kept apart)
    sigma_res, res_one_way = resolved_entropy_production(fsp_result, _reaction_pairs(ana))
    sigma = cme["entropy_production"]
    if cme["detailed_balance"] and not ana.detailed_balance and \
            not (math.isfinite(sigma_res) and sigma_res <= atol + rtol * abs(sigma)):
        reason += (f"; the network level disagrees ({ana.reason}): with every reaction "
                   "kept apart and reversed only by its network-level pair (the state graph "
                   "merges parallel transitions), the entropy production is "
                   f"{sigma_res:.3g} k_B per time unit")
    settings.update({k: v for k, v in fsp_kwargs.items()})
    settings["fsp_error_bound"] = float(getattr(fsp_result, "error_bound", math.nan))
    settings["n_states"] = int(len(fsp_result.states))
    return ThermoReport(level="cme", detailed_balance=cme["detailed_balance"],
                        irreversible=cme["irreversible"], pairs=cme["pairs"],
                        cycles=cme["cycles"], entropy_production=cme["entropy_production"],
                        units="k_B per time unit", reason=reason, one_way=cme["one_way"],
                        settings=settings, notes=tuple(ana.notes),
                        extra={"schnakenberg_sum": cme["schnakenberg_sum"],
                               "network_detailed_balance": ana.detailed_balance,
                               "entropy_production_resolved": sigma_res,
                               "resolved_one_way": res_one_way},
                        **common)


def _sorted_cycles(frame: pd.DataFrame) -> pd.DataFrame:
    """Order cycles by |entropy production| then |affinity| (strongest first)."""
    if frame is None or frame.empty:
        return frame
    key1 = frame["entropy_production"].abs().fillna(-1.0)
    key2 = frame["affinity"].abs().fillna(-1.0)
    order = np.lexsort((-key2.to_numpy(), -key1.to_numpy()))
    return frame.iloc[order].reset_index(drop=True)
