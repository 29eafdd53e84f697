"""The sorting direct method with a reaction dependency graph.

Use when: larger networks (more than :data:`~sbmlnoise.ssa.direct.AUTO_MAX_REACTIONS`
channels). After a reaction fires only the propensities that read a species it changed
are recomputed (dependency graph, as in the optimized direct method of Cao, Li & Petzold
2004), and the fired channel swaps one place towards the front of the search order, so
frequent channels are found after a few comparisons (McCollum et al. 2006). The total
propensity is updated incrementally and re-summed every :data:`RESUM_EVERY` steps to
bound round-off drift.

References: J. M. McCollum, G. D. Peterson, C. D. Cox, M. L. Simpson and N. F. Samatova,
"The sorting direct method for stochastic simulation of biochemical systems with varying
reaction execution behavior", Comput. Biol. Chem. 30 (2006) 39-49,
doi:10.1016/j.compbiolchem.2005.10.007; Y. Cao, H. Li and L. Petzold, J. Chem. Phys. 121
(2004) 4059, doi:10.1063/1.1778376.
"""

from __future__ import annotations

from numba import njit

#: exact re-summation period of the running total propensity
RESUM_EVERY = 512


class SortingDirect:
    """Sorting direct method with dependency graph."""

    name = "sorting"
    code = 1
    needs_dependency_graph = True
    reference = "doi:10.1016/j.compbiolchem.2005.10.007"

    @staticmethod
    def suits(n_reactions: int) -> bool:
        return True


@njit(cache=True, nogil=True, inline="always")
def _sorting_select(a, order, target):
    """Position ``k`` in ``order`` of the channel the cumulative sum in search order
    reaches ``target`` at; on round-off the last positive one; -1 if none."""
    acc = 0.0
    last = -1
    for k in range(order.shape[0]):
        v = a[order[k]]
        if v > 0.0:
            acc += v
            last = k
            if target < acc:
                return k
    return last


@njit(cache=True, nogil=True, inline="always")
def _sorting_promote(order, k):
    """Swap the fired channel at position ``k`` one place towards the front."""
    if k > 0:
        tmp = order[k - 1]
        order[k - 1] = order[k]
        order[k] = tmp


@njit(cache=True, nogil=True, inline="always")
def _sorting_resum(a):
    """The total propensity summed afresh from ``a``: the sorting method updates its
    running total incrementally and resums every :data:`RESUM_EVERY` steps so rounding
    drift cannot accumulate."""
    a0 = 0.0
    for j in range(a.shape[0]):
        a0 += a[j]
    return a0
