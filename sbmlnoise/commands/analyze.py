"""``sbmlnoise analyze``: noise statistics, report and SBML write-back for one model."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HELP = "analyse the noise of one model: statistics, report (JSON/CSV/HTML), SBML write-back"

DESCRIPTION = """\
Stationary noise analysis of an SBML or Antimony model with the finite state
projection (FSP), the linear noise approximation (LNA) and the stochastic simulation
algorithm (SSA), plus a thermodynamic (detailed balance / entropy production) check and
burst estimates. Writes report.json, CSV tables and a self-contained report.html into
--out and prints a summary table. All numbers are molecule counts.

methods:
  auto  FSP if the state space is small enough, else LNA; a short SSA run cross-checks
        (oscillators: SSA)
  all   every backend that applies, with a consistency table
  fsp | lna | ssa   only that backend (fails if it cannot run)

examples:
  sbmlnoise analyze models/telegraph.xml
  sbmlnoise analyze models/telegraph.ant --method all --seed 1 --out telegraph-report
  sbmlnoise analyze model.xml --species M P --annotate model-noise.xml
  sbmlnoise analyze model.xml --method lna --annotate model.xml --in-place
  sbmlnoise analyze models/telegraph.xml --time 2 --method all --ssa-runs 2000
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="SBML (.xml) or Antimony (.ant) file")
    parser.add_argument("--method", default="auto", choices=["auto", "all", "fsp", "lna", "ssa"],
                        help="noise backend(s) (default: auto)")
    parser.add_argument("--species", nargs="+", metavar="ID",
                        help="species to report (default: all)")
    parser.add_argument("--out", metavar="DIR",
                        help="report directory (default: ./<model-id>-report)")
    parser.add_argument("--annotate", metavar="OUT.xml",
                        help="also write the model with the results as SBML annotations")
    parser.add_argument("--in-place", action="store_true",
                        help="with --annotate: allow replacing MODEL itself (atomic)")
    parser.add_argument("--seed", type=int, help="seed of the SSA runs (reproducible)")
    parser.add_argument("--t-end", type=float, dest="t_end",
                        help="length of the stationary SSA run (model time units)")
    parser.add_argument("--burn-in", type=float, dest="burn_in",
                        help="transient discarded from the SSA run")
    parser.add_argument("--ssa-events", type=float, dest="ssa_events",
                        help="event budget of the SSA run (default 3e5 auto, 3e6 ssa/all)")
    parser.add_argument("--max-states", type=float, default=200_000, dest="max_states",
                        help="largest FSP state space tried (default 2e5)")
    parser.add_argument("--time", type=float, metavar="T",
                        help="analyse the distribution at time T from the initial state "
                             "(default: the stationary distribution)")
    parser.add_argument("--ssa-runs", type=int, default=1000, dest="ssa_runs",
                        help="SSA ensemble size with --time (default 1000)")
    parser.add_argument("--system-size", type=float, dest="system_size",
                        help="molecules per model substance unit (Omega)")
    parser.add_argument("--volume", type=float, metavar="LITRES",
                        help="read the model as a cell of this volume in litres at the same "
                             "concentrations, e.g. 1e-15 (exclusive with --system-size)")
    parser.add_argument("--thermo", default="network", choices=["network", "cme", "none"],
                        help="thermodynamic analysis level (default: network)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--wall-time", type=float, default=600.0, dest="wall_time",
                        metavar="SECONDS",
                        help="wall-clock limit of the analysis (default 600; 0 or less: none); "
                             "past it the remaining steps are skipped and a running one stops "
                             "at its next check")
    parser.add_argument("--units", default="count", choices=["count", "concentration"],
                        help="report means, sds, covariances, spectra and distributions as "
                             "molecule counts (default) or as concentrations [X] = molecules "
                             "/ (system size x compartment size) in model units, as "
                             "libRoadRunner; CVs are unit-free and Fano factors stay those "
                             "of the counts (the annotated SBML always records counts)")


def _wall_time(args) -> float | None:
    value = getattr(args, "wall_time", 600.0)
    return None if value is None or value <= 0 else float(value)


def _default_out(model_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id or "model")
    return Path.cwd() / f"{safe}-report"


def run(args) -> int:
    from ..analysis import analyze as _analyze
    from ..importer import load as _load
    from ..report._terminal import (
        check_model_file,
        compile_notice,
        name_file,
        terminal_summary,
    )
    from ..annotate import annotate
    from ..errors import SbmlnoiseError

    model = check_model_file(args.model)
    if args.in_place and not args.annotate:
        raise ValueError("--in-place only applies together with --annotate MODEL")
    same = bool(args.annotate) and Path(args.annotate).resolve() == model.resolve()
    if same and not args.in_place:
        raise ValueError(f"--annotate would overwrite the input '{args.model}'; add "
                         "--in-place to replace it")
    if args.in_place and not same:
        raise ValueError("--in-place replaces MODEL itself: give --annotate the same path "
                         "as MODEL (or drop --in-place to write a new file)")
    try:
        net = _load(model, system_size=args.system_size, volume=args.volume)
    except (SbmlnoiseError, ValueError, UnicodeDecodeError) as err:
        raise type(err)(name_file(str(err), args.model)) if not isinstance(err, UnicodeDecodeError) \
            else ValueError(name_file(f"not UTF-8 text ({err.reason})", args.model)) from None
    if args.method in ("auto", "all", "ssa"):
        compile_notice()
    rep = _analyze(net, method=args.method, species=args.species, seed=args.seed,
                     t_end=args.t_end, burn_in=args.burn_in, ssa_events=args.ssa_events,
                     max_states=int(args.max_states),
                     thermo=None if args.thermo == "none" else args.thermo,
                     time=args.time, ssa_runs=args.ssa_runs,
                     wall_time=_wall_time(args),
                     progress=not args.no_progress and sys.stderr.isatty())
    counts = rep
    if getattr(args, "units", "count") != "count":
        from ..analysis._units import report_in_units
        rep = report_in_units(counts, args.units)
    out = Path(args.out) if args.out else _default_out(rep.model_id)
    paths = rep.write(out)
    print(terminal_summary(rep))
    print(f"report: {paths['html']}")
    print(f"data:   {paths['json']} (+ {len(paths['csv'])} CSV tables in {out})")
    if args.annotate:
        target = annotate(model, counts, None if same else args.annotate, in_place=same)
        print(f"annotated SBML: {target}")
    return 0
