"""Regenerate the SBML Level 3 Version 2 exports of the bundled Antimony models.

Usage: ``python tools/export_models.py`` (from the repository root). Each ``models/X.ant``
is converted with the antimony library, converted to L3V2 with libsbml if needed, and
written to ``models/X.xml``; the model's leading comment becomes its SBML notes. The
telegraph model is also copied to ``sbmlnoise/data/`` for ``sbmlnoise demo``.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import libsbml

import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sbmlnoise.importer import antimony_to_sbml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def leading_comment(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("//"):
            break
        lines.append(line[2:].strip())
    return " ".join(lines)


def export(ant_path: Path) -> Path:
    text = ant_path.read_text(encoding="utf-8")
    doc = libsbml.readSBMLFromString(antimony_to_sbml(text))
    if (doc.getLevel(), doc.getVersion()) != (3, 2):
        props = libsbml.ConversionProperties()
        props.addOption("setLevelAndVersion", True)
        props.addOption("strict", True)
        doc.setLevelAndVersion(3, 2, True)
    comment = leading_comment(text)
    if comment:
        notes = ('<body xmlns="http://www.w3.org/1999/xhtml"><p>'
                 f"{html.escape(comment)}</p></body>")
        doc.getModel().setNotes(notes)
    out = ant_path.with_suffix(".xml")
    out.write_text(libsbml.writeSBMLToString(doc), encoding="utf-8")
    return out


def main() -> None:
    for ant in sorted((ROOT / "models").glob("*.ant")):
        print("wrote", export(ant).relative_to(ROOT))
    data = ROOT / "sbmlnoise" / "data"
    data.mkdir(exist_ok=True)
    shutil.copy(ROOT / "models" / "telegraph.xml", data / "telegraph.xml")


if __name__ == "__main__":
    main()
