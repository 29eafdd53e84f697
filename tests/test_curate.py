"""Tests of ``sn.curate`` / ``sbmlnoise curate``: isolation, statuses, SQLite, resume, Dask.

Expected statuses come from what each fixture *is* (malformed XML -> invalid, a rate rule
-> unsupported, a pure birth process or a limit-cycle oscillator -> no steady state for the
stationary LNA, a killed worker -> timeout), not from our own output. Stand-in workers in
``tests/curate_fixtures/curate_workers.py`` script hangs, memory hogs and crashes so the
isolation is tested deterministically; every other model goes through the real
``sn.analyze``. No timing assertions: wall-time limits are only checked to *end* a model.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sbmlnoise as sn
from sbmlnoise.curate._runner import STATUSES, discover, run_isolated

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "curate_fixtures"
ROOT = HERE.parent
MODELS = ROOT / "models"

# by file path: importable in the workers whatever their sys.path
SCRIPTED = f"{FIXTURES / 'curate_workers.py'}:scripted"

MINIMAL_SBML = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="bd" substanceUnits="item" timeUnits="second" extentUnits="item">
    <listOfCompartments>
      <compartment id="c" size="1" constant="true" spatialDimensions="3"/>
    </listOfCompartments>
    <listOfSpecies>
      <species id="X" compartment="c" initialAmount="5" hasOnlySubstanceUnits="true"
               boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="k" value="10" constant="true"/>
      <parameter id="g" value="1" constant="true"/>
    </listOfParameters>
    <listOfReactions>
      <reaction id="birth" reversible="false">
        <listOfProducts>
          <speciesReference species="X" stoichiometry="1" constant="true"/>
        </listOfProducts>
        <kineticLaw>
          <math xmlns="http://www.w3.org/1998/Math/MathML"><ci> k </ci></math>
        </kineticLaw>
      </reaction>
      <reaction id="death" reversible="false">
        <listOfReactants>
          <speciesReference species="X" stoichiometry="1" constant="true"/>
        </listOfReactants>
        <kineticLaw>
          <math xmlns="http://www.w3.org/1998/Math/MathML">
            <apply><times/><ci> g </ci><ci> X </ci></apply>
          </math>
        </kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>
"""


def _rows(db) -> list[dict]:
    conn = sqlite3.connect(str(db))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM models ORDER BY name")]
    finally:
        conn.close()


def _species_rows(db) -> list[tuple]:
    conn = sqlite3.connect(str(db))
    try:
        return conn.execute("SELECT model_id, species, method FROM species_stats").fetchall()
    finally:
        conn.close()


def _by_name(result) -> dict:
    return {m["name"]: m for m in result.models}


def _write_scripted(folder: Path, n_ok: int = 3) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_ok):
        (folder / f"ok{i}.xml").write_text(f"<x>CURATE-OK {i}</x>", encoding="utf-8")
    (folder / "copy_of_ok0.xml").write_text("<x>CURATE-OK 0</x>", encoding="utf-8")
    (folder / "hang.xml").write_text("<x>CURATE-HANG</x>", encoding="utf-8")
    (folder / "hog.sbml").write_text("<x>CURATE-HOG</x>", encoding="utf-8")
    (folder / "segv.ant").write_text("// CURATE-SEGV", encoding="utf-8")
    (folder / "boom.xml").write_text("<x>CURATE-BOOM</x>", encoding="utf-8")
    (folder / "a&b<c>.xml").write_text("<x>CURATE-OK odd name</x>", encoding="utf-8")
    (folder / "notes.txt").write_text("not a model", encoding="utf-8")
    hidden = folder / ".hidden"
    hidden.mkdir(exist_ok=True)
    (hidden / "skip.xml").write_text("<x>CURATE-BOOM</x>", encoding="utf-8")


# =========================================================================== discovery
def test_discover_suffixes_hidden_and_excluded(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "a.xml").write_text("x", encoding="utf-8")
    (tmp_path / "sub" / "b.SBML").write_text("x", encoding="utf-8")
    (tmp_path / "sub" / "deeper" / "c.ant").write_text("x", encoding="utf-8")
    (tmp_path / "sub" / "d.txt").write_text("x", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "e.xml").write_text("x", encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "f.xml").write_text("x", encoding="utf-8")
    names = [n for _, n in discover(tmp_path, exclude=[tmp_path / "out"])]
    assert names == ["a.xml", "sub/b.SBML", "sub/deeper/c.ant"]
    with pytest.raises(FileNotFoundError):
        discover(tmp_path / "missing")


