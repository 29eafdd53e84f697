"""CME-level thermodynamics on the state graph of a finite state projection (private).

The stationary FSP result (:func:`sbmlnoise.fsp`, ``t=None``) gives the states, the
directed transitions ``i -> j`` with rates ``w_ij`` (propensities) and the stationary
probabilities ``p``. Everything below is vectorised over the transitions, so it scales to
the 10^5-10^6 states FSP enumerates.

* **One-way transitions** (``w_ij > 0`` but ``w_ji = 0``) make the entropy production
  unbounded; they are named by reaction.
* **Kolmogorov's criterion**: the chain is reversible iff, on every cycle of the graph of
  two-way transitions, the product of forward rates equals the product of backward rates.
  It suffices to check the *fundamental cycles* of a spanning forest: with the potential
  ``phi(child) = phi(parent) + ln(w_parent,child / w_child,parent)`` along the tree, the
  chord ``u -> v`` closes the cycle with affinity
  ``A = ln(w_uv / w_vu) + phi(u) - phi(v)``.
* **Schnakenberg's decomposition** (1976, doi:10.1103/RevModPhys.48.571): the stationary
  net current ``J_uv = p_u w_uv - p_v w_vu`` on a chord is the flux of its fundamental
  cycle; since the currents obey Kirchhoff's law, the entropy production
  ``sigma = 1/2 sum_ij (p_i w_ij - p_j w_ji) ln(p_i w_ij / (p_j w_ji))`` equals
  ``sum_cycles J_C A_C``. Both are reported (``extra["schnakenberg_sum"]`` is the cycle
  sum; it differs from ``sigma`` only by the truncation's violation of Kirchhoff's law).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sps
from scipy.sparse.csgraph import breadth_first_order, connected_components

_TINY = np.finfo(float).tiny


def analyze_cme(net, fr, *, rtol: float, atol: float, max_listed: int = 50,
                max_examples: int = 5) -> dict:
    """Kolmogorov criterion, currents, cycle fluxes and entropy production of an FSP."""
    if getattr(fr, "times", None) is not None or np.ndim(fr.probabilities) != 1:
        raise ValueError("level='cme' needs a stationary FSP result (sn.fsp(net, t=None))")
    states = np.asarray(fr.states)
    n = states.shape[0]
    p = np.asarray(fr.probabilities, dtype=float)
    g = _directed_edges(fr, n)

    pc = np.maximum(p, _TINY)
    fwd_flux = p[g.es] * g.w
    # ---- one-way transitions
    one = ~g.has_rev
    one_way_frame, one_way_rx = _one_way(states, g.es, g.ed, g.w, fwd_flux, g.label, one,
                                         max_examples,
                                         list(fr.species) if hasattr(fr, "species") else None)

    # ---- two-way edges, each once (es < ed)
    two = g.has_rev & (g.es < g.ed)
    u, v = g.es[two], g.ed[two]
    w_uv, w_vu = g.w[two], g.w_rev[two]
    F, B = p[u] * w_uv, p[v] * w_vu
    with np.errstate(divide="ignore", invalid="ignore"):
        logterm = np.log(pc[u] * w_uv) - np.log(pc[v] * w_vu)
        terms = np.where(F == B, 0.0, (F - B) * logterm)
    sigma_two = float(np.sum(terms))
    if np.any(one & (fwd_flux > 0)):
        sigma = math.inf
    else:
        sigma = sigma_two

    cyc = _fundamental_cycles(g, n, u, v, w_uv, w_vu, F - B, rtol, atol)
    order_c = np.lexsort((-np.abs(cyc.affinity), -np.abs(cyc.contrib)))
    cycles = _cycle_frame(states, order_c, cyc.cu, cyc.cv, cyc.affinity, cyc.cflux,
                          cyc.contrib, cyc.kolmogorov, cyc.pred, g.uniq, g.label, n,
                          max_listed)

    pairs = _pair_frame(g.es, g.ed, g.w, g.w_rev, fwd_flux, p, pc, g.label, g.has_rev, g.rev)
    db, reason = _cme_verdict(one, one_way_frame, one_way_rx, cyc, cycles, u.size, sigma)
    return {"detailed_balance": bool(db), "irreversible": one_way_rx, "pairs": pairs,
            "cycles": cycles, "entropy_production": sigma, "reason": reason,
            "one_way": one_way_frame, "schnakenberg_sum": float(np.sum(cyc.contrib)),
            "entropy_production_two_way": sigma_two}


@dataclass
class _DirectedEdges:
    """The state graph with parallel transitions merged: directed edge ``e`` goes from
    state ``es[e]`` to ``ed[e]`` at total rate ``w[e]`` (``uniq[e] = es * n + ed``, sorted);
    ``rev[e]`` is the reverse edge (``-1`` if none, then ``w_rev[e] = 0``)."""

    uniq: np.ndarray
    es: np.ndarray
    ed: np.ndarray
    w: np.ndarray
    #: reaction label of each edge ("R1+R2" where several reactions join it)
    label: np.ndarray
    has_rev: np.ndarray
    rev: np.ndarray
    w_rev: np.ndarray


def _directed_edges(fr, n: int) -> _DirectedEdges:
    """Merge the FSP's transitions (positive rate, no self loops) into directed edges
    and find each edge's reverse."""
    tr = fr.transitions
    src = tr["source"].to_numpy(dtype=np.int64)
    dst = tr["target"].to_numpy(dtype=np.int64)
    rate = tr["rate"].to_numpy(dtype=float)
    rx = pd.Categorical(tr["reaction"])
    names = [str(c) for c in rx.categories]
    codes = np.asarray(rx.codes, dtype=np.int64)
    keep = (rate > 0) & (src != dst)
    src, dst, rate, codes = src[keep], dst[keep], rate[keep], codes[keep]

    key = src * n + dst
    uniq, inv = np.unique(key, return_inverse=True)
    w = np.bincount(inv, weights=rate, minlength=uniq.size)
    es, ed = uniq // n, uniq % n
    label = _edge_labels(inv, codes, names, uniq.size)

    rkey = ed * n + es
    pos = np.searchsorted(uniq, rkey)
    pos_c = np.minimum(pos, max(uniq.size - 1, 0))
    has_rev = (pos < uniq.size) & (uniq[pos_c] == rkey) if uniq.size else np.zeros(0, bool)
    rev = np.where(has_rev, pos_c, -1)
    w_rev = np.where(has_rev, w[pos_c], 0.0) if uniq.size else np.zeros(0)
    return _DirectedEdges(uniq=uniq, es=es, ed=ed, w=w, label=label, has_rev=has_rev,
                          rev=rev, w_rev=w_rev)


