"""Pre-read guard for model sources (private): what may reach libsbml and Antimony.

Called by the importer before any parser sees the text (``importer._read_source``) and by
the curate worker. It decides, on bytes and text only:

* **Files.** Only regular files are read (a FIFO, device or socket is refused at once, so
  ``/dev/stdin`` or ``mkfifo`` never hangs), opened non-blocking and read up to
  :data:`MAX_BYTES` (the importer's 200 MB limit) plus one byte.
* **Encodings.** A byte-order mark selects UTF-8, UTF-16 or UTF-32; UTF-16 XML without a
  mark is recognised by its first characters; otherwise UTF-8, then the encoding the XML
  declaration names, then Latin-1. XML decoded from anything but UTF-8 has its
  declaration's ``encoding`` rewritten to UTF-8 (libsbml receives UTF-8). Bytes that decode
  to control characters are "not a text model file: NAME".
* **XML comments.** libsbml parses a single comment in time quadratic in its length (8 MB:
  8 s). A comment longer than :data:`MAX_COMMENT_CHARS` is refused; the text is never
  rewritten, so write-back keeps every comment.
* **Antimony.** ``import "file"`` reads a local file, which an untrusted model must not do:
  imports are refused (paste the imported module into the model instead). Identifiers must
  be ASCII (the antimony library fails on others with a codec error). A number outside
  the double range (``1e400``, ``1e-400``) is refused: Antimony would read ``1e400`` as 1
  with the unit ``e400`` and ``1.5e+400`` as 401.5.

Every refusal is a :class:`~sbmlnoise.errors.ModelError` naming the file (or line) and the
reason.
"""

from __future__ import annotations

import codecs
import math
import os
import re
import stat
from pathlib import Path

from ..errors import ModelError

__all__ = ["MAX_BYTES", "MAX_COMMENT_CHARS", "check_text", "decode_bytes", "guarded_source",
           "read_model_file"]

#: largest model file read (bytes); the importer refuses larger SBML documents too
MAX_BYTES = 200_000_000
#: longest single XML comment handed to libsbml (characters)
MAX_COMMENT_CHARS = 1_000_000
_MODEL_SUFFIXES = (".xml", ".sbml", ".ant")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_XML_DECL = re.compile(r"""^(\ufeff?\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])([A-Za-z0-9._-]+)\2""")
_XML_DECL_BYTES = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))


