"""Transcriptional bursting: kinetic and moment-based burst size and frequency.

Two estimates, each with its assumptions stated in the result:

* **Kinetic (telegraph motif).** A two-state promoter ``G_off <-> G_on`` whose copy number
  is conserved at one (either two species with ``G_off + G_on = 1``, or one species that
  only takes the values 0 and 1), and a species ``X`` produced only while the promoter is
  in one state (whatever the encoding: ``G_on`` as catalyst/modifier, ``G_on => G_on + X``,
  or a rate proportional to ``G_on``). With switching rates ``k_on`` (off -> on),
  ``k_off`` (on -> off) and production rate ``k_tx`` (molecules per time while on), the
  mean number of molecules made per on-period is the **burst size** ``b = k_tx / k_off``
  and bursts start at the **burst frequency** ``f = k_on`` (per time) [1]_ [2]_.
  For the telegraph model with first-order degradation ``gamma`` the Fano factor is
  ``F = 1 + k_tx k_off / ((k_on + k_off)(k_on + k_off + gamma))`` [1]_, which tends to
  ``1 + b`` in the bursty limit ``k_off >> k_on, gamma``.
* **Kinetic (two-stage, translational bursts).** An mRNA ``M`` made at ``k_m`` (per
  time, not depending on the protein) and degraded first-order at ``g_m``, and a protein
  ``P`` made at ``k_p M`` (``M => M + P`` or any law proportional to ``M``): each mRNA
  yields a geometric burst of proteins of mean **burst size** ``b = k_p / g_m`` and
  bursts arrive at the **burst frequency** ``f = k_m`` [3]_ [4]_. With protein
  degradation ``g_p`` the exact protein Fano factor is ``1 + b / (1 + g_p / g_m)``,
  ``1 + b`` when the mRNA is short-lived (``g_m >> g_p``).
* **Moment-based (any species).** If ``X`` is made in geometrically distributed bursts at
  frequency ``f`` and degraded first-order at rate ``gamma`` (no feedback, bursts short
  compared with the lifetime ``1/gamma``), then ``F = 1 + b`` and ``mean = f b / gamma``
  [2]_ [3]_; so ``b = F - 1`` and ``f = mean * gamma / b``. Undefined (``nan``) for
  sub-Poissonian species (``F <= 1``) or when no first-order degradation is found.

Rates are in the model's time unit; sizes are molecule counts (see
:mod:`sbmlnoise.network`).

References
----------
.. [1] Peccoud J, Ycart B (1995) Markovian modelling of gene-product synthesis.
   Theor Popul Biol 48:222-234. doi:10.1006/tpbi.1995.1027
.. [2] Raj A, van Oudenaarden A (2008) Nature, nurture, or chance: stochastic gene
   expression and its consequences. Cell 135:216-226. doi:10.1016/j.cell.2008.09.050
.. [3] Friedman N, Cai L, Xie XS (2006) Linking stochastic dynamics to population
   distribution: an analytical framework of gene expression. Phys Rev Lett 97:168302.
   doi:10.1103/PhysRevLett.97.168302
.. [4] Shahrezaei V, Swain PS (2008) Analytical distributions for stochastic gene
   expression. PNAS 105:17256-17261. doi:10.1073/pnas.0803850105
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .network import ReactionNetwork

__all__ = ["telegraph_bursts", "translational_bursts", "moment_bursts", "burst_table",
           "degradation_rate"]

KINETIC_ASSUMPTIONS = (
    "two-state promoter (copy number 1) switching off->on at k_on and on->off at k_off; "
    "the species is produced only in the on state at k_tx molecules per time; burst size "
    "= k_tx/k_off (mean molecules per on-period), burst frequency = k_on (Peccoud & Ycart "
    "1995, doi:10.1006/tpbi.1995.1027)")
TRANSLATIONAL_ASSUMPTIONS = (
    "two-stage model: mRNA made at k_m and degraded first-order at g_m, protein made at "
    "k_p per mRNA; each mRNA gives a geometric burst of mean b = k_p/g_m proteins, bursts "
    "at frequency f = k_m (Shahrezaei & Swain 2008, doi:10.1073/pnas.0803850105); protein "
    "Fano factor 1 + b/(1 + g_p/g_m)")
MOMENT_ASSUMPTIONS = (
    "geometric bursts at a constant frequency, first-order degradation (rate gamma), no "
    "feedback, bursts short compared with the lifetime 1/gamma: F = 1 + b and "
    "mean = f*b/gamma, so b = F - 1 and f = mean*gamma/b (Friedman, Cai & Xie 2006, "
    "doi:10.1103/PhysRevLett.97.168302)")


#: F - 1 at or below this counts as Poissonian (round-off of an exact F = 1)
POISSON_ATOL = 1e-6


def _propensities(net: ReactionNetwork, counts: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        a = net.propensities(counts, 0.0)
    return np.where(np.isfinite(a), a, 0.0)


def _reference_state(net: ReactionNetwork, reference) -> np.ndarray:
    if reference is None:
        ref = np.asarray(net.initial_state, dtype=float).copy()
    elif isinstance(reference, pd.Series):
        ref = np.asarray(net.initial_state, dtype=float).copy()
        for sid, v in reference.items():
            if sid in net.species_index and np.isfinite(v):
                ref[net.index(sid)] = float(v)
    else:
        ref = np.asarray(reference, dtype=float).copy()
    return np.clip(ref, 0.0, None)


def degradation_rate(net: ReactionNetwork, species: str) -> float | None:
    """First-order degradation constant ``gamma`` (per time) of ``species``, or None.

    Sums every channel whose only net effect is to remove one ``species`` molecule and
    whose propensity is ``gamma * n`` (mass action of order one in ``species``, no other
    reactant). Dilution channels count too.
    """
    i = net.index(species)
    n = np.asarray(net.stoichiometry)
    gamma = 0.0
    found = False
    for j, r in enumerate(net.reactions):
        col = n[:, j]
        if col[i] != -1 or np.count_nonzero(col) != 1:
            continue
        ma = r.mass_action
        if ma is None or tuple(ma.orders) != ((species, 1),):
            return None  # a nonlinear or non-mass-action loss: no single gamma
        gamma += float(ma.rate_constant)
        found = True
    return gamma if found else None


def _switch_candidates(net: ReactionNetwork):
    """Yield (on-state counts update, off-state update, description) for two-state genes.

    Each candidate is ``(gene_species, state_a, state_b)`` where ``state_a``/``state_b``
    map species index -> count in the two promoter states.
    """
    init = np.asarray(net.initial_state, dtype=float)
    n = np.asarray(net.stoichiometry)
    seen: set[tuple[int, ...]] = set()
    laws = net.conservation_laws
    for row in laws:
        nz = np.flatnonzero(row)
        if len(nz) == 2 and np.all(row[nz] == 1) and abs(float(row @ init) - 1.0) < 1e-9:
            i0, i1 = int(nz[0]), int(nz[1])
            seen.add((i0, i1))
            yield (i0, i1), {i0: 0.0, i1: 1.0}, {i0: 1.0, i1: 0.0}
    # one-species encoding: G in {0, 1}, every change is +-1
    for i, s in enumerate(net.species):
        if s.boundary or s.constant or init[i] not in (0.0, 1.0):
            continue
        if any(i in pair for pair in seen):
            continue
        changes = n[i, :]
        if not np.any(changes) or np.any(np.abs(changes[changes != 0]) != 1):
            continue
        # bounded in {0, 1}: no +1 channel can fire at G = 1, no -1 channel at G = 0
        bounded = True
        for base in (init, np.maximum(init, 1.0)):  # others as given, and all present
            ref = base.copy()
            ref[i] = 1.0
            up_at_one = _propensities(net, ref)[changes > 0]
            ref[i] = 0.0
            down_at_zero = _propensities(net, ref)[changes < 0]
            bounded &= bool(np.all(up_at_one == 0) and np.all(down_at_zero == 0))
        if bounded:
            yield (i,), {i: 1.0}, {i: 0.0}


def telegraph_bursts(net: ReactionNetwork, reference=None, *, rtol: float = 1e-9) -> list[dict]:
    """Find telegraph motifs and their kinetic burst size and frequency.

    Parameters
    ----------
    net : ReactionNetwork
    reference : pandas.Series or array_like, optional
        Counts at which rates that depend on other species are evaluated (e.g. the
        stationary mean); default the initial state. Such dependence (feedback) is
        reported in ``"feedback"``.

    Returns
    -------
    list of dict
        One entry per (promoter, product) pair with keys ``species``, ``promoter_on``,
        ``promoter_off`` (species ids; ``promoter_off`` is None for a one-species gene),
        ``k_on``, ``k_off`` (per time), ``k_tx`` (molecules per time while on),
        ``burst_size`` (``k_tx / k_off``, molecules), ``burst_frequency`` (``k_on``, per
        time), ``production_reactions``, ``switch_reactions``, ``feedback`` (bool),
        ``assumptions``.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> from sbmlnoise.bursts import telegraph_bursts
    >>> net = sn.load('''model tel; G0 => G1; kon*G0; G1 => G0; koff*G1;
    ...   G1 => G1 + M; ktx*G1; M => ; g*M; kon = 1; koff = 4; ktx = 40; g = 1;
    ...   G0 = 1; G1 = 0; M = 0; end''')
    >>> b = telegraph_bursts(net)[0]
    >>> b["species"], b["burst_size"], b["burst_frequency"]
    ('M', 10.0, 1.0)
    """
    ref0 = _reference_state(net, reference)
    n = np.asarray(net.stoichiometry)
    ids = net.species_ids
    out = []
    for genes, state_a, state_b in _switch_candidates(net):
        gene_set = set(genes)
        ref_a, ref_b = ref0.copy(), ref0.copy()
        for k, v in state_a.items():
            ref_a[k] = v
        for k, v in state_b.items():
            ref_b[k] = v
        a_at_a = _propensities(net, ref_a)
        a_at_b = _propensities(net, ref_b)
        # switching channels: change the gene state
        delta = np.array([state_b.get(k, 0) - state_a.get(k, 0) for k in genes])
        a_to_b = b_to_a = 0.0
        switch = []
        for j in range(net.n_reactions):
            col = n[list(genes), j]
            if not np.any(col):
                continue
            if np.allclose(col, delta):
                a_to_b += a_at_a[j]
                switch.append(net.reactions[j].id)
            elif np.allclose(col, -delta):
                b_to_a += a_at_b[j]
                switch.append(net.reactions[j].id)
            else:
                a_to_b = b_to_a = math.nan  # the gene does something else: not a telegraph
        if not (np.isfinite(a_to_b) and np.isfinite(b_to_a)):
            continue
        for x in range(net.n_species):
            if x in gene_set or net.species[x].boundary or net.species[x].constant:
                continue
            makers = [j for j in range(net.n_reactions)
                      if n[x, j] > 0 and not np.any(n[list(genes), j])]
            if not makers:
                continue
            prod_a = sum(n[x, j] * a_at_a[j] for j in makers)
            prod_b = sum(n[x, j] * a_at_b[j] for j in makers)
            if prod_a > 0 and prod_b == 0:
                k_tx, k_on, k_off, on_state, off_state = prod_a, b_to_a, a_to_b, state_a, state_b
            elif prod_b > 0 and prod_a == 0:
                k_tx, k_on, k_off, on_state, off_state = prod_b, a_to_b, b_to_a, state_b, state_a
            else:
                continue
            if not k_off > 0:
                continue
            on_ids = [ids[k] for k, v in on_state.items() if v == 1.0]
            off_ids = [ids[k] for k, v in off_state.items() if v == 1.0]
            feedback = _depends_on_others(net, ref0, on_state, off_state, genes,
                                          makers, switch, rtol)
            out.append({
                "species": ids[x],
                "promoter_on": on_ids[0] if on_ids else ids[genes[0]],
                "promoter_off": off_ids[0] if off_ids else None,
                "k_on": float(k_on), "k_off": float(k_off), "k_tx": float(k_tx),
                "burst_size": float(k_tx / k_off), "burst_frequency": float(k_on),
                "production_reactions": [net.reactions[j].id for j in makers],
                "switch_reactions": switch,
                "feedback": bool(feedback),
                "assumptions": KINETIC_ASSUMPTIONS + (
                    "; rates depend on other species and were evaluated at the reference "
                    "(mean) state" if feedback else ""),
            })
    return out


def translational_bursts(net: ReactionNetwork, reference=None, *,
                         rtol: float = 1e-9) -> list[dict]:
    """Kinetic translational burst size ``b = k_p / g_m`` and frequency ``f = k_m`` for
    every (mRNA, protein) pair that forms the two-stage motif (module docstring).

    The motif is recognised from propensities, whatever the law's notation: the protein's
    production channels change only the protein and their total propensity is ``k_p M``
    (zero at ``M = 0``, doubling with ``M``), the mRNA has a first-order degradation
    constant ``g_m`` (:func:`degradation_rate`), and the mRNA's production does not change
    with the protein count. ``k_m`` is the mRNA production propensity at the reference
    state (default: the initial state; pass the mean), with ``feedback`` True when it
    depends on other species. Returns a list of dicts (``species`` = protein, ``mrna``,
    ``k_m``, ``g_m``, ``k_p``, ``g_p``, ``burst_size``, ``burst_frequency``,
    ``fano_two_stage``, ``production_reactions``, ``feedback``, ``assumptions``).

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("=> M; 2; M => ; 0.5*M; M => M + P; 10*M; P => ; 0.02*P; M = 0; P = 0")
    >>> row, = translational_bursts(net)
    >>> row["mrna"], row["species"], row["burst_size"], row["burst_frequency"]
    ('M', 'P', 20.0, 2.0)
    """
    ref0 = _reference_state(net, reference)
    n = np.asarray(net.stoichiometry)
    ids = list(net.species_ids)
    out = []
    for m, sm in enumerate(net.species):
        if sm.boundary or sm.constant:
            continue
        g_m = degradation_rate(net, ids[m])
        m_makers = [j for j in range(net.n_reactions) if n[m, j] > 0]
        if not g_m or not m_makers:
            continue
        for p, sp in enumerate(net.species):
            if p == m or sp.boundary or sp.constant:
                continue
            makers = [j for j in range(net.n_reactions)
                      if n[p, j] > 0 and np.count_nonzero(n[:, j]) == 1]
            if not makers:
                continue
            rates = []
            for count in (0.0, 1.0, 2.0):
                state = ref0.copy()
                state[m] = count
                a = _propensities(net, state)
                rates.append(float(sum(n[p, j] * a[j] for j in makers)))
            k_p = rates[1]
            if not (k_p > 0 and rates[0] == 0.0 and
                    abs(rates[2] - 2.0 * k_p) <= rtol * 2.0 * k_p):
                continue
            a_ref = _propensities(net, ref0)
            k_m = float(sum(n[m, j] * a_ref[j] for j in m_makers))
            bumped = ref0.copy()
            bumped[p] += 1.0
            a_bump = _propensities(net, bumped)
            k_m_bumped = float(sum(n[m, j] * a_bump[j] for j in m_makers))
            if not k_m > 0 or abs(k_m_bumped - k_m) > rtol * k_m:
                continue  # no mRNA made, or the protein regulates its own mRNA
            feedback = False
            for i in range(net.n_species):
                if i in (m, p):
                    continue
                other = ref0.copy()
                other[i] += 1.0
                a_other = _propensities(net, other)
                if abs(float(sum(n[m, j] * a_other[j] for j in m_makers)) - k_m) > rtol * k_m:
                    feedback = True
            g_p = degradation_rate(net, ids[p])
            b = k_p / g_m
            out.append({
                "species": ids[p], "mrna": ids[m], "k_m": k_m, "g_m": float(g_m),
                "k_p": k_p, "g_p": float(g_p) if g_p else math.nan,
                "burst_size": float(b), "burst_frequency": k_m,
                "fano_two_stage": float(1.0 + b / (1.0 + g_p / g_m)) if g_p else math.nan,
                "production_reactions": [net.reactions[j].id for j in makers],
                "feedback": feedback,
                "assumptions": TRANSLATIONAL_ASSUMPTIONS + (
                    "; the mRNA production rate depends on other species and was evaluated "
                    "at the reference (mean) state" if feedback else ""),
            })
    return out


def _depends_on_others(net, ref, on_state, off_state, genes, makers, switch, rtol) -> bool:
    """Whether switching or production propensities change with non-gene species."""
    rid = {r.id: j for j, r in enumerate(net.reactions)}
    chans = sorted(set(makers) | {rid[s] for s in switch})
    for state in (on_state, off_state):
        base = ref.copy()
        for k, v in state.items():
            base[k] = v
        a0 = _propensities(net, base)[chans]
        for i in range(net.n_species):
            if i in genes:
                continue
            bumped = base.copy()
            bumped[i] = base[i] + 1.0
            a1 = _propensities(net, bumped)[chans]
            if np.any(np.abs(a1 - a0) > rtol * np.maximum(np.abs(a0), 1e-300)):
                return True
    return False


def moment_bursts(net: ReactionNetwork | None, mean: pd.Series, fano: pd.Series) -> pd.DataFrame:
    """Moment-based burst size ``b = F - 1`` and frequency ``f = mean * gamma / b``.

    Returns a DataFrame indexed by species with columns ``burst_size``,
    ``burst_frequency`` (per time), ``gamma`` (first-order degradation constant or nan)
    and ``note``; see the module docstring for the assumptions.
    """
    rows = {}
    for sid in mean.index:
        f = float(fano.get(sid, math.nan))
        m = float(mean[sid])
        gamma = degradation_rate(net, sid) if net is not None and sid in net.species_index \
            else None
        b = f - 1.0 if np.isfinite(f) else math.nan
        note = ""
        if not np.isfinite(b):
            note = "Fano factor undefined"
        elif b <= POISSON_ATOL:
            b = 0.0
            note = "sub- or exactly Poissonian (F <= 1): no bursts"
        if gamma is None:
            note = note or "no first-order degradation found: frequency undefined"
        freq = m * gamma / b if (gamma is not None and np.isfinite(b) and b > 0) else math.nan
        rows[sid] = {"burst_size": b if np.isfinite(b) and b > 0 else math.nan,
                     "burst_frequency": freq,
                     "gamma": gamma if gamma is not None else math.nan,
                     "note": note}
    frame = pd.DataFrame.from_dict(rows, orient="index",
                                   columns=["burst_size", "burst_frequency", "gamma", "note"])
    frame.index.name = "species"
    return frame


def burst_table(net: ReactionNetwork | None, mean: pd.Series, fano: pd.Series) -> dict:
    """All estimates, JSON-able: ``{"kinetic": [...], "translational": [...],
    "moment": {sid: {...}}, "assumptions": {"kinetic": str, "translational": str,
    "moment": str}}`` (kinetic = telegraph promoter, translational = two-stage model)."""
    kinetic = telegraph_bursts(net, mean) if net is not None else []
    translational = translational_bursts(net, mean) if net is not None else []
    moment = moment_bursts(net, mean, fano)
    return {
        "kinetic": kinetic,
        "translational": [{k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                           for k, v in row.items()} for row in translational],
        "moment": {sid: {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                         for k, v in row.items()}
                   for sid, row in moment.to_dict(orient="index").items()},
        "assumptions": {"kinetic": KINETIC_ASSUMPTIONS,
                        "translational": TRANSLATIONAL_ASSUMPTIONS,
                        "moment": MOMENT_ASSUMPTIONS},
    }
