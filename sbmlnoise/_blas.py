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
import functools
from typing import TYPE_CHECKING, Any, Callable, Literal, TypeVar, cast

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
            # the controller sees the libraries loaded when it is made: SciPy's linalg
            # brings its own OpenBLAS beside NumPy's, so load it first
            import numpy  # noqa: F401
            import scipy.linalg  # noqa: F401
            from threadpoolctl import ThreadpoolController
            _CONTROLLER = ThreadpoolController()
        except Exception:  # noqa: BLE001 - optional: missing or unusable
            _CONTROLLER = False
    if _CONTROLLER is False:
        return contextlib.nullcontext()
    return _CONTROLLER.limit(limits=1, user_api="blas")


_F = TypeVar("_F", bound=Callable[..., Any])


def one_blas_thread(func: _F) -> _F:
    """Decorator: run ``func`` under :func:`single_threaded_blas`. The public entry points
    (``analyze``, the CLI, a curation job) use it: their matrices are small (a 105 x 110
    product took 15 ms with two OpenBLAS threads on the loaded 2-core machine and 0.05 ms
    with one), and a curation already runs one process per core."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with single_threaded_blas():
            return func(*args, **kwargs)
    return cast(_F, wrapper)