@dataclass
class _Chords:
    """Fundamental cycles of the two-way graph, one per chord ``cu -> cv`` (oriented
    along the cycle's net flux), with the spanning forest's predecessors ``pred``."""

    cu: np.ndarray
    cv: np.ndarray
    affinity: np.ndarray
    cflux: np.ndarray
    #: ``cflux * affinity``, each cycle's share of the entropy production
    contrib: np.ndarray
    kolmogorov: np.ndarray
    pred: np.ndarray


def _fundamental_cycles(g: _DirectedEdges, n: int, u: np.ndarray, v: np.ndarray,
                        w_uv: np.ndarray, w_vu: np.ndarray, net_current: np.ndarray,
                        rtol: float, atol: float) -> _Chords:
    """Spanning forest of the two-way edges ``u <-> v`` (a virtual root ``n`` joins the
    components), the potential ``phi`` along it, and for every chord the affinity
    ``ln(w_uv/w_vu) + phi(u) - phi(v)``, Kolmogorov's check ``|A| <= atol + rtol *
    scale`` and the cycle flux (the chord's net current)."""
    m = u.size
    gr = sps.coo_matrix((np.ones(m), (u, v)), shape=(n, n)).tocsr()
    n_comp, comp = connected_components(gr, directed=False)
    reps = np.unique(comp, return_index=True)[1]
    rows = np.concatenate([u, np.full(reps.size, n)])
    cols = np.concatenate([v, reps])
    big = sps.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n + 1, n + 1)).tocsr()
    order, pred = breadth_first_order(big, n, directed=False, return_predecessors=True)
    # log ratio of each node's tree edge, parent -> child
    lw = np.zeros(n + 1)
    child = order[1:]
    parent = pred[child]
    real = parent != n
    ckey = parent[real] * n + child[real]
    cpos = np.searchsorted(g.uniq, ckey)
    lw[child[real]] = np.log(g.w[cpos]) - np.log(g.w_rev[cpos])
    phi = np.zeros(n + 1)
    psi = np.zeros(n + 1)
    _accumulate(order, pred, lw, phi, psi)

    # chords: two-way edges not in the tree
    tree_key = np.sort(np.stack([parent[real], child[real]]), axis=0)
    tree_key = tree_key[0] * n + tree_key[1]
    is_tree = np.isin(u * n + v, tree_key)
    ch = np.nonzero(~is_tree)[0]
    cu, cv = u[ch], v[ch]
    lr = np.log(w_uv[ch]) - np.log(w_vu[ch])
    affinity = lr + phi[cu] - phi[cv]
    scale = np.abs(lr) + psi[cu] + psi[cv]
    kolmogorov = np.abs(affinity) <= atol + rtol * scale
    cflux = net_current[ch]
    # orient every cycle along its net flux (or its affinity when there is no flux)
    flip = (cflux < 0) | ((cflux == 0) & (affinity < 0))
    cu, cv = np.where(flip, cv, cu), np.where(flip, cu, cv)
    affinity, cflux = np.where(flip, -affinity, affinity), np.where(flip, -cflux, cflux)
    return _Chords(cu=cu, cv=cv, affinity=affinity, cflux=cflux, contrib=cflux * affinity,
                   kolmogorov=kolmogorov, pred=pred)


