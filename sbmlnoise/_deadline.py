"""The wall-time limit of an analysis, passed down to the long loops of the backends.

``analyze(..., wall_time=s)`` is cooperative: between steps it skips what remains once the
limit has passed. A single step could still run far beyond it (a 2-million-state FSP solve
takes minutes, an ODE integration has its own limit of 300 s), so the analysis also sets a
*hard* deadline here, ``start + wall_time + grace`` (:data:`GRACE_FRACTION` of the limit,
at least :data:`GRACE_MIN` seconds, so that a fast method can still answer after a slow one
was stopped), in a :class:`contextvars.ContextVar` that the long loops read:

* the FSP: before each projection expansion and each iterative (GMRES) step;
* the SSA ensemble: between chunks of runs;
* ODE integrations: their own ``wall_time`` is clipped to the time left.

Past the deadline they raise :class:`~sbmlnoise.errors.SimulationError` naming where they
stopped. Outside an analysis (no deadline set) nothing changes. Uninterruptible native
calls (a sparse LU factorisation, one compiled SSA run, bounded by its event cap) finish
before the next check.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import time
from contextvars import ContextVar
from typing import Any, Callable, Iterator, TypeVar, cast

from .errors import SimulationError

__all__ = ["GRACE_FRACTION", "GRACE_MIN", "limit", "remaining", "clip", "check", "past_limit",
           "gmres_callback", "within_wall_time"]

#: share of the wall time granted past it before the hard deadline
GRACE_FRACTION = 0.1
#: the smallest grace period (seconds)
GRACE_MIN = 1.0

_DEADLINE: ContextVar[tuple[float, float]] = ContextVar("sbmlnoise_deadline",
                                                        default=(math.inf, math.inf))
#: the soft deadline ``start + wall_time`` (the limit itself, before the grace)
_SOFT: ContextVar[float] = ContextVar("sbmlnoise_soft_deadline", default=math.inf)
_F = TypeVar("_F", bound=Callable[..., Any])


@contextlib.contextmanager
def limit(wall_time: float | None) -> Iterator[None]:
    """Set the hard deadline ``now + wall_time + grace`` for the enclosed work (an inner
    limit never extends an outer one); ``None`` or ``inf`` sets none."""
    if wall_time is None or not math.isfinite(float(wall_time)):
        yield
        return
    wall = max(float(wall_time), 0.0)
    hard = time.monotonic() + wall + max(GRACE_FRACTION * wall, GRACE_MIN)
    outer = _DEADLINE.get()
    token = _DEADLINE.set((min(hard, outer[0]), wall if hard < outer[0] else outer[1]))
    soft = _SOFT.set(min(time.monotonic() + wall, _SOFT.get()))
    try:
        yield
    finally:
        _SOFT.reset(soft)
        _DEADLINE.reset(token)


def past_limit() -> bool:
    """True once the analysis' wall time itself (not yet its grace) has passed: a loop
    that can stop with a usable partial result (an ensemble with enough runs) stops here."""
    return time.monotonic() > _SOFT.get()


def remaining() -> float:
    """Seconds left before the hard deadline (``inf`` outside an analysis)."""
    hard = _DEADLINE.get()[0]
    return math.inf if math.isinf(hard) else hard - time.monotonic()


def clip(wall_time: float | None) -> float | None:
    """A step's own ``wall_time`` limited to the time left (at least 1 ns, so that a step
    started past the deadline stops at its first check)."""
    left = remaining()
    if math.isinf(left):
        return wall_time
    left = max(left, 1e-9)
    return left if wall_time is None else min(float(wall_time), left)


def check(where: str) -> None:
    """Raise :class:`SimulationError` if the hard deadline has passed."""
    if remaining() < 0:
        wall = _DEADLINE.get()[1]
        raise SimulationError(f"{where} stopped: the analysis passed its wall-time limit "
                              f"({wall:g} s, plus grace); raise wall_time (--wall-time) or "
                              "choose a faster method")


def gmres_callback(where: str) -> Callable[[Any], None] | None:
    """A ``scipy.sparse.linalg.gmres`` callback that stops the iteration past the deadline
    (None outside an analysis, so nothing is added)."""
    if math.isinf(remaining()):
        return None

    def callback(_residual: Any) -> None:
        check(where)
    return callback


def within_wall_time(func: _F) -> _F:
    """Decorator: run ``func`` under :func:`limit` of its ``wall_time`` argument (keyword
    or default)."""
    default = inspect.signature(func).parameters["wall_time"].default

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with limit(kwargs.get("wall_time", default)):
            return func(*args, **kwargs)
    return cast(_F, wrapper)
