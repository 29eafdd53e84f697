"""Noise analysis of one model: the model context, the backend registry and the report.

``sn.analyze(net, method)`` builds one :class:`ModelContext` (steady state, stability,
time scales), runs every registered backend that applies (:func:`backends` lists them and
what each supports), and returns an :class:`AnalysisReport` with a consistency table.
See docs/architecture.md for how to add a backend.

All numbers are molecule counts (see :mod:`sbmlnoise.stats` for the Fano factor, CV,
autocovariance and two-sided PSD conventions).
"""

from .._summary import omega_limit, thermo_verdict
from . import (  # noqa: F401  (register the built-ins)
    _fsp_backend,
    _lna_backend,
    _ssa_backend,
    _timecourse_backend,
)
from ._analyze import METHODS, analyze, consistency_table, versions
from ._backends import (CAPABILITIES, Backend, Cost, Refusal, Request, RunState, backends,
                        get_backend, register_backend)
from ._context import ModelContext, build_context, time_scales
from ._result import AnalysisReport

__all__ = ["analyze", "AnalysisReport", "METHODS", "backends", "register_backend",
           "get_backend", "Backend", "Refusal", "Request", "RunState", "Cost", "CAPABILITIES",
           "ModelContext", "build_context", "time_scales", "consistency_table", "versions",
           "omega_limit", "thermo_verdict"]