def _cme_verdict(one: np.ndarray, one_way_frame: pd.DataFrame, one_way_rx: list,
                 cyc: _Chords, cycles: pd.DataFrame, n_two_way: int,
                 sigma: float) -> tuple[bool, str]:
    """Detailed balance of the state graph (no one-way transition, every fundamental
    cycle passes Kolmogorov's criterion) and the reason in words."""
    db = (not np.any(one)) and bool(np.all(cyc.kolmogorov))
    reasons = []
    if np.any(one):
        ex = one_way_frame.iloc[0]
        reasons.append(
            f"{int(one.sum())} one-way transition(s) without a reverse jump, from reaction(s) "
            f"{', '.join(one_way_rx)} (e.g. {ex['source']} -> {ex['target']} by "
            f"{ex['reaction']}); entropy production unbounded")
    bad = np.nonzero(~cyc.kolmogorov)[0]
    n_chords = cyc.kolmogorov.size
    if bad.size:
        top = cycles.iloc[0]
        reasons.append(
            f"{bad.size} of {n_chords} fundamental cycle(s) violate Kolmogorov's criterion; "
            f"strongest: {_cycle_text(top)} has affinity {_ln_text(top['affinity'])}, net "
            f"cycle flux {top['flux']:.3g} per time unit")
    if db:
        reason = (f"all {n_two_way} two-way transition pairs are reversible jumps and the "
                  f"{n_chords} fundamental cycle(s) satisfy Kolmogorov's criterion "
                  f"(max |affinity| {np.max(np.abs(cyc.affinity), initial=0.0):.2g})")
    else:
        reason = "; ".join(reasons)
        if not np.any(one):
            reason += f"; entropy production {sigma:.3g} k_B per time unit"
    return db, reason


def _accumulate(order, pred, lw, phi, psi) -> None:
    """phi(child) = phi(parent) + lw(child) along the BFS order (parents come first)."""
    pr = pred.tolist()
    lw_l = lw.tolist()
    ph = phi.tolist()
    ps = psi.tolist()
    for c in order[1:].tolist():
        a = pr[c]
        ph[c] = ph[a] + lw_l[c]
        ps[c] = ps[a] + abs(lw_l[c])
    phi[:] = ph
    psi[:] = ps


def _edge_labels(inv, codes, names, n_edges) -> np.ndarray:
    """Reaction label of each directed edge ("R1+R2" where several reactions join it)."""
    label = np.empty(n_edges, dtype=object)
    first = np.full(n_edges, -1, dtype=np.int64)
    first[inv[::-1]] = codes[::-1]
    names_arr = np.array(names, dtype=object)
    label[:] = names_arr[first] if n_edges else []
    multi = np.bincount(inv, minlength=n_edges) > 1
    if np.any(multi):
        for e in np.nonzero(multi)[0]:
            cs = sorted(set(codes[inv == e].tolist()))
            label[e] = "+".join(names[c] for c in cs)
    return label


def _state(states, i) -> tuple:
    return tuple(int(x) for x in states[i])


def _one_way(states, es, ed, w, flux, label, one, max_examples, species):
    idx = np.nonzero(one)[0]
    if idx.size == 0:
        return (pd.DataFrame(columns=["source", "target", "reaction", "rate", "flux"]), [])
    totals = pd.Series(flux[idx]).groupby(label[idx]).sum().sort_values(ascending=False)
    rx = []
    for lab in totals.index:
        for r in str(lab).split("+"):
            if r not in rx:
                rx.append(r)
    # a few examples per reaction, the largest probability flux first
    rows = []
    frame = pd.DataFrame({"e": idx, "label": label[idx], "flux": flux[idx]})
    for lab, grp in frame.sort_values("flux", ascending=False).groupby("label", sort=False):
        for e in grp["e"].to_numpy()[:max_examples]:
            rows.append({"source": _state(states, es[e]), "target": _state(states, ed[e]),
                         "reaction": lab, "rate": float(w[e]), "flux": float(flux[e])})
    out = pd.DataFrame(rows).sort_values("flux", ascending=False).reset_index(drop=True)
    out.attrs["species"] = species
    out.attrs["n_one_way"] = int(idx.size)
    return out, rx


