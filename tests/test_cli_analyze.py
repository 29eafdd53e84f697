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
    assert "Fano" in printed and "report:" in printed and "annotated SBML" in printed
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
    (["analyze", "BROKEN", "--method", "lna"], "broken.ant: Antimony"),
    (["analyze", "DIR"], "is a directory, not a model file"),
    (["analyze", "EMPTY"], "empty.xml' is empty"),
    (["analyze", "BINARY"], "binary.xml' is binary"),
    (["analyze", "LATIN1"], "latin.ant' is not UTF-8 text"),
    (["analyze", "MODEL", "--method", "fsp", "--max-states", "3"], "--max-states"),
])
def test_errors_are_one_line_exit_2(argv, fragment, tmp_path, capsys):
    broken = tmp_path / "broken.ant"
    broken.write_text("model x; this is not antimony ;;; end", encoding="utf-8")
    (tmp_path / "adir").mkdir()
    (tmp_path / "empty.xml").write_text("  \n", encoding="utf-8")
    (tmp_path / "binary.xml").write_bytes(b"\x7fELF\x02\x01\x01\x00" * 40)
    (tmp_path / "latin.ant").write_bytes("model m; => X; k; k = 1; // caf\xe9 \nend\n"
                                         .encode("latin-1"))
    good = ROOT / "models" / "birth_death.xml"
    files = {"MODEL": good, "BROKEN": broken, "DIR": tmp_path / "adir",
             "EMPTY": tmp_path / "empty.xml", "BINARY": tmp_path / "binary.xml",
             "LATIN1": tmp_path / "latin.ant"}
    argv = [str(files[a]) if a in files else a for a in argv]
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


def test_hints_name_cli_flags():
    from sbmlnoise.report._terminal import cli_hint
    text = cli_hint("more than max_states=1,000. Raise max_states, cap species with "
                    "bounds={...}, or use sn.ssa / sn.lna.")
    assert "--max-states 1,000" in text and "--method ssa" in text
    assert "max_states" not in text and "sn." not in text
    assert "--time T" in cli_hint("use the time-dependent LNA sn.lna(net, t=times)")
    assert "--t-end or --ssa-events" in cli_hint("rough (raise --t-end or ssa_events)")
    assert cli_hint("not a whole number; pass system_size= to sn.load") \
        == "not a whole number; pass --system-size"
    assert "--method lna" in cli_hint("needs whole molecules (use sn.lna or sn.simulate_ode)")


def test_ssa_numbers_have_error_bars_and_no_warnings_leak(tmp_path, capsys):
    """SSA rows print value ± 95% CI; nothing (matplotlib UserWarning) on stderr."""
    code = main(["analyze", str(ROOT / "models" / "birth_death.xml"), "--method", "ssa",
                 "--seed", "2", "--ssa-events", "20000", "--out", str(tmp_path / "o"),
                 "--no-progress", "--thermo", "none"])
    assert code == 0
    captured = capsys.readouterr()
    assert "±" in captured.out or "+/-" in captured.out
    assert "95% confidence interval" in captured.out
    assert "Warning" not in captured.err and "warn" not in captured.err.lower()


def test_compile_notice(monkeypatch, capsys, tmp_path):
    from sbmlnoise.report import _terminal
    monkeypatch.setattr(_terminal, "kernels_cached", lambda: False)
    calls = []
    assert _terminal.compile_notice(warm_up=lambda: calls.append(1)) is True
    err = capsys.readouterr().err
    assert calls == [1]  # the kernels are compiled up front, not inside the analysis
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "compiling" in lines[0] and "compiled in" in lines[1]
    monkeypatch.setattr(_terminal, "kernels_cached", lambda: True)
    assert _terminal.compile_notice() is False
    assert capsys.readouterr().err == ""


def test_kernels_cached_reads_numba_cache_dir(monkeypatch, tmp_path):
    from sbmlnoise.report import _terminal
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    src = Path(_terminal.__file__).parent / "ssa"
    monkeypatch.setattr(Path, "is_dir", lambda self: str(self).startswith(str(tmp_path)))
    assert _terminal.kernels_cached() is False
    for stem in ("_kernels", "_program"):
        (tmp_path / f"{stem}._run-1.py311.nbi").write_bytes(b"x")
    assert _terminal.kernels_cached() is True
    del src
