"""Exact stochastic simulation (SSA) of reaction networks.

* :func:`ssa` -- ensembles of runs with streamed mean/variance/covariance,
* :func:`ssa_stationary` -- stationary statistics (moments, histogram, autocovariance,
  PSD with batch-means standard errors) from one long run.

Variants, one file each: :mod:`.direct` (Gillespie 1977) and :mod:`.sorting` (sorting
direct method with dependency graph, McCollum et al. 2006); ``method="auto"`` picks by
network size. Kernels are numba-compiled once and cached; a model is data (mass-action
arrays or interpreter bytecode), never generated source.
"""

from .direct import Direct
from .ensemble import METHODS, EnsembleResult, ssa
from .sorting import SortingDirect
from .stationary import ssa_stationary

__all__ = ["ssa", "ssa_stationary", "EnsembleResult", "METHODS", "Direct", "SortingDirect"]

