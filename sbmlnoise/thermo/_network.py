"""Network-level thermodynamics (private; the front door is :func:`sbmlnoise.thermodynamics`).

Everything here works on *edges*: the reaction channels after three normalisations.

1. **Catalysts.** A species that appears in a kinetic law but is neither a reactant nor a
   product acts as a catalyst and is added to both complexes: ``=> M; k*G`` reads as
   ``G => G + M``. If the law is a monomial (mass action in the augmented reactant complex,
   detected numerically) a product species in the law counts as well (autocatalysis,
   ``A => B; k*A*B`` reads as ``A + B => 2 B``), with the order of the monomial as
   multiplicity.
2. **Sign split.** A law that is not mass action but has an explicit difference
   (``(Vf*S - Vr*P)/(1 + S + P)``) is split into its positive and negative parts, a
   forward and a reverse channel.
3. **Chemostats.** Boundary and constant species are dropped from the complexes; their
   amounts are folded into the effective rate constants (pseudo-first-order constants).

Channels with the same reactant and product complexes are merged into one edge (their
rates add). Two edges whose complexes are swapped form a *reverse pair*, whatever the SBML
``reversible`` flags say. Fluxes are reaction extents per time (model substance units
per time); entropy production is reported in k_B per time unit, i.e. multiplied by the
system size Omega (molecules per substance unit).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .. import expr as ex
from ..kinetics import _is_zero
from ..kinetics import split_sign as _split_sign
from ..errors import NoSteadyState, SimulationError, UnsupportedFeature
from ._linalg import integer_nullspace


# =========================================================================== channels
@dataclass
class _Part:
    label: str
    reaction: str
    sbml_id: str
    expr: ex.Expr
    reactant: dict          # species id -> coefficient (dynamic species only after fold)
    product: dict
    direction: str
    split: str = ""         # "", "law" (importer split) or "sign" (our sign split)
    k: float = math.nan     # effective mass-action constant (amount units), nan if not MA
    mass_action: bool = False


@dataclass
class _Edge:
    key: tuple
    parts: list = field(default_factory=list)
    flux: float = math.nan

    @property
    def label(self) -> str:
        return "+".join(p.label for p in self.parts)

    @property
    def reactions(self) -> list[str]:
        return [p.reaction for p in self.parts]

    @property
    def mass_action(self) -> bool:
        return all(p.mass_action for p in self.parts)

    @property
    def k(self) -> float:
        return float(sum(p.k for p in self.parts)) if self.mass_action else math.nan


def _merge(pairs) -> dict:
    out: dict = {}
    for sid, nu in pairs:
        out[sid] = out.get(sid, 0.0) + float(nu)
    return out


def _parts(net) -> tuple[list[_Part], list[str]]:
    """Reaction channels as parts (before catalysts/chemostat folding)."""
    from ..kinetics import classify_law

    parts: list[_Part] = []
    notes: list[str] = []
    env = {pid: float(v) for pid, v in zip(net.parameter_ids, net.parameter_values)}
    for j, r in enumerate(net.reactions):
        react, prod = _merge(r.reactants), _merge(r.products)
        split = "law" if r.direction in ("forward", "reverse") else ""
        if r.mass_action is not None:
            parts.append(_Part(r.id, r.id, r.sbml_id or r.id, r.rate, react, prod, r.direction,
                               split, float(r.mass_action.rate_constant), True))
            continue
        # one law-shape rule: a falling-factorial law k*A*(A-1) is one channel, not
        # k*A^2 minus k*A
        whole = classify_law(net.propensity_expressions[j], react, parameters=env,
                             state=set(net.species_ids)).is_mass_action_family
        pos, neg = _split_sign(r.rate)
        if whole or _is_zero(neg) or _is_zero(pos):
            parts.append(_Part(r.id, r.id, r.sbml_id or r.id, r.rate, react, prod, r.direction))
        else:
            parts.append(_Part(f"{r.id}[+]", r.id, r.sbml_id or r.id, pos, react, prod,
                               "forward", "sign"))
            parts.append(_Part(f"{r.id}[-]", r.id, r.sbml_id or r.id, neg, prod, react,
                               "reverse", "sign"))
            notes.append(f"the law of '{r.id}' was split into a forward and a reverse term")
    return parts, notes


def _detect(net, parts: list[_Part], dyn_ids: list[str]) -> None:
    """Fold chemostats into constants, add catalysts, detect mass action numerically for
    laws the importer did not recognise (in place)."""
    idx = net.species_index
    dyn = set(dyn_ids)
    x0 = np.asarray(net.initial_amounts, dtype=float)
    for p in parts:
        if p.mass_action:
            r = net.reactions[net.reaction_ids.index(p.reaction)]
            for sid, order in r.mass_action.orders:
                if sid not in dyn:
                    p.k *= x0[idx[sid]] ** order
    todo = [p for p in parts if not p.mass_action]
    if todo:
        rng = np.random.default_rng(20240531)
        func = ex.compile_vector([p.expr for p in todo], net.slots, net.id + ".thermo_parts")
        pvals = np.asarray(net.parameter_values, dtype=float)
        dyn_idx = np.array([idx[s] for s in dyn_ids], dtype=int)

        def evaluate(x):
            out = np.zeros(len(todo))
            with np.errstate(all="ignore"):
                try:
                    return np.asarray(func(x, pvals, 0.0, out), dtype=float)
                except (ZeroDivisionError, OverflowError, ValueError):
                    return np.full(len(todo), np.nan)

        base = x0.copy()
        base[dyn_idx] = rng.uniform(0.6, 1.4, dyn_idx.size)
        other = x0.copy()
        other[dyn_idx] = rng.uniform(0.3, 2.0, dyn_idx.size)
        v0, v2 = evaluate(base), evaluate(other)
        syms = [ex.symbols(p.expr) & dyn for p in todo]
        used = sorted(set().union(*syms), key=lambda s: idx[s])
        elastic = {}
        for sid in used:
            x = base.copy()
            x[idx[sid]] *= 2.0
            with np.errstate(all="ignore"):
                elastic[sid] = np.log2(evaluate(x) / v0)
        for q, p in enumerate(todo):
            cat = {s: 1.0 for s in syms[q] if s not in p.reactant and s not in p.product}
            orders = {s: elastic[s][q] for s in syms[q]}
            ok = v0[q] > 0 and np.isfinite(v0[q]) and all(
                np.isfinite(o) and abs(o - round(o)) < 1e-7 and round(o) >= 0
                for o in orders.values())
            if ok:
                orders = {s: int(round(o)) for s, o in orders.items() if round(o) > 0}
                ok = all(orders.get(s, 0) == nu for s, nu in p.reactant.items() if s in dyn)
            if ok:
                k = v0[q] / np.prod([base[idx[s]] ** o for s, o in orders.items()])
                pred = k * np.prod([other[idx[s]] ** o for s, o in orders.items()])
                ok = math.isclose(pred, v2[q], rel_tol=1e-9, abs_tol=0.0)
            if ok:
                p.mass_action, p.k = True, float(k)
                cat = {s: float(o) for s, o in orders.items() if s not in p.reactant}
            for s, nu in cat.items():
                p.reactant[s] = p.reactant.get(s, 0.0) + nu
                p.product[s] = p.product.get(s, 0.0) + nu
    for p in parts:
        p.reactant = {s: v for s, v in p.reactant.items() if s in dyn and v}
        p.product = {s: v for s, v in p.product.items() if s in dyn and v}


def _pair_up(groups: dict) -> tuple[list, list]:
    """Reverse pairs and irreversible edges from channels grouped by (reactant, product).

    Channels of one reversible law (the importer's forward/reverse split, or our sign
    split) pair with each other, so parallel reversible reactions between the same
    complexes (e.g. two chemostats feeding one species) keep their own pairs and form an
    (emergent) cycle. The remaining channels of each direction are merged (rates add):
    they pair if the other direction has channels, or join the first law pair.
    """
    pairs: list[tuple[_Edge, _Edge, str]] = []
    irreversible: list[_Edge] = []
    seen: set[tuple] = set()
    for key, fwd in groups.items():
        if key in seen:
            continue
        rkey = (key[1], key[0])
        seen.update({key, rkey})
        rev = groups.get(rkey, [])
        if not rev:
            irreversible.append(_Edge(key, list(fwd)))
            continue
        rest_f, rest_r = list(fwd), list(rev)
        law_pairs: list[tuple[_Edge, _Edge, str]] = []
        for sid in dict.fromkeys(p.sbml_id for p in fwd if p.split):
            f = [p for p in rest_f if p.sbml_id == sid and p.split]
            r = [p for p in rest_r if p.sbml_id == sid and p.split]
            if f and r:
                rest_f = [p for p in rest_f if p not in f]
                rest_r = [p for p in rest_r if p not in r]
                kinds = {p.split for p in f + r}
                by = "reversible law" if kinds == {"law"} else "sign split of the law"
                if all(p.direction == "reverse" for p in f):
                    law_pairs.append((_Edge(rkey, r), _Edge(key, f), by))
                else:
                    law_pairs.append((_Edge(key, f), _Edge(rkey, r), by))
        if rest_f and rest_r:
            law_pairs.append((_Edge(key, rest_f), _Edge(rkey, rest_r), "swapped complexes"))
        elif rest_f or rest_r:
            first = law_pairs[0]
            extra, extra_key = (rest_f, key) if rest_f else (rest_r, rkey)
            side = first[0] if first[0].key == extra_key else first[1]
            side.parts.extend(extra)
            law_pairs[0] = (first[0], first[1], "swapped complexes")
        pairs.extend(law_pairs)
    return pairs, irreversible


def _vector(d: dict, dyn_ids: list[str]) -> tuple:
    return tuple(round(float(d.get(s, 0.0)), 12) for s in dyn_ids)


# =========================================================================== analysis
@dataclass
class NetworkAnalysis:
    """Everything the network level computes (wrapped into a ThermoReport by thermo.py)."""

    dyn_ids: list
    edges: list
    pairs: list            # list of (forward _Edge, reverse _Edge, paired_by)
    irreversible: list     # list of _Edge
    null_edges: list
    inactive: list
    basis: np.ndarray      # (n_columns, n_cycles) over [pairs..., irreversible...]
    n_pair_cycles: int
    rank: int
    complexes: list
    n_linkage_classes: int
    weakly_reversible: bool
    deficiency: int
    steady_state: pd.Series | None
    steady_state_note: str
    ss_residual: float
    notes: list
    #: set by _fluxes_and_cycles
    pairs_frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    cycles_frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    entropy_production: float = math.nan
    detailed_balance: bool = False
    complex_balanced: bool | None = None
    reason: str = ""
    #: conservation laws over the dynamic species and their totals (set by
    #: _complex_balance)
    laws: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    totals: np.ndarray = field(default_factory=lambda: np.zeros(0))
    poisson_means: np.ndarray | None = None
    poisson_exact: bool = False
    product_form_reason: str = ""


def _complex_text(vec: tuple, dyn_ids: list[str]) -> str:
    from ..network import ReactionNetwork

    return ReactionNetwork.complex_label([(s, v) for s, v in zip(dyn_ids, vec) if v])


def _tol(scale: float, rtol: float, atol: float) -> float:
    return atol + rtol * scale


def analyze_network(net, *, rtol: float, atol: float, steady_state=None) -> NetworkAnalysis:
    """Structure, Wegscheider cycles, steady-state fluxes and entropy production."""
    dyn_ids = [s.id for s in net.species if not (s.boundary or s.constant)]
    parts, notes = _parts(net)
    _detect(net, parts, dyn_ids)

    groups: dict[tuple, list] = {}
    null_edges, inactive = [], []
    for p in parts:
        a, b = _vector(p.reactant, dyn_ids), _vector(p.product, dyn_ids)
        if a == b:
            null_edges.append(p)
            continue
        if p.mass_action and p.k == 0.0:
            inactive.append(p)
            continue
        groups.setdefault((a, b), []).append(p)
    if null_edges:
        notes.append("channels that change no dynamic species are ignored: "
                     + ", ".join(p.label for p in null_edges))
    if inactive:
        notes.append("channels with rate constant 0 are ignored: "
                     + ", ".join(p.label for p in inactive))
    pairs, irreversible = _pair_up(groups)
    edge_list = [e for f, r, _ in pairs for e in (f, r)] + irreversible

    n_dyn = len(dyn_ids)
    cols = [(f, True) for f, _, _ in pairs] + [(e, False) for e in irreversible]
    change = np.zeros((n_dyn, len(cols)))
    for j, (e, _) in enumerate(cols):
        change[:, j] = np.subtract(e.key[1], e.key[0])
    if cols:
        basis, rank = integer_nullspace(change)
    else:
        basis, rank = np.zeros((0, 0), dtype=np.int64), 0
    # columns whose free index lies among the pairs span the pair-only cycle space
    free = [int(np.nonzero(basis[:, q])[0].max()) for q in range(basis.shape[1])]
    n_pair_cycles = sum(f < len(pairs) for f in free)

    # complexes and the complex graph
    complexes = sorted({e.key[0] for e in edge_list} | {e.key[1] for e in edge_list})
    cindex = {c: i for i, c in enumerate(complexes)}
    g = nx.DiGraph()
    g.add_nodes_from(range(len(complexes)))
    g.add_edges_from((cindex[e.key[0]], cindex[e.key[1]]) for e in edge_list)
    n_lc = nx.number_weakly_connected_components(g) if complexes else 0
    weakly_rev = (nx.number_strongly_connected_components(g) == n_lc) if complexes else True
    deficiency = len(complexes) - n_lc - rank

    # steady state
    ss, ss_note, ss_res = steady_state, "", 0.0
    if ss is None:
        from ..ode import steady_state as _steady_state
        try:
            ss = _steady_state(net)
        except (NoSteadyState, UnsupportedFeature, SimulationError) as err:
            ss, ss_note = None, f"no deterministic steady state ({err})"
    if ss is not None:
        x = np.asarray(ss.reindex(list(net.species_ids)).to_numpy(), dtype=float)
        exprs = [p.expr for e in edge_list for p in e.parts]
        func = ex.compile_vector(exprs, net.slots, net.id + ".thermo_fluxes")
        out = np.zeros(len(exprs))
        with np.errstate(all="ignore"):
            vals = np.asarray(func(x, np.asarray(net.parameter_values, float), 0.0, out))
        k = 0
        for e in edge_list:
            e.flux = float(np.sum(vals[k:k + len(e.parts)]))
            k += len(e.parts)
        ss_res = float(ss.attrs.get("residual", 0.0) or 0.0)

    ana = NetworkAnalysis(dyn_ids, edge_list, pairs, irreversible, null_edges, inactive, basis,
                          n_pair_cycles, rank, complexes, n_lc, bool(weakly_rev), int(deficiency),
                          ss, ss_note, ss_res, notes)
    _fluxes_and_cycles(net, ana, rtol, atol)
    _complex_balance(net, ana, rtol, atol)
    return ana


def _log_ratio(jp: float, jm: float) -> float:
    if jp > 0 and jm > 0:
        return math.log(jp / jm)
    if jp > 0 and jm <= 0:
        return math.inf
    if jm > 0 and jp <= 0:
        return -math.inf
    return math.nan


_PAIR_COLUMNS = ["pair", "forward", "reverse", "reactant_complex", "product_complex",
                 "paired_by", "mass_action", "k_plus", "k_minus", "log_ratio", "J_plus",
                 "J_minus", "net_flux", "entropy_production"]
_CYCLE_COLUMNS = ["members", "coefficients", "affinity", "affinity_from", "wegscheider",
                  "flux", "irreversible_members", "entropy_production"]


@dataclass
class _PairTable:
    """Per reverse pair (in ``ana.pairs`` order): its table row, the log ratio the cycles
    use (``ln k+/k-`` for mass action, else ``ln J+/J-`` at the steady state) and where
    it comes from, and its entropy-production term (k_B per time unit)."""

    rows: list[dict[str, Any]]
    log_ratio: list[float]
    log_ratio_from: list[str]
    sigma_terms: list[float]


def _fluxes_and_cycles(net, ana: NetworkAnalysis, rtol: float, atol: float) -> None:
    """Fill ``ana``'s pair and cycle tables, its steady-state entropy production and its
    detailed-balance verdict (in place)."""
    omega = float(net.system_size)
    table = _pair_table(ana, omega)
    ana.pairs_frame = pd.DataFrame(table.rows, columns=_PAIR_COLUMNS)
    ana.pairs_frame.attrs["units"] = ("k: effective mass-action constants (amount units); "
                                      "J: amount per time unit; entropy_production: k_B per "
                                      "time unit")
    cyc_rows = _cycle_rows(ana, table, omega, rtol, atol)
    ana.cycles_frame = pd.DataFrame(cyc_rows, columns=_CYCLE_COLUMNS)
    ana.cycles_frame.attrs["units"] = ("affinity: dimensionless (ln of the product of "
                                       "ratios); flux: amount per time unit")
    ana.entropy_production = _entropy_production(ana, table.sigma_terms)
    _verdict(ana, cyc_rows, rtol, atol)


def _pair_table(ana: NetworkAnalysis, omega: float) -> _PairTable:
    """One row per reverse pair: complexes, rate constants, fluxes ``J+``, ``J-`` at the
    steady state (``nan`` without one) and the entropy production
    ``Omega (J+ - J-) ln(J+/J-)``."""
    has_ss = ana.steady_state is not None
    table = _PairTable([], [], [], [])
    for f, r, by in ana.pairs:
        ma = f.mass_action and r.mass_action
        jp, jm = f.flux, r.flux
        lr_flux = _log_ratio(jp, jm) if has_ss else math.nan
        if ma and f.k > 0 and r.k > 0:
            lr, src = math.log(f.k / r.k), "rate constants"
        else:
            lr, src = lr_flux, "steady-state fluxes"
        table.log_ratio.append(lr)
        table.log_ratio_from.append(src)
        net_flux = jp - jm if has_ss else math.nan
        if not has_ss:
            term = math.nan
        elif jp == jm:
            term = 0.0
        else:
            term = omega * net_flux * lr_flux
        table.sigma_terms.append(term)
        label = f.parts[0].sbml_id if by != "swapped complexes" else f"{f.label}/{r.label}"
        table.rows.append({
            "pair": label, "forward": f.label, "reverse": r.label,
            "reactant_complex": _complex_text(f.key[0], ana.dyn_ids),
            "product_complex": _complex_text(f.key[1], ana.dyn_ids),
            "paired_by": by, "mass_action": ma,
            "k_plus": f.k if ma else math.nan, "k_minus": r.k if ma else math.nan,
            "log_ratio": lr, "J_plus": jp, "J_minus": jm, "net_flux": net_flux,
            "entropy_production": term,
        })
    return table


def _cycle_rows(ana: NetworkAnalysis, table: _PairTable, omega: float, rtol: float,
                atol: float) -> list[dict[str, Any]]:
    """One row per basis cycle (columns: pairs, then irreversible edges): members,
    affinity and its source, the Wegscheider check, the Schnakenberg cycle flux (least
    squares ``J_net = C f``) and the cycle's entropy production. Each cycle is oriented
    along its net flux (or its affinity when it carries none)."""
    has_ss = ana.steady_state is not None
    labels = [row["pair"] for row in table.rows] + [e.label for e in ana.irreversible]
    n_p = len(ana.pairs)
    col_lr = np.array(table.log_ratio + [math.inf] * len(ana.irreversible), dtype=float)
    col_flux = np.array([row["net_flux"] for row in table.rows]
                        + [e.flux if has_ss else math.nan for e in ana.irreversible], dtype=float)
    basis = ana.basis
    cyc_rows: list[dict[str, Any]] = []
    flux = np.full(basis.shape[1], math.nan)
    if basis.shape[1] and has_ss and np.all(np.isfinite(col_flux)):
        sol, *_ = np.linalg.lstsq(basis.astype(float), col_flux, rcond=None)
        flux = sol
    for q in range(basis.shape[1]):
        c = basis[:, q].copy()
        nz = np.nonzero(c)[0]
        only_pairs = bool(np.all(nz < n_p))
        srcs = {table.log_ratio_from[j] for j in nz if j < n_p}
        if only_pairs and srcs == {"rate constants"}:
            lrs = col_lr[nz]
            src = "rate constants"
        else:
            lrs = np.array([(_log_ratio(ana.pairs[j][0].flux, ana.pairs[j][1].flux) if has_ss
                             else math.nan) if j < n_p else math.inf for j in nz], dtype=float)
            src = "steady-state fluxes"
        with np.errstate(invalid="ignore"):
            affinity = float(np.sum(c[nz] * lrs))
        fq = float(flux[q])
        # orient the cycle along its net flux (or its affinity when it carries none)
        if (math.isfinite(fq) and fq < 0) or ((not math.isfinite(fq) or fq == 0)
                                              and affinity < 0):
            c, fq, affinity = -c, -fq, -affinity
        with np.errstate(invalid="ignore"):
            terms = c[nz] * lrs
            scale = float(np.sum(np.abs(terms)))
        members = [labels[j] if c[j] == 1 else
                   (f"-{labels[j]}" if c[j] == -1 else f"{int(c[j])}*{labels[j]}")
                   for j in nz]
        ok = None
        if only_pairs and not math.isnan(affinity):
            ok = bool(math.isfinite(affinity) and abs(affinity) <= _tol(scale, rtol, atol))
        if not math.isfinite(fq):
            ep = math.nan
        elif fq == 0:
            ep = 0.0
        else:
            ep = omega * fq * affinity
        cyc_rows.append({
            "members": members, "coefficients": {labels[j]: int(c[j]) for j in nz},
            "affinity": affinity, "affinity_from": src, "wegscheider": ok, "flux": fq,
            "irreversible_members": [labels[j] for j in nz if j >= n_p],
            "entropy_production": ep,
        })
    return cyc_rows


def _entropy_production(ana: NetworkAnalysis, sigma_terms: list[float]) -> float:
    """Steady-state entropy production (k_B per time unit): the sum over pairs, ``inf``
    when an irreversible edge carries flux, ``nan`` without a steady state."""
    if ana.steady_state is None:
        return math.nan
    sigma = float(np.sum(sigma_terms)) if sigma_terms else 0.0
    if any(e.flux > 0 for e in ana.irreversible):
        sigma = math.inf
    return sigma


def _verdict(ana: NetworkAnalysis, cyc_rows: list[dict[str, Any]], rtol: float,
             atol: float) -> None:
    """Set ``ana.detailed_balance`` and ``ana.reason``: irreversible edges, cycles that
    violate (or could not be checked against) the Wegscheider conditions, and
    non-mass-action pairs with a net flux at the steady state."""
    has_ss = ana.steady_state is not None
    reasons = []
    if ana.irreversible:
        ids = [rid for e in ana.irreversible for rid in e.reactions]
        reasons.append("reaction" + ("s " if len(ids) > 1 else " ") + _short_list(ids)
                       + (" have" if len(ids) > 1 else " has") + " no reverse reaction")
    broken = [q for q, row in enumerate(cyc_rows) if row["wegscheider"] is False]
    unknown = [q for q, row in enumerate(cyc_rows) if row["wegscheider"] is None
               and not row["irreversible_members"]]
    if broken:
        q = max(broken, key=lambda q: abs(cyc_rows[q]["affinity"]))
        row = cyc_rows[q]
        reasons.append(f"cycle {members_text(row['members'])} has affinity "
                       f"{_ln_text(row['affinity'])} (Wegscheider condition violated, from "
                       f"{row['affinity_from']})")
    if unknown:
        reasons.append(f"{len(unknown)} cycle(s) could not be checked ({ana.steady_state_note})")
    nonma_unbalanced = []
    if has_ss and not reasons:
        for f, r, _ in ana.pairs:
            if not (f.mass_action and r.mass_action):
                if abs(f.flux - r.flux) > _tol(max(abs(f.flux), abs(r.flux)), rtol, atol) \
                        + 10 * ana.ss_residual:
                    nonma_unbalanced.append(f.label)
        if nonma_unbalanced:
            reasons.append("pairs " + ", ".join(nonma_unbalanced)
                           + " carry a net flux at the steady state")
    nonma = [f.label for f, r, _ in ana.pairs if not (f.mass_action and r.mass_action)]
    ana.detailed_balance = not reasons
    if ana.detailed_balance:
        msg = (f"all {len(ana.pairs)} reaction pairs are reversible and the "
               f"{ana.n_pair_cycles} independent cycle(s) satisfy the Wegscheider conditions")
        if nonma:
            msg += ("; non-mass-action pairs (" + ", ".join(nonma) + ") were judged by the "
                    "flux ratio J+/J- at the steady state")
        ana.reason = msg
    else:
        ana.reason = "; ".join(reasons)
        if nonma and not ana.irreversible:
            ana.reason += ("; non-mass-action pairs (" + ", ".join(nonma) + ") were judged by "
                           "the flux ratio J+/J- at the steady state")


def _short_list(items, limit: int = 6) -> str:
    items = list(items)
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit} more"


def members_text(members, limit: int = 8) -> str:
    """``"R1 -> R2 -> R3"``, shortened for long cycles."""
    members = [str(m) for m in members]
    if len(members) <= limit:
        return " -> ".join(members)
    return (" -> ".join(members[:limit - 2]) + " -> ... -> " + " -> ".join(members[-2:])
            + f" ({len(members)} members)")


def _ln_text(a: float) -> str:
    if not math.isfinite(a):
        return "+inf" if a > 0 else ("-inf" if a < 0 else "nan")
    if abs(a) < 700:
        return f"ln {math.exp(a):.3g} = {a:.3g}"
    return f"{a:.3g}"


def _complex_balance(net, ana: NetworkAnalysis, rtol: float, atol: float) -> None:
    # conservation laws over dynamic species (integer left null space)
    change = np.zeros((len(ana.dyn_ids), len(ana.edges)))
    for j, e in enumerate(ana.edges):
        change[:, j] = np.subtract(e.key[1], e.key[0])
    if change.size:
        laws, _ = integer_nullspace(change.T)
        ana.laws = laws.T.astype(float)
    else:
        ana.laws = np.eye(len(ana.dyn_ids))
    idx = [net.index(s) for s in ana.dyn_ids]
    counts0 = np.asarray(net.initial_state, float)[idx]
    ana.totals = ana.laws @ counts0 if ana.laws.size else np.zeros(0)
    if ana.steady_state is None:
        ana.complex_balanced = None
        _product_form(net, ana, rtol)
        return
    cindex = {c: i for i, c in enumerate(ana.complexes)}
    inflow = np.zeros(len(ana.complexes))
    outflow = np.zeros(len(ana.complexes))
    for e in ana.edges:
        inflow[cindex[e.key[1]]] += e.flux
        outflow[cindex[e.key[0]]] += e.flux
    scale = float(np.max(np.abs(np.concatenate([inflow, outflow])), initial=0.0))
    tol = _tol(scale, rtol, atol) + 10 * ana.ss_residual
    ana.complex_balanced = bool(np.all(np.abs(inflow - outflow) <= tol))
    _product_form(net, ana, rtol)


def _stochastic_kappas(net, ana: NetworkAnalysis, rtol: float):
    """Per edge, the stochastic mass-action constant ``kappa`` in counts (one rule:
    :func:`sbmlnoise.kinetics.classify_law` on the part's propensity), or a reason why
    the CME has no product form."""
    from ..kinetics import classify_law

    omega = float(net.system_size)
    dyn = set(ana.dyn_ids)
    scaled = {s: ex.div(ex.Sym(s), ex.Num(omega)) for s in net.species_ids} \
        if omega != 1.0 else {}
    env = {pid: float(v) for pid, v in zip(net.parameter_ids, net.parameter_values)}
    env.update({s: float(v) for s, v in zip(net.species_ids, net.initial_state)
                if s not in dyn})
    kappas = []
    for e in ana.edges:
        total = 0.0
        for p in e.parts:
            law = p.expr if omega == 1.0 else ex.mul(ex.Num(omega), ex.substitute(p.expr, scaled))
            shape = classify_law(law, p.reactant, parameters=env, state=dyn, rtol=1e-9)
            if not shape.is_mass_action_family:
                return None, f"the law of '{p.label}' is not mass action ({shape.reason})"
            if not shape.stochastic:
                return None, (f"the law of '{p.label}' is deterministic mass action for a "
                              "reactant taken twice or more, which the CME (SSA, FSP) refuses: "
                              f"{shape.reason}")
            if any(shape.orders.get(s, 0) != int(round(v)) for s, v in p.reactant.items()):
                return None, f"the law of '{p.label}' does not match its reactant complex"
            total += shape.rate_constant
        kappas.append(total)
    return kappas, ""


def _kirchhoff_equilibrium(ana: NetworkAnalysis, kappas, rtol: float):
    """A positive complex-balanced equilibrium ``c`` (counts) of the deterministic mass-action
    system with rate constants ``kappas``, or None if there is none.

    Per linkage class the kernel of the complex-graph Laplacian is ``c^{y_i} = alpha K_i``
    (Kirchhoff tree constants, Feinberg 1989 / Horn & Jackson 1972,
    doi:10.1007/BF00251225); ``log c`` solves the linear system
    ``y_i . log c - log alpha_class = log K_i`` by least squares, which must be consistent."""
    import scipy.linalg as sla

    n_c, n_s = len(ana.complexes), len(ana.dyn_ids)
    cindex = {c: i for i, c in enumerate(ana.complexes)}
    lap = np.zeros((n_c, n_c))
    for e, kap in zip(ana.edges, kappas):
        i, j = cindex[e.key[0]], cindex[e.key[1]]
        lap[j, i] += kap
        lap[i, i] -= kap
    g = nx.Graph()
    g.add_nodes_from(range(n_c))
    g.add_edges_from((cindex[e.key[0]], cindex[e.key[1]]) for e in ana.edges)
    classes = [sorted(c) for c in nx.connected_components(g)]
    rows, rhs = [], []
    for q, members in enumerate(classes):
        sub = lap[np.ix_(members, members)]
        kernel = sla.null_space(sub, rcond=1e-10)
        if kernel.shape[1] != 1:
            return None
        K = kernel[:, 0] * np.sign(kernel[np.argmax(np.abs(kernel[:, 0])), 0])
        if np.any(K <= 1e-14 * np.max(np.abs(K))):
            return None  # not weakly reversible: no positive complex-balanced state
        for m, Ki in zip(members, K):
            row = np.zeros(n_s + len(classes))
            row[:n_s] = ana.complexes[m]
            row[n_s + q] = -1.0
            rows.append(row)
            rhs.append(math.log(Ki))
    M, b = np.array(rows), np.array(rhs)
    sol, *_ = np.linalg.lstsq(M, b, rcond=None)
    if np.max(np.abs(M @ sol - b), initial=0.0) > 1e-6 + 10 * rtol:
        return None  # the tree constants are not consistent: not complex balanced
    return np.exp(sol[:n_s])


def _product_form(net, ana: NetworkAnalysis, rtol: float) -> None:
    """Poisson means of the product-form stationary law (Anderson, Craciun & Kurtz 2010,
    doi:10.1007/s11538-010-9517-4) when every channel is stochastic mass action."""
    if not ana.edges:
        return
    kappas, reason = _stochastic_kappas(net, ana, rtol)
    if kappas is None:
        ana.product_form_reason = reason
        return
    if all(max(e.key[0], default=0) <= 1 for e in ana.edges):
        # first-order complexes: stochastic and deterministic mass action coincide, the
        # network's own steady state is the equilibrium
        ss = ana.steady_state
        if ana.complex_balanced and ss is not None:  # complex balance needs the state
            x = np.asarray(ss.reindex(list(ana.dyn_ids)).to_numpy(), dtype=np.float64)
            ana.poisson_means = float(net.system_size) * x
            ana.poisson_exact = True
        else:
            ana.product_form_reason = ("it is not complex balanced" if ana.complex_balanced
                                       is False else "no steady state is available")
        return
    c = _kirchhoff_equilibrium(ana, kappas, rtol)
    if c is None:
        ana.product_form_reason = ("the stochastic mass-action system (falling-factorial "
                                   "propensities) has no complex-balanced equilibrium")
        return
    ana.poisson_means = c
    ana.poisson_exact = True