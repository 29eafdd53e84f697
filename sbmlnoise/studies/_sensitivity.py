"""Log-sensitivities of noise: which parameters control the mean, the Fano factor and CV^2.

For a parameter ``k`` and a species ``X`` the *log-sensitivity* of a measure ``M`` is

    S(M, k) = d ln M / d ln k = (k / M) dM / dk        (dimensionless)

so ``S = 0.5`` means "a 1 % increase of ``k`` raises ``M`` by about 0.5 %". Measures:
``mean`` (<n>), ``variance`` (Var n), ``fano`` (Var n / <n>) and ``cv2`` (Var n / <n>^2),
all of the stationary molecule counts. Because the measures are ratios,

    S(fano) = S(variance) - S(mean),     S(cv2) = S(variance) - 2 S(mean).

Both backends differentiate the equations they solve -- no finite differences:

* **LNA** (:func:`sbmlnoise.lna`). The steady state ``f(x, k) = N v(x, k) = 0`` of the
  independent species (link matrix ``L0``, conserved totals fixed by the initial state)
  moves by the implicit function theorem, ``dx/dk = -J^-1 df/dk``; the covariance ``S``
  solves ``A S + S A^T + B = 0`` (``A`` the reduced Jacobian, ``B = N diag(Omega |v|) N^T``),
  so ``dS`` solves ``A dS + dS A^T = -(dA S + S dA^T + dB)`` with
  ``dA = N (d2v/dx dk + d2v/dx2 . dx/dk) L0`` and ``dB = N diag(Omega sign(v) dv/dk|total)
  N^T``. Every derivative of a rate law is exact (:func:`sbmlnoise.expr.diff`). The
  result is the exact derivative *of the LNA* (exact for the CME when all propensities
  are of order 0 or 1); it inherits the LNA's validity (large copy numbers, one stable
  steady state).
* **FSP** (:func:`sbmlnoise.fsp`). The stationary law ``p`` of the projected chain solves
  ``Q p = 0, 1^T p = 1``; hence ``Q dp = -dQ p, 1^T dp = 0`` (direct sensitivity of the
  linear solve) with ``dQ`` built from the exact derivatives ``da_j/dk`` of the
  propensities at every state. This is the exact derivative of the *projected* law; it
  differs from that of the true CME by terms of the order of the FSP error bound.

References: M. Komorowski, M. J. Costa, D. A. Rand, M. P. H. Stumpf, PNAS 108, 8645 (2011),
doi:10.1073/pnas.1015814108 (sensitivity of the LNA); A. Gupta and M. Khammash, J. Chem.
Phys. 140, 044102 (2014) / S. Fox, B. Munsky, IEEE CDC (2019) for FSP sensitivities
(direct method: P. W. Glynn, "Likelihood ratio gradient estimation", 1990 covers the
Markov chain argument; here it is the derivative of a linear solve).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse.linalg as spla
from scipy import linalg

from .. import expr as ex
from ..errors import SimulationError
from ..network import ReactionNetwork
from ..importer._tellurium import accepts_model
from ..lna._cse import compile_shared, diff_shared

__all__ = ["sensitivities", "noise_control", "lna_derivatives", "fsp_derivatives"]

#: the measures of :func:`sensitivities`, in output order
MEASURES = ("mean", "variance", "fano", "cv2")
_METHODS = ("lna", "fsp")


# =========================================================================== front door
@accepts_model
def sensitivities(net: ReactionNetwork, method: str = "lna",
                  parameters: Sequence[str] | None = None,
                  species: Sequence[str] | str | None = None, *,
                  fsp_tol: float = 1e-8, max_states: int | None = None,
                  fsp_result=None) -> pd.DataFrame:
    """Exact log-sensitivities ``d ln M / d ln k`` of the stationary noise.

    Parameters
    ----------
    net : ReactionNetwork, str or os.PathLike
        A network, or a path / SBML / Antimony text / COMBINE archive to load.
    method : {"lna", "fsp"}
        ``"lna"``: derivative of the stationary LNA (implicit function theorem on the steady
        state, derivative of the Lyapunov equation). ``"fsp"``: derivative of the
        stationary law of the finite state projection (``Q dp = -dQ p``).
    parameters : sequence of str, optional
        Parameter ids (global ``k``, reaction-local ``"R1.k"`` or compartment ids).
        Default: every global and local parameter that occurs in a rate law.
    species : str or sequence of str, optional
        Species to report (default: all).
    fsp_tol, max_states : float, int
        Passed to :func:`sbmlnoise.fsp` (``method="fsp"``).
    fsp_result : FSPResult, optional
        A stationary :func:`sbmlnoise.fsp` result of ``net`` to reuse (``method="fsp"``;
        e.g. the one :func:`sbmlnoise.analyze` computed).

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per ``(parameter, species, measure)``; columns ``parameter``,
        ``species``, ``measure`` (``mean``, ``variance``, ``fano``, ``cv2``), ``value``
        (dimensionless log-sensitivity; ``nan`` where the measure is 0), ``derivative``
        (``dM/dk`` in the measure's units per parameter unit) and ``method``. ``attrs``
        holds ``method`` and ``settings`` (``fsp`` error bound, number of states).

    Raises
    ------
    NoSteadyState
        ``method="lna"`` and the rate equations have no stable steady state.
    UnsupportedFeature
        The backend cannot run the model (see :func:`sbmlnoise.lna` / :func:`sbmlnoise.fsp`),
        or a rate law uses an operator without a derivative rule.
    KeyError
        An unknown parameter or species id.

    Notes
    -----
    Conserved totals (set by the initial amounts) are held fixed. Initial assignments that
    depend on a parameter are *not* re-evaluated (as in ``net.with_parameters``).
    Cost: LNA -- one ``O(r^3)`` Lyapunov solve per parameter (``r`` independent species);
    FSP -- one sparse LU factorisation, then one solve per parameter.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; => X; k; X => ; g*X; k = 10; g = 2; X = 0; end")
    >>> s = sn.sensitivities(net)
    >>> round(float(s.set_index(["parameter", "measure"]).loc[("k", "mean"), "value"]), 12)
    1.0
    """
    from ._scan import as_network
    net = as_network(net)
    method = str(method).lower()
    if method not in _METHODS:
        raise ValueError(f"unknown method '{method}'; choose 'lna' or 'fsp'")
    params = _parameter_list(net, parameters)
    wanted = _species_list(net, species)
    if method == "lna":
        mean, cov, dmean, dcov, settings = lna_derivatives(net, params)
        var = np.diag(cov)
        dvar = np.diagonal(dcov, axis1=1, axis2=2)
    else:
        mean, var, dmean, dvar, settings = fsp_derivatives(net, params, tol=fsp_tol,
                                                           max_states=max_states,
                                                           result=fsp_result)
    values = dict(zip(net.parameter_ids, net.parameter_values))
    frame = _tidy(net, params, wanted, values, mean, var, dmean, dvar, method)
    frame.attrs.update(method=method, settings=settings)
    return frame


def noise_control(sens: pd.DataFrame, measure: str = "cv2", species: str | None = None,
                  top: int | None = None) -> pd.DataFrame:
    """Rank parameters by how strongly they control one noise measure.

    Parameters
    ----------
    sens : pandas.DataFrame
        The output of :func:`sensitivities`.
    measure : {"cv2", "fano", "mean", "variance"}
    species : str, optional
        One species (default: all species, ranked together).
    top : int, optional
        Keep the ``top`` strongest rows.

    Returns
    -------
    pandas.DataFrame
        Columns ``rank`` (1 = strongest), ``parameter``, ``species``, ``value`` (log-
        sensitivity) and ``effect`` (e.g. ``"raising k lowers cv2"``), sorted by
        ``|value|`` descending; parameters without effect (|value| < 1e-12) come last.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; => X; k; X => ; g*X; k = 10; g = 2; X = 0; end")
    >>> noise_control(sn.sensitivities(net), "cv2")["parameter"].tolist()
    ['k', 'g']
    """
    if measure not in MEASURES:
        raise ValueError(f"unknown measure '{measure}'; choose one of {', '.join(MEASURES)}")
    rows = sens[sens["measure"] == measure]
    if species is not None:
        if species not in set(sens["species"]):
            raise KeyError(f"no species '{species}' in these sensitivities")
        rows = rows[rows["species"] == species]
    rows = rows.assign(_abs=rows["value"].abs().fillna(-1.0))
    rows = rows.sort_values("_abs", ascending=False, kind="stable")
    if top is not None:
        rows = rows.head(int(top))

    def effect(r) -> str:
        v = r["value"]
        if not np.isfinite(v):
            return "undefined (measure is 0)"
        if abs(v) < 1e-12:
            return "no effect"
        return (f"raising {r['parameter']} {'raises' if v > 0 else 'lowers'} "
                f"{measure} of {r['species']}")

    out = pd.DataFrame({"rank": np.arange(1, len(rows) + 1),
                        "parameter": rows["parameter"].to_numpy(),
                        "species": rows["species"].to_numpy(),
                        "value": rows["value"].to_numpy(float)})
    out["effect"] = [effect(r) for _, r in out.iterrows()]
    return out


# =========================================================================== helpers
def _parameter_list(net: ReactionNetwork, parameters) -> list[str]:
    if parameters is None:
        used: set[str] = set()
        for r in net.reactions:
            used |= ex.symbols(r.rate)
        return [p.id for p in net.parameters if p.kind in ("global", "local") and p.id in used]
    if isinstance(parameters, str):
        parameters = [parameters]
    params = list(parameters)
    for pid in params:
        if pid not in net.parameter_ids:
            raise KeyError(f"no parameter '{pid}' in model '{net.id}'; parameters are "
                           f"{', '.join(net.parameter_ids)}")
    return params


def _species_list(net: ReactionNetwork, species) -> list[str]:
    if species is None:
        return list(net.species_ids)
    if isinstance(species, str):
        species = [species]
    out = list(species)
    for s in out:
        net.index(s)
    return out


def _log(k: float, value: float, deriv: float) -> float:
    if value == 0 or not math.isfinite(value):
        return math.nan
    return k * deriv / value


def _tidy(net: ReactionNetwork, params, wanted, values, mean, var, dmean, dvar,
          method) -> pd.DataFrame:
    rows = []
    for a, pid in enumerate(params):
        k = float(values[pid])
        for s in wanted:
            i = net.index(s)
            m, v, dm, dv = float(mean[i]), float(var[i]), float(dmean[a, i]), float(dvar[a, i])
            s_mean, s_var = _log(k, m, dm), _log(k, v, dv)
            if v == 0 and m != 0:
                s_fano = s_cv2 = math.nan
            else:
                s_fano, s_cv2 = s_var - s_mean, s_var - 2.0 * s_mean
            fano = v / m if m else math.nan
            d_fano = (dv - fano * dm) / m if m else math.nan
            d_cv2 = (dv - 2.0 * v * dm / m) / m ** 2 if m else math.nan
            for measure, value, deriv in (("mean", s_mean, dm), ("variance", s_var, dv),
                                          ("fano", s_fano, d_fano), ("cv2", s_cv2, d_cv2)):
                rows.append((pid, s, measure, value, deriv, method))
    return pd.DataFrame(rows, columns=["parameter", "species", "measure", "value",
                                       "derivative", "method"])


class _Entries:
    """Compiled sparse derivative entries ``T[idx] = expr`` (a sparse tensor): ``values(x)``
    evaluates the non-zero entries at the amounts ``x``; ``index`` holds one int array per
    tensor axis."""

    def __init__(self, entries: list[tuple[tuple, ex.Expr]], net, ndim: int, name: str):
        self.index = tuple(np.array([e[0][d] for e in entries], dtype=np.intp)
                           for d in range(ndim))
        # shared subtrees once (nested rate laws: see sbmlnoise.lna._cse)
        self._f = compile_shared([e[1] for e in entries], net.slots, net.id + name,
                                 len(net.parameter_values))
        self._n = len(entries)
        self._p = net.parameter_values

    def values(self, x: np.ndarray) -> np.ndarray:
        vals = np.zeros(self._n)
        if self._n:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                self._f(np.asarray(x, float), self._p, 0.0, vals)
        return vals


# =========================================================================== LNA
def lna_derivatives(net: ReactionNetwork, parameters: Sequence[str]):
    """Stationary LNA mean and covariance and their exact parameter derivatives.

    Returns
    -------
    mean : ndarray, shape (n_species,)
        Counts.
    cov : ndarray, shape (n_species, n_species)
        Counts^2.
    dmean : ndarray, shape (n_parameters, n_species)
        ``d mean / d k`` (counts per parameter unit).
    dcov : ndarray, shape (n_parameters, n_species, n_species)
    settings : dict
    """
    from ..lna import lna
    from ..lna._model import problem

    st = lna(net, emre=False)
    prob = problem(net)
    omega = float(net.system_size)
    x = st.mean.to_numpy(float) / omega
    ind = np.array(net.independent_species, dtype=np.intp)
    link = np.asarray(net.link_matrix, dtype=float)
    nc = prob.stoichiometry
    n_sp, n_ch, n_p = net.n_species, prob.n_channels, len(parameters)
    species = set(net.species_ids)

    first_p, cross, second = [], [], []
    memo: dict = {}  # shared subtrees differentiated once (nested laws)
    for c, ch in enumerate(prob.channels):
        used = ex.symbols(ch.rate)
        for a, pid in enumerate(parameters):
            if pid in used:
                d = diff_shared(ch.rate, pid, memo)
                if d != ex.ZERO:
                    first_p.append(((c, a), d))
        for s in sorted(used & species, key=net.index):
            dx = diff_shared(ch.rate, s, memo)
            if dx == ex.ZERO:
                continue
            dx_used = ex.symbols(dx)
            i = net.index(s)
            for a, pid in enumerate(parameters):
                if pid in dx_used:
                    d2 = diff_shared(dx, pid, memo)
                    if d2 != ex.ZERO:
                        cross.append(((c, i, a), d2))
            for s2 in sorted(dx_used & species, key=net.index):
                d2 = diff_shared(dx, s2, memo)
                if d2 != ex.ZERO:
                    second.append(((c, i, net.index(s2)), d2))
    # sparse tensors: dv/dk (c, a), d2v/dx dk (c, i, a), d2v/dx dx (c, i, l)
    first_e = _Entries(first_p, net, 2, ".sens_dvdp")
    cross_e = _Entries(cross, net, 3, ".sens_d2vdxdp")
    second_e = _Entries(second, net, 3, ".sens_d2vdx2")
    dv_dp = np.zeros((n_ch, n_p))
    np.add.at(dv_dp, first_e.index, first_e.values(x))
    cross_v, second_v = cross_e.values(x), second_e.values(x)
    c_c, c_i, c_a = cross_e.index
    s_c, s_i, s_l = second_e.index

    v = prob.rates(x)
    vx = prob.rate_jacobian(x)
    mean = omega * x
    dmean = np.zeros((n_p, n_sp))
    dcov = np.zeros((n_p, n_sp, n_sp))
    if ind.size == 0:
        return mean, np.zeros((n_sp, n_sp)), dmean, dcov, {"system_size": omega}
    a_mat = (nc @ vx)[ind] @ link
    b_mat = ((nc * (omega * np.abs(v))) @ nc.T)[np.ix_(ind, ind)]
    s_red = linalg.solve_continuous_lyapunov(a_mat, -b_mat)
    s_red = 0.5 * (s_red + s_red.T)
    cov = link @ s_red @ link.T
    lu = linalg.lu_factor(a_mat)
    sign = np.sign(v)
    for a in range(n_p):
        dx = link @ linalg.lu_solve(lu, -(nc[ind] @ dv_dp[:, a]))
        dv_total = dv_dp[:, a] + vx @ dx
        dvx = np.zeros((n_ch, n_sp))  # total d(dv/dx)/dk
        mine = c_a == a
        np.add.at(dvx, (c_c[mine], c_i[mine]), cross_v[mine])
        np.add.at(dvx, (s_c, s_i), second_v * dx[s_l])
        d_a = (nc @ dvx)[ind] @ link
        d_b = ((nc * (omega * sign * dv_total)) @ nc.T)[np.ix_(ind, ind)]
        rhs = d_a @ s_red + s_red @ d_a.T + d_b
        ds = linalg.solve_continuous_lyapunov(a_mat, -rhs)
        ds = 0.5 * (ds + ds.T)
        dmean[a] = omega * dx
        dcov[a] = link @ ds @ link.T
    settings = {"system_size": omega, "steady_state_residual":
                st.settings.get("steady_state_residual"),
                "lyapunov_residual": float(np.max(np.abs(a_mat @ s_red + s_red @ a_mat.T
                                                         + b_mat)))}
    return mean, cov, dmean, dcov, settings


# =========================================================================== FSP
def _propensity_derivatives(fr, parameters) -> np.ndarray:
    """``da_j/dk`` at every state of the projection, shape (n_params, n_states, n_ch)."""
    from ..fsp._space import evaluate_array

    model = fr._model
    net = model.net
    states = fr.states.astype(float)
    env = {p: float(v) for p, v in zip(net.parameter_ids, net.parameter_values)}
    env.update({s: states[:, i] for i, s in enumerate(net.species_ids)})
    out = np.zeros((len(parameters), states.shape[0], model.channels.size))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for jj, j in enumerate(model.channels):
            e = net.propensity_expressions[j]
            used = ex.symbols(e)
            for a, pid in enumerate(parameters):
                if pid in used:
                    d = ex.diff(e, pid)
                    if d != ex.ZERO:
                        out[a, :, jj] = np.broadcast_to(evaluate_array(d, env), states.shape[:1])
    if not np.all(np.isfinite(out)):
        raise SimulationError("sensitivities: a propensity derivative is not finite on the "
                              "FSP state space (check the kinetic laws at low counts)")
    return out


def fsp_derivatives(net: ReactionNetwork, parameters: Sequence[str], *, tol: float = 1e-8,
                    max_states: int | None = None, result=None):
    """Stationary FSP means and variances and their exact parameter derivatives.

    ``result`` may be a stationary :class:`~sbmlnoise.fsp.FSPResult` of ``net`` to reuse.

    Returns
    -------
    mean, var : ndarray, shape (n_species,)
    dmean, dvar : ndarray, shape (n_parameters, n_species)
    settings : dict
        ``error_bound``, ``n_states``, ``tol``.
    """
    from ..fsp import fsp
    from ..fsp._linear import closed_class

    fr = result if result is not None else fsp(net, tol=tol, max_states=max_states)
    if not fr.is_stationary:
        raise ValueError("fsp_derivatives needs a stationary FSP result (t=None)")
    proj = fr._projection
    p = np.asarray(fr.probabilities, dtype=float)
    q = fr.reflecting_generator.tocsr()
    closed = closed_class(q)
    n = fr.n_states
    sub = np.zeros(n, dtype=bool)
    sub[closed] = True
    where = np.full(n, -1, dtype=np.intp)
    where[closed] = np.arange(closed.size)
    qc = q[closed][:, closed].tolil()
    ref = int(np.argmax(p[closed]))
    qc[ref, :] = np.ones(closed.size)
    lu = spla.splu(qc.tocsc())
    states = fr.states.astype(float)
    mean = states.T @ p
    centred = states - mean
    var = (centred ** 2).T @ p
    da = _propensity_derivatives(fr, parameters)
    if proj is None:
        raise ValueError("the FSP result has no projection to differentiate")
    keep = sub[proj.src] & sub[proj.dst]
    src, dst, rxn = proj.src[keep], proj.dst[keep], proj.rxn[keep]
    dmean = np.zeros((len(parameters), net.n_species))
    dvar = np.zeros_like(dmean)
    for a in range(len(parameters)):
        w = da[a, src, rxn]
        # (dQ p)_i = sum_{j -> i} w p_j - p_i sum_{i -> l} w
        dqp = np.bincount(where[dst], weights=w * p[src], minlength=closed.size)
        dqp -= np.bincount(where[src], weights=w * p[src], minlength=closed.size)
        rhs = -dqp
        rhs[ref] = 0.0
        dp_c = lu.solve(rhs)
        if not np.all(np.isfinite(dp_c)):
            raise SimulationError("sensitivities: the FSP sensitivity solve failed")
        dp = np.zeros(n)
        dp[closed] = dp_c
        dmean[a] = states.T @ dp
        dvar[a] = (centred ** 2).T @ dp
    settings = {"error_bound": float(fr.error_bound), "n_states": int(n),
                "tol": fr.settings.get("tol"), "caps": fr.settings.get("caps"),
                "system_size": float(net.system_size)}
    return mean, var, dmean, dvar, settings