# =========================================================================== isolation
def test_isolation_statuses_copies_resume_and_outputs(tmp_path):
    """Hang -> timeout, memory hog -> error 'memory', segfault -> error 'died', exception
    -> error; identical files analysed once; a second run skips everything."""
    folder = tmp_path / "models"
    _write_scripted(folder)
    db, out = tmp_path / "r.sqlite", tmp_path / "out"
    res = sn.curate(folder, db=db, out=out, timeout=3, max_memory=256, workers=2,
                    worker=SCRIPTED, progress=False)
    by = _by_name(res)
    assert set(by) == {"ok0.xml", "ok1.xml", "ok2.xml", "copy_of_ok0.xml", "hang.xml",
                       "hog.sbml", "segv.ant", "boom.xml", "a&b<c>.xml"}
    for name in ("ok0.xml", "ok1.xml", "ok2.xml", "copy_of_ok0.xml", "a&b<c>.xml"):
        assert by[name]["status"] == "ok", by[name]
    assert by["hang.xml"]["status"] == "timeout"
    assert "wall-time limit of 3 s" in by["hang.xml"]["reason"]
    assert by["hog.sbml"]["status"] == "error"
    assert "memory" in by["hog.sbml"]["reason"]
    assert by["segv.ant"]["status"] == "error"
    assert "SIGSEGV" in by["segv.ant"]["reason"]
    assert by["boom.xml"]["status"] == "error"
    assert by["boom.xml"]["reason"] == "ZeroDivisionError: scripted failure"
    assert all(m["reason"] for m in res.models)
    # identical content: one analysis, the other row points at it
    copies = [m for m in (by["ok0.xml"], by["copy_of_ok0.xml"]) if m["copied_from"]]
    assert len(copies) == 1
    assert res.analysed == len(by) - 1 and res.skipped == 0
    rows = _rows(db)
    assert len(rows) == len(by)
    assert len({(r["path"], r["content_hash"], r["settings_hash"]) for r in rows}) == len(rows)
    assert all(len(r["content_hash"]) == 64 for r in rows)
    assert len(_species_rows(db)) == 2 * 5  # 5 ok models x 2 species

    # headline numbers and escaping in the index
    assert by["ok1.xml"]["max_fano"] == pytest.approx(1.0)
    assert by["ok1.xml"]["max_fano_species"] == "X"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "a&amp;b&lt;c&gt;.xml" in index and "a&b<c>" not in index
    assert not re.search(r"(src|href)=\"?(https?:)?//", index)
    assert "<script>" in index and "data-sort" in index
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"] == {"ok": 5, "unsupported": 0, "invalid": 0, "timeout": 1,
                                 "error": 3}
    csv_lines = (out / "summary.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_lines) == 1 + len(by)
    text = res.summary()
    assert "timeout 1" in text and "slowest models:" in text

    # the same result recorded twice (a concurrent run on the same database) is refused
    from sbmlnoise.curate import _db as curate_db

    conn = curate_db.connect(db)
    try:
        first = dict(conn.execute("SELECT * FROM models WHERE name='ok1.xml'").fetchone())
        assert curate_db.record(conn, [first], {"status": "ok", "reason": "again"},
                                settings={}, version="x") == []
    finally:
        conn.close()

    # resume: nothing to do, nothing duplicated (3.0 s and 256.0 MB are the same settings)
    again = sn.curate(folder, db=db, timeout=3.0, max_memory=256.0, worker=SCRIPTED,
                      progress=False)
    assert again.analysed == 0 and again.skipped == len(by)
    assert again.counts == res.counts
    assert len(_rows(db)) == len(by)
    # a changed setting is a new settings hash: analysed again, old rows kept
    changed = sn.curate(folder / "ok1.xml", db=db, timeout=4, max_memory=256,
                        worker=SCRIPTED, progress=False)
    assert changed.analysed == 1 and len(_rows(db)) == len(by) + 1


def test_subprocess_launcher_timeout_and_result(tmp_path):
    """The plain-subprocess launcher (used inside daemonic Dask workers) isolates too."""
    base = {"path": str(tmp_path / "m.xml"), "name": "m.xml", "settings": {},
            "timeout": 2.0, "max_memory": 256, "worker": SCRIPTED}
    hung = run_isolated(dict(base, content=b"CURATE-HANG"), launcher="subprocess")
    assert hung["status"] == "timeout"
    done = run_isolated(dict(base, content=b"CURATE-OK", timeout=60.0),  # start-up under load
                        launcher="subprocess")
    assert done["status"] == "ok" and done["species"][0]["fano"] == 1.0


# =========================================================================== real analyses
def _mixed_folder(tmp_path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("invalid_xml.xml", "undefined_id.xml", "billion_laughs.xml",
                 "unbounded_birth.ant", "oscillator.ant", "rate_rule.ant", "delay.ant"):
        shutil.copy(FIXTURES / name, folder / name)
    (folder / "bd.xml").write_text(MINIMAL_SBML, encoding="utf-8")
    (folder / "empty.xml").write_text("", encoding="utf-8")
    # 20000 nested <apply>: overflows a C stack or Python's recursion limit in the reader
    (folder / "deep_nesting.xml").write_text(_mutate(MINIMAL_SBML, "deep_nesting", 3),
                                             encoding="utf-8")
    bundled = sorted(MODELS.glob("*.xml"))
    if bundled:
        (folder / "bundled").mkdir()
        for p in bundled:
            shutil.copy(p, folder / "bundled" / p.name)
    return folder


def test_real_models_and_pathological_fixtures(tmp_path):
    """Bundled models + broken files through the real sn.analyze (LNA keeps it quick)."""
    folder = _mixed_folder(tmp_path)
    res = sn.curate(folder, db=tmp_path / "r.sqlite", method="lna", timeout=90,
                    max_memory=2048, workers=2, progress=False)
    by = _by_name(res)
    assert all(m["status"] in STATUSES and m["reason"] for m in res.models)

    assert by["invalid_xml.xml"]["status"] == "invalid"
    assert "not well-formed" in by["invalid_xml.xml"]["reason"]
    assert by["undefined_id.xml"]["status"] == "invalid"
    assert by["billion_laughs.xml"]["status"] == "invalid"
    assert "ENTITY" in by["billion_laughs.xml"]["reason"]
    # no stationary distribution: a pure birth process grows, the Brusselator cycles
    for name in ("unbounded_birth.ant", "oscillator.ant"):
        assert by[name]["status"] == "error", by[name]
        assert "steady state" in by[name]["reason"], by[name]
        assert by[name]["reason"].startswith("NoSteadyState")
    assert by["empty.xml"]["status"] == "invalid" and "empty" in by["empty.xml"]["reason"]
    assert by["deep_nesting.xml"]["status"] in ("error", "invalid"), by["deep_nesting.xml"]
    assert by["rate_rule.ant"]["status"] == "unsupported"
    assert by["rate_rule.ant"]["unsupported_feature"] == "RateRule"
    assert "rate rules" in by["rate_rule.ant"]["features"]
    assert by["delay.ant"]["status"] == "unsupported"
    assert "delay" in by["delay.ant"]["reason"] and "delay" in by["delay.ant"]["features"]
    assert "rate rules" in res.summary() or "RateRule" in res.summary()

    # birth-death: Fano factor 1 exactly for the LNA (Poisson stationary law, mean k/g)
    bd = by["bd.xml"]
    assert bd["status"] == "ok", bd
    assert bd["method"] == "lna" and bd["n_species"] == 1 and bd["n_reactions"] == 2
    conn = sqlite3.connect(str(tmp_path / "r.sqlite"))
    mean, fano = conn.execute("SELECT mean, fano FROM species_stats WHERE model_id=? AND "
                              "species='X' AND method='lna'", (bd["id"],)).fetchone()
    conn.close()
    assert mean == pytest.approx(10.0, rel=1e-6) and fano == pytest.approx(1.0, rel=1e-6)

    bundled = [m for m in res.models if m["name"].startswith("bundled/")]
    for m in bundled:  # every bundled model ends with a definite status and reason
        assert m["status"] in STATUSES and m["reason"]
    ok = [m for m in res.models if m["status"] == "ok"]
    assert ok and all(m["n_species"] for m in ok)


def test_reports_index_and_annotations(tmp_path):
    """--out: each analysed model's own report and annotated SBML, linked from index.html."""
    folder = tmp_path / "two"
    folder.mkdir()
    (folder / "bd.xml").write_text(MINIMAL_SBML, encoding="utf-8")
    shutil.copy(FIXTURES / "invalid_xml.xml", folder)
    out = tmp_path / "out"
    res = sn.curate(folder, db=tmp_path / "r.sqlite", out=out, method="lna", timeout=120,
                    annotate=True, progress=False)
    by = _by_name(res)
    assert by["bd.xml"]["status"] == "ok" and by["invalid_xml.xml"]["status"] == "invalid"
    reports = sorted((out / "models").glob("*/report.html"))
    assert [p.parent.name.startswith("bd.xml-") for p in reports] == [True]
    index = (out / "index.html").read_text(encoding="utf-8")
    link = f'href="models/{reports[0].parent.name}/report.html"'
    assert link in index
    annotated = reports[0].parent / "annotated.xml"
    assert annotated.exists(), by["bd.xml"]["warnings"]
    back = sn.read_annotations(annotated)  # birth-death k = 10, g = 1: mean k/g = 10
    assert back["species"]["X"]["mean"] == pytest.approx(10.0, rel=1e-6)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = {m["name"]: m for m in summary["models"]}
    assert rows["bd.xml"]["report"] == f"models/{reports[0].parent.name}/report.html"
    assert rows["invalid_xml.xml"]["report"] is None


def test_huge_state_space_times_out(tmp_path):
    """40 species with ~1000 molecules each: the FSP refuses the projection at once
    (StateSpaceTooLarge, an error with a reason), and an SSA asked for an endless event
    budget runs until the wall-time limit kills it; the sizes learned before the kill are
    kept."""
    folder = tmp_path / "hang"
    folder.mkdir()
    shutil.copy(FIXTURES / "huge_state_space.ant", folder)
    res = sn.curate(folder, db=tmp_path / "h.sqlite", method="ssa", timeout=4,
                    max_memory=1024, progress=False,
                    analyze_options={"seed": 0, "ssa_events": 1e12, "trajectories": 0})
    (m,) = res.models
    assert m["status"] == "timeout", m
    assert "wall-time limit of 4 s" in m["reason"]
    assert (m["n_species"], m["n_reactions"]) == (40, 80)
    fsp = sn.curate(folder, db=tmp_path / "h.sqlite", method="fsp", timeout=30,
                    max_memory=1024, progress=False)
    (m,) = fsp.models
    assert m["status"] in ("error", "timeout"), m
    if m["status"] == "error":
        assert "StateSpaceTooLarge" in m["reason"] or "memory" in m["reason"], m


# =========================================================================== kill + resume
def _cli_env() -> dict:
    env = dict(os.environ)
    env["SBMLNOISE_CURATE_WARMUP"] = "0"  # the stand-in worker needs no warm backends
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return env


def test_cli_killed_run_resumes_without_loss_or_duplicates(tmp_path):
    folder = tmp_path / "slow"
    folder.mkdir()
    n = 10
    for i in range(n):
        (folder / f"m{i:02d}.xml").write_text(f"<x>CURATE-SLOW CURATE-OK {i}</x>",
                                              encoding="utf-8")
    db = tmp_path / "k.sqlite"
    cmd = [sys.executable, "-m", "sbmlnoise", "curate", str(folder), "--db", str(db),
           "--workers", "1", "--timeout", "30", "--no-progress", "--worker", SCRIPTED]
    proc = subprocess.Popen(cmd, env=_cli_env(), cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    committed = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
                    committed = conn.execute("SELECT count(*) FROM models").fetchone()[0]
                    conn.close()
                except sqlite3.OperationalError:
                    committed = 0
                if committed >= 2:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
    assert 2 <= committed < n
    done = subprocess.run(cmd, env=_cli_env(), cwd=tmp_path, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "already in" in done.stdout
    rows = _rows(db)
    assert sorted(r["name"] for r in rows) == [f"m{i:02d}.xml" for i in range(n)]
    assert all(r["status"] == "ok" for r in rows)
    species = _species_rows(db)
    assert len(species) == 2 * n and len(set(species)) == len(species)


def test_cli_help_and_bad_options(capsys):
    from sbmlnoise import cli

    with pytest.raises(SystemExit) as info:
        cli.main(["curate", "--help"])
    assert info.value.code == 0
    assert "examples:" in capsys.readouterr().out
    assert cli.main(["curate", "/nonexistent/folder", "--db", os.devnull + ".x"]) == 2
    assert cli.main(["curate", ".", "--annotate"]) == 2


# =========================================================================== Dask
def test_dask_local_cluster_streams_results_and_keeps_timeouts(tmp_path):
    distributed = pytest.importorskip("distributed")
    folder = tmp_path / "dask"
    folder.mkdir()
    (folder / "bd.xml").write_text(MINIMAL_SBML, encoding="utf-8")
    (folder / "rate_rule.ant").write_bytes((FIXTURES / "rate_rule.ant").read_bytes())
    (folder / "hang.xml").write_text("<x>CURATE-HANG</x>", encoding="utf-8")
    (folder / "bad.xml").write_text("<sbml", encoding="utf-8")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            res = sn.curate(folder, db=tmp_path / "d.sqlite", client=client, method="lna",
                            timeout=6, worker=SCRIPTED, progress=False)
            # scheduler= by address: nothing left to do, the same rows come back
            again = sn.curate(folder, db=tmp_path / "d.sqlite", method="lna",
                              scheduler=cluster.scheduler_address, timeout=6,
                              worker=SCRIPTED, progress=False)
    by = _by_name(res)
    assert by["bd.xml"]["status"] == "ok", by["bd.xml"]
    assert by["rate_rule.ant"]["status"] == "unsupported"
    assert by["hang.xml"]["status"] == "timeout"
    assert by["bad.xml"]["status"] == "invalid"
    assert again.analysed == 0 and again.counts == res.counts
    assert len(_rows(tmp_path / "d.sqlite")) == 4


# =========================================================================== fuzzing
_BAD_MATH = [
    "<apply><divide/><cn>1</cn></apply>",
    "<apply><frobnicate/><ci> k </ci></apply>",
    "<cn>NaN</cn>",
    "<apply><divide/><cn>1</cn><cn>0</cn></apply>",
    "<apply><power/><ci> X </ci><cn>1e308</cn></apply>",
    "<apply><csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/symbols/"
    "delay\">delay</csymbol><ci> X </ci><cn>1</cn></apply>",
    "<apply><ln/><cn>-1</cn></apply>",
    "<ci> undefined_thing </ci>",
    "<apply><plus/>",
]
_LAUGHS = ('<!DOCTYPE sbml [<!ENTITY a "aaaaaaaaaa">'
           + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                     for i in range(8)) + "]>")
_XXE = '<!DOCTYPE sbml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _mutate(text: str, kind: str, r: int) -> str:
    """One mutation of an SBML text; ``r`` picks the variant / position."""
    if kind == "bad_math":
        return text.replace("<ci> k </ci>", _BAD_MATH[r % len(_BAD_MATH)], 1)
    if kind == "missing_reference":
        options = [('<parameter id="k" value="10" constant="true"/>', ""),
                   ('species="X" stoichiometry="1" constant="true"/>\n        </listOfProducts>',
                    'species="Q" stoichiometry="1" constant="true"/>\n        </listOfProducts>'),
                   ('compartment="c" initialAmount', 'compartment="nowhere" initialAmount'),
                   ("<ci> g </ci>", "<ci> gg </ci>")]
        old, new = options[r % len(options)]
        return text.replace(old, new, 1)
    if kind == "huge_stoichiometry":
        value = ["1e300", "1000000000", "-5", "0", "2.5", "NaN", "INF"][r % 7]
        return text.replace('stoichiometry="1"', f'stoichiometry="{value}"', 1 + r % 2)
    if kind == "deep_nesting":
        depth = [10, 300, 3000, 20000][r % 4]
        nested = "<apply><plus/>" * depth + "<ci> k </ci>" + "<cn>0</cn></apply>" * depth
        return text.replace("<ci> k </ci>", nested, 1)
    if kind == "entities":
        decl = _LAUGHS if r % 2 == 0 else _XXE
        ref = "&i;" if r % 2 == 0 else "&xxe;"
        text = text.replace("?>", "?>\n" + decl, 1)
        return text.replace('<model id="bd"', f'<model id="bd" name="{ref}"', 1)
    if kind == "truncate":
        return text[: r % max(1, len(text))]
    if kind == "corrupt_byte":
        pos = r % max(1, len(text))
        return text[:pos] + "<>&\"\x00\u00e9'"[r % 7] + text[pos + 1:]
    if kind == "bad_values":
        value = ["-1", "1e308", "NaN", "INF", "abc", "0"][r % 6]
        target = ['initialAmount="5"', 'value="10"', 'size="1"'][r % 3]
        return text.replace(target, target.split("=")[0] + f'="{value}"', 1)
    if kind == "flat_sum":  # issue 16 item 11: libsbml nests n-ary plus as pairs
        n = [10, 331, 1000, 5000][r % 4]
        return text.replace("<ci> k </ci>", "<apply><plus/>" + "<ci> k </ci>" * n
                            + "</apply>", 1)
    if kind == "div_zero":  # issue 16 item 8: k/X at X = 0
        text = text.replace('initialAmount="5"', 'initialAmount="0"', 1)
        return text.replace("<ci> k </ci>", "<apply><divide/><ci> k </ci><ci> X </ci>"
                            "</apply>", 1)
    if kind == "huge_comment":  # issue 16 item 12: libsbml reads long comments slowly
        size = [100, 2_000_000][r % 2]
        return text.replace("<model ", f"<!-- {'c' * size} --><model ", 1)
    if kind == "fd_chain":  # issue 16 item 11: definitions calling each other twice
        n = [3, 20][r % 2]
        defs = ['<functionDefinition id="f0"><math xmlns="http://www.w3.org/1998/Math/'
                'MathML"><lambda><bvar><ci>x</ci></bvar><ci>x</ci></lambda></math>'
                '</functionDefinition>']
        for i in range(1, n):
            defs.append(
                f'<functionDefinition id="f{i}"><math xmlns="http://www.w3.org/1998/Math/'
                'MathML"><lambda><bvar><ci>x</ci></bvar><apply><plus/><apply><ci>'
                f'f{i - 1}</ci><ci>x</ci></apply><apply><ci>f{i - 1}</ci><ci>x</ci></apply>'
                '</apply></lambda></math></functionDefinition>')
        text = text.replace("<listOfCompartments>", "<listOfFunctionDefinitions>"
                            + "".join(defs) + "</listOfFunctionDefinitions>\n    "
                            "<listOfCompartments>", 1)
        return text.replace("<ci> k </ci>", f"<apply><ci>f{n - 1}</ci><ci> k </ci></apply>",
                            1)
    raise AssertionError(kind)


_KINDS = ("bad_math", "missing_reference", "huge_stoichiometry", "deep_nesting",
          "entities", "truncate", "corrupt_byte", "bad_values", "flat_sum", "div_zero",
          "huge_comment", "fd_chain")
#: how a document reaches the folder (issue 16 items 9, 10, 17, 18): the last one wins
_FILE_KINDS = ("utf8", "utf16", "binary", "fifo", "symlink_outside", "antimony_import",
               "antimony_bad_number", "antimony_non_ascii")
_OUTSIDE = Path(__file__).resolve()  # a regular file outside every curated folder


def _write_document(folder: Path, i: int, text: str, how: str) -> Path:
    """Write document ``i`` as ``how`` says; returns its path."""
    path = folder / (f"m{i}.ant" if how.startswith("antimony") else f"m{i}.xml")
    if how == "utf16":
        path.write_bytes(text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
                         .encode("utf-16", "surrogatepass"))
    elif how == "binary":
        path.write_bytes(bytes(range(256)) * 4 + text.encode("utf-8", "surrogatepass"))
    elif how == "fifo" and hasattr(os, "mkfifo"):
        os.mkfifo(path)
    elif how == "symlink_outside":
        path.symlink_to(_OUTSIDE)
    elif how == "antimony_import":
        path.write_text(f'import "{["/etc/passwd", "/dev/stdin"][i % 2]}"\n=> X; k; '
                        "k = 1; X = 0", encoding="utf-8")
    elif how == "antimony_bad_number":
        path.write_text("=> X; k; X => ; X; k = 1e400; X = 0", encoding="utf-8")
    elif how == "antimony_non_ascii":
        path.write_text("=> X\u00e9; 1; X\u00e9 => ; X\u00e9; X\u00e9 = 0", encoding="utf-8")
    else:
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def _fuzz_documents():
    from hypothesis import strategies as st

    mutation = st.tuples(st.sampled_from(_KINDS), st.integers(0, 10**6))
    how = st.sampled_from(_FILE_KINDS)
    return st.lists(st.tuples(st.lists(mutation, min_size=1, max_size=3), how),
                    min_size=1, max_size=3)


def _check_fuzz(tmp_path, documents, timeout):
    folder = tmp_path / "fuzz"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    written = {}
    for i, (mutations, how) in enumerate(documents):
        text = MINIMAL_SBML
        for kind, r in mutations:
            text = _mutate(text, kind, r)
        written[_write_document(folder, i, text, how).name] = (how, mutations)
    db = tmp_path / "fuzz.sqlite"
    if db.exists():
        db.unlink()
    res = sn.curate(folder, db=db, method="lna", timeout=timeout, max_memory=1024,
                    workers=2, progress=False)
    assert len(res.models) == len(documents)
    for m in res.models:
        assert m["status"] in STATUSES and m["reason"].strip(), m
        assert "\n" not in m["reason"]
        if m["status"] == "ok":
            assert m["n_species"] == 1
    by = _by_name(res)
    for name, (how, mutations) in written.items():
        m = by[name]
        assert "codec can't decode" not in m["reason"], m  # item 17
        expected = {"fifo": "not a regular file", "symlink_outside": "outside the curated",
                    "binary": "not a text model file", "antimony_import": "import",
                    "antimony_bad_number": "double-precision range",
                    "antimony_non_ascii": "non-ASCII"}.get(how)
        if expected and (how != "fifo" or hasattr(os, "mkfifo")):
            assert m["status"] == "invalid", (how, m)
            assert expected in m["reason"] or "ENTITY" in m["reason"], (how, m)
        if how == "antimony_import":  # no content of the imported file leaks
            assert "root:" not in m["reason"] and "root" not in m["features"]
        kinds = {k for k, _ in mutations}
        if how in ("utf8", "utf16") and "huge_comment" in kinds and not (
                kinds & {"truncate", "corrupt_byte", "entities"}) and any(
                k == "huge_comment" and r % 2 == 1 for k, r in mutations):
            assert m["status"] == "invalid" and "XML comment" in m["reason"], m  # item 12
    for p in folder.iterdir():
        if p.is_symlink() or not p.is_file():
            continue
        if "<!ENTITY" in p.read_bytes().decode("utf-8", errors="replace"):
            assert by[p.name]["status"] == "invalid"  # never expanded: refused
    assert len(_rows(db)) == len(documents)


def test_fuzz_mutated_sbml_always_ends_with_a_status(tmp_path_factory):
    """12 derandomized hypothesis examples (up to 3 documents each, up to 3 mutations per
    document), per-model timeout 10 s: every outcome is a status with a one-line reason."""
    pytest.importorskip("hypothesis")
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=12, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(_fuzz_documents())
    def run(documents):
        _check_fuzz(tmp_path_factory.mktemp("fz"), documents, timeout=10)

    run()


@pytest.mark.slow
def test_fuzz_mutated_sbml_many(tmp_path_factory):
    """The same property over 150 random examples."""
    pytest.importorskip("hypothesis")
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(_fuzz_documents())
    def run(documents):
        _check_fuzz(tmp_path_factory.mktemp("fz"), documents, timeout=20)

    run()


# =========================================================================== slow
@pytest.mark.slow
def test_dask_worker_processes_use_subprocess_isolation(tmp_path, monkeypatch):
    """Dask worker *processes* are daemonic: each model runs as a plain subprocess there,
    with the same timeout."""
    distributed = pytest.importorskip("distributed")
    folder = tmp_path / "dask"
    folder.mkdir()
    (folder / "bd.xml").write_text(MINIMAL_SBML, encoding="utf-8")
    (folder / "hang.xml").write_text("<x>CURATE-HANG</x>", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT),
                                                      os.environ.get("PYTHONPATH", "")]))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            res = sn.curate(folder, db=tmp_path / "d.sqlite", client=client, method="lna",
                            timeout=30, worker=SCRIPTED, progress=False)
    by = _by_name(res)
    assert by["bd.xml"]["status"] == "ok", by["bd.xml"]
    assert by["hang.xml"]["status"] == "timeout"


