"""Drop stale numba caches of the SSA kernels when any kernel source changed.

numba's on-disk cache (``cache=True``) validates an entry by the modification time and size
of the file that *defines* the cached function only. The SSA kernels inline functions from
other modules (the expression interpreter ``_program._eval``, the random numbers of
``_rng``, the shared helpers of ``_kernels``), so after an upgrade that changes only
``_program.py`` numba would load a kernel with the old interpreter compiled in -- wrong
numbers, silently. This module hashes every source of the package ``sbmlnoise.ssa`` and,
when the digest differs from the one recorded beside the cache, removes this package's
cache files (``*.nbi``/``*.nbc``) before any kernel is loaded, so they are compiled afresh.

Cache directories checked (numba's own order): ``$NUMBA_CACHE_DIR``, the ``__pycache__``
beside the sources, and numba's user-wide cache directory. Failures (read-only installs,
races between workers) are ignored: the worst case is a recompilation.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: file recording the sources' digest in each cache directory
STAMP = "sbmlnoise-ssa-sources.sha256"


def sources_digest(folder: Path = HERE) -> str:
    """SHA-256 over the names and bytes of every ``*.py`` file of ``folder``."""
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode("utf-8"))
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_dirs(folder: Path = HERE) -> list[Path]:
    """Where numba may keep this package's cache files."""
    dirs = []
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        dirs.append(Path(env))
    dirs.append(folder / "__pycache__")
    try:
        from numba.misc.appdirs import AppDirs

        dirs.append(Path(AppDirs("numba", appauthor=False).user_cache_dir))
    except Exception:  # noqa: BLE001 - an optional location
        pass
    return dirs


def _ours(path: Path, folder: Path, cache_dir: Path) -> bool:
    """A cache file of a module of ``folder`` (numba names them ``module.func-line...``)."""
    modules = {p.stem for p in folder.glob("*.py")}
    if path.name.split(".", 1)[0] not in modules:
        return False
    # in a shared directory numba mirrors the source path: keep to this package's subtree
    return cache_dir == folder / "__pycache__" or "sbmlnoise" in str(path.relative_to(cache_dir))


def invalidate_stale(folder: Path = HERE) -> list[Path]:
    """Remove this package's numba cache files wherever the recorded digest of the
    sources differs from the current one, then record the current digest. Returns the
    files removed."""
    digest = sources_digest(folder)
    removed: list[Path] = []
    for d in cache_dirs(folder):
        if not d.is_dir():
            continue
        stamp = d / STAMP
        try:
            if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == digest:
                continue
            for pattern in ("*.nbi", "*.nbc"):
                for f in d.rglob(pattern):
                    if _ours(f, folder, d):
                        try:
                            f.unlink()
                            removed.append(f)
                        except OSError:
                            pass
            tmp = d / f".{STAMP}.{os.getpid()}.tmp"
            tmp.write_text(digest + "\n", encoding="utf-8")
            os.replace(tmp, stamp)
        except OSError:  # read-only or vanished directory: numba copes on its own
            continue
    return removed
