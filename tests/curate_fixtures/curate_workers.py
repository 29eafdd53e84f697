"""Stand-in curation workers for tests/test_curate.py (run inside the isolated child).

Each has the worker signature ``(job, result, workdir)`` of
:func:`sbmlnoise.curate._worker.analyze_model`. ``scripted`` picks a behaviour from a marker
in the model text, so one run can mix well-behaved and pathological "models".
"""

from __future__ import annotations

import os
import signal
import time


def scripted(job, result, workdir):
    data = job["content"]
    if b"CURATE-HANG" in data:
        time.sleep(3600)
    if b"CURATE-HOG" in data:
        blocks = []
        while True:  # until RLIMIT_AS stops us with MemoryError
            blocks.append(bytearray(64 * 2**20))
    if b"CURATE-SEGV" in data:
        os.kill(os.getpid(), signal.SIGSEGV)
    if b"CURATE-SLOW" in data:
        time.sleep(0.5)
    if b"CURATE-BOOM" in data:
        raise ZeroDivisionError("scripted failure")
    if b"CURATE-" not in data:  # an ordinary model: the real analysis
        from sbmlnoise.curate._worker import analyze_model
        return analyze_model(job, result, workdir)
    result["n_species"], result["n_reactions"] = 1, 2
    result["method"], result["methods"] = "fake", ["fake"]
    result["species"] = [{"species": "X", "method": "fake", "mean": 10.0, "variance": 10.0,
                          "fano": 1.0, "cv": 10 ** -0.5},
                         {"species": "Y<&>", "method": "fake", "mean": 0.0, "variance": 0.0,
                          "fano": None, "cv": None}]
    result["status"], result["reason"] = "ok", "scripted ok"
