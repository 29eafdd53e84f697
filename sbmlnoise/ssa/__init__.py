"""Stochastic simulation (SSA) of reaction networks: exact and, for large copy numbers,
approximate.

* :func:`ssa` -- ensembles of runs with streamed mean/variance/covariance; methods
  "direct", "sorting" (exact), "tau_leap", "cle", "hybrid" (approximate, see
  :mod:`.approx`) and "auto" (:func:`choose_method`),
* :func:`ssa_stationary` -- stationary statistics (moments, histogram, autocovariance,
  PSD with batch-means standard errors) from one long run,
* :func:`choose_method` -- which method suits a model, and why,
* :func:`warm_up` -- compile/load every kernel (numba cache) before timing-sensitive work,
* :func:`ssa_refusal` -- whether the exact SSA can run a model (``None``) or why not.

Time-dependent laws, rate rules on parameters, delayed events and ``delay()`` in kinetic
laws (non-consuming delayed reactions, consuming delayed pairs) run in the exact SSA via
:mod:`._timedep` (integrated hazard, delay queue); see docs/ssa-timedep.md.

Variants, one file each: :mod:`.direct` (Gillespie 1977) and :mod:`.sorting` (sorting
direct method with dependency graph, McCollum et al. 2006); ``method="auto"`` picks by
network size. Kernels are numba-compiled once and cached; a model is data (mass-action
arrays or interpreter bytecode), never generated source.
"""

from ._cache import invalidate_stale as _invalidate_stale

_invalidate_stale()  # before any kernel is loaded: see ._cache

from .approx import APPROX_METHODS, ChemicalLangevin, Hybrid, TauLeap
from .choose import choose_method
from .direct import Direct
from .ensemble import METHODS, EnsembleResult, ssa
from .sorting import SortingDirect
from ._model import ssa_refusal
from .stationary import ssa_stationary
from .warmup import warm_up

__all__ = ["ssa", "ssa_stationary", "EnsembleResult", "METHODS", "APPROX_METHODS", "Direct",
           "SortingDirect", "TauLeap", "ChemicalLangevin", "Hybrid", "choose_method",
           "warm_up", "ssa_refusal"]