@pytest.mark.slow
def test_bundled_models_auto_with_reports(tmp_path):
    """The default method on the bundled zoo, with per-model HTML reports."""
    if not list(MODELS.glob("*.xml")):
        pytest.skip("bundled models absent")
    folder = _mixed_folder(tmp_path)
    res = sn.curate(folder, db=tmp_path / "r.sqlite", out=tmp_path / "out", timeout=600,
                    progress=False)
    by = _by_name(res)
    assert all(m["status"] in STATUSES and m["reason"] for m in res.models)
    assert by["bd.xml"]["status"] == "ok" and by["bd.xml"]["method"] == "fsp"
    for name in ("unbounded_birth.ant", "oscillator.ant"):  # no stable steady state, said
        assert "steady state" in by[name]["reason"], by[name]
    assert by["rate_rule.ant"]["status"] == "unsupported"
    assert by["invalid_xml.xml"]["status"] == "invalid"
    ok = [m for m in res.models if m["status"] == "ok"]
    reports = list((tmp_path / "out" / "models").glob("*/report.html"))
    assert len(reports) == len(ok)


def test_index_sort_script_orders_rows():
    """The inline sorting script, run under node with a minimal DOM stand-in: numeric
    columns sort as numbers (missing values first), a second click reverses."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    from sbmlnoise.curate._outputs import _SCRIPT

    harness = """
