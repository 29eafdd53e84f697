"""``sbmlnoise demo``: analyse the bundled telegraph model and write its report."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

HELP = "analyse the bundled telegraph (bursting gene) model and write an HTML report"

DESCRIPTION = """\
Runs the full analysis (FSP, LNA, a short SSA cross-check, thermodynamics, bursts) on the
bundled two-state promoter model (telegraph.xml: kon = 0.5, koff = 2, ktx = 20, g = 1;
mean mRNA 4, Fano factor 1 + ktx*koff/((kon+koff)(kon+koff+g)) = 5.571, burst size
ktx/koff = 10, burst frequency kon = 0.5) and prints the path of report.html.

examples:
  sbmlnoise demo
  sbmlnoise demo --out /tmp/telegraph-report --seed 7
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", default="telegraph-report",
                        help="report directory (default: ./telegraph-report)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the SSA runs (default 1)")


def telegraph_path() -> Path:
    """The bundled telegraph model: package data first, then the repository's models/."""
    try:
        candidate = resources.files("sbmlnoise").joinpath("data", "telegraph.xml")
        if candidate.is_file():
            return Path(str(candidate))
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    repo = Path(__file__).resolve().parents[2] / "models" / "telegraph.xml"
    if repo.is_file():
        return repo
    raise FileNotFoundError("the bundled telegraph model is missing (looked for "
                            "sbmlnoise/data/telegraph.xml and models/telegraph.xml)")


def run(args) -> int:
    from ..analysis import analyze as _analyze
    from ..report._terminal import compile_notice, terminal_summary

    path = telegraph_path()
    compile_notice()
    rep = _analyze(path, method="auto", seed=args.seed)
    paths = rep.write(Path(args.out))
    print(terminal_summary(rep))
    print(f"report: {Path(paths['html']).resolve()}")
    return 0
