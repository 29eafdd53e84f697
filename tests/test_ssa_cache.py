"""Stale numba caches of the SSA kernels are dropped when any kernel source changes (numba
itself only checks the defining file, but the kernels inline other modules)."""

from pathlib import Path

from sbmlnoise.ssa import _cache


def _fake_package(root: Path) -> Path:
    pkg = root / "sbmlnoise" / "ssa"
    (pkg / "__pycache__").mkdir(parents=True)
    (pkg / "_kernels.py").write_text("x = 1\n", encoding="utf-8")
    (pkg / "_program.py").write_text("y = 1\n", encoding="utf-8")
    return pkg


def _cache_file(pkg: Path, name: str) -> Path:
    f = pkg / "__pycache__" / name
    f.write_bytes(b"cache")
    return f


def test_changed_source_of_another_module_drops_the_kernel_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    pkg = _fake_package(tmp_path)
    kernel = _cache_file(pkg, "_kernels._advance-120.py311.1.nbc")
    index = _cache_file(pkg, "_kernels._advance-120.py311.nbi")
    other = _cache_file(pkg, "unrelated.f-1.py311.nbi")  # not a module of the package
    pyc = _cache_file(pkg, "_kernels.cpython-311.pyc")
    # first sight: no stamp, so the caches cannot be trusted
    assert set(_cache.invalidate_stale(pkg)) >= {kernel, index}
    assert other.exists() and pyc.exists()
    assert (pkg / "__pycache__" / _cache.STAMP).read_text().strip() == _cache.sources_digest(pkg)
    # unchanged sources: a fresh cache is kept
    kept = _cache_file(pkg, "_kernels._advance-120.py311.nbi")
    assert _cache.invalidate_stale(pkg) == [] and kept.exists()
    # only the interpreter changed (the kernel file did not): the kernel cache goes
    (pkg / "_program.py").write_text("y = 2\n", encoding="utf-8")
    assert kept in _cache.invalidate_stale(pkg) and not kept.exists()


def test_numba_cache_dir_is_checked_within_this_package_only(tmp_path, monkeypatch):
    pkg = _fake_package(tmp_path / "src")
    shared = tmp_path / "numba-cache"
    mine = shared / "src_sbmlnoise_ssa" / "_kernels.f-1.py311.nbi"
    theirs = shared / "otherpkg" / "_kernels.f-1.py311.nbi"
    for f in (mine, theirs):
        f.parent.mkdir(parents=True)
        f.write_bytes(b"cache")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(shared))
    removed = _cache.invalidate_stale(pkg)
    assert mine in removed and theirs.exists()
