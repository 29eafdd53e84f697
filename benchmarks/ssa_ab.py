"""Part 1 of ``benchmarks/ssa.py`` (events per CPU second) for two source trees, back to
back, so that a change is compared under the same machine load.

Usage::

    git archive <commit> | tar -x -C /tmp/before
    python benchmarks/ssa_ab.py /tmp/before . [--repeats 3] [--rounds 2]

Each round runs the "before" tree then the "after" tree in fresh processes (each imports
its own ``sbmlnoise``); the mean over rounds is printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

_CHILD = """
import importlib.util, json, sys
root = sys.argv[1]
spec = importlib.util.spec_from_file_location("bssa", root + "/benchmarks/ssa.py")
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
import sbmlnoise
assert sbmlnoise.__file__.startswith(root), sbmlnoise.__file__
rows = mod.bench_models(int(sys.argv[2]))
print("RESULT", json.dumps({r["model"]: r["sn_events_per_cpu_s"] for r in rows}))
"""


def _run(root: str, repeats: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, root, str(repeats)], check=True,
                         capture_output=True, text=True, cwd="/")
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    roots = [str(Path(args.before).resolve()), str(Path(args.after).resolve())]
    results: list[list[dict]] = [[], []]
    for _ in range(args.rounds):
        for k, root in enumerate(roots):
            results[k].append(_run(root, args.repeats))
    print("| model | before | after | change |\n|---|---|---|---|")
    for model in results[0][0]:
        b = sum(r[model] for r in results[0]) / args.rounds
        a = sum(r[model] for r in results[1]) / args.rounds
        print(f"| {model} | {b:.3g} | {a:.3g} | {100 * (a / b - 1):+.1f} % |")


if __name__ == "__main__":
    main()
