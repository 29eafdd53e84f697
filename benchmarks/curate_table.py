"""Per-model table of a finished ``sbmlnoise curate`` run: status, method, time.

Issue 13 asks for the fraction of curated models that get a noise answer and the time per
model. Run the curation as a user would, then tabulate its database::

    sbmlnoise curate ../shared/biomodels --workers 2 --timeout 120 --db /tmp/bm.sqlite
    python benchmarks/curate_table.py /tmp/bm.sqlite --out docs/performance/curate-biomodels.md

The table reads only the database (``models`` table: status, method, reason, total time
of the worker, peak memory); the wall time of the whole run is the one ``curate`` printed.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
from pathlib import Path


def _rows(db: Path) -> list[dict]:
    conn = sqlite3.connect(str(db))
    try:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(models)")]
        return [dict(zip(cols, r)) for r in conn.execute("SELECT * FROM models ORDER BY name")]
    finally:
        conn.close()


def _cell(text, width: int = 160) -> str:
    text = " ".join(str(text or "").split()).replace("|", "/")
    return text if len(text) <= width else text[:width - 3] + "..."


def table(db: Path, title: str) -> str:
    rows = _rows(db)
    n = len(rows)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    ok = counts.get("ok", 0)
    loads = n - counts.get("invalid", 0)
    times = [float(r["time_total"]) for r in rows if r.get("time_total") is not None]
    lines = [f"# {title}", "",
             f"{n} models; status counts: " + ", ".join(f"{k} {v}" for k, v in
                                                      sorted(counts.items())) + ".",
             f"Noise answer (`ok`) for **{ok} of {loads} models that load "
             f"({100.0 * ok / max(loads, 1):.1f}%)**. Time per model (worker, wall clock): "
             f"median {statistics.median(times):.1f} s, max {max(times):.1f} s." if times else "",
             "", "| model | status | method | time (s) | peak MB | reason |",
             "|---|---|---|---:|---:|---|"]
    for r in rows:
        t = r.get("time_total")
        mem = r.get("peak_memory_mb")
        lines.append(f"| {r['name']} | {r['status']} | {_cell(r.get('method'), 80)} | "
                     f"{'' if t is None else f'{float(t):.1f}'} | "
                     f"{'' if mem is None else f'{float(mem):.0f}'} | "
                     f"{_cell(r.get('reason'))} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("--title", default="Curation of ../shared/biomodels: per model")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    text = table(args.db, args.title)
    if args.out:
        tmp = args.out.with_suffix(args.out.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.out)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
