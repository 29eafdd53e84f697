"""Compare sbmlnoise's rate equations with libRoadRunner on every curated BioModel in
../shared/biomodels (or the folder given), printing one line per model and a summary.

    python tools/biomodels_roadrunner.py [FOLDER] [--t-end 20] [--json out.json]

See sbmlnoise/conformance/roadrunner.py for the comparison rule (rtol 1e-4).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sbmlnoise.conformance.roadrunner import main  # noqa: E402

if __name__ == "__main__":
    args = sys.argv[1:]
    folder = ROOT.parent.parent / "shared" / "biomodels"
    if args and not args[0].startswith("-"):
        folder = Path(args.pop(0))
    files = sorted(str(p) for p in folder.glob("BIOMD*.xml"))
    sys.exit(main(files + args))