def _path_to_root(pred, x, n) -> list:
    path = [x]
    while pred[path[-1]] != n and pred[path[-1]] >= 0:
        path.append(pred[path[-1]])
    return path


def _cycle_frame(states, order_c, cu, cv, affinity, cflux, contrib, kolmogorov, pred, uniq,
                 label, n, max_listed) -> pd.DataFrame:
    k = order_c.size
    pred = pred.tolist()
    members = np.empty(k, dtype=object)
    reactions = np.empty(k, dtype=object)
    for r, c in enumerate(order_c[:max_listed]):
        a, b = int(cu[c]), int(cv[c])
        pa, pb = _path_to_root(pred, a, n), _path_to_root(pred, b, n)
        on_a = set(pa)
        lca = next(x for x in pb if x in on_a)
        down = pa[:pa.index(lca)]          # a, ..., child of lca
        up = pb[:pb.index(lca) + 1]        # b, ..., lca
        cyc = [a] + up + down[::-1][:-1] if down else [a] + up[:-1]
        # cyc lists the states a -> b -> ... -> lca -> ... -> (back to a)
        steps = list(zip(cyc, cyc[1:] + [cyc[0]]))
        keys = np.array([s * n + t for s, t in steps], dtype=np.int64)
        pos = np.searchsorted(uniq, keys)
        members[r] = list(map(tuple, states[cyc].tolist()))
        reactions[r] = [label[q] for q in pos]
    frame = pd.DataFrame({
        "chord_source": cu[order_c], "chord_target": cv[order_c],
        "members": members, "reactions": reactions,
        "affinity": affinity[order_c], "flux": cflux[order_c],
        "entropy_production": contrib[order_c], "kolmogorov": kolmogorov[order_c],
    })
    frame.attrs["units"] = ("affinity: dimensionless; flux: probability per time unit; "
                            "entropy_production: k_B per time unit; chord_source/target: "
                            "rows of the FSP states")
    frame.attrs["listed"] = int(min(k, max_listed))
    return frame


def _pair_frame(es, ed, w, w_rev, fwd_flux, p, pc, label, has_rev, rev) -> pd.DataFrame:
    """Probability fluxes grouped by the reaction pair that makes an edge and its reverse."""
    cols = ["forward", "reverse", "n_transitions", "forward_flux", "backward_flux", "net_flux",
            "entropy_production"]
    if es.size == 0:
        return pd.DataFrame(columns=cols)
    code, names = pd.factorize(label)
    names = np.asarray(names, dtype=object)
    rank = np.empty(names.size, dtype=np.int64)
    rank[np.argsort(names.astype(str))] = np.arange(names.size)
    code_rev = np.where(has_rev, code[np.maximum(rev, 0)], -1)
    # each two-way edge once (es < ed), each one-way edge once
    take = (~has_rev) | (es < ed)
    lf, lr = code[take], code_rev[take]
    F = fwd_flux[take]
    B = np.where(has_rev[take], p[ed[take]] * w_rev[take], 0.0)
    swap = (lr >= 0) & (rank[lf] > rank[np.maximum(lr, 0)])
    lf, lr = np.where(swap, lr, lf), np.where(swap, lf, lr)
    F, B = np.where(swap, B, F), np.where(swap, F, B)
    with np.errstate(divide="ignore", invalid="ignore"):
        lt = np.log(np.maximum(F, _TINY)) - np.log(np.maximum(B, _TINY))
        term = np.where(F == B, 0.0, np.where(B > 0, (F - B) * lt, np.inf))
    key = lf * (names.size + 1) + (lr + 1)
    uk, inv = np.unique(key, return_inverse=True)
    fsum = np.bincount(inv, weights=F, minlength=uk.size)
    bsum = np.bincount(inv, weights=B, minlength=uk.size)
    with np.errstate(invalid="ignore"):
        tsum = np.bincount(inv, weights=term, minlength=uk.size)
    count = np.bincount(inv, minlength=uk.size)
    fc, rc = uk // (names.size + 1), uk % (names.size + 1) - 1
    flip = (rc >= 0) & (fsum < bsum)
    fc, rc = np.where(flip, rc, fc), np.where(flip, fc, rc)
    fsum, bsum = np.where(flip, bsum, fsum), np.where(flip, fsum, bsum)
    out = pd.DataFrame({"forward": names[fc],
                        "reverse": np.where(rc >= 0, names[np.maximum(rc, 0)], None),
                        "n_transitions": count, "forward_flux": fsum, "backward_flux": bsum,
                        "net_flux": fsum - bsum, "entropy_production": tsum})
    out = out[cols].sort_values("forward_flux", ascending=False).reset_index(drop=True)
    out.attrs["units"] = ("fluxes: probability per time unit summed over transitions; "
                          "entropy_production: k_B per time unit")
    return out


