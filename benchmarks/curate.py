"""Throughput of ``sn.curate``: models per minute on the SBML Test Suite semantic cases.

Compares, on the same models and settings:

* ``inline``   -- the peer: a plain serial loop in this process (``sn.load`` +
  ``sn.analyze``; no isolation, a SIGALRM time limit so a hanging model cannot stall it);
* ``curate-1`` -- ``sn.curate(workers=1)``: one fresh worker process per model;
* ``curate-2`` -- ``sn.curate(workers=2)``.

Each configuration runs ``--repeats`` times on a fresh database; the median wall time is
reported with models/minute and the ratio to the inline peer. The fork server's one-time
warm-up is done before timing (a throw-away run of one model).

Usage::

    python benchmarks/curate.py --subset 60 --method lna --repeats 3
    python benchmarks/curate.py --method auto --subset 30 --json bench.json

The machine may be shared: say so when quoting numbers (``os.getloadavg`` is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sbmlnoise as sn  # noqa: E402
from sbmlnoise.curate import curate as _curate  # noqa: E402

SUITE = ROOT.parent / "shared" / "sbml-test-suite" / "semantic"


def suite_models(directory: Path, subset: int | None) -> list[Path]:
    """One SBML file per case (the highest level/version); ``subset`` evenly spaced."""
    cases = sorted(p for p in directory.iterdir() if p.is_dir() and p.name.isdigit())
    files = []
    for case in cases:
        models = sorted(case.glob(f"{case.name}-sbml-l*v*.xml"))
        if models:
            files.append(models[-1])
    if subset and subset < len(files):
        step = len(files) / subset
        files = [files[int(i * step)] for i in range(subset)]
    return files


class _Expired(Exception):
    pass


def _alarm(signum, frame):
    raise _Expired()


def run_inline(files, method, timeout) -> tuple[float, Counter]:
    import warnings

    warnings.simplefilter("ignore")
    counts = Counter()
    old = signal.signal(signal.SIGALRM, _alarm)
    t0 = time.perf_counter()
    try:
        for f in files:
            signal.alarm(int(max(1, timeout)))
            try:
                sn.analyze(sn.load(f), method=method, seed=0)
                counts["ok"] += 1
            except _Expired:
                counts["timeout"] += 1
            except sn.UnsupportedFeature:
                counts["unsupported"] += 1
            except sn.ModelError:
                counts["invalid"] += 1
            except Exception:  # noqa: BLE001 - the peer records, like curate
                counts["error"] += 1
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, old)
    return time.perf_counter() - t0, counts


def run_curate(files, method, timeout, workers) -> tuple[float, Counter]:
    with tempfile.TemporaryDirectory(prefix="sbmlnoise-bench-") as tmp:
        t0 = time.perf_counter()
        res = _curate(files, db=Path(tmp) / "b.sqlite", method=method, timeout=timeout,
                      workers=workers, progress=False)
        elapsed = time.perf_counter() - t0
    return elapsed, Counter({k: v for k, v in res.counts.items() if v})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, default=SUITE)
    ap.add_argument("--subset", type=int, default=60, help="number of cases (0: all)")
    ap.add_argument("--method", default="lna")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--configs", default="inline,curate-1,curate-2")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    files = suite_models(args.suite, args.subset or None)
    if not files:
        print(f"no semantic cases under {args.suite}", file=sys.stderr)
        return 2
    print(f"{len(files)} models from {args.suite}, method={args.method}, "
          f"timeout={args.timeout:g}s, repeats={args.repeats}, cpus={os.cpu_count()}, "
          f"load average at start {os.getloadavg()[0]:.1f}")
    # warm-up: the fork server (and this process for the inline peer) compile once
    run_curate(files[:1], args.method, args.timeout, 1)
    run_inline(files[:1], args.method, args.timeout)

    results = {}
    for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
        times, counts = [], Counter()
        for _ in range(args.repeats):
            if config == "inline":
                t, counts = run_inline(files, args.method, args.timeout)
            else:
                workers = int(config.split("-")[1])
                t, counts = run_curate(files, args.method, args.timeout, workers)
            times.append(t)
        med = statistics.median(times)
        results[config] = {"median_s": med, "times_s": times,
                           "models_per_min": len(files) / med * 60, "counts": dict(counts)}
    peer = results.get("inline", {}).get("median_s")
    print(f"{'config':<10} {'median s':>9} {'models/min':>11} {'vs inline':>10}  statuses")
    for config, r in results.items():
        ratio = f"{peer / r['median_s']:.2f}x" if peer else "-"
        print(f"{config:<10} {r['median_s']:9.2f} {r['models_per_min']:11.1f} {ratio:>10}  "
              f"{dict(sorted(r['counts'].items()))}")
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"n_models": len(files), "method": args.method,
                                         "results": results}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
