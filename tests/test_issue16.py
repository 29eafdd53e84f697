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


# ------------------------------------------- item 13: two curate runs on one database
def test_rows_recorded_meanwhile_by_another_run_are_skipped(tmp_path):
    from sbmlnoise.curate import _db as curate_db

    conn = curate_db.connect(tmp_path / "r.sqlite")
    other = curate_db.connect(tmp_path / "r.sqlite")  # a second curate process
    try:
        a = {"path": "/m/a.xml", "name": "a.xml", "content_hash": "h", "settings_hash": "s"}
        b = dict(a, path="/m/b.xml", name="b.xml")
        result = {"status": "ok", "reason": "analysed", "species": [
            {"species": "X", "method": "lna", "mean": 10.0, "variance": 10.0, "fano": 1.0,
             "cv": 0.3}]}
        (src,) = curate_db.record(conn, [a], result, settings={}, version="t")
        assert len(curate_db.copy_rows(other, src, [b])) == 1
        assert curate_db.copy_rows(conn, src, [b]) == []  # was: sqlite3.IntegrityError
        assert curate_db.record(conn, [a, b], result, settings={}, version="t") == []
        n = conn.execute("SELECT COUNT(*) FROM models").fetchone()[0]
        m = conn.execute("SELECT COUNT(*) FROM species_stats").fetchone()[0]
        assert (n, m) == (2, 2)
    finally:
        conn.close()
        other.close()


# ------------------------------------------- item 16: one line instead of a traceback
def _cli(*args, cwd=None, timeout=300):
    import subprocess

    env = dict(os.environ, SBMLNOISE_CURATE_WARMUP="0")
    return subprocess.run([sys.executable, "-m", "sbmlnoise", *map(str, args)],
                          capture_output=True, text=True, cwd=str(HERE.parent), env=env,
                          timeout=timeout)


def test_cli_bad_db_and_unwritable_outputs_print_one_line(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "bad.xml").write_text("<not xml", encoding="utf-8")
    notdb = tmp_path / "notes.txt"
    notdb.write_text("these are my notes, not a database\n" * 10, encoding="utf-8")
    for db in (notdb, tmp_path, notdb / "r.sqlite", "/proc/r.sqlite"):
        proc = _cli("curate", folder, "--db", db, "--no-progress")
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("sbmlnoise: error: cannot use '")
    assert notdb.read_text(encoding="utf-8").startswith("these are my notes")

    model = tmp_path / "bd.ant"
    model.write_text("=> X; 10; X => ; X; X = 0", encoding="utf-8")
    proc = _cli("analyze", model, "--method", "lna", "--annotate", notdb / "out.xml",
                "--out", tmp_path / "rep", "--no-progress")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"sbmlnoise: error: cannot write '{notdb / 'out.xml'}': '{notdb}' is a file, not a "
        "folder"]


