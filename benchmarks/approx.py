"""Approximate stochastic methods: sbmlnoise vs COPASI and GillesPy2, side by side, one core.

Usage::

    python benchmarks/approx.py --quick            # about 1.5-3 minutes on a busy machine
    python benchmarks/approx.py [--repeats 3] [--out docs/performance/approx.md]

What is measured, per model (linear networks, so exact means and variances are known from
the closed moment equations, ``tests/_linear_moments.py``):

* CPU time per run (``time.process_time``, in-process, sbmlnoise with ``workers=1``),
  median over ``--repeats``;
* events-equivalent throughput: the exact SSA's expected number of reaction events per
  run (the integral of the total propensity along the exact mean, from the moment
  equations) divided by CPU time per run;
* accuracy at the last output time: relative error of the mean and of the variance of the
  slowest species against the exact values, with the ensemble's standard error.

Solvers, on the same models, initial states and output times (11 points):

* sbmlnoise ``direct`` (exact reference for speed), ``tau_leap``, ``cle``, ``hybrid``
  (ε = 0.03);
* COPASI's "Stochastic (τ-Leap)" Time-Course method through basico (``bench`` extra): the
  model's SBML (``antimony_to_sbml``) is loaded, its quantity unit set to ``#`` so that
  initial particle numbers equal our counts (asserted), ``Epsilon`` = 0.03 as ours and
  0.001 (COPASI's default, the accurate setting), one seeded run at a time through the
  COPASI task API (``initializeRaw``/``processRaw``, last time-series point), so basico's
  DataFrame construction is not charged to COPASI;
* GillesPy2 ``TauLeapingSolver`` and ``TauHybridSolver`` (pure Python / scipy,
  ``tau_tol=0.03`` as our ε). GillesPy2 gets fewer runs (it is slower); per-run CPU time
  is what is compared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

MODELS = {
    "birth-death (X ~ 1e4)": (
        "model bd; => X; k; X => ; g*X; X = 10000; k = 10000; g = 1; end", 5.0, "X"),
    "two-stage (M ~ 100, P ~ 1e4, burst 10)": (
        "model ts; => M; km; M => ; gm*M; M => M + P; kp*M; P => ; gp*P; M = 100; "
        "P = 10000; km = 100; gm = 1; kp = 10; gp = 0.1; end", 20.0, "P"),
    "multiscale (1 gene, M ~ 100, P ~ 1e4)": (
        "model ms; G0 => G1; kon*G0; G1 => G0; koff*G1; G1 => G1 + M; ktx*G1; "
        "M => ; gm*M; M => M + P; kp*M; P => ; gp*P; G0 = 1; G1 = 0; M = 100; "
        "P = 10000; kon = 0.5; koff = 0.5; ktx = 200; gm = 1; kp = 10; gp = 0.1; end",
        20.0, "P"),
}


def exact_reference(net, times, species):
    """Exact mean/variance at times[-1] and expected events per run."""
    from _linear_moments import linear_moments, linear_parts

    fine = np.linspace(0, times[-1], 401)
    mean, var = linear_moments(net, fine)
    c, K = linear_parts(net)
    rate = (c[None, :] + mean @ K.T).sum(axis=1)
    events = float(np.trapezoid(rate, fine) if hasattr(np, "trapezoid") else np.trapz(rate, fine))
    i = net.index(species)
    return mean[-1, i], var[-1, i], events


def to_gillespy(net):
    """GillesPy2 model of a linear mass-action network (counts, dynamic species)."""
    import gillespy2

    model = gillespy2.Model(name="m")
    for sid, x0 in zip(net.species_ids, net.initial_state):
        model.add_species(gillespy2.Species(name=sid, initial_value=int(x0), mode="dynamic"))
    for j, r in enumerate(net.reactions):
        ma = r.mass_action
        assert ma is not None and sum(o for _, o in ma.orders) <= 1, "linear mass action only"
        k = gillespy2.Parameter(name=f"k{j}", expression=repr(float(ma.rate_constant)))
        model.add_parameter(k)
        reactants = {sid: int(n) for sid, n in r.reactants}
        products = {sid: int(n) for sid, n in r.products}
        model.add_reaction(gillespy2.Reaction(name=f"r{j}", reactants=reactants,
                                              products=products, rate=k))
    return model


COPASI_EPSILON = 0.03


def to_copasi(text, net, times):
    """COPASI data model (via basico) of an Antimony model, set up for tau-leaping.

    The SBML from ``antimony_to_sbml`` has concentrations in a compartment of size 1; the
    model's quantity unit is switched to particle numbers (``#``) so that COPASI's initial
    particle numbers equal sbmlnoise's initial counts (checked), and the Time-Course task
    uses COPASI's "Stochastic (tau-Leap)" method with ``Epsilon`` = our ε, a fixed output
    grid (``times``) and an explicit seed per run.
    """
    import basico
    import COPASI
    from sbmlnoise.importer import antimony_to_sbml

    dm = basico.load_model_from_string(antimony_to_sbml(text))
    basico.set_model_unit(substance_unit="#", model=dm)
    counts = basico.get_species(model=dm)["initial_particle_number"]
    for sid, x0 in zip(net.species_ids, net.initial_state):
        assert abs(counts[sid] - x0) < 1e-6 * max(1.0, x0), (sid, counts[sid], x0)
    task = dm.getTask("Time-Course")
    task.setMethodType(COPASI.CTaskEnum.Method_tauLeap)
    basico.set_task_settings("Time-Course", {
        "problem": {"Duration": float(times[-1]), "StepNumber": len(times) - 1,
                    "AutomaticStepSize": False, "OutputStartTime": 0.0},
        "method": {"Epsilon": COPASI_EPSILON, "Max Internal Steps": 10**8,
                   "Use Random Seed": True}}, model=dm)
    method = basico.get_task_settings("Time-Course", model=dm)["method"]
    assert method["name"] == "Stochastic (\u03c4-Leap)" and method["Epsilon"] == COPASI_EPSILON
    return dm


def copasi_moments(dm, times, runs, seed, species):
    """CPU time per run and the mean and variance of ``species`` (a name, or a list of
    names: then arrays (T, len(species))) at every output time over ``runs`` seeded
    COPASI tau-leap runs (arrays over ``times``).

    The loop drives COPASI's task directly (initialise, process from the initial values,
    read the time series), so basico's per-call Python overhead (building a DataFrame) is
    not charged to COPASI.
    """
    import COPASI

    task = dm.getTask("Time-Course")
    seed_param = task.getMethod().getParameter("Random Seed")
    names = [species] if isinstance(species, str) else list(species)
    values = np.empty((runs, len(times), len(names)))
    cpu = 0.0
    for i in range(runs):
        seed_param.setUIntValue(int(seed) * 100003 + i + 1)
        t0 = time.process_time()
        if not task.initializeRaw(COPASI.CCopasiTask.OUTPUT_UI) or not task.processRaw(True):
            raise RuntimeError("COPASI tau-leap failed: "
                               + COPASI.CCopasiMessage.getAllMessageText())
        cpu += time.process_time() - t0
        ts = task.getTimeSeries()
        if i == 0:
            titles = [ts.getTitle(j) for j in range(ts.getNumVariables())]
            cols = [titles.index(name) for name in names]
            assert ts.getRecordedSteps() == len(times), ts.getRecordedSteps()
            assert abs(ts.getData(ts.getRecordedSteps() - 1, 0) - times[-1]) < 1e-9
        for k in range(len(times)):
            for c, col in enumerate(cols):
                values[i, k, c] = ts.getData(k, col)
    if isinstance(species, str):
        values = values[:, :, 0]
    return cpu / runs, values.mean(axis=0), values.var(axis=0, ddof=1)


def run_copasi(dm, times, runs, seed, species):
    """CPU time per run and final mean/variance of COPASI tau-leap, ``runs`` seeded runs
    (:func:`copasi_moments` at the last output time)."""
    cpu, mean, var = copasi_moments(dm, times, runs, seed, species)
    return cpu, float(mean[-1]), float(var[-1])


def run_sbmlnoise(net, times, runs, method, seed, species):
    """CPU time per run and final mean/variance of ``sn.ssa`` on one worker."""
    import sbmlnoise as sn

    t0 = time.process_time()
    ens = sn.ssa(net, times=times, runs=runs, seed=seed, method=method, workers=1)
    cpu = time.process_time() - t0
    return cpu / runs, float(ens.mean[species].iloc[-1]), float(ens.variance[species].iloc[-1])


def run_gillespy(model, times, runs, solver_name, seed, species):
    """CPU time per run and final mean/variance of a GillesPy2 solver (tau_tol = 0.03)."""
    import gillespy2

    solver_cls = getattr(gillespy2, solver_name)
    model.timespan(np.asarray(times))
    solver = solver_cls(model=model)
    t0 = time.process_time()
    results = solver.run(number_of_trajectories=runs, seed=seed, tau_tol=0.03)
    cpu = time.process_time() - t0
    final = np.array([traj[species][-1] for traj in results])
    return cpu / runs, float(final.mean()), float(final.var(ddof=1))


SOLVERS = [("sbmlnoise direct", "ours", "direct"),
           ("sbmlnoise tau_leap", "ours", "tau_leap"),
           ("sbmlnoise cle", "ours", "cle"),
           ("sbmlnoise hybrid", "ours", "hybrid"),
           ("COPASI tau-leap (ε = 0.03)", "copasi", 0.03),
           ("COPASI tau-leap (ε = 0.001)", "copasi", 0.001),
           ("GillesPy2 TauLeapingSolver", "gp", "TauLeapingSolver"),
           ("GillesPy2 TauHybridSolver", "gp", "TauHybridSolver")]


def measure(kind, method, text, net, times, runs, seed, species):
    """One repeat of one solver: (CPU seconds per run, final mean, final variance)."""
    if kind == "ours":
        return run_sbmlnoise(net, times, runs, method, seed, species)
    if kind == "copasi":
        import basico

        dm = to_copasi(text, net, times)
        basico.set_task_settings("Time-Course", {"method": {"Epsilon": float(method)}},
                                 model=dm)
        try:
            return run_copasi(dm, times, runs, seed, species)
        finally:
            basico.remove_datamodel(dm)
    return run_gillespy(to_gillespy(net), times, runs, method, seed, species)


def bench(quick: bool, repeats: int) -> list[dict]:
    """Run every solver in ``SOLVERS`` on every model in ``MODELS``; one row per pair."""
    import sbmlnoise as sn

    sn.warm_up()
    rows = []
    runs_by_kind = {"ours": 2000, "copasi": 2000, "gp": 4 if quick else 20}
    for label, (text, t_end, species) in MODELS.items():
        net = sn.load(text)
        times = np.linspace(0, t_end, 11)
        m_ex, v_ex, events = exact_reference(net, times, species)
        for name, kind, method in SOLVERS:
            runs = runs_by_kind[kind]
            if quick and kind == "ours" and method == "direct" and events > 5e5:
                runs = 10
            cpus, means, vars_ = [], [], []
            for rep in range(repeats):
                cpu, m, v = measure(kind, method, text, net, times, runs, 100 + rep, species)
                cpus.append(cpu)
                means.append(m)
                vars_.append(v)
            cpu = statistics.median(cpus)
            m, v = float(np.mean(means)), float(np.mean(vars_))
            n = runs * repeats
            rows.append({"model": label, "solver": name, "runs": n, "cpu_per_run": cpu,
                         "events_per_s": events / cpu, "mean_rel": m / m_ex - 1,
                         "mean_se_rel": np.sqrt(v_ex / n) / m_ex, "var_rel": v / v_ex - 1,
                         "var_se_rel": np.sqrt(2.0 / (n - 1)),
                         "events_per_run": events})
            print(f"{label:42s} {name:28s} {cpu * 1e3:9.3f} ms/run "
                  f"{events / cpu / 1e6:8.2f} Mev/s mean {m / m_ex - 1:+.4f} "
                  f"var {v / v_ex - 1:+.3f} (runs {n})", flush=True)
    return rows


SWEEP_EPS = (0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.07, 0.085, 0.1, 0.12, 0.15, 0.17, 0.2,
             0.25, 0.3)
SWEEP_SOLVERS = (("ours", "sbmlnoise tau_leap"), ("trap", "sbmlnoise tau_leap trapezoidal"),
                 ("copasi", "COPASI tau-leap"))
#: ensemble size whose standard errors define "accurate" in the sweep
REFERENCE_RUNS = 2000
#: runs per sweep setting: the measured errors then have a sampling SE of
#: sqrt(2000 / 40000) = 0.22 tolerance; ``--quick`` (10,000 runs, 0.45) is a smoke test
#: whose boundaries are noise, so it reports no speed-up
FULL_SWEEP_RUNS = 40_000


def sweep_tolerances(net, times):
    """Exact means and variances of every species at ``times[1:]`` ((T-1, S) arrays) and
    the tolerances of the sweep: the relative standard errors of a
    ``REFERENCE_RUNS``-run ensemble (mean: sqrt(var / R) / mean; variance:
    sqrt(2 / (R - 1)), normal theory)."""
    from _linear_moments import linear_moments

    m, v = linear_moments(net, times[1:])
    return m, v, np.sqrt(v / REFERENCE_RUNS) / m, np.sqrt(2.0 / (REFERENCE_RUNS - 1))


def sweep_point(kind, eps, text, net, times, runs, seed):
    """CPU time per run and means/variances ((T-1, S): every species) at ``times[1:]`` of
    sbmlnoise's
    ``tau_leap`` (``kind`` "ours": explicit, "trap": ``scheme="trapezoidal"``) or COPASI's
    tau-leap (``kind`` "copasi") at ``eps``."""
    if kind in ("ours", "trap"):
        import sbmlnoise as sn

        scheme = "trapezoidal" if kind == "trap" else "explicit"
        t0 = time.process_time()
        ens = sn.ssa(net, times=times, runs=runs, seed=seed, method="tau_leap", workers=1,
                     epsilon=eps, scheme=scheme)
        cpu = (time.process_time() - t0) / runs
        ids = list(net.species_ids)
        return cpu, ens.mean[ids].to_numpy()[1:], ens.variance[ids].to_numpy()[1:]
    import basico

    dm = to_copasi(text, net, times)
    basico.set_task_settings("Time-Course", {"method": {"Epsilon": float(eps)}}, model=dm)
    try:
        cpu, mean, var = copasi_moments(dm, times, runs, seed, list(net.species_ids))
    finally:
        basico.remove_datamodel(dm)
    return cpu, mean[1:], var[1:]


def sweep(quick: bool, models=None) -> list[dict]:
    """Equal-accuracy comparison of sbmlnoise ``tau_leap`` (explicit and trapezoidal
    schemes) and COPASI's tau-leap (``SWEEP_SOLVERS``).

    For every ε in ``SWEEP_EPS`` each solver runs ``runs`` (40,000; 10,000 with
    ``quick``) seeded runs; its error at an output time is the relative error of the mean
    and of the variance of a species against the exact moments. A setting is *accurate*
    when at every output time after 0 both errors are within the standard error of a
    2,000-run ensemble (``sweep_tolerances``), i.e. its bias could not be seen in the
    ensembles the main table uses -- for every species (``accurate``, the criterion the
    summary uses) and, as in the first version of this sweep, for the model's named
    species alone (``accurate_named``); the measured error has a sampling SE of
    sqrt(2000 / runs) of that tolerance (0.22 at 40,000 runs). A solver's *largest
    accurate* ε is the largest grid value below its first inaccurate one. A solver's
    sweep stops after two inaccurate settings in a row.
    """
    import sbmlnoise as sn

    sn.warm_up()
    runs = 10_000 if quick else FULL_SWEEP_RUNS
    rows = []
    for label in models or list(MODELS)[1:]:
        text, t_end, species = MODELS[label]
        net = sn.load(text)
        times = np.linspace(0, t_end, 11)
        m_ex, v_ex, tol_m, tol_v = sweep_tolerances(net, times)
        ids = list(net.species_ids)
        named = ids.index(species)
        for kind, name in SWEEP_SOLVERS:
            failed = failed_named = False
            misses = 0
            for eps in SWEEP_EPS:
                if misses >= 2:  # two inaccurate settings in a row: larger ones are too
                    break
                cpu, m, v = sweep_point(kind, eps, text, net, times, runs, 7)
                em_s = np.max(np.abs(m / m_ex - 1) / tol_m, axis=0)  # per species
                ev_s = np.max(np.abs(v / v_ex - 1) / tol_v, axis=0)
                worst = int(np.argmax(np.maximum(em_s, ev_s)))
                em, ev = float(em_s.max()), float(ev_s.max())
                ok = em <= 1.0 and ev <= 1.0
                ok_named = em_s[named] <= 1.0 and ev_s[named] <= 1.0
                rows.append({"model": label, "solver": name, "eps": eps, "runs": runs,
                             "cpu_per_run": cpu, "mean_err": em, "var_err": ev,
                             "worst": ids[worst], "species": species,
                             "mean_err_named": float(em_s[named]),
                             "var_err_named": float(ev_s[named]),
                             "accurate": ok, "counted": ok and not failed,
                             "accurate_named": bool(ok_named),
                             "counted_named": bool(ok_named) and not failed_named})
                failed = failed or not ok
                failed_named = failed_named or not ok_named
                misses = 0 if ok_named else misses + 1
                print(f"{label:42s} {name:20s} eps {eps:<5} {cpu * 1e3:8.4f} ms/run "
                      f"max|mean err|/tol {em:5.2f} max|var err|/tol {ev:5.2f} "
                      f"(worst {ids[worst]}; {species} alone {em_s[named]:5.2f} "
                      f"{ev_s[named]:5.2f}) {'accurate' if ok else 'NOT accurate'}",
                      flush=True)
    return rows


def sweep_summary(rows, key: str = "counted") -> list[str]:
    """Markdown: per model, each solver's largest accurate ε, its CPU time per run and
    the speed ratio there (``key`` "counted": every species accurate;
    "counted_named": the model's named species only)."""
    lines = ["| model | solver | largest accurate ε | ms CPU / run there | speed-up over "
             "COPASI at equal accuracy |", "|---|---|---|---|---|"]
    for label in dict.fromkeys(r["model"] for r in rows):
        best = {}
        for _, solver in SWEEP_SOLVERS:
            ok = [r for r in rows if r["model"] == label and r["solver"] == solver
                  and r.get(key, r["counted"])]
            best[solver] = max(ok, key=lambda r: r["eps"]) if ok else None
        cop = best["COPASI tau-leap"]
        for _, solver in SWEEP_SOLVERS:
            r = best[solver]
            if r is None:
                lines.append(f"| {label} | {solver} | none | - | - |")
                continue
            ratio = f"{cop['cpu_per_run'] / r['cpu_per_run']:.1f}x" if cop else "-"
            if r["runs"] < FULL_SWEEP_RUNS:
                ratio = "n/a (--quick: too few runs to decide)"
            lines.append(f"| {label} | {solver} | {r['eps']:g} | "
                         f"{r['cpu_per_run'] * 1e3:.4f} | {ratio} |")
    return lines


def sweep_markdown(rows, quick: bool) -> str:
    """The sweep section (``## Equal accuracy``) of docs/performance/approx.md."""
    load = os.getloadavg()[0]
    lines = ["## Equal accuracy: each solver at its largest accurate ε", "",
             f"Generated by `python benchmarks/approx.py --sweep{' --quick' if quick else ''}` "
             f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (load average "
             f"{load:.1f}), {rows[0]['runs']:,} seeded runs per setting, one core, CPU "
             "time. Errors are the largest over the 10 output times after 0 and over all "
             "species (the species where the larger is reached: *worst*), in units of the "
             "tolerance: the relative standard error "
             f"of a {REFERENCE_RUNS:,}-run ensemble at that time (variance: "
             f"{np.sqrt(2.0 / (REFERENCE_RUNS - 1)):.3f}; mean: sqrt(var / {REFERENCE_RUNS})"
             " / mean from the exact moments). A setting is accurate when both are <= 1; "
             "a solver's largest accurate ε is the largest grid value below its first "
             "inaccurate one (the settings up to it in bold). A solver's sweep stops after "
             "two inaccurate settings in a row of the named species. **Every species "
             "accurate** (the criterion of record):", ""]
    lines += sweep_summary(rows)
    lines += ["", "The first version of this sweep judged the named species (P) alone; "
              "by that criterion (which misses an error in the mRNA's variance):", ""]
    lines += sweep_summary(rows, "counted_named")
    lines += ["", "| model | solver | ε | ms CPU / run | max mean err / tol | "
              "max variance err / tol | worst | P alone: mean, variance err / tol | "
              "accurate (all; P alone) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        eps = f"**{r['eps']:g}**" if r["counted"] else f"{r['eps']:g}"
        lines.append(f"| {r['model']} | {r['solver']} | {eps} | "
                     f"{r['cpu_per_run'] * 1e3:.4f} | {r['mean_err']:.2f} | "
                     f"{r['var_err']:.2f} | {r['worst']} | {r['mean_err_named']:.2f}, "
                     f"{r['var_err_named']:.2f} | {'yes' if r['accurate'] else 'no'}; "
                     f"{'yes' if r['accurate_named'] else 'no'} |")
    return "\n".join(lines) + "\n"


def write_sweep(rows, path: Path, quick: bool) -> None:
    """Replace (or append) the ``## Equal accuracy`` section of ``path``."""
    from sbmlnoise._io import atomic_write

    old = path.read_text(encoding="utf-8") if path.exists() else ""
    head = "\n## Equal accuracy"
    start = old.find(head)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + sweep_markdown(rows, quick)
    else:
        nxt = old.find("\n## ", start + len(head))
        tail = old[nxt:] if nxt >= 0 else ""
        new = old[:start] + "\n" + sweep_markdown(rows, quick) + tail
    atomic_write(path, new)


def _fmt(x: float) -> str:
    """Three significant figures, without exponent notation."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def write_markdown(rows, path: Path, quick: bool, repeats: int) -> None:
    """Write the table to ``path``; hand-written sections after it (from the first
    ``## `` heading) in an existing file are kept."""
    tail = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        cut = old.find("\n## ")
        tail = old[cut:] if cut >= 0 else ""
    load = os.getloadavg()[0]
    lines = ["# Approximate stochastic methods vs COPASI and GillesPy2", "",
             f"Generated by `python benchmarks/approx.py{' --quick' if quick else ''} "
             f"--repeats {repeats}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"one core per solver (CPU time), load average {load:.1f} on a shared 2-core "
             "machine. Throughput is events-equivalent: the exact SSA's expected reaction "
             "events per run divided by CPU time per run. Accuracy: relative error of the "
             "mean and variance of the named species at the last output time against the "
             "exact moments (closed moment equations of the linear network), with the "
             "relative standard error of the ensemble (mean SE, variance SE). COPASI: "
             "basico, the same SBML with quantity unit `#` (particle numbers), Time-Course "
             "method \"Stochastic (τ-Leap)\" with the `Epsilon` shown, one seeded run at a "
             "time through COPASI's task API.", "",
             "| model | solver | runs | ms CPU / run | M events-eq / s | mean rel. err (SE) "
             "| variance rel. err (SE) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['solver']} | {r['runs']} | "
                     f"{_fmt(r['cpu_per_run'] * 1e3)} | {_fmt(r['events_per_s'] / 1e6)} | "
                     f"{r['mean_rel']:+.4f} ({r['mean_se_rel']:.4f}) | "
                     f"{r['var_rel']:+.3f} ({r['var_se_rel']:.3f}) |")
    from sbmlnoise._io import atomic_write

    atomic_write(path, "\n".join(lines) + "\n" + tail)


def main() -> None:
    """Command line: run the benchmark, print rows, optionally write the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--sweep", action="store_true",
                        help="equal-accuracy comparison with COPASI over a grid of epsilon")
    args = parser.parse_args()
    if args.sweep:
        rows = sweep(args.quick)
        for line in sweep_summary(rows) + ["", "named species alone:"] + \
                sweep_summary(rows, "counted_named"):
            print(line)
        if args.out:
            write_sweep(rows, Path(args.out), args.quick)
        return
    repeats = args.repeats or (1 if args.quick else 3)
    rows = bench(args.quick, repeats)
    if args.out:
        write_markdown(rows, Path(args.out), args.quick, repeats)


if __name__ == "__main__":
    main()
