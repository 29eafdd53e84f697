"""The HTML report in a real headless browser (Debian's ``chromium``; issue 18 item 2).

For the telegraph and the repressilator reports: the page's script runs without any
console message or error, every species has its card and its entry in the selector,
no raw Python text (``{'``, ``None``, ``nan``) is visible, every image decodes (the
page's load handler writes ``data-images="N loaded, 0 broken"`` on ``<body>``), and a
screenshot of the first screen is saved under ``$SBMLNOISE_ARTEFACTS`` (default: pytest's
tmp dir) for a person to look at. No network: the page is opened from a file.

Skipped, with the reason, where no chromium can be found (``.ci/run`` installs it).
SSA seeds 5 and 7, 2e4 / 1e5 events (numbers are not checked here, only the page).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import sbmlnoise as sn

ROOT = Path(__file__).resolve().parents[1]
BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome",
                                          "chrome") if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no chromium/chrome on PATH "
                                "(apt-get install chromium; .ci/run does it)")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=8000"]


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__()
        self.skip, self.parts, self.ids, self.options = 0, [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.skip += tag in ("style", "script")
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "option":
            self.options.append(attrs.get("value"))

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def _browser(page: Path, *args: str, tmp: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(tmp))  # a private profile, no user state
    return subprocess.run([BROWSER, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args,
                           page.resolve().as_uri()], capture_output=True, text=True,
                          timeout=120, env=env)


def _artefacts(tmp_path_factory) -> Path:
    where = os.environ.get("SBMLNOISE_ARTEFACTS")
    path = Path(where) if where else tmp_path_factory.mktemp("browser-artefacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_page(rep, name, tmp_path, artefacts):
    html_path = Path(rep.write(tmp_path / name)["html"])
    dom = _browser(html_path, "--dump-dom", tmp=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line
               or "Uncaught" in line]
    assert not console, console
    match = re.search(r'data-images="(\d+) loaded, (\d+) broken"', dom.stdout)
    assert match, "the page's load handler did not run"
    assert int(match.group(1)) >= 2 + min(len(rep.species), 60) and match.group(2) == "0"
    parser = _Visible()
    parser.feed(dom.stdout)
    text = " ".join("".join(parser.parts).split())
    for sid in rep.species:
        card = "sp-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in sid)
        assert card in parser.ids and card in parser.options, sid
        assert sid in text
    for raw in ("{'", "['", "None", " nan", "NaN", "<NoiseStatistics", "Traceback"):
        assert raw not in text, raw
    assert re.search(r"species 1\u2013\d+ of " + str(len(rep.species)), text)
    assert "The noisiest species is" in text
    shot = artefacts / f"{name}.png"
    res = _browser(html_path, "--window-size=1280,900", f"--screenshot={shot}", tmp=tmp_path)
    assert res.returncode == 0 and shot.stat().st_size > 10_000
    return text


def test_telegraph_report_in_browser(tmp_path, tmp_path_factory):
    rep = sn.analyze(ROOT / "models" / "telegraph.xml", method="all", seed=5,
                     ssa_events=2e4, trajectories=2)
    text = _check_page(rep, "telegraph", tmp_path, _artefacts(tmp_path_factory))
    assert "The noisiest species is M" in text and "finite state projection" in text


@pytest.mark.slow  # 20 s alone, 80 s on a loaded 2-core machine: the oscillator's analysis
def test_repressilator_report_in_browser(tmp_path, tmp_path_factory):
    rep = sn.analyze(ROOT / "models" / "repressilator.xml", method="auto", seed=7,
                     ssa_events=1e5, trajectories=2)
    text = _check_page(rep, "repressilator", tmp_path, _artefacts(tmp_path_factory))
    assert "stochastic simulation" in text and "95% confidence interval" in text
    assert "oscillating model" in text  # no burst numbers for an oscillator


def _biomodels() -> Path | None:
    for cand in (os.environ.get("SBMLNOISE_BIOMODELS"), ROOT.parent / "shared" / "biomodels",
                 ROOT.parents[1] / "shared" / "biomodels"):
        if cand and (Path(cand) / "BIOMD0000000048.xml").is_file():
            return Path(cand)
    return None


@pytest.mark.skipif(_biomodels() is None, reason="curated BioModels folder not found "
                    "(set SBMLNOISE_BIOMODELS)")
def test_curated_23_species_report_in_browser(tmp_path, tmp_path_factory):
    """Kholodenko 1999 EGFR signalling (BIOMD0000000048): 23 named species on 4 pages."""
    rep = sn.analyze(_biomodels() / "BIOMD0000000048.xml", method="lna", trajectories=0)
    assert len(rep.species) == 23
    text = _check_page(rep, "BIOMD0000000048", tmp_path, _artefacts(tmp_path_factory))
    assert "(EGF_EGFR)2_Shc (RSh)" in text  # names beside ids
    assert "page 1 of 4" in text
