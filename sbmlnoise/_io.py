"""File writing shared by every writer: nothing a user gave us is half-written or lost."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path, data: str | bytes) -> str:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then
    ``os.replace``. Text is UTF-8 with newlines written as given. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if isinstance(data, bytes):
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return str(path)
