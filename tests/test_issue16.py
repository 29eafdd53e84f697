"""Regression tests for issue 16 (wrong numbers, hangs and unsafe edges found by probing).

Each test names the item of the issue it covers. Expected values come from closed forms or
from what the input *is* (a FIFO, a formula-looking file name), never from our own output.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import pytest

import sbmlnoise as sn

HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------ item 19: CSV injection
def test_summary_csv_neutralises_formula_cells(tmp_path, monkeypatch):
    monkeypatch.setenv("SBMLNOISE_CURATE_WARMUP", "0")  # invalid files need no warm backends
    folder = tmp_path / "m"
    folder.mkdir()
    bad = '=HYPERLINK("x","y").xml'
    (folder / bad).write_text("<not xml", encoding="utf-8")
    (folder / "+1.xml").write_text("<not xml", encoding="utf-8")
    out = tmp_path / "out"
    res = sn.curate(folder, db=tmp_path / "r.sqlite", out=out, method="lna", timeout=60,
                    progress=False)
    assert {m["status"] for m in res.models} == {"invalid"}
    with open(out / "summary.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = sorted(r["name"] for r in rows)
    assert names == sorted(["'" + bad, "'+1.xml"])
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row
