"""Curated BioModels (../shared/biomodels): every model loads, and the rate equations
agree with libRoadRunner (an independent simulator: CVODE on LLVM-compiled SBML) to
rtol 1e-4 for every species and assignment-rule variable over t in [0, 20]
(comparison rule: sbmlnoise/conformance/roadrunner.py). A fast sample runs by default,
all 60 under -m slow. BIOMD0000000034 uses delay(), which libRoadRunner cannot simulate:
it is checked to load and integrate only.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import sbmlnoise as sn
from sbmlnoise.conformance.roadrunner import compare_with_roadrunner

ROOT = Path(__file__).resolve().parents[1]


def _folder() -> Path:
    candidates = [os.environ.get("SBMLNOISE_BIOMODELS"), ROOT.parent / "shared" / "biomodels"]
    if os.environ.get("SBML_TEST_SUITE"):
        candidates.append(Path(os.environ["SBML_TEST_SUITE"]).parent / "biomodels")
    for c in candidates:
        if c and (Path(c) / "manifest.json").exists():
            return Path(c)
    pytest.skip("curated BioModels not present in ../shared/biomodels")


#: feature spread: events, rate rules (with and without reactions), time, assignment
#: rules, Michaelis-Menten kinetics, oscillators
FAST = ["BIOMD0000000001", "BIOMD0000000006", "BIOMD0000000020", "BIOMD0000000029",
        "BIOMD0000000043", "BIOMD0000000047", "BIOMD0000000053", "BIOMD0000000018"]
NO_ROADRUNNER = {"BIOMD0000000034": "delay()"}


def _check(name: str) -> None:
    pytest.importorskip("roadrunner")
    path = _folder() / f"{name}.xml"
    if name in NO_ROADRUNNER:
        net = sn.load(path)
        df = sn.simulate_ode(net, [0.0, 10.0, 20.0])
        assert df.notna().all().all()
        return
    result = compare_with_roadrunner(path, t_end=20.0)
    assert result["status"] == "agree", result


@pytest.mark.parametrize("name", FAST)
def test_biomodels_sample_agrees_with_roadrunner(name):
    _check(name)


def _all_models() -> list[str]:
    folder = ROOT.parent / "shared" / "biomodels"
    env = os.environ.get("SBML_TEST_SUITE")
    if not folder.exists() and env:
        folder = Path(env).parent / "biomodels"
    return sorted(p.stem for p in folder.glob("BIOMD*.xml")) or ["(none)"]


@pytest.mark.slow
@pytest.mark.parametrize("name", _all_models())
def test_every_biomodel_agrees_with_roadrunner(name):
    if name == "(none)":
        pytest.skip("curated BioModels not present")
    _check(name)
