"""sbmlnoise: single-cell noise analysis for SBML and Antimony models.

Data flows one way: importer -> network -> backend -> statistics -> writers.
Everything public is importable from here (``import sbmlnoise as sn``); submodules load on
first use so ``import sbmlnoise`` stays fast.
"""

from __future__ import annotations

import importlib
import sys
import types

from .errors import (ModelError, NoSteadyState, SbmlnoiseError, SimulationError,
                     StateSpaceTooLarge, UnsupportedFeature)

from ._version import __version__

#: public name -> module that defines it
_LAZY = {
    "load": "importer", "from_roadrunner": "importer", "antimony_to_sbml": "importer",
    "SbmlnoiseWarning": "importer",
    "ReactionNetwork": "network", "Species": "network", "Reaction": "network",
    "Parameter": "network", "Compartment": "network", "MassAction": "network",
    "Event": "network",
    "FastReaction": "network",
    "compare_with_roadrunner": "conformance.roadrunner",
    "simulate_ode": "ode", "steady_state": "ode",
    "NoiseStatistics": "stats",
    "ssa": "ssa", "ssa_stationary": "ssa", "EnsembleResult": "ssa",
    "ssa_refusal": "ssa",
    "fsp": "fsp", "FSPResult": "fsp",
    "lna": "lna", "noise_decomposition": "lna", "find_reporter_pairs": "lna",
    "LNATimeCourse": "lna",
    "thermodynamics": "thermo", "ThermoReport": "thermo",
    "analyze": "analysis", "AnalysisReport": "analysis", "backends": "analysis",
    "register_backend": "analysis", "Backend": "analysis",
    "annotate": "annotate", "read_annotations": "annotate", "strip_annotations": "annotate",
    "curate": "curate", "CurateResult": "curate",
    "burst_table": "bursts",
    "sensitivities": "studies._sensitivity",
    "noise_control": "studies._sensitivity",
    "scan": "studies._scan",
    "extrinsic_noise": "studies._extrinsic",
    "export_omex": "importer._omex",
    "distributions_from_sbml": "studies._extrinsic",
    "plot_statistics": "plots",
    "plot_ensemble": "plots",
    "plot_marginal": "plots",
    "plot_report": "plots",
    "plot_scan": "plots",
    "plot_sensitivities": "plots",
    "plot_extrinsic": "plots",
    "coerce_model": "importer._tellurium",
    "oscillation": "dynamics._oscillation",
    "deterministic_cycle": "dynamics._oscillation",
    "time_course_noise": "dynamics._timecourse",
    "TimeCourseNoise": "dynamics._timecourse",
    "multistability": "dynamics._multistability",
    "noise_coefficients": "lna",
    "noise_dynamics": "dynamics._dispatch",
    "NoiseDynamics": "dynamics._dispatch",
    "fixed_points": "dynamics._multistability",
    "Multistability": "dynamics._multistability",
    "choose_method": "ssa",
    "warm_up": "ssa",
    "cell_volume": "importer._volume",
    "translational_bursts": "bursts",
    "classify_law": "kinetics",
    "LawShape": "kinetics",
    "OutputError": "_io",
}

__all__ = sorted(set(_LAZY) | {"ModelError", "UnsupportedFeature", "SbmlnoiseError",
                                "SimulationError", "StateSpaceTooLarge", "NoSteadyState",
                                "__version__"})


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sbmlnoise' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    if name not in _SHADOWED:
        globals()[name] = value
    return value


def __dir__():
    return __all__


# Some public functions share their name with the module that defines them (sn.fsp in
# sbmlnoise/fsp/_solver.py, ...). Importing such a submodule makes Python set the package attribute
# to the module object, which would hide the function. A property on the package's class
# outranks the instance attribute, so ``sn.fsp`` always is the function; the submodules
# stay importable with ``from sbmlnoise.fsp import FSPResult``.
_SHADOWED = ("ssa", "fsp", "lna", "annotate", "curate")


class _Package(types.ModuleType):
    pass


def _shadow_property(name: str) -> property:
    def get(module):
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)

    def keep_submodule(module, value):  # the import system records the submodule here
        module.__dict__[f"_{name}_module"] = value

    return property(get, keep_submodule)


for _name in _SHADOWED:
    setattr(_Package, _name, _shadow_property(_name))
sys.modules[__name__].__class__ = _Package
