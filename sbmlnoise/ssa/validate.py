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


def validate_approximation(result, net, variant, approx_options, times, runs, seed,
                           max_count):
    """Rerun the exact SSA and ``variant`` at system size ``f * Omega`` with ``f <= 1``
    chosen so the exact ensemble needs about :data:`VALIDATION_EVENTS` events, and
    compare means and variances at every output time by z-scores
    ``(approx - exact) / sqrt(se_a^2 + se_e^2)`` (normal-theory standard errors).

    At a smaller system size the approximations are, if anything, worse, so passing
    here is conservative for the size the user asked about. Returns a copy of
    ``result`` with ``settings["validation"]`` (summary) and ``extra["validation"]``
    (DataFrame: time, species, means, variances, z-scores).
    """
    from .approx import scaled_network
    from .ensemble import ssa

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
    worst_m = float(np.nanmax(np.abs(table["z_mean"]))) if len(table) else 0.0
    worst_v = float(np.nanmax(np.abs(table["z_variance"]))) if len(table) else 0.0
    summary = {"system_size_factor": factor, "system_size": float(small.system_size),
               "runs": n_runs, "exact_method": exact.method,
               "max_abs_z_mean": worst_m, "max_abs_z_variance": worst_v,
               "z_limit": Z_LIMIT, "passed": bool(worst_m < Z_LIMIT and worst_v < Z_LIMIT),
               "note": ("exact SSA vs the same approximation at a system size small enough "
                        "for the exact SSA; z-scores over all output times and species")}
    settings = {**result.settings, "validation": summary}
    extra = {**result.extra, "validation": table}
    return dataclasses.replace(result, settings=settings, extra=extra)


def _exact(net) -> str:
    from .ensemble import select_method

    return select_method("auto", net.n_reactions).name
