"""`sbmlnoise analyze` and `sbmlnoise demo` end to end.

The demo runs in a subprocess (`python -m sbmlnoise demo --out DIR`) exactly as a user
would after `pip install .`; its telegraph Fano factor is checked against the closed form
F = 1 + ktx koff / ((kon + koff)(kon + koff + g)) within the FSP tolerance (rel 1e-4).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sbmlnoise as sn
from sbmlnoise.cli import main

ROOT = Path(__file__).resolve().parents[1]
KON, KOFF, KTX, G = 0.5, 2.0, 20.0, 1.0
FANO_M = 1 + KTX * KOFF / ((KON + KOFF) * (KON + KOFF + G))


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_demo_subprocess(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run([sys.executable, "-m", "sbmlnoise", "demo", "--out", str(out)],
                          capture_output=True, text=True, env=_env(), cwd=tmp_path,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    html = out / "report.html"
    assert html.is_file()
    assert str(html.resolve()) in proc.stdout
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc["primary"] == "fsp"
    fano = doc["statistics"]["fsp"]["species"]["M"]["fano"]
    assert fano == pytest.approx(FANO_M, rel=1e-4)
    assert doc["statistics"]["fsp"]["species"]["M"]["mean"] == pytest.approx(4.0, rel=1e-4)
    kinetic = doc["bursts"]["kinetic"][0]
    assert kinetic["burst_size"] == pytest.approx(KTX / KOFF)
    assert kinetic["burst_frequency"] == pytest.approx(KON)
    assert "ssa" in doc["statistics"]  # the cross-check ran


def test_analyze_writes_report_and_annotation(tmp_path, capsys):
    src = ROOT / "models" / "birth_death.xml"
    out, ann = tmp_path / "rep", tmp_path / "bd-noise.xml"
    code = main(["analyze", str(src), "--method", "lna", "--out", str(out),
                 "--annotate", str(ann), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "fano" in printed and "report:" in printed and "annotated SBML" in printed
    for name in ("report.json", "report.html", "species.csv"):
        assert (out / name).is_file()
    assert sn.read_annotations(ann)["species"]


def test_analyze_default_out_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = ROOT / "models" / "birth_death.xml"
    assert main(["analyze", str(src), "--method", "lna", "--no-progress"]) == 0
    model_id = sn.load(src).id
    assert (tmp_path / f"{model_id}-report" / "report.json").is_file()


def test_in_place_annotation(tmp_path):
    src = tmp_path / "bd.xml"
    src.write_bytes((ROOT / "models" / "birth_death.xml").read_bytes())
    original = src.read_bytes()
    assert main(["analyze", str(src), "--method", "lna", "--out", str(tmp_path / "r"),
                 "--annotate", str(src), "--no-progress"]) == 2
    assert src.read_bytes() == original
    assert main(["analyze", str(src), "--method", "lna", "--out", str(tmp_path / "r"),
                 "--annotate", str(src), "--in-place", "--no-progress"]) == 0
    assert src.read_bytes() != original
    assert main(["analyze", str(src), "--method", "lna", "--out", str(tmp_path / "r"),
                 "--annotate", str(tmp_path / "other.xml"), "--in-place",
                 "--no-progress"]) == 2


@pytest.mark.parametrize("argv, fragment", [
    (["analyze", "no/such/model.xml"], "does not exist"),
    (["analyze", "{bad}", "--method", "lna"], "does not exist"),
    (["analyze", "MODEL", "--in-place"], "--in-place"),
    (["analyze", "MODEL", "--species", "NOPE", "--method", "lna"], "NOPE"),
    (["analyze", "BROKEN", "--method", "lna"], "Antimony"),
])
def test_errors_are_one_line_exit_2(argv, fragment, tmp_path, capsys):
    broken = tmp_path / "broken.ant"
    broken.write_text("model x; this is not antimony ;;; end", encoding="utf-8")
    good = ROOT / "models" / "birth_death.xml"
    argv = [str(good) if a == "MODEL" else str(broken) if a == "BROKEN" else a for a in argv]
    argv += ["--out", str(tmp_path / "o"), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("sbmlnoise: error:")
    assert fragment in err


@pytest.mark.parametrize("command", ["analyze", "demo"])
def test_help_has_examples(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and f"sbmlnoise {command}" in text
