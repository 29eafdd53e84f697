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


# --------------------------------------------------------------------------- shell commands
_FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)[ \t]*$")
_SHELL_LANGS = ("bash", "sh", "shell", "console", "")


def _shell_blocks(text: str) -> list[str]:
    """Bodies of the shell (or unlabelled) fenced blocks, fences paired in order (so the
    closing fence of a python block is never read as an opening one)."""
    blocks, lang, body = [], None, []
    for line in text.splitlines():
        m = _FENCE.match(line.strip())
        if lang is None and m:
            lang, body = m.group(1), []
        elif lang is not None and line.strip() == "```":
            if lang in _SHELL_LANGS:
                blocks.append("\n".join(body))
            lang = None
        elif lang is not None:
            body.append(line)
    return blocks
_PROGRAMS = ("sbmlnoise", "python", "pip", "pytest")
#: commands not run here, each with its reason (matched by substring)
_NOT_RUN = {
    "pip install": "changes the environment; .ci/run installs the package this way",
    "pytest": "the test suite itself (.ci/run runs it)",
    "conformance semantic ../shared": "long: the whole SBML semantic suite (minutes)",
    "conformance stochastic ../shared": "long: the whole DSMTS suite with 10^4 runs each",
    "benchmarks/curate.py": "a benchmark of many curated models (minutes)",
    "sqlite3": "needs a curation database and the sqlite3 program",
}
#: placeholder files of the docs -> bundled model copied under that name
_PLACEHOLDERS = {"model.xml": "two_stage.xml", "my_model.xml": "two_stage.xml",
                 "scaled.xml": "birth_death.xml"}
#: commands run, but only with -m slow (each takes more than ~10 s on 2 cores)
_SLOW = ("--method all --seed 1", "--ssa-runs 2000", "models/two_stage.xml --method all",
         "model.xml --species M P --annotate", "my_model.xml --annotate")


def shell_commands() -> list[tuple[str, str]]:
    """(page, command) for every command line of a shell (or unlabelled) block of the
    README and docs/*.md; usage synopses (``[...]``, ``A|B``, upper-case placeholders
    such as MODEL or DIR) are not commands."""
    out = []
    for page in [ROOT / "README.md"] + sorted(DOCS.glob("*.md")):
        for block in _shell_blocks(page.read_text(encoding="utf-8")):
            for line in block.splitlines():
                line = line.strip().removeprefix("$ ").split("  #")[0].strip()
                if not line.startswith(_PROGRAMS):
                    continue
                if re.search(r"\[|\||\b(MODEL|DIR|COMMAND|OUT|ADDRESS)\b", line):
                    continue  # a synopsis
                out.append((page.relative_to(ROOT).as_posix(), line))
    return out


def _params():
    params = []
    for page, cmd in shell_commands():
        reason = next((why for key, why in _NOT_RUN.items() if key in cmd), None)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        if not reason and any(key in cmd for key in _SLOW):
            marks.append(pytest.mark.slow)
        params.append(pytest.param(cmd, id=f"{page}: {cmd}"[:90], marks=marks))
    return params


def test_shell_commands_found():
    cmds = [c for _, c in shell_commands()]
    assert "sbmlnoise demo" in cmds and any(c.startswith("sbmlnoise analyze") for c in cmds)


@pytest.mark.parametrize("command", _params())
def test_documented_command_runs(command, tmp_path, monkeypatch, capsys):
    """Each documented command exits 0 in a scratch folder beside the bundled models
    (``sbmlnoise ...`` through :func:`sbmlnoise.cli.main` in this process, so the
    numba kernels are warm; ``python ...`` in a subprocess)."""
    import shlex
    import shutil
    import subprocess
    import sys
    from sbmlnoise.cli import main
    os.symlink(ROOT / "models", tmp_path / "models")
    for name, model in _PLACEHOLDERS.items():
        shutil.copy(ROOT / "models" / model, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(command)
    if argv[0] == "sbmlnoise":
        code = main(argv[1:])
        err = capsys.readouterr().err
        assert code == 0, (command, err[-1500:])
        return
    argv[0] = sys.executable if argv[0] == "python" else argv[0]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, (command, proc.stderr[-1500:])
