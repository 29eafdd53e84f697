"""Evaluator benchmark for the operator table (issue 11): the SSA bytecode interpreter
and the compiled Python evaluator on laws that are *not* mass action.

Usage::

    python benchmarks/expr_eval.py [--repeats 3] [--quick]

1. SSA events per CPU second on three interpreter-path models (one thread): a Hill
   repressor, a Michaelis-Menten degradation with a piecewise switch, and a law with
   exp/ln/trig functions. Every channel goes through the interpreter (``_eval``).
2. Microseconds per call of ``net.rate_function()`` (the ODE right-hand side's rates,
   built by :func:`sbmlnoise.expr.compile_vector`) on the same models.

CPU time (``time.process_time``) medians; the machine is shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sbmlnoise as sn  # noqa: E402

MODELS = {
    "hill": ("model h; => P; b + v*K^n/(K^n + P^n); P => ; g*P; P = 20; b = 1; v = 60; "
             "K = 30; n = 3; g = 1; end", 20.0, 200),
    "mm-switch": ("model m; => S; piecewise(kin, S < 80, kin/2); S => ; vm*S/(km + S) "
                  "+ g*S; S = 50; kin = 50; vm = 20; km = 10; g = 0.5; end", 20.0, 200),
    "functions": ("model f; => X; k*(2 + sin(X/10))*exp(-X/200); X => ; g*X*ln(1 + X)/"
                  "ln(2 + X); X = 30; k = 40; g = 1; end", 20.0, 200),
}


def cpu_median(fn, repeats):
    values = []
    for _ in range(repeats):
        c0 = time.process_time()
        out = fn()
        values.append(time.process_time() - c0)
    return statistics.median(values), out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    print("| model | SSA events/CPU s (interpreter) | rates() us/call |")
    print("|---|---|---|")
    for name, (text, t_end, runs) in MODELS.items():
        net = sn.load(text)
        runs = max(2, int(runs * scale))
        times = np.linspace(0, t_end, 11)
        sn.ssa(net, times=times, runs=2, seed=0, workers=1, method="direct")
        sec, ens = cpu_median(lambda: sn.ssa(net, times=times, runs=runs, seed=1, workers=1,
                                             method="direct"), args.repeats)
        rates = net._rate_function
        x = np.asarray(net.initial_state, float)
        p = np.asarray(net.parameter_values, float)
        out = np.zeros(net.n_reactions)
        n_calls = max(1000, int(20000 * scale))

        def loop():
            for _ in range(n_calls):
                rates(x, p, 0.0, out)

        rsec, _ = cpu_median(loop, args.repeats)
        print(f"| {name} | {ens.settings['events'] / sec:.3g} | {1e6 * rsec / n_calls:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
