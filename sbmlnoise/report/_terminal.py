"""What the command line prints: a summary with error bars, one-line errors that name the
file, CLI flags in hints, and a notice while the simulation kernels compile.

* :func:`terminal_summary` -- the per-species table of an analysis, every sampled (SSA)
  number as ``value ± half-width`` of its 95% confidence interval with digits matching it
  (``1150 ± 410``); ``+/-`` where the terminal cannot print ``±``.
* :func:`check_model_file` -- a missing path, a directory, an empty file or a binary file
  each get their own one-line :class:`~sbmlnoise.errors.ModelError` naming the file.
* :func:`cli_hint` -- rewrites Python argument hints in library messages
  (``max_states=...``, ``sn.lna(net, t=times)``) into the CLI's flags.
* :func:`kernels_cached` / :func:`compile_notice` -- whether numba's on-disk cache of the
  SSA kernels is present, and the one line printed when it is not.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import _text as rt
from ..errors import ModelError

if TYPE_CHECKING:
    from ..analysis import AnalysisReport

__all__ = ["terminal_summary", "check_model_file", "cli_hint", "kernels_cached",
           "compile_notice", "plus_minus"]


# ------------------------------------------------------------------------ encoding
def plus_minus(stream=None) -> str:
    """``"±"`` if ``stream`` (default stdout) can encode it, else ``"+/-"``."""
    enc = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        "±".encode(enc)
        return "±"
    except (UnicodeEncodeError, LookupError):
        return "+/-"


# ------------------------------------------------------------------------ summary
def terminal_summary(rep: AnalysisReport, pm: str | None = None) -> str:
    """A short text summary of an analysis for the terminal (see the module docstring)."""
    pm = pm or plus_minus()
    lines = [rep.network_summary.get("summary") or f"model '{rep.model_id}'"]
    if rep.primary:
        when = rep.settings.get("time")
        lines.append("stationary distribution" if when is None else
                     f"distribution at t = {when:g} from the initial state")
        others = [m for m in rep.statistics if m != rep.primary]
        lines.append(f"primary method: {rep.primary}"
                     + (f" (also: {', '.join(others)})" if others else ""))
        lines.extend(_species_lines(rep, pm))
        lines.extend(_rule_lines(rep, pm))
        top = rt.noisiest(rep)
        if top:
            lines.append(f"noisiest: {rt.label(rep, top[0])} (largest Fano factor"
                         f"{'' if rt.conserved(rep, top[0]) else ' outside conservation laws'})")
    for m, why in rep.skipped.items():
        lines.append(f"{m}: not run ({cli_hint(why)})")
    from .._summary import thermo_verdict
    if rep.thermo is not None:
        lines.append(f"thermodynamics: {thermo_verdict(rep.thermo)}")
    else:
        lines.append(f"thermodynamics: {rep.thermo_status.get('status')} "
                     f"({cli_hint(rep.thermo_status.get('reason', ''))})")
    cons = rep.consistency
    if cons is not None and len(cons):
        flagged = int(cons["flagged"].sum())
        lines.append(f"consistency: {flagged} of {len(cons)} comparisons flagged (see "
                     "consistency.csv)" if flagged else
                     f"consistency: all {len(cons)} comparisons agree")
    for w in rep.warnings:
        lines.append(f"warning: {cli_hint(w)}")
    return "\n".join(lines)


def _species_lines(rep: AnalysisReport, pm: str) -> list[str]:
    from ._writers import species_frame
    if rep.primary is None:
        return []
    st = rep.statistics[rep.primary]
    frame = species_frame(rep, temporal=False)
    names = rt.species_names(rep)
    header = ["species"] + (["name"] if any(s in names for s in frame.index) else []) + \
        [rt.header(rep, "mean"), rt.header(rep, "fano"), "CV", "burst size", "burst freq"]
    rows = []
    for sid in frame.index:
        def q(name: str) -> str:
            return rt.fmt_pm(getattr(st, name)[sid], rt.half_width(st, name, sid), pm)
        kind = frame.loc[sid, "burst_estimate"]
        row = [sid] + ([names.get(sid, "")] if "name" in header else []) + [
            q("mean"), q("fano"), q("cv"),
            rt.fmt(frame.loc[sid, "burst_size"]) if kind else "-",
            rt.fmt(frame.loc[sid, "burst_frequency"]) if kind else "-"]
        rows.append(row)
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    out = []
    for r in [header] + rows:
        cells = [str(c).ljust(w) if i < (2 if "name" in header else 1) else str(c).rjust(w)
                 for i, (c, w) in enumerate(zip(r, widths))]
        out.append("  ".join(cells).rstrip())
    if st.stderr:
        out.append(f"({pm}: 95% confidence interval of the SSA estimate)")
        caveat = rt.interval_caveat(rep)
        if caveat:
            out.append(f"(caution: {caveat.replace(chr(0xb1), pm)})")
    elif rep.primary == "fsp":
        out.append(f"(FSP: exact up to a truncation error of "
                   f"{rt.fmt(st.extra.get('error_bound'), 2)} in probability)")
    elif rep.primary == "lna":
        out.append("(LNA: Gaussian approximation; exact only for linear propensities)")
    return out


def _rule_lines(rep: AnalysisReport, pm: str) -> list[str]:
    """Variables defined by assignment rules: mean, sd and CV per method (SSA numbers with
    their 95% confidence intervals)."""
    rules = getattr(rep, "assignment_statistics", None)
    if rules is None or not len(rules):
        return []
    header = ["rule variable", "method", "mean", "sd", "CV"]
    rows = []
    for _, r in rules.iterrows():
        def q(name: str) -> str:
            return rt.fmt_pm(r[name], rt.Z95 * float(r.get(f"{name}_stderr", float("nan"))), pm)
        rows.append([str(r["variable"]), str(r["method"]), q("mean"), q("sd"), q("cv")])
    widths = [max(len(x[i]) for x in rows + [header]) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                     for i, (c, w) in enumerate(zip(x, widths))).rstrip()
           for x in [header] + rows]
    out.append("(rule variables in their model units: species defined by a rule in amounts"
               + (", divided by the compartment size under --units concentration"
                  if rep.settings.get("units") == "concentration" else "")
               + "; FSP exact, LNA delta method)")
    return out


# ------------------------------------------------------------------------ errors
#: byte-order marks of UTF-16/32 text (valid XML that the importer decodes)
_TEXT_BOMS = (b"\xff\xfe", b"\xfe\xff")


def check_model_file(path) -> Path:
    """The model file as a Path, or one clear ModelError naming it (missing, a directory,
    unreadable, empty, or binary content)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"model file '{path}' does not exist")
    if p.is_dir():
        raise ModelError(f"'{path}' is a directory, not a model file (give an SBML .xml or "
                         "Antimony .ant file)")
    try:
        with p.open("rb") as fh:
            head = fh.read(65536)
    except OSError as err:
        raise ModelError(f"cannot read model file '{path}': {err.strerror or err}") from None
    if not head.strip():
        raise ModelError(f"model file '{path}' is empty")
    if head.startswith(b"PK\x03\x04") or head.startswith(_TEXT_BOMS):
        return p  # a COMBINE archive, or UTF-16/32 text: the importer reads (and checks) it
    if b"\x00" in head:
        raise ModelError(f"model file '{path}' is binary (NUL bytes), not SBML or Antimony "
                         "text")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # not just a multi-byte character cut at the end
            raise ModelError(f"model file '{path}' is not UTF-8 text (byte {err.start}: "
                             f"0x{head[err.start]:02x}); SBML and Antimony files are text"
                             ) from None
    return p


