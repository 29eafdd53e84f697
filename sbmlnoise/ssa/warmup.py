"""Load (or compile) every SSA kernel once, e.g. on Dask or curate workers.

numba caches compiled kernels on disk (``cache=True``): by default in ``__pycache__``
beside the sources, or, when that directory is not writable (a system-wide install), in
the user's cache (``~/.cache/numba`` or ``$XDG_CACHE_HOME``). Set ``NUMBA_CACHE_DIR`` to
choose the directory, e.g. a volume shared by workers of one image. The first call on a
machine compiles (about 30-60 s for all kernels); later processes only load (about 1 s).
After an upgrade that changed any SSA source, :mod:`._cache` drops the stale cache files
first (numba alone would trust a kernel whose inlined interpreter changed).
"""

from __future__ import annotations

import time

WARMUP_MODEL = ("model warm; => X; k; X => ; g*X; 2 X => Y; c*X*(X-1)/2; Y => ; g*Y; "
                "E: at (X > 3): k = k; k = 50; g = 1; c = 0.01; X = 0; Y = 0; end")
#: time-dependent law, rate rule, delayed event and delayed reaction (``._timedep``)
WARMUP_TIMEDEP = ("model warmtd; => X; k*(1 + sin(time)); X => ; g*X; => Y; g*delay(X, 1); "
                  "h' = -h; E: at 0.5 after (time > 0.2): X = X + 1; k = 5; g = 1; h = 1; "
                  "X = 0; Y = 0; end")


def warm_up(methods=("direct", "sorting", "tau_leap", "cle", "hybrid", "timedep")) -> float:
    """Run a tiny model (with an event) through every kernel in ``methods`` so that a
    worker's first real simulation does not pay numba compilation or cache loading.

    For Dask: ``client.run(sbmlnoise.ssa.warm_up)``. Returns the seconds spent.
    """
    from ..importer import load
    from .ensemble import ssa

    started = time.perf_counter()
    net = load(WARMUP_MODEL)
    for method in methods:
        if method == "timedep":  # the time-dependent/delay kernels (sbmlnoise.ssa._timedep)
            ssa(load(WARMUP_TIMEDEP), times=[0.0, 1.0], runs=2, seed=0, workers=1)
            continue
        ssa(net, times=[0.0, 1.0], runs=2, seed=0, method=method, workers=1)
    return time.perf_counter() - started
