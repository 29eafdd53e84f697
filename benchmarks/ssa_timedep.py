"""Throughput of the exact SSA for time-dependent laws, rate rules and delays
(sbmlnoise/ssa/_timedep.py), one thread, warm numba cache.

Usage::

    python benchmarks/ssa_timedep.py [--runs 2000]

Prints events per CPU second for four small models (the ones of
tests/test_ssa_timedep.py). Numbers are recorded in docs/performance/ssa.md.
"""

from __future__ import annotations

import argparse
import time

import sbmlnoise as sn

MODELS = {
    "sin birth (time in law)": ("model a; => X; k0*(1 + sin(w*time)); X => ; g*X; "
                                "k0 = 10; w = 1.3; g = 0.7; X = 0; end", 6.0),
    "rate rule k' = a cos(wt)": ("model b; => X; k; X => ; g*X; k' = a*cos(w*time); "
                                 "k = 10; a = 5; w = 1; g = 0.7; X = 0; end", 6.0),
    "delayed event": ("model c1; => X; k; X => ; g*X; E1: at 1 after time >= 2: X = X + 10; "
                      "k = 10; g = 0.7; X = 0; end", 6.0),
    "delayed degradation": ("model d1; species X = 0, G = 0; R1: -> X; k*G; "
                            "R2: X -> ; delay(k*G, tau); E0: at (time >= 0), t0=false: G = 1; "
                            "k = 20; tau = 1.5; end", 6.0),
    "birth-death (no time dependence)": ("model e1; => X; 10; X => ; 0.7*X; X = 0; end", 6.0),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    print("| model | runs | events | CPU s | events per CPU s |")
    print("|---|---|---|---|---|")
    for name, (text, t_end) in MODELS.items():
        net = sn.load(text)
        sn.ssa(net, times=[0.0, t_end], runs=2, seed=0, workers=1)  # load kernels
        c0 = time.process_time()
        ens = sn.ssa(net, times=[0.0, t_end], runs=args.runs, seed=1, workers=1)
        cpu = time.process_time() - c0
        ev = ens.settings["events"]
        print(f"| {name} | {args.runs} | {ev} | {cpu:.2f} | {ev / cpu:.3g} |")


if __name__ == "__main__":
    main()