def name_file(message: str, path) -> str:
    """Prefix ``message`` with the file name unless it already names it."""
    text = str(message).strip().splitlines()[0] if str(message).strip() else "error"
    if str(path) in text or Path(path).name in text:
        return text
    return f"{path}: {text}"


_HINTS = [
    (re.compile(r"sn\.lna\(net, t=times\)"), "--time T"),
    (re.compile(r"sn\.fsp\(net, t=\[\.\.\.\]\)"), "--time T"),
    (re.compile(r"time=\.\.\. / --time"), "--time T"),
    (re.compile(r"max_states=(?=[0-9])"), "--max-states "),
    (re.compile(r"\bmax_states\b"), "--max-states"),
    (re.compile(r"cap species with bounds=\{\.\.\.\}"), "cap species (Python: bounds=)"),
    (re.compile(r"\(bounds=, max_states=\)"), "(--max-states)"),
    (re.compile(r"\bssa_events\b"), "--ssa-events"),
    (re.compile(r"\bt_end\b"), "--t-end"),
    (re.compile(r"\bburn_in\b"), "--burn-in"),
    (re.compile(r"\bsystem_size=\.\.\."), "--system-size"),
    (re.compile(r"or use sn\.ssa / sn\.lna"), "or use --method ssa / --method lna"),
    (re.compile(r", or sn\.ssa\b"), ", or --method ssa"),
    (re.compile(r"pass system_size= to sn\.load"), "pass --system-size"),
    (re.compile(r"use sn\.lna or sn\.simulate_ode"), "use --method lna"),
    (re.compile(r"use sn\.ssa or sn\.fsp"), "use --method ssa or --method fsp"),
]


