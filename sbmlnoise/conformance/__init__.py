"""Runners for the SBML Test Suite: ``semantic`` (rate equations) and ``stochastic`` (DSMTS).

Both write the JSON of ``API.md``:
``{"cases": {"00001": {"status": "pass|fail|unsupported|error", "reason": "..."}},
"summary": {"pass": n, ...}}``.
"""
