"""Static outputs of :func:`sbmlnoise.curate` (private): ``index.html``, ``summary.json``,
``summary.csv``.

``index.html`` is one self-contained page: a table of every model (status, reason, sizes,
method, thermodynamic verdict, largest Fano factor and CV of the primary method, time),
sortable by clicking a column header (a few lines of inline JavaScript, no external URL),
each model linking its own report ``models/<slug>/report.html`` when one was written. All
model-derived text is HTML-escaped; links are percent-encoded relative paths.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from pathlib import Path
from urllib.parse import quote
from .._io import atomic_write

CSV_COLUMNS = ("name", "status", "reason", "n_species", "n_reactions", "method",
               "thermo_verdict", "max_fano", "max_fano_species", "max_cv", "max_cv_species",
               "wall_time", "time_analyze", "peak_memory_mb", "features",
               "unsupported_feature", "content_hash", "finished_at", "path", "report")

#: first characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """Neutralise a spreadsheet formula: a text cell starting with ``= + - @``, tab or
    carriage return gets a leading apostrophe (shown, never evaluated). Numbers pass."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value

def _report_link(out: Path, model: dict) -> str | None:
    from ._naming import slug

    folder = slug(model["name"], model["content_hash"])
    if (out / "models" / folder / "report.html").exists():
        return f"models/{quote(folder)}/report.html"
    if model.get("copied_from"):
        return None
    return None


def _row(model: dict, out: Path) -> dict:
    row = {c: model.get(c) for c in CSV_COLUMNS}
    row["features"] = "; ".join(model.get("features") or [])
    row["report"] = _report_link(out, model)
    return row


def write_outputs(out, result) -> None:
    """Write ``index.html``, ``summary.json`` and ``summary.csv`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [_row(m, out) for m in result.models]
    summary = {
        "counts": result.counts,
        "total": len(result.models),
        "analysed": result.analysed,
        "skipped": result.skipped,
        "elapsed_s": result.elapsed,
        "db": str(result.db),
        "settings": result.settings,
        "unsupported_features": dict(result.unsupported_features().most_common()),
        "error_kinds": dict(result.error_kinds().most_common()),
        "slowest": [{"name": m["name"], "status": m["status"], "wall_time": m["wall_time"]}
                    for m in result.slowest(10)],
        "models": rows,
    }
    atomic_write(out / "summary.json",
                  json.dumps(_clean(summary), indent=1, sort_keys=True, default=str))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_safe(v) for k, v in row.items()})
    atomic_write(out / "summary.csv", buf.getvalue())
    atomic_write(out / "index.html", render_index(rows, result))


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _num(x, digits: int = 4) -> tuple[str, str]:
    """(display text, sort key) of a number that may be missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "", ""
    return f"{x:.{digits}g}", repr(float(x))


_SCRIPT = """
(function () {
  var table = document.getElementById("models");
  var heads = table.tHead.rows[0].cells;
  function key(cell, numeric) {
    var v = cell.getAttribute("data-sort");
    if (v === null) { v = cell.textContent; }
    if (numeric) { var f = parseFloat(v); return isNaN(f) ? -Infinity : f; }
    return v.toLowerCase();
  }
  for (var i = 0; i < heads.length; i++) {
    heads[i].addEventListener("click", (function (col) {
      return function () {
        var th = heads[col];
        var numeric = th.getAttribute("data-type") === "num";
        var dir = th.getAttribute("data-dir") === "asc" ? "desc" : "asc";
        for (var j = 0; j < heads.length; j++) { heads[j].removeAttribute("data-dir"); }
        th.setAttribute("data-dir", dir);
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
          var c = x < y ? -1 : (x > y ? 1 : 0);
          return dir === "asc" ? c : -c;
        });
        for (var k = 0; k < rows.length; k++) { body.appendChild(rows[k]); }
      };
    })(i));
  }
})();
"""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; vertical-align: top; }
th { background: #eee; cursor: pointer; user-select: none; white-space: nowrap; }
th[data-dir="asc"]::after { content: " \\25B2"; }
th[data-dir="desc"]::after { content: " \\25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.reason { max-width: 40em; }
.ok { color: #166534; } .unsupported { color: #92400e; } .invalid { color: #991b1b; }
.timeout { color: #6b21a8; } .error { color: #b91c1c; }
.counts span { margin-right: 1.2em; }
"""


def render_index(rows: list[dict], result) -> str:
    """The ``index.html`` text (self-contained, escaped)."""
    e = lambda v: html.escape("" if v is None else str(v), quote=True)  # noqa: E731
    columns = [("Model", "str"), ("Status", "str"), ("Reason", "str"), ("Species", "num"),
               ("Reactions", "num"), ("Method", "str"), ("Thermodynamics", "str"),
               ("max Fano", "num"), ("max CV", "num"), ("Time (s)", "num"),
               ("Features", "str")]
    head = "".join(f'<th data-type="{t}">{e(c)}</th>' for c, t in columns)
    body = []
    for r in rows:
        name = e(r["name"])
        link = r.get("report")
        model_cell = f'<a href="{e(link)}">{name}</a>' if link else name
        fano, fano_key = _num(r.get("max_fano"))
        cv, cv_key = _num(r.get("max_cv"))
        wall, wall_key = _num(r.get("wall_time"), 3)
        fano_sp = f" ({e(r['max_fano_species'])})" if fano and r.get("max_fano_species") else ""
        cv_sp = f" ({e(r['max_cv_species'])})" if cv and r.get("max_cv_species") else ""
        status = e(r["status"])
        cells = [
            f'<td data-sort="{name}">{model_cell}</td>',
            f'<td class="{status}">{status}</td>',
            f'<td class="reason">{e(r.get("reason"))}</td>',
            f'<td class="num" data-sort="{e(r.get("n_species"))}">{e(r.get("n_species"))}</td>',
            f'<td class="num" data-sort="{e(r.get("n_reactions"))}">'
            f'{e(r.get("n_reactions"))}</td>',
            f'<td>{e(r.get("method"))}</td>',
            f'<td>{e(r.get("thermo_verdict"))}</td>',
            f'<td class="num" data-sort="{fano_key}">{fano}{fano_sp}</td>',
            f'<td class="num" data-sort="{cv_key}">{cv}{cv_sp}</td>',
            f'<td class="num" data-sort="{wall_key}">{wall}</td>',
            f'<td>{e(r.get("features"))}</td>',
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    counts = "".join(f'<span class="{e(s)}">{e(s)}: {n}</span>'
                     for s, n in result.counts.items())
    from .._version import __version__
    settings = e(json.dumps(result.settings, sort_keys=True, default=str))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>sbmlnoise curation: {len(rows)} models</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>sbmlnoise curation</h1>
<p class="counts">{counts}</p>
<p>{len(rows)} models; sbmlnoise {e(__version__)}; settings <code>{settings}</code>.
Fano factor = variance / mean and CV = standard deviation / mean of the molecule count,
largest over the species, from the primary method. Click a column header to sort.</p>
<table id="models">
<thead><tr>{head}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody>
</table>
<script>{_SCRIPT}</script>
</body>
</html>
"""
