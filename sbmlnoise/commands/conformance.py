"""``sbmlnoise conformance semantic|stochastic DIR``: score SBML Test Suite folders."""

from __future__ import annotations

import sys

HELP = "score a folder of SBML Test Suite cases (semantic or DSMTS stochastic)"
DESCRIPTION = """\
Run the SBML Test Suite cases in DIR and compare with each case's expected results.

  semantic    reaction-rate equations against NNNNN-results.csv, within the case's
              absolute/relative tolerances
  stochastic  SSA ensembles against the DSMTS means and standard deviations
              (mean statistic in [-3, 3], variance statistic in [-5, 5] at every time point)

Prints one line per case and a summary; --json writes
{"cases": {"00001": {"status": "pass|fail|unsupported|error", "reason": ...}}, "summary": {...}}.
Exit status 0 when no case fails or errors, 1 otherwise.

examples:
  sbmlnoise conformance semantic ../shared/sbml-test-suite/semantic --json semantic.json
  sbmlnoise conformance semantic suite/semantic --cases 1-100,971
  sbmlnoise conformance stochastic ../shared/sbml-test-suite/stochastic --runs 10000
"""


def add_arguments(parser) -> None:
    parser.add_argument("suite", choices=["semantic", "stochastic"], help="which kind of cases")
    parser.add_argument("directory", metavar="DIR", help="folder holding NNNNN/ case folders")
    parser.add_argument("--cases", help="case numbers to run, e.g. '1-20,45' (default: all)")
    parser.add_argument("--runs", type=int, default=10_000,
                        help="SSA runs per stochastic case (default 10000, as in DSMTS)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the stochastic runs")
    parser.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")


def run(args) -> int:
    from ..conformance.common import write_json

    def progress(case_id: str, entry: dict) -> None:
        if not args.quiet:
            reason = f"  {entry['reason']}" if entry.get("reason") else ""
            print(f"{case_id}  {entry['status']:<11}{reason}", flush=True)

    if args.suite == "semantic":
        from ..conformance.semantic import run_semantic
        report = run_semantic(args.directory, cases=args.cases, progress=progress)
    else:
        if args.runs < 1:
            raise ValueError("--runs must be at least 1")
        from ..conformance.stochastic import run_stochastic
        report = run_stochastic(args.directory, runs=args.runs, cases=args.cases,
                                seed=args.seed, progress=progress)
    summary = report["summary"]
    print("summary: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    if args.json:
        write_json(report, args.json)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0 if summary.get("fail", 0) == 0 and summary.get("error", 0) == 0 else 1
