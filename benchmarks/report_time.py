"""Time of the HTML/JSON/CSV report after ``analyze``, per bundled model (issue 15).

For each model: ``sn.analyze(model, method="auto", seed=1)``, then ``rep.write(dir)``
timed in wall-clock and CPU seconds (the CPU time is the meaningful number on a shared
machine). One warm-up report is written first, so matplotlib's imports and font cache are
not charged to the first model. ``--quick`` (default) times each report once; ``--repeats
N`` reports the median of N writes of the same analysis.

    python benchmarks/report_time.py                 # every bundled model + two-stage big
    python benchmarks/report_time.py --models telegraph repressilator
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TWO_STAGE_BIG = ("model two_stage_big; => M; k_m; M => ; g_m*M; M => M + P; k_p*M; "
                 "P => ; g_p*P; k_m = 2; g_m = 0.5; k_p = 10; g_p = 0.02; M = 0; P = 0; end")


def main(argv=None) -> int:
    import sbmlnoise as sn
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="bundled model names (default: all)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="one write per model (default)")
    args = parser.parse_args(argv)
    names = args.models or sorted(p.stem for p in (ROOT / "models").glob("*.xml"))
    names = list(names) + ([] if args.models else ["two_stage_big"])
    with tempfile.TemporaryDirectory() as tmp:
        sn.analyze("model w; => X; 1; X => ; X; X = 0; end", method="lna",
                   trajectories=1).write(Path(tmp) / "warm")
        print(f"{'model':<20}{'analyze s':>10}{'report s':>10}{'report cpu s':>13}  primary")
        for name in names:
            src = TWO_STAGE_BIG if name == "two_stage_big" else ROOT / "models" / f"{name}.xml"
            t0 = time.perf_counter()
            rep = sn.analyze(src, method="auto", seed=1)
            t_an = time.perf_counter() - t0
            walls, cpus = [], []
            for k in range(max(1, args.repeats)):
                w0, c0 = time.perf_counter(), time.process_time()
                rep.write(Path(tmp) / f"{name}-{k}")
                walls.append(time.perf_counter() - w0)
                cpus.append(time.process_time() - c0)
            print(f"{name:<20}{t_an:>10.2f}{statistics.median(walls):>10.2f}"
                  f"{statistics.median(cpus):>13.2f}  {rep.primary}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
