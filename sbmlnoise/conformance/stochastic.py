"""Score the SBML Test Suite *stochastic* (DSMTS) cases with the exact SSA.

For each case: import the model, simulate ``runs`` runs at ``start + k * duration/steps``
(``k = 0..steps``) with :func:`sbmlnoise.ssa`, and compare each variable's sample mean
and variance with the expected mean and standard deviation of ``NNNNN-results.csv``
(columns ``X-mean``, ``X-sd``), as the DSMTS prescribes (Evans, Gillespie & Wilkinson,
Bioinformatics 24 (2008) 285, doi:10.1093/bioinformatics/btm566):

* mean statistic ``Z = sqrt(N) (mean_sim - mean) / sd`` must lie in ``meanRange``
  (default [-3, 3]);
* variance statistic ``Y = sqrt(N / 2) (var_sim / sd^2 - 1)`` in ``sdRange``
  (default [-5, 5]);
* where the expected ``sd`` is 0 neither statistic exists: the simulated mean must equal
  the expected mean (to 1e-9 relative) and counts as one checked mean point.

``checked`` counts the statistics evaluated, ``mean_out``/``var_out`` those outside their
range. Since about 0.3 % of mean statistics fall outside [-3, 3] by chance, a case passes
when at most 1 % of its checked statistics (and at most one when fewer than 100 are
checked) fall outside.
"""

from __future__ import annotations

import time as _time
import warnings
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import ModelError, SimulationError, UnsupportedFeature
from .common import Case, discover, summarize


def _expected(case: Case) -> pd.DataFrame:
    frame = pd.read_csv(case.results)
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def score_case(case: Case, runs: int, seed, method: str = "auto", **options) -> dict:
    """Run one DSMTS case; returns the JSON entry of API.md plus counters."""
    from ..importer import load
    from ..ssa import ssa

    started = _time.perf_counter()
    entry = {"status": "error", "reason": "", "checked": 0, "mean_out": 0, "var_out": 0,
             "runs": int(runs)}
    try:
        s = case.settings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = load(case.model)
        start = float(s.get("start") or 0.0)
        duration, steps = float(s["duration"]), int(s["steps"])
        times = np.linspace(start, start + duration, steps + 1)
        ruled = [v for v in s["variables"] if v in net.assignment_ids]
        if ruled:  # keep every run's states to evaluate the rules on them
            options = {**options, "keep_trajectories": int(runs)}
        ens = ssa(net, times=times, runs=runs, seed=seed, method=method, **options)
        rule_moments = _rule_moments(net, ens, times, ruled) if ruled else {}
        expected = _expected(case)
        mean_lo, mean_hi = s.get("meanRange") or (-3.0, 3.0)
        var_lo, var_hi = s.get("sdRange") or (-5.0, 5.0)
        concentration = set(s.get("concentration", []))
        sizes = {c.id: c.size for c in net.compartments}
        n = float(runs)
        checked = mean_out = var_out = 0
        worst = ""
        for var in s["variables"]:
            if var in rule_moments:  # a variable defined by an assignment rule
                sim_mean, sim_var = rule_moments[var]
            elif var not in net.species_index:
                raise UnsupportedFeature(f"output variable '{var}' is neither a species nor "
                                         "defined by an assignment rule", element=var,
                                         feature="output variable")
            else:
                scale = 1.0 / net.system_size
                if var in concentration:
                    comp = net.species[net.index(var)].compartment
                    scale /= sizes.get(comp, 1.0)
                sim_mean = ens.mean[var].to_numpy() * scale
                sim_var = ens.variance[var].to_numpy() * scale**2
            exp_mean = expected[f"{var}-mean"].to_numpy(dtype=float)
            exp_sd = expected[f"{var}-sd"].to_numpy(dtype=float)
            if len(exp_mean) != len(times):
                return {**entry, "status": "error",
                        "reason": f"expected {len(exp_mean)} rows, simulated {len(times)}"}
            for k, t in enumerate(times):
                checked += 1
                if exp_sd[k] == 0:
                    if abs(sim_mean[k] - exp_mean[k]) > 1e-9 * max(1.0, abs(exp_mean[k])):
                        mean_out += 1
                        worst = worst or (f"{var} at t={t:g}: mean {sim_mean[k]:.6g}, "
                                          f"expected exactly {exp_mean[k]:.6g}")
                    continue
                z = np.sqrt(n) * (sim_mean[k] - exp_mean[k]) / exp_sd[k]
                y = np.sqrt(n / 2.0) * (sim_var[k] / exp_sd[k] ** 2 - 1.0)
                checked += 1
                if not mean_lo <= z <= mean_hi:
                    mean_out += 1
                    worst = worst or f"{var} at t={t:g}: mean statistic {z:.2f}"
                if not var_lo <= y <= var_hi:
                    var_out += 1
                    worst = worst or f"{var} at t={t:g}: variance statistic {y:.2f}"
        allowed = max(1, int(0.01 * checked))
        out = mean_out + var_out
        status = "pass" if out <= allowed else "fail"
        reason = "" if out == 0 else (f"{out} of {checked} statistics outside "
                                      f"(allowed {allowed}); first: {worst}")
        entry.update(status=status, reason=reason, checked=checked, mean_out=mean_out,
                     var_out=var_out)
    except UnsupportedFeature as err:
        entry.update(status="unsupported", reason=str(err))
    except (ModelError, SimulationError) as err:
        entry.update(status="error", reason=str(err))
    except Exception as err:  # a runner reports, it does not crash
        entry.update(status="error", reason=f"{type(err).__name__}: {err}")
    entry["seconds"] = round(_time.perf_counter() - started, 4)
    return entry