# ------------------------------------------- item 9/10: curate stays in its folder, no hangs
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_curate_fifo_device_and_outside_symlink_are_invalid_not_hangs(tmp_path, monkeypatch):
    import subprocess

    monkeypatch.setenv("SBMLNOISE_CURATE_WARMUP", "0")
    folder = tmp_path / "d"
    folder.mkdir()
    os.mkfifo(folder / "f.xml")
    (folder / "zero.xml").symlink_to("/dev/zero")
    secret = tmp_path / "secret.ant"
    secret.write_text("=> X; 1; X => ; X; X = 0", encoding="utf-8")
    (folder / "outside.ant").symlink_to(secret)
    (folder / "inside.ant").symlink_to(folder / "real.ant")
    (folder / "real.ant").write_text("=> X; 4; X => ; X; X = 0", encoding="utf-8")
    (folder / "imports.ant").write_text('import "/etc/hostname"\n=> X; 1', encoding="utf-8")
    (folder / "binary.xml").write_bytes(bytes(range(256)) * 8)
    (folder / "big_number.ant").write_text("=> X; k; X => ; X; k = 1e400; X = 0",
                                           encoding="utf-8")
    code = ("import sbmlnoise as sn, json, sys; "
            f"r = sn.curate({str(folder)!r}, db={str(tmp_path / 'r.sqlite')!r}, "
            "method='lna', timeout=60, progress=False); "
            "print(json.dumps({m['name']: [m['status'], m['reason']] for m in r.models}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=str(HERE.parent), timeout=240)
    assert proc.returncode == 0, proc.stderr
    import json

    by = json.loads(proc.stdout.strip().splitlines()[-1])
    assert by["f.xml"][0] == "invalid" and "not a regular file" in by["f.xml"][1]
    assert by["zero.xml"][0] == "invalid" and "outside the curated folder" in by["zero.xml"][1]
    assert by["outside.ant"][0] == "invalid" and "outside the curated folder" in \
        by["outside.ant"][1]
    assert by["inside.ant"] == by["real.ant"] and by["real.ant"][0] == "ok"
    assert by["imports.ant"][0] == "invalid" and "import" in by["imports.ant"][1]
    assert "hostname" not in by["imports.ant"][1].replace("/etc/hostname", "")
    assert by["binary.xml"] == ["invalid", "not a text model file: binary.xml"]
    assert by["big_number.ant"][0] == "invalid" and "1e400" in by["big_number.ant"][1]


# ------------------------------------------- item 4: from_roadrunner after rr.simulate()
def test_from_roadrunner_uses_the_initial_state_after_simulate():
    te = pytest.importorskip("tellurium")
    rr = te.loada("=> X; k; X => ; g*X; k = 10; g = 1; X = 3; "
                  "compartment C = 2; species Z in C; => Z; 1; Z => ; Z; Z = 4")
    rr.simulate(0, 5, 11)  # the current state is now non-integer
    rr.k = 20  # current parameter values are still taken
    net = sn.from_roadrunner(rr)
    amounts = dict(zip(net.species_ids, net.initial_amounts))
    assert amounts["X"] == 3.0 and amounts["Z"] == pytest.approx(8.0)  # 4 per volume x 2
    assert any("initial state" in w for w in net.warnings)
    fsp = sn.fsp(net)  # was: refused, non-integer initial count
    assert fsp.stats.mean["X"] == pytest.approx(20.0, rel=1e-6)  # Poisson(k/g), k = 20
    current = sn.from_roadrunner(rr, state="current")
    assert dict(zip(current.species_ids, current.initial_amounts))["X"] != 3.0
    with pytest.raises(ValueError):
        sn.from_roadrunner(rr, state="later")


# ------------------------------------------- item 6: translational bursts of the two-stage model
@pytest.mark.parametrize("law", ["kp*M", "kp*M*c/c"])
def test_two_stage_translational_burst_estimate(law):
    """Two-stage model (k_m=2, g_m=0.5, k_p=10, g_p=0.02): b = k_p/g_m = 20, f = k_m = 2
    (Shahrezaei & Swain 2008); the protein Fano factor 1 + b/(1 + g_p/g_m) = 20.2308 is
    the LNA's, exact for this linear network."""
    from sbmlnoise.bursts import burst_table

    net = sn.load(f"=> M; km; M => ; gm*M; M => M + P; {law}; P => ; gp*P; km = 2; "
                  "gm = 0.5; kp = 10; gp = 0.02; c = 3; M = 0; P = 0")
    st = sn.lna(net)
    table = burst_table(net, st.mean, st.fano)
    (row,) = table["translational"]
    assert (row["mrna"], row["species"]) == ("M", "P")
    assert row["burst_size"] == pytest.approx(20.0, rel=1e-12)
    assert row["burst_frequency"] == pytest.approx(2.0, rel=1e-12)
    assert row["fano_two_stage"] == pytest.approx(1 + 20 / (1 + 0.02 / 0.5), rel=1e-12)
    assert st.fano["P"] == pytest.approx(row["fano_two_stage"], rel=1e-6)
    # moment estimate b = Fano - 1 against the closed form 1 + b/(1 + g_p/g_m) - 1
    assert table["moment"]["P"]["burst_size"] == pytest.approx(20 / (1 + 0.02 / 0.5),
                                                               rel=1e-6)
    assert "translational" in table["assumptions"]
    # protein feeding back on its own mRNA: not the motif
    fb = sn.load("=> M; km/(1+P); M => ; gm*M; M => M + P; kp*M; P => ; gp*P; km = 2; "
                 "gm = 0.5; kp = 10; gp = 0.02; M = 0; P = 0")
    assert burst_table(fb, st.mean, st.fano)["translational"] == []


# ------------------------------------------- items 8 and 11
@pytest.mark.slow
@pytest.mark.parametrize("model", [
    "=> X; k; X => ; X; k = 1e308*10; X = 0",           # k = inf
    "=> X; k/X; X => ; X; k = 1; X = 0",                # k/X at X = 0
])
def test_analyze_never_hangs_on_infinite_rates(model, tmp_path):
    """Public CLI: ``analyze`` ends (status 2, one line) instead of looping in LSODA."""
    import subprocess

    path = tmp_path / "m.ant"
    path.write_text(model, encoding="utf-8")
    try:
        proc = _cli("analyze", path, "--method", "lna", "--no-progress", timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("analyze hung")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("n", [331, 2000])
def test_flat_sums_and_deep_nesting_load(n):
    """Public API: an n-ary sum of n terms (libsbml stores nested pairs) loads."""
    terms = "".join("<ci> k </ci>" for _ in range(n))
    text = HERE.joinpath("test_curate.py").read_text(encoding="utf-8")
    start = text.index('MINIMAL_SBML = """') + len('MINIMAL_SBML = """')
    sbml = text[start:text.index('"""', start)]
    net = sn.load(sbml.replace("<ci> k </ci>", f"<apply><plus/>{terms}</apply>", 1))
    rates = net.rates(net.initial_amounts)
    assert rates[0] == pytest.approx(10.0 * n)


# ------------------------------------------- item 17: zero-volume compartment, NaN values
@pytest.mark.parametrize("model, words", [
    ("compartment c = 0; species S in c; S = 1; => S; k; S => ; g*S; k = 1; g = 1",
     "compartment 'c' has size 0"),
    ("=> X; k; X => ; X; k = 0/0; X = 0", "parameter 'k' has the value nan"),
])
def test_undefined_values_are_refused_by_analyze_naming_the_element(model, words):
    # valid SBML (the rate equations follow it, SBML Test Suite cases 00539, 00951 ...),
    # but no noise number means anything: analyze refuses it in one line
    net = sn.load(model)
    with pytest.raises(sn.ModelError, match=words):
        sn.analyze(net, trajectories=0, thermo=None)
