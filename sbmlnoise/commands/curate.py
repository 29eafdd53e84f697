"""``sbmlnoise curate``: analyse a folder of models in isolated, time-limited processes."""

from __future__ import annotations

import argparse
import sys

HELP = "analyse every model in a folder (isolated, resumable, SQLite results)"

DESCRIPTION = """\
Analyse every *.xml, *.sbml and *.ant file under DIR (recursively), each model in its own
worker process with a wall-time and a memory limit, so one pathological model cannot stop
or slow the rest. Each model ends with one status and a one-line reason:
ok | unsupported | invalid | timeout | error.

Results go to an SQLite database (tables `models` and `species_stats`), one transaction
per model. Re-running skips models whose content and settings are already recorded, so a
run interrupted at any moment resumes where it stopped.

examples:
  sbmlnoise curate models/
  sbmlnoise curate biomodels/ --db biomodels.sqlite --out curation --timeout 60
  sbmlnoise curate biomodels/ --method lna --workers 8 --max-memory 4096
  sbmlnoise curate biomodels/ --scheduler tcp://10.0.0.5:8786 --out curation
  sqlite3 results.sqlite "SELECT status, count(*) FROM models GROUP BY status"
"""


def add_arguments(parser) -> None:
    from ..curate._runner import DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT

    parser.add_argument("paths", nargs="+", metavar="DIR",
                        help="folder(s) to search recursively, or model files")
    parser.add_argument("--db", default="results.sqlite",
                        help="SQLite database of results (default: results.sqlite)")
    parser.add_argument("--out", metavar="DIR",
                        help="write index.html, summary.json, summary.csv and per-model "
                             "reports (OUT/models/<name>-<hash>/report.html) here")
    parser.add_argument("--method", default="auto",
                        choices=("auto", "all", "fsp", "lna", "ssa"),
                        help="analysis method, as for 'sbmlnoise analyze' (default: auto)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="models analysed at once on this machine (default: all cores)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask distributed scheduler address (e.g. tcp://host:8786)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                        help=f"wall-time limit per model in seconds (default: "
                             f"{DEFAULT_TIMEOUT:g})")
    parser.add_argument("--max-memory", type=float, default=DEFAULT_MAX_MEMORY, metavar="MB",
                        help=f"memory limit per model in MB (default: {DEFAULT_MAX_MEMORY:g}; "
                             "0 for none)")
    parser.add_argument("--system-size", type=float, metavar="OMEGA",
                        help="molecules per model substance unit (as for 'sbmlnoise "
                             "analyze')")
    parser.add_argument("--volume", type=float, metavar="LITRES",
                        help="read every model as a cell of this volume in litres at the same "
                             "concentrations (as for 'sbmlnoise analyze')")
    parser.add_argument("--cell-volume", type=float, default=1e-15, metavar="LITRES",
                        help="cell-scale volume at which mole-unit models are also reported "
                             "(default 1e-15 = 1 fL; 0 turns it off; see docs/curate.md)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the SSA runs (default 0)")
    parser.add_argument("--annotate", action="store_true",
                        help="also write annotated SBML to OUT/models/<name>-<hash>/"
                             "annotated.xml (beside that model's report.html)")
    # advanced / tests: run MODULE:FUNCTION(job, result, workdir) in each worker instead
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="show a progress bar (default: when stderr is a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false")


def run(args) -> int:
    from ..curate import curate

    if args.annotate and not args.out:
        raise ValueError("--annotate needs --out DIR")
    if args.workers is not None and args.workers < 1:
        raise ValueError("--workers must be at least 1")
    result = curate(args.paths, db=args.db, out=args.out, method=args.method,
                    workers=args.workers, scheduler=args.scheduler, timeout=args.timeout,
                    max_memory=args.max_memory or None, annotate=args.annotate,
                    progress=args.progress, system_size=args.system_size,
                    volume=args.volume, cell_volume=args.cell_volume or None,
                    analyze_options={"seed": args.seed}, worker=args.worker)
    print(result.summary())
    sys.stdout.flush()
    return 0
