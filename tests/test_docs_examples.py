"""Execute the ```python blocks of the user documentation.

Each page's blocks run in order in one namespace (as a reader would paste them), in a
temporary working directory where ``models/`` points at the bundled models. A page that
needs Tellurium is skipped when Tellurium is not installed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = ["tellurium.md", "user-guide.md", "annotations.md", "trust.md"]
_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def python_blocks(text: str) -> list[str]:
    return [m.group(1) for m in _BLOCK.finditer(text)]


def test_block_extraction():
    text = "intro\n```python\nx = 1\n```\ntext\n```bash\nls\n```\n```python\ny = x + 1\n```\n"
    assert python_blocks(text) == ["x = 1\n", "y = x + 1\n"]


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page, tmp_path, monkeypatch):
    path = DOCS / page
    if not path.exists():
        pytest.skip(f"docs/{page} not written")
    text = path.read_text(encoding="utf-8")
    blocks = python_blocks(text)
    if not blocks:
        pytest.skip(f"docs/{page} has no python examples")
    if "import tellurium" in text:
        pytest.importorskip("tellurium")
    monkeypatch.chdir(tmp_path)
    os.symlink(ROOT / "models", tmp_path / "models")
    namespace: dict = {"__name__": f"docs_{page.replace('.', '_').replace('-', '_')}"}
    for i, block in enumerate(blocks):
        code = compile(block, f"docs/{page} [python block {i + 1}]", "exec")
        exec(code, namespace)  # noqa: S102 - documentation examples we ship
