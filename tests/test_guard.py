"""Tests of the pre-read guard (issue 16 items 10, 12, 17, 18) through the public loader.

Expected outcomes follow from what each input *is*: a FIFO cannot be read without a
writer, UTF-16 XML is valid XML, 1e400 is not a double, a binary file is not a model.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

import sbmlnoise as sn
from sbmlnoise import ModelError
from sbmlnoise.importer._guard import MAX_COMMENT_CHARS, decode_bytes

HERE = Path(__file__).resolve().parent

SBML = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="bd" name="NAME" substanceUnits="item" timeUnits="second" extentUnits="item">
    <listOfCompartments>
      <compartment id="c" size="1" constant="true" spatialDimensions="3"/>
    </listOfCompartments>
    <listOfSpecies>
      <species id="X" compartment="c" initialAmount="5" hasOnlySubstanceUnits="true"
               boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="k" value="10" constant="true"/>
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
    </listOfReactions>
  </model>
</sbml>
"""


def _within(seconds, fn, *args):
    """Run fn in a thread; fail (instead of hanging the suite) if it does not return."""
    box = {}

    def run():
        try:
            box["value"] = fn(*args)
        except BaseException as err:  # noqa: BLE001 - handed back to the test
            box["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn.__name__} did not return within {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


# ------------------------------------------------------------------ item 9/10: no hangs
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_fifo_and_devices_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "f.xml"
    os.mkfifo(fifo)
    for source in (fifo, str(fifo), "/dev/zero", Path("/dev/null")):
        with pytest.raises(ModelError, match="not a regular file"):
            _within(10, sn.load, source)
    link = tmp_path / "zero.xml"
    link.symlink_to("/dev/zero")
    with pytest.raises(ModelError, match="a device, not a regular file"):
        _within(10, sn.load, link)


def test_antimony_import_is_refused():
    for text in ('import "/etc/passwd"\n=> X; 1; X = 0',
                 'import "/dev/stdin"\n=> X; 1; X = 0',
                 '=> X; 1; X = 0\nimport   "params.txt"'):
        with pytest.raises(ModelError, match="import .* is refused"):
            _within(10, sn.load, text)
    # the word inside comments or strings is harmless
    net = sn.load('// import "/etc/passwd"\n=> X; k; k = 2; X = 0; X is "import"')
    assert dict(zip(net.parameter_ids, net.parameter_values))["k"] == 2.0


# ------------------------------------------------------------------ item 17: encodings
@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig",
                                   "utf-32"])
def test_unicode_encodings_of_sbml_load(tmp_path, codec):
    declared = {"utf-8-sig": "UTF-8", "utf-32": "UTF-32"}.get(codec, "UTF-16")
    text = SBML.replace('encoding="UTF-8"', f'encoding="{declared}"') \
        .replace("NAME", "caf\u00e9 \u2013 \u4e2d")
    path = tmp_path / "m.xml"
    path.write_bytes(text.encode(codec))
    net = sn.load(path)
    assert net.name == "caf\u00e9 \u2013 \u4e2d" and net.species_ids == ("X",)


def test_latin1_declared_sbml_loads(tmp_path):
    path = tmp_path / "m.xml"
    path.write_bytes(SBML.replace("UTF-8", "ISO-8859-1").replace("NAME", "caf\xe9")
                     .encode("latin-1"))
    assert sn.load(path).name == "caf\u00e9"


def test_binary_file_is_not_a_text_model(tmp_path):
    path = tmp_path / "image.xml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(ModelError, match=r"^not a text model file: .*image\.xml$"):
        sn.load(path)
    with pytest.raises(ModelError, match="not a text model file"):
        decode_bytes(b"\xff\xfe\x00\x00\x00\x00\x00\x00", "x")


def test_non_ascii_antimony_identifier_is_a_clear_error():
    with pytest.raises(ModelError, match="non-ASCII character 'é' at line 2"):
        sn.load("// caf\u00e9 is fine in a comment\n=> X\u00e9; 1; X\u00e9 = 0")
    net = sn.load('// caf\u00e9\n=> X; 1; X = 0; X is "Prot\u00e9ine"')
    assert net.species[0].name == "Prot\u00e9ine"


# ------------------------------------------------------------------ item 18: numbers
@pytest.mark.parametrize("literal", ["1e400", "1.5e+400", "1e-400", "2E308"])
def test_out_of_range_antimony_number_is_refused(literal):
    with pytest.raises(ModelError, match=rf"number {literal.replace('+', '[+]')} at line 1 "
                                         "is outside the double-precision range"):
        sn.load(f"=> X; k; X => ; X; k = {literal}; X = 0")
    # the same digits inside an identifier or a comment are not numbers
    net = sn.load(f"=> X; k1e400; X => ; X; k1e400 = 3; X = 0 // k = {literal}")
    assert dict(zip(net.parameter_ids, net.parameter_values))["k1e400"] == 3.0


# ------------------------------------------------------------------ item 12: XML comments
def test_huge_xml_comment_is_refused_quickly(tmp_path):
    text = SBML.replace("<model ", "<!-- " + "a" * (8 * MAX_COMMENT_CHARS) + " --><model ")
    path = tmp_path / "c.xml"
    path.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(ModelError, match="XML comment at line 3 .* more than the limit"):
        sn.load(path)
    assert time.perf_counter() - t0 < 5.0  # libsbml alone: about 8 s for 8 MB
    # ordinary comments are fine and kept in the network's SBML text
    small = SBML.replace("<model ", "<!-- a note --><model ")
    assert "<!-- a note -->" in sn.load(small).sbml
