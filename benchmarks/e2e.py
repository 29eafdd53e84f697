"""End-to-end benchmark: ``analyze`` + HTML report per model, and curation throughput.

For every bundled model (``models/*.xml``), the two-stage model of issue 15 (k_m=2,
g_m=0.5, k_p=10, g_p=0.02: protein mean 2,000) and, with ``--biomodels DIR``, every model of
a curated-model folder: the CPU time (``time.process_time``: this process, one core; the
numba cache warmed by one untimed call) of

* ``sn.analyze(net, method="auto", seed=1)`` (with the model already loaded), and
* ``rep.to_html(...)`` (the report alone),

median of ``--repeats`` runs, with the primary method and the status. With ``--curate`` it
also times ``sbmlnoise curate DIR --workers 2 --timeout 120`` (wall clock) and counts the
statuses (models per minute, timeouts).

Usage::

    python benchmarks/e2e.py [--repeats 3] [--biomodels ../shared/biomodels] [--curate]
                             [--out docs/performance/e2e.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, not an installed one

import sbmlnoise as sn  # noqa: E402
TWO_STAGE = ("model two_stage_issue15; => M; k_m; M => ; g_m*M; M => M + P; k_p*M; "
             "P => ; g_p*P; k_m = 2; g_m = 0.5; k_p = 10; g_p = 0.02; M = 0; P = 0; end")


def _time_model(label: str, source, repeats: int, tmp: Path) -> dict:
    row = {"model": label, "status": "ok", "primary": "", "analyze_s": float("nan"),
           "report_s": float("nan"), "reason": ""}
    try:
        net = sn.load(source)
    except sn.SbmlnoiseError as err:
        row.update(status="load: " + type(err).__name__, reason=str(err).splitlines()[0][:90])
        return row
    a_times, r_times = [], []
    for k in range(repeats + 1):
        try:
            t0 = time.process_time()
            rep = sn.analyze(net, method="auto", seed=1, budget=60.0)
            t1 = time.process_time()
            rep.to_html(tmp / f"{label}.html")
            t2 = time.process_time()
        except sn.SbmlnoiseError as err:
            row.update(status=type(err).__name__, reason=str(err).splitlines()[0][:90])
            return row
        if k:  # the first call warms caches
            a_times.append(t1 - t0)
            r_times.append(t2 - t1)
        row["primary"] = rep.primary or ""
    row["analyze_s"] = statistics.median(a_times)
    row["report_s"] = statistics.median(r_times)
    return row


def _curate(directory: Path) -> dict:
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "sbmlnoise", "curate", str(directory),
                               "--workers", "2", "--timeout", "120", "--out", out,
                               "--db", str(Path(out) / "results.sqlite")],
                              capture_output=True, text=True, encoding="utf-8")
        wall = time.perf_counter() - t0
        counts: dict[str, int] = {}
        summary = Path(out) / "summary.csv"
        if summary.exists():
            import csv
            with open(summary, encoding="utf-8", newline="") as fh:
                for r in csv.DictReader(fh):
                    counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    n = sum(counts.values())
    return {"wall_s": wall, "models": n, "per_minute": 60.0 * n / wall if wall else 0.0,
            "statuses": counts, "returncode": proc.returncode}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--biomodels", type=Path, default=None)
    ap.add_argument("--curate", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted((ROOT / "models").glob("*.xml")):
            rows.append(_time_model(path.stem, path, args.repeats, Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
        rows.append(_time_model("two_stage_issue15", TWO_STAGE, args.repeats, Path(tmp)))
        print(json.dumps(rows[-1]), flush=True)
        if args.biomodels:
            for path in sorted(args.biomodels.glob("*.xml")):
                rows.append(_time_model(path.stem, path, 1, Path(tmp)))
                print(json.dumps(rows[-1]), flush=True)
    cur = _curate(args.biomodels) if (args.curate and args.biomodels) else None
    lines = [f"# End-to-end benchmark ({time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
             f"Python {platform.python_version()}, sbmlnoise {sn.__version__})", "",
             "CPU seconds of one process (median of repeats after one warm-up call; one "
             "repeat for curated models): `analyze(method='auto', seed=1, budget=60)` and "
             f"`to_html` alone. Package: `{Path(sn.__file__).parent}`.", "",
             "| model | status | primary | analyze (s) | report (s) | note |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['status']} | {r['primary']} | {r['analyze_s']:.3g} | "
                     f"{r['report_s']:.3g} | {r['reason']} |")
    if cur:
        lines += ["", f"Curation of {args.biomodels} (`--workers 2 --timeout 120`): "
                      f"{cur['models']} models in {cur['wall_s']:.0f} s wall "
                      f"({cur['per_minute']:.1f} models/min); statuses {cur['statuses']}."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
