"""Linear noise approximation (LNA) and the effective mesoscopic rate equation (EMRE).

Van Kampen's system-size expansion to first order turns the chemical master equation into
a linear Gaussian process around the solution of the rate equations
(van Kampen 1992, ISBN 978-0-444-52965-7; Elf & Ehrenberg 2003,
doi:10.1101/gr.1196503). In **molecule counts** ``n = Omega * amount`` with channel
propensities ``a(n) = Omega v(n / Omega)`` (see :mod:`sbmlnoise.network`):

* the mean follows the rate equations ``dn/dt = N a(n)``;
* the Jacobian is ``J = N da/dn`` (exact symbolic derivatives of the kinetic laws) and the
  diffusion matrix is ``D = N diag(a(n)) N^T``;
* the covariance ``S`` (counts^2) obeys ``dS/dt = J S + S J^T + D``; at a stable steady
  state it solves the Lyapunov equation ``J S + S J^T + D = 0``. (SciPy's
  :func:`scipy.linalg.solve_continuous_lyapunov` solves ``A X + X A^H = Q``; we pass
  ``A = J`` and ``Q = -D``.)
* stationary autocovariance ``C(tau) = expm(J tau) S`` for ``tau >= 0`` and
  ``C(-tau) = C(tau)^T``; the two-sided spectrum
  ``S(w) = int C(tau) exp(-i w tau) dtau = (J - i w)^-1 D (J^T + i w)^-1``. Its diagonal
  equals that of the conjugate form ``(J + i w)^-1 D (J^T - i w)^-1``; for a birth-death
  process (birth ``k``, death ``g n``) it is ``2k / (w^2 + g^2)``.

For networks with only zero- and first-order propensities the LNA mean and covariance are
exact (the moment equations close).

Conservation laws make ``J`` singular; the LNA is solved on the independent species
(Reder 1988, doi:10.1016/S0022-5193(88)80073-0) and mapped back with the link matrix
``L0``: ``S = L0 S_ind L0^T``.

**EMRE.** For nonlinear propensities the true mean differs from the rate-equation state by
``O(1)`` molecules (``O(1/Omega)`` relative). Expanding the exact mean equation
``d<n>/dt = N <a(n)>`` to second order around the rate-equation state gives Grima's
effective mesoscopic rate equation correction (Grima 2010, doi:10.1063/1.3454685)

    0 = J delta + (1/2) N h,   h_c = sum_kl d2 a_c / dn_k dn_l  S_kl,

so ``<n> ~ n* + delta``. The rate equations here are those of the model *as written*: if
a law carries the finite-size term of a combinatorial propensity (``k P (P-1) / 2``) it is
part of ``n*`` already and ``delta`` adds the remaining curvature term. It is reported as
``extra["emre_mean"]`` (counts) beside the LNA mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import linalg

from .._blas import single_threaded_blas
from ..errors import NoSteadyState, SimulationError, UnsupportedFeature
from ._extras import LazyExtras
from ._model import problem
from ..network import ReactionNetwork
from ..stats import ABSENT, NoiseStatistics
from ..importer._tellurium import accepts_model

__all__ = ["lna", "LNATimeCourse", "noise_decomposition", "find_reporter_pairs",
           "noise_coefficients"]


# =========================================================================== front door
@accepts_model
def lna(net: ReactionNetwork, *, t=None, emre: bool = True, rtol: float = 1e-8,
        atol: float = 1e-10, method: str | None = None, steady_state=None,
        max_seconds: float | None = None):
    """Linear noise approximation of the molecule-count statistics.

    Parameters
    ----------
    net : ReactionNetwork
    t : None, float or array_like of shape (n_times,)
        ``None`` (default): the stationary LNA at the stable steady state of the rate
        equations. A number: the time-dependent LNA at that time. An array (sorted,
        non-negative, model time units): the time-dependent LNA at each time, started from
        the initial state with zero covariance (a deterministic start).
    emre : bool
        Also compute the EMRE mean correction (``extra["emre_mean"]``, counts).
    rtol, atol : float
        Tolerances of the time-dependent integration (``atol`` in counts).
    method : str, optional
        :func:`scipy.integrate.solve_ivp` method for the time-dependent LNA (default
        ``"LSODA"`` with the exact dense Jacobian when ``r + r^2 <= 2000`` (``r``
        independent species), else the explicit ``"RK45"``; for large *stiff* networks
        pass ``"BDF"`` or ``"Radau"`` (sparse Kronecker-sum Jacobian). Cost per right-hand
        side: one ``r x r`` matrix product (``S J^T = (J S)^T``).
    max_seconds : float, optional
        Wall-time limit of a time course (``t`` given): past it a SimulationError says
        how far the integration got. Default: none.
    steady_state : pandas.Series or array_like, optional
        Stationary case only: a known steady state in model substance units (amounts, in
        species order or indexed by species id), e.g. from an earlier
        :func:`sbmlnoise.steady_state` in a parameter scan. Skips the steady-state search;
        the residual and the stability are still checked.

    Returns
    -------
    NoiseStatistics or LNATimeCourse
        Stationary (``t=None``) or single-time statistics (``method == "lna"``), in
        counts. ``extra`` holds ``"emre_mean"`` (Series, counts),
        ``"concentration_mean"`` (Series, counts / (Omega * compartment size), i.e. the
        model's concentration units), ``"concentration_covariance"`` (DataFrame),
        ``"emre_concentration_mean"``, ``"jacobian"`` and ``"diffusion"`` (DataFrames,
        counts per time), ``"eigenvalues"`` (of the reduced Jacobian) and
        ``"warnings"``. ``settings`` records ``system_size`` and ``system_size_source``.
        The stationary result carries the autocovariance and the two-sided PSD. For an
        array ``t`` the result is an :class:`LNATimeCourse`, a sequence of
        :class:`NoiseStatistics` (``.time`` set) with ``.mean`` / ``.variance``
        DataFrames (time x species).

    Raises
    ------
    NoSteadyState
        ``t=None`` and the rate equations have no stable steady state (e.g. an
        oscillator); the message lists the eigenvalues. Use ``sn.lna(net, t=times)``.
    UnsupportedFeature
        The stationary LNA (``t=None``) of a model with events or rate rules; the
        time-dependent LNA of a model with algebraic rules, fast reactions, delays or
        changing stoichiometry (:mod:`sbmlnoise.lna._course` lists what it carries: rate
        rules as states, events mapping the covariance, time in the laws).

    Notes
    -----
    Cost of the stationary LNA: one steady-state solve, one evaluation of the sparse
    compiled Jacobian, and an ``O(r^3)`` Lyapunov solve (``r`` independent species).

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; => X; k; X => ; g*X; k = 10; g = 2; X = 0; end")
    >>> st = sn.lna(net)
    >>> float(st.mean["X"]), float(st.fano["X"])
    (5.0, 1.0)
    >>> round(float(st.psd("X", [0.0]).iloc[0]), 12)  # 2k/g^2
    5.0
    """
    if t is not None and (net.events or net.continuous_features()):
        # rate rules, events: the extended time-dependent LNA (rule variables in the state,
        # covariance mapped through event assignments), which says what it cannot run
        times = np.atleast_1d(np.asarray(t, dtype=float)).ravel()
        single = np.ndim(t) == 0
        if single:
            times = np.array([0.0, float(times[0])]) if times[0] > 0 else np.array([0.0])
        course = lna_course(net, times, max_seconds=max_seconds)
        return course.at(-1) if single else course
    if net.continuous_features():  # rate/algebraic rules, fast reactions, delays
        net.require_stochastic("lna")
    if net.events:
        raise UnsupportedFeature(
            f"lna: model '{net.id}' has events; the LNA needs smooth dynamics -- use "
            "sn.ssa (exact, simulates events) or sn.time_course_noise (SSA statistics over "
            "time)", element=net.events[0].id, feature="Event")
    if t is None:
        return _stationary(net, emre=emre, known=steady_state)
    if steady_state is not None:
        raise ValueError("steady_state= is only used by the stationary LNA (t=None)")
    times = np.asarray(t, dtype=float)
    if times.ndim == 0:
        return _time_course(net, np.array([0.0, float(times)]) if times > 0 else
                            np.array([0.0]), emre=emre, rtol=rtol, atol=atol,
                            method=method, max_seconds=max_seconds).at(-1)
    return _time_course(net, times.ravel(), emre=emre, rtol=rtol, atol=atol, method=method,
                        max_seconds=max_seconds)


def lna_course(net: ReactionNetwork, times, *, rtol: float = 1e-6, atol: float | None = None,
               max_seconds: float | None = None, stop_invalid: bool = False) -> "LNATimeCourse":
    """The time-dependent LNA with rate rules as states, events mapping the covariance and
    time in the laws (:mod:`sbmlnoise.lna._course`, which documents the method, its
    parameters and what it refuses), as an :class:`LNATimeCourse`."""
    from ._course import course_arrays

    t, mean, cov, settings, warnings = course_arrays(
        net, times, rtol=rtol, atol=atol, max_seconds=max_seconds, stop_invalid=stop_invalid)
    return LNATimeCourse(net, t, mean, cov, None, settings, warnings)


# =========================================================================== helpers
def _reduced(net: ReactionNetwork):
    ind = np.array(net.independent_species, dtype=np.intp)
    link = np.asarray(net.link_matrix, dtype=float)
    return ind, link


def _compartment_sizes(net: ReactionNetwork) -> np.ndarray:
    prob = problem(net)
    sizes = prob.compartment_sizes
    if sizes is None:
        sizes = prob.compartment_sizes = _compute_compartment_sizes(net)
    return sizes


def _compute_compartment_sizes(net: ReactionNetwork) -> np.ndarray:
    sizes = {c.id: float(c.size) for c in net.compartments}
    return np.array([sizes.get(s.compartment, 1.0) or 1.0 for s in net.species], dtype=float)


def _settings(net: ReactionNetwork, prob, **more) -> dict:
    settings = {"system_size": float(net.system_size),
                "system_size_source": net.system_size_source,
                "n_independent": len(net.independent_species),
                "split_reactions": list(prob.split)}
    settings.update(more)
    return settings


def _check_rates(net: ReactionNetwork, prob, v: np.ndarray, where: str) -> list[str]:
    warnings: list[str] = []
    for name in prob.unsplit_reversible:
        warnings.append(f"reversible reaction '{name}' has a net rate law that could not be "
                        "split into forward and reverse parts; its diffusion uses |v|, which "
                        "underestimates noise near equilibrium")
    scale = max(1e-300, float(np.max(np.abs(v)))) if v.size else 1.0
    bad = [c for c, val in zip(prob.channels, v) if val < -1e-9 * scale]
    for c in bad:
        if c.reaction not in prob.unsplit_reversible:
            warnings.append(f"reaction '{c.reaction}' ({c.direction}) has a negative rate "
                            f"{where}; its diffusion uses |v|")
    return warnings


def _linearise(net: ReactionNetwork, prob, amounts: np.ndarray, t: float, ind, link):
    """Counts-scale J (full and reduced), D (full and reduced) and channel rates."""
    omega = float(net.system_size)
    v = prob.rates(amounts, t)
    dv = prob.rate_jacobian(amounts, t)  # = da/dn
    nc = prob.stoichiometry
    jac = nc @ dv
    diff = (nc * (omega * np.abs(v))) @ nc.T
    j_red = jac[ind] @ link if ind.size else np.zeros((0, 0))
    d_red = diff[ind][:, ind]
    return v, jac, diff, j_red, d_red


#: a mode decays when ``Re lambda < -DECAYS * max(1, max|lambda|)`` (the stationary LNA's
#: long-standing stability threshold; stiff models have decay rates 1e-10 of their fastest)
DECAYS = 1e-10
#: a positive real part up to ``ZERO_EIG * max|lambda|`` is rounding: a double (Jordan)
#: zero eigenvalue perturbed by rounding moves by about ``sqrt(eps) * ||J|| ~ 1e-8 ||J||``
ZERO_EIG = 1e-7
#: a non-decaying mode carries no noise when ``|U2^T D U2| <= QUIET_MODE * |D|``
QUIET_MODE = 1e-9


def _decaying_subspace(net: ReactionNetwork, eig: np.ndarray, j_red: np.ndarray,
                       d_red: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Restrict the stationary LNA to the modes that decay.

    With every eigenvalue of ``J`` in the open left half plane this returns ``(I, J, D,
    "")``. Otherwise the real Schur form ``J = U T U^T`` is ordered so that the first
    ``k`` columns ``U1`` span the invariant subspace of the decaying eigenvalues
    (``Re lambda < -DECAYS max(1, |lambda|max)``); the coordinates ``z2 = U2^T y`` obey ``dz2 = T22 z2 dt +
    U2^T B dW`` alone. When no noise enters them (``U2^T D U2 = 0``: the non-decaying
    modes are e.g. species sitting at zero with all their fluxes zero, or a continuum of
    fixed points that no reaction fluctuation moves along) they stay at their
    deterministic value, and the stationary covariance is ``U1 S U1^T`` with ``T11 S + S
    T11^T + U1^T D U1 = 0`` -- the controllability Gramian on the decaying subspace (any
    stationary Gaussian law of the linear SDE has this form). Refused (NoSteadyState)
    when an eigenvalue is clearly positive or a non-decaying mode is driven by noise
    (the fluctuations then grow without bound in the LNA).

    Returns the basis (r x k), the reduced ``J`` and ``D`` in it, and a note for the
    warnings ("" when nothing was dropped).
    """
    r = j_red.shape[0]
    scale = max(float(np.max(np.abs(eig))), 1.0)
    decays = DECAYS * scale
    if float(np.max(eig.real)) < -decays:
        return np.eye(r), j_red, d_red, ""
    if float(np.max(eig.real)) > ZERO_EIG * scale:
        raise _stability_error(net, eig, "unstable")
    t_mat, u_mat, k = linalg.schur(j_red, output="real", sort=lambda re, im: re < -decays)
    u1, u2 = u_mat[:, :k], u_mat[:, k:]
    d_norm = max(float(np.max(np.abs(d_red))), 1e-300)
    driven = float(np.max(np.abs(u2.T @ d_red @ u2))) if u2.size else 0.0
    if driven > QUIET_MODE * d_norm:
        raise _stability_error(net, eig, "not asymptotically stable (a zero eigenvalue whose "
                               "mode the reaction noise drives)")
    note = (f"lna: {r - k} of {r} independent modes do not decay at the steady state "
            f"(real parts between -{DECAYS:g} and +{ZERO_EIG:g} x the largest |lambda|: zero "
            "within rounding) and no reaction noise "
            f"enters them; the stationary LNA is taken on the {k} decaying modes (those "
            "directions keep their deterministic value)")
    return u1, t_mat[:k, :k], u1.T @ d_red @ u1, note


#: relative size (to the largest mean) below which a stationary mean is zero within the
#: precision of the steady-state solve (its Newton tolerance is 1e-9 of the rates)
AT_ZERO = 1e-12
#: relative size (to the largest variance) below which a covariance entry is rounding
#: error of the Lyapunov solve
ROUNDOFF = 1e-15


def _clean_roundoff(n: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Species at zero within the steady-state solve's precision (mean below
    :data:`AT_ZERO` of the largest and below one molecule) report mean 0 and no fluctuations (their rows and
    columns of the covariance set to 0: a species sitting at zero has zero fluxes, hence no
    noise input), and covariance entries at rounding level become 0. Without this a
    species left at 1e-36 (or 3e-10 while the Newton solve creeps towards 0) by the solver
    reports a Fano factor of 1e32 (or 4e3)."""
    n = n.copy()
    cov = cov.copy()
    zero = (np.abs(n) <= AT_ZERO * max(float(np.max(np.abs(n), initial=0.0)), 1e-300)) & \
        (np.abs(n) < 1.0)  # and below one molecule: 1e10 molecules beside 1e23 are real
    n[zero] = 0.0
    cov[zero, :] = 0.0
    cov[:, zero] = 0.0
    c_tiny = ROUNDOFF * max(float(np.max(np.abs(np.diag(cov)), initial=0.0)), 1e-300)
    cov[np.abs(cov) <= c_tiny] = 0.0
    return n, cov


def _stability_error(net: ReactionNetwork, eig: np.ndarray, reason: str) -> NoSteadyState:
    shown = ", ".join(f"{e:.4g}" for e in sorted(eig, key=lambda e: -e.real)[:6])
    return NoSteadyState(
        f"lna: the steady state of model '{net.id}' is {reason} (Jacobian eigenvalues of the "
        f"independent species: {shown}); the stationary LNA is undefined there -- use the "
        "time-dependent LNA sn.lna(net, t=times), or sn.ssa", unstable=True, eigenvalues=eig)


def _concentration_extras(net: ReactionNetwork, mean: np.ndarray, cov: np.ndarray, ids,
                          emre_mean=None):
    omega = float(net.system_size)
    sizes = _compartment_sizes(net)
    scale = omega * sizes
    extra = {"concentration_mean": pd.Series(mean / scale, index=ids, name="concentration"),
             "concentration_covariance": pd.DataFrame(cov / np.outer(scale, scale),
                                                      index=ids, columns=ids),
             "compartment_sizes": pd.Series(sizes, index=ids)}
    if emre_mean is not None:
        extra["emre_concentration_mean"] = pd.Series(emre_mean / scale, index=ids,
                                                     name="emre_concentration")
    return extra


# =========================================================================== stationary
def _known_state(net: ReactionNetwork, prob, known) -> tuple[np.ndarray, float]:
    if isinstance(known, pd.Series):
        missing = [s for s in net.species_ids if s not in known.index]
        if missing:
            raise KeyError(f"steady_state has no value for species '{missing[0]}'")
        x = known[list(net.species_ids)].to_numpy(dtype=float)
    else:
        x = np.asarray(known, dtype=float).ravel()
        if x.shape != (net.n_species,):
            raise ValueError(f"steady_state needs {net.n_species} amounts, got {x.shape}")
    drift = prob.stoichiometry @ prob.rates(x)
    scale = max(1e-300, float(np.max(np.abs(prob.rates(x))))) if prob.n_channels else 1.0
    res = float(np.max(np.abs(drift))) if drift.size else 0.0
    if res > 1e-6 * scale:
        raise NoSteadyState(f"lna: the given steady_state is not stationary for model "
                            f"'{net.id}' (max |N v| = {res:.3g}, rates up to {scale:.3g})")
    return x, res


def _affine_steady_state(net: ReactionNetwork, prob, ind, link):
    """The steady state of rate equations with only zero- and first-order laws (zero
    Hessian): one Newton step from the initial state is exact for an affine drift, and the
    fixed point is unique when the reduced Jacobian is regular. Returns (amounts,
    residual), or None when the step does not give a clean non-negative fixed point (the
    general search then runs)."""
    if prob.n_hessian_entries or net.is_time_dependent or not ind.size:
        return None
    x0 = net.initial_amounts.astype(float)
    nc_red = prob.stoichiometry[ind]
    with np.errstate(all="ignore"):
        f0 = nc_red @ prob.rates(x0)
        j_red = (nc_red @ prob.rate_jacobian(x0)) @ link
        try:
            step = np.linalg.solve(j_red, -f0)
        except np.linalg.LinAlgError:
            return None
        x = x0 + link @ step
        v = prob.rates(x)
        res = float(np.max(np.abs(nc_red @ v)))
    scale = max(float(np.max(np.abs(x))) if x.size else 0.0, 1e-300)
    rate_scale = float(np.max(np.abs(v))) if v.size else 0.0
    if not (np.all(np.isfinite(x)) and np.all(x >= -1e-9 * scale) and
            (res <= 1e-9 * rate_scale or res <= 1e-15 * scale)):
        return None
    return np.clip(x, 0.0, None), res


def _lyapunov(j_red: np.ndarray, d_red: np.ndarray) -> np.ndarray:
    """Solve ``J S + S J^T + D = 0``: for ``r <= 6`` as the ``r^2`` linear system
    ``(I kron J + J kron I) vec S = -vec D`` (about 10 times faster than the Schur method
    at this size), else by :func:`scipy.linalg.solve_continuous_lyapunov` (Bartels-Stewart)
    with one BLAS thread."""
    r = j_red.shape[0]
    if r <= 6:
        eye = np.eye(r)
        # I kron J + J kron I by broadcasting (np.kron is ~50 us of overhead here)
        big = (eye[:, None, :, None] * j_red[None, :, None, :] +
               j_red[:, None, :, None] * eye[None, :, None, :]).reshape(r * r, r * r)
        return np.linalg.solve(big, -d_red.ravel()).reshape(r, r)
    with single_threaded_blas():
        return linalg.solve_continuous_lyapunov(j_red, -d_red)


def _stationary(net: ReactionNetwork, *, emre: bool, known=None) -> NoiseStatistics:
    from ..ode import steady_state

    prob = problem(net)
    fast = None if known is not None else _affine_steady_state(net, prob, *_reduced(net))
    if known is not None:
        x, residual = _known_state(net, prob, known)
    elif fast is not None:
        x, residual = fast
    else:
        try:
            ss = steady_state(net)
        except NoSteadyState as err:
            raise NoSteadyState(f"lna: {err} -- the stationary LNA needs a stable steady "
                                "state; use the time-dependent LNA sn.lna(net, t=times)",
                                unstable=getattr(err, "unstable", False),
                                eigenvalues=getattr(err, "eigenvalues", None)) from err
        x = ss.to_numpy(dtype=float)
        residual = float(ss.attrs.get("residual", 0.0))
    omega = float(net.system_size)
    ids = prob.index
    n = omega * x
    ind, link = _reduced(net)
    v, jac, diff, j_red, d_red = _linearise(net, prob, x, 0.0, ind, link)
    warnings = _check_rates(net, prob, v, "at the steady state")

    eig = np.linalg.eigvals(j_red) if ind.size else np.zeros(0, dtype=complex)
    warnings_sub: list[str] = []
    if eig.size:
        if not np.all(np.isfinite(eig)):
            raise SimulationError(f"lna: the Jacobian of model '{net.id}' is not finite at the "
                                  "steady state")
        basis, j_red, d_red, note = _decaying_subspace(net, eig, j_red, d_red)
        link = link @ basis
        if note:
            warnings_sub.append(note)
        s_red = _lyapunov(j_red, d_red) if j_red.size else np.zeros((0, 0))
        s_red = 0.5 * (s_red + s_red.T)
        if not np.all(np.isfinite(s_red)):
            raise _stability_error(net, eig, "not asymptotically stable (the Lyapunov "
                                   "equation has no finite solution)")
    else:
        basis = np.zeros((0, 0))
        s_red = np.zeros((0, 0))
    cov = link @ s_red @ link.T if s_red.size else np.zeros((net.n_species, net.n_species))
    n, cov = _clean_roundoff(n, cov)

    emre_mean = None
    if emre and s_red.size:
        h = prob.hessian_contraction(x, cov / omega ** 2)  # sum d2v/dx2 C_x, amounts/time
        source = basis.T @ (prob.stoichiometry[ind] @ (0.5 * omega * h))  # counts/time
        delta = link @ np.linalg.solve(j_red, -source)
        emre_mean = n + delta
    elif emre:
        emre_mean = n.copy()
    extra = _stationary_extras(net, n, cov, ids, emre_mean, jac, diff, eig,
                               warnings + warnings_sub)
    settings = _settings(net, prob, steady_state_residual=residual,
                         spectral_abscissa=float(np.max(eig.real)) if eig.size else None,
                         emre=bool(emre),
                         marginal_modes=int(eig.size - j_red.shape[0]) if eig.size else 0)
    autocov, psd = _temporal_functions(net, j_red, s_red, d_red, link)
    return NoiseStatistics(mean=pd.Series(n, index=ids, name="mean"),
                           covariance=pd.DataFrame(cov, index=ids, columns=ids),
                           method="lna", settings=settings, stderr=None, distributions=None,
                           time=None, extra=extra, autocovariance_function=autocov,
                           psd_function=psd)


def _stationary_extras(net: ReactionNetwork, n: np.ndarray, cov: np.ndarray, ids,
                       emre_mean: np.ndarray | None, jac: np.ndarray, diff: np.ndarray,
                       eig: np.ndarray, warnings: list) -> LazyExtras:
    """The extras of the stationary result, the pandas ones built on first access (they
    cost as much as the LNA itself on a small network, and most callers read none).
    Same keys, order and values as :func:`_concentration_extras` and the time course."""
    omega = float(net.system_size)
    n, cov = n.copy(), cov.copy()  # the builders see the values of this call only

    def scale() -> np.ndarray:
        return omega * _compartment_sizes(net)

    def noise() -> pd.Series:
        with np.errstate(divide="ignore", invalid="ignore"):
            return pd.Series(np.where(n != 0, np.diag(cov) / n ** 2, np.nan) * omega,
                             index=ids, name="eta2_omega")
    extra = LazyExtras()
    if emre_mean is not None:
        extra.lazy("emre_mean", lambda: pd.Series(emre_mean, index=ids, name="emre_mean"))
    extra.lazy("concentration_mean",
               lambda: pd.Series(n / scale(), index=ids, name="concentration"))
    extra.lazy("concentration_covariance", lambda: pd.DataFrame(
        cov / np.outer(scale(), scale()), index=ids, columns=ids))
    extra.lazy("compartment_sizes", lambda: pd.Series(_compartment_sizes(net), index=ids))
    if emre_mean is not None:
        extra.lazy("emre_concentration_mean", lambda: pd.Series(
            emre_mean / scale(), index=ids, name="emre_concentration"))
    extra.lazy("jacobian", lambda: pd.DataFrame(jac, index=ids, columns=ids))
    extra.lazy("diffusion", lambda: pd.DataFrame(diff, index=ids, columns=ids))
    extra.update(eigenvalues=eig, warnings=warnings)
    extra.lazy("noise_coefficients", noise)
    return extra


def _temporal_functions(net: ReactionNetwork, j_red: np.ndarray, s_red: np.ndarray,
                        d_red: np.ndarray, link: np.ndarray
                        ) -> tuple[Callable[[str, np.ndarray], np.ndarray],
                                   Callable[[str, np.ndarray], np.ndarray]]:
    """Autocovariance ``C_ii(tau) = l expm(J|tau|) S l^T`` and the two-sided PSD
    ``S_ii(w) = y^T D conj(y)`` with ``(J^T - i w) y = l`` (``l`` = row ``i`` of L0)."""
    r = j_red.shape[0]
    cache: dict = {}

    def eigen() -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:  # on first use
        if "inv" not in cache:
            vals, vecs = np.linalg.eig(j_red)
            cache.update(vals=vals, vecs=vecs,
                         inv=np.linalg.inv(vecs) if np.linalg.cond(vecs) < 1e8 else None)
        return cache["vals"], cache["vecs"], cache["inv"]

    def autocov(species: str, lags: np.ndarray) -> np.ndarray:
        lags = np.abs(np.asarray(lags, dtype=float))
        if not r:
            return np.zeros_like(lags)
        ell = link[net.index(species)]
        w = s_red @ ell
        eigvals, eigvecs, inv = eigen()
        if inv is not None:
            left = ell @ eigvecs
            right = inv @ w
            return np.real(np.exp(np.outer(lags, eigvals)) @ (left * right))
        out = np.empty_like(lags)
        for k, tau in enumerate(lags):
            out[k] = ell @ linalg.expm(j_red * tau) @ w
        return out

    def psd(species: str, omegas: np.ndarray) -> np.ndarray:
        omegas = np.asarray(omegas, dtype=float)
        if not r:
            return np.zeros_like(omegas)
        ell = link[net.index(species)].astype(complex)
        out = np.empty(omegas.shape, dtype=float)
        flat = omegas.ravel()
        eye = np.eye(r)
        for start in range(0, flat.size, 256):
            w = flat[start:start + 256]
            mats = j_red.T[None, :, :] - 1j * w[:, None, None] * eye[None]
            y = np.linalg.solve(mats, np.broadcast_to(ell, (w.size, r))[..., None])[..., 0]
            vals = np.einsum("wi,ij,wj->w", y, d_red, np.conj(y))
            out.ravel()[start:start + 256] = vals.real
        return out

    return autocov, psd


# =========================================================================== time course
class LNATimeCourse(Sequence):
    """Time-dependent LNA: a sequence of :class:`NoiseStatistics`, one per output time.

    Attributes
    ----------
    times : ndarray, shape (n_times,)
    mean : pandas.DataFrame
        Rate-equation mean in counts, index ``time``, columns species.
    variance : pandas.DataFrame
        LNA variances (counts^2), time x species.
    covariance : ndarray, shape (n_times, n_species, n_species)
        LNA covariance matrices (counts^2).
    emre_mean : pandas.DataFrame or None
        Mean with the EMRE correction (counts), time x species.
    settings : dict

    ``course[k]`` or ``course.at(k)`` gives the :class:`NoiseStatistics` at ``times[k]``
    (``.time`` set; no autocovariance, the process is not stationary). The covariance
    starts at zero (deterministic initial state), so Fano factors at ``t = 0`` are 0.
    """

    def __init__(self, net: ReactionNetwork, times: np.ndarray, mean: np.ndarray,
                 cov: np.ndarray, emre_mean: np.ndarray | None, settings: dict,
                 warnings: list[str]) -> None:
        self._net = net
        self.times = times
        ids = list(net.species_ids)
        index = pd.Index(times, name="time")
        self._ids = ids
        self._mean = mean
        self.covariance = cov
        self._emre = emre_mean
        self.mean = pd.DataFrame(mean, index=index, columns=ids)
        self.variance = pd.DataFrame(np.diagonal(cov, axis1=1, axis2=2), index=index,
                                     columns=ids)
        self.emre_mean = (pd.DataFrame(emre_mean, index=index, columns=ids)
                          if emre_mean is not None else None)
        self.settings = settings
        self.warnings = warnings

    def __len__(self) -> int:
        return len(self.times)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self.at(i) for i in range(len(self))[k]]
        return self.at(k)

    @property
    def fano(self) -> pd.DataFrame:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.variance / self.mean.where(self.mean.abs() >= ABSENT)

    @property
    def cv(self) -> pd.DataFrame:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sqrt(self.variance.clip(lower=0)) / self.mean.where(
                self.mean.abs() >= ABSENT)

    def at(self, k: int) -> NoiseStatistics:
        """The statistics at ``times[k]`` (negative ``k`` counts from the end)."""
        k = range(len(self))[k]
        ids = self._ids
        extra: dict = {"warnings": list(self.warnings)}
        emre = self._emre[k] if self._emre is not None else None
        if emre is not None:
            extra["emre_mean"] = pd.Series(emre, index=ids, name="emre_mean")
        extra.update(_concentration_extras(self._net, self._mean[k], self.covariance[k], ids,
                                           emre))
        return NoiseStatistics(mean=pd.Series(self._mean[k], index=ids, name="mean"),
                               covariance=pd.DataFrame(self.covariance[k], index=ids,
                                                       columns=ids),
                               method="lna", settings=dict(self.settings), stderr=None,
                               time=float(self.times[k]), extra=extra)

    def __repr__(self) -> str:
        return (f"<LNATimeCourse {len(self)} times in [{self.times[0]:g}, {self.times[-1]:g}], "
                f"{len(self._ids)} species>")


def _count_atol(net: ReactionNetwork, rtol: float, atol: float) -> float:
    """Absolute tolerance (counts, and counts^2 for the covariances, which grow like the
    counts) of the time-dependent LNA: ``atol`` or, when larger, the rate equations'
    ``Omega x default_atol`` (1e-4 rtol x the typical amount, in counts). At 1e21
    molecules an absolute 1e-10 on covariance entries that pass through zero forced
    steps of 1e-9 time units; this keeps the error control relative to the model's scale."""
    from ..ode._solve import default_atol

    return max(float(atol), float(net.system_size) * default_atol(net, rtol))


def _time_course(net: ReactionNetwork, times: np.ndarray, *, emre, rtol, atol,
                 method, max_seconds: float | None = None) -> LNATimeCourse:
    from scipy.integrate import solve_ivp
    import scipy.sparse as sps

    from ..ode._solve import _validate_times

    times = _validate_times(times)
    prob = problem(net)
    omega = float(net.system_size)
    ind, link = _reduced(net)
    r = ind.size
    x0 = net.initial_amounts.astype(float)
    n0 = omega * x0
    offset = n0 - link @ n0[ind] if r else n0.copy()
    nc_red = prob.stoichiometry[ind]
    warnings = _check_rates(net, prob, prob.rates(x0, 0.0), "at the initial state")

    def unpack(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return y[:r], y[r:r + r * r].reshape(r, r), y[r + r * r:]

    import time as _wall
    deadline = None if max_seconds is None else _wall.perf_counter() + float(max_seconds)

    def rhs(tt: float, y: np.ndarray) -> np.ndarray:
        if deadline is not None and _wall.perf_counter() > deadline:
            raise SimulationError(f"lna: the time-dependent LNA of model '{net.id}' did not "
                                  f"reach t={float(times[-1]):g} within {max_seconds:g} s "
                                  f"(stopped at t={tt:.4g}; a stiff model)")
        m, s, d = unpack(y)
        n = link @ m + offset
        x = n / omega
        v = prob.rates(x, tt)
        dv = prob.rate_jacobian(x, tt)
        j_red = (nc_red @ dv) @ link
        d_red = (nc_red * (omega * np.abs(v))) @ nc_red.T
        dm = nc_red @ (omega * v)
        js = j_red @ s
        ds = js + js.T + d_red  # S is symmetric: S J^T = (J S)^T
        out = [dm, ds.ravel()]
        if emre:
            cov = link @ s @ link.T
            h = prob.hessian_contraction(x, cov / omega ** 2, tt)
            out.append(j_red @ d + nc_red @ (0.5 * omega * h))
        return np.concatenate(out)

    dim = r + r * r + (r if emre else 0)
    big = dim > 2000
    if method is None:
        # large systems: an implicit solver would factorise the (r^2 x r^2) Kronecker-sum
        # Jacobian, whose LU fills in badly; an explicit method is far cheaper unless the
        # network is stiff (then pass method="BDF" or "Radau": sparse Jacobian)
        method = "RK45" if big else "LSODA"

    def jac(tt: float, y: np.ndarray):
        m = y[:r]
        x = (link @ m + offset) / omega
        j_red = (nc_red @ prob.rate_jacobian(x, tt)) @ link
        eye = sps.identity(r, format="csr") if big else np.eye(r)
        kron = sps.kron if big else np.kron
        blocks = [j_red, kron(j_red, eye) + kron(eye, j_red)]
        if emre:
            blocks.append(j_red)
        if big:
            return sps.block_diag([sps.csr_matrix(b) for b in blocks], format="csr")
        return linalg.block_diag(*blocks)

    y0 = np.zeros(dim)
    y0[:r] = n0[ind]
    n_t = len(times)
    if r == 0 or times[-1] == 0:
        ys = np.tile(y0, (n_t, 1))
    else:
        implicit = ("BDF", "Radau") if big else ("LSODA", "BDF", "Radau")
        kwargs = {"jac": jac} if method in implicit else {}
        uniq, inverse = np.unique(times, return_inverse=True)  # repeated times allowed
        with single_threaded_blas():  # r^2-sized LU: threads only cost (see _blas.py)
            sol = solve_ivp(rhs, (0.0, float(times[-1])), y0, method=method, t_eval=uniq,
                            rtol=rtol, atol=_count_atol(net, rtol, atol), **kwargs)
        if not sol.success:
            raise SimulationError(f"lna: time-dependent LNA of model '{net.id}' failed: "
                                  f"{sol.message}")
        ys = sol.y.T[inverse]
    mean = np.empty((n_t, net.n_species))
    cov = np.empty((n_t, net.n_species, net.n_species))
    emre_mean = np.empty((n_t, net.n_species)) if emre else None
    for k in range(n_t):
        m, s, d = unpack(ys[k])
        s = 0.5 * (s + s.T)
        mean[k] = link @ m + offset
        cov[k] = link @ s @ link.T
        if emre_mean is not None:
            emre_mean[k] = mean[k] + link @ d
    settings = _settings(net, prob, times=[float(v) for v in times], rtol=rtol, atol=atol,
                         integrator=method, emre=bool(emre), initial_covariance="zero")
    return LNATimeCourse(net, times, mean, cov, emre_mean, settings, warnings)


# =========================================================================== noise coefficients
def noise_coefficients(stats: NoiseStatistics,
                       system_size: float | None = None) -> pd.DataFrame:
    """Noise coefficients ``eta^2 * Omega`` per species, for rescaling to any volume.

    In the linear noise approximation the squared coefficient of variation of a species
    with mean ``<n> = Omega x*`` is ``eta^2 = Var n / <n>^2 = c / Omega`` with ``c``
    independent of the system size ``Omega`` (van Kampen's expansion: variances scale with
    ``Omega``, means with ``Omega``). So ``eta^2 Omega`` is a property of the network, and
    at another system size ``Omega'`` (e.g. another cell volume ``V'``, ``Omega' = N_A V'``
    for a model in molar concentrations) ``eta'^2 ~ (eta^2 Omega) / Omega'`` and
    ``CV' = sqrt(eta'^2)``, to leading order in ``1/Omega'``.

    Parameters
    ----------
    stats : NoiseStatistics
        Any backend's stationary statistics (``settings["system_size"]`` gives Omega);
        for the LNA the coefficients are exact in ``Omega``, for SSA/FSP they include the
        finite-size corrections of that size.
    system_size : float, optional
        Omega when ``stats.settings`` does not record it (``net.system_size``).

    Returns
    -------
    pandas.DataFrame
        Index species; ``mean`` (counts), ``eta2`` (``Var / mean^2``), ``eta2_omega``
        (``eta2 * Omega``, in units of Omega: molecules per model substance unit),
        ``mean_concentration`` (mean / Omega, model substance units) and ``system_size``.
        NaN where the mean is 0.

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load("model bd; => X; 10; X => ; 2*X; X = 0; end", system_size=100)
    >>> float(sn.noise_coefficients(sn.lna(net)).loc["X", "eta2_omega"])  # g / k
    0.2
    """
    omega = float(system_size if system_size is not None
                  else (stats.settings or {}).get("system_size", 1.0))
    mean = stats.mean.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta2 = (stats.variance / mean.where(mean != 0) ** 2).astype(float)
    return pd.DataFrame({"mean": mean, "eta2": eta2, "eta2_omega": eta2 * omega,
                         "mean_concentration": mean / omega, "system_size": omega})


# =========================================================================== decomposition
def noise_decomposition(stats, pairs) -> pd.DataFrame:
    """Intrinsic / extrinsic noise of reporter pairs (dual-reporter decomposition).

    For two identical reporters ``x`` and ``y`` driven by the same cellular environment
    (Elowitz et al. 2002, doi:10.1126/science.1070919; Swain, Elowitz & Siggia 2002,
    doi:10.1073/pnas.162041399)::

        eta_int^2 = <(x - y)^2> / (2 <x><y>)
        eta_ext^2 = (<xy> - <x><y>) / (<x><y>)
        eta_tot^2 = eta_int^2 + eta_ext^2 = (<x^2 + y^2>/2 - <x><y>) / (<x><y>)

    computed from the mean and covariance of ``stats`` (any backend), so
    ``<(x-y)^2> = Var x + Var y - 2 Cov(x, y) + (<x> - <y>)^2``.

    Parameters
    ----------
    stats : NoiseStatistics or sequence of NoiseStatistics (e.g. an LNATimeCourse)
    pairs : (str, str) or iterable of (str, str)
        Species id pairs, e.g. from :func:`find_reporter_pairs`.

    Returns
    -------
    pandas.DataFrame
        One row per pair (index ``(x, y)``; with a sequence of statistics, index
        ``(time, x, y)``), columns ``mean_x``, ``mean_y``, ``eta_int2``, ``eta_ext2``,
        ``eta_tot2``, ``eta_int``, ``eta_ext``, ``eta_tot`` (dimensionless; ``eta`` is the
        square root, ``nan`` for a negative ``eta_ext2``).

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> net = sn.load('''model dual
    ...   => E; kE; E => ; gE*E
    ...   => X; k*E; X => ; g*X
    ...   => Y; k*E; Y => ; g*Y
    ...   kE = 10; gE = 1; k = 2; g = 1; E = 0; X = 0; Y = 0
    ... end''')
    >>> sn.find_reporter_pairs(net)
    [('X', 'Y')]
    >>> table = sn.noise_decomposition(sn.lna(net), ("X", "Y"))
    >>> round(float(table["eta_int2"].iloc[0]), 6)  # 1 / <X>
    0.05
    """
    if isinstance(stats, NoiseStatistics):
        return _decompose(stats, pairs)
    frames = []
    for st in stats:
        frame = _decompose(st, pairs)
        frame.index = pd.MultiIndex.from_tuples([(st.time,) + tuple(i) for i in frame.index],
                                                names=["time", "x", "y"])
        frames.append(frame)
    return pd.concat(frames)


def _normalise_pairs(pairs) -> list[tuple[str, str]]:
    if isinstance(pairs, tuple) and len(pairs) == 2 and all(isinstance(p, str) for p in pairs):
        return [pairs]
    out = []
    for p in pairs:
        p = tuple(p)
        if len(p) != 2:
            raise ValueError(f"a reporter pair needs two species ids, got {p!r}")
        out.append((str(p[0]), str(p[1])))
    return out


def _decompose(stats: NoiseStatistics, pairs) -> pd.DataFrame:
    rows = []
    index = []
    mean = stats.mean
    cov = stats.covariance
    for x, y in _normalise_pairs(pairs):
        for s in (x, y):
            if s not in mean.index:
                raise KeyError(f"no species '{s}' in these statistics; species are "
                               f"{', '.join(mean.index)}")
        mx, my = float(mean[x]), float(mean[y])
        vx, vy, cxy = float(cov.loc[x, x]), float(cov.loc[y, y]), float(cov.loc[x, y])
        prod = mx * my
        with np.errstate(divide="ignore", invalid="ignore"):
            if prod != 0:
                int2 = (vx + vy - 2.0 * cxy + (mx - my) ** 2) / (2.0 * prod)
                ext2 = cxy / prod
            else:
                int2 = ext2 = math.nan
        tot2 = int2 + ext2
        root = (lambda q: math.sqrt(q) if q >= 0 else math.nan)
        rows.append({"mean_x": mx, "mean_y": my, "eta_int2": int2, "eta_ext2": ext2,
                     "eta_tot2": tot2, "eta_int": root(int2), "eta_ext": root(ext2),
                     "eta_tot": root(tot2)})
        index.append((x, y))
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["x", "y"]))


def find_reporter_pairs(net: ReactionNetwork, *, rtol: float = 1e-9, n_points: int = 3,
                        seed: int = 0) -> list[tuple[str, str]]:
    """Species pairs whose kinetics are identical up to relabelling.

    A pair ``(x, y)`` qualifies when swapping the two species maps the network onto
    itself: every reaction has a partner whose reactants and products are the swapped
    ones and whose rate law equals the original law with ``x`` and ``y`` exchanged, and
    ``x`` and ``y`` have the same initial amount and compartment size. Typical case: two
    reporters driven by a shared extrinsic factor (the input of
    :func:`noise_decomposition`).

    Rate laws are compared as functions: both are evaluated (compiled expression trees, with
    the model's parameter values) at ``n_points`` random positive states, relative
    tolerance ``rtol``; parameter names may differ as long as values agree.

    Returns
    -------
    list of (str, str)
        Pairs in species order (first id earlier in ``net.species``).

    Notes
    -----
    Candidates are first filtered by a cheap signature (initial amount, compartment size,
    stoichiometry pattern). Being a pair is an equivalence relation (the transposition
    ``(a c) = (a b)(b c)(a b)``), so each candidate is checked only against one
    representative of every class found so far, with ``n_points`` rate evaluations and a
    matching of the reactions touching the two species (stoichiometry or rate law) by their
    swapped reactant/product sets. Cost: about linear in the number of species for
    networks of identical reporters (400 identical species: 2.5 s, first call included),
    plus the output, which has ``m (m - 1) / 2`` pairs for a class of ``m`` species.
    """
    nc_r = np.asarray(net.reactant_stoichiometry, dtype=float)
    nc_p = np.asarray(net.product_stoichiometry, dtype=float)
    sizes = _compartment_sizes(net)
    x0 = net.initial_amounts
    candidates = [i for i, s in enumerate(net.species)
                  if not (s.boundary or s.constant) and np.any(net.stoichiometry[i])]

    def signature(i: int) -> tuple:
        return (round(float(x0[i]), 12), round(float(sizes[i]), 12),
                tuple(sorted(nc_r[i][nc_r[i] != 0].tolist())),
                tuple(sorted(nc_p[i][nc_p[i] != 0].tolist())))

    groups: dict = {}
    for i in candidates:
        groups.setdefault(signature(i), []).append(i)
    rng = np.random.default_rng(seed)
    base = np.where(x0 > 0, x0, 1.0)
    points = [base * rng.uniform(0.5, 2.0, size=net.n_species) for _ in range(n_points)]
    # a point where every member of a group has the same value is fixed by any swap
    # within the group, so a symmetric pair has equal rate fingerprints there
    fixed = base * rng.uniform(0.5, 2.0, size=net.n_species)
    for members in groups.values():
        fixed[members] = fixed[members[0]]
    at_fixed = net.rates(fixed) if net.n_reactions else np.zeros(0)

    def fingerprint(i: int) -> np.ndarray:
        rows = [(0.0, c, at_fixed[j]) for j, c in enumerate(nc_r[i]) if c] + \
               [(1.0, c, at_fixed[j]) for j, c in enumerate(nc_p[i]) if c]
        return np.array(sorted(rows), dtype=float).reshape(-1, 3)

    prints = {i: fingerprint(i) for members in groups.values() if len(members) > 1
              for i in members}
    touched = _touched_reactions(net, nc_r, nc_p)
    values = None
    by_key: dict = {}
    for j in range(net.n_reactions):
        by_key.setdefault(_reaction_key(nc_r, nc_p, j), []).append(j)
    # "swapping a and b maps the network onto itself" is an equivalence relation
    # ((a c) = (a b)(b c)(a b)), so each species is checked against one representative
    # per class: O(n) checks instead of O(n^2), each over the reactions touching a or b
    found: list[tuple[int, int]] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        classes: list[list[int]] = []
        for b in members:
            for cls in classes:
                a = cls[0]
                fa, fb = prints[a], prints[b]
                if fa.shape != fb.shape or not np.array_equal(fa[:, :2], fb[:, :2]) or \
                        not np.allclose(fa[:, 2], fb[:, 2], rtol=1e-7, atol=0.0):
                    continue
                if values is None:  # the network's own reactions, not LNA channels
                    values = np.array([net.rates(p) for p in points])
                if _is_symmetric(net, a, b, points, values, nc_r, nc_p, rtol, by_key,
                                 sorted(touched[a] | touched[b])):
                    cls.append(b)
                    break
            else:
                classes.append([b])
        for cls in classes:
            cls.sort()
            found.extend((cls[i], cls[j]) for i in range(len(cls))
                         for j in range(i + 1, len(cls)))
    found.sort()
    ids = net.species_ids
    return [(ids[a], ids[b]) for a, b in found]


def _touched_reactions(net: ReactionNetwork, nc_r, nc_p) -> list[set]:
    """Per species: the reactions whose stoichiometry or rate law involves it (a swap of
    two species leaves every other reaction unchanged)."""
    from .. import expr as ex

    touched: list[set] = [set() for _ in range(net.n_species)]
    index = net.species_index
    for j, r in enumerate(net.reactions):
        for name in ex.symbols(r.rate):
            i = index.get(name)
            if i is not None:
                touched[i].add(j)
    for i in range(net.n_species):
        touched[i].update(np.flatnonzero((nc_r[i] != 0) | (nc_p[i] != 0)).tolist())
    return touched


def _reaction_key(nc_r, nc_p, j, perm=None) -> tuple:
    def side(mat: np.ndarray) -> tuple:
        idx = np.nonzero(mat[:, j])[0]
        mapped = idx if perm is None else perm[idx]
        return tuple(sorted(zip(mapped.tolist(), mat[idx, j].tolist())))
    return side(nc_r), side(nc_p)


def _is_symmetric(net: ReactionNetwork, a, b, points, values, nc_r, nc_p, rtol, by_key,
                  reactions) -> bool:
    """Does swapping species ``a`` and ``b`` map the network onto itself? Only
    ``reactions`` (those touching ``a`` or ``b``) need a partner; the others are fixed."""
    perm = np.arange(net.n_species)
    perm[a], perm[b] = b, a
    swapped = np.array([net.rates(p[perm]) for p in points])  # v_j(P x)
    allowed = set(reactions)
    used = set()
    for j in reactions:
        # the partner of j has j's reactants and products with a and b exchanged
        match = None
        for k in by_key.get(_reaction_key(nc_r, nc_p, j, perm), ()):
            if k in used or k not in allowed:
                continue
            scale = np.maximum(np.abs(values[:, k]), np.abs(swapped[:, j]))
            if np.all(np.abs(values[:, k] - swapped[:, j]) <= rtol * scale + 1e-300):
                match = k
                break
        if match is None:
            return False
        used.add(match)
    return True