def cli_hint(message: str) -> str:
    """Rewrite Python-argument hints of a library message into CLI flags."""
    text = str(message)
    for pattern, repl in _HINTS:
        text = pattern.sub(repl, text)
    return text.replace("--t-end or --ssa-events", "--t-end or --ssa-events")


# ------------------------------------------------------------------------ numba cache
def kernels_cached() -> bool:
    """Whether numba's on-disk cache holds the compiled SSA kernels (index files newer
    than the kernel sources), in ``NUMBA_CACHE_DIR``, beside the sources or in numba's
    user-wide cache (``~/.cache/numba``). A heuristic: numba may still recompile for
    another CPU or numba version."""
    src = Path(__file__).resolve().parent / "ssa"
    sources = [src / "_kernels.py", src / "_program.py"]
    dirs = [src / "__pycache__"]
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        dirs.insert(0, Path(env))
    # numba's user-wide fallback when the package folder is read-only (site-packages)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    dirs.append(Path(xdg) / "numba")
    for source in sources:
        stem = source.stem
        mtime = source.stat().st_mtime if source.exists() else 0.0
        found = False
        for d in dirs:
            if not d.is_dir():
                continue
            for idx in d.rglob(f"{stem}.*.nbi"):
                if idx.stat().st_mtime >= mtime:
                    found = True
                    break
            if found:
                break
        if not found:
            return False
    return True


#: the model whose tiny SSA run compiles every kernel an analysis uses (as curate's warm-up)
WARMUP_MODEL = "model warmup; => X; k; X => ; g*X; k = 5; g = 1; X = 0; end"


def _warm_up() -> None:
    from ..analysis import analyze
    analyze(WARMUP_MODEL, method="ssa", seed=0, ssa_events=2000, trajectories=1, thermo=None)


def compile_notice(stream=None, warm_up=None) -> bool:
    """When the kernels are not cached: print one line to ``stream`` (stderr), compile them
    with a tiny SSA run (``warm_up``, default a birth-death analysis) while an elapsed-time
    counter runs on a terminal, and end the line with the time taken. Returns whether it
    compiled. Compilation errors are left to the real analysis to report."""
    import threading
    import time
    if kernels_cached():
        return False
    stream = stream or sys.stderr
    tty = bool(getattr(stream, "isatty", lambda: False)())
    head = ("sbmlnoise: compiling the stochastic simulation kernels (first run on this "
            "machine or after an upgrade; about 30-60 s, cached afterwards)")
    print(head + (" ..." if not tty else ""), file=stream, flush=True)
    done = threading.Event()
    start = time.perf_counter()

    def tick() -> None:
        while not done.wait(1.0):
            print(f"\r  compiling ... {time.perf_counter() - start:.0f} s", end="",
                  file=stream, flush=True)

    ticker = threading.Thread(target=tick, daemon=True) if tty else None
    if ticker is not None:
        ticker.start()
    try:
        (warm_up or _warm_up)()
    except Exception:  # noqa: BLE001 - the analysis itself reports real problems
        pass
    finally:
        done.set()
        if ticker is not None:
            ticker.join()
            print("\r", end="", file=stream)
    print(f"  compiled in {time.perf_counter() - start:.0f} s", file=stream, flush=True)
    return True