def _cycle_text(row) -> str:
    mem = row["members"]
    if isinstance(mem, list) and len(mem) <= 8:
        return " -> ".join(str(s) for s in mem + [mem[0]])
    return f"through states {row['chord_source']} -> {row['chord_target']} (FSP rows)"


def _ln_text(a: float) -> str:
    if not math.isfinite(a):
        return str(a)
    if abs(a) < 700:
        return f"ln {math.exp(a):.3g} ({a:.3g})"
    return f"{a:.3g}"


def resolved_entropy_production(fr, reaction_pairs: dict) -> tuple[float, list]:
    """Entropy production with every reaction pair kept separate (k_B per time unit).

    The state-level ``sigma`` merges parallel transitions (several reactions joining the
    same two states), which hides cycles closed by parallel reactions, e.g. two chemostats
    feeding one species. Here each transition ``s -> t`` by a reaction of network pair
    ``i`` is matched with the reverse transition ``t -> s`` by the reverse reactions of the
    same pair: ``sigma_res = sum_(s,t,i) (p_s w+ - p_t w-) ln(p_s w+ / (p_t w-))``. It is
    ``>= sigma`` (log-sum inequality).

    Parameters
    ----------
    fr : FSPResult (stationary)
    reaction_pairs : dict
        reaction id -> (pair index, +1 forward or -1 reverse); reactions not listed have no
        reverse (their transitions make the result infinite).

    Returns
    -------
    sigma : float
    one_way : list of str
        Reactions with a transition whose paired reverse transition does not exist.
    """
    n = fr.states.shape[0]
    p = np.asarray(fr.probabilities, dtype=float)
    tr = fr.transitions
    rate = tr["rate"].to_numpy(dtype=float)
    keep = rate > 0
    src = tr["source"].to_numpy(dtype=np.int64)[keep]
    dst = tr["target"].to_numpy(dtype=np.int64)[keep]
    rate = rate[keep]
    rx = pd.Categorical(tr["reaction"])
    names = [str(c) for c in rx.categories]
    codes = np.asarray(rx.codes, dtype=np.int64)[keep]
    pid = np.array([reaction_pairs.get(r, (-1, 0))[0] for r in names], dtype=np.int64)[codes]
    sgn = np.array([reaction_pairs.get(r, (-1, 0))[1] for r in names], dtype=np.int64)[codes]
    unpaired = pid < 0
    one_way = sorted({names[c] for c in np.unique(codes[unpaired])})
    ok = ~unpaired
    a = np.where(sgn > 0, src, dst)[ok]
    b = np.where(sgn > 0, dst, src)[ok]
    n_pairs = int(pid.max(initial=-1)) + 1
    key = (a * n + b) * max(n_pairs, 1) + pid[ok]
    uk, inv = np.unique(key, return_inverse=True)
    fwd = sgn[ok] > 0
    w_plus = np.bincount(inv, weights=np.where(fwd, rate[ok], 0.0), minlength=uk.size)
    w_minus = np.bincount(inv, weights=np.where(fwd, 0.0, rate[ok]), minlength=uk.size)
    ab = uk // max(n_pairs, 1)
    ka, kb = ab // n, ab % n
    F, B = p[ka] * w_plus, p[kb] * w_minus
    lonely = (w_plus > 0) != (w_minus > 0)
    if np.any(lonely):
        bad = np.unique(codes[ok][np.isin(inv, np.nonzero(lonely)[0])])
        one_way = sorted(set(one_way) | {names[c] for c in bad})
    if one_way:
        return math.inf, one_way
    with np.errstate(divide="ignore", invalid="ignore"):
        pc = np.maximum(p, _TINY)
        lt = np.log(pc[ka] * w_plus) - np.log(pc[kb] * w_minus)
        terms = np.where(F == B, 0.0, (F - B) * lt)
    return float(np.sum(terms)), []
