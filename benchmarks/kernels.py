"""SSA kernel throughput of one source tree, for before/after comparisons of kernel edits.

Usage::

    python benchmarks/kernels.py [--root PATH] [--repeats 5] [--quick]

``--root`` is the checkout whose ``sbmlnoise`` is imported (default: this one), so two
trees can be compared back to back on a busy machine (run them alternately and compare
medians)::

    python benchmarks/kernels.py --root /work/main; python benchmarks/kernels.py

What is measured (one thread, ``time.process_time``, median over ``--repeats``):

* exact SSA, events per CPU second: birth-death and telegraph without events (the
  ``benchmarks/ssa.py`` part 1 models), and birth-death / telegraph with a state-triggered
  and a time event (the event paths of ``_run_record`` / ``_advance``), as ensembles and
  with ``ssa_stationary``;
* approximate methods, runs per CPU second: tau-leaping, CLE and hybrid on birth-death
  (X ~ 1000) and a multiscale gene-expression model, and on a two-stage model with events.

Numbers are only comparable within one invocation pair on the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BD = "model bd; => X; k; X => ; g*X; X = 100; k = 100; g = 1; end"
TELEGRAPH = ("model t; G0 => G1; kon*G0; G1 => G0; koff*G1; G1 => G1 + M; ktx*G1; "
             "M => ; g*M; G0=1; G1=0; M=0; kon=1; koff=2; ktx=100; g=1; end")
BD_EVENTS = ("model bd; => X; k; X => ; g*X; X = 0; k = 100; g = 1; "
             "E2: at X > 150: X = X - 20; E1: at time >= 5: k = 2*k; end")
TELEGRAPH_EVENTS = TELEGRAPH.replace("end", "E1: at M > 80: M = 40; end")
BD_BIG = "model bd; => X; k; X => ; g*X; X = 0; k = 1000; g = 1; end"
MULTI = ("model ms; G0 => G1; kon*G0; G1 => G0; koff*G1; G1 => G1 + M; ktx*G1; "
         "M => ; gm*M; M => M + P; kp*M; P => ; gp*P; G0 = 1; G1 = 0; M = 100; "
         "P = 10000; kon = 0.5; koff = 0.5; ktx = 200; gm = 1; kp = 10; gp = 0.1; end")
TS_EVENTS = ("model ts; => M; km; M => ; gm*M; M => M + P; kp*M; P => ; gp*P; M = 5; "
             "P = 5000; km = 5; gm = 1; kp = 50; gp = 0.05; E1: at time >= 1.3: P = 2000; "
             "E2: at M > 12: M = 3; end")

EXACT = [("bd", BD, "direct"), ("telegraph", TELEGRAPH, "direct"),
         ("bd+events", BD_EVENTS, "direct"), ("telegraph+events", TELEGRAPH_EVENTS, "sorting")]
APPROX = [("bd-1000", BD_BIG, "tau_leap"), ("bd-1000", BD_BIG, "cle"),
          ("multiscale", MULTI, "hybrid"), ("two-stage+events", TS_EVENTS, "tau_leap"),
          ("two-stage+events", TS_EVENTS, "hybrid"), ("two-stage+events", TS_EVENTS, "cle")]


def _median_cpu(fn, repeats: int):
    out, cpu = None, []
    for _ in range(repeats):
        c0 = time.process_time()
        out = fn()
        cpu.append(time.process_time() - c0)
    return statistics.median(cpu), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer runs (about 20 s)")
    args = parser.parse_args()
    sys.path.insert(0, args.root)
    import numpy as np

    import sbmlnoise as sn

    scale = 0.3 if args.quick else 1.0
    runs = max(20, int(300 * scale))
    times = np.linspace(0, 10, 11)
    print(f"sbmlnoise from {Path(sn.__file__).parent}")
    for name, text, method in EXACT:
        net = sn.load(text)
        sn.ssa(net, times=[0, 1], runs=2, seed=1, workers=1, method=method)  # compile/load
        sn.ssa_stationary(net, t_end=200, burn_in=1, seed=1, method=method, dt=0.5)
        cpu, ens = _median_cpu(lambda: sn.ssa(net, times=times, runs=runs, seed=1, workers=1,
                                              method=method), args.repeats)
        cpu_s, st = _median_cpu(lambda: sn.ssa_stationary(net, t_end=3000 * scale, burn_in=10,
                                                          seed=1, method=method, dt=0.5),
                                args.repeats)
        print(f"exact  {name:18s} {method:8s} ensemble {ens.settings['events'] / cpu:9.3g} "
              f"events/CPU s   stationary {st.settings['events'] / cpu_s:9.3g} events/CPU s")
    for name, text, method in APPROX:
        net = sn.load(text)
        sn.ssa(net, times=[0, 1], runs=2, seed=1, workers=1, method=method)
        n = max(20, int(200 * scale))
        cpu, _ = _median_cpu(lambda: sn.ssa(net, times=times, runs=n, seed=1, workers=1,
                                            method=method), args.repeats)
        print(f"approx {name:18s} {method:8s} {n / cpu:9.3g} runs/CPU s")


if __name__ == "__main__":
    main()
