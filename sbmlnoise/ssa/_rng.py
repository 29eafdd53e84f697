"""xoshiro256** in numba: one small state array per run, seeded from ``SeedSequence``.

Every run gets its own state ``SeedSequence(entropy, spawn_key=(run,)).generate_state(4)``
(the same streams :meth:`numpy.random.SeedSequence.spawn` would give), so a run's random
numbers depend only on the seed and its index, never on which worker ran it.

Reference: D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators",
ACM Trans. Math. Softw. 47 (2021), doi:10.1145/3460772.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U7 = np.uint64(7)
_U57 = np.uint64(57)
_U5 = np.uint64(5)
_U9 = np.uint64(9)
_U11 = np.uint64(11)
_U19 = np.uint64(19)


@njit(cache=True, nogil=True, inline="always")
def _next_u64(s):
    s0 = s[0]
    s1 = s[1]
    s2 = s[2]
    s3 = s[3]
    r = s1 * _U5
    r = ((r << _U7) | (r >> _U57)) * _U9
    t = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << _U45) | (s3 >> _U19)
    s[0] = s0
    s[1] = s1
    s[2] = s2
    s[3] = s3
    return r


@njit(cache=True, nogil=True, inline="always")
def _uniform(s):
    """Uniform double in [0, 1) with 53 random bits."""
    return float(_next_u64(s) >> _U11) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True, inline="always")
def _exponential(s):
    """Exponential(1) variate, -log(1 - U) with 1 - U in (0, 1]."""
    return -math.log(1.0 - _uniform(s))


def run_states(entropy: int, start: int, stop: int) -> np.ndarray:
    """Generator states of runs ``start .. stop-1``, shape (stop-start, 4), uint64."""
    out = np.empty((stop - start, 4), dtype=np.uint64)
    for k, run in enumerate(range(start, stop)):
        state = np.random.SeedSequence(entropy, spawn_key=(run,)).generate_state(4, np.uint64)
        if not state.any():  # the all-zero state is the one forbidden state
            state[0] = 1
        out[k] = state
    return out


def resolve_entropy(seed) -> int:
    """The integer entropy behind ``seed`` (None draws fresh entropy; record it)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, np.random.SeedSequence):
        return int(seed.entropy)
    seed = int(seed)
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    return seed
