"""SQLite store of :func:`sbmlnoise.curate` (private; stdlib :mod:`sqlite3`).

Two tables:

``models``
    one row per (``path``, ``content_hash``, ``settings_hash``): status, one-line reason,
    sizes, features used (JSON list), thermodynamic verdict, method used, timings (s),
    peak memory (MB), tool version, ``finished_at`` (ISO 8601, UTC).
``species_stats``
    one row per (model row, species, method): mean, variance, Fano factor and CV of the
    molecule count (see :mod:`sbmlnoise.stats`).

Only the parent process writes, one ``BEGIN IMMEDIATE`` transaction per analysed model, in
WAL mode: a run killed at any moment leaves every model either fully recorded or absent,
and a resumed run skips exactly the recorded ones. The UNIQUE constraints make a duplicate
row an error rather than a silent double count.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    settings_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok','unsupported','invalid','timeout','error')),
    reason TEXT NOT NULL,
    error_type TEXT,
    detail TEXT,
    n_species INTEGER,
    n_reactions INTEGER,
    features TEXT NOT NULL DEFAULT '[]',
    unsupported_feature TEXT,
    thermo_verdict TEXT,
    method TEXT,
    methods TEXT NOT NULL DEFAULT '[]',
    warnings TEXT NOT NULL DEFAULT '[]',
    time_features REAL,
    time_load REAL,
    time_analyze REAL,
    time_report REAL,
    time_total REAL,
    wall_time REAL,
    peak_memory_mb REAL,
    settings TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    copied_from INTEGER,
    finished_at TEXT NOT NULL,
    UNIQUE (path, content_hash, settings_hash)
);
CREATE INDEX IF NOT EXISTS models_by_hash ON models (content_hash, settings_hash);
CREATE TABLE IF NOT EXISTS species_stats (
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    species TEXT NOT NULL,
    method TEXT NOT NULL,
    mean REAL,
    variance REAL,
    fano REAL,
    cv REAL,
    PRIMARY KEY (model_id, species, method)
);
"""

MODEL_COLUMNS = ("path", "name", "content_hash", "settings_hash", "status", "reason",
                 "error_type", "detail", "n_species", "n_reactions", "features",
                 "unsupported_feature", "thermo_verdict", "method", "methods", "warnings",
                 "time_features", "time_load", "time_analyze", "time_report", "time_total",
                 "wall_time", "peak_memory_mb", "settings", "tool_version", "copied_from",
                 "finished_at")


def connect(path) -> sqlite3.Connection:
    """Open (creating if needed) the results database in WAL mode.

    Raises :class:`sbmlnoise._io.OutputError` (one line naming the path) when ``path`` is
    not an SQLite database, or its folder is read-only or missing and cannot be made."""
    path = Path(path)
    conn = None
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and not path.is_file():
            raise IsADirectoryError(21, "not a regular file")
        conn = sqlite3.connect(str(path), timeout=60.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                         (SCHEMA_VERSION,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if not {"path", "content_hash", "settings_hash"} <= {
                r[1] for r in conn.execute("PRAGMA table_info(models)")}:
            raise sqlite3.DatabaseError("an SQLite file with another 'models' table")
    except (sqlite3.Error, OSError) as err:
        if conn is not None:
            conn.close()
        from .._io import OutputError

        reason = str(err) or type(err).__name__
        if isinstance(err, OSError) and err.strerror:
            reason = err.strerror
        raise OutputError(f"cannot use '{path}' as the curate database: {reason}") from err
    return conn


def done_keys(conn) -> dict[tuple[str, str, str], int]:
    """(path, content_hash, settings_hash) -> model row id of everything recorded."""
    return {(r["path"], r["content_hash"], r["settings_hash"]): r["id"]
            for r in conn.execute("SELECT id, path, content_hash, settings_hash FROM models")}


def find_by_hash(conn, content_hash: str, settings_hash: str) -> int | None:
    row = conn.execute("SELECT id FROM models WHERE content_hash=? AND settings_hash=? "
                       "AND copied_from IS NULL ORDER BY id LIMIT 1",
                       (content_hash, settings_hash)).fetchone()
    return None if row is None else int(row["id"])


def _exists(conn, target: dict) -> bool:
    """True when (path, content_hash, settings_hash) is recorded already: another curate
    process on the same database got there first. Called inside ``BEGIN IMMEDIATE``, which
    holds the write lock, so the answer cannot change before the INSERT."""
    return conn.execute("SELECT 1 FROM models WHERE path=? AND content_hash=? AND "
                        "settings_hash=?", (target["path"], target["content_hash"],
                                            target["settings_hash"])).fetchone() is not None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def record(conn, targets: list[dict], result: dict, *, settings: dict, version: str) -> list[int]:
    """Write one analysed model in ONE transaction.

    ``targets`` are the files with this content (``path``, ``name``, ``content_hash``,
    ``settings_hash``); the first gets the analysis, the others are marked ``copied_from``.
    Returns the new row ids.
    """
    timings = result.get("timings") or {}
    base = {
        "status": result["status"], "reason": result["reason"],
        "error_type": result.get("error_type"), "detail": result.get("detail"),
        "n_species": result.get("n_species"), "n_reactions": result.get("n_reactions"),
        "features": json.dumps(list(result.get("features") or [])),
        "unsupported_feature": result.get("unsupported_feature"),
        "thermo_verdict": result.get("verdict"), "method": result.get("method"),
        "methods": json.dumps(list(result.get("methods") or [])),
        "warnings": json.dumps(list(result.get("warnings") or [])),
        "time_features": timings.get("features"), "time_load": timings.get("load"),
        "time_analyze": timings.get("analyze"), "time_report": timings.get("report"),
        "time_total": timings.get("total"), "wall_time": result.get("wall_time"),
        "peak_memory_mb": result.get("peak_memory_mb"),
        "settings": json.dumps(settings, sort_keys=True, default=str),
        "tool_version": version, "finished_at": _now(),
    }
    ids = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        first = None
        for target in targets:
            if _exists(conn, target):
                continue
            row = dict(base, path=target["path"], name=target["name"],
                       content_hash=target["content_hash"],
                       settings_hash=target["settings_hash"], copied_from=first)
            cur = conn.execute(
                f"INSERT INTO models ({', '.join(MODEL_COLUMNS)}) VALUES "
                f"({', '.join('?' for _ in MODEL_COLUMNS)})",
                [row[c] for c in MODEL_COLUMNS])
            mid = int(cur.lastrowid)
            first = mid if first is None else first
            conn.executemany(
                "INSERT INTO species_stats (model_id, species, method, mean, variance, fano, "
                "cv) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(mid, s["species"], s["method"], s.get("mean"), s.get("variance"),
                  s.get("fano"), s.get("cv")) for s in result.get("species") or []])
            ids.append(mid)
        conn.execute("COMMIT")
    except sqlite3.IntegrityError:
        # another curate process on the same database recorded this model meanwhile:
        # keep its rows, never duplicate
        conn.execute("ROLLBACK")
        return []
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return ids


