"""Tests of the atomic writer (issue 16 items 15 and 16, issue 18 item 5)."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sbmlnoise import SbmlnoiseError
from sbmlnoise._io import OutputError, atomic_write, current_umask

ROOT = Path(__file__).resolve().parent.parent


def test_symlink_written_through_and_mode_kept(tmp_path):
    target = tmp_path / "real.xml"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o640)
    link = tmp_path / "link.xml"
    link.symlink_to(target)
    atomic_write(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.xml", "real.xml"]


def test_new_file_mode_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        assert current_umask() == 0o022
        atomic_write(tmp_path / "a.txt", "x")
        assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o644
        os.umask(0o077)
        atomic_write(tmp_path / "b.txt", b"x")
        assert stat.S_IMODE(os.stat(tmp_path / "b.txt").st_mode) == 0o600
    finally:
        os.umask(old)


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".out.xml.sbmlnoise-{pid}-abc123.tmp"
    stale.write_bytes(b"half")
    live = tmp_path / f".out.xml.sbmlnoise-{os.getppid()}-xyz.tmp"  # a running writer
    live.write_bytes(b"busy")
    foreign = tmp_path / ".out.xml.someone-else.tmp"  # not our naming: never touched
    foreign.write_bytes(b"theirs")
    atomic_write(tmp_path / "out.xml", "done")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["out.xml", live.name, foreign.name])


def test_killed_writer_leaves_only_a_temp_that_the_next_write_removes(tmp_path):
    code = ("import os, sys; from sbmlnoise import _io; "
            "_io.os.fsync = lambda fd: os.kill(os.getpid(), 9); "
            f"_io.atomic_write({str(tmp_path / 'r.json')!r}, 'x' * 100000)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT))
    assert proc.returncode == -9
    assert [p.name.endswith(".tmp") for p in tmp_path.iterdir()] == [True]
    atomic_write(tmp_path / "r.json", "ok")
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "no space left"),
                                         (errno.EROFS, "read-only file system"),
                                         (errno.EACCES, "permission denied")])
def test_disk_errors_become_one_output_error(tmp_path, monkeypatch, code, words):
    from sbmlnoise import _io

    def fail(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(_io.os, "fsync", fail)
    with pytest.raises(OutputError, match=rf"cannot write '.*out\.xml': {words}") as info:
        atomic_write(tmp_path / "out.xml", "x")
    assert isinstance(info.value, SbmlnoiseError) and isinstance(info.value, OSError)
    assert list(tmp_path.iterdir()) == []


def test_folder_in_the_way_is_an_output_error(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="cannot write"):
        atomic_write(tmp_path / "file" / "sub" / "out.xml", "x")


def test_ensure_dir(tmp_path):
    from sbmlnoise._io import ensure_dir

    assert ensure_dir(tmp_path / "a" / "b").is_dir()
    (tmp_path / "f").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        ensure_dir(tmp_path / "f" / "sub")
