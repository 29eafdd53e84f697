"""Private: run small dense linear algebra with one BLAS thread.

On a loaded machine a multi-threaded OpenBLAS spins its worker threads for every call:
measured on the shared 2-core machine (load ~9), an LU factorisation of a 156 x 156
matrix took 22 ms with the default threads and 0.25 ms with one, which made the
time-dependent LNA of the 15-species repressilator 150 s instead of about 2 s. Small
matrices gain nothing from threads, so the LNA wraps its dense solves in
:func:`single_threaded_blas`. Uses ``threadpoolctl`` when installed (a cached controller:
about 10 microseconds per use), else does nothing.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

#: the cached controller; ``False`` once ``threadpoolctl`` turned out to be unavailable
_CONTROLLER: ThreadpoolController | Literal[False] | None = None


def single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """Context manager limiting BLAS libraries to one thread (no-op without
    ``threadpoolctl``)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController
            _CONTROLLER = ThreadpoolController()
        except Exception:  # noqa: BLE001 - optional: missing or unusable
            _CONTROLLER = False
    if _CONTROLLER is False:
        return contextlib.nullcontext()
    return _CONTROLLER.limit(limits=1, user_api="blas")
