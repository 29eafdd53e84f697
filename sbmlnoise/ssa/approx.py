"""Approximate stochastic simulation for large copy numbers: tau-leaping, CLE, hybrid.

Methods of :func:`sbmlnoise.ssa` (``method=``), each returning the same
:class:`~sbmlnoise.ssa.EnsembleResult` with ``settings["approximation"]`` stating what was
approximated, the step control and the known bias:

* ``"tau_leap"`` -- adaptive explicit tau-leaping with critical reactions and
  non-negative counts (Cao, Gillespie & Petzold, J. Chem. Phys. 124 (2006) 044109,
  doi:10.1063/1.2159468). Counts stay whole. Two additions to the paper: a channel that
  changes a reactant species too scarce for the relative bound (``eps x_i < g_i``, where
  the paper falls back to a change of one molecule per leap) is treated as critical, i.e.
  fires exactly, at most once per leap -- without it a gene or an mRNA of 5 copies drifts
  by several percent; and the leap obeys a relaxation bound (see ``_approx_kernels._leap_size``).
  ``scheme="explicit"`` (default) is the paper's explicit leap, first order in the step;
  ``scheme="trapezoidal"`` is the theta-trapezoidal leap with theta = 1/2 (Anderson &
  Mattingly, Commun. Math. Sci. 9 (2011) 301, doi:10.4310/CMS.2011.v9.n1.a15; Hu, Li &
  Min, J. Chem. Phys. 135 (2011) 024113, doi:10.1063/1.3609119): the non-critical
  channels fire Poisson(a_j(x) tau/2) times to ``y``, then
  Poisson(max(2 a_j(y) - a_j(x), 0) tau/2) times -- weak second order in the step, so at
  equal accuracy it takes larger steps at about 1.9x the cost per leap (measured in
  docs/performance/approx.md, every species within a 2000-run ensemble's standard error:
  largest accurate epsilon 0.17 vs 0.025 explicit on a two-stage model, 0.3 vs 0.07 on a
  gene-switching model). Its stationary variance inflation for a species relaxing at
  rate ``gamma`` is ``h^3 / (1 - 2h + 2h^2 - h^3)``, ``h = gamma tau / 2`` (0.7 % at the
  relaxation bound with epsilon = 0.17; explicit: ``1 / (1 - gamma tau / 2) - 1``).
* ``"cle"`` -- the chemical Langevin equation (Gillespie, J. Chem. Phys. 113 (2000) 297,
  doi:10.1063/1.481811), Euler-Maruyama with the same leap-size control. Amounts are
  continuous; a step that would make one negative is halved (up to 30 times), after
  which negative amounts are set to 0 and counted (``settings["clamps"]``).
* ``"hybrid"`` -- dynamic partition (Salis & Kaznessis, J. Chem. Phys. 122 (2005) 054103,
  doi:10.1063/1.1835951): a channel is *fast* when every species it changes has at
  least ``n_fast`` molecules and it is expected to fire at least ``lambda_fast`` times in
  the step (species it only reads may be scarce -- a gene copy driving transcription --
  since only slow channels change them); fast channels follow the CLE (or the rate
  equations, ``fast="ode"``, Haseltine & Rawlings, J. Chem. Phys. 117 (2002) 6959,
  doi:10.1063/1.1505860), slow ones fire exactly through their integrated propensity.
  With no fast channel it is the exact SSA. ``settings["partition"]`` gives the fraction
  of simulated time each channel was fast.

Step control: ``epsilon`` bounds the expected relative change of every reactant's
propensity per step (Cao et al. 2006 eq. 33); the weak error of all three methods is
first order in the step, i.e. O(epsilon) (tau-leaping with ``scheme="trapezoidal"``:
second order). For linear (first-order) networks the stationary variance of explicit
tau-leaping is inflated by about ``gamma tau / 2`` (relative), with ``gamma`` the
relaxation rate -- below ``epsilon`` at the chosen steps (the relaxation bound
``tau <= 2 epsilon / gamma``, with ``gamma`` the summed per-capita consumption rate plus
the negative feedback of non-mass-action laws, see ``_approx_kernels._leap_size``); the
trapezoidal scheme's inflation is O((gamma tau)^2)
(measured: birth-death at 10^3 molecules, epsilon = 0.2, gamma tau = 0.4: explicit +15 to
+21 %, trapezoidal within 2 SE (2 %) of 0).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._approx_kernels import CLE, HYBRID, N_COUNTERS, TAU_LEAP, ApproxModel, _approx_chunk
from ._model import _csr
from ._buffers import chunk_buffers


class TauLeap:
    """Adaptive explicit tau-leaping (Cao, Gillespie & Petzold 2006)."""

    name = "tau_leap"
    code = TAU_LEAP
    exact = False
    reference = "doi:10.1063/1.2159468"
    bias = ("first-order weak error O(epsilon) (scheme='explicit'): means and variances "
            "biased by a few percent of epsilon-scaled relative size; for first-order "
            "networks the stationary variance is inflated by about gamma*tau/2 <= epsilon; "
            "scheme='trapezoidal': weak second order, bias O(epsilon^2)")


class ChemicalLangevin:
    """Chemical Langevin equation, Euler-Maruyama, adaptive step (Gillespie 2000)."""

    name = "cle"
    code = CLE
    exact = False
    reference = "doi:10.1063/1.481811"
    bias = ("diffusion approximation: exact first two moments only for linear propensities "
            "(up to the O(epsilon) step error); distributions continuous; wrong at counts "
            "of order 10 or below, where amounts may be clamped at 0 (see 'clamps')")


class Hybrid:
    """Dynamic-partition hybrid: exact slow channels, CLE/rate-equation fast channels."""

    name = "hybrid"
    code = HYBRID
    exact = False
    reference = "doi:10.1063/1.1835951; doi:10.1063/1.1505860"
    bias = ("exact for slow channels up to the left-point integration of their propensity "
            "over a fast step (O(epsilon)); fast channels carry the CLE (or, with "
            "fast='ode', no) noise")


APPROX_METHODS = {"tau_leap": TauLeap, "cle": ChemicalLangevin, "hybrid": Hybrid}

#: tau-leaping update schemes (kernel code = index)
SCHEMES = ("explicit", "trapezoidal")

#: default step control and partition thresholds
DEFAULTS = {"epsilon": 0.03, "n_critical": 10, "ssa_factor": 10.0, "n_ssa_steps": 100,
            "lambda_fast": 10.0, "n_fast": 100.0, "fast": "cle", "scheme": "explicit"}


def build_approx_model(net) -> ApproxModel:
    """Reactant stoichiometries, species read/changed per channel, highest order of
    reaction per species (for ``g_i`` of Cao et al. 2006), and the feedback pairs of the
    relaxation bound: a channel with a non-mass-action law that produces a species it
    reads (see ``_approx_kernels._leap_size``)."""
    S = net.n_species
    index = net.species_index
    re_rows, inv_rows, read_rows = [], [], []
    hor = np.zeros(S, dtype=np.int64)
    mult = np.zeros(S, dtype=np.int64)
    nu = np.asarray(net.stoichiometry)
    slots = net.slots
    from .. import expr as ex
    for j, r in enumerate(net.reactions):
        reactants: dict[int, float] = {}
        for sid, n in r.reactants:
            if sid in index:
                reactants[index[sid]] = reactants.get(index[sid], 0.0) + float(n)
        re_rows.append(sorted(reactants.items()))
        order = int(round(sum(reactants.values())))
        for i, n in reactants.items():
            n = int(round(n))
            if order > hor[i] or (order == hor[i] and n > mult[i]):
                hor[i], mult[i] = order, n
        read = {slots[s][1] for s in ex.symbols(r.rate) if s in slots and slots[s][0] == "x"}
        changed = {i for i in range(S) if nu[i, j] != 0}
        inv_rows.append(sorted(read | changed | set(reactants)))
        read_rows.append(read)
    fb = [(j, i, float(nu[i, j])) for j, r in enumerate(net.reactions)
          if r.mass_action is None for i in inv_rows[j]
          if nu[i, j] > 0 and i in read_rows[j]]
    re_ptr, re_species = _csr([[i for i, _ in row] for row in re_rows])
    _, re_nu = _csr([[n for _, n in row] for row in re_rows], dtype=np.float64)
    inv_ptr, inv_species = _csr(inv_rows)
    return ApproxModel(re_ptr, re_species, re_nu, inv_ptr, inv_species, hor, mult,
                       np.array([f[0] for f in fb], dtype=np.int64),
                       np.array([f[1] for f in fb], dtype=np.int64),
                       np.array([f[2] for f in fb], dtype=np.float64))


def resolve_options(options: dict, method: str | None = None) -> tuple[dict, np.ndarray]:
    """Merge user options into :data:`DEFAULTS`; return (settings, kernel params).
    With ``method`` given, ``scheme`` other than "explicit" is refused for methods
    other than ``"tau_leap"`` (the CLE and the hybrid have one scheme)."""
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown approximate-method option(s): {', '.join(sorted(unknown))}; "
                        f"known: {', '.join(DEFAULTS)}")
    opts = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    eps = float(opts["epsilon"])
    if not 0.0 < eps < 1.0:
        raise ValueError(f"epsilon must be in (0, 1), got {eps!r}")
    if opts["fast"] not in ("cle", "ode"):
        raise ValueError("fast must be 'cle' or 'ode'")
    if opts["scheme"] not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(map(repr, SCHEMES))}, "
                         f"got {opts['scheme']!r}")
    if method is not None and method != "tau_leap" and opts["scheme"] != "explicit":
        raise ValueError(f"scheme={opts['scheme']!r} applies to method='tau_leap' only, "
                         f"not {method!r}")
    for key in ("n_critical", "ssa_factor", "n_ssa_steps", "lambda_fast", "n_fast"):
        if not float(opts[key]) >= 0:
            raise ValueError(f"{key} must be >= 0")
    params = np.array([eps, float(opts["n_critical"]), float(opts["ssa_factor"]),
                       float(int(opts["n_ssa_steps"])), float(opts["lambda_fast"]),
                       float(opts["n_fast"]), 0.0 if opts["fast"] == "cle" else 1.0,
                       float(SCHEMES.index(opts["scheme"]))])
    return opts, params


def approx_settings(variant, opts: dict, counters: np.ndarray, fast_time: np.ndarray,
                    net, runs: int, t_end: float) -> dict:
    """The ``settings`` entries an approximate run adds (JSON-able)."""
    out: dict = {"approximation": {
        "method": variant.name, "reference": variant.reference, "bias": variant.bias,
        "step_control": f"epsilon={opts['epsilon']:g} (Cao, Gillespie & Petzold 2006 eq. 33)",
        "scheme": (opts["scheme"] if variant.name == "tau_leap" else "n/a"),
        "options": {k: opts[k] for k in DEFAULTS}},
        "leaps": int(counters[0]), "exact_steps": int(counters[1]),
        "rejected_steps": int(counters[2]), "clamps": int(counters[3])}
    if counters[3] > 0:
        out["first_clamp"] = {"time": float(counters[4]),
                              "species": net.species_ids[int(counters[5])]}
    if variant.name == "hybrid":
        total = runs * t_end if t_end > 0 else 1.0
        out["partition"] = {r.id: float(min(1.0, fast_time[j] / total))
                            for j, r in enumerate(net.reactions)}
        out["approximation"]["partition"] = (
            "fraction of simulated time each channel was fast (integrated "
            f"{'as CLE' if opts['fast'] == 'cle' else 'by rate equations'}); the rest "
            "fired exactly")
    return out


def run_approx_chunk(problem, start: int, stop: int):
    """Runs ``start .. stop-1`` of an approximate method: like ``ensemble._run_chunk``
    plus (samples, counters, fast_time)."""
    m = problem.model
    M = m.n_reactions
    states, keep, mean, m2, cov, kept, samples, info, err_state = \
        chunk_buffers(problem, start, stop)
    counters = np.zeros(N_COUNTERS)
    counters[4] = math.inf
    counters[5] = -1.0
    fast_time = np.zeros(M)
    status = _approx_chunk(m, problem.approx_model, problem.method_code, problem.x0,
                           problem.p0, problem.times, states, keep, problem.want_cov, mean,
                           m2, cov, kept, problem.sample_idx, samples,
                           float(problem.max_count), float(problem.max_steps),
                           problem.params, info, err_state, counters, fast_time)
    if status < 0:
        return ("error", int(start - 1 - status), info, err_state)
    return ("ok", stop - start, mean, m2, cov, kept, float(counters[6]), samples, counters,
            fast_time)


def scaled_network(net, factor: float):
    """``net`` at ``factor`` times its system size, initial counts rounded to whole
    molecules at the new size (for ``validate=True``)."""
    omega = net.system_size * factor
    amounts = {s.id: float(np.rint(s.initial_amount * omega) / omega) for s in net.species}
    small = dataclasses.replace(net, system_size=omega,
                                system_size_source=f"{net.system_size_source} x {factor:g} "
                                                   "(validation)")
    return small.with_initial_amounts(**amounts)
