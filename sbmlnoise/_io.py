"""File writing shared by every writer: nothing a user gave us is half-written or lost.

:func:`atomic_write` writes a temporary file next to the destination, ``fsync``\\ s it and
renames it over the destination (``os.replace``, atomic on POSIX), then ``fsync``\\ s the
folder. The destination is resolved first, so writing to a symbolic link replaces the
file it points to and the link stays a link. An existing file keeps its permission bits;
a new one gets ``0o666 & ~umask`` (0644 under the usual umask 022), like ``open(path,
"w")``. Temporary files are named ``.NAME.sbmlnoise-PID-RANDOM.tmp``; one left behind by a
writer that was killed (its PID no longer runs) is removed by the next write to the same
destination. Every operating-system failure (read-only or full disk, no permission, a
folder in the way) becomes one :class:`OutputError` naming the path.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path

from .errors import SbmlnoiseError

__all__ = ["OutputError", "atomic_write", "current_umask", "ensure_dir"]

_TAG = "sbmlnoise"


class OutputError(SbmlnoiseError, OSError):
    """An output file could not be written (read-only or full disk, no permission...).

    The message names the path and the operating system's reason in one line.
    """


def current_umask() -> int:
    """The process umask, read without changing it where ``/proc`` allows (Linux);
    elsewhere by setting and restoring it."""
    try:
        with open("/proc/self/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _clean_stale(folder: Path, name: str) -> None:
    """Remove our own temporaries for ``name`` whose writing process no longer runs."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.{_TAG}-(\d+)-[A-Za-z0-9_]+\.tmp$")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or int(match.group(1)) == os.getpid() or _pid_alive(int(match.group(1))):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
        except OSError:
            pass


def _describe(err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        return "no space left on the device"
    if err.errno == errno.EROFS:
        return "read-only file system"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return err.strerror or type(err).__name__


def _blocked(err: OSError, path: Path) -> str:
    reason = _describe(err)
    if isinstance(err, (FileExistsError, NotADirectoryError)):
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()),
                       None)
        if blocker is not None:
            reason = f"'{blocker}' is a file, not a folder"
    return reason


def ensure_dir(path) -> Path:
    """Create folder ``path`` (and its parents) if needed; :class:`OutputError` naming the
    path when that is impossible (a file in the way, read-only or full disk)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create folder '{path}': {_blocked(err, path)}") from err
    return path


def _resolve(path: Path) -> Path:
    """Follow symbolic links of the destination itself (the link survives, its target is
    replaced); a dangling link is written through to its target too."""
    try:
        if path.is_symlink():
            return Path(os.path.realpath(path))
    except OSError:
        pass
    return path


def atomic_write(path, data: str | bytes) -> str:
    """Write ``data`` to ``path`` atomically and durably.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; a symbolic link is followed (its target is replaced).
    data : str or bytes
        Text is written as UTF-8 with newlines as given.

    Returns
    -------
    str
        ``path`` as given (not the resolved link target).

    Raises
    ------
    OutputError
        The file or its folder could not be written; the message names the path.
    """
    given = Path(path)
    target = _resolve(given)
    payload = data if isinstance(data, bytes) else data.encode("utf-8")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~current_umask()
        _clean_stale(target.parent, target.name)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{_TAG}-{os.getpid()}-",
                                   suffix=".tmp", dir=target.parent)
    except OSError as err:
        raise OutputError(f"cannot write '{given}': {_blocked(err, target.parent)}") from err
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(err, OSError):
            raise OutputError(f"cannot write '{given}': {_describe(err)}") from err
        raise
    return str(given)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