def copy_rows(conn, source_id: int, targets: list[dict]) -> list[int]:
    """Record files whose (content, settings) were analysed before under another path.

    Files already recorded (by a concurrent run on the same database) are skipped; returns
    the new row ids."""
    src = conn.execute("SELECT * FROM models WHERE id=?", (source_id,)).fetchone()
    stats = conn.execute("SELECT species, method, mean, variance, fano, cv FROM species_stats "
                         "WHERE model_id=?", (source_id,)).fetchall()
    ids = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for target in targets:
            if _exists(conn, target):
                continue  # a concurrent run recorded this file meanwhile: keep its row
            row = {c: src[c] for c in MODEL_COLUMNS}
            row.update(path=target["path"], name=target["name"], copied_from=source_id,
                       wall_time=0.0, finished_at=_now())
            cur = conn.execute(
                f"INSERT INTO models ({', '.join(MODEL_COLUMNS)}) VALUES "
                f"({', '.join('?' for _ in MODEL_COLUMNS)})", [row[c] for c in MODEL_COLUMNS])
            mid = int(cur.lastrowid)
            conn.executemany("INSERT INTO species_stats (model_id, species, method, mean, "
                             "variance, fano, cv) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(mid, *tuple(s)) for s in stats])
            ids.append(mid)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return ids


def fetch_models(conn, ids) -> list[dict]:
    """Model rows (as dicts, JSON columns decoded) plus headline noise numbers.

    Headline numbers come from the row's own ``method``: ``max_fano``/``max_fano_species``
    and ``max_cv``/``max_cv_species`` over its species.
    """
    out = []
    ids = list(ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = conn.execute(f"SELECT * FROM models WHERE id IN ({marks}) ORDER BY name",
                            chunk).fetchall()
        for r in rows:
            d = dict(r)
            for key in ("features", "methods", "warnings"):
                try:
                    d[key] = json.loads(d[key] or "[]")
                except ValueError:
                    d[key] = []
            d.update(max_fano=None, max_fano_species=None, max_cv=None, max_cv_species=None)
            if d["method"]:
                for col in ("fano", "cv"):
                    best = conn.execute(
                        f"SELECT species, {col} FROM species_stats WHERE model_id=? AND "
                        f"method=? AND {col} IS NOT NULL ORDER BY {col} DESC LIMIT 1",
                        (d["id"], d["method"])).fetchone()
                    if best is not None:
                        d[f"max_{col}"], d[f"max_{col}_species"] = best[col], best["species"]
            out.append(d)
    out.sort(key=lambda d: d["name"])
    return out
