"""The public surface of API.md: every name importable from the top-level package."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sbmlnoise as sn

API_FUNCTIONS = ["load", "from_roadrunner", "simulate_ode", "steady_state", "ssa",
                 "ssa_stationary", "fsp", "lna", "thermodynamics", "analyze", "annotate",
                 "read_annotations", "noise_decomposition", "curate"]
API_TYPES = ["ReactionNetwork", "NoiseStatistics", "EnsembleResult", "FSPResult",
             "ThermoReport", "AnalysisReport", "ModelError", "UnsupportedFeature"]


@pytest.mark.parametrize("name", API_FUNCTIONS)
def test_public_functions_exist_even_after_submodule_imports(name):
    for module in ("ssa", "fsp", "lna", "annotate", "curate", "thermo", "analysis"):
        importlib.import_module(f"sbmlnoise.{module}")
    assert inspect.isfunction(getattr(sn, name)), name


@pytest.mark.parametrize("name", API_TYPES)
def test_public_types_exist(name):
    assert inspect.isclass(getattr(sn, name))


def test_errors_subclass_builtins():
    assert issubclass(sn.ModelError, ValueError)
    assert issubclass(sn.UnsupportedFeature, NotImplementedError)
    assert issubclass(sn.ModelError, sn.SbmlnoiseError)


def test_every_sn_call_in_shared_api_md_resolves():
    api = Path(__file__).resolve().parents[2] / "shared" / "API.md"
    if not api.exists():
        pytest.skip("shared/API.md not present")
    names = set(re.findall(r"\bsn\.([A-Za-z_]+)", api.read_text(encoding="utf-8")))
    missing = [n for n in names if not hasattr(sn, n)]
    assert not missing


def test_import_is_light():
    # the package imports without pulling numba or the backends in
    code = "import sys, sbmlnoise; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"
