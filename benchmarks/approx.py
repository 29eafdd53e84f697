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


def run_copasi(dm, times, runs, seed, species):
    """CPU time per run and final mean/variance of COPASI tau-leap, ``runs`` seeded runs.

    The loop drives COPASI's task directly (initialise, process from the initial values,
    read the last time point of the time series), so basico's per-call Python overhead
    (building a DataFrame) is not charged to COPASI.
    """
    import COPASI

    task = dm.getTask("Time-Course")
    seed_param = task.getMethod().getParameter("Random Seed")
    final = np.empty(runs)
    t0 = time.process_time()
    for i in range(runs):
        seed_param.setUIntValue(int(seed) * 100003 + i + 1)
        if not task.initializeRaw(COPASI.CCopasiTask.OUTPUT_UI) or not task.processRaw(True):
            raise RuntimeError("COPASI tau-leap failed: " + COPASI.CCopasiMessage.getAllMessageText())
        ts = task.getTimeSeries()
        if i == 0:
            col = [ts.getTitle(j) for j in range(ts.getNumVariables())].index(species)
            assert ts.getRecordedSteps() == len(times), ts.getRecordedSteps()
            assert abs(ts.getData(ts.getRecordedSteps() - 1, 0) - times[-1]) < 1e-9
        final[i] = ts.getData(ts.getRecordedSteps() - 1, col)
    cpu = time.process_time() - t0
    return cpu / runs, float(final.mean()), float(final.var(ddof=1))


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
    path.write_text("\n".join(lines) + "\n" + tail, encoding="utf-8")


def main() -> None:
    """Command line: run the benchmark, print rows, optionally write the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    rows = bench(args.quick, repeats)
    if args.out:
        write_markdown(rows, Path(args.out), args.quick, repeats)


if __name__ == "__main__":
    main()
