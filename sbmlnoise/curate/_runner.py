"""Curate a folder of models: :func:`curate` analyses every SBML / Antimony file in it.

Each model runs in its own fresh worker process with a wall-time and a memory limit, so a
pathological model (a huge state space, a stiff or hanging integration, a parser bomb)
costs at most its own time limit and never stops the run. Results go to SQLite (see
:mod:`sbmlnoise.curate._db`): one transaction per model, written by the parent only, so a
run killed at any moment resumes where it stopped without losing or duplicating rows.
Models can also be farmed out to a Dask distributed cluster (``scheduler=`` / ``client=``);
results stream back to the single writer as they complete.

Statuses (one per model, each with a one-line reason):

``ok``
    :func:`sbmlnoise.analyze` produced statistics (the reason names the primary method,
    the thermodynamic verdict and the first warning, if any);
``unsupported``
    valid SBML that sbmlnoise cannot handle (:class:`~sbmlnoise.errors.UnsupportedFeature`);
``invalid``
    a malformed model (:class:`~sbmlnoise.errors.ModelError`: bad XML, undefined ids,
    XML entity declarations, ...);
``timeout``
    no result within the wall-time limit; the worker was killed;
``error``
    anything else: a numerical failure, no steady state, memory exhaustion (the reason says
    so) or a worker that died.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as _futures_wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._naming import slug
from . import _db
from .._io import atomic_write

__all__ = ["curate", "CurateResult", "run_isolated", "discover"]

#: file suffixes that are curated (case-insensitive)
SUFFIXES = (".xml", ".sbml", ".ant")
STATUSES = ("ok", "unsupported", "invalid", "timeout", "error")
#: default wall-time limit per model, seconds
DEFAULT_TIMEOUT = 120.0
#: default memory limit per model, MB (on top of the worker's start-up size)
DEFAULT_MAX_MEMORY = 2048.0
#: files larger than this are recorded as invalid without being analysed
MAX_FILE_BYTES = 64 * 2**20
DEFAULT_WORKER = "sbmlnoise.curate._worker:analyze_model"


# =========================================================================== discovery
def discover(paths_or_dir, *, exclude=()) -> list[tuple[Path, str]]:
    """Model files under the given paths: ``[(absolute path, display name), ...]``.

    Folders are searched recursively (hidden folders and ``exclude`` skipped, symbolic
    links to folders not followed) for ``*.xml``, ``*.sbml`` and ``*.ant``; files given
    explicitly are taken whatever their suffix. The display name is the path relative to
    the folder given (prefixed with the folder's name when several paths are given).
    """
    if isinstance(paths_or_dir, (str, os.PathLike)):
        items = [paths_or_dir]
    else:
        items = list(paths_or_dir)
    if not items:
        raise ValueError("curate needs at least one folder or model file")
    excluded = {Path(e).resolve() for e in exclude if e is not None}
    several = len(items) > 1
    if several:  # names relative to the common folder above all the items given
        try:
            base = Path(os.path.commonpath([Path(i).resolve().parent for i in items]))
        except ValueError:
            base = None
    found: dict[Path, str] = {}

    def display(path: Path, root_abs: Path, rel: str) -> str:
        if not several:
            return rel
        if base is not None:
            try:
                return path.resolve().relative_to(base).as_posix()
            except ValueError:
                pass
        return f"{root_abs.name}/{rel}"

    for item in items:
        root = Path(item)
        if root.is_file():
            found.setdefault(root.resolve(), display(root, root.resolve().parent, root.name))
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"'{root}' is neither a folder nor a model file")
        root_abs = root.resolve()
        for dirpath, dirnames, filenames in os.walk(root_abs, followlinks=False):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and (here / d).resolve() not in excluded)
            for fname in sorted(filenames):
                if Path(fname).suffix.lower() not in SUFFIXES:
                    continue
                path = here / fname
                rel = path.relative_to(root_abs).as_posix()
                found.setdefault(path.resolve() if not path.is_symlink() else path,
                                 display(path, root_abs, rel))
    return sorted(found.items(), key=lambda kv: kv[1])


#: longest time spent reading one model file in the parent (s)
READ_SECONDS = 30.0


class _Unreadable(Exception):
    """A discovered file that curate will not read; the message is the ``invalid`` reason."""


def _inside(path: Path, roots) -> bool:
    return any(path == r or r in path.parents for r in roots)


def _read_model_bytes(path: Path, roots=(), limit: int = MAX_FILE_BYTES,
                      seconds: float = READ_SECONDS) -> tuple[bytes | None, int]:
    """``(content, size)`` of a model file, or ``(None, size)`` when it is larger than
    ``limit``. Only regular files are read, never blocking (``O_NONBLOCK``, type checked
    again on the open descriptor); a symbolic link whose target lies outside every folder
    in ``roots`` is not followed; reading stops after ``seconds``. Refusals raise
    :class:`_Unreadable` with the reason."""
    import stat as _stat

    real = Path(os.path.realpath(path))
    if roots and path.is_symlink() and not _inside(real, roots):
        raise _Unreadable(f"symbolic link to '{real}' outside the curated folder; not "
                          "followed")
    try:
        mode = os.stat(real).st_mode
        if not _stat.S_ISREG(mode):
            raise _Unreadable("not a regular file (FIFO, device, socket or folder); not read")
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise _Unreadable(f"file could not be read: {err.strerror or err}") from None
    try:
        info = os.fstat(fd)
        if not _stat.S_ISREG(info.st_mode):
            raise _Unreadable("not a regular file (FIFO, device, socket or folder); not read")
        if info.st_size > limit:
            return None, int(info.st_size)
        chunks, total, deadline = [], 0, time.monotonic() + seconds
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                return None, total
            if time.monotonic() > deadline:
                raise _Unreadable(f"reading the file took longer than {seconds:g} s")
    except OSError as err:
        raise _Unreadable(f"file could not be read: {err.strerror or err}") from None
    finally:
        os.close(fd)
    return b"".join(chunks), total


def _sha256_file(path: Path, roots=()) -> tuple[str, int]:
    data, size = _read_model_bytes(path, roots)
    if data is None:  # too large to analyse: identify it by path and size, not content
        return hashlib.sha256(f"oversized:{path}:{size}".encode("utf-8")).hexdigest(), size
    return hashlib.sha256(data).hexdigest(), size


def settings_hash(settings: dict) -> str:
    """sha256 of the canonical JSON of the settings that change a model's result."""
    text = json.dumps(settings, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# =========================================================================== isolation
_FORKSERVER_LOCK = threading.Lock()
_FORKSERVER_READY = False
_LIVE: set = set()
_LIVE_LOCK = threading.Lock()
_WARMUP_SWITCH = "SBMLNOISE_CURATE_WARMUP"  # "0": no warm-up, "noreport": analysis only
_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMBA_NUM_THREADS")


def _forkserver_context(report: bool = True):
    """The fork-server context. Its server starts once per process, single-threaded BLAS
    (each model is one process; workers provide the parallelism), with the worker module
    preloaded and warmed up (:mod:`sbmlnoise.curate._warmup`: one tiny analysis, and one
    HTML report if ``report``), so every child forks from a warm interpreter."""
    global _FORKSERVER_READY
    ctx = multiprocessing.get_context("forkserver")
    with _FORKSERVER_LOCK:
        if not _FORKSERVER_READY:
            _install_no_main_patch()
            ctx.set_forkserver_preload(["sbmlnoise.curate._worker", "sbmlnoise.curate._warmup"])
            from multiprocessing import forkserver
            keys = _THREAD_ENV + (_WARMUP_SWITCH,)
            saved = {k: os.environ.get(k) for k in keys}
            try:
                for k in _THREAD_ENV:
                    os.environ.setdefault(k, "1")
                if not report and os.environ.get(_WARMUP_SWITCH, "1") == "1":
                    os.environ[_WARMUP_SWITCH] = "noreport"
                forkserver.ensure_running()
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            _FORKSERVER_READY = True
    return ctx


_NO_MAIN = threading.local()


def _install_no_main_patch() -> None:
    """Let our fork-server children skip re-running the parent's ``__main__``.

    multiprocessing re-imports the main script in every spawn/fork-server child, which
    breaks (or re-runs) scripts without an ``if __name__ == "__main__"`` guard. Our child
    target lives in :mod:`sbmlnoise.curate._worker` and needs nothing from ``__main__``, so
    while *this thread* starts one of our children the preparation data omits it. Other
    threads and other users of multiprocessing see the standard behaviour.
    """
    from multiprocessing import spawn

    original = spawn.get_preparation_data
    if getattr(original, "_sbmlnoise_curate", False):
        return

    def get_preparation_data(name, _original=original):
        data = _original(name)
        if getattr(_NO_MAIN, "active", False):
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    # a marker attribute on the function (mypy does not type attributes of functions)
    setattr(get_preparation_data, "_sbmlnoise_curate", True)
    spawn.get_preparation_data = get_preparation_data


class _ForkHandle:
    def __init__(self, job, result_path):
        from . import _worker as curate_worker
        ctx = _forkserver_context()
        self.proc = ctx.Process(target=curate_worker.child_main, args=(job, result_path),
                                name=f"sbmlnoise-curate:{job['name']}"[:60])
        self.proc.daemon = False
        _NO_MAIN.active = True
        try:
            self.proc.start()
        finally:
            _NO_MAIN.active = False

    def wait(self, timeout):
        self.proc.join(timeout)
        return self.proc.exitcode is not None

    def kill(self):
        try:
            self.proc.kill()
        except Exception:
            pass
        self.proc.join(10)

    @property
    def exitcode(self):
        return self.proc.exitcode

    def close(self):
        try:
            self.proc.close()  # release the sentinel fd now, not at garbage collection
        except (ValueError, AttributeError):
            pass


class _PopenHandle:
    def __init__(self, job, result_path, workdir):
        job_path = os.path.join(workdir, "job.pickle")
        with open(job_path, "wb") as fh:
            pickle.dump(job, fh)
        env = dict(os.environ)
        for k in _THREAD_ENV:
            env.setdefault(k, "1")
        # the child sees the modules this process sees (custom workers, source checkouts)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sbmlnoise.curate._worker", job_path, result_path],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env, close_fds=True)

    def wait(self, timeout):
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def kill(self):
        try:
            self.proc.kill()
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass

    @property
    def exitcode(self):
        return self.proc.returncode

    def close(self):
        pass


def _default_launcher() -> str:
    # daemonic processes (e.g. Dask worker processes) may not have multiprocessing children
    return "subprocess" if multiprocessing.current_process().daemon else "forkserver"


def _died(exitcode, job) -> tuple[str, str]:
    limit = job.get("max_memory")
    if exitcode is not None and exitcode < 0:
        try:
            signame = signal.Signals(-exitcode).name
        except ValueError:
            signame = f"signal {-exitcode}"
        if -exitcode == getattr(signal, "SIGXCPU", -1):
            return "timeout", f"worker exceeded its CPU-time limit ({signame})"
        if signame == "SIGSEGV":
            hint = ("; a crash in native code (e.g. a C stack overflow on deeply nested "
                    "input" + (f", or memory exhaustion under the {limit:g} MB limit)"
                               if limit else ")"))
        elif limit and signame in ("SIGKILL", "SIGABRT", "SIGBUS"):
            hint = f"; possibly memory exhaustion (limit {limit:g} MB)"
        else:
            hint = ""
        return "error", f"worker process died ({signame}) without a result{hint}"
    if exitcode == 70:
        return "timeout", "worker watchdog fired (no result within twice the time limit)"
    return "error", f"worker process exited with status {exitcode} without a result"


def run_isolated(job: dict, launcher: str | None = None) -> dict:
    """Run one curation job in a fresh process; never raises for a model's sake.

    Parameters
    ----------
    job : dict
        ``path``, ``name``, ``content`` (bytes), ``settings``, ``timeout`` (s),
        ``max_memory`` (MB) and ``worker`` (``"module:function"``).
    launcher : {"forkserver", "subprocess", "inline"}, optional
        How the process starts. Default: ``"forkserver"`` (a warm fork server), or
        ``"subprocess"`` inside daemonic processes such as Dask worker processes.
        ``"inline"`` runs in this process without isolation (debugging only).

    Returns
    -------
    dict
        The worker's result (see :func:`sbmlnoise.curate._worker.new_result`) plus
        ``wall_time`` (s, including process start-up).
    """
    from . import _worker as cw

    t0 = time.monotonic()
    launcher = launcher or _default_launcher()
    timeout = job.get("timeout")
    if launcher == "inline":
        inline = cw.run_job(job)
        inline["wall_time"] = time.monotonic() - t0
        return inline
    workdir = tempfile.mkdtemp(prefix="sbmlnoise-curate-")
    try:
        result_path = os.path.join(workdir, "result.json")
        job = dict(job, partial_path=os.path.join(workdir, "partial.json"))
        try:
            handle = (_PopenHandle(job, result_path, workdir) if launcher == "subprocess"
                      else _ForkHandle(job, result_path))
        except AssertionError:  # "daemonic processes are not allowed to have children"
            handle = _PopenHandle(job, result_path, workdir)
        with _LIVE_LOCK:
            _LIVE.add(handle)
        try:
            finished = handle.wait(timeout)
            if not finished:
                handle.kill()
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(handle)
        result: dict | None = None
        if finished and os.path.exists(result_path):
            try:
                with open(result_path, encoding="utf-8") as fh:
                    result = json.load(fh)
            except (OSError, ValueError):
                result = None
        if result is None:
            result = cw.new_result()
            if os.path.exists(job["partial_path"]):  # what the worker learned before
                try:
                    with open(job["partial_path"], encoding="utf-8") as fh:
                        result.update(json.load(fh))
                except (OSError, ValueError):
                    pass
            if not finished:
                result["status"] = "timeout"
                result["reason"] = (f"no result within the wall-time limit of {timeout:g} s; "
                                    "worker killed")
            else:
                result["status"], result["reason"] = _died(handle.exitcode, job)
            result["species"], result["report_html"], result["annotated_sbml"] = [], None, None
        handle.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result["wall_time"] = time.monotonic() - t0
    return result


def _kill_live() -> None:
    with _LIVE_LOCK:
        handles = list(_LIVE)
    for h in handles:
        h.kill()


# =========================================================================== the result
@dataclass
class CurateResult:
    """What one :func:`curate` call did.

    Attributes
    ----------
    db : pathlib.Path
        The SQLite database.
    out : pathlib.Path or None
        The folder with ``index.html``, ``summary.json``, ``summary.csv`` and ``models/``.
    models : list of dict
        One database row per model file of this call (JSON columns decoded), plus the
        headline numbers ``max_fano``/``max_cv`` (and their species) of the primary method.
    analysed, skipped : int
        Models analysed now / found already done in the database (same content hash and
        settings hash).
    elapsed : float
        Wall-clock seconds of the call.
    settings : dict
    """

    db: Path
    out: Path | None
    models: list = field(default_factory=list)
    analysed: int = 0
    skipped: int = 0
    elapsed: float = 0.0
    settings: dict = field(default_factory=dict)

    @property
    def counts(self) -> dict:
        """Number of models per status (every status listed)."""
        c = Counter(m["status"] for m in self.models)
        return {s: c.get(s, 0) for s in STATUSES}

    def table(self):
        """The models as a pandas DataFrame indexed by name."""
        import pandas as pd

        cols = ["name", "status", "reason", "n_species", "n_reactions", "method",
                "thermo_verdict", "max_fano", "max_fano_species", "max_cv", "max_cv_species",
                "wall_time", "features", "path"]
        frame = pd.DataFrame([{c: m.get(c) for c in cols} for m in self.models], columns=cols)
        return frame.set_index("name")

    def unsupported_features(self) -> Counter:
        """How often each unsupported feature stopped a model."""
        return Counter(_feature_of(m) for m in self.models if m["status"] == "unsupported")

    def error_kinds(self) -> Counter:
        """How often each kind of error (exception type, or how the worker died) occurred."""
        kinds: Counter[str] = Counter()
        for m in self.models:
            if m["status"] == "error":
                kind = m.get("error_type") or (m.get("reason") or "").split(":")[0][:60]
                kinds[kind] += 1
        return kinds

    def slowest(self, n: int = 5) -> list:
        return sorted((m for m in self.models if m.get("wall_time") is not None
                       and not m.get("copied_from")),
                      key=lambda m: -m["wall_time"])[:n]

    def summary(self) -> str:
        """Counts per status, the most common unsupported features, the slowest models."""
        total = len(self.models)
        rate = self.analysed / self.elapsed * 60 if self.elapsed > 0 else float("nan")
        lines = [f"curated {total} model(s): {self.analysed} analysed, {self.skipped} already "
                 f"in {self.db} ({self.elapsed:.1f} s, {rate:.1f} models/min)"]
        lines.append("  " + ", ".join(f"{s} {n}" for s, n in self.counts.items()))
        feats = self.unsupported_features().most_common(5)
        if feats:
            lines.append("most common unsupported features:")
            lines += [f"  {n:4d}  {f}" for f, n in feats]
        kinds = self.error_kinds().most_common(5)
        if kinds:
            lines.append("errors by kind:")
            lines += [f"  {n:4d}  {k}" for k, n in kinds]
        slow = self.slowest(5)
        if slow:
            lines.append("slowest models:")
            lines += [f"  {m['wall_time']:8.2f} s  {m['status']:<11} {m['name']}" for m in slow]
        if self.out is not None:
            lines.append(f"report: {self.out / 'index.html'}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}={n}" for s, n in self.counts.items())
        return f"<CurateResult {len(self.models)} models ({counts}) db={self.db}>"


def _feature_of(model: dict) -> str:
    if model.get("unsupported_feature"):
        return str(model["unsupported_feature"])
    reason = model.get("reason") or ""
    match = re.search(r"(rate rule|algebraic rule|delay|fast|event|package|non-integer)",
                      reason, re.IGNORECASE)
    return match.group(1).lower() if match else reason[:60]


# =========================================================================== front door
def curate(paths_or_dir, *, db="results.sqlite", out=None, method: str = "auto",
           workers: int | None = None, scheduler: str | None = None, client=None,
           timeout: float = DEFAULT_TIMEOUT, max_memory: float | None = DEFAULT_MAX_MEMORY,
           annotate: bool = False, progress: bool | None = None,
           system_size: float | None = None, analyze_options: dict | None = None,
           volume: float | None = None, cell_volume: float | None = 1e-15,
           worker: str | None = None, launcher: str | None = None) -> CurateResult:
    """Analyse every model under a folder, each in its own time- and memory-limited process.

    Parameters
    ----------
    paths_or_dir : str, os.PathLike or sequence of them
        A folder (searched recursively for ``*.xml``, ``*.sbml``, ``*.ant``) or model files.
    db : str or os.PathLike
        SQLite database of results (created if missing). Models whose content hash
        (sha256 of the file) and settings hash are already recorded are skipped, so an
        interrupted run resumes where it stopped.
    out : str or os.PathLike, optional
        Folder for ``index.html`` (sortable table linking each model's
        ``models/<name>/report.html``), ``summary.json`` and ``summary.csv``.
    method : {"auto", "all", "fsp", "lna", "ssa"}
        Passed to :func:`sbmlnoise.analyze`.
    workers : int, optional
        Models analysed at once on this machine (default: all usable cores).
    scheduler : str, optional
        Address of a Dask distributed scheduler (``"tcp://host:8786"``); or pass
        ``client`` (a ``distributed.Client``). Workers need this package installed; model
        bytes travel with the task, reports come back with the result.
    timeout : float
        Wall-time limit per model in seconds (process start-up included); the worker is
        killed when it passes and the model recorded as ``timeout``.
    max_memory : float or None
        Address-space limit per model in MB on top of the worker's start-up size
        (``RLIMIT_AS``); exhausting it records ``error`` with "memory exhausted".
    annotate : bool
        Also write SBML annotated with the results (``models/<name>/annotated.xml``;
        needs ``out``).
    progress : bool, optional
        Progress bar (tqdm) with counts per status and an ETA; default: when stderr is a
        terminal.
    system_size : float, optional
        Passed to :func:`sbmlnoise.load` for every model.
    analyze_options : dict, optional
        Extra keywords of :func:`sbmlnoise.analyze` (default ``{"seed": 0}``).
    volume : float, optional
        Cell volume in litres passed to :func:`sbmlnoise.load` for every model (the
        models read at the same concentrations in a cell of that size).
    cell_volume : float or None
        Cell-scale volume in litres (default 1e-15, 1 fL) at which mole-unit models are
        also reported: exact LNA rescaling when the model's own size is answered, else an
        analysis at that volume (``docs/curate.md``); None or 0 turns it off.
    worker : str, optional
        ``"module:function(job, result, workdir)"`` run in the child instead of the
        default analysis (for tests and custom pipelines; part of the settings hash).
    launcher : {"forkserver", "subprocess"}, optional
        How worker processes start (see :func:`run_isolated`).

    Returns
    -------
    CurateResult

    Examples
    --------
    >>> import sbmlnoise as sn
    >>> res = sn.curate("models/", db="curation.sqlite", out="curation", timeout=60)
    ... # doctest: +SKIP
    >>> print(res.summary())  # doctest: +SKIP
    """
    from .._version import __version__

    t_start = time.monotonic()
    _check_arguments(method, timeout, max_memory, workers, annotate, out)
    out = Path(out) if out is not None else None
    db = Path(db)
    settings, job = _settings(method, timeout, max_memory, system_size, volume,
                              analyze_options, worker, report=out is not None,
                              annotate=annotate, version=__version__, cell_volume=cell_volume)
    s_hash = settings_hash(settings)

    files = discover(paths_or_dir, exclude=[out])
    given = [paths_or_dir] if isinstance(paths_or_dir, (str, os.PathLike)) else paths_or_dir
    roots = [Path(p).resolve() for p in given if Path(p).is_dir()]
    conn = _db.connect(db)
    try:
        queue = _plan_queue(conn, files, roots, s_hash)
        _settle_known(conn, queue, s_hash, settings, __version__)
        n_queued = sum(len(g) for g in queue.groups.values())
        skipped = len(files) - n_queued - len(queue.oversized)
        n_run = len(queue.groups)
        session = _Session(conn=conn, out=out, settings=settings, version=__version__,
                           roots=roots, job=job, counts=_recorded_counts(conn, queue.keys))
        session.bar = _progress_bar(progress, total=len(files), initial=len(files) - n_queued)
        session.show_counts(refresh=False)
        try:
            pending = deque(queue.groups.values())
            if client is not None or scheduler is not None:
                _run_dask(pending, session.make_job, session.handle, client, scheduler,
                          launcher)
            else:
                _run_local(pending, session.make_job, session.handle, workers, launcher,
                           out is not None)
        finally:
            if session.bar is not None:
                session.bar.close()

        recorded = _db.done_keys(conn)
        models = _db.fetch_models(conn, [recorded[k] for k in queue.keys.values()
                                         if k in recorded])
    finally:
        conn.close()
    result = CurateResult(db=db, out=out, models=models, analysed=n_run + len(queue.oversized),
                          skipped=skipped,
                          elapsed=time.monotonic() - t_start, settings=settings)
    if out is not None:
        from ._outputs import write_outputs
        write_outputs(out, result)
    return result


def _check_arguments(method: str, timeout: float | None, max_memory: float | None,
                     workers: int | None, annotate: bool, out) -> None:
    """Refuse bad :func:`curate` arguments with a ``ValueError`` naming the fix."""
    if method not in ("auto", "all", "fsp", "lna", "ssa"):
        raise ValueError(f"unknown method '{method}'; choose auto, all, fsp, lna or ssa")
    if timeout is not None and not timeout > 0:
        raise ValueError("timeout must be a positive number of seconds")
    if max_memory is not None and not max_memory > 0:
        raise ValueError("max_memory must be a positive number of MB")
    if workers is not None and int(workers) < 1:
        raise ValueError("workers must be >= 1")
    if annotate and out is None:
        raise ValueError("annotate=True needs out= (the annotated SBML goes to out/models/)")


def _settings(method: str, timeout: float | None, max_memory: float | None,
              system_size: float | None, volume: float | None, analyze_options: dict | None,
              worker: str | None, *, report: bool, annotate: bool,
              version: str, cell_volume: float | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings that change a model's result (hashed into the database key) and the
    part of every job that is the same for all models (``job_settings``, ``timeout``,
    ``max_memory``, ``worker``)."""
    options = {"seed": 0} if analyze_options is None else dict(analyze_options)
    # canonical numbers: the CLI's 60.0 and the API's 60 must hash alike
    timeout = None if timeout is None else float(timeout)
    max_memory = None if max_memory is None else float(max_memory)
    system_size = None if system_size is None else float(system_size)
    volume = None if volume is None else float(volume)
    settings: dict[str, Any] = {"method": method, "timeout": timeout, "max_memory": max_memory,
                                "system_size": system_size, "analyze_options": options,
                                "version": version}
    if volume is not None:  # only then, so earlier databases keep their settings hash
        settings["volume"] = volume
    cell = float(cell_volume) if cell_volume else None
    settings["cell_volume"] = cell  # results differ with it: part of the hash
    if worker and worker != DEFAULT_WORKER:
        settings["worker"] = worker
    job_settings = {"method": method, "system_size": system_size, "volume": volume,
                    "cell_volume": cell, "analyze_options": options, "report": report, "annotate": bool(annotate)}
    job = {"job_settings": job_settings, "timeout": timeout, "max_memory": max_memory,
           "worker": worker or DEFAULT_WORKER}
    return settings, job


@dataclass
class _Queue:
    """The files of one :func:`curate` call, sorted by what happens to them."""

    #: every file -> its database key (path, content hash, settings hash)
    keys: dict[Path, tuple[str, str, str]]
    #: files to analyse, grouped by content hash (one analysis per content)
    groups: dict[str, list[dict]]
    #: files too large (or unreadable) to analyse: recorded ``invalid``
    oversized: list[dict]


def _plan_queue(conn, files: list[tuple[Path, str]], roots: list[Path],
                s_hash: str) -> _Queue:
    """Hash every file (content and settings) and queue those not yet in the database."""
    done = _db.done_keys(conn)
    queue = _Queue(keys={}, groups={}, oversized=[])
    for path, name in files:
        refused = None
        try:
            c_hash, size = _sha256_file(path, roots)
        except _Unreadable as err:
            refused = str(err)
            c_hash = "unreadable:" + hashlib.sha256(refused.encode("utf-8")).hexdigest()[:16]
            size = -1
        target = {"path": str(path), "name": name, "content_hash": c_hash,
                  "settings_hash": s_hash, "size": size, "refused": refused}
        queue.keys[path] = (str(path), c_hash, s_hash)
        if queue.keys[path] in done:
            continue
        if size < 0 or size > MAX_FILE_BYTES:
            queue.oversized.append(target)
        else:
            queue.groups.setdefault(c_hash, []).append(target)
    return queue


def _settle_known(conn, queue: _Queue, s_hash: str, settings: dict, version: str) -> None:
    """Record what needs no worker: content already analysed under another path (its rows
    are copied and the group leaves the queue) and oversized or unreadable files
    (``invalid``)."""
    for c_hash in list(queue.groups):
        source = _db.find_by_hash(conn, c_hash, s_hash)
        if source is not None:
            _db.copy_rows(conn, source, queue.groups.pop(c_hash))
    for target in queue.oversized:
        from ._worker import new_result
        reason = (target["refused"] or "file could not be read" if target["size"] < 0 else
                  f"file is {target['size'] / 2**20:.0f} MB, larger than the "
                  f"{MAX_FILE_BYTES / 2**20:.0f} MB limit")
        res = dict(new_result(), status="invalid", reason=reason, wall_time=0.0)
        _db.record(conn, [target], res, settings=settings, version=version)


def _recorded_counts(conn, keys: dict[Path, tuple[str, str, str]]) -> Counter[str]:
    """Models per status among ``keys`` already in the database (progress start)."""
    counts: Counter[str] = Counter()
    recorded = _db.done_keys(conn)
    for key in keys.values():
        if key in recorded:
            row = conn.execute("SELECT status FROM models WHERE id=?",
                               (recorded[key],)).fetchone()
            counts[row["status"]] += 1
    return counts


@dataclass
class _Session:
    """The parent's side of a :func:`curate` run: builds each group's job and records
    each result (the single database writer)."""

    conn: Any
    out: Path | None
    settings: dict
    version: str
    roots: list[Path]
    #: ``job_settings``, ``timeout``, ``max_memory`` and ``worker`` of every job
    job: dict
    counts: Counter[str]
    bar: Any = None

    def make_job(self, group: list[dict]) -> dict:
        """The job of one content group (its first file's bytes travel with it)."""
        target = group[0]
        try:
            data = _read_model_bytes(Path(target["path"]), self.roots)[0] or b""
        except _Unreadable:
            data = b""
        return {"path": target["path"], "name": target["name"], "content": data,
                "content_hash": target["content_hash"], "settings": self.job["job_settings"],
                "timeout": self.job["timeout"], "max_memory": self.job["max_memory"],
                "worker": self.job["worker"]}

    def handle(self, group: list[dict], result: dict) -> None:
        """Write the group's report files, then its rows (one transaction), and advance
        the progress bar."""
        if self.out is not None:
            try:
                _write_model_files(self.out, group, result)
            except OSError as err:
                result.setdefault("warnings", []).append(
                    f"could not write the report: {err}")
        if result.get("status") not in STATUSES:
            result["status"] = "error"
        _db.record(self.conn, group, result, settings=self.settings, version=self.version)
        self.counts[result["status"]] += len(group)
        if self.bar is not None:
            self.bar.update(len(group))
        self.show_counts(refresh=True)

    def show_counts(self, refresh: bool) -> None:
        """Counts per status on the progress bar (if any)."""
        if self.bar is None:
            return
        text = " ".join(f"{s}={self.counts[s]}" for s in STATUSES if self.counts[s])
        if refresh:
            self.bar.set_postfix_str(text, refresh=True)
        else:
            self.bar.set_postfix_str(text)


def _progress_bar(progress, total, initial):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, initial=initial, unit="model", desc="curate", dynamic_ncols=True)


def _write_model_files(out: Path, group: list[dict], result: dict) -> None:
    """Write each model's report / annotated SBML (atomically) before its row commits."""
    for target in group:
        folder = out / "models" / slug(target["name"], target["content_hash"])
        for key, fname in (("report_html", "report.html"), ("annotated_sbml", "annotated.xml")):
            text = result.get(key)
            if not text:
                continue
            atomic_write(folder / fname, text)


def _runner_failed(err) -> dict:
    from ._worker import new_result, one_line
    return dict(new_result(), status="error",
                reason=f"runner failed: {type(err).__name__}: {one_line(err)}")


def _run_local(pending, make_job, handle, workers, launcher, report=True) -> None:
    """Up to ``workers`` isolated processes at once; results handled in this thread."""
    if workers is None:
        try:
            workers = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            workers = os.cpu_count() or 1
    workers = max(1, int(workers))
    if launcher in (None, "forkserver") and not multiprocessing.current_process().daemon:
        _forkserver_context(report)  # start it from this thread, before the pool
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sbmlnoise-curate")
    inflight: dict[Future, list[dict]] = {}
    try:
        while pending or inflight:
            while pending and len(inflight) < workers:
                group = pending.popleft()
                inflight[pool.submit(run_isolated, make_job(group), launcher)] = group
            finished, _ = _futures_wait(list(inflight), return_when=FIRST_COMPLETED)
            for fut in finished:
                group = inflight.pop(fut)
                try:
                    result = fut.result()
                except Exception as err:  # noqa: BLE001 - recorded, the run goes on
                    result = _runner_failed(err)
                handle(group, result)
    except BaseException:
        for fut in inflight:
            fut.cancel()
        _kill_live()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(pending, make_job, handle, client, scheduler, launcher) -> None:
    """Submit to a Dask cluster in a sliding window; results stream back (as_completed)."""
    try:
        from distributed import Client, as_completed
    except ImportError as err:  # pragma: no cover - optional dependency
        raise ImportError("scheduler=/client= need dask[distributed] "
                          "(pip install 'dask[distributed]')") from err
    own = client is None
    if own:
        client = Client(scheduler)
    try:
        info = client.scheduler_info()
        threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()) or 1
        window = max(2, 2 * threads)
        inflight = {}
        ac = as_completed()

        def submit():
            group = pending.popleft()
            fut = client.submit(run_isolated, make_job(group), launcher, pure=False,
                                key=f"sbmlnoise-curate-{group[0]['content_hash'][:16]}-"
                                    f"{time.monotonic_ns()}")
            inflight[fut.key] = group
            ac.add(fut)

        while pending and len(inflight) < window:
            submit()
        for fut in ac:
            group = inflight.pop(fut.key)
            try:
                result = fut.result()
            except Exception as err:  # noqa: BLE001 - a lost worker, a pickling error...
                result = _runner_failed(err)
            fut.release()
            handle(group, result)
            while pending and len(inflight) < window:
                submit()
    finally:
        if own:
            client.close()

