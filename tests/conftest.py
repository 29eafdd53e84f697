"""Shared fixtures: the bundled model zoo and the SBML Test Suite location."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
# the SBML Test Suite: $SBML_TEST_SUITE, else ../shared/sbml-test-suite beside the checkout
SUITE = Path(os.environ.get("SBML_TEST_SUITE") or ROOT.parent / "shared" / "sbml-test-suite")

BUNDLED = sorted(p.stem for p in MODELS.glob("*.ant"))


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS


@pytest.fixture(scope="session")
def suite_dir() -> Path:
    if not (SUITE / "MANIFEST.json").exists():
        pytest.skip("SBML Test Suite not present in ../shared")
    return SUITE


def bundled_path(name: str, suffix: str = ".xml") -> Path:
    return MODELS / f"{name}{suffix}"
