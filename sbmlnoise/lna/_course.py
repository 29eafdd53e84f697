"""Time-dependent LNA of models that move: rate rules, events and time in the laws.

The plain time-dependent LNA (:func:`sbmlnoise.lna` with ``t=``) integrates the mean and
covariance of the species alone. Curated models also carry

* **rate rules** on parameters, compartment sizes or (boundary) species -- a membrane
  potential, a gating variable, a species written as an ODE. They are deterministic
  variables, but they respond to the molecule-number fluctuations of the species they read,
  and the species respond to them. The LNA of this piecewise-deterministic process takes
  them into the state: with ``z = (species amounts, rate-rule variables)``,

      dz/dt = F(z, t) = (N v(z, t), f(z, t)),
      dC/dt = A C + C A^T + D,   A = dF/dz,   D = (1/Omega) N diag(|v|) N^T  (0 elsewhere),

  ``C`` the covariance of ``z`` in model units (species amounts; counts^2 = Omega^2 C).
  The species have the usual van Kampen noise; a rate-rule variable has none of its own
  (zero rows of ``D``) and inherits the species' fluctuations through ``A``. Exact
  symbolic derivatives (:func:`sbmlnoise.expr.diff`) of every channel rate and rule.
* **events**, which reset the mean and map the covariance through the Jacobian ``G`` of
  their assignments: ``z+ = g(z-)``, ``C+ = G C- G^T`` (a species set to a constant loses
  its variance; ``X = X + 5`` keeps it). The events fire when the *mean* meets the trigger
  (the rate equations' own event handling, :mod:`sbmlnoise.ode._events`, decides when and
  which). Events triggered by time alone (``time >= 300``, the common stimulus) fire at
  the same instant in every cell, so this is exact within the LNA; for a trigger on a
  species the spread of firing times across cells is not represented (stated in the
  result's ``approximation``).
* **time** in kinetic laws and rules, **non-integer stoichiometry** and **non-whole
  amounts**: the LNA is a diffusion approximation in continuous amounts and needs none of
  the exact SSA's whole molecules.

Validity: the LNA is the first order of the system-size expansion (van Kampen 1992;
Elf & Ehrenberg 2003, doi:10.1101/gr.1196503); it needs every fluctuating species to have
many molecules and the fluctuations to stay small against the mean. For an oscillator the
phase diffuses and the LNA variance grows without bound: it is valid while the standard
deviation is small against the oscillation's amplitude. :func:`~sbmlnoise.lna._lna.lna_course` reports the
first time a species' coefficient of variation exceeds :data:`CV_VALID`
(``settings["valid_until"]``).

Not handled (refused with the element named): algebraic rules, fast reactions,
``delay()``, stoichiometries that change, delayed events whose assignments read the state
at trigger time, and events that set a constant parameter from the state.
"""

from __future__ import annotations

import math
import time as _wall

import numpy as np

from .. import expr as ex
from .._blas import single_threaded_blas
from ..errors import SimulationError, UnsupportedFeature
from ..network import ReactionNetwork

#: coefficient of variation beyond which the LNA is reported as no longer valid ...
CV_VALID = 0.5
#: ... for species with at least this many molecules (a Poisson CV of 0.1; a species of a
#: few molecules has a large CV without the expansion failing: the LNA's moments of a
#: first-order network are exact at any count)
VALID_MIN_COUNT = 100.0
#: extended states beyond which the covariance is stepped apart from the mean (:func:`_integrate_split`)
SPLIT_FROM = 8


def course_refusal(net: ReactionNetwork) -> str | None:
    """Why :func:`course_arrays` cannot run ``net`` (None when it can)."""
    for v in net.algebraic_variables:
        return f"'{v}' is determined by an algebraic rule (a constraint, not an LNA state)"
    for f in net.fast_reactions:
        return f"reaction '{f.id}' is fast (kept at equilibrium)"
    if net.has_delays:
        return "delay() in the model: a delay equation has no LNA here"
    for v, _, _ in net.variable_stoichiometry:
        return f"the stoichiometry '{v}' changes with time"
    moving = set(net.species_ids) | set(net.ode_extra_ids)
    kinds = {p.id: p.kind for p in net.parameters}
    extra = set(net.ode_extra_ids)
    for e in net.events:
        for var, tree in e.assignments:
            reads_state = bool(ex.symbols(tree) & moving)
            if kinds.get(var) == "stoichiometry":
                return f"event '{e.id}' changes the stoichiometry '{var}'"
            if e.delay is not None and e.use_values_from_trigger_time and reads_state:
                return (f"event '{e.id}' is delayed and assigns '{var}' a value of the state "
                        "at trigger time (its covariance with the later state is not carried)")
            if var not in net.species_index and var not in extra and reads_state:
                return (f"event '{e.id}' sets the parameter '{var}' from the fluctuating state "
                        "(it would become a random variable the LNA does not carry)")
    return None


