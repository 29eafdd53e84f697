"""xoshiro256** in numba: one small state array per run, seeded from ``SeedSequence``.

Every run gets its own state: a 128-bit key ``SeedSequence(seed).generate_state(2)`` and
the run index are expanded by SplitMix64 into the four xoshiro words (the seeding Vigna
recommends), so a run's random numbers depend only on the seed and its index, never on
which worker or chunk ran it. (Per-run ``SeedSequence.spawn`` children would give the same
guarantee but cost ~20 us of Python per run, more than a short run itself.)

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


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_U30 = np.uint64(30)
_U27 = np.uint64(27)
_U31 = np.uint64(31)


@njit(cache=True, nogil=True)
def _splitmix64(z):
    """SplitMix64 output function (Steele, Lea & Flood 2014, doi:10.1145/2714064.2660195)."""
    z = (z ^ (z >> _U30)) * _MIX1
    z = (z ^ (z >> _U27)) * _MIX2
    return z ^ (z >> _U31)


@njit(cache=True, nogil=True)
def _fill_states(key, start, out):
    """Run ``start + r``: base ``z = splitmix(key[0] ^ (start + r) * phi)`` (a hashed,
    run-specific point of the Weyl sequence), then the four xoshiro words
    ``splitmix(z + w * phi) ^ key[1]``, ``w = 1..4``."""
    for r in range(out.shape[0]):
        z = _splitmix64(key[0] ^ (np.uint64(start + r) * _GOLDEN))
        for w in range(4):
            z = z + _GOLDEN
            out[r, w] = _splitmix64(z) ^ key[1]
            if w == 3 and out[r, 0] == 0 and out[r, 1] == 0 and out[r, 2] == 0 and out[r, 3] == 0:
                out[r, 0] = np.uint64(1)


def run_key(seed) -> np.ndarray:
    """The 128-bit key of a seed (int or ``SeedSequence``, spawn key honoured):
    ``SeedSequence(seed).generate_state(2, uint64)``."""
    if not isinstance(seed, np.random.SeedSequence):
        seed = np.random.SeedSequence(int(seed))
    return seed.generate_state(2, np.uint64)


def run_states(entropy, start: int, stop: int) -> np.ndarray:
    """Generator states of runs ``start .. stop-1``, shape (stop-start, 4), uint64.

    Run ``i``'s state depends only on the seed's key (from ``SeedSequence``) and ``i``,
    never on chunking or workers.
    """
    out = np.empty((stop - start, 4), dtype=np.uint64)
    _fill_states(run_key(entropy), start, out)
    return out


def resolve_entropy(seed):
    """``seed`` as an int or ``SeedSequence`` usable by :func:`run_key` (None draws fresh
    entropy: record ``SeedSequence.entropy`` to reproduce)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (bool, np.bool_)) or int(seed) != seed:
        raise ValueError(f"seed must be a non-negative integer or SeedSequence, got {seed!r}")
    seed = int(seed)
    if seed < 0:
        raise ValueError("seed must be a non-negative integer")
    return seed


@njit(cache=True, nogil=True)
def _normal(s):
    """Standard normal variate (Marsaglia polar method; the second value is discarded so a
    run's stream does not depend on call history)."""
    while True:
        u = 2.0 * _uniform(s) - 1.0
        v = 2.0 * _uniform(s) - 1.0
        q = u * u + v * v
        if 0.0 < q < 1.0:
            return u * math.sqrt(-2.0 * math.log(q) / q)


@njit(cache=True, nogil=True)
def _poisson(s, lam):
    """Poisson(``lam``) variate as float64: multiplication method for ``lam < 10``, else
    the transformed rejection PTRS of W. Hoermann, "The transformed rejection method for
    generating Poisson random variables", Insur. Math. Econ. 12 (1993) 39-45,
    doi:10.1016/0167-6687(93)90997-4 (the algorithm numpy uses)."""
    if not lam > 0.0:
        return 0.0
    if lam < 10.0:
        limit = math.exp(-lam)
        k = 0.0
        prod = _uniform(s)
        while prod > limit:
            k += 1.0
            prod *= _uniform(s)
        return k
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = _uniform(s) - 0.5
        v = _uniform(s)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                <= -lam + k * loglam - math.lgamma(k + 1.0)):
            return k
