"""Gillespie's direct method.

Use when: small networks (up to :data:`AUTO_MAX_REACTIONS` reaction channels). Every step
recomputes all ``M`` propensities and searches them linearly: ``O(M)`` per event with the
smallest constant, no bookkeeping.

Reference: D. T. Gillespie, "Exact stochastic simulation of coupled chemical reactions",
J. Phys. Chem. 81 (1977) 2340-2361, doi:10.1021/j100540a008.
"""

from __future__ import annotations

from numba import njit

#: networks with at most this many reaction channels use the direct method under "auto"
AUTO_MAX_REACTIONS = 8


class Direct:
    """The direct method (Gillespie 1977): full propensity update, linear search."""

    name = "direct"
    code = 0
    needs_dependency_graph = False
    reference = "doi:10.1021/j100540a008"

    @staticmethod
    def suits(n_reactions: int) -> bool:
        return n_reactions <= AUTO_MAX_REACTIONS


@njit(cache=True, nogil=True, inline="always")
def _direct_select(a, target):
    """Index ``j`` with ``sum(a[:j]) <= target < sum(a[:j+1])`` (float64 ``a``, shape
    (M,)); on round-off past the end, the last positive channel; -1 if none."""
    acc = 0.0
    last = -1
    for j in range(a.shape[0]):
        if a[j] > 0.0:
            acc += a[j]
            last = j
            if target < acc:
                return j
    return last