class _Extended:
    """Compiled rates, rules and exact derivatives over the extended state
    ``z = (species amounts, rate-rule/extra variables)`` of the rate equations."""

    def __init__(self, net: ReactionNetwork, model) -> None:
        from ._model import problem

        self.net = net
        self.model = model
        #: the split scheme's covariance step, carried from one segment to the next
        self.cov_step: float | None = None
        slots = model.slots
        n_x = model.n_x
        self.n_x = n_x
        prob = problem(net)
        channels = prob.channels
        self.n_c = len(channels)
        stoich = np.zeros((n_x, self.n_c))
        stoich[:net.n_species] = prob.stoichiometry
        self.stoich = stoich
        self.split = prob.split
        self.unsplit = prob.unsplit_reversible
        variables = {name for name, (arr, _) in slots.items() if arr == "x"}
        rules = [(slots[v][1], tree) for v, tree in net.rate_rules]
        self.rr_index = np.array([i for i, _ in rules], dtype=np.intp)
        rates = [c.rate for c in channels]
        self._rates = ex.compile_vector(rates, slots, net.id + ".lna_course_rates")
        self._rules = ex.compile_vector([t for _, t in rules], slots, net.id + ".lna_course_rules")
        self._dv, self._dv_idx = self._derivatives(rates, variables, slots, "dv")
        self._df, self._df_idx = self._derivatives([t for _, t in rules], variables, slots,
                                                   "df")
        self.n_rules = len(rules)

    def _derivatives(self, trees, variables, slots, what):
        rows, cols, exprs = [], [], []
        for r, tree in enumerate(trees):
            for name in sorted(ex.symbols(tree) & variables):
                d = ex.diff(tree, name)
                if d != ex.ZERO:
                    rows.append(r)
                    cols.append(slots[name][1])
                    exprs.append(d)
        func = ex.compile_vector(exprs, slots, f"{self.net.id}.lna_course_{what}")
        return func, (np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp))

    def diffusion(self, v: np.ndarray, omega: float) -> np.ndarray:
        """``D = (1/Omega) N diag(|v|) N^T`` over the extended state (model units; zero
        rows and columns for the rule variables)."""
        return (self.stoich * (np.abs(v) / omega)) @ self.stoich.T

    def _drift(self, z: np.ndarray, p: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """``(F, v)``: drift and channel rates (errors of the laws ignored, as NaN/inf)."""
        v = np.zeros(self.n_c)
        self._rates(z, p, t, v)
        drift = self.stoich @ v
        if self.n_rules:
            f = np.zeros(self.n_rules)
            self._rules(z, p, t, f)
            drift[self.rr_index] += f
        return drift, v

    def drift(self, z: np.ndarray, p: np.ndarray, t: float) -> np.ndarray:
        """``F(z, t)`` alone (the mean's right-hand side)."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self._drift(z, p, t)[0]

    def evaluate(self, z: np.ndarray, p: np.ndarray, t: float):
        """``(F, A, v)``: drift, its Jacobian and the channel rates at ``(z, p, t)``."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            drift, v = self._drift(z, p, t)
            dv = np.zeros(len(self._dv_idx[0]))
            self._dv(z, p, t, dv)
            jv = np.zeros((self.n_c, self.n_x))
            jv[self._dv_idx] = dv
            a = self.stoich @ jv
            if self.n_rules:
                df = np.zeros(len(self._df_idx[0]))
                self._df(z, p, t, df)
                jf = np.zeros((self.n_rules, self.n_x))
                jf[self._df_idx] = df
                a[self.rr_index] += jf
        return drift, a, v


def _event_jacobian(net: ReactionNetwork, model, k: int, z: np.ndarray, p: np.ndarray,
                    t: float) -> np.ndarray:
    """``G = d z+ / d z-`` of event ``k``'s assignments at the state before it."""
    slots = model.slots
    g = np.eye(model.n_x)
    variables = {name for name, (arr, _) in slots.items() if arr == "x"}
    values = dict(zip(model.slots_names, z))
    values.update((pid, float(p[i])) for i, pid in enumerate(net.parameter_ids)
                  if pid not in values)
    values[ex.TIME] = t
    for var, tree in model.events[k].assignments:
        arr, index = slots[var]
        if arr != "x":
            continue
        row = np.zeros(model.n_x)
        for name in ex.symbols(tree) & variables:
            row[slots[name][1]] = ex.evaluate(ex.diff(tree, name), values)
        g[index] = row
    return g


def _segments(net: ReactionNetwork, times: np.ndarray, rtol: float, atol: float,
              wall_time: float | None):
    """Run the rate equations with events once and return ``(model, firings)``: per event
    execution ``(t, k, z_before, p_before, z_after, p_after)`` in execution order."""
    from ..ode._events import _EventModel, _Run

    model = _EventModel(net)
    run = _Run(model, times, rtol, atol, "LSODA", wall_time, 0)
    firings: list = []
    plain_apply = model.apply

    def apply(k, values, x, p):
        before = (x.copy(), p.copy())
        plain_apply(k, values, x, p)
        firings.append((run.t, int(k), before[0], before[1], x.copy(), p.copy()))

    model.apply = apply  # type: ignore[method-assign]
    if net.events:
        run.run()
    return model, firings


def _counted_cv(mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """CV (counts) of the species with at least :data:`VALID_MIN_COUNT` molecules, 0 for
    the others: the quantity the validity rule compares with :data:`CV_VALID`."""
    counted = mean >= VALID_MIN_COUNT
    sd = np.sqrt(np.clip(variance, 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counted, sd / np.where(counted, mean, 1.0), 0.0)


def beyond_validity(mean, variance) -> np.ndarray:
    """The validity rule of the LNA, per species (or per time and species): at least
    :data:`VALID_MIN_COUNT` molecules and a CV above :data:`CV_VALID` (counts)."""
    return _counted_cv(np.asarray(mean, float), np.asarray(variance, float)) > CV_VALID


def _invalid(z: np.ndarray, c: np.ndarray, net: ReactionNetwork, omega: float) -> bool:
    """A species with at least :data:`VALID_MIN_COUNT` molecules has a CV above
    :data:`CV_VALID` (its fluctuations are no longer small against its mean)."""
    n_s = net.n_species
    return bool(np.any(beyond_validity(omega * z[:n_s], omega * omega * np.diagonal(c)[:n_s])))


class _OutOfTime(SimulationError):
    """The course's own wall-time limit passed (``stop_invalid`` keeps what is done)."""


def _check_time(deadline: float | None, ext: "_Extended", what: str, t: float) -> None:
    """:class:`_OutOfTime` once the course's own wall-time limit has passed."""
    if deadline is not None and _wall.perf_counter() > deadline:
        raise _OutOfTime(f"lna: the time-dependent LNA of model '{ext.net.id}' did not "
                              f"finish in time ({what} stopped at t={t:.4g})")


def course_arrays(net: ReactionNetwork, times, *, rtol: float = 1e-6,
                  atol: float | None = None, max_seconds: float | None = None,
                  stop_invalid: bool = False):
    """Time-dependent LNA with rate rules, events and time-dependent laws.

    Parameters
    ----------
    net : ReactionNetwork
    times : array_like
        Sorted, non-negative output times (model time units); integration starts at 0 from
        the initial state with zero covariance.
    rtol, atol : float
        Integrator tolerances (``atol`` in model units; default scaled to the model).
    max_seconds : float, optional
        Wall-time limit; :class:`~sbmlnoise.errors.SimulationError` beyond it.
    stop_invalid : bool
        Stop at the first output time where a species' CV exceeds :data:`CV_VALID` (the
        course then ends at the output time before; ``settings["stopped_at"]`` says where).
        Saves integrating an oscillator's diverging phase variance. Also keep the outputs
        reached when ``max_seconds`` runs out (``settings["cut"]`` says so) instead of
        raising.

    Returns
    -------
    (times, mean, covariance, settings, warnings)
        What :class:`~sbmlnoise.lna.LNATimeCourse` holds (:func:`sbmlnoise.lna._lna.lna_course`
        wraps it): mean and covariance of the species in counts; ``settings["rule_variables"]`` lists
        the rate-rule variables carried in the state, ``settings["rule_mean"]`` and
        ``settings["rule_sd"]`` their mean and standard deviation at the last time,
        ``settings["valid_until"]`` the first time a species' CV exceeds
        :data:`CV_VALID` (None if never), ``settings["events_fired"]`` the executions.

    Raises
    ------
    UnsupportedFeature
        A construct listed in the module docstring.
    """
    from ..ode._solve import _validate_times, default_atol

    reason = course_refusal(net)
    if reason:
        raise UnsupportedFeature(f"lna: {reason}", feature="LNA time course")
    times = _validate_times(times)
    omega = float(net.system_size)
    if atol is None:
        atol = default_atol(net, rtol)
    deadline = None if max_seconds is None else _wall.perf_counter() + float(max_seconds)
    model, firings = _segments(net, times, rtol, atol, max_seconds)
    ext = _Extended(net, model)
    n_x = ext.n_x
    z = model.x0.copy()
    p = model.p0.copy()
    cov = np.zeros((n_x, n_x))
    out_z = np.empty((len(times), n_x))
    out_c = np.empty((len(times), n_x, n_x))
    instants = sorted({f[0] for f in firings})
    fired, done, t0 = 0, 0, 0.0
    stopped = None
    # breakpoints: event instants and output times; an output at an event instant holds
    # the values after it (as sn.simulate_ode)
    cut = None
    for t_stop in sorted({*instants, *(float(v) for v in times)}):
        # an event found a few ulps after an output time: nothing to integrate between
        if t_stop - t0 > 1e-12 * max(1.0, abs(t_stop)):
            try:
                z, cov = _integrate(ext, z, cov, p, t0, t_stop, rtol, atol, deadline, omega)
            except _OutOfTime:
                if not (stop_invalid and done > 1):
                    raise
                cut = f"the time limit stopped the course at t={t0:.4g}"
                stopped = float(times[done - 1])
                break
            t0 = t_stop
        while fired < len(firings) and firings[fired][0] == t_stop:
            _, k, zb, pb, za, pa = firings[fired]
            g = _event_jacobian(net, model, k, zb, pb, t_stop)
            cov = g @ cov @ g.T
            z, p = za.copy(), pa.copy()
            fired += 1
        while done < len(times) and times[done] <= t_stop:
            out_z[done], out_c[done] = z, cov
            done += 1
        if stop_invalid and done and _invalid(out_z[done - 1], out_c[done - 1], net, omega):
            stopped = float(times[done - 1])
            done -= 1
            break
    if stopped is not None:
        times, out_z, out_c = times[:done], out_z[:done], out_c[:done]
        stopped = None if cut else stopped
        if not len(times):
            raise SimulationError(f"lna: the LNA of model '{net.id}' is not valid from the "
                                  "first output time on")
    n_s = net.n_species
    mean = omega * out_z[:, :n_s]
    covariance = omega * omega * out_c[:, :n_s, :n_s]
    covariance = 0.5 * (covariance + np.swapaxes(covariance, 1, 2))
    settings = _course_settings(net, ext, model, times, mean, covariance, out_z, out_c,
                                firings, rtol, atol)
    settings["stopped_at"] = stopped
    settings["cut"] = cut
    return times, mean, covariance, settings, _course_warnings(ext)


def _integrate(ext: _Extended, z, cov, p, t0: float, t1: float, rtol, atol, deadline,
               omega):
    """Mean and covariance from ``t0`` to ``t1`` (no event or output inside).
    Up to :data:`SPLIT_FROM` variables: mean and covariance together by LSODA with the
    exact Jacobian (error control on both); beyond: :func:`_integrate_split`."""
    if ext.n_x > SPLIT_FROM:
        return _integrate_split(ext, z, cov, p, t0, t1, rtol, atol, deadline, omega)
    return _integrate_coupled(ext, z, cov, p, t0, t1, rtol, atol, deadline, omega)


#: initial covariance steps per segment of the split scheme (then adapted)
COV_STEPS = 4
#: local error per covariance step of the split scheme, relative to ``sd_i sd_j`` (the
#: LNA's own error is of order 1/counts; this keeps the numerical error well below the
#: noise it describes)
COV_RTOL = 1e-3
#: Alexander's L-stable two-stage SDIRK (stiffly accurate, second order)
_GAMMA = 1.0 - math.sqrt(0.5)


class _Shifted:
    """Solver of ``X - c (A X + X A^T) = R`` (one implicit stage of the covariance ODE):
    the Lyapunov equation ``M X + X M^T = -R`` with ``M = c A - I/2``, by Bartels-Stewart
    (one real Schur form ``A = U T U^T``, LAPACK ``trsyl`` on the quasi-triangular
    ``c T - I/2``). ``growth`` is the largest real part of ``A``'s eigenvalues."""

    def __init__(self, a: np.ndarray, c: float) -> None:
        from scipy.linalg import schur

        if a.size == 0:  # nothing moves (every direction conserved)
            self.u, self.growth, self.m = a, 0.0, a
            return
        t, self.u = schur(a)
        self.growth = float(np.max(np.diagonal(t)))
        self.m = c * t - 0.5 * np.eye(t.shape[0])

    def solve(self, r: np.ndarray) -> np.ndarray | None:
        from scipy.linalg.lapack import dtrsyl

        u = self.u
        if u.size == 0:
            return r.copy()
        y, scale, info = dtrsyl(self.m, self.m, -(u.T @ r @ u), tranb="T")
        if info < 0 or not scale or not np.all(np.isfinite(y)):
            return None
        x = u @ (y / scale) @ u.T
        return 0.5 * (x + x.T)


class _Frame:
    """Orthogonal coordinates ``T = (U | V)`` of a segment's scaled variables: ``V`` spans
    the conserved directions (``W z`` constant for every conservation law ``W N = 0`` of the
    species; rule variables all move), ``U`` the ``r`` directions the dynamics move in. As
    ``V^T A = 0`` and ``V^T D = 0``, the covariance blocks obey ``C_vv' = 0``,
    ``C_uv' = A_uu C_uv + A_uv C_vv`` and a Lyapunov equation of size ``r`` for ``C_uu``
    (with ``A_uv C_vu + C_uv A_uv^T`` added to ``D_uu``): the stage solves cost ``O(r^3)``
    instead of ``O(n^3)`` (BIOMD0000000088: 75 of 105). ``C_vv`` is zero unless an event
    changed a conserved total by a fluctuating amount."""

    def __init__(self, stoich_scaled: np.ndarray, ruled: np.ndarray) -> None:
        n_x = stoich_scaled.shape[0]
        # the range of the stoichiometry plus the variables that rate rules drive (species
        # or not); columns normalised: only the range matters, and channels of very
        # different sizes must not hide each other
        cols = np.concatenate([stoich_scaled, np.eye(n_x)[:, np.asarray(ruled, np.intp)]],
                              axis=1)
        norms = np.linalg.norm(cols, axis=0)
        cols = cols[:, norms > 0] / norms[norms > 0]
        # variables nothing moves are exact unit vectors of V (their covariance rows are
        # then carried without round-off: exact zeros stay zero)
        moving = np.flatnonzero(np.any(cols != 0, axis=1))
        still = np.flatnonzero(~np.any(cols != 0, axis=1))
        t = np.zeros((n_x, n_x))
        self.r = 0
        if moving.size:
            u, sv, _ = np.linalg.svd(cols[moving], full_matrices=True)
            self.r = int(np.sum(sv > 1e-10 * float(sv[0])))
            t[np.ix_(moving, np.arange(moving.size))] = u
        t[still, moving.size + np.arange(still.size)] = 1.0
        self.t = t

    def rotate(self, c: np.ndarray) -> np.ndarray:
        return self.t.T @ c @ self.t

    def back(self, c: np.ndarray) -> np.ndarray:
        out = self.t @ c @ self.t.T
        return 0.5 * (out + out.T)


def _stage(shift: "_Shifted", c: float, a_uu: np.ndarray, a_uv: np.ndarray,
           d_uu: np.ndarray | None, rhs: np.ndarray) -> np.ndarray | None:
    """``Z = rhs + c F(Z)`` in the frame's coordinates, ``F`` the covariance drift (without
    ``D`` when ``d_uu`` is None: the error filter): ``Z_vv = rhs_vv``, ``Z_uv`` from one
    linear solve, ``Z_uu`` from the Lyapunov solve of :class:`_Shifted`."""
    r = a_uu.shape[0]
    z = rhs.copy()
    forcing = np.zeros((r, r)) if d_uu is None else c * d_uu
    if rhs.shape[0] > r and (np.any(rhs[r:, r:]) or np.any(rhs[:r, r:])):
        try:
            z_uv = np.linalg.solve(np.eye(r) - c * a_uu, rhs[:r, r:] + c * a_uv @ rhs[r:, r:])
        except np.linalg.LinAlgError:
            return None
        z[:r, r:] = z_uv
        z[r:, :r] = z_uv.T
        forcing = forcing + c * (a_uv @ z_uv.T + z_uv @ a_uv.T)
    z_uu = shift.solve(rhs[:r, :r] + forcing)
    if z_uu is None:
        return None
    z[:r, :r] = z_uu
    return z


def _sdirk_step(coefficients, t: float, h: float, y: np.ndarray):
    """One step of the covariance ODE ``dC/dt = A C + C A^T + D`` by Alexander's two-stage
    L-stable SDIRK (Alexander 1977, doi:10.1137/0714068; ``gamma = 1 - 1/sqrt 2``, stiffly
    accurate: the fast covariance modes land on their quasi-static value at the step's
    end, so a stiff ``A`` costs no accuracy), with the embedded first-order solution
    ``y + h k1`` filtered through the stage matrix for the error estimate (Shampine's
    filter, as in Hairer & Wanner's RADAU5). ``coefficients(t)`` gives ``(A_uu, A_uv,
    D_uu)`` in the segment's :class:`_Frame`, ``y`` is in it. Returns ``(y_new, error)`` or
    None when a stage is singular or an unstable mode outgrows the step."""
    g = _GAMMA
    c = g * h
    a_uu, a_uv, d_uu = coefficients(t + c)
    s1 = _Shifted(a_uu, c)
    if c * s1.growth > 0.25:
        return None
    z1 = _stage(s1, c, a_uu, a_uv, d_uu, y)
    if z1 is None:
        return None
    k1 = (z1 - y) / c
    a_uu, a_uv, d_uu = coefficients(t + h)
    s2 = _Shifted(a_uu, c)
    if c * s2.growth > 0.25:
        return None
    z2 = _stage(s2, c, a_uu, a_uv, d_uu, y + (1.0 - g) * h * k1)
    if z2 is None:
        return None
    err = _stage(s2, c, a_uu, a_uv, None, z2 - (y + h * k1))
    if err is None:
        return None
    return z2, err


def _psd(c: np.ndarray) -> np.ndarray:
    """``c`` with its negative eigenvalues set to zero (the nearest covariance matrix in
    the Frobenius norm; a step's error of tolerance size can leave a nearly singular
    covariance -- a species with no noise -- slightly indefinite, and that must not
    accumulate)."""
    live = np.flatnonzero(np.any(c != 0, axis=1))  # rows of exact zeros stay so
    if live.size == 0:
        return c
    sub = c[np.ix_(live, live)]
    try:  # positive definite (the common case): a Cholesky factor is the cheap proof
        np.linalg.cholesky(sub)
        return c
    except np.linalg.LinAlgError:
        pass
    w, v = np.linalg.eigh(sub)
    if w[0] >= 0.0:
        return c
    fixed = (v * np.maximum(w, 0.0)) @ v.T
    out = c.copy()
    out[np.ix_(live, live)] = 0.5 * (fixed + fixed.T)
    return out


def _integrate_split(ext: _Extended, z, cov, p, t0: float, t1: float, rtol, atol, deadline,
                     omega):
    """Large systems: the mean by LSODA with its exact ``n x n`` Jacobian (dense output),
    the covariance by the L-stable SDIRK of :func:`_sdirk_step` with ``A`` and ``D`` from
    the dense mean at each stage time, each stage one Lyapunov solve (:class:`_Shifted`,
    ``O(n^3)``; an implicit solver on the ``n^2`` covariance unknowns as one vector would
    factorise a Kronecker-sum matrix whose LU fills in). Adaptive steps keep the filtered
    local error within ``max(rtol, COV_RTOL)`` of ``sd_i sd_j`` in every entry, and each
    accepted covariance is projected onto the positive semidefinite matrices
    (:func:`_psd`). Variables are scaled to the size of their noise over the segment
    (species: a Poisson sd, at least one molecule), so a potential in mV beside amounts of
    1e-20 mol keeps its diffusion block in round-off, and the covariance is carried in the
    segment's conservation-law frame (:class:`_Frame`: stage solves of the moving
    directions only)."""
    from scipy.integrate import solve_ivp
    from .._deadline import check

    if t1 <= t0:
        return z, cov

    def rhs(tt, y):
        _check_time(deadline, ext, "the mean", tt)
        return ext.drift(y, p, tt)

    n_s = ext.net.n_species
    with single_threaded_blas():
        sol = solve_ivp(rhs, (t0, t1), z, method="LSODA",
                        jac=lambda tt, y: ext.evaluate(y, p, tt)[1], rtol=rtol, atol=atol,
                        dense_output=True)
        if not sol.success:
            raise SimulationError(f"lna: the rate equations of model '{ext.net.id}' failed: "
                                  f"{sol.message}")
        # variables in the scale of their noise (species: the Poisson sd of their largest
        # amount, at least one molecule; rule variables: their value times the species'
        # median relative Poisson sd), so that the stage solves and the positivity
        # projection see entries of comparable size (amounts of 1e-20 mol beside a
        # potential of -60 mV; 1e17 molecules beside none)
        top = np.max(np.abs(np.asarray(sol.y, float)), axis=1)
        sc = np.empty_like(top)
        poisson = np.maximum(top[:n_s], 1.0 / omega) / omega
        sc[:n_s] = np.sqrt(poisson)
        rel = float(np.median(np.sqrt(poisson) / np.maximum(top[:n_s], 1.0 / omega))) \
            if n_s else 1.0
        sc[n_s:] = np.maximum(top[n_s:], 1e-12) * rel
        outer = np.outer(sc, sc)
        ratio = sc[None, :] / sc[:, None]
        frame = _Frame(ext.stoich / sc[:, None], ext.rr_index)
        r, tf = frame.r, frame.t

        def coefficients(tt):
            zm = sol.sol(tt)
            _, a, v = ext.evaluate(zm, p, tt)
            a_rot = tf[:, :r].T @ (a * ratio) @ tf
            d_u = tf[:, :r].T @ (ext.diffusion(v, omega) / outer) @ tf[:, :r]
            return a_rot[:, :r], a_rot[:, r:], d_u

        # variances below a thousandth of a Poisson variance (species) or of (1e-8 x the
        # value)^2 (rule variables) are not resolved by the error control
        floor = np.empty_like(sc)
        floor[:n_s] = 1e-3
        floor[n_s:] = (1e-8 / rel) ** 2
        tol = max(rtol, COV_RTOL)
        y_full = cov / outer
        y = frame.rotate(y_full)
        t = t0
        h = min(ext.cov_step or (t1 - t0) / COV_STEPS, t1 - t0)
        h_min = 1e-14 * max(1.0, abs(t1))
        while t < t1:
            check("lna: the covariance of the time-dependent LNA")
            _check_time(deadline, ext, "the covariance", t)
            last = t + h >= t1 - 1e-12 * max(1.0, abs(t1))
            if last:
                h = t1 - t
            out = _sdirk_step(coefficients, t, h, y)
            if out is None:
                if h <= h_min:
                    raise SimulationError(f"lna: the covariance of model '{ext.net.id}' "
                                          f"cannot be stepped at t={t:.4g}")
                h *= 0.25
                continue
            new, err = out
            new_full, err = frame.back(new), frame.back(err)
            # error relative to sd_i sd_j, the variances the geometric mean of the step's
            # start and end (a step that blows up cannot vouch for itself); a negative
            # variance beyond the tolerance is an error of its size
            before = np.maximum(np.diagonal(y_full), 0.0)
            after = np.diagonal(new_full)
            sd = np.sqrt(np.maximum(np.sqrt(before * np.maximum(after, 0.0)), floor))
            e = float(np.max(np.abs(err) / np.outer(sd, sd)))
            e = max(e, float(np.max(-np.minimum(after, 0.0) / (sd * sd))))
            factor = min(5.0, max(0.2, 0.9 * math.sqrt(tol / e))) if e > 0 else 5.0
            if e <= tol or h <= h_min:
                t = t1 if last else t + h
                y = _psd(new)
                y_full = frame.back(y) if y is not new else new_full
                ext.cov_step = max(h * factor, ext.cov_step or 0.0) if last else h * factor
                h = h * factor
            else:
                h *= factor
    return np.asarray(sol.y[:, -1], float).copy(), y_full * outer


def _integrate_coupled(ext: _Extended, z, cov, p, t0: float, t1: float, rtol, atol,
                       deadline, omega):
    """Small systems: mean and covariance as one ODE system (LSODA, exact dense Jacobian
    ``block_diag(A, A (x) I + I (x) A)``; the covariance's dependence on the mean is left
    out of it, which only slows Newton's convergence)."""
    from scipy.integrate import solve_ivp
    from scipy.linalg import block_diag

    n_x = ext.n_x
    if t1 <= t0:
        return z, cov

    def rhs(tt, y):
        _check_time(deadline, ext, "the integration", tt)
        c = y[n_x:].reshape(n_x, n_x)
        drift, a, v = ext.evaluate(y[:n_x], p, tt)
        d = ext.diffusion(v, omega)
        ac = a @ c
        return np.concatenate([drift, (ac + ac.T + d).ravel()])

    eye = np.eye(n_x)

    def jac(tt, y):
        _, a, _ = ext.evaluate(y[:n_x], p, tt)
        return block_diag(a, np.kron(a, eye) + np.kron(eye, a))

    y0 = np.concatenate([z, cov.ravel()])
    # covariances are of the order of amount / Omega (a Poisson variance; 1/Omega^2 for a
    # species of one molecule): their absolute tolerance is the smaller of atol^2 and
    # atol / Omega (atol^2 alone is only 20x below a Poisson variance at Omega = 1e22)
    tol = np.concatenate([np.full(n_x, atol),
                          np.full(n_x * n_x, max(min(atol * atol, atol / omega), 1e-300))])
    with single_threaded_blas():
        sol = solve_ivp(rhs, (t0, t1), y0, method="LSODA", jac=jac, rtol=rtol, atol=tol)
    if not sol.success:
        raise SimulationError(f"lna: the time-dependent LNA of model '{ext.net.id}' failed: "
                              f"{sol.message}")
    c1 = sol.y[n_x:, -1].reshape(n_x, n_x)
    return sol.y[:n_x, -1].copy(), 0.5 * (c1 + c1.T)


def _course_settings(net, ext, model, times, mean, cov, out_z, out_c, firings, rtol,
                     atol) -> dict:
    n_s = net.n_species
    cv = _counted_cv(mean, np.diagonal(cov, axis1=1, axis2=2))
    bad = np.flatnonzero(np.any(cv > CV_VALID, axis=1))
    invalid = (net.species_ids[int(np.argmax(cv[bad[0]]))] if bad.size else None)
    extra_ids = list(model.slots_names[n_s:])
    rule_sd = np.sqrt(np.clip(np.diagonal(out_c[-1])[n_s:], 0.0, None))
    triggered = sorted({net.events[f[1]].id for f in firings})
    fixed = set(net.parameter_ids) - set(extra_ids)
    state_triggers = [e.id for e in net.events if ex.symbols(e.trigger) - {ex.TIME} - fixed]
    approx = ("time-dependent linear noise approximation (van Kampen system-size expansion, "
              "first order) from the initial state with zero covariance; rate-rule "
              "variables carried as deterministic states driven by the species' noise")
    if net.events:
        approx += ("; events fire when the mean meets the trigger and map the covariance "
                   "through the Jacobian of their assignments")
        if state_triggers:
            approx += (" (the spread of firing times across cells is not represented for "
                       f"events triggered by the state: {', '.join(state_triggers)})")
    return {"system_size": float(net.system_size),
            "system_size_source": net.system_size_source,
            "times": [float(v) for v in times], "rtol": rtol, "atol": float(atol),
            "integrator": ("LSODA, mean and covariance together" if ext.n_x <= SPLIT_FROM
                           else "LSODA mean, exponential covariance steps"),
            "emre": False, "initial_covariance": "zero",
            "split_reactions": list(ext.split),
            "rule_variables": extra_ids,
            "rule_mean": {v: float(out_z[-1, n_s + i]) for i, v in enumerate(extra_ids)},
            "rule_sd": {v: float(rule_sd[i]) for i, v in enumerate(extra_ids)},
            "events_fired": len(firings), "events_triggered": triggered,
            "valid_until": float(times[bad[0]]) if bad.size else None,
            "valid_until_species": invalid, "cv_valid": CV_VALID,
            "approximation": approx}


def _course_warnings(ext: _Extended) -> list[str]:
    return [f"reversible reaction '{name}' has a net rate law that could not be split into "
            "forward and reverse parts; its diffusion uses |v|, which underestimates noise "
            "near equilibrium" for name in ext.unsplit]
