"""sbmlnoise: single-cell noise analysis for SBML and Antimony models.

Data flows one way: importer -> network -> backend -> statistics -> writers.
Everything public is importable from here (``import sbmlnoise as sn``); submodules load on
first use so ``import sbmlnoise`` stays fast.
"""

from __future__ import annotations

import importlib

from .errors import (ModelError, NoSteadyState, SbmlnoiseError, SimulationError,
                     StateSpaceTooLarge, UnsupportedFeature)

__version__ = "0.1.0"

#: public name -> module that defines it
_LAZY = {
    "load": "importer", "from_roadrunner": "importer", "antimony_to_sbml": "importer",
    "SbmlnoiseWarning": "importer",
    "ReactionNetwork": "network", "Species": "network", "Reaction": "network",
    "Parameter": "network", "Compartment": "network", "MassAction": "network",
    "Event": "network",
    "simulate_ode": "ode", "steady_state": "ode",
    "NoiseStatistics": "stats",
    "ssa": "ssa", "ssa_stationary": "ssa", "EnsembleResult": "ssa",
    "fsp": "fsp", "FSPResult": "fsp",
    "lna": "lna", "noise_decomposition": "lna", "find_reporter_pairs": "lna",
    "thermodynamics": "thermo", "ThermoReport": "thermo",
    "analyze": "analysis", "AnalysisReport": "analysis",
    "annotate": "annotate", "read_annotations": "annotate",
    "curate": "curate",
}

__all__ = sorted(set(_LAZY) | {"ModelError", "UnsupportedFeature", "SbmlnoiseError",
                                "SimulationError", "StateSpaceTooLarge", "NoSteadyState",
                                "__version__"})


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sbmlnoise' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
