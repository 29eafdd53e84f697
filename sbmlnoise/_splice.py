"""Byte-faithful write-back (private to :mod:`sbmlnoise.annotate`).

Our elements are spliced into the *untouched* text of the SBML document, so everything
outside them -- comments, processing instructions, namespace declarations, attribute
order and quoting, whitespace, foreign annotations -- stays byte for byte, and removing
them gives the input back exactly.

Every insertion is one contiguous *region* delimited by two XML comments::

    <!--sbmlnoise-splice:begin pre=P post=Q orig=B64-->  ...  <!--sbmlnoise-splice:end-->

``P`` characters before the begin comment and ``Q`` after the end comment belong to the
region too, and ``B64`` is the base64 of the original text the region replaced (empty for
a pure insertion; ``/>`` when a self-closing ``<species .../>`` had to be opened). The
``<sbml>`` start tag, where no comment can go, gets the distrib namespace declaration
appended; the model's begin comment records that text (``root=B64``) so it is removed
exactly. Stripping replaces each region by its original text. A user's own element in the
sbmlnoise namespace, or a user's uncertainty named ``sbmlnoise``, lies outside every region
and is never touched.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ModelError

BEGIN = "<!--sbmlnoise-splice:begin"
END = "<!--sbmlnoise-splice:end-->"
_BEGIN_RE = re.compile(r"<!--sbmlnoise-splice:begin pre=(\d+) post=(\d+) orig=([A-Za-z0-9+/=]*)"
                       r"(?: root=([A-Za-z0-9+/=]*))?-->")
_TOKEN = re.compile(r"""
    <!--.*?-->
  | <!\[CDATA\[.*?\]\]>
  | <\?.*?\?>
  | <!DOCTYPE(?:[^\[>]|\[.*?\])*>
  | </(?P<close>[^\s>]+)\s*>
  | <(?P<open>[^\s/>!?]+)(?P<attrs>(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(?P<slash>/?)>
""", re.VERBOSE | re.DOTALL)
_ATTR = re.compile(r"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _unb64(text: str) -> str:
    return base64.b64decode(text.encode("ascii")).decode("utf-8")


@dataclass
class Node:
    """One element of the scanned document (positions are indices into the text)."""

    qname: str
    attrs: dict
    start: int
    start_end: int
    self_closing: bool
    parent: "Node | None" = None
    children: list = field(default_factory=list)
    end_start: int = -1
    end_end: int = -1

    @property
    def local(self) -> str:
        return self.qname.split(":", 1)[-1]

    @property
    def prefix(self) -> str:
        return self.qname.split(":", 1)[0] if ":" in self.qname else ""

    def child(self, local: str):
        return next((c for c in self.children if c.local == local), None)


def scan(text: str) -> Node:
    """The element tree (start/end positions, attributes) of an XML document."""
    root = None
    stack: list[Node] = []
    for m in _TOKEN.finditer(text):
        if m.group("close"):
            if not stack or stack[-1].qname != m.group("close"):
                raise ModelError(f"malformed XML near character {m.start()}: unexpected "
                                 f"</{m.group('close')}>")
            node = stack.pop()
            node.end_start, node.end_end = m.start(), m.end()
            continue
        if not m.group("open"):
            continue
        attrs = {a.group(1): a.group(2) if a.group(2) is not None else a.group(3)
                 for a in _ATTR.finditer(m.group("attrs"))}
        node = Node(m.group("open"), attrs, m.start(), m.end(), bool(m.group("slash")),
                    stack[-1] if stack else None)
        if stack:
            stack[-1].children.append(node)
        elif root is None:
            root = node
        if node.self_closing:
            node.end_start = node.end_end = m.end()
        else:
            stack.append(node)
    if root is None or stack:
        raise ModelError("malformed XML: the document's elements are not closed")
    return root


def strip(text: str) -> str:
    """Remove every spliced region (and the root declaration recorded with them)."""
    edits: list[tuple[int, int, Any]] = []
    root_added = None
    pos = 0
    while True:
        m = _BEGIN_RE.search(text, pos)
        if m is None:
            break
        end = text.find(END, m.end())
        if end < 0:
            raise ModelError("an sbmlnoise write-back region is not closed (file edited?)")
        pre, post = int(m.group(1)), int(m.group(2))
        edits.append((m.start() - pre, end + len(END) + post, _unb64(m.group(3))))
        if m.group(4):
            root_added = _unb64(m.group(4))
        pos = end + len(END)
    if root_added:
        tree = scan(text)
        close = tree.start_end - 1
        if text[close - len(root_added):close] == root_added:
            edits.append((close - len(root_added), close, ""))
    out = text
    for start, stop, orig in sorted(edits, reverse=True):
        out = out[:start] + orig + out[stop:]
    return out


def has_regions(text: str) -> bool:
    return _BEGIN_RE.search(text) is not None


def _region(content: str, *, pre: str = "", post: str = "", orig: str = "",
            root: str | None = None) -> str:
    extra = f" root={_b64(root)}" if root else ""
    return (f"{pre}{BEGIN} pre={len(pre)} post={len(post)} orig={_b64(orig)}{extra}-->"
            f"{content}{END}{post}")


def _annotation_edit(text: str, node: Node, xml: str) -> tuple[int, int, dict[str, str]]:
    """Insert ``xml`` into the node's <annotation> (created if missing): (start, stop,
    region arguments)."""
    p = f"{node.prefix}:" if node.prefix else ""
    ann = node.child("annotation")
    if ann is not None and not ann.self_closing:
        return ann.end_start, ann.end_start, dict(content=xml)
    if ann is not None:  # <annotation/>: open it, remember the original
        return ann.start, ann.end_end, dict(content=f"<{p}annotation>{xml}</{p}annotation>",
                                            orig=text[ann.start:ann.end_end])
    notes = node.child("notes")
    at = notes.end_end if notes is not None else node.start_end
    return at, at, dict(content=f"<{p}annotation>{xml}</{p}annotation>")


def _namespace_of(node: Node, qname: str) -> str | None:
    """Namespace URI of ``qname`` as declared on ``node`` or its ancestors."""
    prefix = qname.split(":", 1)[0] if ":" in qname else ""
    key = f"xmlns:{prefix}" if prefix else "xmlns"
    cur: Node | None = node
    while cur is not None:
        if key in cur.attrs:
            return cur.attrs[key]
        cur = cur.parent
    return None


def holds_foreign(node: Node, namespace: str) -> bool:
    """Whether the annotation of ``node`` has a top-level element in ``namespace`` that
    is not inside one of our regions (SBML allows one per namespace: we must not add ours
    next to a user's own, nor replace it)."""
    ann = node.child("annotation")
    if ann is None or ann.self_closing:
        return False
    return any(_namespace_of(c, c.qname) == namespace for c in ann.children)


def splice(text: str, model_xml: str, species_xml: dict, uncertainty_xml: dict,
           root_attrs: str | None, namespace: str) -> tuple[str, list]:
    """Insert the model annotation, per-species annotations and per-species distrib
    uncertainties (``species id -> xml``); ``root_attrs`` is appended to the ``<sbml>``
    start tag. Elements whose annotation already holds a user's element in ``namespace``
    are left alone. Returns ``(new text, ids of the elements left alone)``."""
    tree = scan(text)
    model = tree.child("model")
    if model is None:
        raise ModelError("SBML document has no <model> element")
    # (start, stop, region arguments -- or literal text for the root attributes)
    edits: list[tuple[int, int, dict[str, str] | str]] = []
    skipped: list[str] = []
    if holds_foreign(model, namespace):
        skipped.append(model.attrs.get("id", "model"))
    elif model.self_closing:
        p = f"{model.prefix}:" if model.prefix else ""
        close = text.rfind("/", model.start, model.start_end)
        edits.append((close, model.start_end, dict(
            content=f"<{p}annotation>{model_xml}</{p}annotation>", pre=">",
            post=f"</{model.qname}>", orig=text[close:model.start_end])))
    else:
        edits.append(_annotation_edit(text, model, model_xml))
    los = model.child("listOfSpecies")
    for sp in (los.children if los is not None else []):
        if sp.local not in ("species", "specie"):
            continue
        sid = sp.attrs.get("id", sp.attrs.get("name"))
        if sid not in species_xml:
            continue
        if holds_foreign(sp, namespace):
            skipped.append(sid)
            continue
        unc = uncertainty_xml.get(sid, "")
        if sp.self_closing:
            p = f"{sp.prefix}:" if sp.prefix else ""
            close = text.rfind("/", sp.start, sp.start_end)
            body = f"<{p}annotation>{species_xml[sid]}</{p}annotation>{unc}"
            edits.append((close, sp.start_end, dict(content=body, pre=">",
                                                    post=f"</{sp.qname}>",
                                                    orig=text[close:sp.start_end])))
            continue
        edits.append(_annotation_edit(text, sp, species_xml[sid]))
        if unc:
            existing = next((c for c in sp.children if c.local == "listOfUncertainties"
                             and not c.self_closing), None)
            if existing is not None:
                inner = re.sub(r"^<[^>]*listOfUncertainties>|</[^>]*listOfUncertainties>$",
                               "", unc)
                edits.append((existing.end_start, existing.end_start, dict(content=inner)))
            else:
                edits.append((sp.end_start, sp.end_start, dict(content=unc)))
    if root_attrs and edits:
        first = edits[0][2]
        if isinstance(first, dict):  # every edit but the root's is a region (a dict)
            first["root"] = root_attrs  # recorded by the first region, removed with it
        at = tree.start_end - 1
        edits.append((at, at, root_attrs))
    out = text
    # later edits at the same position go first, so earlier ones end up in front
    order = sorted(range(len(edits)), key=lambda q: (edits[q][0], edits[q][1], q), reverse=True)
    for q in order:
        start, stop, new = edits[q]
        out = out[:start] + (new if isinstance(new, str) else _region(**new)) + out[stop:]
    return out, skipped


def root_namespaces(text: str) -> tuple[dict, dict]:
    """``(prefix -> namespace URI, all root attributes)`` of the ``<sbml>`` start tag."""
    tree = scan(text)
    ns = {k.split(":", 1)[1]: v for k, v in tree.attrs.items() if k.startswith("xmlns:")}
    return ns, tree.attrs