function el(attrs, text) {
  var a = Object.assign({}, attrs || {});
  return {textContent: text || "", handlers: [],
    getAttribute: function (k) { return k in a ? a[k] : null; },
    setAttribute: function (k, v) { a[k] = String(v); },
    removeAttribute: function (k) { delete a[k]; },
    addEventListener: function (e, f) { this.handlers.push(f); }};
}
var heads = [el({"data-type": "str"}, "Model"), el({"data-type": "num"}, "max Fano")];
function row(name, fano) {
  return {cells: [el({"data-sort": name}, name), el({"data-sort": fano}, fano)]};
}
var body = {rows: [row("b", "2.5"), row("a", "10"), row("c", ""), row("d", "3")],
  appendChild: function (r) { var i = this.rows.indexOf(r); this.rows.splice(i, 1);
                              this.rows.push(r); }};
var table = {tHead: {rows: [{cells: heads}]}, tBodies: [body]};
var document = {getElementById: function () { return table; }};
SCRIPT
function names() { return body.rows.map(function (r) { return r.cells[0].textContent; })
                   .join(","); }
heads[1].handlers[0](); var up = names();
heads[1].handlers[0](); var down = names();
heads[0].handlers[0](); var byName = names();
console.log(up + " " + down + " " + byName);
""".replace("SCRIPT", _SCRIPT)
    out = subprocess.run([node, "-e", harness], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["c,b,d,a", "a,d,b,c", "a,b,c,d"]


def _children(pid: int) -> set[int]:
    """Descendants of ``pid`` from /proc (Linux)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="utf-8", errors="replace")
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_killed_run_leaves_no_worker_behind(tmp_path):
    """SIGKILL the curating parent while a worker hangs: the fork server and the worker
    go too (no orphan keeps running on a shared machine)."""
    folder = tmp_path / "h"
    folder.mkdir()
    (folder / "hang.xml").write_text("<x>CURATE-HANG</x>", encoding="utf-8")
    cmd = [sys.executable, "-m", "sbmlnoise", "curate", str(folder), "--db",
           str(tmp_path / "o.sqlite"), "--timeout", "300", "--no-progress", "--worker",
           SCRIPTED]
    proc = subprocess.Popen(cmd, env=_cli_env(), cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        kids: set[int] = set()
        while time.monotonic() < deadline and len(kids) < 2:  # fork server + worker
            time.sleep(0.2)
            kids = _children(proc.pid)
        assert len(kids) >= 2, kids
    finally:
        proc.kill()
        proc.wait(30)
    deadline = time.monotonic() + 30
    alive = set(kids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {p for p in alive if Path(f"/proc/{p}").exists()
                 and "Z" not in _state(p)}
    assert not alive, f"left running: {alive}"


def _state(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"
