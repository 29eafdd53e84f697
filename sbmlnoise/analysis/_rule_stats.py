"""Noise statistics of the variables defined by assignment rules (totals, normalised
activities, observables): what a modeller often reads first.

* FSP: exact expectations over the projected distribution,
  ``E g(n/Omega) = sum_n p(n) g(n/Omega)`` and the same for ``g^2`` (error bound of the
  projection as for the species);
* LNA: the first-order delta method, ``Var g ~ grad g . C . grad g`` at the steady state
  (``C`` the LNA covariance of the amounts), marked approximate: valid when the
  fluctuations are small against the curvature of ``g``;
* SSA: sample statistics of ``g`` evaluated on sampled states, with standard errors.
  Stationary: the path of one long run sampled on a regular grid after the burn-in
  (sampling a piecewise-constant path is exact at the sample times), batch means over
  ``n_batches`` contiguous batches (deviations from the global mean, as
  :func:`sbmlnoise.ssa_stationary` does for the species); valid when a batch is much
  longer than the correlation time. At a time point: the states of ``runs`` independent
  runs, standard errors between runs (mean ``sd/sqrt(R)``, variance
  ``sqrt((m4 - v^2)/R)``, sd and CV by the delta method including the covariance
  ``m3/R`` of the sample mean and variance).

Values are in the units of the rule's variable: species defined by a rule in *amounts*
(model substance units), parameters by value -- not counts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .. import expr as ex
from ..errors import SbmlnoiseError
from ..network import ReactionNetwork
from ..stats import NoiseStatistics

__all__ = ["assignment_statistics"]

_COLUMNS = ["variable", "method", "mean", "variance", "sd", "cv", "mean_stderr",
            "variance_stderr", "sd_stderr", "cv_stderr", "approximation"]
_SE = ("mean", "variance", "sd", "cv")


def assignment_statistics(net: ReactionNetwork, statistics: dict[str, NoiseStatistics],
                          artifacts: dict[str, Any]) -> pd.DataFrame | None:
    """One row per (assignment-rule variable, method): the stationary FSP (exact), the LNA
    (delta method) and the SSA (sample statistics with standard errors, stationary or at
    a time point); None when the model has no assignment rules or no such method ran.

    Columns: ``variable``, ``method``, ``mean``, ``variance``, ``sd``, ``cv``, their
    standard errors ``mean_stderr`` ... ``cv_stderr`` (SSA only; NaN for FSP/LNA) and
    ``approximation``. The SSA rows use the sampled states in ``artifacts["ssa_samples"]``
    (see :func:`ssa_rule_rows`) or ``statistics["ssa"].extra["samples"]`` when the SSA
    left them; otherwise the states are re-simulated with the SSA's plan and a seed
    derived from its own (:func:`ssa_samples_for`): an independent run of the same length.
    """
    if not net.assignments:
        return None
    rows: list[dict[str, Any]] = []
    fr = artifacts.get("fsp_result")
    if fr is not None and getattr(fr, "is_stationary", False):
        rows.extend(_fsp_rows(net, fr))
    st = statistics.get("lna")
    if st is not None and st.time is None:
        rows.extend(_lna_rows(net, st))
    ssa_st = statistics.get("ssa")
    if ssa_st is not None:
        samples = artifacts.get("ssa_samples") or ssa_st.extra.get("samples")
        if samples is None:
            try:  # an optional extra: never sink the report (e.g. past the wall time)
                samples = ssa_samples_for(net, ssa_st)
            except (SbmlnoiseError, ValueError, MemoryError):
                samples = None
        if samples is not None:
            rows.extend(ssa_rule_rows(net, samples))
    return pd.DataFrame(rows, columns=_COLUMNS) if rows else None


def _row(var: str, method: str, mean: float, variance: float, approx: str,
         stderr: dict[str, float] | None = None) -> dict[str, Any]:
    variance = max(float(variance), 0.0)
    sd = math.sqrt(variance)
    cv = sd / abs(mean) if mean else math.nan
    row = {"variable": var, "method": method, "mean": float(mean), "variance": variance,
           "sd": sd, "cv": cv, "approximation": approx}
    for q in _SE:
        row[f"{q}_stderr"] = float((stderr or {}).get(q, math.nan))
    return row


def _fsp_rows(net: ReactionNetwork, fr) -> list[dict[str, Any]]:
    p = np.asarray(fr.probabilities, dtype=float)
    if p.ndim != 1:
        return []
    states = np.asarray(fr.states, dtype=float) / float(net.system_size)
    values = np.asarray(net.evaluate_assignments(states), dtype=float)
    out = []
    total = float(p.sum())
    for k, var in enumerate(net.assignment_ids):
        g = values[:, k]
        ok = np.isfinite(g)
        if not ok.all() and float(p[~ok].sum()) > 0:
            continue  # undefined where the distribution has mass
        mean = float(p[ok] @ g[ok]) / total
        second = float(p[ok] @ (g[ok] ** 2)) / total
        out.append(_row(var, "fsp", mean, second - mean * mean, "exact (FSP)"))
    return out


def _lna_rows(net: ReactionNetwork, st: NoiseStatistics) -> list[dict[str, Any]]:
    omega = float(net.system_size)
    ids = list(net.species_ids)
    x = st.mean.reindex(ids).to_numpy(float) / omega
    cov = st.covariance.reindex(index=ids, columns=ids).to_numpy(float) / omega ** 2
    flat = [g for row in net.assignment_gradients for g in row]
    func = ex.compile_vector(flat, net.slots, f"{net.id}.rule_gradients")
    out_buf = np.zeros(len(flat))
    with np.errstate(all="ignore"):
        grads = np.asarray(func(x, np.asarray(net.parameter_values, float), 0.0, out_buf),
                           dtype=float).reshape(len(net.assignments), len(ids))
        values = np.asarray(net.evaluate_assignments(x), dtype=float).ravel()
    rows = []
    for k, var in enumerate(net.assignment_ids):
        g = grads[k]
        if not (np.all(np.isfinite(g)) and math.isfinite(values[k])):
            continue
        rows.append(_row(var, "lna", values[k], float(g @ cov @ g),
                         "first-order delta method around the LNA mean"))
    return rows


# =========================================================================== SSA
#: cap on the samples the re-simulation keeps (samples x species, 8 bytes each)
MAX_SAMPLE_VALUES = 2**22


def ssa_samples_for(net: ReactionNetwork, st: NoiseStatistics) -> dict[str, Any] | None:
    """Sampled states for the SSA rows when the SSA backend did not leave its own: one run
    of the same plan (``t_end``, ``burn_in``, grid step, ``n_batches``) sampled on the
    grid (stationary), or ``runs`` runs to ``time`` (time point), with the seed
    ``SeedSequence([seed_entropy, 12])`` of the SSA's recorded entropy. None when the
    settings do not say how the SSA was run."""
    from ..ssa import ssa
    settings = st.settings or {}
    entropy = settings.get("seed_entropy")
    seed = int(np.random.SeedSequence([int(entropy or 0), 12]).generate_state(1)[0])
    S = max(net.n_species, 1)
    if st.time is not None:
        runs = int(settings.get("runs") or 0)
        if runs < 2:
            return None
        t = float(st.time)
        ens = ssa(net, times=[0.0, t] if t > 0 else [0.0], runs=runs, seed=seed,
                  keep_trajectories=runs, workers=1)
        states = np.asarray(ens.trajectories, dtype=float)[:, -1, :]
        return {"kind": "ensemble", "states": states, "time": t}
    try:
        t_end, burn_in = float(settings["t_end"]), float(settings["burn_in"])
        dt, n_batches = float(settings["dt"]), int(settings.get("n_batches", 32))
    except (KeyError, TypeError, ValueError):
        return None
    n = int(round((t_end - burn_in) / dt))
    stride = max(1, -(-n * S // MAX_SAMPLE_VALUES))  # keep at most MAX_SAMPLE_VALUES
    n_keep = max(n_batches, (n // stride // n_batches) * n_batches)
    times = burn_in + stride * dt * np.arange(n_keep)
    events = float(settings.get("events") or 0)
    ens = ssa(net, times=times, runs=1, seed=seed, keep_trajectories=1, workers=1,
              max_steps=int(max(10.0 * events, 1e6)))
    states = np.asarray(ens.trajectories, dtype=float)[0]
    return {"kind": "grid", "states": states, "n_batches": n_batches}


def ssa_rule_rows(net: ReactionNetwork, samples: dict[str, Any]) -> list[dict[str, Any]]:
    """SSA rows of :func:`assignment_statistics` from sampled molecule counts.

    Parameters
    ----------
    net : ReactionNetwork
    samples : dict
        ``{"kind": "grid", "states": (n, n_species) counts, "n_batches": B}`` -- one
        stationary path sampled on a regular grid (n a multiple of B; batch means), or
        ``{"kind": "ensemble", "states": (R, n_species) counts, "time": t}`` -- the
        states of R independent runs at time ``t`` (between-run errors).

    Returns
    -------
    list of dict
        One row per assignment variable defined on every sampled state, ``method="ssa"``.
        Left out: a variable undefined on some sample (e.g. 0/0), and one whose rule reads
        a parameter changed by events or rate rules (the samples hold counts only).
    """
    states = np.asarray(samples["states"], dtype=float)
    if states.ndim != 2 or states.shape[0] < 2:
        return []
    uniq, inverse = np.unique(states, axis=0, return_inverse=True)
    times = samples.get("time")
    values = np.asarray(net.evaluate_assignments(uniq / float(net.system_size),
                                                 times=times), dtype=float)
    values = values[np.asarray(inverse).ravel()]
    grid = samples.get("kind", "grid") == "grid"
    what = ("sample statistics of one stationary SSA path (batch means)" if grid else
            f"sample statistics of {states.shape[0]} SSA runs (between-run errors)")
    out = []
    moving = _moving_parameters(net)
    for k, (var, tree) in enumerate(net.assignments):
        g = values[:, k]
        if not np.all(np.isfinite(g)) or ex.symbols(tree) & moving:
            continue  # undefined somewhere, or reads a parameter the samples do not carry
        if grid:
            mean, variance, se = _batch_means(g, int(samples.get("n_batches", 32)))
        else:
            mean, variance, se = _between_runs(g)
        out.append(_row(var, "ssa", mean, variance, what, se))
    return out


def _moving_parameters(net: ReactionNetwork) -> set[str]:
    """Parameters that events or rate rules change during a run: a rule reading one cannot
    be evaluated from the sampled counts alone (its SSA row is left out)."""
    species = set(net.species_ids)
    moving = {v for e in net.events for v, _ in e.assignments if v not in species}
    moving |= {v for v, _ in net.rate_rules if v not in species}
    return moving


def _batch_means(g: np.ndarray, n_batches: int) -> tuple[float, float, dict[str, float]]:
    """Time averages of a grid-sampled stationary path and batch-means standard errors
    (deviations from the global mean; ``SE = std(batch values, ddof=1) / sqrt(B)``)."""
    B = max(2, min(int(n_batches), g.size // 2))
    n = (g.size // B) * B
    mean = float(g.mean())
    variance = float(np.mean((g - mean) ** 2))
    batches = g[:n].reshape(B, -1)
    bmean = batches.mean(axis=1)
    bvar = np.mean((batches - mean) ** 2, axis=1)
    bsd = np.sqrt(bvar)
    with np.errstate(divide="ignore", invalid="ignore"):
        bcv = np.where(bmean != 0, bsd / np.abs(bmean), np.nan)
    root = math.sqrt(B)
    se = {"mean": float(np.std(bmean, ddof=1)) / root,
          "variance": float(np.std(bvar, ddof=1)) / root,
          "sd": float(np.std(bsd, ddof=1)) / root,
          "cv": float(np.std(bcv, ddof=1)) / root if mean else math.nan}
    return mean, variance, se


def _between_runs(g: np.ndarray) -> tuple[float, float, dict[str, float]]:
    """Ensemble mean and unbiased variance of R independent values with large-sample
    standard errors: ``Var(mean) = v/R``, ``Var(v) = (m4 - v^2)/R``,
    ``Cov(mean, v) = m3/R``; sd and CV by the delta method."""
    R = g.size
    mean = float(g.mean())
    d = g - mean
    variance = float(d @ d) / (R - 1)
    m3, m4 = float(np.mean(d ** 3)), float(np.mean(d ** 4))
    var_mean, var_v, cov_mv = variance / R, max(m4 - variance ** 2, 0.0) / R, m3 / R
    sd = math.sqrt(variance)
    se = {"mean": math.sqrt(var_mean), "variance": math.sqrt(var_v),
          "sd": math.sqrt(var_v) / (2 * sd) if sd > 0 else math.nan, "cv": math.nan}
    if mean and sd > 0:
        cv = sd / abs(mean)
        rel = var_v / (4 * variance ** 2) + var_mean / mean ** 2 - cov_mv / (mean * variance)
        se["cv"] = cv * math.sqrt(max(rel, 0.0))
    return mean, variance, se


# =========================================================================== time course
def rule_time_course(net: ReactionNetwork, states: np.ndarray,
                     times: np.ndarray) -> pd.DataFrame | None:
    """Ensemble statistics of every assignment-rule variable over time.

    Parameters
    ----------
    net : ReactionNetwork
    states : ndarray, shape (R, T, n_species)
        Molecule counts of R independent SSA runs at the T ``times``.
    times : ndarray, shape (T,)

    Returns
    -------
    pandas.DataFrame or None
        Index ``(time, variable)``; columns ``mean``, ``variance``, ``sd``, ``cv`` and
        their between-run standard errors (as :func:`ssa_rule_rows` at a time point). A
        variable undefined on some sample at a time is NaN there; one reading a parameter
        changed by events or rate rules is left out. None without assignment rules.
    """
    states = np.asarray(states, dtype=float)
    if not net.assignments or states.ndim != 3 or states.shape[0] < 2:
        return None
    R, T, S = states.shape
    flat = states.reshape(R * T, S)
    uniq, inverse = np.unique(flat, axis=0, return_inverse=True)
    tt = np.broadcast_to(np.asarray(times, float)[None, :], (R, T)).reshape(-1)
    moving = _moving_parameters(net)
    keep = [k for k, (_, tree) in enumerate(net.assignments) if not ex.symbols(tree) & moving]
    if any(ex.TIME in ex.symbols(net.assignments[k][1]) for k in keep):
        values = np.asarray(net.evaluate_assignments(flat / float(net.system_size), times=tt))
    else:
        values = np.asarray(net.evaluate_assignments(uniq / float(net.system_size)))
        values = values[np.asarray(inverse).ravel()]
    values = values.reshape(R, T, -1)
    rows = []
    for i, t in enumerate(np.asarray(times, float)):
        for k in keep:
            g = values[:, i, k]
            if np.all(np.isfinite(g)):
                mean, variance, se = _between_runs(g)
                row = _row(net.assignment_ids[k], "ssa", mean, variance, "", se)
            else:
                row = _row(net.assignment_ids[k], "ssa", math.nan, math.nan, "", None)
            row["time"] = float(t)
            rows.append(row)
    if not rows:
        return None
    frame = pd.DataFrame(rows).set_index(["time", "variable"])
    return frame[["mean", "variance", "sd", "cv"] + [f"{q}_stderr" for q in _SE]]


def rule_time_course_for(net: ReactionNetwork, tc: Any) -> pd.DataFrame | None:
    """:func:`rule_time_course` of an analysis' time course (:class:`TimeCourseNoise`):
    its ensemble is simulated again with the same times, runs, SSA method and seed
    entropy, which reproduces the same runs (the SSA's streams depend only on the seed
    and the run index), so these rows describe the runs behind ``tc``."""
    from ..ssa import ssa
    if tc is None or not net.assignments:
        return None
    settings = tc.settings or {}
    runs, entropy = int(settings.get("runs") or 0), settings.get("seed_entropy")
    if runs < 2 or entropy is None:
        return None
    ens = ssa(net, times=np.asarray(tc.times, float), runs=runs, seed=int(entropy),
              keep_trajectories=runs, method=str(settings.get("ssa_method", "auto")),
              workers=1)
    return rule_time_course(net, np.asarray(ens.trajectories, float), ens.times)
