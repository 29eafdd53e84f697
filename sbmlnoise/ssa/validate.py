"""``validate=True``: compare an approximate method with the exact SSA at a small size."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

#: reaction events the exact validation run may use (whole ensemble)
VALIDATION_EVENTS = 2e6
#: runs of each validation ensemble (at most)
VALIDATION_RUNS = 400
#: |z| above which a difference counts as significant
Z_LIMIT = 4.0
#: known O(epsilon) bias allowed on top: relative, in units of epsilon
BIAS_MEAN = 1.0
BIAS_VAR = 2.0


def validate_approximation(result, net, variant, approx_options, times, runs, seed,
                           max_count, *, run):
    """Rerun the exact SSA and ``variant`` at system size ``f * Omega`` with ``f <= 1``
    chosen so the exact ensemble needs about :data:`VALIDATION_EVENTS` events, and
    compare means and variances at every output time by z-scores
    ``(approx - exact) / sqrt(se_a^2 + se_e^2)`` (normal-theory standard errors).

    At a smaller system size the approximations are, if anything, worse, so passing
    here is conservative for the size the user asked about. Returns a copy of
    ``result`` with ``settings["validation"]`` (summary) and ``extra["validation"]``
    (DataFrame: time, species, means, variances, z-scores). ``run`` is the ensemble
    front door (:func:`sbmlnoise.ssa.ssa`; passed in, so this module does not import it).
    """
    from .approx import scaled_network
    ssa = run

    n_runs = int(min(runs, VALIDATION_RUNS))
    per_run = max(result.settings["events"] / max(runs, 1), 1.0)
    factor = float(min(1.0, VALIDATION_EVENTS / (per_run * n_runs)))
    small = net if factor >= 1.0 else scaled_network(net, factor)
    base = 0 if seed is None else (int(seed) if np.isscalar(seed) else 0)
    common = dict(times=times, runs=n_runs, workers=None, max_count=max_count)
    exact = ssa(small, seed=base + 7919, method=_exact(small), **common)
    approx = ssa(small, seed=base + 104729, method=variant.name, **common, **approx_options)
    rows = []
    for t in times:
        for sid in net.species_ids:
            me, ma = exact.mean.loc[t, sid], approx.mean.loc[t, sid]
            ve, va = exact.variance.loc[t, sid], approx.variance.loc[t, sid]
            se_m = np.hypot(exact.stderr["mean"].loc[t, sid], approx.stderr["mean"].loc[t, sid])
            se_v = np.hypot(exact.stderr["variance"].loc[t, sid],
                            approx.stderr["variance"].loc[t, sid])
            rows.append({"time": float(t), "species": sid, "mean_exact": me, "mean_approx": ma,
                         "z_mean": (ma - me) / se_m if se_m > 0 else (0.0 if ma == me else np.inf),
                         "variance_exact": ve, "variance_approx": va,
                         "z_variance": (va - ve) / se_v if se_v > 0 else
                         (0.0 if va == ve else np.inf)})
    table = pd.DataFrame(rows)
    eps = float(approx.settings["approximation"]["options"]["epsilon"])
    se_m = np.abs(table["mean_approx"] - table["mean_exact"]) / np.abs(table["z_mean"])
    se_v = np.abs(table["variance_approx"] - table["variance_exact"]) / np.abs(
        table["z_variance"])
    ok_m = (np.abs(table["mean_approx"] - table["mean_exact"])
            <= Z_LIMIT * se_m.fillna(0) + BIAS_MEAN * eps * np.abs(table["mean_exact"]))
    ok_v = (np.abs(table["variance_approx"] - table["variance_exact"])
            <= Z_LIMIT * se_v.fillna(0) + BIAS_VAR * eps * np.abs(table["variance_exact"]))
    table["within"] = ok_m & ok_v
    worst_m = float(np.nanmax(np.abs(table["z_mean"]))) if len(table) else 0.0
    worst_v = float(np.nanmax(np.abs(table["z_variance"]))) if len(table) else 0.0
    summary = {"system_size_factor": factor, "system_size": float(small.system_size),
               "runs": n_runs, "exact_method": exact.method,
               "max_abs_z_mean": worst_m, "max_abs_z_variance": worst_v,
               "z_limit": Z_LIMIT, "bias_allowance": {"mean": BIAS_MEAN * eps,
                                                      "variance": BIAS_VAR * eps},
               "passed": bool(table["within"].all()),
               "note": ("exact SSA vs the same approximation at a system size small enough "
                        "for the exact SSA; a (time, species) passes when the difference is "
                        "within z_limit standard errors plus the relative bias allowance "
                        "(epsilon on means, 2 epsilon on variances)")}
    settings = {**result.settings, "validation": summary}
    extra = {**result.extra, "validation": table}
    return dataclasses.replace(result, settings=settings, extra=extra)


def _exact(net) -> str:
    from ._select import select_method

    return select_method("auto", net.n_reactions).name