# =========================================================================== files
def read_model_file(path) -> bytes:
    """Bytes of a model file: regular files only, at most :data:`MAX_BYTES`.

    Raises :class:`ModelError` for a missing, unreadable, non-regular or oversized file;
    never blocks (the file is opened with ``O_NONBLOCK`` and checked again after opening).
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except OSError as err:
        raise ModelError(f"cannot read model file '{path}': {err.strerror or err}") from None
    _require_regular(path, info.st_mode)
    if info.st_size > MAX_BYTES:
        raise ModelError(f"model file '{path}' is {info.st_size / 1e6:.0f} MB, larger than "
                         f"the {MAX_BYTES / 1e6:.0f} MB limit")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise ModelError(f"cannot read model file '{path}': {err.strerror or err}") from None
    try:
        _require_regular(path, os.fstat(fd).st_mode)  # swapped for a FIFO after the stat
        chunks, total = [], 0
        while total <= MAX_BYTES:
            chunk = os.read(fd, min(1 << 22, MAX_BYTES + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as err:
        raise ModelError(f"cannot read model file '{path}': {err.strerror or err}") from None
    finally:
        os.close(fd)
    if total > MAX_BYTES:
        raise ModelError(f"model file '{path}' is larger than the {MAX_BYTES / 1e6:.0f} MB "
                         "limit")
    return b"".join(chunks)


def _require_regular(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise ModelError(f"cannot read model file '{path}': it is {kind}, not a regular file")


# =========================================================================== decoding
def decode_bytes(data: bytes, name: str = "<bytes>") -> str:
    """Decode a model file's bytes (see the module docstring for the order of attempts).

    Raises :class:`ModelError` ``"not a text model file: NAME"`` for binary content.
    """
    encoding = None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            encoding, data = enc, data[len(bom):]
            break
    if encoding is None:
        if data[:4] == b"<\x00?\x00":
            encoding = "utf-16-le"
        elif data[:4] == b"\x00<\x00?":
            encoding = "utf-16-be"
    candidates = [encoding] if encoding else ["utf-8"]
    if encoding is None:
        declared = _XML_DECL_BYTES.match(data[:200])
        if declared:
            candidates.append(declared.group(1).decode("ascii").lower())
        candidates.append("latin-1")
    decoded: tuple[str, str] | None = None  # (text, the encoding that decoded it)
    for enc in candidates:
        try:
            decoded = data.decode(enc), enc
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if decoded is None or _CONTROL.search(decoded[0]):
        raise ModelError(f"not a text model file: {name}")
    text, used = decoded
    if used.replace("_", "-") not in ("utf-8", "utf8"):
        text = _XML_DECL.sub(lambda m: f"{m.group(1)}{m.group(2)}UTF-8{m.group(2)}", text,
                             count=1)
    return text


# =========================================================================== text checks
def check_text(text: str, name: str | None = None) -> str:
    """Refuse what the parsers would mishandle; returns ``text`` unchanged."""
    where = f" in '{name}'" if name else ""
    if _CONTROL.search(text):
        raise ModelError(f"not a text model file: {name or '<text>'}")
    if text.lstrip("\ufeff \t\r\n").startswith("<"):
        _check_xml_comments(text, where)
    else:
        _check_antimony(text, where)
    return text


def _check_xml_comments(text: str, where: str) -> None:
    if len(text) > MAX_BYTES:
        raise ModelError(f"SBML document{where} is larger than {MAX_BYTES / 1e6:.0f} MB")
    start = text.find("<!--")
    while start >= 0:
        end = text.find("-->", start + 4)
        end = len(text) if end < 0 else end
        if end - start - 4 > MAX_COMMENT_CHARS:
            line = text.count("\n", 0, start) + 1
            raise ModelError(
                f"XML comment at line {line}{where} is {end - start - 4:,} characters long, "
                f"more than the limit of {MAX_COMMENT_CHARS:,} (libsbml reads long comments "
                "in quadratic time); shorten or remove it")
        start = text.find("<!--", end + 3)


_ANT_TOKENS = re.compile(r"""
    (?P<comment>//[^\n]*|\#[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>"[^"\n]*"?)
  | (?P<number>(?<![A-Za-z0-9_.])(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>[^\x00-\x7f])
""", re.VERBOSE | re.DOTALL)


def _check_antimony(text: str, where: str) -> None:
    previous_word = None
    for m in _ANT_TOKENS.finditer(text):
        kind = m.lastgroup
        if kind == "comment":
            continue
        line = text.count("\n", 0, m.start()) + 1
        if kind == "string":
            if previous_word == "import":
                raise ModelError(
                    f"Antimony 'import {m.group()}' at line {line}{where} is refused: a model "
                    "may not read other local files (paste the imported module into the "
                    "model instead)")
            previous_word = None
            continue
        if kind == "other":
            raise ModelError(
                f"Antimony text{where} has the non-ASCII character {m.group()!r} at line "
                f"{line} outside comments and strings; identifiers must be ASCII letters, "
                "digits and '_'")
        if kind == "number":
            _check_number(m.group(), line, where)
        previous_word = m.group() if kind == "word" else None


def _check_number(literal: str, line: int, where: str) -> None:
    value = float(literal)
    mantissa = literal.lower().split("e")[0]
    if math.isinf(value) or (value == 0.0 and float(mantissa) != 0.0):
        raise ModelError(
            f"number {literal} at line {line}{where} is outside the double-precision range "
            "(about 2.2e-308 to 1.8e308); Antimony would misread it (1e400 as 1 with a unit "
            "'e400'); rescale the model's units")


# =========================================================================== front door
def guarded_source(source) -> tuple[str, str | None] | None:
    """``(text, path)`` of a model source (a path or model text), guarded as above, or
    ``None`` for a source of another type (the caller reports it)."""
    if isinstance(source, os.PathLike):
        path = Path(source)
        return check_text(decode_bytes(read_model_file(path), str(path)), str(path)), str(path)
    if not isinstance(source, str):
        return None
    stripped = source.strip()
    if "\n" not in stripped and len(stripped) < 4096 and not stripped.startswith("<"):
        candidate = Path(stripped)
        try:
            exists = os.path.lexists(candidate) and not candidate.is_dir()
        except (OSError, ValueError):
            exists = False
        if exists:
            data = read_model_file(candidate)
            return check_text(decode_bytes(data, stripped), stripped), str(candidate)
        if candidate.suffix.lower() in _MODEL_SUFFIXES and ";" not in stripped:
            raise ModelError(f"model file '{stripped}' does not exist")
    return check_text(source), None
