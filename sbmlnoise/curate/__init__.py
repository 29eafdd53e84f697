"""Batch curation of a folder of models: isolated workers, a results database,
resume, and the outputs (summary CSV, index page).
"""

from ._runner import (  # noqa: F401
    curate,
    CurateResult,
    run_isolated,
    discover,
)

__all__ = ['curate', 'CurateResult', 'run_isolated', 'discover']
