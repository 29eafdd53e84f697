"""``sbmlnoise scan``: stationary noise over a 1-D or 2-D grid of parameter values."""

from __future__ import annotations

import argparse
import base64
import html
import io
import re
import sys
from pathlib import Path

HELP = "scan parameters: noise statistics over a grid of parameter values (CSV + HTML)"

DESCRIPTION = """\
Evaluates the stationary noise (mean, variance, Fano factor, CV of every species, in
molecule counts) at every point of a grid of parameter values and writes scan.csv (one
row per point and species) and scan.html (curves for a 1-D scan, heat maps for 2-D)
into --out.

ranges (--param ID=RANGE, repeatable; several parameters span their cartesian product):
  ID=start:stop:N      N evenly spaced values
  ID=start:stop:logN   N log-spaced values (start, stop > 0)
  ID=a,b,c             the listed values

examples:
  sbmlnoise scan models/telegraph.ant --param kon=0.1:10:log20
  sbmlnoise scan models/telegraph.ant --param kon=0.1:10:log10 --param koff=1,2,4 --method lna
  sbmlnoise scan model.xml --param k1=1:5:5 --method ssa --seed 1 --workers 2 --out k1-scan
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="SBML (.xml), Antimony (.ant) or COMBINE (.omex) file")
    parser.add_argument("--param", action="append", required=True, metavar="ID=RANGE",
                        help="parameter and its values (see above); repeat for a 2-D scan")
    parser.add_argument("--method", default="auto", choices=["auto", "lna", "fsp", "ssa"],
                        help="noise backend per point (default: auto = FSP, else LNA, else SSA)")
    parser.add_argument("--species", nargs="+", metavar="ID", help="species to report")
    parser.add_argument("--out", metavar="DIR", help="output directory (default: "
                        "./<model-id>-scan)")
    parser.add_argument("--workers", type=int, default=1, help="local worker processes")
    parser.add_argument("--seed", type=int, help="seed of the SSA runs")
    parser.add_argument("--max-states", type=float, default=200_000, dest="max_states",
                        help="largest FSP state space per point (default 2e5)")
    parser.add_argument("--system-size", type=float, dest="system_size",
                        help="molecules per model substance unit (Omega)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def parse_params(items: list[str]) -> dict:
    """``["k=0.1:10:log5", ...]`` -> ``{"k": array, ...}`` (ValueError names the bad item)."""
    from ..studies._scan import parse_range

    out: dict = {}
    for item in items:
        name, sep, rng = item.partition("=")
        name = name.strip()
        if not sep or not name or not rng.strip():
            raise ValueError(f"--param '{item}': write ID=start:stop:N (e.g. k=0.1:10:log20)")
        if name in out:
            raise ValueError(f"--param '{name}' is given twice")
        out[name] = parse_range(rng)
    if len(out) > 2:
        raise ValueError("scan draws 1-D and 2-D grids; give at most two --param options")
    return out


def run(args) -> int:
    from ..importer import load as _load
    from ..studies import scan as _scan

    model = Path(args.model)
    if not model.is_file():
        raise FileNotFoundError(f"model file '{args.model}' does not exist")
    params = parse_params(args.param)
    net = _load(model, system_size=args.system_size)
    frame = _scan(net, params, method=args.method, species=args.species,
                    workers=args.workers, seed=args.seed, max_states=int(args.max_states),
                    progress=not args.no_progress and sys.stderr.isatty())
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", net.id or "model")
    out = Path(args.out) if args.out else Path.cwd() / f"{safe}-scan"
    paths = write_scan(frame, out, title=f"Parameter scan of model '{net.id}'")
    failed = int((frame["error"] != "").sum()) if "error" in frame.columns else 0
    n_points = len(frame) // max(1, frame["species"].nunique())
    print(f"{n_points} points x {frame['species'].nunique()} species"
          + (f"; {failed} rows failed (see the error column)" if failed else ""))
    print(f"table:  {paths['csv']}")
    print(f"report: {paths['html']}")
    return 0


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em}h1{font-size:1.6em}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .55em;text-align:right}th{background:#f3f3f3}
.note{color:#555;font-size:.9em}img{max-width:100%;height:auto;border:1px solid #eee}"""


def write_scan(frame, directory, title: str = "Parameter scan") -> dict:
    """Write ``scan.csv`` and a self-contained ``scan.html`` (figures as base64 PNGs)
    through the atomic writer. Returns ``{"csv": path, "html": path}``."""
    from .._io import atomic_write
    from ..plots import plot_scan

    directory = Path(directory)
    csv_path = atomic_write(directory / "scan.csv", frame.to_csv(index=False))
    params = list(frame.attrs.get("parameters") or [])
    sections = []
    if len(params) in (1, 2):
        for measure in ("fano", "cv", "mean"):
            if frame[measure].notna().any():
                img = _png(plot_scan(frame, measure))
                sections.append(f"<h2>{html.escape(measure)}</h2><img alt=\"{measure}\" "
                                f"src=\"data:image/png;base64,{img}\">")
    table = frame.to_html(index=False, float_format=lambda v: f"{v:.6g}", border=0)
    doc = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
           f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
           f"<p class=\"note\">Method: {html.escape(str(frame.attrs.get('method', '')))}; "
           f"parameters: {html.escape(', '.join(params))}; all numbers are molecule counts "
           "(Fano = variance/mean, CV = sd/mean).</p>"
           + "".join(sections) + f"<h2>Table</h2>{table}</body></html>\n")
    html_path = atomic_write(directory / "scan.html", doc)
    return {"csv": csv_path, "html": html_path}
