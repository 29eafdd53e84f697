"""Shared helpers of the conformance runners: case discovery, settings, the JSON."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .._io import atomic_write

STATUSES = ("pass", "fail", "unsupported", "error")


@dataclass(frozen=True)
class Case:
    id: str
    directory: Path
    model: Path
    settings: dict
    results: Path


def parse_settings(path: Path) -> dict:
    """Read ``NNNNN-settings.txt`` into a dict; list-valued keys become lists of ids."""
    settings: dict = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if ":" not in line:
            continue
        key, value = line.split(":", 1)
        key, value = key.strip(), value.strip()
        if key in ("variables", "amount", "concentration", "output"):
            settings[key] = [v.strip() for v in value.split(",") if v.strip()]
        elif key in ("start", "duration", "absolute", "relative"):
            settings[key] = float(value) if value else None
        elif key == "steps":
            settings[key] = int(float(value)) if value else None
        elif key in ("meanRange", "sdRange"):
            nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", value)]
            settings[key] = tuple(nums) if len(nums) == 2 else None
        else:
            settings[key] = value
    return settings


def _select(spec: str | None, ids: list[str]) -> list[str]:
    """``"1-20,45"`` -> matching case ids (numbers compared as integers)."""
    if not spec:
        return ids
    wanted: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-", 1)
            wanted.update(range(int(lo), int(hi) + 1))
        else:
            wanted.add(int(part))
    return [i for i in ids if int(i) in wanted]


def discover(directory, cases: str | None = None) -> list[Case]:
    """All case folders (``NNNNN/``) under ``directory`` that hold a model and results."""
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"test-suite folder '{root}' does not exist")
    ids = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.isdigit())
    found = []
    for cid in _select(cases, ids):
        folder = root / cid
        models = sorted(folder.glob(f"{cid}-sbml-l*v*.xml"))
        settings = folder / f"{cid}-settings.txt"
        results = folder / f"{cid}-results.csv"
        if not models or not settings.exists() or not results.exists():
            continue
        found.append(Case(cid, folder, models[-1], parse_settings(settings), results))
    return found


def summarize(cases: dict) -> dict:
    counts = Counter(entry["status"] for entry in cases.values())
    return {status: counts.get(status, 0) for status in STATUSES}


def write_json(report: dict, path) -> None:
    """Write the report as UTF-8 JSON, atomically."""
    atomic_write(path, json.dumps(report, indent=1, sort_keys=True, default=str) + "\n")
