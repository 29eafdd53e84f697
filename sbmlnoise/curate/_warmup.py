"""Warm up the curation fork server (private; imported only as a fork-server preload).

Importing this module runs one tiny analysis (a birth-death process, every backend) so
that the fork server -- and hence every per-model child forked from it -- starts with the
backends imported and their generic numba kernels compiled. In a fresh process the first
:func:`sbmlnoise.analyze` pays seconds of imports and JIT compilation; after the warm-up a
small model takes tens of milliseconds.

The warm-up can never take the fork server down: it is bounded by ``SIGALRM`` (60 s) and
every exception is swallowed (a failed warm-up only costs speed).
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading

WARMUP_MODEL = "model warmup; => X; k; X => ; g*X; k = 5; g = 1; X = 0; end"
WARMUP_SECONDS = 60
#: set to "0" to skip the warm-up
ENV_SWITCH = "SBMLNOISE_CURATE_WARMUP"

warmed = False
error: str | None = None


class _Expired(Exception):
    pass


def _expire(signum, frame):
    raise _Expired()


def warm_up(report: bool = True) -> None:
    """Run the warm-up analysis (and one HTML report) in this process."""
    global warmed, error
    from ..analysis import analyze
    from ..importer import load

    rep = analyze(load(WARMUP_MODEL), method="all", seed=0, ssa_events=2000,
                     trajectories=1)
    if report:
        with tempfile.TemporaryDirectory(prefix="sbmlnoise-warmup-") as tmp:
            rep.to_html(os.path.join(tmp, "report.html"))
    warmed = True


def _guarded() -> None:
    global error
    if os.environ.get(ENV_SWITCH, "1") == "0":
        return
    use_alarm = threading.current_thread() is threading.main_thread()
    old = None
    try:
        if use_alarm:
            old = signal.signal(signal.SIGALRM, _expire)
            signal.alarm(WARMUP_SECONDS)
        warm_up(report=os.environ.get(ENV_SWITCH, "1") != "noreport")
    except BaseException as err:  # noqa: BLE001 - never take the fork server down
        error = f"{type(err).__name__}: {err}"
    finally:
        if use_alarm:
            signal.alarm(0)
            if old is not None:
                signal.signal(signal.SIGALRM, old)


_guarded()