def _rule_moments(net, ens, times: np.ndarray, ruled: list[str]) -> dict:
    """Sample mean and variance over the runs of each assignment-rule variable in
    ``ruled`` at every output time: the rule evaluated on every run's state (amounts,
    ``counts / system_size``), the SBML value of the variable."""
    traj = np.asarray(ens.trajectories, dtype=float)  # (runs, times, species)
    r, t, n_s = traj.shape
    states = traj.reshape(r * t, n_s) / float(net.system_size)
    values = np.asarray(net.evaluate_assignments(states, np.tile(times, r)), dtype=float)
    values = values.reshape(r, t, -1)
    ids = list(net.assignment_ids)
    out = {}
    for var in ruled:
        v = values[:, :, ids.index(var)]
        out[var] = (v.mean(axis=0), v.var(axis=0, ddof=1))
    return out


def run_stochastic(directory, *, runs: int = 1000, cases: str | None = None, seed=None,
                   progress: Callable[[str, dict], None] | None = None,
                   method: str = "auto", **options) -> dict:
    """Score every DSMTS case under ``directory``; returns the API.md JSON structure.

    Parameters
    ----------
    directory : path
        Folder of case folders ``NNNNN/`` (model, settings, results).
    runs : int
        SSA runs per case (the DSMTS guide uses 10,000).
    cases : str, optional
        Selection like ``"1-20,28"``.
    seed : int, optional
        Case ``NNNNN`` uses the stream ``SeedSequence(seed, spawn_key=(NNNNN,))``;
        ``None`` draws fresh entropy (recorded in the report).
    progress : callable, optional
        ``progress(case_id, entry)`` after each case.
    method, **options
        Passed to :func:`sbmlnoise.ssa` (e.g. ``method="hybrid", epsilon=0.01``) to score
        an approximate method against the same criteria.
    """
    runs = int(runs)
    if runs < 2:
        raise ValueError("runs must be >= 2 (the variance test needs a sample variance)")
    fresh = np.random.SeedSequence().entropy
    entropy = int(fresh if seed is None else seed)  # type: ignore[arg-type]
    results = {}
    for case in discover(directory, cases):
        case_seed = np.random.SeedSequence(entropy, spawn_key=(int(case.id),))
        entry = score_case(case, runs, case_seed, method, **options)
        results[case.id] = entry
        if progress:
            progress(case.id, entry)
    return {"suite": "stochastic", "runs": runs, "seed": entropy, "method": method,
            "options": dict(options), "cases": results,
            "summary": summarize(results)}
