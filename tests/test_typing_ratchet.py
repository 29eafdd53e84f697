"""A ratchet on ``python -m mypy sbmlnoise`` (the level configured in pyproject.toml) while
the package is typed in steps (issue 11): no module may gain mypy errors.

Every module outside ``KNOWN`` must be clean; a module in ``KNOWN`` may have at most the
number of errors it had when the ratchet was set (2026-11-30, branch ``typing``). Lower a
count (or drop the entry) whenever a module gets cleaner; ``python
tests/test_typing_ratchet.py`` prints the current table (e.g. after modules moved). Once
``KNOWN`` is empty this test says the same as ``tests/test_typing.py``. Runs mypy once
(about 15 s): slow.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: module path -> most mypy errors it may have
KNOWN: dict[str, int] = {}

_ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):\d+: error: ", re.MULTILINE)


def _count(stdout: str) -> dict[str, int]:
    return dict(collections.Counter(m["path"].replace("\\", "/")
                                    for m in _ERROR.finditer(stdout)))


def test_error_counter_reads_mypy_output():
    out = ("sbmlnoise/a.py:3: error: Bad  [arg-type]\n"
           "sbmlnoise/a.py:9: note: By default the bodies of untyped functions ...\n"
           "sbmlnoise/a.py:12: error: Worse  [index]\n"
           "sbmlnoise/sub/b.py:1: error: X  [misc]\n"
           "Found 3 errors in 2 files (checked 2 source files)\n")
    assert _count(out) == {"sbmlnoise/a.py": 2, "sbmlnoise/sub/b.py": 1}


@pytest.mark.slow
def test_no_module_gains_mypy_errors(tmp_path):
    pytest.importorskip("mypy")
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "mypy-cache"))
    proc = subprocess.run([sys.executable, "-m", "mypy", "sbmlnoise"], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=600)
    assert "error: " not in proc.stderr, proc.stderr[-2000:]
    counts = _count(proc.stdout)
    assert proc.returncode == (1 if counts else 0), proc.stdout[-3000:]
    worse = {path: (n, KNOWN.get(path, 0)) for path, n in counts.items()
             if n > KNOWN.get(path, 0)}
    assert not worse, ("modules with more mypy errors than allowed (found, allowed): "
                       f"{worse}\n{proc.stdout[-6000:]}")


if __name__ == "__main__":  # print a fresh KNOWN table (after modules moved or got cleaner)
    run = subprocess.run([sys.executable, "-m", "mypy", "sbmlnoise"], cwd=ROOT,
                         capture_output=True, text=True, encoding="utf-8", timeout=600)
    print("KNOWN = {")
    for module, n in sorted(_count(run.stdout).items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"    {module!r}: {n},")
    print("}")
