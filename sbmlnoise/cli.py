"""The ``sbmlnoise`` command line.

Each sub-command lives in its own module under :mod:`sbmlnoise.commands` with ``HELP``
(one line), ``DESCRIPTION`` (with examples), ``add_arguments(parser)`` and
``run(args) -> int``. Errors that a user can fix (bad model, unsupported feature, bad
option) print one line ``sbmlnoise: error: ...`` and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from .errors import SbmlnoiseError

#: command name -> module in sbmlnoise.commands
COMMANDS = {
    "analyze": "analyze",
    "demo": "demo",
    "conformance": "conformance",
    "curate": "curate",
    "scan": "scan",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sbmlnoise",
        description="Single-cell noise analysis for SBML and Antimony models.",
        epilog="Run 'sbmlnoise COMMAND --help' for examples of each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    from ._version import __version__
    parser.add_argument("--version", action="version", version=f"sbmlnoise {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(f".commands.{module_name}", __package__)
        except ModuleNotFoundError as err:
            if err.name and err.name.endswith(f"commands.{module_name}"):
                continue  # command not built yet
            raise
        p = sub.add_parser(name, help=module.HELP, description=module.DESCRIPTION,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a model's non-ASCII names on an ASCII terminal
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    from ._blas import single_threaded_blas
    from .report._terminal import cli_hint
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            # drawing noise (font fallbacks, log-axis limits) is not the user's business
            warnings.filterwarnings("ignore", category=UserWarning, module="matplotlib")
            warnings.filterwarnings("ignore", category=UserWarning, module="networkx")
            # one BLAS thread: the matrices are small and a loaded machine makes every
            # multi-threaded call spin (sbmlnoise._blas)
            with single_threaded_blas():
                return int(args._run(args) or 0)
    except (SbmlnoiseError, FileNotFoundError, ValueError, KeyError, OSError) as err:
        print(f"sbmlnoise: error: {cli_hint(_one_line(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sbmlnoise: interrupted", file=sys.stderr)
        return 130


def _one_line(err: BaseException) -> str:
    """First line of an error message; OSErrors as 'path: reason'."""
    if isinstance(err, OSError) and not isinstance(err, FileNotFoundError) and err.filename:
        return f"{err.filename}: {err.strerror or type(err).__name__}"
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    text = text.strip()
    return text.splitlines()[0] if text else type(err).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
