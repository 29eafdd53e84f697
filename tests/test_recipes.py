"""Execute the ```python blocks of docs/recipes.md (in order, one namespace, in a temporary
directory) -- the page promises that every block runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_docs_examples import python_blocks

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_recipes_page_runs(tmp_path, monkeypatch):
    pytest.importorskip("tellurium")
    text = (DOCS / "recipes.md").read_text(encoding="utf-8")
    blocks = python_blocks(text)
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs_recipes"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/recipes.md [python block {i + 1}]", "exec"), namespace)  # noqa: S102
    for png in ("marginal.png", "scan_fano.png", "scan_cv_2d.png", "sensitivities.png",
                "extrinsic.png", "ensemble.png"):
        assert (tmp_path / png).stat().st_size > 2000, png
    assert (tmp_path / "telegraph.omex").exists()
