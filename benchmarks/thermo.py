"""Benchmark of sn.thermodynamics (run by hand: ``python benchmarks/thermo.py``).

Network level: a 100-species ring with bimolecular shortcuts and irreversible Michaelis-
Menten channels (310 channels), steady state passed in so that only the thermodynamic
analysis is timed. CME level: the driven open cycle 0 <-> A <-> B <-> 0 with Poisson
means ~ 100-200 (~10^5 FSP states); the FSP solve and the analysis of its state graph
are timed separately, the FSP solve being the peer the analysis should stay well below.
Medians of ``REPEAT`` runs.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd

import sbmlnoise as sn
from sbmlnoise.thermo._cme import analyze_cme

REPEAT = 5


def _median(fn, repeat=REPEAT):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def network_level():
    n = 100
    lines = [f"R{i}: X{i} -> X{(i + 1) % n}; k{i}*X{i} - X{(i + 1) % n}" for i in range(n)]
    lines += [f"B{i}: X{i} + X{(i + 7) % n} -> X{(i + 3) % n}; b*X{i}*X{(i + 7) % n} - "
              f"X{(i + 3) % n}" for i in range(0, n, 2)]
    lines += [f"T{i}: X{i} => X{(i + 11) % n}; c*X{i}/(1 + X{i})" for i in range(0, n, 10)]
    init = "; ".join(f"X{i} = {1 if i == 0 else 0}" for i in range(n))
    init += "\n" + "; ".join(f"k{i} = 1.{i}" for i in range(n)) + "\nb = 1; c = 1"
    net = sn.load("model ring\n" + "\n".join(lines) + f"\n{init}\nend")
    ss = pd.Series(np.linspace(0.1, 1.0, n), index=list(net.species_ids))
    t = _median(lambda: sn.thermodynamics(net, steady_state=ss))
    print(f"network level, {net.n_species} species, {net.n_reactions} channels: "
          f"median {t * 1e3:.0f} ms")


def cme_level():
    net = sn.load("""model driven
R1: -> A; k1 - km1*A
R2: A -> B; k2*A - km2*B
R3: B -> ; k3*B - km3
A = 0; B = 0; k1 = 200; km1 = 1; k2 = 1; km2 = 1; k3 = 1; km3 = 1
end""")
    t0 = time.perf_counter()
    fr = sn.fsp(net, tol=1e-6)
    t_fsp = time.perf_counter() - t0
    t = _median(lambda: analyze_cme(net, fr, rtol=1e-9, atol=1e-12))
    print(f"cme level: {fr.n_states} states, {len(fr.transitions)} transitions: analysis "
          f"median {t * 1e3:.0f} ms; FSP solve {t_fsp * 1e3:.0f} ms (once); ratio "
          f"{t / t_fsp:.2f}")


if __name__ == "__main__":
    network_level()
    cme_level()
