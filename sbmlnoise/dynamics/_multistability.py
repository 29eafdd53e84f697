"""Multistability: every stable fixed point of the rate equations, the LNA at each, and
switching rates between them by mean first-passage times.

**Fixed points.** Newton's method (MINPACK ``hybr``) on the reduced rate equations (fixed
conserved totals, those of the initial state) from ``starts`` seeded random points and
from the end points of short integrations of the rate equations from the same points; a
solution counts when its amounts are non-negative and its residual is below ``1e-9`` of
the largest rate. Solutions are deduplicated at a relative distance ``1e-6`` and
classified by the eigenvalues of the reduced Jacobian (stable: all real parts < 0).

**Cores.** The *core* of a stable fixed point ``mu`` is the set of count states ``n``
with Mahalanobis distance ``(n - mu)^T S^-1 (n - mu) <= 1`` in the independent species,
``S`` the stationary LNA covariance there (plus the lattice state nearest ``mu``).

**Switching rates.** ``rate(A -> B) = 1 / MFPT``, the mean first-passage time from the
lattice state nearest ``mu_A`` to the core of ``B``:

* ``method="fsp"``: on the reachable states of a box holding every core with a margin of
  10 LNA standard deviations (reflecting truncation), the MFPT ``tau`` solves the backward
  equation ``sum_m A[m, n] tau_m = -1`` for ``n`` outside the core, ``tau = 0`` inside
  (``A`` the CME generator, column convention), one sparse LU solve (exact up to the
  truncation, whose leak is reported as the stationary mass on the box boundary);
* ``method="ssa"``: long SSA runs sampled every tenth of the slowest relaxation time;
  a path is *assigned* to the last core it visited; ``MFPT(A -> B)`` is the mean
  duration from entering A's core (coming from another core) to entering B's core, and
  its standard error the sample standard deviation of those durations over ``sqrt(k)``
  (``k`` transitions; independent renewal cycles). Sampling on a grid can miss very short
  core visits (biasing the MFPT up by about one grid step).

For rare switching the MFPT hardly depends on the start within a basin (relative
difference of the order of the relaxation time over the MFPT), so both estimate the same
rate (Hanggi, Talkner & Borkovec 1990, doi:10.1103/RevModPhys.62.251).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import optimize

from ..errors import (
    NoSteadyState,
    SbmlnoiseError,
    SimulationError,
    StateSpaceTooLarge,
    UnsupportedFeature,
)
from ..network import ReactionNetwork
from ..importer._tellurium import accepts_model

#: a function of the independent amounts (vector -> vector or matrix)
_VecMap = Callable[[np.ndarray], np.ndarray]

__all__ = ["fixed_points", "multistability"]


def _reduced_system(net: ReactionNetwork):
    ind = list(net.independent_species)
    link = np.asarray(net.link_matrix, dtype=float)
    x0 = net.initial_amounts.astype(float)
    offset = x0 - link @ x0[ind]
    stoich = np.asarray(net.stoichiometry)

    def full(y: np.ndarray) -> np.ndarray:
        return link @ y + offset

    def residual(y: np.ndarray) -> np.ndarray:
        return (stoich @ net.rates(full(y)))[ind]

    def jacobian(y: np.ndarray) -> np.ndarray:
        return (stoich @ net.rate_jacobian(full(y)))[ind] @ link

    return ind, full, residual, jacobian


def fixed_points(net: ReactionNetwork, *, starts: int = 64, seed: int = 0,
                 scale: float | None = None) -> pd.DataFrame:
    """All fixed points of the rate equations found from ``starts`` random starting points.

    Parameters
    ----------
    net : ReactionNetwork
    starts : int
        Random starting points (uniform in ``[0, 2 scale]`` per independent species) plus
        the initial state; each is used directly and after integrating the rate equations
        for 20 relaxation times (so stable states are found even where Newton alone
        wanders).
    seed : int
    scale : float, optional
        Amount scale of the box (default: the largest of the initial amounts, the
        amounts reached by the rate equations from the initial state and 1).

    Returns
    -------
    pandas.DataFrame
        One row per fixed point, sorted stable first then by the first species:
        species amounts (model substance units), ``stable`` (bool), ``max_real_eigenvalue``
        and ``residual``.
    """
    if net.events or net.is_time_dependent:
        raise UnsupportedFeature(f"fixed points of model '{net.id}' are undefined: it has "
                                 "events or time-dependent rates", feature="Event")
    ind, full, residual, jacobian = _reduced_system(net)
    ids = list(net.species_ids)
    if not ind:
        x = net.initial_amounts.astype(float)
        return pd.DataFrame([dict(zip(ids, x), stable=True, max_real_eigenvalue=-math.inf,
                                  residual=0.0)])
    x0 = net.initial_amounts.astype(float)
    if scale is None:
        scale = max(1.0, float(np.max(np.abs(x0))), _ode_scale(net))
    rng = np.random.default_rng(seed)
    points = [x0[ind]] + [rng.uniform(0, 2 * scale, size=len(ind)) for _ in range(starts)]
    found: list[tuple[np.ndarray, float, float]] = []
    for y0 in points:
        for start in (y0, _integrate(net, full, ind, y0)):
            if start is None:
                continue
            hit = _newton(net, full, residual, jacobian, start)
            if hit is None:
                continue
            x, res, lead = hit
            if any(np.all(np.abs(x - f[0]) <= 1e-6 * max(1.0, float(np.max(np.abs(f[0])))))
                   for f in found):
                continue
            found.append((x, res, lead))
    rows = [dict(zip(ids, x), stable=bool(lead < 0), max_real_eigenvalue=lead, residual=res)
            for x, res, lead in found]
    if not rows:
        raise NoSteadyState(f"fixed_points: no fixed point of model '{net.id}' found from "
                            f"{starts + 1} starting points")
    frame = pd.DataFrame(rows)
    frame = frame.sort_values(["stable", ids[ind[0]]], ascending=[False, True])
    return frame.reset_index(drop=True)


def _ode_scale(net: ReactionNetwork) -> float:
    from ..ode import ode_trajectory

    try:
        amounts, _ = ode_trajectory(net, np.linspace(0, 100.0, 11), rtol=1e-6)
        return float(np.max(np.abs(amounts)))
    except SbmlnoiseError:
        return 1.0


def _integrate(net: ReactionNetwork, full: _VecMap, ind: list[int], y0: np.ndarray):
    from scipy.integrate import solve_ivp

    from ..ode._solve import _rhs

    f, jac = _rhs(net)
    x = full(y0)
    if np.any(x < 0):
        return None
    with np.errstate(all="ignore"):
        try:
            j = (np.asarray(net.stoichiometry) @ net.rate_jacobian(x))[ind] @ net.link_matrix
            eig = np.linalg.eigvals(j)
            slow = 1.0 / max(float(np.min(np.abs(eig.real[eig.real != 0]))), 1e-6) \
                if np.any(eig.real != 0) else 10.0
        except (np.linalg.LinAlgError, ValueError):
            slow = 10.0
    kwargs = {"jac": jac} if jac is not None else {}
    sol = solve_ivp(f, (0.0, min(20 * slow, 1e6)), x, method="LSODA", rtol=1e-6,
                    atol=1e-9, **kwargs)
    if not sol.success or not np.all(np.isfinite(sol.y[:, -1])):
        return None
    return sol.y[ind, -1]


def _newton(net: ReactionNetwork, full: _VecMap, residual: _VecMap, jacobian: _VecMap,
            start: np.ndarray):
    with np.errstate(all="ignore"):
        try:
            sol = optimize.root(residual, start, jac=jacobian, method="hybr",
                                options={"xtol": 1e-12})
        except (ValueError, np.linalg.LinAlgError):
            return None
        x = full(sol.x)
        res = float(np.max(np.abs(residual(sol.x))))
        rates = net.rates(x)
    scale = max(float(np.max(np.abs(x))), 1.0)
    rate_scale = float(np.max(np.abs(rates))) if rates.size else 0.0
    if not (np.all(np.isfinite(x)) and np.all(x >= -1e-9 * scale) and
            (res <= 1e-9 * rate_scale or res <= 1e-15 * scale)):
        return None
    eig = np.linalg.eigvals(jacobian(sol.x))
    lead = float(np.max(eig.real)) if eig.size else -math.inf
    tol = 1e-9 * max(1.0, float(np.max(np.abs(eig)))) if eig.size else 0.0
    return np.clip(x, 0.0, None), res, (lead if abs(lead) > tol else 0.0)


# =========================================================================== switching
class Multistability:
    """Result of :func:`multistability`.

    Attributes
    ----------
    states : pandas.DataFrame
        One row per fixed point (index ``state0``, ``state1``, ...; stable ones first):
        species counts (``Omega x``), ``stable``, ``max_real_eigenvalue`` and, for
        stable states, the LNA standard deviation ``sd_<species>`` (counts).
    switching : pandas.DataFrame
        One row per ordered pair of stable states (``from``, ``to``): ``mfpt`` (model time
        units), ``mfpt_se`` (NaN for the FSP), ``rate = 1 / mfpt`` and ``rate_se``,
        ``transitions`` (SSA) and ``method``.
    cores : dict
        Stable state name -> array of its core's count states (rows, all species).
    settings : dict
    """

    def __init__(self, states: pd.DataFrame, switching: pd.DataFrame,
                 cores: dict[str, np.ndarray], settings: dict) -> None:
        self.states = states
        self.switching = switching
        self.cores = cores
        self.settings = settings

    def __repr__(self) -> str:
        n = int(self.states["stable"].sum())
        return f"<Multistability {n} stable of {len(self.states)} fixed points>"


@accepts_model
def multistability(net: ReactionNetwork, *, method: str = "auto", starts: int = 64,
                   seed: int = 0, max_states: int = 200_000, t_end: float | None = None,
                   runs: int = 8, workers=None) -> Multistability:
    """Stable fixed points, the LNA at each and the switching rates between them.

    Parameters
    ----------
    net : ReactionNetwork
    method : {"auto", "fsp", "ssa"}
        How mean first-passage times are computed (module docstring). ``"auto"``: the FSP
        when the box around all cores has at most ``max_states`` states, else the SSA.
    starts, seed :
        Fixed-point search (:func:`fixed_points`); ``seed`` also seeds the SSA.
    max_states : int
    t_end : float, optional
        SSA: length of each run (default ``2000`` slowest relaxation times).
    runs, workers :
        SSA runs and threads.

    Returns
    -------
    Multistability

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("models/toggle_switch.ant")  # doctest: +SKIP
    >>> ms = sn.multistability(net)                  # doctest: +SKIP
    >>> ms.switching[["from", "to", "rate"]]         # doctest: +SKIP
    """
    from ..lna import lna

    if method not in ("auto", "fsp", "ssa"):
        raise ValueError(f"multistability: unknown method {method!r}")
    omega = float(net.system_size)
    fp = fixed_points(net, starts=starts, seed=seed)
    ids = list(net.species_ids)
    fp.index = [f"state{k}" for k in range(len(fp))]
    states = fp.copy()
    states[ids] = omega * fp[ids]
    stable = [s for s in fp.index if fp.loc[s, "stable"]]
    mus, covs = {}, {}
    for s in stable:
        st = lna(net, steady_state=fp.loc[s, ids].to_numpy(float), emre=False)
        mus[s] = st.mean.to_numpy(float)
        covs[s] = st.covariance.to_numpy(float)
        for sid in ids:
            states.loc[s, f"sd_{sid}"] = math.sqrt(max(float(st.variance[sid]), 0.0))
    settings = {"method": method, "starts": starts, "seed": seed, "system_size": omega,
                "core": "Mahalanobis distance <= 1 (LNA covariance, independent species)"}
    if len(stable) < 2:
        empty = pd.DataFrame(columns=["from", "to", "mfpt", "mfpt_se", "rate", "rate_se",
                                      "transitions", "method"])
        return Multistability(states, empty, {}, settings)
    from ..fsp._space import prepare

    model = prepare(net, "multistability")
    ind = np.asarray(net.independent_species, dtype=np.intp)
    upper = np.zeros(net.n_species)
    for s in stable:
        upper = np.maximum(upper, mus[s] + 10 * np.sqrt(np.maximum(np.diag(covs[s]), 1.0)) + 5)
    upper = np.minimum(np.ceil(upper), model.conservation_cap)
    box = float(np.prod(upper[ind] + 1))
    use = method if method != "auto" else ("fsp" if box <= max_states else "ssa")
    settings["method"] = use
    if use == "fsp":
        table, cores, info = _fsp_switching(net, model, stable, mus, covs, ind, upper,
                                            max_states)
    else:
        table, cores, info = _ssa_switching(net, model, stable, mus, covs, ind, fp, t_end,
                                            runs, seed, workers)
    settings.update(info)
    return Multistability(states, table, cores, settings)


def _nearest_state(model, mu, ind) -> np.ndarray:
    key = np.rint(mu[ind])
    x = model.link @ key + model.offset
    return np.rint(np.maximum(x, 0)).astype(np.int64)


def _in_core(states: np.ndarray, mu, cov, ind) -> np.ndarray:
    d = states[:, ind] - mu[ind]
    c = cov[np.ix_(ind, ind)]
    sol = np.linalg.lstsq(c, d.T, rcond=None)[0]
    d2 = np.einsum("ij,ji->i", d, sol)
    return d2 <= 1.0


def _fsp_switching(net: ReactionNetwork, model, stable: list[str], mus: dict, covs: dict,
                   ind: np.ndarray, upper: np.ndarray, max_states: int):
    from ..fsp._linear import factorize
    from ..fsp._space import project

    lower = np.zeros(net.n_species, dtype=np.int64)
    start = _nearest_state(model, mus[stable[0]], ind)
    proj = project(model, lower, upper.astype(np.int64), max_states, start_state=start)
    if proj.n_states > max_states:
        raise StateSpaceTooLarge(f"multistability: {proj.n_states} states exceed "
                                 f"max_states={max_states}; use method='ssa'")
    gen = proj.generator(reflecting=True).tocsc()
    states = proj.states
    lookup = {tuple(s): k for k, s in enumerate(states)}
    cores, rows = {}, []
    masks = {}
    for s in stable:
        mask = _in_core(states, mus[s], covs[s], ind)
        near = lookup.get(tuple(_nearest_state(model, mus[s], ind)))
        if near is not None:
            mask[near] = True
        masks[s] = mask
        cores[s] = states[mask]
    back = gen.T.tocsr()  # backward operator: (A^T tau)_n = sum_m A[m, n] tau_m
    for b in stable:
        outside = np.flatnonzero(~masks[b])
        sub = back[outside][:, outside].tocsc()
        tau = np.zeros(states.shape[0])
        tau[outside] = factorize(-sub).solve(np.ones(outside.size))
        for a in stable:
            if a == b:
                continue
            k = lookup.get(tuple(_nearest_state(model, mus[a], ind)))
            if k is None:
                raise SimulationError(f"multistability: the state nearest {a} is not reachable "
                                      "in the projected box")
            mfpt = float(tau[k])
            rows.append({"from": a, "to": b, "mfpt": mfpt, "mfpt_se": math.nan,
                         "rate": 1.0 / mfpt, "rate_se": math.nan, "transitions": 0,
                         "method": "fsp"})
    # truncation: stationary mass on the box's upper faces
    p = _stationary_mass(gen)
    edge = np.any(states[:, ind] >= upper[ind][None, :], axis=1)
    info = {"n_states": int(states.shape[0]), "box_upper": upper.tolist(),
            "boundary_mass": float(p[edge].sum()) if p is not None else math.nan}
    return pd.DataFrame(rows), cores, info


def _stationary_mass(gen) -> np.ndarray | None:
    """Stationary vector of the reflecting generator (``fsp_solve.stationary``: one
    row/column removed, SuperLU), or None when the solve fails."""
    from ..fsp._linear import stationary

    try:
        return stationary(gen.tocsr(), 0, {})
    except (SbmlnoiseError, RuntimeError, ValueError):
        return None


def _ssa_switching(net: ReactionNetwork, model, stable: list[str], mus, covs, ind, fp,
                   t_end: float | None, runs: int, seed, workers
                   ) -> tuple[pd.DataFrame, dict, dict]:
    from ..ssa import ssa

    slow = 1.0
    for s in stable:
        eig = np.linalg.eigvals(_jac_at(net, fp.loc[s, list(net.species_ids)].to_numpy(float)))
        if eig.size:
            slow = max(slow, 1.0 / float(np.min(np.abs(eig.real))))
    dt = slow / 10
    if t_end is None:
        t_end = 2000 * slow
    n_t = int(math.ceil(t_end / dt)) + 1
    if runs * n_t * net.n_species > 4 * 10**7:
        n_t = int(4 * 10**7 // (runs * net.n_species))
    times = dt * np.arange(n_t)
    ens = ssa(net, times=times, runs=runs, seed=seed, workers=workers, keep_trajectories=runs)
    durations: dict[tuple[str, str], list[float]] = {
        (a, b): [] for a in stable for b in stable if a != b}
    for traj in ens.trajectories:
        label = np.full(n_t, -1)
        for k, s in enumerate(stable):
            label[_in_core(traj, mus[s], covs[s], ind)] = k
        current, since = -1, 0.0
        for t, lab in zip(times, label):
            if lab < 0 or lab == current:
                continue
            if current >= 0:
                durations[(stable[current], stable[lab])].append(t - since)
            current, since = lab, t
    rows = []
    for (a, b), waits in durations.items():
        d = np.asarray(waits)
        mfpt = float(d.mean()) if d.size else math.nan
        se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else math.nan
        rows.append({"from": a, "to": b, "mfpt": mfpt, "mfpt_se": se,
                     "rate": 1 / mfpt if d.size else math.nan,
                     "rate_se": se / mfpt ** 2 if d.size > 1 else math.nan,
                     "transitions": int(d.size), "method": "ssa"})
    info = {"dt": dt, "t_end": float(times[-1]), "runs": runs,
            "events": ens.settings.get("events")}
    return pd.DataFrame(rows), {}, info


def _jac_at(net: ReactionNetwork, x: np.ndarray) -> np.ndarray:
    ind = list(net.independent_species)
    with np.errstate(all="ignore"):
        return (np.asarray(net.stoichiometry) @ net.rate_jacobian(x))[ind] @ net.link_matrix
